/// A PNG row filter (PNG specification §9.2, filter method 0).
///
/// A filter replaces each byte of a row by its difference from a prediction made from the bytes
/// to its left (`a`, one pixel back), above (`b`, same position in the row before) and above-left
/// (`c`); bytes outside the image count as 0. The first byte of every filtered row names the filter.
public enum PNGFilter: UInt8, CaseIterable, Sendable {
    /// No prediction: the raw bytes.
    case none = 0
    /// Predicts the byte to the left, `a`.
    case sub = 1
    /// Predicts the byte above, `b`.
    case up = 2
    /// Predicts `floor((a + b) / 2)`.
    case average = 3
    /// Predicts whichever of `a`, `b`, `c` is closest to `a + b - c` (Paeth's predictor).
    case paeth = 4
}

extension PNGFilter {
    /// Filters one row and scores it with libpng's heuristic.
    ///
    /// The score is the "minimum sum of absolute differences" libpng uses to choose among
    /// filters (`png_write_find_filter` in pngwutil.c): each output byte taken as a signed
    /// byte, summed by magnitude, `v < 128 ? v : 256 - v`. As in libpng, scoring stops early once
    /// the sum exceeds `limit`, leaving the rest of `output` unwritten, since such a row is
    /// never chosen.
    ///
    /// - Parameters:
    ///   - row: The raw bytes of the row.
    ///   - previous: The raw bytes of the row above; all zeros for the first row.
    ///   - bytesPerPixel: Bytes per complete pixel (the distance to `a`), at least 1.
    ///   - output: Receives the filter type at index 0 and the filtered row after it; holds
    ///     `row.count + 1` bytes.
    ///   - limit: Stop scoring once the sum exceeds this; `Int.max` to score the whole row.
    /// - Returns: The sum (a partial sum above `limit` when scoring stopped early).
    func apply(
        row: Span<UInt8>, previous: Span<UInt8>, bytesPerPixel: Int, into output: inout MutableSpan<UInt8>,
        limit: Int = .max
    ) -> Int {
        let count = row.count
        precondition(previous.count == count && output.count == count + 1 && bytesPerPixel >= 1)
        output[0] = rawValue
        guard count > 0 else { return 0 }
        return row.withUnsafeBufferPointer { row in
            previous.withUnsafeBufferPointer { previous in
                output.withUnsafeMutableBufferPointer { output in
                    apply(row: row.baseAddress!, previous: previous.baseAddress!, into: output.baseAddress! + 1, count: count,
                          bytesPerPixel: bytesPerPixel, limit: limit)
                }
            }
        }
    }

    /// `apply` over checked bounds: `row`, `previous` and `output` hold `count` bytes each.
    /// Scoring is checked against `limit` every 256 bytes, so that the loops between checks
    /// vectorize; a row stopped later than libpng stops it is still never chosen, and a row
    /// libpng scores whole is scored whole.
    private func apply(
        row: UnsafePointer<UInt8>, previous: UnsafePointer<UInt8>, into output: UnsafeMutablePointer<UInt8>,
        count: Int, bytesPerPixel: Int, limit: Int
    ) -> Int {
        let lead = min(bytesPerPixel, count)
        var sum = 0
        // The first pixel has no `a` (nor `c`): None, Up, Up, Up-like Average, Up for Paeth.
        for i in 0..<lead {
            let v: UInt8 = switch self {
            case .none, .sub: row[i]
            case .up, .paeth: row[i] &- previous[i]
            case .average: row[i] &- previous[i] / 2
            }
            output[i] = v
            sum += Self.magnitude(v)
        }
        var start = lead
        while start < count {
            let end = min(start + 256, count)
            var chunk = 0
            switch self {
            case .none:
                for i in start..<end {
                    output[i] = row[i]
                    chunk &+= Self.magnitude(row[i])
                }
            case .sub:
                for i in start..<end {
                    let v = row[i] &- row[i - bytesPerPixel]
                    output[i] = v
                    chunk &+= Self.magnitude(v)
                }
            case .up:
                for i in start..<end {
                    let v = row[i] &- previous[i]
                    output[i] = v
                    chunk &+= Self.magnitude(v)
                }
            case .average:
                for i in start..<end {
                    let prediction = UInt8(truncatingIfNeeded: (UInt16(row[i - bytesPerPixel]) &+ UInt16(previous[i])) >> 1)
                    let v = row[i] &- prediction
                    output[i] = v
                    chunk &+= Self.magnitude(v)
                }
            case .paeth:
                for i in start..<end {
                    let v = row[i] &- Self.paethPredictor(
                        left: row[i - bytesPerPixel], above: previous[i], upperLeft: previous[i - bytesPerPixel])
                    output[i] = v
                    chunk &+= Self.magnitude(v)
                }
            }
            sum += chunk
            // None is always scored whole (libpng starts from its sum).
            if self != .none && sum > limit { break }
            start = end
        }
        return sum
    }

    /// Paeth's predictor, with ties broken in the order a, b, c (PNG §9.4).
    @inline(__always)
    static func paethPredictor(left a: UInt8, above b: UInt8, upperLeft c: UInt8) -> UInt8 {
        let p = Int(b) - Int(c)  // (a + b - c) - a
        let q = Int(a) - Int(c)  // (a + b - c) - b
        let distanceA = abs(p)
        let distanceB = abs(q)
        let distanceC = abs(p + q)  // (a + b - c) - c
        if distanceA <= distanceB && distanceA <= distanceC { return a }
        return distanceB <= distanceC ? b : c
    }

    /// A filtered byte's weight in libpng's heuristic: its magnitude as a signed byte.
    @inline(__always)
    static func magnitude(_ v: UInt8) -> Int {
        Int(min(v, 0 &- v))  // v < 128 ? v : 256 - v
    }
}
