/// TensorFlow's conversion of a float image to 8-bit pixels (`NormalizeFloatImage` in
/// tensorflow/core/kernels/summary_image_op.cc and tensorflow/core/summary/summary_converter.cc,
/// which the TF 2 `write_image_summary` kernel uses; the two are the same code).
///
/// Per image: the minimum and maximum are taken over the pixels whose every channel is finite.
/// If the minimum is negative, `scale = 127 / max(|min|, |max|)` and `offset = 128`; otherwise
/// `scale = 255 / max` and `offset = 0`; the scale is 0 when that bound is under 1e-6. A finite
/// pixel becomes `uint8(value * scale + offset)` channel by channel, computed in Float32 as a
/// product and then a sum (no fused multiply-add), and truncated toward zero (Eigen's
/// `cast<uint8>`); a pixel with any non-finite channel becomes the bad colour. Rounding, or a
/// fused multiply-add, gives different pixels on TensorFlow 2.21's own outputs
/// (Tests/RingboardSummariesTests/Fixtures/tf_images.json).
///
/// TensorFlow runs its CPU kernels with denormals treated as zero, and the one place where that
/// shows here is the sign test: a minimum that is a negative subnormal compares as -0, which is
/// not below 0, so the image takes the unsigned branch. (Everywhere else a subnormal gives the
/// same pixel either way: multiplied by any scale this rule can pick, it stays far below one
/// pixel level.)
///
/// `normalize` takes a vector path when every value is finite (the usual case for weights),
/// where the per-pixel minimum and maximum are simply those of all values; otherwise, and as the
/// reference the tests hold it to, `normalizeReference` follows TensorFlow's loops literally.
/// The vector path reads and writes through `RawSpan` and `MutableRawSpan`, which check bounds;
/// no pointer is formed. (`unsafeLoadUnaligned` is "unsafe" only because not every type accepts
/// every bit pattern; `Float` vectors do.)
enum ImageNormalization {
    /// TensorFlow's `kZeroThreshold`: a bound below this gives scale 0 (a flat image).
    static let zeroThreshold: Float = 1e-6

    /// The affine map TensorFlow picks for an image with this finite minimum and maximum
    /// (`+inf` and `-inf` when no pixel is finite).
    static func transform(minimum: Float, maximum: Float) -> (scale: Float, offset: Float) {
        // Denormals are zero in TF's kernels: a subnormal negative minimum is not below 0.
        if minimum < 0 && !minimum.isSubnormal {
            let bound = Swift.max(abs(minimum), abs(maximum))
            return (bound < zeroThreshold ? 0 : 127 / bound, 128)
        }
        return (maximum < zeroThreshold ? 0 : 255 / maximum, 0)
    }

    /// Converts one image: `values` are `pixels × channels` floats, `output` receives as many bytes.
    ///
    /// - Parameters:
    ///   - values: The image, pixel by pixel, channels together.
    ///   - channels: Channels per pixel, at least 1.
    ///   - badColor: The colour of pixels with a non-finite channel; at least `channels` bytes.
    ///   - output: Receives the pixels; as many bytes as `values` has elements.
    static func normalize(_ values: Span<Float>, channels: Int, badColor: Span<UInt8>, into output: inout MutableSpan<UInt8>) {
        precondition(output.count == values.count && channels >= 1 && values.count % channels == 0)
        guard let (minimum, maximum) = finiteExtremes(values) else {
            normalizeReference(values, channels: channels, badColor: badColor, into: &output)
            return
        }
        let (scale, offset) = transform(minimum: minimum, maximum: maximum)
        convert(values, scale: scale, offset: offset, into: &output)
    }

    /// The minimum and maximum of `values`, or `nil` when any of them is NaN or infinite.
    /// An empty span gives `(+inf, -inf)`, as TensorFlow's initial values.
    static func finiteExtremes(_ values: Span<Float>) -> (minimum: Float, maximum: Float)? {
        typealias Vector = SIMD8<Float>
        let bytes = values.bytes
        var lowest = Vector(repeating: .infinity)
        var highest = Vector(repeating: -.infinity)
        // x * 0 is 0 for finite x and NaN for NaN and ±inf, so this sum is NaN iff a value is not finite.
        var poison = Vector()
        let vectorEnd = values.count - values.count % Vector.scalarCount
        var i = 0
        while i < vectorEnd {
            // Bounds-checked load of 8 floats (any bit pattern is a valid Float).
            let v = unsafe bytes.unsafeLoadUnaligned(fromByteOffset: i * MemoryLayout<Float>.stride, as: Vector.self)
            // `replacing(with:where:)` lowers to vector compare-and-blend; `pointwiseMin` does not, yet.
            lowest = lowest.replacing(with: v, where: v .< lowest)
            highest = highest.replacing(with: v, where: v .> highest)
            poison += v * 0
            i += Vector.scalarCount
        }
        var minimum = lowest.min()
        var maximum = highest.max()
        var tailPoison: Float = 0
        while i < values.count {
            let v = values[i]
            minimum = Swift.min(minimum, v)
            maximum = Swift.max(maximum, v)
            tailPoison += v * 0
            i += 1
        }
        if poison.sum().isNaN || tailPoison.isNaN { return nil }
        return (minimum, maximum)
    }

    /// `output[i] = uint8(values[i] * scale + offset)`, truncated, for values that map into [0, 256).
    static func convert(_ values: Span<Float>, scale: Float, offset: Float, into output: inout MutableSpan<UInt8>) {
        typealias Vector = SIMD8<Float>
        let bytes = values.bytes
        var pixelBytes = output.mutableBytes
        // 2^23: adding it to y in [0, 2^23) leaves round-to-nearest(y) in the low mantissa bits.
        let magic = Vector(repeating: 8_388_608)
        let one = SIMD8<UInt32>(repeating: 1)
        let vectorEnd = values.count - values.count % Vector.scalarCount
        var i = 0
        while i < vectorEnd {
            let v = unsafe bytes.unsafeLoadUnaligned(fromByteOffset: i * MemoryLayout<Float>.stride, as: Vector.self)
            var y = v * scale + offset  // two roundings, as TF: no fused multiply-add
            // Negative only for a negative subnormal on the unsigned branch (0 in TF, denormals
            // being zero) and -0: both give pixel 0.
            y = y.replacing(with: 0, where: y .< 0)
            // Truncation without the standard library's vector float-to-integer conversion and
            // `rounded(.towardZero)`, which are compiled lane by lane today (tens of times
            // slower): round to nearest through the magic number, then step back by one where
            // that rounded up. The bit cast reinterprets 8 floats as 8 same-size integers.
            let rounded = y + magic
            var integer = unsafe unsafeBitCast(rounded, to: SIMD8<UInt32>.self)  // 0x4B00_0000 + round(y)
            integer &-= one.replacing(with: 0, where: rounded - magic .<= y)
            pixelBytes.storeBytes(of: SIMD8<UInt8>(truncatingIfNeeded: integer), toByteOffset: i, as: SIMD8<UInt8>.self)
            i += Vector.scalarCount
        }
        while i < values.count {
            output[i] = pixel(values[i], scale: scale, offset: offset)
            i += 1
        }
    }

    /// One channel of one finite pixel: `uint8(value * scale + offset)`, truncated.
    @inline(__always)
    static func pixel(_ value: Float, scale: Float, offset: Float) -> UInt8 {
        let y = value * scale + offset
        // UInt8.init truncates toward zero. This rule keeps y below 255.0001; the clamp only
        // keeps a trap out of reach.
        return y > 0 ? UInt8(Swift.min(y, 255)) : 0
    }

    /// TensorFlow's `NormalizeFloatImage`, loop for loop: the reference for `normalize`.
    ///
    /// - Parameters:
    ///   - values: The image, pixel by pixel, channels together.
    ///   - channels: Channels per pixel, at least 1.
    ///   - badColor: The colour of pixels with a non-finite channel; at least `channels` bytes.
    ///   - output: Receives the pixels; as many bytes as `values` has elements.
    static func normalizeReference(_ values: Span<Float>, channels: Int, badColor: Span<UInt8>, into output: inout MutableSpan<UInt8>) {
        precondition(output.count == values.count && channels >= 1 && values.count % channels == 0 && badColor.count >= channels)
        let pixelCount = values.count / channels
        func isFinitePixel(_ pixel: Int) -> Bool {
            for j in 0..<channels where !values[pixel * channels + j].isFinite { return false }
            return true
        }
        var minimum = Float.infinity
        var maximum = -Float.infinity
        for pixel in 0..<pixelCount where isFinitePixel(pixel) {
            for j in 0..<channels {
                let value = values[pixel * channels + j]
                minimum = Swift.min(minimum, value)
                maximum = Swift.max(maximum, value)
            }
        }
        let (scale, offset) = transform(minimum: minimum, maximum: maximum)
        for pixel in 0..<pixelCount {
            let finite = isFinitePixel(pixel)
            for j in 0..<channels {
                output[pixel * channels + j] = finite ? Self.pixel(values[pixel * channels + j], scale: scale, offset: offset) : badColor[j]
            }
        }
    }
}
