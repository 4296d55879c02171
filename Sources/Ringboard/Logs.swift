/// A hook's `logs`: metric names and values, in the order given (Keras writes them in that order).
public struct Logs: ExpressibleByDictionaryLiteral, Sendable, Equatable {
    /// The entries, in order.
    public var entries: [(name: String, value: Double)]

    /// Logs from a dictionary literal, keeping its order: `["loss": 0.69, "size": 32]`.
    ///
    /// - Parameter elements: Names and values.
    public init(dictionaryLiteral elements: (String, Double)...) {
        entries = elements.map { (name: $0.0, value: $0.1) }
    }

    /// Logs from name–value pairs.
    ///
    /// - Parameter entries: Names and values, in order.
    public init(_ entries: [(name: String, value: Double)] = []) {
        self.entries = entries
    }

    public static func == (lhs: Logs, rhs: Logs) -> Bool {
        lhs.entries.elementsEqual(rhs.entries) { $0.name == $1.name && $0.value.bitPattern == $1.value.bitPattern }
    }
}

/// Logs for the hot loop: metric numbers fixed once, values overwritten in place each batch, so a
/// batch hook allocates nothing and looks nothing up.
///
/// ```swift
/// var logs = try callback.batchLogs(["batch", "size", "loss", "accuracy"])
/// for batch in 0..<steps {
///     logs[2] = loss; logs[3] = accuracy; logs[0] = Double(batch); logs[1] = 32
///     callback.onTrainBatchEnd(batch, logs: logs)
/// }
/// ```
public struct BatchLogs: Sendable {
    /// The metric numbers, in the order of the names given.
    public let metrics: [UInt32]
    /// The values, one per metric.
    public var values: [Double]

    init(metrics: [UInt32]) {
        self.metrics = metrics
        self.values = [Double](repeating: 0, count: metrics.count)
    }

    /// The value of the `index`-th metric.
    ///
    /// Inlinable: the hot loop sets every value each batch, and inlined into it the array's
    /// uniqueness check can leave the loop (out of line, a call per value cost as much as the
    /// batch hook's append).
    @inlinable
    public subscript(index: Int) -> Double {
        get { values[index] }
        set { values[index] = newValue }
    }
}
