import RingboardFormat
import RingboardTestSupport
import Testing
@testable import RingboardSummaries

/// The TF 2.0 Keras callback's weight → image rules (`_log_weight_as_image`), checked against a
/// literal transcription of its numpy-style reshapes and transposes.
@Suite struct WeightImageTests {
    /// `_log_weight_as_image` step by step on a row-major array: squeeze, then the rank cases,
    /// with transposes done by index arithmetic. `nil` where the callback writes nothing.
    static func keras(shape: [Int], values: [Float]) -> (shape: [Int], values: [Float])? {
        let squeezed = shape.filter { $0 != 1 }  // array_ops.squeeze
        var imageShape: [Int]
        var image = values
        switch squeezed.count {
        case 1:
            imageShape = [1, squeezed[0], 1, 1]
        case 2:
            var (h, w) = (squeezed[0], squeezed[1])
            if h > w {  // array_ops.transpose: out[j][i] = in[i][j]
                image = (0..<(w * h)).map { k in values[(k % h) * w + k / h] }
                (h, w) = (w, h)
            }
            imageShape = [1, h, w, 1]
        case 3:
            let (h, w, c) = (squeezed[0], squeezed[1], squeezed[2])  // perm [2, 0, 1]: out[k][i][j] = in[i][j][k]
            image = (0..<(c * h * w)).map { n in
                let (k, i, j) = (n / (h * w), n / w % h, n % w)
                return values[(i * w + j) * c + k]
            }
            imageShape = [c, h, w, 1]
        default:
            imageShape = squeezed
        }
        guard imageShape.count == 4, [1, 3, 4].contains(imageShape[3]) else { return nil }
        return (imageShape, image)
    }

    static func values(_ count: Int, seed: UInt64 = 1) -> [Float] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { _ in Float.random(in: -1...1, using: &generator) }
    }

    @Test func layoutForEachRank() {
        // Rank 0 (after squeezing): skipped.
        #expect(WeightImage.layout(forShape: []) == .skipped(squeezedShape: []))
        #expect(WeightImage.layout(forShape: [1]) == .skipped(squeezedShape: []))
        #expect(WeightImage.layout(forShape: [1, 1, 1]) == .skipped(squeezedShape: []))
        // Rank 1: one image, n high and one pixel wide.
        #expect(WeightImage.layout(forShape: [5]) == .images(shape: [1, 5, 1, 1], arrangement: .asIs))
        #expect(WeightImage.layout(forShape: [1, 5]) == .images(shape: [1, 5, 1, 1], arrangement: .asIs))
        #expect(WeightImage.layout(forShape: [5, 1]) == .images(shape: [1, 5, 1, 1], arrangement: .asIs))
        // Rank 2: transposed when taller than wide.
        #expect(WeightImage.layout(forShape: [3, 5]) == .images(shape: [1, 3, 5, 1], arrangement: .asIs))
        #expect(WeightImage.layout(forShape: [4, 4]) == .images(shape: [1, 4, 4, 1], arrangement: .asIs))
        #expect(WeightImage.layout(forShape: [5, 3]) == .images(shape: [1, 3, 5, 1], arrangement: .transposed))
        #expect(WeightImage.layout(forShape: [784, 10]) == .images(shape: [1, 10, 784, 1], arrangement: .transposed))
        #expect(WeightImage.layout(forShape: [1, 5, 1, 3]) == .images(shape: [1, 3, 5, 1], arrangement: .transposed))
        // Rank 3: one image per channel.
        #expect(WeightImage.layout(forShape: [3, 3, 8]) == .images(shape: [8, 3, 3, 1], arrangement: .channelsFirst))
        #expect(WeightImage.layout(forShape: [3, 3, 1, 16]) == .images(shape: [16, 3, 3, 1], arrangement: .channelsFirst))
        #expect(WeightImage.layout(forShape: [5, 2, 3]) == .images(shape: [3, 5, 2, 1], arrangement: .channelsFirst))
        // Rank 4: written as it is when the last dimension is 1, 3 or 4 (after squeezing, so never 1).
        #expect(WeightImage.layout(forShape: [3, 3, 2, 4]) == .images(shape: [3, 3, 2, 4], arrangement: .asIs))
        #expect(WeightImage.layout(forShape: [5, 5, 3, 3]) == .images(shape: [5, 5, 3, 3], arrangement: .asIs))
        #expect(WeightImage.layout(forShape: [3, 3, 2, 16]) == .skipped(squeezedShape: [3, 3, 2, 16]))
        #expect(WeightImage.layout(forShape: [3, 3, 2, 2]) == .skipped(squeezedShape: [3, 3, 2, 2]))
        // Rank 5: skipped, unless squeezing brings it down.
        #expect(WeightImage.layout(forShape: [2, 2, 2, 2, 3]) == .skipped(squeezedShape: [2, 2, 2, 2, 3]))
        #expect(WeightImage.layout(forShape: [1, 2, 3, 4, 1]) == .images(shape: [4, 2, 3, 1], arrangement: .channelsFirst))
        #expect(WeightImage.layout(forShape: [3, 3, 3, 1, 4]) == .images(shape: [3, 3, 3, 4], arrangement: .asIs))
        // Zero-sized dimensions are kept by squeeze.
        #expect(WeightImage.layout(forShape: [0]) == .images(shape: [1, 0, 1, 1], arrangement: .asIs))
        #expect(WeightImage.layout(forShape: [2, 2, 0]) == .images(shape: [0, 2, 2, 1], arrangement: .channelsFirst))
    }

    /// Our images equal the image summary of the callback's tensor, for every kind of shape.
    @Test(arguments: [
        [7], [1, 7], [4, 6], [6, 4], [9, 9], [1, 9, 1, 2], [3, 3, 5], [5, 4, 3], [3, 3, 1, 2], [2, 3, 4, 3], [2, 3, 4, 4],
        [4, 3, 2, 1], [1, 2, 3, 4, 1], [3, 3, 64], [300, 17], [17, 300], [65, 40],
    ])
    func imagesMatchTheCallbacksTensor(shape: [Int]) throws {
        let values = Self.values(shape.reduce(1, *), seed: UInt64(shape.reduce(0, +)))
        let ours = try WeightImage.images(name: "layer/kernel_0", shape: shape, values: values)
        let (imageShape, imageValues) = try #require(Self.keras(shape: shape, values: values))
        let expected = try ImageSummary.images(tag: "layer/kernel_0", shape: imageShape, values: imageValues)
        #expect(ours == expected)
        #expect(ours?.count == min(3, imageShape[0]))
        #expect(ours?.first?.tag == "layer/kernel_0/image/0")
    }

    @Test(arguments: [[], [1], [1, 1], [2, 2, 2, 2], [3, 3, 2, 16], [2, 2, 2, 2, 3], [2, 2, 2, 2, 2, 2]])
    func skippedWeightsWriteNothing(shape: [Int]) throws {
        let values = Self.values(shape.reduce(1, *))
        #expect(Self.keras(shape: shape, values: values) == nil)
        #expect(try WeightImage.images(name: "w", shape: shape, values: values) == nil)
        #expect(try WeightImage.summaryValues(name: "w", shape: shape, values: values) == nil)
    }

    @Test func transposeMovesEveryValue() {
        for (rows, columns) in [(1, 1), (1, 5), (5, 1), (31, 33), (64, 32), (100, 7)] {
            let values = (0..<(rows * columns)).map { Float($0) }
            let transposed = WeightImage.transpose(values.span, rows: rows, columns: columns)
            for row in 0..<rows {
                for column in 0..<columns where transposed[column * rows + row] != values[row * columns + column] {
                    Issue.record("\(rows)×\(columns): [\(row)][\(column)] misplaced")
                }
            }
        }
    }

    /// A 3×3 convolution with 512 filters: three images, one per leading channel.
    @Test func manyChannelsCostOnlyTheImagesWritten() throws {
        let shape = [3, 3, 512]
        let values: [Float] = (0..<(3 * 3 * 512)).map { (n: Int) -> Float in Float(n % 512) - Float(n / 512) }
        let images: [ImageSummary.Image] = try #require(try WeightImage.images(name: "conv/kernel_0", shape: shape, values: values))
        #expect(images.map { $0.tag } == ["conv/kernel_0/image/0", "conv/kernel_0/image/1", "conv/kernel_0/image/2"])
        let sizesOK = images.allSatisfy { $0.height == 3 && $0.width == 3 && $0.channels == 1 }
        #expect(sizesOK)
        let planes = WeightImage.channelPlanes(values.span, pixels: 9, channels: 512, count: 3)
        var expected: [Float] = []
        for channel in 0..<3 {
            for pixel in 0..<9 { expected.append(values[pixel * 512 + channel]) }
        }
        #expect(planes == expected)
    }

    /// Golden TF images seen as weights: a bias of 12 values is the golden 1×12 image turned
    /// upright (the same pixels, 12 high), and a 7×4 kernel is the golden 4×7 image transposed.
    @Test func goldenImagesThroughTheWeightPath() throws {
        let bias = try #require(GoldenImageCase.all.first { $0.name == "bias_like" })
        let biasImages = try #require(try WeightImage.images(name: "dense/bias_0", shape: [12], values: bias.values))
        #expect(biasImages.count == 1 && biasImages[0].height == 12 && biasImages[0].width == 1)
        #expect(biasImages[0].pixels == bias.images[0].pixels)

        let signed = try #require(GoldenImageCase.all.first { $0.name == "signed" })  // [1, 4, 7, 1]
        let kernel = (0..<28).map { k in signed.values[(k % 4) * 7 + k / 4] }  // the 4×7 values as a 7×4 matrix
        let kernelImages = try #require(try WeightImage.images(name: "dense/kernel_0", shape: [7, 4], values: kernel))
        #expect(kernelImages.count == 1 && kernelImages[0].height == 4 && kernelImages[0].width == 7)
        #expect(kernelImages[0].pixels == signed.images[0].pixels)
        #expect(try WeightImage.images(name: "w", shape: [4, 7], values: signed.values)?.first?.pixels == signed.images[0].pixels)

        let rgb = try #require(GoldenImageCase.all.first { $0.name == "rgb" })  // [2, 4, 4, 3]: a 4-D weight as it is
        let rgbImages = try #require(try WeightImage.images(name: "w", shape: rgb.shape, values: rgb.values))
        #expect(rgbImages.map(\.pixels) == rgb.images.map(\.pixels))
    }

    @Test func summaryValuesAreEncodedImages() throws {
        let values = try #require(try WeightImage.summaryValues(name: "dense/kernel_0", shape: [10, 3], values: Self.values(30)))
        #expect(values.count == 1 && values[0].tag == "dense/kernel_0/image/0")
        guard case .image(let image) = values[0].kind else {
            Issue.record("not an image")
            return
        }
        #expect(image.height == 3 && image.width == 10 && image.colorspace == 1)
        #expect(Array(image.encodedImage.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        let one = try WeightImage.summaryValues(name: "b", shape: [4], values: [1, 2, 3, 4], maxImages: 1)
        #expect(one?.map(\.tag) == ["b/image"])
    }

    @Test func badInputThrows() throws {
        #expect(throws: SummaryError.unsupportedShape(tag: "w", shape: [2, 3], reason: "does not match the 5 values given")) {
            try WeightImage.images(name: "w", shape: [2, 3], values: [1, 2, 3, 4, 5])
        }
        #expect(throws: SummaryError.self) { try WeightImage.summaryValues(name: "w", shape: [2, -3], values: [1, 2, 3, 4, 5, 6]) }
        #expect(throws: SummaryError.self) { try WeightImage.images(name: "w", shape: [Int.max, 3], values: []) }
        #expect(throws: SummaryError.self) { try WeightImage.images(name: "w", shape: [], values: []) }
        // Shapes TF's image kernel fails on: an empty bias (no rows), a vector longer than libpng writes.
        #expect(throws: SummaryError.self) { try WeightImage.images(name: "w", shape: [0], values: []) }
        #expect(throws: SummaryError.self) { try WeightImage.images(name: "w", shape: [5, 0], values: []) }
        #expect(throws: SummaryError.self) {
            try WeightImage.images(name: "w", shape: [1_000_001], values: [Float](repeating: 0, count: 1_000_001))
        }
        // No channels: no images, as in TF.
        #expect(try WeightImage.images(name: "w", shape: [2, 2, 0], values: []) == [])
    }
}

/// Weights as Keras 3 shows them: `tf.summary.image`'s conversion and string tensor.
@Suite struct WeightImageTensorBoardTests {
    @Test func valuesAreScaledBy255Point5ClampedAndTruncated() {
        let cases: [(Float, UInt8)] = [
            (-1, 0), (0, 0), (0.001, 0), (0.004, 1), (0.5, 127), (0.998, 254), (0.999, 255), (1, 255), (7, 255),
            (.nan, 0), (.infinity, 255), (-.infinity, 0),
        ]
        for (value, pixel) in cases { #expect(WeightImage.convertedToUInt8(value) == pixel, "\(value)") }
    }

    @Test func aKernelIsOneStringTensorOfWidthHeightAndPNGs() throws {
        // A [2, 3, 4] Conv1D kernel: channels first, 4 images of 2×3, of which 3 are written.
        let values = (0..<24).map { Float($0) / 23 }
        let value = try #require(try WeightImage.tensorBoardValue(tag: "conv/kernel/image", shape: [2, 3, 4], values: values.span))
        #expect(value.tag == "conv/kernel/image" && value.metadata?.pluginName == "images" && value.metadata?.pluginContent == [])
        guard case .tensor(let tensor) = value.kind else { Issue.record("not a tensor"); return }
        #expect(tensor.dtype == .string && tensor.shape == [5])
        #expect(tensor.stringValues[0] == Array("3".utf8) && tensor.stringValues[1] == Array("2".utf8))
        #expect(tensor.stringValues[2...].allSatisfy { $0.starts(with: [0x89, 0x50, 0x4e, 0x47]) })
        // A scalar weight is skipped, as Keras skips it.
        #expect(try WeightImage.tensorBoardValue(tag: "s/image", shape: [1], values: [Float(1)].span) == nil)
    }
}
