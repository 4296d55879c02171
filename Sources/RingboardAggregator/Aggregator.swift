import Logging
import RingboardFormat
import RingboardRecords
import RingboardRing

/// The one consumer of a node's rings: decodes every hook record, routes it to the run it
/// belongs to under the run's rank policy, and lets each run's state machine write its event
/// files. Every `flushInterval` it flushes the event files and only then commits the rings, so a
/// record's space is reused only once what it produced is in the files.
///
/// - Warning: Not thread-safe: drive it from one thread at a time (it may be handed to another).
public final class Aggregator: @unchecked Sendable {
    /// How the aggregator runs.
    public struct Options: Sendable {
        /// The log root run directories are relative to.
        public var logRoot: String
        /// The ring directory to serve.
        public var ringDirectory: String
        /// How often event files are flushed and rings committed.
        public var flushInterval: Duration = .milliseconds(100)
        /// Wait for another aggregator to leave the ring directory instead of failing.
        public var waitForLock = false
        /// The host name in event file names; `nil` for this machine's.
        public var hostName: String? = nil

        /// Options for a log root and a ring directory.
        ///
        /// - Parameters:
        ///   - logRoot: Where run directories go.
        ///   - ringDirectory: The ring directory to serve.
        public init(logRoot: String, ringDirectory: String) {
            self.logRoot = logRoot
            self.ringDirectory = ringDirectory
        }
    }

    private let options: Options
    private let logger: Logger
    private let consumer: RingConsumer
    private let host: String
    /// Per ring: its runs by number, and where each run's records go.
    private var routes: [String: [UInt32: Route]] = [:]
    /// Output runs by directory.
    private var runs: [String: RunState] = [:]
    /// `.mean` groups by run directory.
    private var meanGroups: [String: MeanGroup] = [:]

    /// Where one producer's run goes.
    private enum Route {
        /// Not written (a rank other than the chief).
        case ignored
        /// Straight to a run's state machine.
        case run(RunState)
        /// Into a `.mean` group as this rank.
        case mean(MeanGroup, rank: Int)
    }
    private var lastFlush = ContinuousClock.now
    /// Records refused as invalid, and hooks of unknown runs.
    public private(set) var invalidRecords = 0
    /// Records delivered so far.
    public private(set) var recordsHandled = 0

    /// Takes the ring directory's consumer lock.
    ///
    /// - Parameters:
    ///   - options: The log root, ring directory and flush interval.
    ///   - logger: Where notices and warnings go.
    /// - Throws: `RingError` when another aggregator serves the directory (and `waitForLock` is
    ///   off) or the directory is unusable.
    public init(options: Options, logger: Logger) throws(RingError) {
        self.options = options
        self.logger = logger
        self.consumer = try RingConsumer(directory: options.ringDirectory, waiting: options.waitForLock ? .wait : .failIfHeld)
        self.host = options.hostName ?? EventFileName.localHostName
    }

    /// Drains what the rings hold, sleeping up to `timeout` when they are empty, and flushes and
    /// commits when `flushInterval` has passed.
    ///
    /// - Parameter timeout: The longest sleep when there is nothing to do.
    /// - Returns: The number of records handled.
    @discardableResult
    public func step(timeout: Duration = .milliseconds(50)) -> Int {
        let count = consumer.poll { source, record in
            handle(source: source.name, type: record.type, payload: record.payload)
        }
        recordsHandled += count
        if count == 0 || ContinuousClock.now - lastFlush >= options.flushInterval {
            flushAndCommit()
        }
        if count == 0 { consumer.waitForRecords(timeout: timeout) }
        return count
    }

    /// Whether no producer ring is left (all retired) and nothing is pending.
    public var isIdle: Bool { consumer.sources.isEmpty }

    /// Runs until `shouldStop` says so, then finishes every run.
    ///
    /// - Parameter shouldStop: Asked between steps.
    public func run(until shouldStop: () -> Bool) {
        while !shouldStop() { step() }
        flushAndCommit()
        finishAll()
    }

    /// Closes every run's event files.
    public func finishAll() {
        for run in runs.values {
            do {
                try run.finish()
            } catch {
                logger.error("event files not closed", metadata: ["run": "\(run.directory)", "error": "\(error)"])
            }
        }
    }

    private func handle(source: String, type: UInt16, payload: UnsafeRawBufferPointer) {
        let record: HookRecord
        do {
            record = try HookRecord(type: type, payload: payload)
        } catch {
            invalidRecords += 1
            logger.warning("record refused", metadata: ["ring": "\(source)", "reason": "\(error)"])
            return
        }
        if case .runAnnouncement(let number, let rank, let worldSize, let policy, let arguments) = record {
            routes[source, default: [:]][number] = route(rank: rank, worldSize: worldSize, policy: policy, arguments: arguments)
            return
        }
        let number = HookRecord.runNumber(of: record)
        guard let route = routes[source]?[number] else {
            invalidRecords += 1
            logger.warning("record for a run that was never announced", metadata: ["ring": "\(source)", "run": "\(number)"])
            return
        }
        do {
            switch route {
            case .ignored: break
            case .run(let run): try run.handle(record)
            case .mean(let group, let rank): try group.accept(rank: rank, record)
            }
        } catch {
            logger.error("event file write failed", metadata: ["ring": "\(source)", "error": "\(error)"])
        }
    }

    /// Where a rank's records go under its policy: the chief's (rank 0's) run; its own
    /// `rank_<r>/` run; or the `.mean` group of its run.
    private func route(rank: UInt32, worldSize: UInt32, policy: RankPolicy, arguments: TensorBoardArguments) -> Route {
        var directory = arguments.logDirectory
        switch policy {
        case .chief:
            guard rank == 0 else { return .ignored }
        case .perRank:
            directory += "/rank_\(rank)"
        case .mean:
            if let group = meanGroups[directory], !group.run.finished, group.worldSize == Int(worldSize) {
                return .mean(group, rank: Int(rank))
            }
            let group = MeanGroup(run: runState(directory, arguments), worldSize: Int(worldSize), logger: logger)
            meanGroups[directory] = group
            return .mean(group, rank: Int(rank))
        }
        return .run(runState(directory, arguments))
    }

    private func runState(_ directory: String, _ arguments: TensorBoardArguments) -> RunState {
        if let existing = runs[directory], !existing.finished { return existing }
        let run = RunState(directory: directory, arguments: arguments, logRoot: options.logRoot, host: host, logger: logger)
        runs[directory] = run
        return run
    }

    private func flushAndCommit() {
        lastFlush = .now
        for run in runs.values {
            do {
                try run.flush()
            } catch {
                // The records stay in the rings: nothing is committed past what failed.
                logger.error("event file flush failed", metadata: ["run": "\(run.directory)", "error": "\(error)"])
                return
            }
        }
        do {
            try consumer.commitAll()
        } catch {
            logger.error("ring commit failed", metadata: ["error": "\(error)"])
        }
        for notice in consumer.notices() {
            switch notice {
            case .retired(let path, _, _, _, let clean):
                let name = String(path.split(separator: "/").last ?? "")
                for route in routes[name]?.values ?? [:].values {
                    do {
                        switch route {
                        case .ignored: break
                        case .run(let run): try run.finish()
                        case .mean(let group, let rank): try group.rankGone(rank)
                        }
                    } catch {
                        logger.error("event files not closed", metadata: ["ring": "\(name)", "error": "\(error)"])
                    }
                }
                routes[name] = nil
                logger.info("\(notice)", metadata: ["clean": "\(clean)"])
            case .discovered:
                logger.info("\(notice)")
            case .refused, .quarantined:
                logger.warning("\(notice)")
            }
        }
    }
}

extension HookRecord {
    /// The run a record belongs to.
    static func runNumber(of record: HookRecord) -> UInt32 {
        switch record {
        case .runAnnouncement(let run, _, _, _, _), .metricName(let run, _, _), .batch(let run, _, _, _, _),
             .hook(let run, _, _, _), .parameters(let run, _), .model(let run, _, _), .weightValues(let run, _, _, _, _, _),
             .span(let run, _, _, _, _):
            run
        }
    }
}
