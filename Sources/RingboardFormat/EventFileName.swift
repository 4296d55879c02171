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
    ///   - counter: A per-process counter of writers.
    ///   - suffix: The end of the name, e.g. `.v2`.
    /// - Returns: The file name, without a directory.
    public static func make(seconds: Int64, host: String, processID: Int32, counter: Int, suffix: String) -> String {
        let digits = String(seconds)
        let padded = String(repeating: "0", count: max(0, 10 - digits.count)) + digits
        return "events.out.tfevents.\(padded).\(host).\(processID).\(counter)\(suffix)"
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
