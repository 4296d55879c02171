import RingboardTestSupport
import Testing
@testable import RingboardSummaries

/// The PNG file structure (PNG §5, §11.2.2), read back here without zlib: signature, chunk order,
/// lengths and CRC-32s, IHDR fields, IDAT sizes and the zlib header.
@Suite struct PNGEncoderTests {
    /// CRC-32 as PNG §5.5 and Annex D define it (the sample code's table): independent of zlib's.
    static let crcTable: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 == 1 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func crc32(_ bytes: some Sequence<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = crcTable[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return ~crc
    }

    struct Chunk {
        var type: String
        var data: [UInt8]
        var crcOK: Bool
    }

    static func bigEndian(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        bytes.reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// Splits a PNG file into chunks, checking each CRC; records an issue for anything malformed.
    static func chunks(of png: [UInt8]) -> [Chunk] {
        #expect(Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        var chunks: [Chunk] = []
        var position = 8
        while position + 12 <= png.count {
            let length = Int(bigEndian(png[position..<(position + 4)]))
            guard position + 12 + length <= png.count else { break }
            let typeAndData = png[(position + 4)..<(position + 8 + length)]
            let crc = bigEndian(png[(position + 8 + length)..<(position + 12 + length)])
            chunks.append(Chunk(
                type: String(decoding: typeAndData.prefix(4), as: UTF8.self), data: Array(typeAndData.dropFirst(4)),
                crcOK: crc == crc32(typeAndData)))
            position += 12 + length
        }
        #expect(position == png.count, "bytes after the last chunk")
        return chunks
    }

    static func crcsHold(_ chunks: [Chunk]) -> Bool {
        chunks.allSatisfy { $0.crcOK }
    }

    static let sizes: [(width: Int, height: Int)] = [(1, 1), (1, 7), (7, 1), (1, 300), (300, 1), (3, 3), (5, 2), (13, 11), (99, 3), (1024, 1024)]

    @Test(arguments: PNGEncoder.ColorType.allCases)
    func chunksAndHeaderFields(colorType: PNGEncoder.ColorType) throws {
        for (width, height) in Self.sizes {
            let pixels = TestImages.mixed(width: width, height: height, channels: colorType.channels)
            let png = try PNGEncoder().encode(pixels, width: width, height: height, colorType: colorType)
            let chunks = Self.chunks(of: png)
            let label = "\(width)×\(height) \(colorType)"
            #expect(Self.crcsHold(chunks), "\(label)")
            #expect(chunks.first?.type == "IHDR" && chunks.last?.type == "IEND", "\(label)")
            #expect(chunks.last?.data.isEmpty == true, "\(label)")
            #expect(chunks.dropFirst().dropLast().allSatisfy { $0.type == "IDAT" }, "\(label)")
            let header = chunks[0].data
            #expect(header.count == 13)
            #expect(Self.bigEndian(header[0..<4]) == UInt32(width) && Self.bigEndian(header[4..<8]) == UInt32(height), "\(label)")
            #expect(Array(header[8...]) == [8, colorType.rawValue, 0, 0, 0], "\(label)")  // depth, colour, deflate, filter 0, no interlace

            // libpng's IDAT split: full 8192-byte chunks, then the rest.
            let idats = chunks.filter { $0.type == "IDAT" }
            #expect(!idats.isEmpty && idats.dropLast().allSatisfy { $0.data.count == 8192 }, "\(label)")
            #expect((1...8192).contains(idats.last!.data.count), "\(label)")

            // The zlib header (RFC 1950): deflate, a valid check, no preset dictionary, and the
            // window libpng's optimize_cmf declares for this much data.
            let cmf = Int(idats[0].data[0])
            let flags = Int(idats[0].data[1])
            #expect(cmf & 0x0F == 8 && (cmf << 8 | flags) % 31 == 0 && flags & 0x20 == 0, "\(label)")
            let filteredSize = (width * colorType.channels + 1) * height
            var expectedInfo = 7
            while expectedInfo > 0 && filteredSize <= 1 << (expectedInfo + 7) { expectedInfo -= 1 }
            #expect(cmf >> 4 == (filteredSize <= 16384 ? expectedInfo : 7), "\(label): \(filteredSize) bytes")
        }
    }

    @Test func deflateWindowShrinksForSmallImagesAsLibpngDoes() {
        // png_deflate_claim: halve the window while size + 262 <= half of it.
        #expect(PNGEncoder.windowBits(forFilteredSize: 2) == 9)
        #expect(PNGEncoder.windowBits(forFilteredSize: 250) == 9)  // 512 <= 512: down to 2^9
        #expect(PNGEncoder.windowBits(forFilteredSize: 251) == 10)
        #expect(PNGEncoder.windowBits(forFilteredSize: 8192 - 262) == 13)
        #expect(PNGEncoder.windowBits(forFilteredSize: 8192 - 261) == 14)
        #expect(PNGEncoder.windowBits(forFilteredSize: 16384 - 262) == 14)
        #expect(PNGEncoder.windowBits(forFilteredSize: 16384 - 261) == 15)
        #expect(PNGEncoder.windowBits(forFilteredSize: 16384) == 15)
        #expect(PNGEncoder.windowBits(forFilteredSize: 16385) == 15)
        #expect(PNGEncoder.windowBits(forFilteredSize: 1 << 30) == 15)
    }

    @Test func zlibHeaderIsRewrittenOnlyForSmallData() {
        // 0x78 0x9C: a 32 KiB window, default level.
        var bytes: [UInt8] = [0x78, 0x9C]
        PNGEncoder.optimizeWindowSize(of: &bytes, at: 0, filteredSize: 100)
        #expect(bytes[0] >> 4 == 0 && (Int(bytes[0]) << 8 | Int(bytes[1])) % 31 == 0 && bytes[1] & 0xE0 == 0x80)
        bytes = [0x78, 0x9C]
        PNGEncoder.optimizeWindowSize(of: &bytes, at: 0, filteredSize: 16385)
        #expect(bytes == [0x78, 0x9C])
        bytes = [0x78, 0x9C]
        PNGEncoder.optimizeWindowSize(of: &bytes, at: 0, filteredSize: 16384)
        #expect(bytes[0] == 0x68 && (Int(bytes[0]) << 8 | Int(bytes[1])) % 31 == 0)
    }

    @Test func encodingIsDeterministicAndLevelsTrade() throws {
        let pixels = TestImages.smooth(width: 256, height: 256)
        let defaultLevel = try PNGEncoder().encode(pixels, width: 256, height: 256, colorType: .grayscale)
        #expect(try PNGEncoder().encode(pixels, width: 256, height: 256, colorType: .grayscale) == defaultLevel)
        #expect(try PNGEncoder(compressionLevel: 6).encode(pixels, width: 256, height: 256, colorType: .grayscale) == defaultLevel)
        let stored = try PNGEncoder(compressionLevel: 0).encode(pixels, width: 256, height: 256, colorType: .grayscale)
        let fastest = try PNGEncoder(compressionLevel: 1).encode(pixels, width: 256, height: 256, colorType: .grayscale)
        let smallest = try PNGEncoder(compressionLevel: 9).encode(pixels, width: 256, height: 256, colorType: .grayscale)
        #expect(stored.count > 256 * 257 && stored.count > fastest.count && fastest.count >= smallest.count)
        #expect(Self.crcsHold(Self.chunks(of: stored)))
    }

    @Test func filterStrategiesAllGiveValidFiles() throws {
        let pixels = TestImages.mixed(width: 40, height: 30, channels: 3)
        for strategy in [PNGEncoder.FilterStrategy.adaptive] + PNGFilter.allCases.map({ .only($0) }) {
            let png = try PNGEncoder(filterStrategy: strategy).encode(pixels, width: 40, height: 30, colorType: .rgb)
            #expect(Self.crcsHold(Self.chunks(of: png)), "\(strategy)")
        }
    }

    @Test func wrongSizesThrowInsteadOfTrapping() {
        let encoder = PNGEncoder()
        #expect(throws: SummaryError.unsupportedShape(tag: "PNG image", shape: [2, 3, 1], reason: "needs 6 bytes of pixels, got 5")) {
            try encoder.encode([UInt8](repeating: 0, count: 5), width: 3, height: 2, colorType: .grayscale)
        }
        #expect(throws: SummaryError.unsupportedShape(tag: "PNG image", shape: [2, 2, 4], reason: "needs 16 bytes of pixels, got 17")) {
            try encoder.encode([UInt8](repeating: 0, count: 17), width: 2, height: 2, colorType: .rgba)
        }
        for (width, height) in [(0, 1), (1, 0), (0, 0), (-1, 5), (5, -1), (1 << 31, 1), (1, 1 << 31)] {
            #expect(throws: SummaryError.self, "\(width)×\(height)") {
                try encoder.encode([], width: width, height: height, colorType: .grayscale)
            }
        }
        #expect(throws: SummaryError.self) {
            try encoder.encode([], width: Int.max / 2, height: Int.max / 2, colorType: .rgb)  // byte count overflows
        }
    }

    @Test func colorTypesNameTheirChannels() {
        #expect(PNGEncoder.ColorType(channels: 1) == .grayscale)
        #expect(PNGEncoder.ColorType(channels: 3) == .rgb)
        #expect(PNGEncoder.ColorType(channels: 4) == .rgba)
        #expect(PNGEncoder.ColorType(channels: 2) == nil && PNGEncoder.ColorType(channels: 0) == nil)
        #expect(PNGEncoder.ColorType.allCases.map(\.channels) == [1, 3, 4])
    }

    /// The CRC here is zlib's; check it on the PNG specification's own example, the IEND chunk.
    @Test func chunkCRCIsPNGsCRC32() {
        #expect(PNGDeflater.crc32(Array("IEND".utf8).span) == 0xAE42_6082)
        #expect(Self.crc32("IEND".utf8) == 0xAE42_6082)
        #expect(PNGDeflater.crc32([UInt8]().span) == 0)
        let text = Array("123456789".utf8)
        #expect(PNGDeflater.crc32(text.span) == 0xCBF4_3926)
        #expect(PNGDeflater.crc32(Array(text[4...]).span, continuing: PNGDeflater.crc32(Array(text[..<4]).span)) == 0xCBF4_3926)
    }
}
