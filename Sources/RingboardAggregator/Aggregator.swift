import Foundation
import Glibc
import Logging
import RingboardFormat
import RingboardRecords
import RingboardRing
internal import RingboardSystem

/// The one consumer of a node's rings: decodes every hook record, routes it to the run it
/// belongs to under the run's rank policy, and lets each run's state machine write its event
/// files. Every `flushInterval` it flushes the event files, saves its checkpoint (every run's
/// state with every ring's read position and every event file's length, see `CheckpointStore`)
/// and only then commits the rings, so a record's space is reused only once what it produced is
/// in the files.
///
/// A restarted aggregator resumes from that checkpoint: event files are cut back to their
/// checkpointed lengths (dropping what a killed aggregator wrote after it, torn records
/// included), files it created after it are removed, and each ring is read from the checkpointed
/// position. What TensorBoard then reads is what an uninterrupted aggregator would have written:
/// no event lost, none repeated.
///
/// - Warning: Not thread-safe: drive it from one thread at a time (it may be handed to another).
public final class Aggregator: @unchecked Sendable {
    /// How the aggregator runs.
    public struct Options: Sendable {
        /// The log root runs are confined to: a run whose directory is not under it is refused.
        /// `nil` to write any run directory this user may (the ring directory is private to them).
        public var logRoot: String?
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
        ///   - logRoot: The log root runs are confined to (relative to the working directory, or
        ///     absolute), or `nil` for none.
        ///   - ringDirectory: The ring directory to serve.
        public init(logRoot: String? = nil, ringDirectory: String) {
            self.logRoot = logRoot
            self.ringDirectory = ringDirectory
        }
    }

    private let options: Options
    private let logger: Logger
    private let consumer: RingConsumer
    private let checkpoints: CheckpointStore
    private let host: String
    /// The log root as an absolute, normalized path, so a restart from another directory finds
    /// the files; `nil` for none.
    public let logRoot: String?
    /// Whether anything changed since the last checkpoint.
    private var changed = false
    /// Runs whose event files cannot be written now (a full disk, say), reported once each.
    private var failingRuns: Set<String> = []
    /// Finished runs whose files could not be closed yet.
    private var closing: [RunState] = []
    /// While event files cannot be written, records stay in the rings (trainers spill) and
    /// nothing more is read until a flush succeeds.
    private var writesBlocked = false
    /// The route of the last record handled, and its ring and run number (routes change only with
    /// announcements and retirement; `nil`: look it up).
    private var lastRoute: Route? {
        didSet { lastTarget = BorrowedRoute(lastRoute) }
    }
    /// `lastRoute`'s target, unretained, for the batch records' path.
    private var lastTarget = BorrowedRoute(nil)
    private var lastRouteSource = ""
    private var lastRouteNumber: UInt32 = 0
    /// Batch records are decoded here, record after record, without allocating.
    private var batchRecord = BatchRecord()
    /// The checkpoint could not be saved and was given up (reported once).
    private var checkpointAbandoned = false
    /// Per ring: its runs by number, and where each run's records go.
    private var routes: [String: [UInt32: Route]] = [:]
    /// Output runs by directory.
    private var runs: [String: RunState] = [:]
    /// `.mean` groups by run directory.
    private var meanGroups: [String: MeanGroup] = [:]
    /// Groups with batch hooks queued since the last `finishPoll()`.
    private var queuedGroups: [MeanGroup] = []

    /// Where one producer's run goes.
    private enum Route {
        /// Not written (a rank other than the chief).
        case ignored
        /// Straight to a run's state machine.
        case run(RunState)
        /// Into a `.mean` group as this rank.
        case mean(MeanGroup, rank: Int)
    }

    /// A route's target without a reference of its own: `lastRoute` holds it, and handling a
    /// batch record never changes `lastRoute`, so the record after record path borrows it
    /// instead of retaining and releasing it each time.
    private enum BorrowedRoute {
        case none
        case ignored
        case run(Unmanaged<RunState>)
        case mean(Unmanaged<MeanGroup>, rank: Int)

        init(_ route: Route?) {
            switch route {
            case nil: self = .none
            case .ignored?: self = .ignored
            case .run(let run)?: self = .run(Unmanaged.passUnretained(run))
            case .mean(let group, let rank)?: self = .mean(Unmanaged.passUnretained(group), rank: rank)
            }
        }
    }

    private var lastFlush = ContinuousClock.now
    /// What the last flush, checkpoint and commit took. While records keep coming the next one
    /// waits at least four times as long, so they never take more than a fifth of the time (a
    /// `.mean` rank far ahead of rank 0 holds many queued hooks, and every checkpoint saves them).
    private var lastFlushCost = Duration.zero
    /// Records refused as invalid, and hooks of unknown runs.
    public private(set) var invalidRecords = 0
    /// Runs refused because their directory lies outside the log root.
    public private(set) var refusedRuns = 0
    /// Records delivered so far.
    public private(set) var recordsHandled = 0
    /// Whether it resumed runs a previous aggregator checkpointed.
    public private(set) var resumedRuns = false

    /// Takes the ring directory's consumer lock and resumes from the checkpoint a previous
    /// aggregator left there, if any.
    ///
    /// - Parameters:
    ///   - options: The log root, ring directory and flush interval.
    ///   - logger: Where notices and warnings go.
    /// - Throws: `AggregatorError.ring` when another aggregator serves the directory (and
    ///   `waitForLock` is off) or the directory is unusable; `.checkpoint` (naming
    ///   the file), `.io` or `.otherLogRoot` when the checkpoint there cannot be used.
    public init(options: Options, logger: Logger) throws(AggregatorError) {
        self.options = options
        self.logger = logger
        do {
            self.consumer = try RingConsumer(directory: options.ringDirectory, waiting: options.waitForLock ? .wait : .failIfHeld)
        } catch {
            throw .ring(error)
        }
        self.checkpoints = CheckpointStore(directory: options.ringDirectory)
        self.host = options.hostName ?? EventFileName.localHostName
        self.logRoot = try options.logRoot.map { (root: String) throws(AggregatorError) -> String in
            do {
                return try HookRecord.runDirectory(root, in: FileManager.default.currentDirectoryPath)
            } catch {
                throw .malformed("log root \"\(root)\" is not a usable path")
            }
        }
        try resume()
    }

    /// Drains what the rings hold, sleeping up to `timeout` when they are empty, and flushes and
    /// commits when `flushInterval` has passed.
    ///
    /// - Parameter timeout: The longest sleep when there is nothing to do.
    /// - Returns: The number of records handled.
    @discardableResult
    public func step(timeout: Duration = .milliseconds(50)) -> Int {
        if writesBlocked {
            // Retry the writes every flush interval; read nothing more meanwhile.
            if ContinuousClock.now - lastFlush >= max(options.flushInterval, .milliseconds(100)) { flushAndCommit() }
            if writesBlocked { usleep(UInt32(clamping: min(timeout, .milliseconds(100)).inMicroseconds)) }
            return 0
        }
        // Batch records are decoded into one storage through the whole poll.
        var batch = batchRecord
        batchRecord = BatchRecord()
        let count = consumer.poll { source, record in
            handle(source: source.name, type: record.type, payload: record.payload, batch: &batch)
        }
        batchRecord = batch
        finishPoll()
        recordsHandled += count
        if count == 0 || ContinuousClock.now - lastFlush >= max(options.flushInterval, lastFlushCost * 4) {
            flushAndCommit()
        }
        if count == 0 && !writesBlocked { consumer.waitForRecords(timeout: timeout) }
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

    /// Closes every run's event files (merging what `.mean` groups hold for ranks that never
    /// appeared: they will not now).
    public func finishAll() {
        for group in meanGroups.values where group.waitsForUnseenRanks {
            do {
                try group.expireUnseenRanks(now: true)
            } catch {
                logger.error("event file write failed", metadata: ["run": "\(group.run.directory)", "error": "\(error)"])
            }
        }
        for run in runs.values {
            do {
                try run.finish()
            } catch {
                logger.error("event files not closed", metadata: ["run": "\(run.directory)", "error": "\(error)"])
            }
        }
    }

    /// Hands one ring record to where its run goes; batch records are decoded into `batch`.
    private func handle(source: String, type: UInt16, payload: UnsafeRawBufferPointer, batch: inout BatchRecord) {
        if type == RecordType.batch {
            handleBatch(source: source, payload: payload, record: &batch)
            return
        }
        let record: HookRecord
        do {
            record = try HookRecord(type: type, payload: payload)
        } catch {
            refused(source, error)
            return
        }
        changed = true
        if case .runAnnouncement(let number, let rank, let worldSize, let policy, let arguments) = record {
            lastRoute = nil
            routes[source, default: [:]][number] = route(rank: rank, worldSize: worldSize, policy: policy, arguments: arguments)
            return
        }
        guard let route = route(source: source, number: HookRecord.runNumber(of: record)) else { return }
        deliver(from: source, to: route,
                run: { (run) throws(EventFileError) in try run.handle(record) },
                group: { (group, rank) throws(EventFileError) in try group.accept(rank: rank, record) })
    }

    /// `handle` for the most frequent record, a batch hook: decoded into `record`, storage kept
    /// from record to record.
    private func handleBatch(source: String, payload: UnsafeRawBufferPointer, record: inout BatchRecord) {
        do {
            try record.decode(payload)
        } catch {
            refused(source, error)
            return
        }
        changed = true
        guard route(source: source, number: record.run) != nil else { return }
        var failure: EventFileError?
        switch lastTarget {
        case .none, .ignored:
            break
        case .run(let run):
            run._withUnsafeGuaranteedRef { run in
                do throws(EventFileError) { try run.handle(record) } catch { failure = error }
            }
        case .mean(let group, let rank):
            group._withUnsafeGuaranteedRef { group in
                if group.queue(rank: rank, record) { queuedGroups.append(group) }
                guard group.shouldDrain else { return }
                do throws(EventFileError) { try group.drainQueued() } catch { failure = error }
            }
        }
        if let failure { logger.error("event file write failed", metadata: ["ring": "\(source)", "error": "\(failure)"]) }
    }

    /// Merges what `handleBatch` queued in `.mean` groups, then hands the batch scalars runs
    /// staged to their writers: once per poll, so each group merges, and each run writes, many
    /// steps in one go.
    private func finishPoll() {
        for group in queuedGroups {
            do {
                try group.drainQueued()
            } catch {
                logger.error("event file write failed", metadata: ["run": "\(group.run.directory)", "error": "\(error)"])
            }
        }
        queuedGroups.removeAll(keepingCapacity: true)
        for run in runs.values where run.stagedScalars {
            do {
                try run.handOverScalars()
            } catch {
                logger.error("event file write failed", metadata: ["run": "\(run.directory)", "error": "\(error)"])
            }
        }
    }

    /// Hands a record of ring `source` to where `route` leads: its run, its `.mean` group, or
    /// nowhere. A write that fails is reported; its events stay buffered in the run's writers.
    private func deliver(
        from source: String, to route: Route,
        run: (RunState) throws(EventFileError) -> Void, group: (MeanGroup, Int) throws(EventFileError) -> Void
    ) {
        do {
            switch route {
            case .ignored: break
            case .run(let target): try run(target)
            case .mean(let target, let rank): try group(target, rank)
            }
        } catch {
            logger.error("event file write failed", metadata: ["ring": "\(source)", "error": "\(error)"])
        }
    }

    private func refused(_ source: String, _ error: RecordError) {
        invalidRecords += 1
        logger.warning("record refused", metadata: ["ring": "\(source)", "reason": "\(error)"])
    }

    /// Where run `number` of ring `source` goes, or `nil` (counted and reported) when it was
    /// never announced.
    private func route(source: String, number: UInt32) -> Route? {
        // Record after record come from the same ring and run: skip hashing the ring's name.
        if lastRoute != nil, lastRouteNumber == number, lastRouteSource == source {
            return lastRoute
        } else if let found = routes[source]?[number] {
            (lastRoute, lastRouteSource, lastRouteNumber) = (found, source, number)
            return found
        }
        invalidRecords += 1
        logger.warning("record for a run that was never announced", metadata: ["ring": "\(source)", "run": "\(number)"])
        return nil
    }

    /// Where a rank's records go under its policy: the chief's (rank 0's) run; its own
    /// `rank_<r>/` run; or the `.mean` group of its run.
    private func route(rank: UInt32, worldSize: UInt32, policy: RankPolicy, arguments: TensorBoardArguments) -> Route {
        var directory = arguments.logDirectory
        if let logRoot, !HookRecord.runDirectory(directory, isWithin: logRoot) {
            refusedRuns += 1
            logger.error("run refused: its directory is outside the log root", metadata: [
                "run": "\(directory)", "log root": "\(logRoot)", "rank": "\(rank)"])
            return .ignored
        }
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
        let run = RunState(directory: directory, arguments: arguments, logRoot: logRoot, host: host, logger: logger,
                           fileCreated: { [weak self] in self?.fileCreated($0) })
        runs[directory] = run
        return run
    }

    private func flushAndCommit() {
        lastFlush = .now
        defer { lastFlushCost = ContinuousClock.now - lastFlush }
        for group in meanGroups.values where group.waitsForUnseenRanks {
            do {
                try group.expireUnseenRanks()
            } catch {
                logger.error("event file write failed", metadata: ["run": "\(group.run.directory)", "error": "\(error)"])
            }
        }
        var failed = false
        for run in runs.values where !run.finished {
            do {
                try run.flush()
                if failingRuns.remove(run.directory) != nil {
                    logger.notice("event files written again", metadata: ["run": "\(run.directory)"])
                }
            } catch {
                failed = true
                if failingRuns.insert(run.directory).inserted {
                    logger.error("event files cannot be written; their records wait in the rings and are written once this clears",
                                 metadata: ["run": "\(run.directory)", "error": "\(error)"])
                }
            }
        }
        closing.removeAll { run in (try? run.closeWriters()) != nil }
        // Nothing is checkpointed or committed past what could not be written.
        writesBlocked = failed || !closing.isEmpty
        if writesBlocked { return }
        if changed {
            do {
                try saveCheckpoint()
                changed = false
                if checkpointAbandoned {
                    checkpointAbandoned = false
                    logger.notice("checkpoint saved again")
                }
            } catch {
                // Waiting for it could wait forever (spill segments that only a commit removes
                // may be what fills its disk): commit without a checkpoint, after removing the
                // old one, which a restart must not trust once the rings move past it.
                checkpoints.abandon()
                if !checkpointAbandoned {
                    checkpointAbandoned = true
                    logger.error("checkpoint not saved; going on without one, so a restart before it is saved again starts runs afresh",
                                 metadata: ["error": "\(error)"])
                }
            }
        }
        do {
            try consumer.commitAll(checkpoint: Aggregator.ringCheckpoint(checkpoints.generation))
        } catch {
            logger.error("ring commit failed", metadata: ["error": "\(error)"])
        }
        for notice in consumer.notices() {
            switch notice {
            case .retired(let path, _, _, _, let clean):
                retireRoutes(ring: String(path.split(separator: "/").last ?? ""))
                logger.info("\(notice)", metadata: ["clean": "\(clean)"])
            case .discovered:
                logger.info("\(notice)")
            case .refused, .quarantined:
                logger.warning("\(notice)")
            }
        }
    }
}

// MARK: Checkpoint

extension Aggregator {
    /// What each ring's own checkpoint holds: the generation of the aggregator state that
    /// covers its committed position.
    fileprivate static func ringCheckpoint(_ generation: Int64) -> [UInt8] {
        withUnsafeBytes(of: generation.littleEndian) { Array($0) }
    }

    /// A ring's producer is gone: its runs are finished (or, in a `.mean` group, its rank is).
    private func retireRoutes(ring name: String) {
        for route in routes[name]?.values ?? [:].values {
            do {
                switch route {
                case .ignored: break
                case .run(let run): try run.finish()
                case .mean(let group, let rank): try group.rankGone(rank)
                }
            } catch {
                logger.error("event files not closed; retrying", metadata: ["ring": "\(name)", "error": "\(error)"])
            }
            let run: RunState? = switch route {
            case .ignored: nil
            case .run(let run): run
            case .mean(let group, _): group.run
            }
            if let run, run.finished, run.hasOpenWriters, !closing.contains(where: { $0 === run }) { closing.append(run) }
        }
        routes[name] = nil
        lastRoute = nil
        changed = true
    }

    private func fileCreated(_ path: String) {
        do {
            try checkpoints.noteCreated(path)
        } catch {
            logger.error("event file not journaled; a restart before the next checkpoint may repeat its events",
                         metadata: ["file": "\(path)", "error": "\(error)"])
        }
    }

    /// Saves every unfinished run, `.mean` group and route with each ring's read position.
    /// Event files must be flushed first.
    private func saveCheckpoint() throws(AggregatorError) {
        let live = runs.values.filter { !$0.finished }.sorted { $0.directory < $1.directory }
        var modelFiles: [String?] = []
        for run in live { modelFiles.append(try checkpoints.modelFile(for: run)) }
        var state = StateEncoder()
        state.integer(checkpoints.nextGeneration)
        state.optionalString(logRoot)
        state.array(consumer.sources) { state, source in
            let reader = consumer.reader(named: source.name)
            state.string(source.name)
            state.integer(reader?.readPosition ?? 0)
            state.integer(reader?.spillSegmentsDelivered ?? 0)
        }
        state.array(Array(zip(live, modelFiles))) { state, entry in entry.0.encode(into: &state, modelFile: entry.1) }
        let groups = meanGroups.values.filter { !$0.run.finished }.sorted { $0.run.directory < $1.run.directory }
        state.array(groups) { state, group in group.encode(into: &state) }
        state.array(routes.sorted { $0.key < $1.key }) { state, ring in
            state.string(ring.key)
            state.array(ring.value.sorted { $0.key < $1.key }) { state, entry in
                state.integer(entry.key)
                switch entry.value {
                case .run(let run) where !run.finished:
                    state.integer(UInt8(1))
                    state.string(run.directory)
                case .mean(let group, let rank) where !group.run.finished:
                    state.integer(UInt8(2))
                    state.string(group.run.directory)
                    state.int(rank)
                default:
                    state.integer(UInt8(0))  // a finished run ignores its records
                }
            }
        }
        try checkpoints.save(state, runs: live)
    }

    /// Restores the runs, groups and routes of the checkpoint in the ring directory, cuts their
    /// event files back, removes files created after it, and moves each ring to its position.
    private func resume() throws(AggregatorError) {
        try checkpoints.inFile(checkpoints.statePath) { () throws(AggregatorError) in try resumeFromState() }
    }

    private func resumeFromState() throws(AggregatorError) {
        guard var state = try checkpoints.loadState() else {
            _ = checkpoints.recover(generation: 0, modelFilesInUse: [])
            return
        }
        let generation: Int64 = try state.integer()
        let savedRoot = try state.optionalString()
        let rings = try state.array { (state: inout StateDecoder) throws(AggregatorError) in
            (name: try state.string(), position: try state.integer(Int64.self), spill: try state.integer(Int64.self))
        }
        let runCount = try state.count()
        if runCount > 0 && savedRoot != logRoot {
            throw .otherLogRoot(stateFile: checkpoints.statePath, checkpointed: savedRoot ?? "(none)", given: logRoot ?? "(none)")
        }
        var modelsInUse: Set<String> = []
        for _ in 0..<runCount {
            var modelFile: String?
            let run = try RunState.restore(
                from: &state, logRoot: logRoot, host: host, logger: logger, fileCreated: { [weak self] in self?.fileCreated($0) },
                loadModel: { [checkpoints] (name: String) throws(AggregatorError) -> RunState.Model in
                    modelFile = name
                    return try checkpoints.loadModel(name)
                })
            runs[run.directory] = run
            if let modelFile {
                modelsInUse.insert(modelFile)
                checkpoints.noteModelFile(modelFile, of: run)
            }
        }
        let groups = try state.array { (state: inout StateDecoder) throws(AggregatorError) in
            try MeanGroup.restore(from: &state, logger: logger) { [runs] in runs[$0] }
        }
        for group in groups { meanGroups[group.run.directory] = group }
        let savedRoutes = try state.array { (state: inout StateDecoder) throws(AggregatorError) in
            (try state.string(), try state.array { (state: inout StateDecoder) throws(AggregatorError) -> (UInt32, Route) in
                let number: UInt32 = try state.integer()
                let tag: UInt8 = try state.integer()
                switch tag {
                case 0: return (number, .ignored)
                case 1:
                    let directory = try state.string()
                    guard let run = runs[directory] else { throw .malformed("route to an unknown run \(directory)") }
                    return (number, .run(run))
                case 2:
                    let directory = try state.string()
                    let rank = try state.int()
                    guard let group = meanGroups[directory], rank >= 0, rank < group.worldSize else {
                        throw .malformed("route to an unknown mean group \(directory)")
                    }
                    return (number, .mean(group, rank: rank))
                default:
                    throw .malformed("route tag \(tag)")
                }
            })
        }
        guard state.isAtEnd else { throw .malformed("trailing bytes") }
        for (ring, entries) in savedRoutes { routes[ring] = Dictionary(entries, uniquingKeysWith: { $1 }) }

        let removed = checkpoints.recover(generation: generation, modelFilesInUse: modelsInUse)
        for path in removed {
            logger.info("removed an event file written after the last checkpoint; its events are written again", metadata: ["file": "\(path)"])
        }
        // Each ring from where the checkpoint left it; rings gone since were retired after it.
        let present = Set(consumer.sources.map(\.name))
        for ring in rings {
            guard present.contains(ring.name), let reader = consumer.reader(named: ring.name) else {
                retireRoutes(ring: ring.name)
                continue
            }
            if reader.readPosition > ring.position {
                logger.warning("ring committed past the aggregator checkpoint; records may repeat",
                               metadata: ["ring": "\(ring.name)", "checkpoint": "\(ring.position)", "ring position": "\(reader.readPosition)"])
                continue
            }
            do {
                try reader.skip(to: ring.position, spillSegments: ring.spill)
            } catch {
                // Reading it will find the same fault and quarantine the ring.
                logger.error("ring not moved to its checkpointed position", metadata: ["ring": "\(ring.name)", "error": "\(error)"])
            }
        }
        // Routes of rings that no longer exist and were not in the ring list (none expected).
        for name in routes.keys where !present.contains(name) { retireRoutes(ring: name) }
        changed = true
        resumedRuns = runCount > 0
        logger.info("resumed from the aggregator checkpoint", metadata: [
            "generation": "\(generation)", "runs": "\(runCount)", "rings": "\(rings.count)"])
    }
}

extension HookRecord {
    /// The run a record belongs to.
    static func runNumber(of record: HookRecord) -> UInt32 {
        switch record {
        case .runAnnouncement(let run, _, _, _, _), .metricName(let run, _, _), .batch(let run, _, _, _, _, _),
             .hook(let run, _, _, _, _), .parameters(let run, _), .model(let run, _, _, _), .weightValues(let run, _, _, _, _, _),
             .span(let run, _, _, _, _):
            run
        }
    }
}
