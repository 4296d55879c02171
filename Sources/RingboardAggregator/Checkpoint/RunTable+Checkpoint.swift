import Logging
import RingboardFormat
import RingboardRecords

extension RunTable {
    /// The unfinished runs, by directory.
    var liveRuns: [Int] {
        runs.indices.filter { !runs[$0].finished }.sorted { runs[$0].directory < runs[$1].directory }
    }

    /// Saves every unfinished run (its model named by `modelFile`), `.mean` group and route.
    /// Event files must be flushed first.
    func encode(into state: inout StateEncoder, modelFile: (RunMachine) throws(AggregatorError) -> String?) throws(AggregatorError) {
        let live = liveRuns
        var modelFiles: [String?] = []
        for run in live { modelFiles.append(try modelFile(runs[run])) }
        state.array(Array(zip(live, modelFiles))) { state, entry in runs[entry.0].encode(into: &state, modelFile: entry.1) }
        let liveGroups = groups.indices.filter { !runs[groups[$0].run].finished }.sorted { runs[groups[$0].run].directory < runs[groups[$1].run].directory }
        state.array(liveGroups) { state, group in groups[group].encode(into: &state, run: runs[groups[group].run]) }
        state.array(routes.sorted { $0.key < $1.key }) { state, ring in
            state.string(ring.key)
            state.array(ring.value.sorted { $0.key < $1.key }) { state, entry in
                state.integer(entry.key)
                switch entry.value {
                case .run(let run) where !runs[run].finished:
                    state.integer(UInt8(1))
                    state.string(runs[run].directory)
                case .mean(let group, let rank) where !runs[groups[group].run].finished:
                    state.integer(UInt8(2))
                    state.string(runs[groups[group].run].directory)
                    state.int(rank)
                default:
                    state.integer(UInt8(0))  // a finished run ignores its records
                }
            }
        }
        // Last, so that a state saved before `SummaryWriter` runs reads as one without them.
        let writerRuns = live.filter { !runs[$0].writerSlots.isEmpty || runs[$0].means != nil }
        state.array(writerRuns) { state, run in
            state.string(runs[run].directory)
            runs[run].encodeWriters(into: &state)
        }
    }

    /// Restores what `encode` saved into this empty table: the runs (their event files cut back
    /// to the saved lengths), groups and routes.
    ///
    /// - Parameters:
    ///   - now: The time, for a group that was waiting for ranks never seen (it waits afresh).
    ///   - loadModel: Reads a model file the state names.
    ///   - restored: Told each run restored and the model file it was restored from.
    /// - Returns: The number of runs restored.
    mutating func restore(
        from state: inout StateDecoder, now: ContinuousClock.Instant, logger: Logger,
        loadModel: (String) throws(AggregatorError) -> RunModel,
        restored: (RunMachine, String?) -> Void
    ) throws(AggregatorError) -> Int {
        precondition(runs.isEmpty, "restored into a table in use")
        let runCount = try state.count()
        for _ in 0..<runCount {
            var modelFile: String?
            let run = try RunMachine.restore(
                from: &state, logRoot: logRoot, summaries: summaries, fileCreated: fileCreated,
                loadModel: { (name: String) throws(AggregatorError) -> RunModel in
                    modelFile = name
                    return try loadModel(name)
                })
            if runByDirectory[run.directory] != nil { throw .malformed("run \(run.directory) saved twice") }
            runs.append(run)
            runByDirectory[run.directory] = runs.count - 1
            restored(run, modelFile)
        }
        let groupCount = try state.count()
        for _ in 0..<groupCount {
            let directory = try MeanMerger.savedRunDirectory(state)
            guard let run = runByDirectory[directory] else { throw .malformed("mean group of an unknown run \(directory)") }
            guard groupByDirectory[directory] == nil else { throw .malformed("mean group of run \(directory) saved twice") }
            groups.append(try MeanMerger.restore(from: &state, run: run, target: &runs[run], now: now, logger: logger))
            groupByDirectory[directory] = groups.count - 1
        }
        let savedRoutes = try state.array { (state: inout StateDecoder) throws(AggregatorError) in
            (try state.string(), try state.array { (state: inout StateDecoder) throws(AggregatorError) -> (UInt32, Route) in
                let number: UInt32 = try state.integer()
                let tag: UInt8 = try state.integer()
                switch tag {
                case 0: return (number, .ignored)
                case 1:
                    let directory = try state.string()
                    guard let run = runByDirectory[directory] else { throw .malformed("route to an unknown run \(directory)") }
                    return (number, .run(run))
                case 2:
                    let directory = try state.string()
                    let rank = try state.int()
                    guard let group = groupByDirectory[directory], rank >= 0, rank < groups[group].worldSize else {
                        throw .malformed("route to an unknown mean group \(directory)")
                    }
                    return (number, .mean(group: group, rank: rank))
                default:
                    throw .malformed("route tag \(tag)")
                }
            })
        }
        for (ring, entries) in savedRoutes { routes[ring] = Dictionary(entries, uniquingKeysWith: { $1 }) }
        if !state.isAtEnd {
            for _ in 0..<(try state.count()) {
                let directory = try state.string()
                guard let run = runByDirectory[directory] else { throw .malformed("SummaryWriter names of an unknown run \(directory)") }
                try runs[run].restoreWriters(from: &state)
            }
        }
        return runCount
    }
}
