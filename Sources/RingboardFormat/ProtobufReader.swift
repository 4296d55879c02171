/// Reads protobuf wire format from a byte array, field by field, checking every length against the
/// bytes that are there. Fields it is not asked about are skipped by wire type.
struct ProtobufReader {
    private let bytes: [UInt8]
    private var index: Int
    private let end: Int

    init(_ bytes: [UInt8]) {
        self.init(bytes, range: 0..<bytes.count)
    }

    private init(_ bytes: [UInt8], range: Range<Int>) {
        self.bytes = bytes
        self.index = range.lowerBound
        self.end = range.upperBound
    }

    /// One field's key and undecoded value.
    struct Field {
        var number: Int
        var wireType: WireType
        /// The varint, or the bits of a fixed32/fixed64 value.
        var scalar: UInt64
        /// The bytes of a length-delimited value.
        var range: Range<Int>
    }

    var isAtEnd: Bool { index >= end }

    /// The next field, or `nil` at the end of the message.
    mutating func nextField() throws(ProtobufError) -> Field? {
        guard index < end else { return nil }
        let key = try readVarint()
        let number = key >> 3
        guard number > 0, number <= 536_870_911 else { throw .invalidFieldNumber(offset: index) }
        guard let wireType = WireType(rawValue: UInt8(key & 7)) else {
            throw .invalidWireType(offset: index)
        }
        switch wireType {
        case .varint:
            return Field(number: Int(number), wireType: wireType, scalar: try readVarint(), range: 0..<0)
        case .fixed64:
            return Field(number: Int(number), wireType: wireType, scalar: try readFixed(8), range: 0..<0)
        case .fixed32:
            return Field(number: Int(number), wireType: wireType, scalar: try readFixed(4), range: 0..<0)
        case .lengthDelimited:
            let length = try readVarint()
            guard length <= UInt64(end - index) else { throw .truncated(offset: index) }
            let range = index..<(index + Int(length))
            index = range.upperBound
            return Field(number: Int(number), wireType: wireType, scalar: 0, range: range)
        case .startGroup, .endGroup:
            // Groups are deprecated and never used by the messages in an event file.
            throw .invalidWireType(offset: index)
        }
    }

    private mutating func readVarint() throws(ProtobufError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard index < end else { throw .truncated(offset: index) }
            let byte = bytes[index]
            index += 1
            guard shift < 64 else { throw .malformedVarint(offset: index - 1) }
            result |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    private mutating func readFixed(_ size: Int) throws(ProtobufError) -> UInt64 {
        guard end - index >= size else { throw .truncated(offset: index) }
        var result: UInt64 = 0
        for k in 0..<size {
            result |= UInt64(bytes[index + k]) << (8 * UInt64(k))
        }
        index += size
        return result
    }

    // MARK: Typed access to a field

    func message(_ field: Field) throws(ProtobufError) -> ProtobufReader {
        try expect(field, .lengthDelimited)
        return ProtobufReader(bytes, range: field.range)
    }

    func bytes(_ field: Field) throws(ProtobufError) -> [UInt8] {
        try expect(field, .lengthDelimited)
        return Array(bytes[field.range])
    }

    func string(_ field: Field) throws(ProtobufError) -> String {
        try expect(field, .lengthDelimited)
        guard let string = String(validating: bytes[field.range], as: UTF8.self) else {
            throw .invalidUTF8(offset: field.range.lowerBound)
        }
        return string
    }

    func double(_ field: Field) throws(ProtobufError) -> Double {
        try expect(field, .fixed64)
        return Double(bitPattern: field.scalar)
    }

    func float(_ field: Field) throws(ProtobufError) -> Float {
        try expect(field, .fixed32)
        return Float(bitPattern: UInt32(truncatingIfNeeded: field.scalar))
    }

    /// An `int64`/`int32`/enum field; `int32` values are sign-extended varints.
    func int64(_ field: Field) throws(ProtobufError) -> Int64 {
        try expect(field, .varint)
        return Int64(bitPattern: field.scalar)
    }

    /// A repeated fixed-width field, packed or not; appends to `values`.
    func appendRepeatedFixed<T>(
        _ field: Field, size: Int, to values: inout [T], _ convert: (UInt64) -> T
    ) throws(ProtobufError) {
        switch field.wireType {
        case .lengthDelimited:
            guard field.range.count % size == 0 else { throw .truncated(offset: field.range.upperBound) }
            values.reserveCapacity(values.count + field.range.count / size)
            var at = field.range.lowerBound
            while at < field.range.upperBound {
                var raw: UInt64 = 0
                for k in 0..<size { raw |= UInt64(bytes[at + k]) << (8 * UInt64(k)) }
                values.append(convert(raw))
                at += size
            }
        case .fixed64 where size == 8, .fixed32 where size == 4:
            values.append(convert(field.scalar))
        default:
            throw .unexpectedWireType(field: field.number, offset: field.range.lowerBound)
        }
    }

    /// A repeated varint field, packed or not; appends to `values`.
    func appendRepeatedVarint<T>(
        _ field: Field, to values: inout [T], _ convert: (UInt64) -> T
    ) throws(ProtobufError) {
        switch field.wireType {
        case .lengthDelimited:
            var packed = ProtobufReader(bytes, range: field.range)
            while !packed.isAtEnd { values.append(convert(try packed.readVarint())) }
        case .varint:
            values.append(convert(field.scalar))
        default:
            throw .unexpectedWireType(field: field.number, offset: field.range.lowerBound)
        }
    }

    private func expect(_ field: Field, _ type: WireType) throws(ProtobufError) {
        guard field.wireType == type else {
            throw .unexpectedWireType(field: field.number, offset: field.range.lowerBound)
        }
    }
}

/// Why bytes are not a valid protobuf message; offsets count from the start of the record.
public enum ProtobufError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A varint or a length-delimited field runs past the end.
    case truncated(offset: Int)
    /// A varint longer than ten bytes.
    case malformedVarint(offset: Int)
    /// A field key with field number 0 or one out of range.
    case invalidFieldNumber(offset: Int)
    /// A wire type that is not allowed (groups or values 6 and 7).
    case invalidWireType(offset: Int)
    /// A known field with the wrong wire type.
    case unexpectedWireType(field: Int, offset: Int)
    /// A string field that is not UTF-8.
    case invalidUTF8(offset: Int)

    /// A one-line description.
    public var description: String {
        switch self {
        case .truncated(let offset): "protobuf value runs past the end at byte \(offset)"
        case .malformedVarint(let offset): "malformed varint at byte \(offset)"
        case .invalidFieldNumber(let offset): "invalid field number at byte \(offset)"
        case .invalidWireType(let offset): "invalid wire type at byte \(offset)"
        case .unexpectedWireType(let field, let offset): "field \(field) has the wrong wire type at byte \(offset)"
        case .invalidUTF8(let offset): "string is not UTF-8 at byte \(offset)"
        }
    }
}
