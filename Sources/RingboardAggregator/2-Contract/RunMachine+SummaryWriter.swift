import RingboardFormat
import RingboardRecords

/// A `SummaryWriter` as the aggregator knows it: its ring and its run number there.
struct WriterKey: Hashable {
    var ring: String
    var run: UInt32
}

/// What a run keeps of one `SummaryWriter`: its names by number, and where its scalars go.
struct WriterState {
    var names: [UInt32: String] = [:]
    /// Its rank, under the `.mean` policy (-1 otherwise).
    var rank = -1
    /// By tag number, for scalars in the run's own directory: the sink and tag index in the
    /// run's files, packed (`sink << 32 | tag`), or -1 when not worked out yet.
    var rootTargets: [Int64] = []
    /// The same for scalars in `add_scalars` directories, by `tag << 32 | directory`.
    var directoryTargets: [UInt64: Int64] = [:]
}

/// `.mean` for a `SummaryWriter` run: a scalar of a tag and step is written once every rank
/// logged it, as the mean of their values (with rank 0's wall time, else the first's); one some
/// rank never logs is written `meanGrace` after its first value, as the mean of those logged, and
/// so is every one still waiting when the run finishes. Other summaries are rank 0's.
struct SummaryMeans {
    /// How many ranks write the run.
    var worldSize: Int
    /// Ranks whose producer is gone: a mean waits for the others only.
    var gone: Set<Int> = []
    /// Scalars waiting for ranks, by sink, tag index and step.
    var pending: [Key: Pending] = [:]

    struct Key: Hashable {
        var sink: Int
        var tag: Int32
        var step: Int64
    }

    struct Pending {
        var sum: Double
        var ranks: Set<Int>
        var wallTime: Double
        var fromRankZero: Bool
        /// When the first value came, since `clockOrigin`.
        var since: Duration
    }

    static let clockOrigin = ContinuousClock.now
    static let meanGrace: Duration = .seconds(10)

    /// Takes rank `rank`'s value; returns the mean when every rank still there has logged it.
    mutating func add(_ key: Key, rank: Int, value: Double, wallTime: Double) -> (value: Double, wallTime: Double)? {
        var entry = pending[key] ?? Pending(sum: 0, ranks: [], wallTime: wallTime, fromRankZero: false,
                                            since: ContinuousClock.now - SummaryMeans.clockOrigin)
        guard entry.ranks.insert(rank).inserted else { return nil }  // a rank's second value for a step: its first stands
        entry.sum += value
        if rank == 0 {
            entry.wallTime = wallTime
            entry.fromRankZero = true
        }
        if isComplete(entry) {
            pending[key] = nil
            return (entry.sum / Double(entry.ranks.count), entry.wallTime)
        }
        pending[key] = entry
        return nil
    }

    func isComplete(_ entry: Pending) -> Bool {
        (0..<worldSize).allSatisfy { entry.ranks.contains($0) || gone.contains($0) }
    }

    /// The means to write now: complete ones (a rank went), ones past their grace, or all.
    mutating func due(all: Bool, now: Duration) -> [(Key, value: Double, wallTime: Double)] {
        var due: [(Key, value: Double, wallTime: Double)] = []
        for (key, entry) in pending where all || isComplete(entry) || now - entry.since >= SummaryMeans.meanGrace {
            due.append((key, entry.sum / Double(entry.ranks.count), entry.wallTime))
        }
        for (key, _, _) in due { pending[key] = nil }
        // In step order, as they would have come.
        return due.sorted { ($0.0.step, $0.0.sink, $0.0.tag) < ($1.0.step, $1.0.sink, $1.0.tag) }
    }
}

extension RunMachine {
    /// Makes this `SummaryWriter` run a `.mean` one of `worldSize` ranks, with `writer` as rank
    /// `rank`.
    mutating func setRank(_ rank: Int, worldSize: Int, of writer: WriterKey) {
        if means == nil { means = SummaryMeans(worldSize: worldSize) }
        writers[writerSlot(writer)].rank = rank
    }

    /// `writer`'s producer is gone: under `.mean`, its rank is no longer waited for.
    mutating func writerGone(_ writer: WriterKey) throws(EventFileError) {
        guard means != nil, let slot = writerSlots[writer], writers[slot].rank >= 0 else { return }
        means!.gone.insert(writers[slot].rank)
        try writeMeans(all: false)
    }

    /// Writes the `.mean` scalars that are due (`SummaryMeans.due`).
    mutating func writeMeans(all: Bool, now: ContinuousClock.Instant = .now) throws(EventFileError) {
        guard means != nil, !means!.pending.isEmpty else { return }
        for (key, value, wallTime) in means!.due(all: all, now: now - SummaryMeans.clockOrigin) {
            try files.stageSummaryScalar(sink: key.sink, tag: key.tag, value: value, step: key.step, wallTime: wallTime, tags: slots.batchTags)
        }
    }

    /// A record of a `SummaryWriter` run (`Semantics.summaryWriter`) from producer `writer`: its
    /// names are numbered per producer; the rest as `apply(_:)` takes it.
    mutating func apply(_ record: HookRecord, from writer: WriterKey) throws(EventFileError) {
        guard !finished else { return }
        switch record {
        case .metricName(_, let number, let name):
            let slot = writerSlot(writer)
            writers[slot].names[number] = name
            // A name numbered again (a writer resumed) leaves no stale target.
            writers[slot].rootTargets.removeAll()
            writers[slot].directoryTargets.removeAll()
        case .summary(_, let tag, let directory, let step, let wallTime, .scalar(let value)):
            try summaryScalar(tag: tag, directory: directory, step: step, wallTime: wallTime, value: value, from: writer)
        case .summary(_, let tag, let directory, let step, let wallTime, let value):
            try summary(tag: tag, directory: directory, step: step, wallTime: wallTime, value: value, from: writer)
        default:
            try apply(record)
        }
    }

    /// The slot of producer `writer` in `writers`, made when new; the last one found is kept, so
    /// summary after summary of one producer takes no hashing.
    mutating func writerSlot(_ writer: WriterKey) -> Int {
        if lastWriterSlot >= 0 && writer.run == lastWriter.run && writer.ring == lastWriter.ring { return lastWriterSlot }
        let slot: Int
        if let found = writerSlots[writer] {
            slot = found
        } else {
            writers.append(WriterState())
            slot = writers.count - 1
            writerSlots[writer] = slot
        }
        (lastWriter, lastWriterSlot) = (writer, slot)
        return slot
    }

    /// A `SummaryWriter` scalar, the most frequent summary: staged for its directory's file,
    /// handed over with the batch scalars, its tag and directory worked out once per producer.
    mutating func summaryScalar(
        tag: UInt32, directory: UInt32?, step: Int64, wallTime: Double, value: Double, from writer: WriterKey
    ) throws(EventFileError) {
        guard !finished, arguments.semantics == .summaryWriter else { return }
        let slot = writerSlot(writer)
        var target: Int64 = -1
        if directory == nil {
            if Int(tag) < writers[slot].rootTargets.count { target = writers[slot].rootTargets[Int(tag)] }
        } else {
            target = writers[slot].directoryTargets[UInt64(tag) << 32 | UInt64(directory!)] ?? -1
        }
        if target < 0 {
            guard let (tagName, subdirectory) = names(tag: tag, directory: directory, from: writer) else { return }
            target = Int64(files.summarySink(subdirectory)) << 32 | Int64(files.summaryTag(tagName))
            if let directory {
                writers[slot].directoryTargets[UInt64(tag) << 32 | UInt64(directory)] = target
            } else if tag < 1 << 20 {
                // Tags are numbered from 0 as a writer names them: a table, not a hash.
                if Int(tag) >= writers[slot].rootTargets.count {
                    writers[slot].rootTargets += repeatElement(-1, count: Int(tag) + 1 - writers[slot].rootTargets.count)
                }
                writers[slot].rootTargets[Int(tag)] = target
            }
        }
        let (sink, tagIndex) = (Int(target >> 32), Int32(truncatingIfNeeded: target))
        if means != nil {
            let rank = writers[slot].rank
            guard rank >= 0, let mean = means!.add(SummaryMeans.Key(sink: sink, tag: tagIndex, step: step), rank: rank, value: value,
                                                   wallTime: wallTime) else { return }
            try files.stageSummaryScalar(sink: sink, tag: tagIndex, value: mean.value, step: step, wallTime: mean.wallTime, tags: slots.batchTags)
            return
        }
        try files.stageSummaryScalar(sink: sink, tag: tagIndex, value: value, step: step, wallTime: wallTime, tags: slots.batchTags)
    }

    /// A `SummaryWriter` call: written as it comes, in the run's directory or the subdirectory its
    /// number names. A summary of a tag or directory never named is left out (reported).
    mutating func summary(
        tag: UInt32, directory: UInt32?, step: Int64, wallTime: Double, value: SummaryValue, from writer: WriterKey
    ) throws(EventFileError) {
        if means != nil && writers[writerSlot(writer)].rank != 0 { return }  // under `.mean`, rank 0's
        guard let (tagName, subdirectory) = names(tag: tag, directory: directory, from: writer) else { return }
        try request(.summary(subdirectory: subdirectory, tag: tagName, step: step, wallTime: wallTime, value: value))
    }

    /// A `SummaryWriter` histogram of values mapped from a weight segment (kept mapped until made).
    mutating func summaryHistogram(
        tag: UInt32, directory: UInt32?, step: Int64, wallTime: Double, values: WeightValues, from writer: WriterKey
    ) throws(EventFileError) {
        if means != nil && writers[writerSlot(writer)].rank != 0 { return }  // under `.mean`, rank 0's
        guard !finished, let (tagName, subdirectory) = names(tag: tag, directory: directory, from: writer) else { return }
        try request(.mappedHistogram(subdirectory: subdirectory, tag: tagName, step: step, wallTime: wallTime, values: values))
    }

    /// The tag and subdirectory names a summary's numbers stand for, or `nil` (reported) when it is
    /// not to be written: a callback's run, or a number never named.
    private func names(tag: UInt32, directory: UInt32?, from writer: WriterKey) -> (String, String)? {
        guard arguments.semantics == .summaryWriter else { return nil }
        let names = writerSlots[writer].map { writers[$0].names }
        guard let tagName = names?[tag] else {
            logger.warning("summary of a tag never named skipped", metadata: ["run": "\(self.directory)", "tag": "\(tag)"])
            return nil
        }
        var subdirectory = ""
        if let directory {
            guard let name = names?[directory], RunMachine.isSubdirectory(name) else {
                logger.warning("summary for a subdirectory never named, or one that leaves the run, skipped",
                               metadata: ["run": "\(self.directory)", "tag": "\(tagName)"])
                return nil
            }
            subdirectory = name
        }
        return (tagName, subdirectory)
    }

    /// Whether `name` is a relative path that stays below the run's directory: no empty, `.` or
    /// `..` component.
    static func isSubdirectory(_ name: String) -> Bool {
        let components = name.split(separator: "/", omittingEmptySubsequences: false)
        return !components.isEmpty && !components.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." })
    }
}
