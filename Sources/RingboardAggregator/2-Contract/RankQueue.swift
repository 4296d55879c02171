import RingboardRecords

/// One rank's queue: records and hooks in order, the hooks' logs one after another in shared
/// storage, so queueing a hook allocates nothing once the storage has grown.
struct RankQueue {
    /// The items in order: a hook's kind and log count, or `nil` for the next of `records`
    /// (kept apart, so that looking at the first item copies no record).
    private var items = Queue<Head>()
    private var records = Queue<HookRecord>()
    private var slots: [Int32] = []
    private var values: [Double] = []
    /// The rank's metric numbers, as the run's slots.
    var numbering = MetricNumbering()
    /// Where the first queued hook's logs start.
    private var logsHead = 0
    /// Where the hook being queued (`beginHook`) starts.
    private var openedAt = 0
    /// Entries of `slots` and `values` in use (the rest is storage kept for later hooks).
    private var logsCount = 0

    private struct Head {
        var kind: MeanMerger.Kind?
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
    var firstKind: MeanMerger.Kind? { items.first?.kind }
    /// The first item when it is a record.
    var firstRecord: HookRecord? { items.first.flatMap { $0.kind == nil ? records.first : nil } }

    /// Whether the first item's log slots are `slots`.
    func firstSlotsEqual(_ expected: borrowing [Int32]) -> Bool {
        guard firstCount == expected.count else { return false }
        for index in 0..<expected.count where slots[logsHead + index] != expected[index] { return false }
        return true
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
    /// other hook, as `MeanMerger.encode` tags them; 2: a record), its kind's raw value,
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
            let kind: MeanMerger.Kind
            switch tags[item] {
            case 0:
                guard let phase = BatchPhase(rawValue: raws[item]) else { throw .malformed("batch phase \(raws[item])") }
                kind = .batch(phase, isEnd: ends[item] != 0, batch: indices[item])
            case 1:
                guard let hookKind = HookKind(rawValue: raws[item]) else { throw .malformed("hook kind \(raws[item])") }
                kind = .other(hookKind, index: indices[item])
            case 2:
                // Only rank 0's records other than hooks are queued as records.
                if case .batch = queuedRecords[record] { throw .malformed("a batch hook queued as a record") }
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
        if logsCount == slots.count { makeRoom(for: 1) }
        slots[logsCount] = slot
        values[logsCount] = value
        logsCount += 1
    }

    /// Queues a batch hook, its metric numbers mapped to the run's slots by `numbering` (a
    /// metric never named is left out).
    mutating func appendHook(_ record: borrowing BatchRecord) {
        let count = record.count
        if logsCount + count > slots.count { makeRoom(for: count) }
        var end = logsCount
        if record.metrics == numbering.lastMetrics {
            let start = logsCount
            slots.withUnsafeMutableBufferPointer { slots in
                numbering.lastSlots.withUnsafeBufferPointer { lastSlots in
                    for index in 0..<count { slots[start + index] = lastSlots[index] }
                }
            }
            values.withUnsafeMutableBufferPointer { values in
                record.values.withUnsafeBufferPointer { recorded in
                    for index in 0..<count { values[start + index] = recorded[index] }
                }
            }
            end += count
        } else {
            for index in 0..<count {
                let slot = numbering.slot(of: record.metrics[index])
                guard slot >= 0 else { continue }
                slots[end] = slot
                values[end] = record.values[index]
                end += 1
            }
            if end - logsCount == count { numbering.remember(record.metrics, slots: Array(slots[logsCount..<end])) }
        }
        items.append(Head(kind: .batch(record.phase, isEnd: record.isEnd, batch: record.batch), count: end - logsCount,
                          wallTime: record.wallTime))
        logsCount = end
    }

    /// Room for `count` more log entries: the entries of removed hooks are reclaimed first, by
    /// moving the queued ones to the front, and the storage grows only when that is not enough.
    private mutating func makeRoom(for count: Int) {
        if logsHead > 0 {
            let live = logsHead..<logsCount
            slots.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: $0.baseAddress! + live.lowerBound, count: live.count) }
            values.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: $0.baseAddress! + live.lowerBound, count: live.count) }
            (logsHead, logsCount, openedAt) = (0, logsCount - live.lowerBound, openedAt - live.lowerBound)
        }
        guard logsCount + count > slots.count else { return }
        // Grown by half at a time, not a hook's worth: a rank running ahead queues thousands.
        let grown = max(logsCount + count, slots.count + slots.count / 2, 64)
        slots.append(contentsOf: repeatElement(0, count: grown - slots.count))
        values.append(contentsOf: repeatElement(0, count: grown - values.count))
    }

    mutating func endHook(_ kind: MeanMerger.Kind, wallTime: Int64) {
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
            openedAt = 0
        }
    }
}
