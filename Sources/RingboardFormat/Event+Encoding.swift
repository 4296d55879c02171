extension Event {
    /// The event in protobuf wire format.
    ///
    /// - Returns: The serialized `tensorflow.Event`.
    public func serializedBytes() -> [UInt8] {
        var buffer = WireBuffer(capacity: 256)
        encode(into: &buffer)
        return buffer.bytes
    }

    func encode(into buffer: inout WireBuffer) {
        buffer.appendDoubleField(Event.wallTimeField, wallTime)
        buffer.appendInt64Field(Event.stepField, step)
        switch what {
        case nil:
            break
        case .fileVersion(let version):
            buffer.appendStringField(Event.fileVersionField, version)
        case .graphDef(let bytes):
            buffer.appendBytesField(Event.graphDefField, bytes, always: true)
        case .summary(let summary):
            buffer.appendMessageField(Event.summaryField) { summary.encode(into: &$0) }
        case .taggedRunMetadata(let metadata):
            buffer.appendMessageField(Event.taggedRunMetadataField) { metadata.encode(into: &$0) }
        case .other(let field, let bytes):
            buffer.appendBytesField(field, bytes, always: true)
        }
    }

    /// Encodes an event holding one `simple_value` scalar, without building a `Summary`: the
    /// path the aggregator takes for every scalar, which allocates nothing.
    static func encodeScalar(
        tag: String, value: Float, step: Int64, wallTime: Double, into buffer: inout WireBuffer
    ) {
        encodeSummaryValue(tag: tag, step: step, wallTime: wallTime, into: &buffer) { value_ in
            // simple_value is written even when 0: TensorBoard reads a missing value as
            // "no payload", not as zero.
            value_.appendKey(Summary.Value.simpleValueField, .fixed32)
            value_.appendLittleEndian(value.bitPattern)
        }
    }

    /// Encodes an event holding one scalar as `tf.summary.scalar` writes it: a `DT_FLOAT` scalar
    /// tensor (its four bytes in `tensor_content`, as TensorFlow's summary writer packs a tensor)
    /// with plugin `"scalars"` metadata. The metadata field comes before the tensor, which readers
    /// accept in any order, so that the value is the last four bytes (`ScalarTag`).
    static func encodeTensorScalar(
        tag: String, value: Float, step: Int64, wallTime: Double, into buffer: inout WireBuffer
    ) {
        encodeSummaryValue(tag: tag, step: step, wallTime: wallTime, into: &buffer) { value_ in
            value_.appendMessageField(Summary.Value.metadataField) {
                SummaryMetadata(pluginName: "scalars", pluginContent: []).encode(into: &$0)
            }
            value_.appendMessageField(Summary.Value.tensorField) { tensor in
                tensor.appendInt64Field(TensorProto.dtypeField, Int64(DataType.float.rawValue))
                tensor.appendMessageField(TensorProto.tensorShapeField) { _ in }
                tensor.appendKey(TensorProto.tensorContentField, .lengthDelimited)
                tensor.appendVarint(4)
                tensor.appendLittleEndian(value.bitPattern)
            }
        }
    }

    /// An event of one summary value: the wall time, the step, and the value's tag followed by
    /// what `payload` appends.
    private static func encodeSummaryValue(
        tag: String, step: Int64, wallTime: Double, into buffer: inout WireBuffer, _ payload: (inout WireBuffer) -> Void
    ) {
        buffer.appendDoubleField(Event.wallTimeField, wallTime)
        buffer.appendInt64Field(Event.stepField, step)
        buffer.appendMessageField(Event.summaryField) { summary in
            summary.appendMessageField(Summary.valueField) { value_ in
                value_.appendStringField(Summary.Value.tagField, tag)
                payload(&value_)
            }
        }
    }
}

/// A scalar event's tag, encoded once: the bytes of its `summary` field up to the scalar's four
/// bytes, so an event of it is the wall time, the step, these bytes and the value
/// (`EventFileWriter.appendScalars`). The bytes are those `Event.encodeScalar` writes, or for
/// the tensor form those `Event.encodeTensorScalar` writes.
public struct ScalarTag: Sendable, Equatable {
    /// How the scalar is written.
    public enum Form: Sendable, Equatable {
        /// `simple_value`, as TF 1 summaries and TF 2.0's Keras callback write scalars.
        case simpleValue
        /// A `DT_FLOAT` scalar tensor with the scalars plugin's metadata, as `tf.summary.scalar`
        /// (TensorBoard 2.x) writes it.
        case tensor
    }

    /// The tag.
    public let tag: String
    /// The form.
    public let form: Form
    let summaryPrefix: [UInt8]

    /// Encodes `tag` in `form`.
    public init(_ tag: String, form: Form = .simpleValue) {
        self.tag = tag
        self.form = form
        var buffer = WireBuffer(capacity: 64)
        switch form {
        case .simpleValue: Event.encodeScalar(tag: tag, value: 0, step: 0, wallTime: 0, into: &buffer)
        case .tensor: Event.encodeTensorScalar(tag: tag, value: 0, step: 0, wallTime: 0, into: &buffer)
        }
        // Wall time 0 and step 0 are left out: the bytes are the summary field alone.
        summaryPrefix = Array(buffer.bytes.dropLast(4))
    }

    /// Writes, at `record`, a TFRecord holding the scalar event of a tag whose `summaryPrefix`
    /// bytes are the `prefixCount` at `prefix`: the bytes `TFRecord.append` around `encodeScalar`
    /// writes, except both checksums, left to `TFRecord.fillChecksums(in:from:)`.
    ///
    /// The prefix is copied eight bytes at a time, up to eight bytes past its end (the value and
    /// the data checksum overwrite them): `prefix` must be readable, and `record` writable, that
    /// far (`Prefixes.maximumRecordSize`).
    ///
    /// - Returns: The record's length.
    @inline(__always)
    static func writeUnchecksummedRecord(
        prefix: UnsafeRawPointer, prefixCount: Int, value: Float, step: Int64, wallTime: Double, at record: UnsafeMutableRawPointer
    ) -> Int {
        let wallTimeBits = wallTime.bitPattern
        let stepBits = UInt64(bitPattern: step)
        // Fields left out at their default, as `appendDoubleField` and `appendInt64Field` leave them.
        let wallTimeLength = wallTimeBits == 0 ? 0 : 9
        let stepLength = stepBits == 0 ? 0 : 1 + WireBuffer.varintSize(stepBits)
        let dataLength = wallTimeLength + stepLength + prefixCount + 4
        record.storeBytes(of: UInt64(dataLength).littleEndian, as: UInt64.self)
        let data = record + TFRecord.headerSize
        var at = 0
        if wallTimeLength > 0 {
            data.storeBytes(of: UInt8(Event.wallTimeField << 3 | Int(WireType.fixed64.rawValue)), toByteOffset: 0, as: UInt8.self)
            data.storeBytes(of: wallTimeBits.littleEndian, toByteOffset: 1, as: UInt64.self)
            at = 9
        }
        if stepLength > 0 {
            data.storeBytes(of: UInt8(Event.stepField << 3 | Int(WireType.varint.rawValue)), toByteOffset: at, as: UInt8.self)
            at += 1
            var remaining = stepBits
            while remaining >= 0x80 {
                data.storeBytes(of: UInt8(truncatingIfNeeded: remaining) | 0x80, toByteOffset: at, as: UInt8.self)
                remaining >>= 7
                at += 1
            }
            data.storeBytes(of: UInt8(remaining), toByteOffset: at, as: UInt8.self)
            at += 1
        }
        var copied = 0
        while copied < prefixCount {
            (data + at + copied).storeBytes(of: prefix.loadUnaligned(fromByteOffset: copied, as: UInt64.self), as: UInt64.self)
            copied += 8
        }
        at += prefixCount
        data.storeBytes(of: value.bitPattern.littleEndian, toByteOffset: at, as: UInt32.self)
        return TFRecord.overhead + dataLength
    }

    /// Every tag's `summaryPrefix` in one buffer, each padded to a multiple of eight bytes, and
    /// the records of scalars of those tags: the event-file writer's hot path.
    struct Prefixes {
        private var bytes: [UInt8] = []
        private var starts: [Int] = []
        private var counts: [Int] = []
        /// The most bytes one record takes, with the eight the prefix copy may write past it.
        let maximumRecordSize: Int
        /// Records written before their checksums are computed: enough that the CPU has stored
        /// the first one's bytes by the time they are read back (checksumming each record as
        /// soon as it is written reads bytes the store buffer still holds in pieces, which stalls
        /// every load), few enough to stay in its first-level cache.
        static let checksumBatch = 64

        init(_ table: borrowing [ScalarTag]) {
            var longest = 0
            for index in table.indices {
                let prefix = table[index].summaryPrefix
                starts.append(bytes.count)
                counts.append(prefix.count)
                bytes += prefix
                bytes += repeatElement(0, count: (8 - prefix.count % 8) % 8)
                longest = max(longest, prefix.count)
            }
            // The wall time's key and 8 bytes, the step's key and 10-byte varint at most, the
            // prefix, the value's 4 bytes, and the prefix copy's overrun.
            maximumRecordSize = TFRecord.overhead + 9 + 11 + longest + 4 + 8
        }

        /// Appends the TFRecords of `scalars`, in order, checksummed.
        func appendRecords(_ scalars: UnsafeBufferPointer<StagedScalar>, into buffer: inout WireBuffer) {
            bytes.withUnsafeBytes { bytes in
                starts.withUnsafeBufferPointer { starts in
                    counts.withUnsafeBufferPointer { counts in
                        var next = 0
                        while next < scalars.count {
                            let group = min(Prefixes.checksumBatch, scalars.count - next)
                            let start = buffer.count
                            buffer.append(upTo: group * maximumRecordSize) { out in
                                var written = 0
                                for index in next..<(next + group) {
                                    let scalar = scalars[index], tag = Int(scalar.tag)
                                    precondition(tag >= 0 && tag < counts.count, "a scalar's tag is not in the table")
                                    written += ScalarTag.writeUnchecksummedRecord(
                                        prefix: bytes.baseAddress.unsafelyUnwrapped + starts[tag], prefixCount: counts[tag],
                                        value: scalar.value, step: scalar.step, wallTime: scalar.wallTime, at: out + written)
                                }
                                return written
                            }
                            TFRecord.fillChecksums(in: &buffer, from: start)
                            next += group
                        }
                    }
                }
            }
        }
    }

    static func encodeScalar(_ tag: borrowing ScalarTag, value: Float, step: Int64, wallTime: Double, into buffer: inout WireBuffer) {
        buffer.appendDoubleField(Event.wallTimeField, wallTime)
        buffer.appendInt64Field(Event.stepField, step)
        buffer.append(tag.summaryPrefix)
        buffer.appendLittleEndian(value.bitPattern)
    }
}

extension Summary {
    func encode(into buffer: inout WireBuffer) {
        for value in values {
            buffer.appendMessageField(Summary.valueField) { value.encode(into: &$0) }
        }
    }
}

extension Summary.Value {
    func encode(into buffer: inout WireBuffer) {
        // Fields in field-number order, as protobuf serializers write them: tag (1), the
        // payload (2-8), metadata (9).
        buffer.appendStringField(Summary.Value.tagField, tag)
        switch kind {
        case .simpleValue(let value):
            buffer.appendKey(Summary.Value.simpleValueField, .fixed32)
            buffer.appendLittleEndian(value.bitPattern)
        case .histogram(let histogram):
            buffer.appendMessageField(Summary.Value.histogramField) { histogram.encode(into: &$0) }
        case .image(let image):
            buffer.appendMessageField(Summary.Value.imageField) { image.encode(into: &$0) }
        case .tensor(let tensor):
            buffer.appendMessageField(Summary.Value.tensorField) { tensor.encode(into: &$0) }
        case .audio(let bytes):
            buffer.appendBytesField(Summary.Value.audioField, bytes, always: true)
        case .none:
            break
        }
        if let metadata {
            buffer.appendMessageField(Summary.Value.metadataField) { metadata.encode(into: &$0) }
        }
    }
}

extension SummaryMetadata {
    func encode(into buffer: inout WireBuffer) {
        buffer.appendMessageField(SummaryMetadata.pluginDataField) { plugin in
            plugin.appendStringField(SummaryMetadata.pluginNameField, pluginName)
            plugin.appendBytesField(SummaryMetadata.pluginContentField, pluginContent)
        }
        buffer.appendStringField(SummaryMetadata.displayNameField, displayName)
        buffer.appendStringField(SummaryMetadata.summaryDescriptionField, summaryDescription)
        buffer.appendInt64Field(SummaryMetadata.dataClassField, Int64(dataClass))
    }
}

extension HistogramProto {
    func encode(into buffer: inout WireBuffer) {
        buffer.appendDoubleField(HistogramProto.minField, min)
        buffer.appendDoubleField(HistogramProto.maxField, max)
        buffer.appendDoubleField(HistogramProto.numField, num)
        buffer.appendDoubleField(HistogramProto.sumField, sum)
        buffer.appendDoubleField(HistogramProto.sumSquaresField, sumSquares)
        buffer.appendPackedDoubles(HistogramProto.bucketLimitField, bucketLimit)
        buffer.appendPackedDoubles(HistogramProto.bucketField, bucket)
    }
}

extension SummaryImage {
    func encode(into buffer: inout WireBuffer) {
        buffer.appendInt64Field(SummaryImage.heightField, Int64(height))
        buffer.appendInt64Field(SummaryImage.widthField, Int64(width))
        buffer.appendInt64Field(SummaryImage.colorspaceField, Int64(colorspace))
        buffer.appendBytesField(SummaryImage.encodedImageField, encodedImage)
    }
}

extension TaggedRunMetadata {
    func encode(into buffer: inout WireBuffer) {
        buffer.appendStringField(TaggedRunMetadata.tagField, tag)
        buffer.appendBytesField(TaggedRunMetadata.runMetadataField, runMetadata)
    }
}

extension TensorProto {
    func encode(into buffer: inout WireBuffer) {
        buffer.appendInt64Field(TensorProto.dtypeField, Int64(dtype.rawValue))
        // A scalar still gets an (empty) tensor_shape, as TensorFlow writes one.
        buffer.appendMessageField(TensorProto.tensorShapeField) { shapeBuffer in
            for size in shape {
                shapeBuffer.appendMessageField(TensorProto.shapeDimField) {
                    $0.appendInt64Field(TensorProto.dimSizeField, size)
                }
            }
        }
        buffer.appendBytesField(TensorProto.tensorContentField, tensorContent)
        buffer.appendPackedFloats(TensorProto.floatValField, floatValues)
        buffer.appendPackedDoubles(TensorProto.doubleValField, doubleValues)
        buffer.appendPackedVarints(TensorProto.intValField, intValues.map { UInt64(bitPattern: Int64($0)) })
        for string in stringValues {
            buffer.appendBytesField(TensorProto.stringValField, string, always: true)
        }
        buffer.appendPackedVarints(TensorProto.int64ValField, int64Values.map { UInt64(bitPattern: $0) })
        buffer.appendPackedVarints(TensorProto.boolValField, boolValues.map { $0 ? 1 : 0 })
        buffer.appendPackedVarints(TensorProto.halfValField, halfValues.map { UInt64(bitPattern: Int64($0)) })
    }
}
