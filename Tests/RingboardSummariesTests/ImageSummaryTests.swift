import Foundation
import RingboardFormat
import RingboardTestSupport
import Testing
@testable import RingboardSummaries

/// What TensorFlow 2.21's image summary made of chosen float tensors
/// (`Fixtures/tf_images.json`: `tf.compat.v1.summary.image`, its PNGs decoded to pixels).
struct GoldenImageCase: CustomStringConvertible {
    struct Image {
        var tag: String
        var height: Int
        var width: Int
        var colorspace: Int
        var pixels: [UInt8]
    }

    var name: String
    var shape: [Int]
    var values: [Float]
    var maxImages: Int
    var images: [Image]

    var description: String { name }

    static let all: [GoldenImageCase] = {
        let path = packageRoot + "/Tests/RingboardSummariesTests/Fixtures/tf_images.json"
        let data = try! Data(contentsOf: URL(fileURLWithPath: path))
        let root = try! JSONSerialization.jsonObject(with: data) as! [String: Any]
        return (root["cases"] as! [[String: Any]]).map { entry in
            // NaN and infinities are null in "values" and spelled out in "nonfinite" by index.
            var values = (entry["values"] as! [Any]).map { ($0 as? NSNumber).map { Float($0.doubleValue) } ?? .nan }
            for (index, spelling) in entry["nonfinite"] as! [String: String] {
                values[Int(index)!] = ["inf": Float.infinity, "-inf": -Float.infinity, "nan": Float.nan][spelling]!
            }
            return GoldenImageCase(
                name: entry["name"] as! String, shape: entry["shape"] as! [Int], values: values,
                maxImages: entry["max_images"] as! Int,
                images: (entry["images"] as! [[String: Any]]).map {
                    Image(
                        tag: $0["tag"] as! String, height: $0["height"] as! Int, width: $0["width"] as! Int,
                        colorspace: $0["colorspace"] as! Int, pixels: ($0["pixels"] as! [Int]).map { UInt8($0) })
                })
        }
    }()
}

@Suite struct ImageSummaryTests {
    /// Every golden case, pixel for pixel, tag for tag, before PNG encoding.
    @Test(arguments: GoldenImageCase.all)
    func goldenImagesBeforeEncoding(golden: GoldenImageCase) throws {
        let images = try ImageSummary.images(tag: "w", shape: golden.shape, values: golden.values, maxImages: golden.maxImages)
        #expect(images.count == golden.images.count)
        for (ours, theirs) in zip(images, golden.images) {
            #expect(ours.tag == theirs.tag)
            #expect(ours.height == theirs.height && ours.width == theirs.width && ours.channels == theirs.colorspace)
            #expect(ours.pixels == theirs.pixels, "\(theirs.tag): first difference at \(zip(ours.pixels, theirs.pixels).enumerated().first { $1.0 != $1.1 }.map { "\($0)" } ?? "end")")
        }
    }

    /// Every golden case through the whole path (summary values with PNGs), decoded by Pillow.
    @Test func goldenImagesEncodedDecodeToTensorFlowsPixels() throws {
        try #require(PNGReference.pythonAvailable, "run Scripts/setup.sh to create .venv")
        var pngs: [[UInt8]] = []
        var expected: [(tag: String, image: GoldenImageCase.Image)] = []
        for golden in GoldenImageCase.all {
            let values = try ImageSummary.values(tag: "w", shape: golden.shape, values: golden.values, maxImages: golden.maxImages)
            #expect(values.count == golden.images.count, "\(golden.name)")
            for (value, image) in zip(values, golden.images) {
                guard case .image(let summaryImage) = value.kind else {
                    Issue.record("\(golden.name): not an image value")
                    continue
                }
                #expect(value.tag == image.tag && value.metadata == nil)
                #expect(summaryImage.height == Int32(image.height) && summaryImage.width == Int32(image.width))
                #expect(summaryImage.colorspace == Int32(image.colorspace))
                pngs.append(summaryImage.encodedImage)
                expected.append(("\(golden.name) \(image.tag)", image))
            }
        }
        let reports = try PNGReference.decode(pngs)
        #expect(reports.count == 12 && reports.count == expected.count)  // 9 cases, 12 images
        for (report, (label, image)) in zip(reports, expected) {
            #expect(report.pillowError == nil, "\(label): \(report.pillowError ?? "")")
            #expect(report.pillowMode == ["L", "LA", "RGB", "RGBA"][image.colorspace - 1], "\(label)")
            #expect(report.pillowWidth == image.width && report.pillowHeight == image.height, "\(label)")
            #expect(report.pillowPixels == image.pixels, "\(label)")
        }
    }

    /// The tag depends on how many images were asked for, not on how many there are.
    @Test func tagsFollowMaxImages() throws {
        let values = (0..<(4 * 2 * 3)).map { Float($0) }
        let four = try ImageSummary.images(tag: "t", shape: [4, 2, 3, 1], values: values)
        #expect(four.map(\.tag) == ["t/image/0", "t/image/1", "t/image/2"])
        let one = try ImageSummary.images(tag: "t", shape: [4, 2, 3, 1], values: values, maxImages: 1)
        #expect(one.map(\.tag) == ["t/image"])
        let single = try ImageSummary.images(tag: "t", shape: [1, 2, 3, 1], values: Array(values.prefix(6)), maxImages: 10)
        #expect(single.map(\.tag) == ["t/image/0"])
        let two = try ImageSummary.images(tag: "a/b", shape: [4, 2, 3, 1], values: values, maxImages: 2)
        #expect(two.map(\.tag) == ["a/b/image/0", "a/b/image/1"])
        #expect(try ImageSummary.images(tag: "t", shape: [0, 2, 3, 1], values: []).isEmpty)
        #expect(ImageSummary.tag("x", index: 5, maxImages: 3) == "x/image/5")
        #expect(ImageSummary.tag("x", index: 0, maxImages: 1) == "x/image")
    }

    /// Each image of a batch is scaled on its own.
    @Test func imagesAreScaledOneByOne() throws {
        let images = try ImageSummary.images(tag: "t", shape: [2, 1, 2, 1], values: [0, 1, -10, 10])
        #expect(images.map(\.pixels) == [[0, 255], [1, 255]])
    }

    @Test func eightBitImagesPassThrough() throws {
        let pixels = (0..<(5 * 2 * 3 * 4)).map { UInt8(truncatingIfNeeded: $0 * 37) }
        let images = try ImageSummary.images(tag: "u", shape: [5, 2, 3, 4], pixels: pixels)
        #expect(images.count == 3)
        for (i, image) in images.enumerated() {
            #expect(image.tag == "u/image/\(i)" && image.height == 2 && image.width == 3 && image.channels == 4)
            #expect(image.pixels == Array(pixels[(i * 24)..<((i + 1) * 24)]))
        }
        let values = try ImageSummary.values(tag: "u", shape: [5, 2, 3, 4], pixels: pixels, maxImages: 1)
        #expect(values.map(\.tag) == ["u/image"])
    }

    /// Non-finite pixels take as many channels of the bad colour as the image has.
    @Test func badColorTakesTheImagesChannels() throws {
        let gray = try ImageSummary.images(tag: "g", shape: [1, 1, 2, 1], values: [.nan, 1])
        #expect(gray[0].pixels == [255, 255])
        let rgb = try ImageSummary.images(tag: "c", shape: [1, 1, 2, 3], values: [1, .infinity, 1, 0, 0.5, 1])
        #expect(rgb[0].pixels == [255, 0, 0, 0, 127, 255])
        let rgba = try ImageSummary.images(tag: "c", shape: [1, 1, 1, 4], values: [1, 1, -.infinity, 1])
        #expect(rgba[0].pixels == [255, 0, 0, 255])
        let custom = try ImageSummary.images(tag: "c", shape: [1, 1, 2, 3], values: [.nan, 0, 0, 1, 1, 1], badColor: [1, 2, 3])
        #expect(custom[0].pixels == [1, 2, 3, 255, 255, 255])
    }

    /// Where TensorFlow refuses the tensor or fails to encode it, we throw; nothing traps.
    @Test func badInputThrows() {
        func expectShapeError(_ shape: [Int], values count: Int, maxImages: Int = 3, badColor: [UInt8] = ImageSummary.defaultBadColor,
                              _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(throws: SummaryError.self, comment, sourceLocation: sourceLocation) {
                try ImageSummary.images(tag: "t", shape: shape, values: [Float](repeating: 1, count: count), maxImages: maxImages, badColor: badColor)
            }
        }
        expectShapeError([1, 2, 2, 1], values: 3, "too few values")
        expectShapeError([1, 2, 2, 1], values: 5, "too many values")
        expectShapeError([2, 2, 1], values: 4, "rank 3")
        expectShapeError([1, 1, 2, 2, 1], values: 4, "rank 5")
        expectShapeError([], values: 1, "rank 0")
        expectShapeError([1, 2, 2, 2], values: 8, "2 channels")
        expectShapeError([1, 2, 2, 5], values: 20, "5 channels")
        expectShapeError([1, -2, 2, 1], values: 4, "negative")
        expectShapeError([1, 1 << 15, 1 << 14, 1], values: 0, "height × width = 2^29")
        expectShapeError([1 << 31, 1, 1, 1], values: 0, "batch of 2^31")
        expectShapeError([1 << 40, 1 << 40, 1 << 40, 1], values: 0, "overflowing sizes")
        expectShapeError([1, 0, 5, 1], values: 0, "no rows")
        expectShapeError([2, 5, 0, 3], values: 0, "no columns")
        expectShapeError([1, 1, 1_000_001, 1], values: 1_000_001, "wider than libpng writes")
        expectShapeError([1, 2, 2, 4], values: 16, badColor: [255, 0, 0], "bad colour shorter than the channels")
        #expect(throws: SummaryError.unsupportedShape(tag: "t", shape: [1, 2, 2, 1], reason: "does not match the 3 values given")) {
            try ImageSummary.values(tag: "t", shape: [1, 2, 2, 1], values: [1, 2, 3])
        }
        #expect(throws: SummaryError.self) {
            try ImageSummary.images(tag: "u", shape: [1, 2, 2, 3], pixels: [1, 2, 3])
        }
        #expect(throws: SummaryError.self) {
            try ImageSummary.Image(tag: "x", height: 1, width: 1, channels: 2, pixels: [0, 0]).summaryValue()
        }
        #expect(throws: SummaryError.self) {
            try ImageSummary.Image(tag: "x", height: 1, width: 2, channels: 1, pixels: [0]).summaryValue()
        }
    }

    /// A batch of empty images is no images at all, as in TensorFlow (nothing to encode).
    @Test func emptyBatchesWriteNothing() throws {
        #expect(try ImageSummary.values(tag: "t", shape: [0, 0, 0, 1], values: []).isEmpty)
        #expect(try ImageSummary.values(tag: "t", shape: [0, 3, 3, 4], pixels: []).isEmpty)
    }

    @Test func libpngsLimitIsAllowedExactly() throws {
        let images = try ImageSummary.images(tag: "t", shape: [1, 1, 1_000_000, 1], values: [Float](repeating: 2, count: 1_000_000))
        #expect(images.count == 1 && images[0].pixels.allSatisfy { $0 == 255 })
    }
}
