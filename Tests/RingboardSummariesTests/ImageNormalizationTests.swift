import RingboardTestSupport
import Testing
@testable import RingboardSummaries

/// TensorFlow's float → uint8 rule: the vector path against the scalar reference (a literal
/// transcription of `NormalizeFloatImage`), and both against TensorFlow's own output.
@Suite struct ImageNormalizationTests {
    static func vector(_ values: [Float], channels: Int, badColor: [UInt8] = ImageSummary.defaultBadColor) -> [UInt8] {
        var output = [UInt8](repeating: 0xAA, count: values.count)
        var span = output.mutableSpan
        ImageNormalization.normalize(values.span, channels: channels, badColor: badColor.span, into: &span)
        return output
    }

    static func reference(_ values: [Float], channels: Int, badColor: [UInt8] = ImageSummary.defaultBadColor) -> [UInt8] {
        var output = [UInt8](repeating: 0x55, count: values.count)
        var span = output.mutableSpan
        ImageNormalization.normalizeReference(values.span, channels: channels, badColor: badColor.span, into: &span)
        return output
    }

    /// The reference reproduces TensorFlow's pixels for every golden image: truncation, not
    /// rounding; a product then a sum, not a fused multiply-add; red for non-finite pixels.
    @Test(arguments: GoldenImageCase.all)
    func referenceAndVectorPathsReproduceTensorFlow(golden: GoldenImageCase) {
        let channels = golden.shape[3]
        let imageSize = golden.shape[1] * golden.shape[2] * channels
        for (i, image) in golden.images.enumerated() {
            let values = Array(golden.values[(i * imageSize)..<((i + 1) * imageSize)])
            #expect(Self.reference(values, channels: channels) == image.pixels, "\(image.tag)")
            #expect(Self.vector(values, channels: channels) == image.pixels, "\(image.tag)")
        }
    }

    /// What the golden data settles, spelled out on values where the alternatives differ.
    @Test func truncatesAndDoesNotFuse() {
        // [0, 2]: scale 127.5, so 1 maps to 127.5: truncated to 127 (rounding would give 128).
        #expect(Self.vector([0, 1, 2], channels: 1) == [0, 127, 255])
        #expect(Self.reference([0, 1, 2], channels: 1) == [0, 127, 255])
        // The smallest value of a signed image maps to 128 - 127 = 1, or to 0 when the float
        // product lands just below -127.
        let scale: Float = 127 / 3
        let lowest = -3 * scale + 128
        #expect(Self.vector([-3, 3], channels: 1) == [UInt8(lowest), 255])
        // A fused multiply-add keeps the exact product: where the product rounds up across an
        // integer, the separate operations (TensorFlow's) and the fused one disagree.
        var generator = SeededGenerator(seed: 17)
        var checked = 0
        while checked < 50 {
            let values = (0..<8).map { _ in Float.random(in: -2...2, using: &generator) }
            let (s, o) = ImageNormalization.transform(minimum: values.min()!, maximum: values.max()!)
            func separate(_ v: Float) -> UInt8 { UInt8((v * s + o).rounded(.towardZero)) }
            func fused(_ v: Float) -> UInt8 { UInt8(o.addingProduct(v, s).rounded(.towardZero)) }
            guard let index = values.indices.first(where: { separate(values[$0]) != fused(values[$0]) }) else { continue }
            #expect(Self.vector(values, channels: 1)[index] == separate(values[index]))
            #expect(Self.reference(values, channels: 1)[index] == separate(values[index]))
            checked += 1
        }
    }

    @Test func transformPicksTensorFlowsBranch() {
        #expect(ImageNormalization.transform(minimum: -2, maximum: 1) == (63.5, 128))
        #expect(ImageNormalization.transform(minimum: -1, maximum: 4) == (31.75, 128))
        #expect(ImageNormalization.transform(minimum: 0, maximum: 5) == (51, 0))
        #expect(ImageNormalization.transform(minimum: 1, maximum: 1) == (255, 0))
        // Bounds under 1e-6: a flat image (128 when signed, 0 otherwise).
        #expect(ImageNormalization.transform(minimum: -9e-7, maximum: 5e-7) == (0, 128))
        #expect(ImageNormalization.transform(minimum: 0, maximum: 9e-7) == (0, 0))
        #expect(ImageNormalization.transform(minimum: -1e-6, maximum: 0) == (127 / Float(1e-6), 128))  // not under the threshold
        // No finite pixel at all: TF's initial +inf / -inf.
        #expect(ImageNormalization.transform(minimum: .infinity, maximum: -.infinity) == (0, 0))
        // Denormals are zero in TF's kernels: a negative subnormal minimum is not below 0.
        #expect(ImageNormalization.transform(minimum: -Float.leastNonzeroMagnitude, maximum: 2) == (127.5, 0))
        #expect(ImageNormalization.transform(minimum: -Float.leastNormalMagnitude, maximum: 2) == (63.5, 128))
    }

    /// Values picked to hit the edges: non-finite values in any channel, subnormals, signed
    /// zeros, extremes, constant images, exact integers after scaling.
    static let specialValues: [Float] = [
        .nan, .infinity, -.infinity, 0, -0.0, .leastNonzeroMagnitude, -.leastNonzeroMagnitude, .leastNormalMagnitude,
        -.leastNormalMagnitude, .greatestFiniteMagnitude, -.greatestFiniteMagnitude, 1, -1, 0.5, 1e-6, -1e-6, 9.99e-7, 127, 255, 1e30,
    ]

    /// The vector path equals the reference, whatever the input.
    @Test(arguments: [1, 3, 4])
    func vectorPathEqualsReference(channels: Int) {
        var generator = SeededGenerator(seed: UInt64(channels))
        for trial in 0..<600 {
            let pixelCount = [0, 1, 2, 7, 8, 9, 15, 16, 17, 33, 100, 257][trial % 12]
            let count = pixelCount * channels
            let kind = trial / 12 % 6
            let values: [Float] = (0..<count).map { _ in
                switch kind {
                case 0: Float.random(in: -1...1, using: &generator)
                case 1: Float.random(in: 0...1e3, using: &generator)
                case 2: Float.random(in: -5e-7...5e-7, using: &generator)
                case 3: Float(bitPattern: UInt32.random(in: 0...UInt32.max, using: &generator))  // anything, NaNs included
                case 4: Self.specialValues.randomElement(using: &generator)!
                default:
                    Bool.random(using: &generator)
                        ? Self.specialValues.randomElement(using: &generator)! : Float.random(in: -3...3, using: &generator)
                }
            }
            let badColor = trial % 2 == 0 ? ImageSummary.defaultBadColor : [9, 8, 7, 6]
            let expected = Self.reference(values, channels: channels, badColor: badColor)
            #expect(Self.vector(values, channels: channels, badColor: badColor) == expected, "trial \(trial): \(values)")
        }
    }

    @Test func subnormalsAndSignedZeros() {
        // Only subnormal negatives: TF's sign test sees -0, so the unsigned branch, and they map to 0.
        #expect(Self.vector([-.leastNonzeroMagnitude, 0.5, 1], channels: 1) == [0, 127, 255])
        #expect(Self.reference([-.leastNonzeroMagnitude, 0.5, 1], channels: 1) == [0, 127, 255])
        #expect(Self.vector([-0.0, 0, 2], channels: 1) == [0, 0, 255])
        #expect(Self.vector([-.leastNormalMagnitude, 0, 1], channels: 1) == [128, 128, 255])
        #expect(Self.vector([.leastNonzeroMagnitude, .leastNonzeroMagnitude], channels: 1) == [0, 0])
    }

    @Test func nonFinitePixelsAreLeftOutOfTheRange() {
        // The NaN pixel's finite channels do not widen the range of the others.
        let rgb: [Float] = [-100, .nan, 100, 0, 1, 2]
        #expect(Self.vector(rgb, channels: 3) == [255, 0, 0, 0, 127, 255])
        #expect(Self.reference(rgb, channels: 3) == [255, 0, 0, 0, 127, 255])
        #expect(Self.vector([.nan, .infinity], channels: 1) == [255, 255])
        #expect(Self.vector([], channels: 4).isEmpty)
    }

    @Test func finiteExtremes() {
        #expect(ImageNormalization.finiteExtremes([Float]().span)! == (.infinity, -.infinity))
        let values = (0..<100).map { Float($0) - 30 }
        #expect(ImageNormalization.finiteExtremes(values.span)! == (-30, 69))
        for position in [0, 15, 16, 63, 99] {
            for poison in [Float.nan, .infinity, -.infinity] {
                var poisoned = values
                poisoned[position] = poison
                #expect(ImageNormalization.finiteExtremes(poisoned.span) == nil)
            }
        }
    }
}
