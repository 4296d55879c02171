internal import RingboardSystem

/// TensorFlow's event file names: `events.out.tfevents.<10-digit seconds>.<host>.<pid>.<n><suffix>`
/// (TF 2's `tf.summary.create_file_writer` uses the suffix `.v2`).
public enum EventFileName {
    /// The part every event file name contains; TensorBoard finds files by it.
    public static let marker = "tfevents"

    /// Builds a file name.
    ///
    /// - Parameters:
    ///   - seconds: Seconds since the Unix epoch, zero-padded to 10 digits.
    ///   - host: The host name.
    ///   - processID: The writing process.
    ///   - counter: A per-process counter of writers, zero-padded to 6 digits so names sort in
    ///     the order the files were opened.
    ///   - suffix: The end of the name, e.g. `.v2`.
    /// - Returns: The file name, without a directory.
    public static func make(seconds: Int64, host: String, processID: Int32, counter: Int, suffix: String) -> String {
        // The counter is zero-padded: TensorBoard reads a directory's files in name order, and a
        // process that opens its 10th file in the same second must not have it read before its 2nd.
        return "events.out.tfevents.\(padded(seconds, 10)).\(host).\(processID).\(padded(Int64(counter), 6))\(suffix)"
    }

    private static func padded(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    /// This machine's host name as event file names carry it (`gethostname`; `localhost` when
    /// there is none).
    public static var localHostName: String {
        Syscalls.hostName()
    }

    /// Whether TensorBoard treats a file of this name as an event file (its name contains
    /// `tfevents`, as `io_wrapper.IsSummaryEventsFile` checks).
    ///
    /// - Parameter name: A file name, without a directory.
    /// - Returns: `true` for an event file name.
    public static func isEventFile(_ name: String) -> Bool {
        name.contains(marker)
    }
}
