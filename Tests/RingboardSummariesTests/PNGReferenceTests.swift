import Foundation
import RingboardSummaries
import RingboardTestSupport
import Testing

/// Independent readers and a reference writer for our PNGs, through
/// `Tests/Conformance/png_reference.py`: Pillow decodes them, a chunk walk of its own checks
/// their structure, and the system's libpng, driven as TensorFlow's png_io.cc drives it, encodes
/// the same pixels for a byte-by-byte comparison.
enum PNGReference {
    static let script = packageRoot + "/Tests/Conformance/png_reference.py"

    /// What the reference script reports about one PNG file.
    struct Report {
        var signatureOK: Bool
        /// (type, length, CRC holds) per chunk, in order.
        var chunks: [(type: String, length: Int, crcOK: Bool)]
        var width: Int
        var height: Int
        var bitDepth: Int
        var colorType: Int
        var zlibHeader: [UInt8]
        var zlibComplete: Bool
        var inflatedLengthOK: Bool
        var trailingBytes: Int
        /// The filter type byte of each row.
        var filters: [UInt8]
        /// Pillow's mode ("L", "RGB", "RGBA"), or its error.
        var pillowMode: String?
        var pillowError: String?
        var pillowWidth: Int
        var pillowHeight: Int
        var pillowPixels: [UInt8]
    }

    static var pythonAvailable: Bool { FileManager.default.isExecutableFile(atPath: venvPython) }

    /// Decodes PNG files with Pillow and walks their chunks, in one Python process.
    static func decode(_ pngs: [[UInt8]]) throws -> [Report] {
        let directory = TemporaryDirectory("ringboard-png")
        var paths: [String] = []
        for (index, png) in pngs.enumerated() {
            let path = directory.appending("\(index).png")
            try Data(png).write(to: URL(fileURLWithPath: path))
            paths.append(path)
        }
        let manifest = directory.appending("manifest.json")
        try JSONSerialization.data(withJSONObject: paths).write(to: URL(fileURLWithPath: manifest))
        let result = try run(venvPython, [script, "decode", manifest], timeout: 120)
        guard result.status == 0 else { throw ReferenceFailure(output: result) }
        let entries = try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as! [[String: Any]]
        return entries.map { entry in
            let ihdr = entry["ihdr"] as? [String: Int] ?? [:]
            let pillow = entry["pillow"] as? [String: Any] ?? [:]
            return Report(
                signatureOK: entry["signature"] as? Bool ?? false,
                chunks: (entry["chunks"] as? [[String: Any]] ?? []).map {
                    ($0["type"] as! String, $0["length"] as! Int, $0["crc_ok"] as! Bool)
                },
                width: ihdr["width"] ?? -1, height: ihdr["height"] ?? -1, bitDepth: ihdr["bit_depth"] ?? -1,
                colorType: ihdr["color_type"] ?? -1,
                zlibHeader: (entry["zlib_header"] as? [Int] ?? []).map { UInt8($0) },
                zlibComplete: entry["zlib_complete"] as? Bool ?? false,
                inflatedLengthOK: entry["inflated_length_ok"] as? Bool ?? false,
                trailingBytes: entry["trailing_bytes"] as? Int ?? -1,
                filters: (entry["filters"] as? [Int] ?? []).map { UInt8($0) },
                pillowMode: pillow["mode"] as? String, pillowError: pillow["error"] as? String,
                pillowWidth: pillow["width"] as? Int ?? -1, pillowHeight: pillow["height"] as? Int ?? -1,
                pillowPixels: bytes(hex: pillow["pixels"] as? String ?? ""))
        }
    }

    /// An image for the libpng writer.
    struct Image {
        var pixels: [UInt8]
        var width: Int
        var height: Int
        var channels: Int
    }

    /// Encodes images with the system's libpng as TensorFlow's png_io.cc does; `nil` when libpng
    /// is not installed. Also returns the libpng and zlib versions used.
    static func libpngEncode(_ images: [Image]) throws -> (pngs: [[UInt8]], versions: String)? {
        let directory = TemporaryDirectory("ringboard-libpng")
        var cases: [[String: Any]] = []
        for (index, image) in images.enumerated() {
            let pixels = directory.appending("\(index).raw")
            try Data(image.pixels).write(to: URL(fileURLWithPath: pixels))
            cases.append([
                "pixels": pixels, "width": image.width, "height": image.height, "channels": image.channels,
                "output": directory.appending("\(index).png"),
            ])
        }
        let manifest = directory.appending("manifest.json")
        try JSONSerialization.data(withJSONObject: cases).write(to: URL(fileURLWithPath: manifest))
        let result = try run(venvPython, [script, "libpng", manifest], timeout: 120)
        if result.status == 3 { return nil }
        guard result.status == 0 else { throw ReferenceFailure(output: result) }
        let pngs = try cases.map { [UInt8](try Data(contentsOf: URL(fileURLWithPath: $0["output"] as! String))) }
        return (pngs, result.standardOutput)
    }

    struct ReferenceFailure: Error, CustomStringConvertible {
        var output: ProcessOutput
        var description: String { "png_reference.py exited \(output.status): \(output.standardError)" }
    }
}

/// Test images: smooth, noisy, flat and striped, so that every filter gets chosen somewhere.
enum TestImages {
    /// A deterministic image of `width × height × channels` bytes mixing gradients, texture and noise.
    static func mixed(width: Int, height: Int, channels: Int, seed: UInt64 = 1) -> [UInt8] {
        var generator = SeededGenerator(seed: seed)
        var pixels = [UInt8](repeating: 0, count: width * height * channels)
        for y in 0..<height {
            for x in 0..<width {
                for c in 0..<channels {
                    let index = (y * width + x) * channels + c
                    switch (y / 7 + c) % 5 {
                    case 0: pixels[index] = UInt8(truncatingIfNeeded: x * 3 + c * 40)  // horizontal ramp: Sub
                    case 1: pixels[index] = UInt8(truncatingIfNeeded: (x * 7) ^ (x >> 2) &+ c)  // repeats down: Up
                    case 2: pixels[index] = UInt8(truncatingIfNeeded: x * 2 + y * 3 + c)  // planar: Average / Paeth
                    case 3: pixels[index] = UInt8(truncatingIfNeeded: generator.next())  // noise: None
                    default: pixels[index] = UInt8(truncatingIfNeeded: (x * x + y * y) / 9 + c * 17)
                    }
                }
            }
        }
        return pixels
    }

    /// A smooth, weight-like grayscale image (what the callback's images mostly look like).
    static func smooth(width: Int, height: Int, seed: UInt64 = 7) -> [UInt8] {
        var generator = SeededGenerator(seed: seed)
        var pixels = [UInt8](repeating: 0, count: width * height)
        for y in 0..<height {
            for x in 0..<width {
                let wave = sin(Double(x) * 0.013) * cos(Double(y) * 0.021) + 0.25 * sin(Double(x + 2 * y) * 0.005)
                let noise = Double(generator.next() % 1000) / 1000 * 0.1 - 0.05
                pixels[y * width + x] = UInt8(max(0, min(255, 128 + 100 * (wave + noise))))
            }
        }
        return pixels
    }
}

@Suite(.serialized) struct PNGReferenceTests {
    /// The sizes and layouts the byte-for-byte comparison covers.
    static let cases: [(width: Int, height: Int, channels: Int)] = [
        (1, 1, 1), (1, 1, 3), (1, 1, 4), (1, 9, 1), (9, 1, 1), (1, 33, 4), (33, 1, 3), (2, 2, 1), (3, 5, 3),
        (7, 3, 4), (17, 13, 1), (31, 29, 3), (64, 64, 4), (101, 47, 1), (255, 3, 3), (300, 200, 1), (512, 96, 4),
        (1024, 1024, 1),
    ]

    static func images(includingLarge: Bool = true) -> [PNGReference.Image] {
        cases.enumerated().filter { includingLarge || $1.width * $1.height < 1 << 20 }.map { index, size in
            let pixels = size.width * size.height >= 1 << 20
                ? TestImages.smooth(width: size.width, height: size.height)
                : TestImages.mixed(width: size.width, height: size.height, channels: size.channels, seed: UInt64(index))
            return PNGReference.Image(pixels: pixels, width: size.width, height: size.height, channels: size.channels)
        }
    }

    /// With the same zlib, our encoder writes exactly the bytes libpng writes with TensorFlow's
    /// settings: the same chunks, IDAT split, filter per row, deflate stream and zlib header.
    @Test func bytesMatchLibpngDrivenAsTensorFlowDrivesIt() throws {
        try #require(PNGReference.pythonAvailable, "run Scripts/setup.sh to create .venv")
        let images = Self.images()
        let encoded = try PNGReference.libpngEncode(images)
        let (reference, versions) = try #require(
            encoded, "libpng is not installed here: run Scripts/setup.sh, which installs it (apt: libpng-dev)")
        #expect(reference.count == images.count && reference.allSatisfy { $0.count > 8 })
        for (image, expected) in zip(images, reference) {
            let ours = try PNGEncoder().encode(
                image.pixels, width: image.width, height: image.height, colorType: PNGEncoder.ColorType(channels: image.channels)!)
            #expect(ours == expected, "\(image.width)×\(image.height)×\(image.channels): \(ours.count) bytes vs libpng's \(expected.count) (\(versions))")
        }
    }

    /// Pillow decodes every image to the pixels we encoded, whatever the filters.
    @Test(arguments: [PNGEncoder.FilterStrategy.adaptive] + PNGFilter.allCases.map { .only($0) })
    func pillowDecodesOurPixels(strategy: PNGEncoder.FilterStrategy) throws {
        try #require(PNGReference.pythonAvailable, "run Scripts/setup.sh to create .venv")
        // The 1024×1024 image once, with the filters libpng would choose.
        let images = Self.images(includingLarge: strategy == .adaptive)
        let encoder = PNGEncoder(filterStrategy: strategy)
        let pngs = try images.map { image in
            try encoder.encode(image.pixels, width: image.width, height: image.height, colorType: PNGEncoder.ColorType(channels: image.channels)!)
        }
        let reports = try PNGReference.decode(pngs)
        #expect(reports.count == images.count)
        for (image, report) in zip(images, reports) {
            let label = "\(image.width)×\(image.height)×\(image.channels) \(strategy)"
            #expect(report.pillowError == nil, "\(label): \(report.pillowError ?? "")")
            #expect(report.pillowMode == ["L", "", "RGB", "RGBA"][image.channels - 1], "\(label)")
            #expect(report.pillowWidth == image.width && report.pillowHeight == image.height, "\(label)")
            #expect(report.pillowPixels == image.pixels, "\(label)")
            #expect(report.zlibComplete && report.inflatedLengthOK, "\(label)")
            if case .only(let filter) = strategy {
                #expect(report.filters == Array(repeating: filter.rawValue, count: image.height), "\(label)")
            }
        }
        if strategy == .adaptive {
            // The test images make libpng's heuristic pick every filter somewhere.
            #expect(Set(reports.flatMap(\.filters)) == Set(PNGFilter.allCases.map(\.rawValue)))
        }
    }

    /// With `storesIncompressible`, noise is stored from the first 64 KiB on (the rows after it
    /// unfiltered) and a compressible image is compressed as before; Pillow decodes both to their pixels.
    @Test func noiseIsStoredAndDecodesToItsPixels() throws {
        try #require(PNGReference.pythonAvailable, "run Scripts/setup.sh to create .venv")
        var generator = SystemRandomNumberGenerator()
        let noise = (0..<(300 * 256 * 3)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let smooth = TestImages.smooth(width: 300, height: 256)
        var encoder = PNGEncoder()
        encoder.storesIncompressible = true
        let pngs = try [(noise, 3), (smooth, 1)].map { pixels, channels in
            try encoder.encode(pixels, width: 300, height: pixels.count / 300 / channels, colorType: PNGEncoder.ColorType(channels: channels)!)
        }
        let reports = try PNGReference.decode(pngs)
        #expect(reports[0].pillowPixels == noise && reports[0].zlibComplete && reports[0].inflatedLengthOK)
        #expect(reports[1].pillowPixels == smooth && reports[1].zlibComplete && reports[1].inflatedLengthOK)
        // Noise: unfiltered rows after the sample, and about its own size; the smooth image as TensorFlow's encoder makes it.
        #expect(reports[0].filters.suffix(100).allSatisfy { $0 == 0 } && pngs[0].count < noise.count + noise.count / 50)
        #expect(pngs[1] == (try PNGEncoder().encode(smooth, width: 300, height: smooth.count / 300, colorType: .grayscale)))
    }
}
