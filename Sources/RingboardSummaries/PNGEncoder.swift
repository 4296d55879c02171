/// An 8-bit PNG encoder over zlib, writing what libpng writes with TensorFlow's settings.
///
/// TensorFlow's image summaries are encoded by `png::WriteImageToBuffer`
/// (tensorflow/core/lib/png/png_io.cc) with `compression = -1` (zlib's default level), memory
/// level `MAX_MEM_LEVEL` and libpng's default filtering. With the default options this encoder
/// makes the same choices as libpng 1.6 (pngwutil.c) does for those settings, so that with the
/// same zlib it writes the same bytes:
/// - chunks: the signature, `IHDR`, `IDAT`s of 8192 bytes each (the last one shorter), `IEND`;
/// - filters: each row gets whichever of None, Sub, Up, Average and Paeth has the smallest sum
///   of absolute differences, ties going to the earlier one; a one-row image tries only None
///   and Sub, a one-column image only None and Up, a 1×1 image only None (`png_write_start_row`);
/// - deflate: strategy `Z_FILTERED` when rows may be filtered, `Z_DEFAULT_STRATEGY` otherwise; for
///   images of at most 16 KiB of filtered rows, the window is shrunk to fit and the zlib header's
///   window size is lowered to the smallest that still covers the data (`png_deflate_claim`,
///   `optimize_cmf`).
///
/// Rows are filtered one at a time and streamed through deflate, so besides its input the encoder
/// holds two filtered rows, zlib's state and the output.
public struct PNGEncoder: Sendable {
    /// The pixel layouts the encoder writes, all with 8 bits per channel.
    public enum ColorType: UInt8, Sendable, CaseIterable {
        /// One channel (PNG colour type 0).
        case grayscale = 0
        /// Red, green, blue (PNG colour type 2).
        case rgb = 2
        /// Red, green, blue, alpha (PNG colour type 6).
        case rgba = 6

        /// The colour type with this many channels: 1, 3 or 4.
        ///
        /// - Parameter channels: Channels per pixel.
        public init?(channels: Int) {
            switch channels {
            case 1: self = .grayscale
            case 3: self = .rgb
            case 4: self = .rgba
            default: return nil
            }
        }

        /// Channels (bytes) per pixel.
        public var channels: Int {
            switch self {
            case .grayscale: 1
            case .rgb: 3
            case .rgba: 4
            }
        }
    }

    /// How rows are filtered before compression.
    public enum FilterStrategy: Sendable, Equatable {
        /// libpng's default: per row, the filter with the smallest sum of absolute differences.
        case adaptive
        /// Every row with this one filter (on the first row the row above counts as zeros).
        case only(PNGFilter)
    }

    /// The zlib compression level: 0 (store) to 9 (smallest), or -1 for zlib's default, 6.
    public var compressionLevel: Int
    /// How rows are filtered.
    public var filterStrategy: FilterStrategy
    /// Whether an image that does not compress (noise) is stored rather than compressed from
    /// where that shows: once 64 KiB of filtered rows are compressed, if they came to more than
    /// nine tenths of their size, the rest of the rows are neither filtered nor compressed. The
    /// pixels are the same; the bytes are no longer libpng's, and deflate's time on incompressible
    /// data is spared. Images under twice that size are compressed whole. Off by default
    /// (TensorFlow's exact bytes).
    public var storesIncompressible = false

    /// Filtered bytes compressed before `storesIncompressible` looks at how well they compressed.
    static let compressibilitySample = 64 << 10
    /// The size of each IDAT chunk but the last: libpng's `PNG_ZBUF_SIZE`.
    static let idatSize = 8192
    /// The PNG signature (PNG §5.2).
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    /// The largest width or height PNG allows (PNG §11.2.2): 2^31 - 1.
    public static let maximumDimension = Int(Int32.max)

    /// Creates an encoder.
    ///
    /// - Parameters:
    ///   - compressionLevel: 0–9, or -1 (the default, as TensorFlow passes) for zlib's default, 6.
    ///   - filterStrategy: How rows are filtered; `.adaptive` (the default) as libpng does.
    public init(compressionLevel: Int = -1, filterStrategy: FilterStrategy = .adaptive) {
        precondition((-1...9).contains(compressionLevel), "compression level must be -1 or 0...9")
        self.compressionLevel = compressionLevel
        self.filterStrategy = filterStrategy
    }

    /// Encodes an image as PNG.
    ///
    /// - Parameters:
    ///   - pixels: Rows top to bottom, each pixel's channels together (`[height][width][channels]`).
    ///   - width: Pixels per row, 1 to 2^31 - 1.
    ///   - height: Rows, 1 to 2^31 - 1.
    ///   - colorType: The pixel layout.
    /// - Returns: The PNG file's bytes.
    /// - Throws: `SummaryError.unsupportedShape` when the size is out of range or `pixels` holds
    ///   the wrong number of bytes; `SummaryError.compression` when zlib fails.
    public func encode(_ pixels: Span<UInt8>, width: Int, height: Int, colorType: ColorType) throws(SummaryError) -> [UInt8] {
        let channels = colorType.channels
        let shape = [height, width, channels]
        guard (1...Self.maximumDimension).contains(width), (1...Self.maximumDimension).contains(height) else {
            throw .unsupportedShape(tag: "PNG image", shape: shape, reason: "is not 1 to 2^31-1 pixels wide and high")
        }
        let (rowBytes, rowOverflow) = width.multipliedReportingOverflow(by: channels)
        let (imageBytes, imageOverflow) = rowBytes.multipliedReportingOverflow(by: height)
        guard !rowOverflow, !imageOverflow, pixels.count == imageBytes else {
            throw .unsupportedShape(
                tag: "PNG image", shape: shape, reason: "needs \(imageOverflow ? "more" : String(imageBytes)) bytes of pixels, got \(pixels.count)")
        }

        let filters = FilterSet(strategy: filterStrategy, width: width, height: height)
        // png_image_size: the filtered rows' size, when small enough to matter.
        let filteredSize = rowBytes < 32768 && height < 32768 ? (rowBytes + 1) * height : Int(UInt32.max)
        let deflater = try PNGDeflater(
            level: compressionLevel, windowBits: Self.windowBits(forFilteredSize: filteredSize),
            memoryLevel: PNGDeflater.maximumMemoryLevel, strategy: filters.onlyNone ? .standard : .filtered,
            blockSize: Self.idatSize)

        var png: [UInt8] = []
        png.reserveCapacity(Self.signature.count + 25 + 12 + min(imageBytes / 2, 1 << 24) + 64)
        png.append(contentsOf: Self.signature)
        var header: [UInt8] = []
        header.appendBigEndian(UInt32(width))
        header.appendBigEndian(UInt32(height))
        header += [8, colorType.rawValue, 0, 0, 0]  // bit depth, colour type, deflate, filter method 0, no interlace
        png.appendChunk(type: "IHDR", data: header.span)

        var firstIDAT = true
        let appendIDAT = { (data: Span<UInt8>) throws(SummaryError) -> Void in
            let start = png.count
            png.appendBigEndian(UInt32(data.count))
            png.append(contentsOf: "IDAT".utf8)
            PNGDeflater.append(data, to: &png)
            if firstIDAT {
                Self.optimizeWindowSize(of: &png, at: start + 8, filteredSize: filteredSize)
                firstIDAT = false
            }
            png.appendBigEndian(PNGDeflater.crc32(png.span.extracting((start + 4)...)))
        }

        let zeros = [UInt8](repeating: 0, count: rowBytes)  // the row above the first
        var best = [UInt8](repeating: 0, count: rowBytes + 1)
        var trial = [UInt8](repeating: 0, count: rowBytes + 1)
        // With `storesIncompressible`: whether the compressibility was looked at, and the outcome.
        var looked = !storesIncompressible || imageBytes < 2 * Self.compressibilitySample, storing = false
        for y in 0..<height {
            let row = pixels.extracting((y * rowBytes)..<((y + 1) * rowBytes))
            if storing {
                // Filter type 0 (none), the row as it is.
                best[0] = 0
                row.withUnsafeBufferPointer { source in best.withUnsafeMutableBufferPointer { _ = $0[1...].initialize(fromContentsOf: source) } }
            } else {
                let previous = y == 0 ? zeros.span : pixels.extracting(((y - 1) * rowBytes)..<(y * rowBytes))
                filters.filter(row: row, previous: previous, bytesPerPixel: channels, best: &best, trial: &trial)
            }
            try deflater.compress(best.span, finish: false, emit: appendIDAT)
            if !looked && deflater.totalIn >= Self.compressibilitySample {
                looked = true
                try deflater.endBlock(emit: appendIDAT)
                if deflater.totalOut * 10 > deflater.totalIn * 9 {
                    storing = true
                    try deflater.storeRest(emit: appendIDAT)
                }
            }
        }
        try deflater.compress(Span(), finish: true, emit: appendIDAT)

        png.appendChunk(type: "IEND", data: Span())
        return png
    }

    /// Encodes an image as PNG.
    ///
    /// - Parameters:
    ///   - pixels: Rows top to bottom, each pixel's channels together (`[height][width][channels]`).
    ///   - width: Pixels per row, 1 to 2^31 - 1.
    ///   - height: Rows, 1 to 2^31 - 1.
    ///   - colorType: The pixel layout.
    /// - Returns: The PNG file's bytes.
    /// - Throws: `SummaryError.unsupportedShape` when the size is out of range or `pixels` holds
    ///   the wrong number of bytes; `SummaryError.compression` when zlib fails.
    public func encode(_ pixels: [UInt8], width: Int, height: Int, colorType: ColorType) throws(SummaryError) -> [UInt8] {
        try encode(pixels.span, width: width, height: height, colorType: colorType)
    }

    /// The deflate window for this much filtered data: libpng's `png_deflate_claim` halves the
    /// 32 KiB window while the data and deflate's 262-byte lookahead fit in half of it.
    static func windowBits(forFilteredSize size: Int) -> Int {
        var windowBits = PNGDeflater.maximumWindowBits
        if size <= 16384 {
            var halfWindow = 1 << (windowBits - 1)
            while size + 262 <= halfWindow {
                halfWindow >>= 1
                windowBits -= 1
            }
        }
        return windowBits
    }

    /// libpng's `optimize_cmf`: lowers the window size the zlib header (at `offset`) declares to
    /// the smallest that covers `filteredSize` bytes, which inflaters may use to allocate less,
    /// and recomputes the header's check bits (RFC 1950 §2.2).
    static func optimizeWindowSize(of bytes: inout [UInt8], at offset: Int, filteredSize: Int) {
        guard filteredSize <= 16384, offset + 1 < bytes.count else { return }
        var cmf = Int(bytes[offset])
        guard cmf & 0x0F == 8, cmf & 0xF0 <= 0x70 else { return }
        var info = cmf >> 4
        var halfWindow = 1 << (info + 7)
        guard filteredSize <= halfWindow else { return }
        repeat {
            halfWindow >>= 1
            info -= 1
        } while info > 0 && filteredSize <= halfWindow
        cmf = (cmf & 0x0F) | (info << 4)
        var flags = Int(bytes[offset + 1]) & 0xE0
        flags += 0x1F - ((cmf << 8) + flags) % 0x1F
        bytes[offset] = UInt8(cmf)
        bytes[offset + 1] = UInt8(truncatingIfNeeded: flags)
    }
}

extension PNGEncoder {
    /// The filters tried on each row, and the choice among them.
    struct FilterSet {
        /// The filters, in libpng's order of trial: None, Sub, Up, Average, Paeth.
        let filters: [PNGFilter]

        init(strategy: FilterStrategy, width: Int, height: Int) {
            switch strategy {
            case .only(let filter):
                filters = [filter]
            case .adaptive:
                // png_write_start_row: no filter that looks up on a single row, or left on a single column.
                filters = PNGFilter.allCases.filter { filter in
                    !(height == 1 && [.up, .average, .paeth].contains(filter))
                        && !(width == 1 && [.sub, .average, .paeth].contains(filter))
                }
            }
        }

        /// Whether every row is stored unfiltered (zlib then gets `Z_DEFAULT_STRATEGY`).
        var onlyNone: Bool { filters == [.none] }

        /// Filters `row` into `best` with the filter libpng would choose (`png_write_find_filter`):
        /// None's sum first, then each other filter in turn replaces the best only with a strictly
        /// smaller sum. `trial` is scratch space of the same size.
        func filter(row: Span<UInt8>, previous: Span<UInt8>, bytesPerPixel: Int, best: inout [UInt8], trial: inout [UInt8]) {
            if filters.count == 1 {
                var output = best.mutableSpan
                _ = filters[0].apply(row: row, previous: previous, bytesPerPixel: bytesPerPixel, into: &output)
                return
            }
            var smallest = Int.max
            for filter in filters {
                var output = trial.mutableSpan
                let sum = filter.apply(row: row, previous: previous, bytesPerPixel: bytesPerPixel, into: &output, limit: smallest)
                if sum < smallest {
                    smallest = sum
                    swap(&best, &trial)
                }
            }
        }
    }
}

fileprivate extension [UInt8] {
    /// Appends a 32-bit integer, most significant byte first (PNG's byte order).
    mutating func appendBigEndian(_ value: UInt32) {
        append(UInt8(truncatingIfNeeded: value >> 24))
        append(UInt8(truncatingIfNeeded: value >> 16))
        append(UInt8(truncatingIfNeeded: value >> 8))
        append(UInt8(truncatingIfNeeded: value))
    }

    /// Appends a PNG chunk (PNG §5.3): length, type, data, and the CRC-32 of type and data.
    mutating func appendChunk(type: String, data: Span<UInt8>) {
        let start = count
        appendBigEndian(UInt32(data.count))
        append(contentsOf: type.utf8)
        PNGDeflater.append(data, to: &self)
        appendBigEndian(PNGDeflater.crc32(span.extracting((start + 4)...)))
    }
}
