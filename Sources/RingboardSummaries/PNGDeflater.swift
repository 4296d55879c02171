internal import CZlib

/// A zlib deflate stream that hands its output over in fixed-size blocks, and zlib's CRC-32.
///
/// This is the only type in the module that holds C pointers. zlib keeps a pointer from its
/// internal state back to the `z_stream` and checks it on every call (`deflateStateCheck`), so
/// the stream must not move: it is allocated here, at a fixed address, and freed in `deinit`
/// after `deflateEnd`. The output block is allocated alongside it; deflate writes straight into
/// it, and each full block (and the last, partial one) is lent to the caller as a `Span`.
///
/// The block size plays the part of libpng's `zbuffer_size` (`PNG_ZBUF_SIZE`, 8192): libpng
/// writes one IDAT chunk each time its block fills (`png_compress_IDAT` in pngwutil.c).
///
/// - Warning: Not thread-safe. A deflater is used by one thread at a time, for one stream.
final class PNGDeflater {
    /// zlib's `strategy` argument, as libpng picks it (`png_deflate_claim`).
    enum Strategy {
        /// `Z_DEFAULT_STRATEGY`: libpng's `PNG_Z_DEFAULT_NOFILTER_STRATEGY`, for unfiltered rows.
        case standard
        /// `Z_FILTERED`: libpng's `PNG_Z_DEFAULT_STRATEGY`, used whenever rows may be filtered.
        case filtered
    }

    /// zlib's default compression level, `Z_DEFAULT_COMPRESSION` (level 6).
    static let defaultLevel = -1
    /// The largest `windowBits` (`MAX_WBITS`): a 32 KiB window.
    static let maximumWindowBits = 15
    /// zlib's largest `memLevel` (`MAX_MEM_LEVEL`), which TensorFlow's PNG writer asks for.
    static let maximumMemoryLevel = 9

    private let stream: UnsafeMutablePointer<z_stream>
    private let block: UnsafeMutablePointer<UInt8>
    /// How many bytes of output are handed over at a time (the last block may be shorter).
    let blockSize: Int
    private var finished = false

    /// Starts a zlib stream (`deflateInit2`, with a zlib header and trailer).
    ///
    /// - Parameters:
    ///   - level: 0–9, or -1 for zlib's default (6).
    ///   - windowBits: 9–15, the base-2 logarithm of the window size.
    ///   - memoryLevel: 1–9; more memory, faster and often smaller output.
    ///   - strategy: How deflate searches for matches.
    ///   - blockSize: The size of the output blocks handed to `compress`'s `emit`.
    /// - Throws: `SummaryError.compression` when zlib refuses the parameters or has no memory.
    init(level: Int, windowBits: Int, memoryLevel: Int, strategy: Strategy, blockSize: Int) throws(SummaryError) {
        precondition(blockSize > 0 && blockSize <= Int(UInt32.max), "block size out of range")
        stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())  // zalloc, zfree and opaque nil: zlib's own malloc and free
        block = UnsafeMutablePointer<UInt8>.allocate(capacity: blockSize)
        self.blockSize = blockSize

        let zlibStrategy = strategy == .filtered ? Z_FILTERED : Z_DEFAULT_STRATEGY
        let status = deflateInit2_(
            stream, Int32(clamping: level), Z_DEFLATED, Int32(clamping: windowBits), Int32(clamping: memoryLevel),
            zlibStrategy, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            let message = Self.message(status: status, stream: stream)
            stream.deinitialize(count: 1)
            stream.deallocate()
            block.deallocate()
            // deinit does not run for an instance whose initializer throws.
            throw .compression("deflateInit2(level: \(level), windowBits: \(windowBits), memLevel: \(memoryLevel)): \(message)")
        }
        stream.pointee.next_out = block
        stream.pointee.avail_out = UInt32(blockSize)
    }

    deinit {
        deflateEnd(stream)  // Z_DATA_ERROR for a stream freed before Z_FINISH: nothing to report
        stream.deinitialize(count: 1)
        stream.deallocate()
        block.deallocate()
    }

    /// Compresses `input`, handing over each output block as it fills.
    ///
    /// Input is consumed completely (`Z_NO_FLUSH`, as libpng feeds rows). With `finish`, the
    /// stream is ended (`Z_FINISH`): every pending byte and the Adler-32 trailer are written and
    /// the last, possibly shorter, block is handed over; no call may follow that one.
    ///
    /// - Parameters:
    ///   - input: Bytes to compress; may be empty.
    ///   - finish: Whether this is the end of the stream.
    ///   - emit: Receives each block of output, in order.
    /// - Throws: `SummaryError.compression` for a zlib error, or what `emit` throws.
    /// - Warning: Do not escape the span `emit` receives: its memory is reused for the next block.
    func compress(
        _ input: Span<UInt8>, finish: Bool, emit: (Span<UInt8>) throws(SummaryError) -> Void
    ) throws(SummaryError) {
        precondition(!finished, "compress called after the stream was finished")
        if input.isEmpty && !finish { return }
        try input.withUnsafeBufferPointer { (buffer) throws(SummaryError) -> Void in
            // zlib's z_const is empty in this build, so next_in is a mutable pointer; deflate only reads it.
            stream.pointee.next_in = buffer.baseAddress.map { UnsafeMutablePointer(mutating: $0) }
            var remaining = buffer.count
            while true {
                // avail_in is a 32-bit count; feed larger inputs in pieces (libpng's ZLIB_IO_MAX).
                let piece = min(remaining, Int(UInt32.max))
                stream.pointee.avail_in = UInt32(piece)
                remaining -= piece
                let flush = remaining > 0 || !finish ? Z_NO_FLUSH : Z_FINISH
                let status = deflate(stream, flush)
                remaining += Int(stream.pointee.avail_in)
                stream.pointee.avail_in = 0

                if stream.pointee.avail_out == 0 {
                    try emit(UnsafeBufferPointer(start: block, count: blockSize).span)
                    stream.pointee.next_out = block
                    stream.pointee.avail_out = UInt32(blockSize)
                    // With Z_FINISH deflate must be called again until it reports the stream's end.
                    if status == Z_OK && flush != Z_NO_FLUSH { continue }
                }
                switch status {
                case Z_OK where flush == Z_NO_FLUSH:
                    if remaining == 0 { return }
                case Z_STREAM_END where flush == Z_FINISH:
                    let count = blockSize - Int(stream.pointee.avail_out)
                    if count > 0 { try emit(UnsafeBufferPointer(start: block, count: count).span) }
                    stream.pointee.next_out = nil
                    stream.pointee.avail_out = 0
                    finished = true
                    return
                default:
                    throw .compression("deflate: \(Self.message(status: status, stream: stream))")
                }
            }
        }
        stream.pointee.next_in = nil
    }

    /// Bytes compressed so far, and bytes of output so far (the stream's header included).
    var totalIn: Int { Int(stream.pointee.total_in) }
    var totalOut: Int { Int(stream.pointee.total_out) }

    /// Ends the current deflate block (`Z_BLOCK`), so that `totalOut` covers all the input so far.
    func endBlock(emit: (Span<UInt8>) throws(SummaryError) -> Void) throws(SummaryError) {
        precondition(!finished, "endBlock called after the stream was finished")
        while true {
            let status = deflate(stream, Z_BLOCK)
            guard status == Z_OK || status == Z_BUF_ERROR else { throw .compression("deflate: \(Self.message(status: status, stream: stream))") }
            guard stream.pointee.avail_out == 0 else { return }
            try emit(UnsafeBufferPointer(start: block, count: blockSize).span)
            stream.pointee.next_out = block
            stream.pointee.avail_out = UInt32(blockSize)
        }
    }

    /// Stores the rest of the input without compressing it (`deflateParams` to level 0).
    func storeRest(emit: (Span<UInt8>) throws(SummaryError) -> Void) throws(SummaryError) {
        precondition(!finished, "storeRest called after the stream was finished")
        while true {
            let status = deflateParams(stream, 0, Z_DEFAULT_STRATEGY)
            if status == Z_OK { return }
            // Z_BUF_ERROR: the pending output needs room first.
            guard status == Z_BUF_ERROR else { throw .compression("deflateParams: \(Self.message(status: status, stream: stream))") }
            let count = blockSize - Int(stream.pointee.avail_out)
            guard count > 0 else { throw .compression("deflateParams: no progress") }
            try emit(UnsafeBufferPointer(start: block, count: count).span)
            stream.pointee.next_out = block
            stream.pointee.avail_out = UInt32(blockSize)
        }
    }

    /// zlib's description of a status, with the stream's own message when it has one.
    private static func message(status: Int32, stream: UnsafeMutablePointer<z_stream>) -> String {
        var text = String(cString: zError(status))
        if let detail = stream.pointee.msg { text += " (\(String(cString: detail)))" }
        return text
    }

    /// Appends the bytes of a span to an array: a bulk copy, which the standard library offers
    /// only through a buffer pointer so far.
    ///
    /// - Parameters:
    ///   - bytes: The bytes to append.
    ///   - array: The array to append them to.
    static func append(_ bytes: Span<UInt8>, to array: inout [UInt8]) {
        bytes.withUnsafeBufferPointer { array.append(contentsOf: $0) }
    }

    /// The CRC-32 of a run of bytes (ISO 3309, the checksum of PNG chunks), computed by zlib.
    ///
    /// - Parameters:
    ///   - bytes: The bytes to checksum.
    ///   - crc: The CRC of the bytes before these, to continue a checksum; 0 to start one.
    /// - Returns: The CRC-32 of the bytes (after those `crc` covers).
    static func crc32(_ bytes: Span<UInt8>, continuing crc: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return crc }
            return UInt32(truncatingIfNeeded: crc32_z(UInt(crc), base, buffer.count))
        }
    }
}
