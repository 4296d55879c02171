/// A growable byte buffer that owns its memory: the one place in this module that holds a raw
/// pointer to encoded bytes.
///
/// Encoders append protobuf fields and TFRecord frames to it; the event-file writer hands its bytes
/// to `pwrite`. It grows by doubling and never shrinks, so a writer that keeps one buffer encodes
/// with no allocation once the buffer has reached its working size.
///
/// - Warning: Not thread-safe; its owner serialises access.
struct WireBuffer: ~Copyable {
    private var base: UnsafeMutableRawPointer
    private var capacity: Int
    /// The number of bytes written so far.
    private(set) var count: Int = 0

    /// Creates an empty buffer with room for `capacity` bytes.
    init(capacity: Int = 4096) {
        precondition(capacity > 0, "WireBuffer capacity must be positive")
        self.capacity = capacity
        self.base = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
    }

    deinit {
        base.deallocate()
    }

    var isEmpty: Bool { count == 0 }

    /// Makes room for `additional` more bytes past `count`.
    @inline(__always)
    mutating func reserve(_ additional: Int) {
        if count + additional > capacity {
            grow(to: count + additional)
        }
    }

    private mutating func grow(to needed: Int) {
        var newCapacity = capacity
        while newCapacity < needed { newCapacity *= 2 }
        let newBase = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
        newBase.copyMemory(from: base, byteCount: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }

    @inline(__always)
    mutating func append(byte: UInt8) {
        reserve(1)
        base.storeBytes(of: byte, toByteOffset: count, as: UInt8.self)
        count += 1
    }

    /// Appends `value` as a base-128 varint (protobuf wire type 0).
    @inline(__always)
    mutating func appendVarint(_ value: UInt64) {
        reserve(10)
        var v = value
        while v >= 0x80 {
            base.storeBytes(of: UInt8(truncatingIfNeeded: v) | 0x80, toByteOffset: count, as: UInt8.self)
            count += 1
            v >>= 7
        }
        base.storeBytes(of: UInt8(truncatingIfNeeded: v), toByteOffset: count, as: UInt8.self)
        count += 1
    }

    @inline(__always)
    mutating func appendLittleEndian(_ value: UInt32) {
        reserve(4)
        base.storeBytes(of: value.littleEndian, toByteOffset: count, as: UInt32.self)
        count += 4
    }

    @inline(__always)
    mutating func appendLittleEndian(_ value: UInt64) {
        reserve(8)
        base.storeBytes(of: value.littleEndian, toByteOffset: count, as: UInt64.self)
        count += 8
    }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        reserve(bytes.count)
        (base + count).copyMemory(from: source, byteCount: bytes.count)
        count += bytes.count
    }

    mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    /// Appends the UTF-8 bytes of `string` without copying it into an intermediate array.
    mutating func append(utf8 string: String) {
        var string = string
        string.withUTF8 { append(UnsafeRawBufferPointer($0)) }
    }

    /// Appends `byteCount` bytes that `write` sets, all of them, through a pointer to the first.
    ///
    /// - Warning: Do not escape the pointer from the closure for later use.
    @inline(__always)
    mutating func append(byteCount: Int, _ write: (UnsafeMutableRawPointer) -> Void) {
        reserve(byteCount)
        write(base + count)
        count += byteCount
    }

    /// Appends the bytes `write` writes through a pointer to the first, at most `maximum`; it
    /// returns how many it wrote.
    ///
    /// - Warning: Do not escape the pointer from the closure for later use.
    @inline(__always)
    mutating func append(upTo maximum: Int, _ write: (UnsafeMutableRawPointer) -> Int) {
        reserve(maximum)
        let written = write(base + count)
        precondition(written >= 0 && written <= maximum, "more bytes written than reserved")
        count += written
    }

    /// Appends `count` bytes whose values are set later with `store(_:at:)`.
    mutating func appendPlaceholder(_ byteCount: Int) -> Int {
        reserve(byteCount)
        let offset = count
        count += byteCount
        return offset
    }

    @inline(__always)
    mutating func store(_ value: UInt64, at offset: Int) {
        precondition(offset >= 0 && offset + 8 <= count)
        base.storeBytes(of: value.littleEndian, toByteOffset: offset, as: UInt64.self)
    }

    @inline(__always)
    mutating func store(_ value: UInt32, at offset: Int) {
        precondition(offset >= 0 && offset + 4 <= count)
        base.storeBytes(of: value.littleEndian, toByteOffset: offset, as: UInt32.self)
    }

    /// Closes a length-delimited field whose body started at `bodyStart`, one byte after a single
    /// reserved length byte: writes the body length as a varint there, moving the body up when
    /// the length needs more than one byte.
    mutating func finishLengthDelimited(bodyStart: Int) {
        let length = count - bodyStart
        if length < 0x80 {
            base.storeBytes(of: UInt8(length), toByteOffset: bodyStart - 1, as: UInt8.self)
            return
        }
        let lengthSize = WireBuffer.varintSize(UInt64(length))
        reserve(lengthSize - 1)
        (base + bodyStart + lengthSize - 1).copyMemory(from: base + bodyStart, byteCount: length)
        var v = UInt64(length)
        var at = bodyStart - 1
        while v >= 0x80 {
            base.storeBytes(of: UInt8(truncatingIfNeeded: v) | 0x80, toByteOffset: at, as: UInt8.self)
            at += 1
            v >>= 7
        }
        base.storeBytes(of: UInt8(truncatingIfNeeded: v), toByteOffset: at, as: UInt8.self)
        count += lengthSize - 1
    }

    /// Calls `body` with the bytes in `range`.
    ///
    /// - Warning: Do not escape the pointer from the closure for later use.
    func withUnsafeBytes<R, E: Error>(
        in range: Range<Int>, _ body: (UnsafeRawBufferPointer) throws(E) -> R
    ) throws(E) -> R {
        precondition(range.lowerBound >= 0 && range.upperBound <= count)
        return try body(UnsafeRawBufferPointer(start: base + range.lowerBound, count: range.count))
    }

    /// Calls `body` with the bytes in `range`, to change them in place.
    ///
    /// - Warning: Do not escape the pointer from the closure for later use.
    mutating func withUnsafeMutableBytes<R>(in range: Range<Int>, _ body: (UnsafeMutableRawBufferPointer) -> R) -> R {
        precondition(range.lowerBound >= 0 && range.upperBound <= count)
        return body(UnsafeMutableRawBufferPointer(start: base + range.lowerBound, count: range.count))
    }

    /// Calls `body` with all bytes written so far.
    ///
    /// - Warning: Do not escape the pointer from the closure for later use.
    func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try withUnsafeBytes(in: 0..<count, body)
    }

    /// A copy of the bytes written so far.
    var bytes: [UInt8] {
        withUnsafeBytes { Array($0) }
    }

    /// Forgets the contents, keeping the memory.
    mutating func removeAll() {
        count = 0
    }

    /// Drops the first `n` bytes, moving the rest to the front.
    mutating func removeFirst(_ n: Int) {
        precondition(n >= 0 && n <= count)
        if n < count {
            base.copyMemory(from: base + n, byteCount: count - n)
        }
        count -= n
    }

    /// Drops every byte from `newCount` on.
    mutating func truncate(to newCount: Int) {
        precondition(newCount >= 0 && newCount <= count)
        count = newCount
    }

    static func varintSize(_ value: UInt64) -> Int {
        // 1 byte per 7 significant bits, at least one byte.
        let bits = 64 - (value | 1).leadingZeroBitCount
        return (bits + 6) / 7
    }
}
