import Logging
import RingboardRing

extension Aggregator {
    /// What each ring's own checkpoint holds: the generation of the aggregator state that
    /// covers its committed position.
    static func ringCheckpoint(_ generation: Int64) -> [UInt8] {
        withUnsafeBytes(of: generation.littleEndian) { Array($0) }
    }

    /// Saves every unfinished run, `.mean` group and route with each ring's read position.
    /// Event files must be flushed first.
    func saveCheckpoint() throws(AggregatorError) {
        var state = StateEncoder()
        state.integer(checkpoints.nextGeneration)
        state.optionalString(logRoot)
        state.array(consumer.sources) { state, source in
            let reader = consumer.reader(named: source.name)
            state.string(source.name)
            state.integer(reader?.readPosition ?? 0)
            state.integer(reader?.spillSegmentsDelivered ?? 0)
            state.integer(decoder.segments.highestNamed[source.name] ?? -1)
        }
        try table.encode(into: &state) { [checkpoints] (run: RunMachine) throws(AggregatorError) -> String? in
            try checkpoints.modelFile(for: run.directory, model: run.model, version: run.modelVersion)
        }
        let live = table.liveRuns
        try checkpoints.save(state, liveRuns: Set(live.map { table.runs[$0].directory }))
        // Only once the new state is in place: until then a restart resumes from the previous
        // one, whose segments are all still there.
        let named = live.reduce(into: Set<String>()) { names, run in names.formUnion(table.runs[run].model?.segmentFileNames ?? []) }
        for name in decoder.segments.removeUnneeded(keeping: named) {
            logger.debug("weight segment removed: no checkpoint names it, and no record still to be read can", metadata: ["segment": "\(name)"])
        }
    }

    /// Restores the runs, groups and routes of the checkpoint in the ring directory, cuts their
    /// event files back, removes files created after it, and moves each ring to its position.
    func resume() throws(AggregatorError) {
        try checkpoints.inFile(checkpoints.statePath) { () throws(AggregatorError) in try resumeFromState() }
    }

    private func resumeFromState() throws(AggregatorError) {
        guard var state = try checkpoints.loadState() else {
            _ = checkpoints.recover(generation: 0, modelFilesInUse: [])
            return
        }
        let generation: Int64 = try state.integer()
        let savedRoot = try state.optionalString()
        let savedRings = try state.array { (state: inout StateDecoder) throws(AggregatorError) in
            (name: try state.string(), position: try state.integer(Int64.self), spill: try state.integer(Int64.self),
             highestSegment: try state.integer(Int64.self))
        }
        var ahead = state
        if try ahead.count() > 0 && savedRoot != logRoot {
            throw .otherLogRoot(stateFile: checkpoints.statePath, checkpointed: savedRoot ?? "(none)", given: logRoot ?? "(none)")
        }
        var modelsInUse: Set<String> = []
        let runCount = try table.restore(
            from: &state, now: .now, logger: logger, loadModel: { [checkpoints, decoder] (name: String) throws(AggregatorError) -> RunModel in
                try checkpoints.loadModel(name) { (ring, sequence) throws(RingError) in try decoder.segments.open(ring: ring, sequence: sequence) }
            },
            restored: { [checkpoints] run, modelFile in
                guard let modelFile else { return }
                modelsInUse.insert(modelFile)
                checkpoints.noteModelFile(modelFile, run: run.directory, version: run.modelVersion)
            })
        guard state.isAtEnd else { throw .malformed("trailing bytes") }

        let removed = checkpoints.recover(generation: generation, modelFilesInUse: modelsInUse)
        for path in removed {
            logger.info("removed an event file written after the last checkpoint; its events are written again", metadata: ["file": "\(path)"])
        }
        // Each ring from where the checkpoint left it; rings gone since were retired after it.
        let present = Set(consumer.sources.map(\.name))
        for ring in savedRings where ring.highestSegment >= 0 { decoder.segments.highestNamed[ring.name] = ring.highestSegment }
        for ring in savedRings {
            guard present.contains(ring.name), let reader = consumer.reader(named: ring.name) else {
                table.retire(ring: ring.name, now: .now)
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
        for name in table.routes.keys where !present.contains(name) { table.retire(ring: name, now: .now) }
        changed = true
        resumedRuns = runCount > 0
        logger.info("resumed from the aggregator checkpoint", metadata: [
            "generation": "\(generation)", "runs": "\(runCount)", "rings": "\(savedRings.count)"])
    }
}
