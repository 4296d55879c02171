import RingboardFormat
import RingboardRecords

/// A `SummaryWriter` as the aggregator knows it: its ring and its run number there.
struct WriterKey: Hashable {
    var ring: String
    var run: UInt32
}

extension RunMachine {
    /// A record of a `SummaryWriter` run (`Semantics.summaryWriter`) from producer `writer`: its
    /// names are numbered per producer; the rest as `apply(_:)` takes it.
    mutating func apply(_ record: HookRecord, from writer: WriterKey) throws(EventFileError) {
        guard !finished else { return }
        switch record {
        case .metricName(_, let number, let name):
            writerNames[writer, default: [:]][number] = name
        case .summary(_, let tag, let directory, let step, let wallTime, let value):
            try summary(tag: tag, directory: directory, step: step, wallTime: wallTime, value: value, from: writer)
        default:
            try apply(record)
        }
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
        let names = writerNames[writer]
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
