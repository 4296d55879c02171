/// A weight's shape, as `set_model` describes it.
public enum WeightShape {
    /// The number of values a weight of `shape` holds (1 for a scalar), or `nil` when a dimension
    /// is negative or the product overflows or passes `limit`.
    ///
    /// - Parameters:
    ///   - shape: The dimensions.
    ///   - limit: The most values allowed.
    /// - Returns: The count, or `nil`.
    public static func elementCount(_ shape: [Int], limit: Int = .max) -> Int? {
        guard shape.allSatisfy({ $0 >= 0 }) else { return nil }
        if shape.contains(0) { return 0 }
        var count = 1
        for dimension in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard !overflow, product <= limit else { return nil }
            count = product
        }
        return count
    }
}
