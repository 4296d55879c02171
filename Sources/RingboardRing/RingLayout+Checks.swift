/// The checks of a ring header that say whether its sizes and positions are ones a producer and
/// a consumer could have stored: `RingReader` refuses a ring that fails one, and `RingStatus`
/// reports it as damaged. Each returns why, or `nil` when the header passes. None of them can
/// overflow, whatever the header holds.
extension RingLayout {
    /// Why a data area of `capacity` bytes is not one a ring may have, or `nil`.
    static func capacityProblem(_ capacity: UInt64) -> String? {
        guard capacity >= UInt64(minimumCapacity), capacity <= UInt64(maximumCapacity), capacity & (capacity - 1) == 0 else {
            return "capacity \(capacity) is not a power of two in range"
        }
        return nil
    }

    /// Why a file of `fileSize` bytes holds no data area a ring may have, or `nil`.
    static func fileSizeProblem(_ fileSize: Int64) -> String? {
        guard fileSize > Int64(headerSize) else { return "\(fileSize) bytes is smaller than a ring" }
        let capacity = fileSize - Int64(headerSize)
        guard capacityProblem(UInt64(capacity)) == nil else { return "data area of \(capacity) bytes is not a power of two in range" }
        return nil
    }

    /// Why the sizes a header states do not describe a file of `fileSize` bytes, or `nil`.
    ///
    /// - Parameters:
    ///   - capacityField: The header's capacity (`capacityOffset`).
    ///   - headerSizeField: The header's header size (`headerSizeOffset`).
    ///   - fileSize: The file's size.
    static func sizesProblem(capacityField: UInt64, headerSizeField: UInt32, fileSize: Int64) -> String? {
        if let problem = capacityProblem(capacityField) { return problem }
        guard headerSizeField == UInt32(headerSize) else { return "header size \(headerSizeField) is not \(headerSize)" }
        guard fileSize == Int64(headerSize) + Int64(capacityField) else {
            return "header sizes do not match the file: capacity \(capacityField), file of \(fileSize) bytes"
        }
        return nil
    }

    /// Why `head` and `tail` are not positions of a ring of `capacity` bytes, or `nil`: head
    /// not negative, not past tail, at most `capacity` behind it, and both record boundaries.
    static func positionsProblem(head: Int64, tail: Int64, capacity: Int) -> String? {
        guard head >= 0 else { return "positions head \(head), tail \(tail) are inconsistent: head is negative" }
        guard head <= tail else { return "positions head \(head), tail \(tail) are inconsistent: head past tail" }
        // Both are now in 0...Int64.max, so the difference cannot overflow.
        guard tail - head <= Int64(capacity) else {
            return "positions head \(head), tail \(tail) are inconsistent: tail more than the capacity of \(capacity) bytes ahead of head"
        }
        let alignment = Int64(recordAlignment)
        guard head % alignment == 0, tail % alignment == 0 else {
            return "positions head \(head), tail \(tail) are not all record boundaries"
        }
        return nil
    }
}
