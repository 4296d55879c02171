/// Builds a small protobuf message field by field, for messages other modules write whole and
/// rarely (a profile's `RunMetadata`, say). The event hot path uses `WireBuffer` instead.
public struct ProtobufMessage: Sendable {
    private var buffer: [UInt8] = []

    /// An empty message.
    public init() {}

    /// The serialized message.
    public var bytes: [UInt8] { buffer }

    /// Appends a varint field (`int64`, `uint64`, enum, `bool`); left out when 0, as proto3 does.
    ///
    /// - Parameters:
    ///   - field: The field number.
    ///   - value: The value, as its two's-complement bits.
    public mutating func appendVarint(_ field: Int, _ value: UInt64) {
        guard value != 0 else { return }
        appendRawVarint(UInt64(field) << 3)
        appendRawVarint(value)
    }

    /// Appends a varint field that is a member of a `oneof`: written even when 0, since its
    /// presence is what says which member the `oneof` holds.
    ///
    /// - Parameters:
    ///   - field: The field number.
    ///   - value: The value, as its two's-complement bits.
    public mutating func appendOneofVarint(_ field: Int, _ value: UInt64) {
        appendRawVarint(UInt64(field) << 3)
        appendRawVarint(value)
    }

    /// Appends a length-delimited field (`bytes`, or an embedded message's bytes).
    ///
    /// - Parameters:
    ///   - field: The field number.
    ///   - value: The bytes.
    public mutating func appendBytes(_ field: Int, _ value: [UInt8]) {
        appendRawVarint(UInt64(field) << 3 | UInt64(WireType.lengthDelimited.rawValue))
        appendRawVarint(UInt64(value.count))
        buffer += value
    }

    /// Appends a `string` field; left out when empty, as proto3 does.
    ///
    /// - Parameters:
    ///   - field: The field number.
    ///   - value: The string, written as UTF-8.
    public mutating func appendString(_ field: Int, _ value: String) {
        guard !value.isEmpty else { return }
        appendBytes(field, Array(value.utf8))
    }

    private mutating func appendRawVarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            buffer.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        buffer.append(UInt8(v))
    }
}
