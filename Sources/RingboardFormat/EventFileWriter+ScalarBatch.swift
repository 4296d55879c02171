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
        /// The wall time of the first scalar (0 for an empty batch).
        public var firstWallTime: Double { scalars.first?.wallTime ?? 0 }

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
            tags.withUnsafeBufferPointer { tags in
                positions.withUnsafeBufferPointer { positions in
                    values.withUnsafeBufferPointer { values in
                        for index in 0..<tags.count {
                            let tag = tags[index], position = Int(positions[index])
                            precondition(tag >= 0 && position >= 0 && position < values.count, "a scalar outside its tags or values")
                            highestTag = max(highestTag, tag)
                            scalars.append(StagedScalar(tag: tag, value: Float(values[position]), step: step, wallTime: wallTime))
                        }
                    }
                }
            }
        }

        /// Adds one scalar event.
        ///
        /// - Parameters:
        ///   - tag: Its tag, an index in the table `appendScalars` is given.
        ///   - value: The value, written as a `Float`.
        ///   - step: The step.
        ///   - wallTime: Seconds since the Unix epoch.
        public mutating func append(tag: Int32, value: Double, step: Int64, wallTime: Double) {
            precondition(tag >= 0, "a scalar outside its tags")
            highestTag = max(highestTag, tag)
            scalars.append(StagedScalar(tag: tag, value: Float(value), step: step, wallTime: wallTime))
        }

        /// Empties the batch, keeping its storage.
        mutating func removeAll() {
            scalars.removeAll(keepingCapacity: true)
            highestTag = -1
        }
    }
}
