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
    /// By tag number, for scalars in the run's own directory: the sink and tag index in the
    /// run's files, packed (`sink << 32 | tag`), or -1 when not worked out yet.
    var rootTargets: [Int64] = []
    /// The same for scalars in `add_scalars` directories, by `tag << 32 | directory`.
    var directoryTargets: [UInt64: Int64] = [:]
}

extension RunMachine {
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
        try files.stageSummaryScalar(sink: Int(target >> 32), tag: Int32(truncatingIfNeeded: target), value: value, step: step,
                                     wallTime: wallTime, tags: slots.batchTags)
    }

    /// A `SummaryWriter` call: written as it comes, in the run's directory or the subdirectory its
    /// number names. A summary of a tag or directory never named is left out (reported).
    mutating func summary(
        tag: UInt32, directory: UInt32?, step: Int64, wallTime: Double, value: SummaryValue, from writer: WriterKey
    ) throws(EventFileError) {
        guard let (tagName, subdirectory) = names(tag: tag, directory: directory, from: writer) else { return }
        try request(.summary(subdirectory: subdirectory, tag: tagName, step: step, wallTime: wallTime, value: value))
    }

    /// A `SummaryWriter` histogram of values mapped from a weight segment (kept mapped until made).
    mutating func summaryHistogram(
        tag: UInt32, directory: UInt32?, step: Int64, wallTime: Double, values: WeightValues, from writer: WriterKey
    ) throws(EventFileError) {
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
