import Logging
import RingboardFormat
import RingboardRecords

/// The ranks of one `.mean` run (DESIGN §3): the run's state machine sees one merged hook per
/// step, formed once every live rank has reported that step. `size` is the sum of the ranks'
/// sizes (a missing size counts 1), every other metric the size-weighted mean (equal weights
/// where there is no size). Under Keras 3 semantics, which count no samples, `size` is a metric
/// like any other and none is added: every metric is the mean over the ranks. Everything else (the model, weights, parameters, spans) comes from
/// rank 0, in rank 0's order, so a histogram always sees the weights of its own epoch.
///
/// The merger does not own its run: the caller passes the run (`run`, an index in its table) to
/// every call that may apply hooks to it.
///
/// - Warning: Not thread-safe; the aggregator's thread owns it.
struct MeanMerger {
    /// The run it merges into, in the caller's table.
    let run: Int
    let worldSize: Int
    private let logger: Logger
    /// Each rank's queue: rank 0's records in order (records to apply, and hooks that wait for
    /// the other ranks); the other ranks' hooks, in order.
    private var queues: [RankQueue]
    private var gone: [Bool]
    private var goneCount = 0
    /// Ranks that announced themselves.
    private var seen: [Bool]
    private var seenCount = 0
    /// When rank 0 was gone while some rank had never announced itself, as the time since
    /// `clockOrigin`. (A `Duration`, whose layout is fixed: `ContinuousClock.Instant` is not, so
    /// stored here it gave every `MeanMerger` a layout known only at run time, and each access
    /// to a group in the run table's array went through the type's metadata.)
    private var driverGoneAfter: Duration?
    private static let clockOrigin = ContinuousClock.now
    /// Storage reused step after step.
    private var merged = SlotLogs()
    private var participants: [Int] = []
    /// The run's slot of `size`, once needed.
    private var sizeSlot: Int32 = -1
    /// The slots of the last hooks `mergeAligned` merged, and what it worked out for them.
    private var layout = AlignedLayout()
    /// Records queued since the last drain.
    private var queuedSinceDrain = 0

    /// What a queued hook was: a batch hook or another.
    enum Kind: Equatable {
        case batch(BatchPhase, isEnd: Bool, batch: Int64)
        case other(HookKind, index: Int64)
    }

    init(run: Int, worldSize: Int, logger: Logger) {
        self.run = run
        self.worldSize = worldSize
        self.logger = logger
        self.queues = Array(repeating: RankQueue(), count: worldSize)
        self.gone = Array(repeating: false, count: worldSize)
        self.seen = Array(repeating: false, count: worldSize)
    }

    /// Takes one record of `rank` other than a batch hook, and applies what is complete.
    mutating func accept(rank: Int, _ record: HookRecord, run target: inout RunMachine) throws(EventFileError) {
        see(rank)
        switch record {
        case .metricName(_, let metric, let name):
            queues[rank].numbering.name(metric, name, slot: target.slot(named: name))
        case .hook(_, let kind, let index, let logs, let wallTime):
            queues[rank].beginHook()
            for entry in logs {
                let slot = queues[rank].numbering.slot(of: entry.metric)
                if slot >= 0 { queues[rank].appendLog(slot, entry.value) }
            }
            queues[rank].endHook(.other(kind, index: index), wallTime: wallTime)
        case .runAnnouncement, .batch, .weightSegment:
            break  // batch hooks come to `queue(rank:_:)` as `BatchRecord`s; weights in segments as `.weightValues`
        case .parameters, .model, .weightValues, .span:
            if rank == 0 { queues[0].append(record) }
        case .summary:
            break  // a `SummaryWriter` run is never a `.mean` group's (`RunTable.route`)
        }
        try drain(into: &target)
    }

    /// Queues one batch hook of `rank` without allocating, leaving the merging to
    /// `drain(into:)`, so that many hooks are merged in one go.
    ///
    /// - Returns: Whether nothing was queued since the last drain.
    mutating func queue(rank: Int, _ record: borrowing BatchRecord) -> Bool {
        if seenCount < worldSize { see(rank) }
        queues[rank].appendHook(record)
        queuedSinceDrain += 1
        return queuedSinceDrain == 1
    }

    /// `queue(rank:_:)` has queued enough since the last drain that the caller should drain
    /// now rather than at the end of its poll (a spill segment delivers many thousands of records
    /// at once; merged in slices, the steps reach their files, and the encoding thread, sooner).
    var shouldDrain: Bool { queuedSinceDrain >= MeanMerger.drainSlice }
    static let drainSlice = 4096

    private mutating func see(_ rank: Int) {
        if !seen[rank] {
            seen[rank] = true
            seenCount += 1
        }
    }

    private mutating func markGone(_ rank: Int) {
        if !gone[rank] {
            gone[rank] = true
            goneCount += 1
        }
    }

    /// A rank's producer is gone at `now`: what it reported is still merged, then merging goes
    /// on without it. Once every rank is gone the run is finished.
    mutating func rankGone(_ rank: Int, now: ContinuousClock.Instant, run target: inout RunMachine) throws(EventFileError) {
        markGone(rank)
        if rank == 0 && seenCount < worldSize {
            // Rank 0 is done, but a rank may start late: give ranks that never announced
            // themselves `unseenRankGrace` to appear before merging goes on without them.
            driverGoneAfter = now - MeanMerger.clockOrigin
        }
        try drain(into: &target)
        if goneCount == worldSize { try target.finish() }
    }

    /// How long after rank 0 is gone a rank that never announced itself is still waited for.
    static let unseenRankGrace: Duration = .seconds(5)

    /// Whether ranks that never appeared are still waited for (see `expireUnseenRanks`).
    var waitsForUnseenRanks: Bool { driverGoneAfter != nil }

    /// Once `unseenRankGrace` has passed since rank 0 was gone (or at once, when `stopping`),
    /// ranks that never announced themselves count as gone, and the group merges (and finishes)
    /// without them.
    mutating func expireUnseenRanks(now: ContinuousClock.Instant, stopping: Bool = false, run target: inout RunMachine) throws(EventFileError) {
        guard let since = driverGoneAfter, stopping || (now - MeanMerger.clockOrigin) - since >= MeanMerger.unseenRankGrace else { return }
        driverGoneAfter = nil
        for rank in 0..<worldSize where !seen[rank] { markGone(rank) }
        try drain(into: &target)
        if goneCount == worldSize { try target.finish() }
    }

    /// Applies rank 0's records in order, each hook once every live rank has its counterpart.
    mutating func drain(into target: inout RunMachine) throws(EventFileError) {
        queuedSinceDrain = 0
        while !queues[0].isEmpty {
            guard let kind = queues[0].firstKind else {
                try target.apply(queues[0].firstRecord!)
                queues[0].removeFirst()
                continue
            }
            // A rank with nothing queued holds the step back, unless it is gone.
            for rank in 1..<worldSize where queues[rank].isEmpty && !gone[rank] { return }
            participants.removeAll(keepingCapacity: true)
            participants.append(0)
            for rank in 1..<worldSize where !queues[rank].isEmpty {
                if let counterpart = queues[rank].firstKind, counterpart != kind {
                    logger.warning("ranks disagree on the hook order", metadata: [
                        "run": "\(target.directory)", "rank": "\(rank)", "rank 0": "\(kind)", "this rank": "\(counterpart)"])
                }
                participants.append(rank)
            }
            if !mergeAligned(run: &target) {
                merged = target.slotLogs(MeanMerger.merge(participants.map { target.namedLogs(queues[$0].firstLogs.slotLogs) },
                                                          countingSamples: target.arguments.semantics == .tf20))
            }
            // The merged hook fired when its last rank's did.
            var wallTime = Int64.min
            for rank in participants {
                wallTime = max(wallTime, queues[rank].firstWallTime)
                queues[rank].removeFirst()
            }
            let seconds = HookClock.seconds(wallTime)
            switch kind {
            case .batch(let phase, let isEnd, let batch): try target.batchHook(phase, isEnd: isEnd, batch: batch, logs: merged, wallTime: seconds)
            case .other(let kind, let index): try target.hook(kind, index: index, logs: target.namedLogs(merged), wallTime: seconds)
            }
        }
    }

    /// What `mergeAligned` works out once for a sequence of slots that hooks repeat.
    private struct AlignedLayout {
        var slots: [Int32] = []
        /// No slot is given twice.
        var distinct = false
        /// Where `size` is (-1: nowhere).
        var sizeIndex = -1
        /// Which positions are the metric `batch`.
        var isBatch: [Bool] = []
        /// The merged hook's slots: `slots`, then `size` when the hooks have none (and there are
        /// several); one array step after step, so the run compares it with its own at once.
        var merged: [Int32] = []
    }

    /// `merge` for the usual case, every participant reporting the same names in the same order:
    /// position by position into `merged`, without searching by name. `false` otherwise.
    private mutating func mergeAligned(run target: inout RunMachine) -> Bool {
        let count = queues[0].firstCount
        guard count <= 16 else { return false }
        if !queues[0].firstSlotsEqual(layout.slots) {
            layout.slots = (0..<count).map { queues[0].firstSlot($0) }
            // A name given twice takes its first value in `merge`: leave that to it.
            layout.distinct = Set(layout.slots).count == count
            layout.sizeIndex = layout.slots.firstIndex { target.slots[$0].isSize } ?? -1
            layout.isBatch = layout.slots.map { target.slots[$0].isBatch }
            layout.merged = []
        }
        guard layout.distinct else { return false }
        for position in 1..<participants.count where !queues[participants[position]].firstSlotsEqual(layout.slots) { return false }
        let sizeIndex = layout.sizeIndex
        // TF 2.0 counts a missing size as 1 per batch: the merged batch carries the sum.
        let addsSize = sizeIndex < 0 && participants.count > 1 && target.arguments.semantics == .tf20
        if layout.merged.count != count + (addsSize ? 1 : 0) {
            if addsSize && sizeSlot < 0 { sizeSlot = target.slot(named: "size") }
            layout.merged = layout.slots + (addsSize ? [sizeSlot] : [])
        }
        if merged.slots != layout.merged { merged = SlotLogs(slots: layout.merged, values: Array(repeating: 0, count: layout.merged.count)) }
        // Each rank's weight is its size, or 1 without one; summed in rank order, as `merge` sums.
        var totalWeight = 0.0
        for rank in participants { totalWeight += sizeIndex >= 0 ? queues[rank].firstValue(sizeIndex) : 1 }
        // Written in storage taken out of `merged` (so it is not checked for sharing value by
        // value), then given back.
        var values = merged.takeValues()
        values.withUnsafeMutableBufferPointer { values in
            for index in 0..<count {
                if index == sizeIndex {
                    values[index] = totalWeight
                } else if layout.isBatch[index] {
                    values[index] = queues[0].firstValue(index)
                } else {
                    var total = 0.0
                    for rank in participants {
                        total += (sizeIndex >= 0 ? queues[rank].firstValue(sizeIndex) : 1) * queues[rank].firstValue(index)
                    }
                    values[index] = total / totalWeight
                }
            }
            if addsSize { values[count] = totalWeight }
        }
        merged.restoreValues(values)
        return true
    }

    /// One rank's logs from several: rank 0's names in its order; `size` summed (a missing size
    /// counting 1); every other value the size-weighted mean over the ranks that have it.
    /// Without `countingSamples` (Keras 3), every value is the plain mean, `size` too, and no
    /// `size` is added.
    static func merge(_ ranks: [[(String, Double)]], countingSamples: Bool = true) -> [(String, Double)] {
        let weights = ranks.map { logs in countingSamples ? logs.first { $0.0 == "size" }?.1 ?? 1 : 1 }
        var merged: [(String, Double)] = []
        for (name, _) in ranks[0] {
            if name == "size" && countingSamples {
                merged.append((name, weights.reduce(0, +)))
                continue
            }
            if name == "batch" {
                merged.append((name, ranks[0].first { $0.0 == name }!.1))
                continue
            }
            var total = 0.0, weight = 0.0
            for (logs, rankWeight) in zip(ranks, weights) {
                if let value = logs.first(where: { $0.0 == name })?.1 {
                    total += rankWeight * value
                    weight += rankWeight
                }
            }
            merged.append((name, total / weight))
        }
        if countingSamples && !ranks[0].contains(where: { $0.0 == "size" }) && ranks.count > 1 {
            // TF 2.0 counts a missing size as 1 per batch: the merged batch carries the sum.
            merged.append(("size", weights.reduce(0, +)))
        }
        return merged
    }
}

// MARK: Checkpoint

extension MeanMerger {
    /// What the group holds back: rank 0's queue, the other ranks' hooks, names and liveness.
    /// Queued logs are saved as slots, with the run's slot names to read them by.
    func encode(into state: inout StateEncoder, run target: borrowing RunMachine) {
        state.string(target.directory)
        state.int(worldSize)
        state.array(target.slots.names) { state, name in state.string(name) }
        queues[0].encode(into: &state)
        state.array((1..<max(worldSize, 1)).filter { !queues[$0].isEmpty }) { state, rank in
            state.int(rank)
            queues[rank].encode(into: &state)
        }
        state.array(queues.indices.filter { !queues[$0].numbering.names.isEmpty }) { state, rank in
            state.int(rank)
            state.array(queues[rank].numbering.names.sorted { $0.key < $1.key }) { state, name in
                state.integer(name.key)
                state.string(name.value)
            }
        }
        state.array(gone.indices.filter { gone[$0] }) { $0.int($1) }
        state.array(seen.indices.filter { seen[$0] }) { $0.int($1) }
        state.bool(driverGoneAfter != nil)
    }

    /// The run directory a saved group belongs to, read ahead of `restore` (which needs the run).
    static func savedRunDirectory(_ state: StateDecoder) throws(AggregatorError) -> String {
        var ahead = state
        return try ahead.string()
    }

    /// A group as `encode` saved it, merging into `target` (number `run` in the caller's table).
    static func restore(
        from state: inout StateDecoder, run: Int, target: inout RunMachine, now: ContinuousClock.Instant, logger: Logger
    ) throws(AggregatorError) -> MeanMerger {
        let directory = try state.string()
        guard directory == target.directory else { throw .malformed("mean group of an unknown run \(directory)") }
        let worldSize = try state.int()
        // As a run announcement's world size is checked: the group allocates per rank.
        guard worldSize >= 1, worldSize <= HookRecord.maximumWorldSize else { throw .malformed("mean group of world size \(worldSize)") }
        var group = MeanMerger(run: run, worldSize: worldSize, logger: logger)
        let slots = try state.array { (state: inout StateDecoder) throws(AggregatorError) in target.slot(named: try state.string()) }
        try group.queues[0].decode(from: &state, slots: slots)
        _ = try state.array { (state: inout StateDecoder) throws(AggregatorError) in
            let rank = try state.int()
            guard rank > 0, rank < worldSize else { throw .malformed("queued hooks of rank \(rank) of \(worldSize)") }
            try group.queues[rank].decode(from: &state, slots: slots)
        }
        for (rank, names) in try state.array({ (state: inout StateDecoder) throws(AggregatorError) in
            (try state.int(), try state.array { (state: inout StateDecoder) throws(AggregatorError) in (try state.integer(UInt32.self), try state.string()) })
        }) {
            guard rank >= 0, rank < worldSize else { throw .malformed("metric names of rank \(rank) of \(worldSize)") }
            for (metric, name) in names { group.queues[rank].numbering.name(metric, name, slot: target.slot(named: name)) }
        }
        for rank in try state.array({ (state: inout StateDecoder) throws(AggregatorError) in try state.int() }) {
            guard rank >= 0, rank < worldSize else { throw .malformed("gone rank \(rank) of \(worldSize)") }
            group.markGone(rank)
        }
        for rank in try state.array({ (state: inout StateDecoder) throws(AggregatorError) in try state.int() }) {
            guard rank >= 0, rank < worldSize else { throw .malformed("seen rank \(rank) of \(worldSize)") }
            group.see(rank)
        }
        if try state.bool() { group.driverGoneAfter = now - MeanMerger.clockOrigin }
        return group
    }
}
