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
    private var queues: [RankQueue]
    /// Each rank's metric names by number.
    private var names: [[UInt32: String]]
    /// `names` as the run's slots, for the small numbers producers use (-1: not named).
    private var metricSlots: [[Int32]]
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

    /// What a queued hook was: a batch hook or another.
    enum Kind: Equatable {
        case batch(BatchPhase, isEnd: Bool, batch: Int64)
        case other(HookKind, index: Int64)
    }

    init(run: RunState, worldSize: Int, logger: Logger) {
        self.run = run
        self.worldSize = worldSize
        self.logger = logger
        self.queues = Array(repeating: RankQueue(), count: worldSize)
        self.names = Array(repeating: [:], count: worldSize)
        self.metricSlots = Array(repeating: [], count: worldSize)
        self.gone = Array(repeating: false, count: worldSize)
        self.seen = Array(repeating: false, count: worldSize)
    }

    /// Takes one record of `rank`.
    func accept(rank: Int, _ record: HookRecord) throws(EventFileError) {
        see(rank)
        switch record {
        case .metricName(_, let metric, let name):
            setName(rank, metric, name)
        case .batch(_, let phase, let isEnd, let batch, let logs):
            queues[rank].beginHook()
            for entry in logs { appendNamed(rank, entry.metric, entry.value) }
            queues[rank].endHook(.batch(phase, isEnd: isEnd, batch: batch))
        case .hook(_, let kind, let index, let logs):
            queues[rank].beginHook()
            for entry in logs { appendNamed(rank, entry.metric, entry.value) }
            queues[rank].endHook(.other(kind, index: index))
        case .runAnnouncement:
            break
        case .parameters, .model, .weightValues, .span:
            if rank == 0 { queues[0].append(record) }
        }
        try drain()
    }

    /// Takes one batch record of `rank`: `accept(rank:_:)` without allocating.
    func accept(rank: Int, _ record: borrowing BatchRecord) throws(EventFileError) {
        see(rank)
        // The queues are worked on outside the object, without an access check per use.
        var queues = self.queues
        self.queues = []
        defer { self.queues = queues }
        let table = metricSlots[rank]
        queues[rank].beginHook()
        for index in 0..<record.count {
            let metric = record.metrics[index]
            let slot = Int(metric) < table.count ? table[Int(metric)] : names[rank][metric].map { run.slot(named: $0) } ?? -1
            if slot >= 0 { queues[rank].appendLog(slot, record.values[index]) }
        }
        queues[rank].endHook(.batch(record.phase, isEnd: record.isEnd, batch: record.batch))
        try drain(&queues)
    }

    private func setName(_ rank: Int, _ metric: UInt32, _ name: String) {
        names[rank][metric] = name
        if metric < 4096 {
            if Int(metric) >= metricSlots[rank].count {
                metricSlots[rank] += [Int32](repeating: -1, count: Int(metric) + 1 - metricSlots[rank].count)
            }
            metricSlots[rank][Int(metric)] = run.slot(named: name)
        }
    }

    private func see(_ rank: Int) {
        if !seen[rank] {
            seen[rank] = true
            seenCount += 1
        }
    }

    /// Appends metric `metric` of `rank` to the hook being queued, unless the rank never named it.
    private func appendNamed(_ rank: Int, _ metric: UInt32, _ value: Double) {
        let table = metricSlots[rank]
        let slot = Int(metric) < table.count ? table[Int(metric)] : names[rank][metric].map { run.slot(named: $0) } ?? -1
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
        var queues = self.queues
        self.queues = []
        defer { self.queues = queues }
        try drain(&queues)
    }

    private func drain(_ queues: inout [RankQueue]) throws(EventFileError) {
        while let item = queues[0].first {
            switch item {
            case .record(let record):
                try run.handle(record)
                queues[0].removeFirst()
            case .hook(let kind, _):
                // A rank with nothing queued holds the step back, unless it is gone.
                for rank in 1..<worldSize where queues[rank].isEmpty && !gone[rank] { return }
                participants.removeAll(keepingCapacity: true)
                participants.append(0)
                for rank in 1..<worldSize where !queues[rank].isEmpty {
                    if case .hook(let counterpart, _) = queues[rank].first!, counterpart != kind {
                        logger.warning("ranks disagree on the hook order", metadata: [
                            "run": "\(run.directory)", "rank": "\(rank)", "rank 0": "\(kind)", "this rank": "\(counterpart)"])
                    }
                    participants.append(rank)
                }
                var logs = merged
                merged = SlotLogs()
                logs.removeAll()
                if !mergeAligned(queues, into: &logs) {
                    logs = run.slotLogs(MeanGroup.merge(participants.map { run.namedLogs(queues[$0].firstLogs.slotLogs) }))
                }
                for rank in participants { queues[rank].removeFirst() }
                switch kind {
                case .batch(let phase, let isEnd, let batch): try run.batchHook(phase, isEnd: isEnd, batch: batch, logs: logs)
                case .other(let kind, let index): try run.hook(kind, index: index, logs: run.namedLogs(logs))
                }
                merged = logs
            }
        }
    }

    /// `merge` for the usual case, every rank reporting the same names in the same order:
    /// position by position, without searching by name. `false` otherwise.
    private func mergeAligned(_ queues: borrowing [RankQueue], into result: inout SlotLogs) -> Bool {
        let participants = self.participants
        let count = queues[0].firstCount
        guard count <= 16 else { return false }
        // A name given twice takes its first value in `merge`: leave that to it.
        for index in 0..<count {
            let slot = queues[0].firstSlot(index)
            for earlier in 0..<index where queues[0].firstSlot(earlier) == slot { return false }
        }
        for rank in participants.dropFirst() {
            guard queues[rank].firstCount == count else { return false }
            for index in 0..<count where queues[rank].firstSlot(index) != queues[0].firstSlot(index) { return false }
        }
        var sizeIndex = -1
        for index in 0..<count where run.isSize(queues[0].firstSlot(index)) {
            sizeIndex = index
            break
        }
        // Each rank's weight is its size, or 1 without one; summed in rank order, as `merge` sums.
        var totalWeight = 0.0
        for rank in participants { totalWeight += sizeIndex >= 0 ? queues[rank].firstValue(sizeIndex) : 1 }
        for index in 0..<count {
            let slot = queues[0].firstSlot(index)
            if index == sizeIndex {
                result.append(slot, totalWeight)
            } else if run.isBatch(slot) {
                result.append(slot, queues[0].firstValue(index))
            } else {
                var total = 0.0
                for rank in participants {
                    total += (sizeIndex >= 0 ? queues[rank].firstValue(sizeIndex) : 1) * queues[rank].firstValue(index)
                }
                result.append(slot, total / totalWeight)
            }
        }
        if sizeIndex < 0 && participants.count > 1 {
            // TF 2.0 counts a missing size as 1 per batch: the merged batch carries the sum.
            if sizeSlot < 0 { sizeSlot = run.slot(named: "size") }
            result.append(sizeSlot, totalWeight)
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
    /// Logs are saved by name.
    func encode(into state: inout StateEncoder) {
        state.string(run.directory)
        state.int(worldSize)
        state.array(queues[0].entries) { state, entry in
            switch entry {
            case .record(let record):
                state.bool(false)
                state.record(record)
            case .hook(let kind, let logs):
                state.bool(true)
                encodeHook(kind, logs, into: &state)
            }
        }
        state.array((1..<max(worldSize, 1)).filter { !queues[$0].isEmpty }) { state, rank in
            state.int(rank)
            state.array(queues[rank].entries) { state, entry in
                guard case .hook(let kind, let logs) = entry else { preconditionFailure("only rank 0 queues records") }
                encodeHook(kind, logs, into: &state)
            }
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

    private func encodeHook(_ kind: Kind, _ logs: RankQueue.Logs, into state: inout StateEncoder) {
        switch kind {
        case .batch(let phase, let isEnd, let batch):
            state.integer(UInt8(0))
            state.integer(phase.rawValue)
            state.bool(isEnd)
            state.integer(batch)
        case .other(let kind, let index):
            state.integer(UInt8(1))
            state.integer(kind.rawValue)
            state.integer(index)
        }
        state.array(0..<logs.count) { state, index in
            state.string(run.name(ofSlot: logs.slot(index)))
            state.double(logs.value(index))
        }
    }

    /// A group as `encode` saved it; `run` looks its run up by directory.
    static func restore(
        from state: inout StateDecoder, logger: Logger, run: (String) -> RunState?
    ) throws(AggregatorError) -> MeanGroup {
        let directory = try state.string()
        guard let target = run(directory) else { throw .malformed("mean group of an unknown run \(directory)") }
        let worldSize = try state.int()
        guard worldSize >= 1 else { throw .malformed("mean group of world size \(worldSize)") }
        let group = MeanGroup(run: target, worldSize: worldSize, logger: logger)
        _ = try state.array { (state: inout StateDecoder) throws(AggregatorError) in
            if try state.bool() {
                try group.decodeHook(rank: 0, from: &state)
            } else {
                group.queues[0].append(try state.record())
            }
        }
        _ = try state.array { (state: inout StateDecoder) throws(AggregatorError) in
            let rank = try state.int()
            guard rank >= 0, rank < worldSize else { throw .malformed("queued hooks of rank \(rank) of \(worldSize)") }
            _ = try state.array { (state: inout StateDecoder) throws(AggregatorError) in try group.decodeHook(rank: rank, from: &state) }
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

    private func decodeHook(rank: Int, from state: inout StateDecoder) throws(AggregatorError) {
        let tag: UInt8 = try state.integer()
        let raw: UInt8 = try state.integer()
        let kind: Kind
        switch tag {
        case 0:
            guard let phase = BatchPhase(rawValue: raw) else { throw .malformed("batch phase \(raw)") }
            kind = .batch(phase, isEnd: try state.bool(), batch: try state.integer())
        case 1:
            guard let hookKind = HookKind(rawValue: raw) else { throw .malformed("hook kind \(raw)") }
            kind = .other(hookKind, index: try state.integer())
        default:
            throw .malformed("hook tag \(tag)")
        }
        queues[rank].beginHook()
        _ = try state.array { (state: inout StateDecoder) throws(AggregatorError) in
            let name = try state.string()
            queues[rank].appendLog(run.slot(named: name), try state.double())
        }
        queues[rank].endHook(kind)
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
    /// Where the first queued hook's logs start.
    private var logsHead = 0
    /// Where the hook being queued (`beginHook`) starts.
    private var openedAt = 0
    /// Entries of `slots` and `values` in use (the rest is storage kept for later hooks).
    private var logsCount = 0

    enum Item {
        case record(HookRecord)
        /// A hook and how many log entries it has.
        case hook(MeanGroup.Kind, count: Int)
    }

    private struct Head {
        var kind: MeanGroup.Kind?
        var count: Int
    }

    /// A queued item with its logs.
    enum Entry {
        case record(HookRecord)
        case hook(MeanGroup.Kind, Logs)
    }

    /// One hook's logs, in the queue's storage.
    struct Logs {
        let slots: ArraySlice<Int32>
        let values: ArraySlice<Double>

        var count: Int { slots.count }
        func slot(_ index: Int) -> Int32 { slots[slots.startIndex + index] }
        func value(_ index: Int) -> Double { values[values.startIndex + index] }

        /// A copy in storage of its own.
        var slotLogs: SlotLogs {
            var logs = SlotLogs()
            for index in 0..<count { logs.append(slot(index), value(index)) }
            return logs
        }
    }

    var isEmpty: Bool { items.isEmpty }
    var first: Item? {
        guard let head = items.first else { return nil }
        guard let kind = head.kind else { return .record(records.first!) }
        return .hook(kind, count: head.count)
    }

    /// Log entries of the first item (0 for a record).
    var firstCount: Int { items.first?.count ?? 0 }

    /// Entry `index` of the first item's logs.
    func firstSlot(_ index: Int) -> Int32 { slots[logsHead + index] }
    func firstValue(_ index: Int) -> Double { values[logsHead + index] }

    /// The logs of the first item (empty when it is a record).
    var firstLogs: Logs {
        let count = firstCount
        return Logs(slots: slots[logsHead..<(logsHead + count)], values: values[logsHead..<(logsHead + count)])
    }

    /// The queued items, oldest first, with their logs.
    var entries: [Entry] {
        var offset = logsHead
        var records = self.records.elements.makeIterator()
        return items.elements.map { head in
            guard let kind = head.kind else { return .record(records.next()!) }
            defer { offset += head.count }
            return .hook(kind, Logs(slots: slots[offset..<(offset + head.count)], values: values[offset..<(offset + head.count)]))
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

    mutating func endHook(_ kind: MeanGroup.Kind) {
        items.append(Head(kind: kind, count: logsCount - openedAt))
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
