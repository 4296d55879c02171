/// Protobuf wire types (https://protobuf.dev/programming-guides/encoding/).
enum WireType: UInt8 {
    case varint = 0
    case fixed64 = 1
    case lengthDelimited = 2
    case startGroup = 3
    case endGroup = 4
    case fixed32 = 5
}

/// Protobuf field encoding on top of `WireBuffer`. Proto3 rules: scalar fields equal to their
/// default are left out, as TensorFlow's own serializer leaves them out.
extension WireBuffer {
    @inline(__always)
    mutating func appendKey(_ field: Int, _ type: WireType) {
        appendVarint(UInt64(field) << 3 | UInt64(type.rawValue))
    }

    mutating func appendDoubleField(_ field: Int, _ value: Double) {
        guard value.bitPattern != 0 else { return }
        appendKey(field, .fixed64)
        appendLittleEndian(value.bitPattern)
    }

    mutating func appendFloatField(_ field: Int, _ value: Float) {
        guard value.bitPattern != 0 else { return }
        appendKey(field, .fixed32)
        appendLittleEndian(value.bitPattern)
    }

    /// An `int64` or `int32` field: negative values take ten bytes, as protobuf specifies.
    mutating func appendInt64Field(_ field: Int, _ value: Int64) {
        guard value != 0 else { return }
        appendKey(field, .varint)
        appendVarint(UInt64(bitPattern: value))
    }

    mutating func appendBoolField(_ field: Int, _ value: Bool) {
        guard value else { return }
        appendKey(field, .varint)
        append(byte: 1)
    }

    mutating func appendStringField(_ field: Int, _ value: String) {
        guard !value.isEmpty else { return }
        appendKey(field, .lengthDelimited)
        appendVarint(UInt64(value.utf8.count))
        append(utf8: value)
    }

    mutating func appendBytesField(_ field: Int, _ value: [UInt8], always: Bool = false) {
        guard always || !value.isEmpty else { return }
        appendKey(field, .lengthDelimited)
        appendVarint(UInt64(value.count))
        append(value)
    }

    /// An embedded message (or any length-delimited field) whose body `encodeBody` appends.
    /// The length is patched in afterwards, so the body is written once.
    @inline(__always)
    mutating func appendMessageField(_ field: Int, _ encodeBody: (inout WireBuffer) -> Void) {
        appendKey(field, .lengthDelimited)
        append(byte: 0)
        let bodyStart = count
        encodeBody(&self)
        finishLengthDelimited(bodyStart: bodyStart)
    }

    mutating func appendPackedDoubles(_ field: Int, _ values: [Double]) {
        guard !values.isEmpty else { return }
        appendKey(field, .lengthDelimited)
        appendVarint(UInt64(values.count * 8))
        reserve(values.count * 8)
        for value in values { appendLittleEndian(value.bitPattern) }
    }

    mutating func appendPackedFloats(_ field: Int, _ values: [Float]) {
        guard !values.isEmpty else { return }
        appendKey(field, .lengthDelimited)
        appendVarint(UInt64(values.count * 4))
        reserve(values.count * 4)
        for value in values { appendLittleEndian(value.bitPattern) }
    }

    mutating func appendPackedVarints(_ field: Int, _ values: [UInt64]) {
        guard !values.isEmpty else { return }
        appendMessageField(field) { buffer in
            for value in values { buffer.appendVarint(value) }
        }
    }
}
