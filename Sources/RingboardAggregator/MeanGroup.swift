import Logging
import RingboardFormat
import RingboardRecords

/// The ranks of one `.mean` run (DESIGN §3): the run's state machine sees one merged hook per
/// step, formed once every live rank has reported that step. `size` is the sum of the ranks'
/// sizes (a missing size counts 1), every other metric the size-weighted mean (equal weights
/// where there is no size). Everything else (the model, weights, parameters, spans) comes from
/// rank 0, in rank 0's order, so a histogram always sees the weights of its own epoch.
///
/// - Warning: Not thread-safe; the aggregator's thread owns it.
final class MeanGroup {
    let run: RunState
    let worldSize: Int
    private let logger: Logger
    /// Each rank's queue: rank 0's records in order (records to apply, and hooks that wait for
    /// the other ranks); the other ranks' hooks, in order.
    private let queues: FixedStorage<RankQueue>
    /// Each rank's metric names by number.
    private var names: [[UInt32: String]]
    private var gone: [Bool]
    private var goneCount = 0
    /// Ranks that announced themselves.
    private var seen: [Bool]
    private var seenCount = 0
    /// When rank 0 was gone while some rank had never announced itself.
    private var driverGoneAt: ContinuousClock.Instant?
    /// Storage reused step after step.
    private var merged = SlotLogs()
    private var participants: [Int] = []
    /// The run's slot of `size`, once needed.
    private var sizeSlot: Int32 = -1
    /// The slots of the last hooks `mergeAligned` merged, and what it worked out for them.
    private var layout = AlignedLayout()
    /// Records were queued since the last drain, and how many.
    private var queued = false
    private var queuedSinceDrain = 0

    /// What a queued hook was: a batch hook or another.
    enum Kind: Equatable {
        case batch(BatchPhase, isEnd: Bool, batch: Int64)
        case other(HookKind, index: Int64)
    }

    init(run: RunState, worldSize: Int, logger: Logger) {
        self.run = run
        self.worldSize = worldSize
        self.logger = logger
        self.queues = FixedStorage(repeating: RankQueue(), count: worldSize)
        self.names = Array(repeating: [:], count: worldSize)
        self.gone = Array(repeating: false, count: worldSize)
        self.seen = Array(repeating: false, count: worldSize)
    }

    /// Takes one record of `rank`.
    func accept(rank: Int, _ record: HookRecord) throws(EventFileError) {
        see(rank)
        switch record {
        case .metricName(_, let metric, let name):
            setName(rank, metric, name)
        case .batch(_, let phase, let isEnd, let batch, let logs, let wallTime):
            queues[rank].beginHook()
            for entry in logs { appendNamed(rank, entry.metric, entry.value) }
            queues[rank].endHook(.batch(phase, isEnd: isEnd, batch: batch), wallTime: wallTime)
        case .hook(_, let kind, let index, let logs, let wallTime):
            queues[rank].beginHook()
            for entry in logs { appendNamed(rank, entry.metric, entry.value) }
            queues[rank].endHook(.other(kind, index: index), wallTime: wallTime)
        case .runAnnouncement:
            break
        case .parameters, .model, .weightValues, .span:
            if rank == 0 { queues[0].append(record) }
        }
        try drain()
    }

    /// Queues one batch record of `rank`, as `accept(rank:_:)` takes it but without allocating,
    /// and leaves the merging to `drainQueued()`, so that many records are merged in one go.
    ///
    /// - Returns: Whether the group had nothing waiting for `drainQueued()` before.
    func queue(rank: Int, _ record: borrowing BatchRecord) -> Bool {
        if seenCount < worldSize { see(rank) }
        if !queues[rank].appendHook(record) {
            // A number outside the table (never named, or too large for it): looked up by name.
            queues[rank].beginHook()
            for index in 0..<record.count { appendNamed(rank, record.metrics[index], record.values[index]) }
            queues[rank].endHook(.batch(record.phase, isEnd: record.isEnd, batch: record.batch), wallTime: record.wallTime)
        }
        queuedSinceDrain += 1
        defer { queued = true }
        return !queued
    }

    /// `queue(rank:_:)` has queued enough since the last drain that the caller should drain now
    /// rather than at the end of its poll (a spill segment delivers many thousands of records at
    /// once; merged in slices, the steps reach their files, and the encoding thread, sooner).
    var shouldDrain: Bool { queuedSinceDrain >= MeanGroup.drainSlice }
    static let drainSlice = 4096

    /// Merges what `queue(rank:_:)` queued, as far as every live rank has reported.
    func drainQueued() throws(EventFileError) {
        try drain()
    }

    private func setName(_ rank: Int, _ metric: UInt32, _ name: String) {
        names[rank][metric] = name
        if metric < 4096 { queues[rank].setSlot(run.slot(named: name), ofMetric: metric) }
    }

    private func see(_ rank: Int) {
        if !seen[rank] {
            seen[rank] = true
            seenCount += 1
        }
    }

    /// Appends metric `metric` of `rank` to the hook being queued, unless the rank never named it.
    private func appendNamed(_ rank: Int, _ metric: UInt32, _ value: Double) {
        let slot = queues[rank].slot(ofMetric: metric) ?? names[rank][metric].map { run.slot(named: $0) } ?? -1
        if slot >= 0 { queues[rank].appendLog(slot, value) }
    }

    /// A rank's producer is gone: what it reported is still merged, then merging goes on without
    /// it. Once every rank is gone the run is finished.
    func rankGone(_ rank: Int) throws(EventFileError) {
        markGone(rank)
        if rank == 0 && seenCount < worldSize {
            // Rank 0 is done, but a rank may start late: give ranks that never announced
            // themselves `unseenRankGrace` to appear before merging goes on without them.
            driverGoneAt = .now
        }
        try drain()
        if goneCount == worldSize { try run.finish() }
    }

    private func markGone(_ rank: Int) {
        if !gone[rank] {
            gone[rank] = true
            goneCount += 1
        }
    }

    /// How long after rank 0 is gone a rank that never announced itself is still waited for.
    static let unseenRankGrace: Duration = .seconds(5)

    /// Whether ranks that never appeared are still waited for (see `expireUnseenRanks`).
    var waitsForUnseenRanks: Bool { driverGoneAt != nil }

    /// Once `unseenRankGrace` has passed since rank 0 was gone, ranks that never announced
    /// themselves count as gone, and the group merges (and finishes) without them.
    ///
    /// - Parameter now: Stop waiting now (the aggregator is shutting down).
    func expireUnseenRanks(now: Bool = false) throws(EventFileError) {
        guard let since = driverGoneAt, now || ContinuousClock.now - since >= MeanGroup.unseenRankGrace else { return }
        driverGoneAt = nil
        for rank in 0..<worldSize where !seen[rank] { markGone(rank) }
        try drain()
        if goneCount == worldSize { try run.finish() }
    }

    /// Applies rank 0's records in order, each hook once every live rank has its counterpart.
    private func drain() throws(EventFileError) {
        queued = false
        queuedSinceDrain = 0
        try drain(queues)
    }

    private func drain(_ queues: FixedStorage<RankQueue>) throws(EventFileError) {
        // Step after step, the group's storage is worked on in locals, not through the object.
        var participants = self.participants
        var logs = merged
        var layout = self.layout
        self.participants = []
        merged = SlotLogs()
        self.layout = AlignedLayout()
        defer {
            self.participants = participants
            merged = logs
            self.layout = layout
        }
        let gone = self.gone
        while !queues[0].isEmpty {
            guard let kind = queues[0].firstKind else {
                try run.handle(queues[0].firstRecord!)
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
                        "run": "\(run.directory)", "rank": "\(rank)", "rank 0": "\(kind)", "this rank": "\(counterpart)"])
                }
                participants.append(rank)
            }
            if !mergeAligned(queues, participants, &layout, into: &logs) {
                logs = run.slotLogs(MeanGroup.merge(participants.map { run.namedLogs(queues[$0].firstLogs.slotLogs) }))
            }
            // The merged hook fired when its last rank's did.
            var wallTime = Int64.min
            for rank in participants {
                wallTime = max(wallTime, queues[rank].firstWallTime)
                queues[rank].removeFirst()
            }
            let seconds = HookClock.seconds(wallTime)
            switch kind {
            case .batch(let phase, let isEnd, let batch): try run.batchHook(phase, isEnd: isEnd, batch: batch, logs: logs, wallTime: seconds)
            case .other(let kind, let index): try run.hook(kind, index: index, logs: run.namedLogs(logs), wallTime: seconds)
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

    /// `merge` for the usual case, every rank reporting the same names in the same order:
    /// position by position, without searching by name. `false` otherwise.
    private func mergeAligned(
        _ queues: FixedStorage<RankQueue>, _ participants: [Int], _ layout: inout AlignedLayout, into result: inout SlotLogs
    ) -> Bool {
        let count = queues[0].firstCount
        guard count <= 16 else { return false }
        if !queues[0].firstSlotsEqual(layout.slots) {
            layout.slots = (0..<count).map { queues[0].firstSlot($0) }
            // A name given twice takes its first value in `merge`: leave that to it.
            layout.distinct = Set(layout.slots).count == count
            layout.sizeIndex = layout.slots.firstIndex { run.isSize($0) } ?? -1
            layout.isBatch = layout.slots.map { run.isBatch($0) }
            layout.merged = []
        }
        guard layout.distinct else { return false }
        for position in 1..<participants.count where !queues[participants[position]].firstSlotsEqual(layout.slots) { return false }
        let sizeIndex = layout.sizeIndex
        // TF 2.0 counts a missing size as 1 per batch: the merged batch carries the sum.
        let addsSize = sizeIndex < 0 && participants.count > 1
        if layout.merged.count != count + (addsSize ? 1 : 0) {
            if addsSize && sizeSlot < 0 { sizeSlot = run.slot(named: "size") }
            layout.merged = layout.slots + (addsSize ? [sizeSlot] : [])
        }
        if result.slots != layout.merged { result = SlotLogs(slots: layout.merged, values: Array(repeating: 0, count: layout.merged.count)) }
        // Each rank's weight is its size, or 1 without one; summed in rank order, as `merge` sums.
        var totalWeight = 0.0
        for rank in participants { totalWeight += sizeIndex >= 0 ? queues[rank].firstValue(sizeIndex) : 1 }
        result.withValues { values in
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
        return true
    }

    /// One rank's logs from several: rank 0's names in its order; `size` summed (a missing size
    /// counting 1); every other value the size-weighted mean over the ranks that have it.
    static func merge(_ ranks: [[(String, Double)]]) -> [(String, Double)] {
        let weights = ranks.map { logs in logs.first { $0.0 == "size" }?.1 ?? 1 }
        var merged: [(String, Double)] = []
        for (name, _) in ranks[0] {
            if name == "size" {
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
        if !ranks[0].contains(where: { $0.0 == "size" }) && ranks.count > 1 {
            // TF 2.0 counts a missing size as 1 per batch: the merged batch carries the sum.
            merged.append(("size", weights.reduce(0, +)))
        }
        return merged
    }
}

// MARK: Checkpoint

extension MeanGroup {
    /// What the group holds back: rank 0's queue, the other ranks' hooks, names and liveness.
    /// Queued logs are saved as slots, with the run's slot names to read them by.
    func encode(into state: inout StateEncoder) {
        state.string(run.directory)
        state.int(worldSize)
        state.array(0..<run.slotCount) { state, slot in state.string(run.name(ofSlot: Int32(slot))) }
        queues[0].encode(into: &state)
        state.array((1..<max(worldSize, 1)).filter { !queues[$0].isEmpty }) { state, rank in
            state.int(rank)
            queues[rank].encode(into: &state)
        }
        state.array(names.indices.filter { !names[$0].isEmpty }) { state, rank in
            state.int(rank)
            state.array(names[rank].sorted { $0.key < $1.key }) { state, name in
                state.integer(name.key)
                state.string(name.value)
            }
        }
        state.array(gone.indices.filter { gone[$0] }) { $0.int($1) }
        state.array(seen.indices.filter { seen[$0] }) { $0.int($1) }
        state.bool(driverGoneAt != nil)
    }

    /// A group as `encode` saved it; `run` looks its run up by directory.
    static func restore(
        from state: inout StateDecoder, logger: Logger, run: (String) -> RunState?
    ) throws(AggregatorError) -> MeanGroup {
        let directory = try state.string()
        guard let target = run(directory) else { throw .malformed("mean group of an unknown run \(directory)") }
        let worldSize = try state.int()
        // As a run announcement's world size is checked: the group allocates per rank.
        guard worldSize >= 1, worldSize <= HookRecord.maximumWorldSize else { throw .malformed("mean group of world size \(worldSize)") }
        let group = MeanGroup(run: target, worldSize: worldSize, logger: logger)
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
            for (metric, name) in names { group.setName(rank, metric, name) }
        }
        for rank in try state.array({ (state: inout StateDecoder) throws(AggregatorError) in try state.int() }) {
            guard rank >= 0, rank < worldSize else { throw .malformed("gone rank \(rank) of \(worldSize)") }
            group.markGone(rank)
        }
        for rank in try state.array({ (state: inout StateDecoder) throws(AggregatorError) in try state.int() }) {
            guard rank >= 0, rank < worldSize else { throw .malformed("seen rank \(rank) of \(worldSize)") }
            group.see(rank)
        }
        if try state.bool() { group.driverGoneAt = .now }
        return group
    }
}

/// One rank's queue: records and hooks in order, the hooks' logs one after another in shared
/// storage, so queueing a hook allocates nothing once the storage has grown.
struct RankQueue {
    /// The items in order: a hook's kind and log count, or `nil` for the next of `records`
    /// (kept apart, so that looking at the first item copies no record).
    private var items = Queue<Head>()
    private var records = Queue<HookRecord>()
    private var slots: [Int32] = []
    private var values: [Double] = []
    /// The rank's metric numbers as the run's slots (-1: not named).
    private var table: [Int32] = []
    /// Where the first queued hook's logs start.
    private var logsHead = 0
    /// Where the hook being queued (`beginHook`) starts.
    private var openedAt = 0
    /// Entries of `slots` and `values` in use (the rest is storage kept for later hooks).
    private var logsCount = 0

    private struct Head {
        var kind: MeanGroup.Kind?
        var count: Int
        /// When the hook fired, in nanoseconds since the Unix epoch (0 for a record).
        var wallTime: Int64 = 0
    }

    /// One hook's logs, in the queue's storage.
    struct Logs {
        let slots: ArraySlice<Int32>
        let values: ArraySlice<Double>

        /// A copy in storage of its own.
        var slotLogs: SlotLogs { SlotLogs(slots: Array(slots), values: Array(values)) }
    }

    var isEmpty: Bool { items.isEmpty }
    /// The first item's kind when it is a hook.
    var firstKind: MeanGroup.Kind? { items.first?.kind }
    /// The first item when it is a record.
    var firstRecord: HookRecord? { items.first.flatMap { $0.kind == nil ? records.first : nil } }

    /// Whether the first item's log slots are `slots`.
    func firstSlotsEqual(_ expected: borrowing [Int32]) -> Bool {
        guard firstCount == expected.count else { return false }
        for index in 0..<expected.count where slots[logsHead + index] != expected[index] { return false }
        return true
    }

    /// The slot of metric number `metric`, when it is in the table (`nil`: look it up by name).
    func slot(ofMetric metric: UInt32) -> Int32? {
        Int(metric) < table.count ? table[Int(metric)] : nil
    }

    mutating func setSlot(_ slot: Int32, ofMetric metric: UInt32) {
        if Int(metric) >= table.count { table += [Int32](repeating: -1, count: Int(metric) + 1 - table.count) }
        table[Int(metric)] = slot
    }

    /// Log entries of the first item (0 for a record).
    var firstCount: Int { items.first?.count ?? 0 }
    /// When the first item, a hook, fired.
    var firstWallTime: Int64 { items.first?.wallTime ?? 0 }

    /// Entry `index` of the first item's logs.
    func firstSlot(_ index: Int) -> Int32 { slots[logsHead + index] }
    func firstValue(_ index: Int) -> Double { values[logsHead + index] }

    /// The logs of the first item (empty when it is a record).
    var firstLogs: Logs {
        let count = firstCount
        return Logs(slots: slots[logsHead..<(logsHead + count)], values: values[logsHead..<(logsHead + count)])
    }

    /// The queue in checkpoint form, column by column: each item's tag (0 and 1: a batch or
    /// other hook, as `MeanGroup.encode(_:into:)` tags them; 2: a record), its kind's raw value,
    /// `isEnd`, batch or index, log count and wall time; then the records; then the hooks' logs,
    /// their slots as the run numbers them.
    func encode(into state: inout StateEncoder) {
        let count = items.elements.count
        var tags: [UInt8] = [], raws: [UInt8] = [], ends: [UInt8] = [], indices: [Int64] = [], counts: [Int32] = []
        var wallTimes: [Int64] = []
        wallTimes.reserveCapacity(count)
        tags.reserveCapacity(count)
        raws.reserveCapacity(count)
        ends.reserveCapacity(count)
        indices.reserveCapacity(count)
        counts.reserveCapacity(count)
        for head in items.elements {
            switch head.kind {
            case .batch(let phase, let isEnd, let batch)?:
                tags.append(0)
                raws.append(phase.rawValue)
                ends.append(isEnd ? 1 : 0)
                indices.append(batch)
            case .other(let kind, let index)?:
                tags.append(1)
                raws.append(kind.rawValue)
                ends.append(0)
                indices.append(index)
            case nil:
                tags.append(2)
                raws.append(0)
                ends.append(0)
                indices.append(0)
            }
            counts.append(Int32(head.count))
            wallTimes.append(head.wallTime)
        }
        state.values(tags[...])
        state.values(raws[...])
        state.values(ends[...])
        state.values(indices[...])
        state.values(counts[...])
        state.values(wallTimes[...])
        state.array(records.elements) { $0.record($1) }
        state.values(slots[logsHead..<logsCount])
        state.values(values[logsHead..<logsCount])
    }

    /// Appends what `encode` saved, `slots` giving the run's slot for each saved one.
    mutating func decode(from state: inout StateDecoder, slots table: [Int32]) throws(AggregatorError) {
        let tags: [UInt8] = try state.values(), raws: [UInt8] = try state.values(), ends: [UInt8] = try state.values()
        let indices: [Int64] = try state.values(), counts: [Int32] = try state.values()
        let wallTimes: [Int64] = try state.values()
        let queuedRecords = try state.array { (state: inout StateDecoder) throws(AggregatorError) in try state.record() }
        let savedSlots: [Int32] = try state.values(), savedValues: [Double] = try state.values()
        let count = tags.count
        guard raws.count == count, ends.count == count, indices.count == count, counts.count == count, wallTimes.count == count,
              queuedRecords.count == tags.count(where: { $0 == 2 }),
              savedSlots.count == savedValues.count,
              savedSlots.count == counts.reduce(0, { $0 + max(Int($1), 0) }) else {
            throw .malformed("queued hooks do not match their logs")
        }
        var next = 0, record = 0
        for item in 0..<count {
            let kind: MeanGroup.Kind
            switch tags[item] {
            case 0:
                guard let phase = BatchPhase(rawValue: raws[item]) else { throw .malformed("batch phase \(raws[item])") }
                kind = .batch(phase, isEnd: ends[item] != 0, batch: indices[item])
            case 1:
                guard let hookKind = HookKind(rawValue: raws[item]) else { throw .malformed("hook kind \(raws[item])") }
                kind = .other(hookKind, index: indices[item])
            case 2:
                append(queuedRecords[record])
                record += 1
                continue
            default:
                throw .malformed("queued item tag \(tags[item])")
            }
            guard counts[item] >= 0 else { throw .malformed("a hook of \(counts[item]) logs") }
            beginHook()
            for index in next..<(next + Int(counts[item])) {
                let saved = savedSlots[index]
                guard saved >= 0, Int(saved) < table.count else { throw .malformed("queued log of slot \(saved)") }
                appendLog(table[Int(saved)], savedValues[index])
            }
            next += Int(counts[item])
            endHook(kind, wallTime: wallTimes[item])
        }
    }

    mutating func append(_ record: HookRecord) {
        items.append(Head(kind: nil, count: 0))
        records.append(record)
    }

    /// Starts queueing a hook: its logs follow (`appendLog`), then `endHook`.
    mutating func beginHook() {
        openedAt = logsCount
    }

    mutating func appendLog(_ slot: Int32, _ value: Double) {
        if logsCount < slots.count {
            slots[logsCount] = slot
            values[logsCount] = value
        } else {
            slots.append(slot)
            values.append(value)
        }
        logsCount += 1
    }

    /// Queues a batch hook, its metric numbers mapped by the table (a slot of -1, a metric
    /// never named, is left out). `false`, queueing nothing, when a number is outside the table.
    mutating func appendHook(_ record: borrowing BatchRecord) -> Bool {
        let count = record.count
        for index in 0..<count where Int(record.metrics[index]) >= table.count { return false }
        if logsCount + count > slots.count {
            // Grown by half at a time, not a hook's worth: a rank running ahead queues thousands.
            let grown = max(logsCount + count, slots.count + slots.count / 2, 64)
            slots.append(contentsOf: repeatElement(0, count: grown - slots.count))
            values.append(contentsOf: repeatElement(0, count: grown - values.count))
        }
        var end = logsCount
        slots.withUnsafeMutableBufferPointer { slots in
            values.withUnsafeMutableBufferPointer { values in
                for index in 0..<count {
                    let slot = table[Int(record.metrics[index])]
                    guard slot >= 0 else { continue }
                    slots[end] = slot
                    values[end] = record.values[index]
                    end += 1
                }
            }
        }
        items.append(Head(kind: .batch(record.phase, isEnd: record.isEnd, batch: record.batch), count: end - logsCount,
                          wallTime: record.wallTime))
        logsCount = end
        return true
    }

    mutating func endHook(_ kind: MeanGroup.Kind, wallTime: Int64) {
        items.append(Head(kind: kind, count: logsCount - openedAt, wallTime: wallTime))
    }

    mutating func removeFirst() {
        guard let head = items.removeFirst() else { return }
        if head.kind == nil {
            _ = records.removeFirst()
        } else {
            logsHead += head.count
        }
        if items.isEmpty {
            logsCount = 0
            logsHead = 0
        } else if logsHead >= 4096 && logsHead * 2 >= logsCount {
            slots.removeFirst(logsHead)
            values.removeFirst(logsHead)
            logsCount -= logsHead
            logsHead = 0
        }
    }
}

/// A first-in, first-out queue whose `removeFirst` does not move the rest (a rank that runs ahead
/// can queue many thousands of hooks).
struct Queue<Element> {
    private var storage: [Element] = []
    private var head = 0

    init(_ elements: [Element] = []) {
        storage = elements
    }

    var isEmpty: Bool { head == storage.count }
    var first: Element? { isEmpty ? nil : storage[head] }
    /// The queued elements, oldest first.
    var elements: ArraySlice<Element> { storage[head...] }

    mutating func append(_ element: Element) {
        storage.append(element)
    }

    mutating func removeFirst() -> Element? {
        guard !isEmpty else { return nil }
        let element = storage[head]
        head += 1
        if head == storage.count {
            storage.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 4096 && head * 2 >= storage.count {
            storage.removeFirst(head)
            head = 0
        }
        return element
    }
}
