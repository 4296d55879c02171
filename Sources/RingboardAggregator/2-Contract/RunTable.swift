import Logging
import RingboardFormat
import RingboardRecords
import RingboardRing

/// Where a producer's run goes: an index in the `RunTable`'s runs or `.mean` groups.
enum Route: Equatable {
    /// Not written (a rank other than the chief, or a run refused).
    case ignored
    /// Straight to a run's state machine.
    case run(Int)
    /// Into a `.mean` group as this rank.
    case mean(group: Int, rank: Int)
}

/// Stage 2's entry: every run's state machine and `.mean` group, and the routes from each
/// ring's run numbers to them under the rank policies. It takes the records stage 1 decoded,
/// hands each to its run (or group), and collects the runs' work for the aggregator's flushes.
///
/// Runs and groups are values in arrays, reached by index: a record's way from the ring to its
/// run's state takes no reference counting and no dynamic exclusivity check.
///
/// - Warning: Not thread-safe; the aggregator's thread owns it.
struct RunTable {
    /// The log root runs are confined to, absolute; `nil` for none.
    let logRoot: String?
    let summaries: SummaryMaker
    private let logger: Logger
    let fileCreated: (String) -> Void

    /// Every run made (a finished run stays, ignoring its records, while routes lead to it).
    var runs: [RunMachine] = []
    /// The latest run of each directory.
    var runByDirectory: [String: Int] = [:]
    var groups: [MeanMerger] = []
    var groupByDirectory: [String: Int] = [:]
    /// Per ring: its runs by number, and where each run's records go.
    var routes: [String: [UInt32: Route]] = [:]
    /// The route of the last record delivered (routes change only with announcements and
    /// retirement), so record after record of one ring and run skip the lookup.
    /// (Three fields, not a tuple: copying a tuple out to compare it counts a reference.)
    private var lastSource = ""
    private var lastNumber: UInt32 = 0
    private var lastRoute: Route?
    /// Groups with batch hooks queued since the last `finishPoll()`.
    private var queuedGroups: [Int] = []
    /// Runs whose event files cannot be written now (a full disk, say), reported once each.
    private var failingRuns: Set<String> = []
    /// Finished runs whose files could not be closed yet.
    private var closing: Set<Int> = []

    /// Records refused as invalid, and hooks of unknown runs.
    private(set) var invalidRecords = 0
    /// Runs refused because their directory lies outside the log root.
    private(set) var refusedRuns = 0

    /// - Parameters:
    ///   - logRoot: The log root runs are confined to, absolute; `nil` for none.
    ///   - summaries: Stage 3, for every run.
    ///   - fileCreated: Told every event file and trace a run makes, before it is written.
    init(logRoot: String?, summaries: SummaryMaker, fileCreated: @escaping (String) -> Void) {
        self.logRoot = logRoot
        self.summaries = summaries
        self.logger = summaries.logger
        self.fileCreated = fileCreated
    }

    // MARK: Records

    /// Hands a record of ring `source` (any but a batch hook) to where its run goes.
    mutating func deliver(_ record: HookRecord, from source: String) {
        if case .runAnnouncement(let number, let rank, let worldSize, let policy, let arguments) = record {
            lastRoute = nil
            let route = route(rank: rank, worldSize: worldSize, policy: policy, arguments: arguments)
            routes[source, default: [:]][number] = route
            if policy == .mean, arguments.semantics == .summaryWriter, case .run(let run) = route {
                runs[run].setRank(Int(rank), worldSize: Int(worldSize), of: WriterKey(ring: source, run: number))
            }
            return
        }
        guard let route = route(source: source, number: HookRecord.runNumber(of: record)) else { return }
        do {
            switch route {
            case .ignored:
                break
            case .run(let run) where runs[run].arguments.semantics == .summaryWriter:
                try runs[run].apply(record, from: WriterKey(ring: source, run: HookRecord.runNumber(of: record)))
            case .run(let run):
                try runs[run].apply(record)
            case .mean(let group, let rank):
                let run = groups[group].run
                try groups[group].accept(rank: rank, record, run: &runs[run])
            }
        } catch {
            logger.error("event file write failed", metadata: ["ring": "\(source)", "error": "\(error)"])
        }
    }

    /// Hands every value of weight `weight` of run `number` of ring `source`, as of `version`
    /// (from a weight segment stage 1 mapped), to where its run goes: kept mapped, except in a
    /// `.mean` group, whose queue of rank 0's records (checkpointed with it) holds them as a
    /// `weightValues` record, a copy.
    mutating func deliverWeight(run number: UInt32, weight: UInt32, version: UInt64, values: WeightValues, from source: String) {
        guard let route = route(source: source, number: number) else { return }
        switch route {
        case .ignored:
            break
        case .run(let run):
            runs[run].setWeight(Int(weight), values)
        case .mean:
            deliver(.weightValues(run: number, weight: weight, version: version, offset: 0, total: UInt64(values.count), values: values.array),
                    from: source)
        }
    }

    /// Hands a `SummaryWriter` scalar, which stage 1 read without building a `HookRecord`, to
    /// where its run goes.
    mutating func deliverScalar(
        run number: UInt32, tag: UInt32, directory: UInt32?, step: Int64, wallTime: Double, value: Double, from source: String
    ) {
        guard case .run(let run) = route(source: source, number: number) else { return }
        do {
            try runs[run].summaryScalar(tag: tag, directory: directory, step: step, wallTime: wallTime, value: value,
                                        from: WriterKey(ring: source, run: number))
        } catch {
            logger.error("event file write failed", metadata: ["ring": "\(source)", "error": "\(error)"])
        }
    }

    /// Hands a `SummaryWriter` histogram whose values stage 1 mapped from a weight segment to
    /// where its run goes (a `SummaryWriter` run is never a `.mean` group's).
    mutating func deliverHistogram(
        run number: UInt32, tag: UInt32, directory: UInt32?, step: Int64, wallTime: Double, values: WeightValues, from source: String
    ) {
        guard case .run(let run) = route(source: source, number: number) else { return }
        do {
            try runs[run].summaryHistogram(tag: tag, directory: directory, step: step, wallTime: wallTime, values: values,
                                           from: WriterKey(ring: source, run: number))
        } catch {
            logger.error("event file write failed", metadata: ["ring": "\(source)", "error": "\(error)"])
        }
    }

    /// Hands a batch hook of ring `source` to where its run goes: the most frequent record, and
    /// its one path from the ring to the run's files.
    mutating func deliver(_ record: inout BatchRecord, from source: String) {
        guard let route = route(source: source, number: record.run) else { return }
        do {
            switch route {
            case .ignored:
                break
            case .run(let run):
                try runs[run].apply(&record)
            case .mean(let group, let rank):
                let run = groups[group].run
                if groups[group].queue(rank: rank, record) { queuedGroups.append(group) }
                if groups[group].shouldDrain { try groups[group].drain(into: &runs[run]) }
            }
        } catch {
            logger.error("event file write failed", metadata: ["ring": "\(source)", "error": "\(error)"])
        }
    }

    /// Counts and reports a record stage 1 could not decode.
    mutating func refused(_ source: String, _ error: RecordError) {
        refused(source, reason: error.description)
    }

    /// Counts and reports a record stage 1 could not use, and why.
    mutating func refused(_ source: String, reason: String) {
        invalidRecords += 1
        logger.warning("record refused", metadata: ["ring": "\(source)", "reason": "\(reason)"])
    }

    /// Merges what batch hooks queued in `.mean` groups, then (with `handingOver`) hands the
    /// batch scalars runs staged to their writers: once per poll, so each group merges, and each
    /// run writes, many steps in one go. Without it they stay staged, for the flush.
    mutating func finishPoll(handingOver: Bool = true) {
        for group in queuedGroups {
            let run = groups[group].run
            do {
                try groups[group].drain(into: &runs[run])
            } catch {
                logger.error("event file write failed", metadata: ["run": "\(runs[run].directory)", "error": "\(error)"])
            }
        }
        queuedGroups.removeAll(keepingCapacity: true)
        guard handingOver else { return }
        for run in runs.indices where runs[run].hasStagedScalars {
            do {
                try runs[run].handOverScalars()
            } catch {
                logger.error("event file write failed", metadata: ["run": "\(runs[run].directory)", "error": "\(error)"])
            }
        }
    }

    // MARK: Routes

    /// Where run `number` of ring `source` goes, or `nil` (counted and reported) when it was
    /// never announced.
    private mutating func route(source: String, number: UInt32) -> Route? {
        if lastRoute != nil && lastNumber == number && lastSource == source { return lastRoute }
        if let found = routes[source]?[number] {
            (lastSource, lastNumber, lastRoute) = (source, number, found)
            return found
        }
        invalidRecords += 1
        logger.warning("record for a run that was never announced", metadata: ["ring": "\(source)", "run": "\(number)"])
        return nil
    }

    /// Where a rank's records go under its policy: the chief's (rank 0's) run; its own
    /// `rank_<r>/` run; or the `.mean` group of its run.
    private mutating func route(rank: UInt32, worldSize: UInt32, policy: RankPolicy, arguments: TensorBoardArguments) -> Route {
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
        case .mean where arguments.semantics == .summaryWriter:
            // Every rank's writer to the one run, whose `SummaryMeans` merges their scalars.
            break
        case .mean:
            if let group = groupByDirectory[directory], !runs[groups[group].run].finished, groups[group].worldSize == Int(worldSize) {
                return .mean(group: group, rank: Int(rank))
            }
            let run = run(directory, arguments)
            groups.append(MeanMerger(run: run, worldSize: Int(worldSize), logger: logger))
            groupByDirectory[directory] = groups.count - 1
            return .mean(group: groups.count - 1, rank: Int(rank))
        }
        return .run(run(directory, arguments))
    }

    /// The unfinished run of `directory`, made when there is none.
    private mutating func run(_ directory: String, _ arguments: TensorBoardArguments) -> Int {
        if let existing = runByDirectory[directory], !runs[existing].finished { return existing }
        runs.append(RunMachine(directory: directory, arguments: arguments, logRoot: logRoot, summaries: summaries, fileCreated: fileCreated))
        runByDirectory[directory] = runs.count - 1
        return runs.count - 1
    }

    /// Ring `name`'s producer is gone (at `now`): its runs are finished (or, in a `.mean` group,
    /// its rank is), and its routes forgotten.
    mutating func retire(ring name: String, now: ContinuousClock.Instant) {
        for (number, route) in routes[name] ?? [:] {
            let run: Int? = switch route {
            case .ignored: nil
            case .run(let index): index
            case .mean(let group, _): groups[group].run
            }
            do {
                switch route {
                case .ignored:
                    break
                case .run(let index):
                    // A run other producers still write (several `SummaryWriter`s on one
                    // directory) goes on; the last one to go finishes it.
                    try runs[index].writerGone(WriterKey(ring: name, run: number))
                    if !isRouted(index, besides: name) { try runs[index].finish() }
                case .mean(let group, let rank):
                    try groups[group].rankGone(rank, now: now, run: &runs[run!])
                }
            } catch {
                logger.error("event files not closed; retrying", metadata: ["ring": "\(name)", "error": "\(error)"])
            }
            if let run, runs[run].finished, runs[run].files.isOpen { closing.insert(run) }
        }
        routes[name] = nil
        lastRoute = nil
    }

    /// Whether a ring other than `ring` routes records to run `index`.
    private func isRouted(_ index: Int, besides ring: String) -> Bool {
        routes.contains { source, numbers in source != ring && numbers.values.contains(.run(index)) }
    }

    // MARK: Flushing

    /// Writes every run's buffered events: merges what groups held for ranks that never appeared
    /// once their grace is over, flushes every unfinished run, and retries closing finished runs'
    /// files. Runs that cannot be written are reported once until they can again.
    ///
    /// - Returns: Whether everything was written (nothing may be checkpointed or committed past
    ///   what was not).
    mutating func flush(now: ContinuousClock.Instant) -> Bool {
        for group in groups.indices where groups[group].waitsForUnseenRanks {
            let run = groups[group].run
            do {
                try groups[group].expireUnseenRanks(now: now, run: &runs[run])
            } catch {
                logger.error("event file write failed", metadata: ["run": "\(runs[run].directory)", "error": "\(error)"])
            }
        }
        var written = true
        for run in runs.indices where !runs[run].finished {
            do {
                try runs[run].flush()
                if failingRuns.remove(runs[run].directory) != nil {
                    logger.notice("event files written again", metadata: ["run": "\(runs[run].directory)"])
                }
            } catch {
                written = false
                if failingRuns.insert(runs[run].directory).inserted {
                    logger.error("event files cannot be written; their records wait in the rings and are written once this clears",
                                 metadata: ["run": "\(runs[run].directory)", "error": "\(error)"])
                }
            }
        }
        for run in closing where (try? runs[run].closeFiles()) != nil { closing.remove(run) }
        return written && closing.isEmpty
    }

    /// Closes every run's event files, merging what `.mean` groups hold for ranks that never
    /// appeared (they will not now).
    mutating func finishAll(now: ContinuousClock.Instant) {
        for group in groups.indices where groups[group].waitsForUnseenRanks {
            let run = groups[group].run
            do {
                try groups[group].expireUnseenRanks(now: now, stopping: true, run: &runs[run])
            } catch {
                logger.error("event file write failed", metadata: ["run": "\(runs[run].directory)", "error": "\(error)"])
            }
        }
        for run in runs.indices {
            do {
                try runs[run].finish()
            } catch {
                logger.error("event files not closed", metadata: ["run": "\(runs[run].directory)", "error": "\(error)"])
            }
        }
    }
}

extension HookRecord {
    /// The run a record belongs to.
    static func runNumber(of record: HookRecord) -> UInt32 {
        switch record {
        case .runAnnouncement(let run, _, _, _, _), .metricName(let run, _, _), .batch(let run, _, _, _, _, _),
             .hook(let run, _, _, _, _), .parameters(let run, _), .model(let run, _, _, _), .weightValues(let run, _, _, _, _, _),
             .span(let run, _, _, _, _), .weightSegment(let run, _, _, _, _, _), .summary(let run, _, _, _, _, _):
            run
        }
    }
}
