import RingboardFormat
import RingboardRecords

extension RunMachine {
    /// A `SummaryWriter` call (`Semantics.summaryWriter`): written as it comes, in the run's
    /// directory or the subdirectory its number names. A callback's run ignores it, as it ignores
    /// a summary of a tag or directory never named (reported).
    mutating func summary(tag: UInt32, directory: UInt32?, step: Int64, wallTime: Double, value: SummaryValue) throws(EventFileError) {
        guard let (tagName, subdirectory) = names(tag: tag, directory: directory) else { return }
        try request(.summary(subdirectory: subdirectory, tag: tagName, step: step, wallTime: wallTime, value: value))
    }

    /// A `SummaryWriter` histogram of values mapped from a weight segment (kept mapped until made).
    mutating func summaryHistogram(tag: UInt32, directory: UInt32?, step: Int64, wallTime: Double, values: WeightValues) throws(EventFileError) {
        guard let (tagName, subdirectory) = names(tag: tag, directory: directory) else { return }
        try request(.mappedHistogram(subdirectory: subdirectory, tag: tagName, step: step, wallTime: wallTime, values: values))
    }

    /// The tag and subdirectory names a summary's numbers stand for, or `nil` (reported) when it is
    /// not to be written: a callback's run, or a number never named.
    private func names(tag: UInt32, directory: UInt32?) -> (String, String)? {
        guard arguments.semantics == .summaryWriter else { return nil }
        guard let tagName = numbering.names[tag] else {
            logger.warning("summary of a tag never named skipped", metadata: ["run": "\(self.directory)", "tag": "\(tag)"])
            return nil
        }
        var subdirectory = ""
        if let directory {
            guard let name = numbering.names[directory], RunMachine.isSubdirectory(name) else {
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
