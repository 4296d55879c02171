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
    /// Rank 0's records in order: records to apply, and hooks that wait for the other ranks.
    private var driver = Queue<Item>()
    /// The other ranks' hooks, in order.
    private var pending: [Queue<Hook>]
    /// Each rank's metric names by number.
    private var names: [[UInt32: String]]
    private var gone: Set<Int> = []
    /// When rank 0 was gone while some rank had never announced itself.
    private var driverGoneAt: ContinuousClock.Instant?
    /// Ranks that announced themselves.
    private var seen: Set<Int> = []

    private enum Item {
        case record(HookRecord)
        case hook(Hook)
    }

    /// One hook of one rank, its logs by name.
    struct Hook {
        var kind: Kind
        var logs: [(String, Double)]

        enum Kind: Equatable {
            case batch(BatchPhase, isEnd: Bool, batch: Int64)
            case other(HookKind, index: Int64)
        }
    }

    init(run: RunState, worldSize: Int, logger: Logger) {
        self.run = run
        self.worldSize = worldSize
        self.logger = logger
        self.pending = Array(repeating: Queue(), count: worldSize)
        self.names = Array(repeating: [:], count: worldSize)
    }

    /// Takes one record of `rank`.
    func accept(rank: Int, _ record: HookRecord) throws(EventFileError) {
        seen.insert(rank)
        switch record {
        case .metricName(_, let metric, let name):
            names[rank][metric] = name
        case .batch(_, let phase, let isEnd, let batch, let logs):
            enqueue(rank, Hook(kind: .batch(phase, isEnd: isEnd, batch: batch), logs: named(rank, logs)))
        case .hook(_, let kind, let index, let logs):
            enqueue(rank, Hook(kind: .other(kind, index: index), logs: named(rank, logs)))
        case .runAnnouncement:
            break
        case .parameters, .model, .weightValues, .span:
            if rank == 0 { driver.append(.record(record)) }
        }
        try drain()
    }

    /// A rank's producer is gone: what it reported is still merged, then merging goes on without
    /// it. Once every rank is gone the run is finished.
    func rankGone(_ rank: Int) throws(EventFileError) {
        gone.insert(rank)
        if rank == 0 && seen.count < worldSize {
            // Rank 0 is done, but a rank may start late: give ranks that never announced
            // themselves `unseenRankGrace` to appear before merging goes on without them.
            driverGoneAt = .now
        }
        try drain()
        if gone.count == worldSize { try run.finish() }
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
        gone.formUnion(Set(0..<worldSize).subtracting(seen))
        try drain()
        if gone.count == worldSize { try run.finish() }
    }

    private func named(_ rank: Int, _ logs: [MetricValue]) -> [(String, Double)] {
        logs.compactMap { entry in names[rank][entry.metric].map { ($0, entry.value) } }
    }

    private func enqueue(_ rank: Int, _ hook: Hook) {
        if rank == 0 {
            driver.append(.hook(hook))
        } else {
            pending[rank].append(hook)
        }
    }

    /// Applies rank 0's records in order, each hook once every live rank has its counterpart.
    private func drain() throws(EventFileError) {
        while let item = driver.first {
            switch item {
            case .record(let record):
                try run.handle(record)
            case .hook(let hook):
                // A rank with nothing queued holds the step back, unless it is gone.
                for rank in 1..<worldSize where pending[rank].isEmpty && !gone.contains(rank) { return }
                var all = [hook]
                for rank in 1..<worldSize where !pending[rank].isEmpty {
                    let counterpart = pending[rank].removeFirst()!
                    if counterpart.kind != hook.kind {
                        logger.warning("ranks disagree on the hook order", metadata: [
                            "run": "\(run.directory)", "rank": "\(rank)", "rank 0": "\(hook.kind)", "this rank": "\(counterpart.kind)"])
                    }
                    all.append(counterpart)
                }
                let logs = MeanGroup.merge(all.map(\.logs))
                switch hook.kind {
                case .batch(let phase, let isEnd, let batch): try run.batchHook(phase, isEnd: isEnd, batch: batch, logs: logs)
                case .other(let kind, let index): try run.hook(kind, index: index, logs: logs)
                }
            }
            _ = driver.removeFirst()
        }
    }

    /// `merge` for the usual case, every rank reporting the same names in the same order and a
    /// `size`: position by position, without searching by name. `nil` otherwise.
    private static func mergeAligned(_ ranks: [[(String, Double)]]) -> [(String, Double)]? {
        let first = ranks[0]
        guard let sizeIndex = first.firstIndex(where: { $0.0 == "size" }),
              ranks.allSatisfy({ $0.count == first.count && $0[sizeIndex].0 == "size" })
        else { return nil }
        // A name given twice takes its first value in `merge`: leave that to it.
        guard first.count <= 16 else { return nil }
        for index in first.indices where first[..<index].contains(where: { $0.0 == first[index].0 }) { return nil }
        for logs in ranks.dropFirst() {
            for index in first.indices where logs[index].0 != first[index].0 { return nil }
        }
        var totalWeight = 0.0
        for logs in ranks { totalWeight += logs[sizeIndex].1 }
        return first.indices.map { index in
            let name = first[index].0
            if index == sizeIndex { return (name, totalWeight) }
            if name == "batch" { return (name, first[index].1) }
            var total = 0.0
            for logs in ranks { total += logs[sizeIndex].1 * logs[index].1 }
            return (name, total / totalWeight)
        }
    }

    /// One rank's logs from several: rank 0's names in its order; `size` summed (a missing size
    /// counting 1); every other value the size-weighted mean over the ranks that have it.
    static func merge(_ ranks: [[(String, Double)]]) -> [(String, Double)] {
        if let merged = mergeAligned(ranks) { return merged }
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
    func encode(into state: inout StateEncoder) {
        state.string(run.directory)
        state.int(worldSize)
        state.array(driver.elements) { state, item in
            switch item {
            case .record(let record):
                state.bool(false)
                state.record(record)
            case .hook(let hook):
                state.bool(true)
                hook.encode(into: &state)
            }
        }
        state.array(pending.indices.filter { !pending[$0].isEmpty }) { state, rank in
            state.int(rank)
            state.array(pending[rank].elements) { state, hook in hook.encode(into: &state) }
        }
        state.array(names.indices.filter { !names[$0].isEmpty }) { state, rank in
            state.int(rank)
            state.array(names[rank].sorted { $0.key < $1.key }) { state, name in
                state.integer(name.key)
                state.string(name.value)
            }
        }
        state.array(gone.sorted()) { $0.int($1) }
        state.array(seen.sorted()) { $0.int($1) }
        state.bool(driverGoneAt != nil)
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
        group.driver = Queue(try state.array { (state: inout StateDecoder) throws(AggregatorError) -> Item in
            try state.bool() ? .hook(try Hook(from: &state)) : .record(try state.record())
        })
        for (rank, hooks) in try state.array({ (state: inout StateDecoder) throws(AggregatorError) in
            (try state.int(), try state.array { (state: inout StateDecoder) throws(AggregatorError) in try Hook(from: &state) })
        }) {
            guard rank >= 0, rank < worldSize else { throw .malformed("queued hooks of rank \(rank) of \(worldSize)") }
            group.pending[rank] = Queue(hooks)
        }
        for (rank, names) in try state.array({ (state: inout StateDecoder) throws(AggregatorError) in
            (try state.int(), try state.array { (state: inout StateDecoder) throws(AggregatorError) in (try state.integer(UInt32.self), try state.string()) })
        }) {
            guard rank >= 0, rank < worldSize else { throw .malformed("metric names of rank \(rank) of \(worldSize)") }
            group.names[rank] = Dictionary(names, uniquingKeysWith: { $1 })
        }
        group.gone = Set(try state.array { (state: inout StateDecoder) throws(AggregatorError) in try state.int() })
        group.seen = Set(try state.array { (state: inout StateDecoder) throws(AggregatorError) in try state.int() })
        if try state.bool() { group.driverGoneAt = .now }
        return group
    }
}

extension MeanGroup.Hook {
    func encode(into state: inout StateEncoder) {
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
        state.array(logs) { state, entry in
            state.string(entry.0)
            state.double(entry.1)
        }
    }

    init(from state: inout StateDecoder) throws(AggregatorError) {
        let tag: UInt8 = try state.integer()
        let raw: UInt8 = try state.integer()
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
        logs = try state.array { (state: inout StateDecoder) throws(AggregatorError) in (try state.string(), try state.double()) }
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
