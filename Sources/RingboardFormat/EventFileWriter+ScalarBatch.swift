extension EventFileWriter {
    /// Scalar events collected for `appendScalars(_:_:)` without a lock: many steps' batch
    /// scalars, handed to the writer in one call.
    public struct ScalarBatch {
        var scalars: [StagedScalar] = []
        /// The highest tag index appended (-1: none).
        private(set) var highestTag: Int32 = -1

        /// An empty batch.
        public init() {}

        /// Whether the batch holds no scalar.
        public var isEmpty: Bool { scalars.isEmpty }
        /// The scalars in the batch.
        public var count: Int { scalars.count }

        /// Adds one scalar event per tag, all of one step and wall time.
        ///
        /// - Parameters:
        ///   - tags: The tag of each scalar, an index in the table `appendScalars` is given.
        ///   - values: Values, written as `Float`s.
        ///   - positions: The value of each scalar, in `values`.
        ///   - step: The step.
        ///   - wallTime: Seconds since the Unix epoch.
        public mutating func append(
            _ tags: borrowing [Int32], _ values: borrowing [Double], at positions: borrowing [Int32], step: Int64, wallTime: Double
        ) {
            precondition(tags.count == positions.count)
            for index in tags.indices {
                precondition(tags[index] >= 0)
                highestTag = max(highestTag, tags[index])
                scalars.append(StagedScalar(tag: tags[index], value: Float(values[Int(positions[index])]), step: step, wallTime: wallTime))
            }
        }

        /// Empties the batch, keeping its storage.
        mutating func removeAll() {
            scalars.removeAll(keepingCapacity: true)
            highestTag = -1
        }
    }
}
