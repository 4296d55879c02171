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
    private var driver: [Item] = []
    /// The other ranks' hooks, in order.
    private var pending: [Int: [Hook]] = [:]
    /// Each rank's metric names by number.
    private var names: [Int: [UInt32: String]] = [:]
    private var gone: Set<Int> = []
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
    }

    /// Takes one record of `rank`.
    func accept(rank: Int, _ record: HookRecord) throws(EventFileError) {
        seen.insert(rank)
        switch record {
        case .metricName(_, let metric, let name):
            names[rank, default: [:]][metric] = name
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
        if rank == 0 {
            // Rank 0 is done: a rank that never announced itself will not contribute any more.
            gone.formUnion(Set(0..<worldSize).subtracting(seen))
        }
        try drain()
        if gone.count == worldSize { try run.finish() }
    }

    private func named(_ rank: Int, _ logs: [MetricValue]) -> [(String, Double)] {
        logs.compactMap { entry in names[rank]?[entry.metric].map { ($0, entry.value) } }
    }

    private func enqueue(_ rank: Int, _ hook: Hook) {
        if rank == 0 {
            driver.append(.hook(hook))
        } else {
            pending[rank, default: []].append(hook)
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
                let others = (1..<worldSize).filter { pending[$0]?.isEmpty == false || !gone.contains($0) }
                guard others.allSatisfy({ pending[$0]?.isEmpty == false }) else { return }
                var all = [hook]
                for rank in others {
                    let counterpart = pending[rank]!.removeFirst()
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
            driver.removeFirst()
        }
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
