import RingboardFormat
import RingboardRecords

extension RunMachine {
    /// A `SummaryWriter` call (`Semantics.summaryWriter`): written as it comes, in the run's
    /// directory or the subdirectory its number names. A callback's run ignores it, as it ignores
    /// a summary of a tag or directory never named (reported).
    mutating func summary(tag: UInt32, directory: UInt32?, step: Int64, wallTime: Double, value: SummaryValue) throws(EventFileError) {
        guard arguments.semantics == .summaryWriter else { return }
        guard let tagName = numbering.names[tag] else {
            logger.warning("summary of a tag never named skipped", metadata: ["run": "\(self.directory)", "tag": "\(tag)"])
            return
        }
        var subdirectory = ""
        if let directory {
            guard let name = numbering.names[directory], RunMachine.isSubdirectory(name) else {
                logger.warning("summary for a subdirectory never named, or one that leaves the run, skipped",
                               metadata: ["run": "\(self.directory)", "tag": "\(tagName)"])
                return
            }
            subdirectory = name
        }
        try request(.summary(subdirectory: subdirectory, tag: tagName, step: step, wallTime: wallTime, value: value))
    }

    /// Whether `name` is a relative path that stays below the run's directory: no empty, `.` or
    /// `..` component.
    static func isSubdirectory(_ name: String) -> Bool {
        let components = name.split(separator: "/", omittingEmptySubsequences: false)
        return !components.isEmpty && !components.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." })
    }
}
