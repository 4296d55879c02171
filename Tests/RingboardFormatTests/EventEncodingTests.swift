import RingboardTestSupport
import Testing
@testable import RingboardFormat

/// Golden bytes were produced by the protobuf runtime TensorBoard ships
/// (`tensorboard.compat.proto.event_pb2.Event(...).SerializeToString()`).
@Suite struct EventEncodingTests {
    @Test func scalarEventMatchesProtobuf() throws {
        // Event(wall_time=1.5, step=3, summary={value {tag: "loss" simple_value: 0.25}})
        let golden = bytes(hex: "09000000000000f83f10032a0d0a0b0a046c6f7373150000803e")
        let event = Event(
            wallTime: 1.5, step: 3,
            what: .summary(Summary(values: [.init(tag: "loss", kind: .simpleValue(0.25))])))
        #expect(event.serializedBytes() == golden)
        var buffer = WireBuffer()
        Event.encodeScalar(tag: "loss", value: 0.25, step: 3, wallTime: 1.5, into: &buffer)
        #expect(buffer.bytes == golden)
        #expect(try Event(serializedBytes: golden) == event)
    }

    @Test func fileVersionEventMatchesProtobuf() throws {
        let golden = bytes(hex: "09000010a0ecd1d9411a0d627261696e2e4576656e743a32")
        let event = Event(wallTime: 1_732_752_000.25, what: .fileVersion("brain.Event:2"))
        #expect(event.serializedBytes() == golden)
        #expect(try Event(serializedBytes: golden) == event)
    }

    @Test func histogramEventWithNegativeStepMatchesProtobuf() throws {
        let golden = bytes(hex: """
            09000000000000004010ffffffffffffffffff012a680a660a01772a6109000000000000f0bf1100000000000000
            4019000000000000084021000000000000f03f2900000000000014403218000000000000f0bf0000000000000000
            00000000000000403a18000000000000f03f00000000000000000000000000000040
            """)
        let histogram = HistogramProto(
            min: -1, max: 2, num: 3, sum: 1, sumSquares: 5, bucketLimit: [-1, 0, 2], bucket: [1, 0, 2])
        let event = Event(
            wallTime: 2, step: -1, what: .summary(Summary(values: [.init(tag: "w", kind: .histogram(histogram))])))
        #expect(event.serializedBytes() == golden)
        #expect(try Event(serializedBytes: golden) == event)
    }

    @Test func tensorSummaryWithPluginMetadataMatchesProtobuf() throws {
        // A TF 2 style scalar: a DT_FLOAT tensor owned by the "scalars" plugin.
        let golden = bytes(hex: "09000000000000084010ac022a280a260a0174421208011204120208022a080000803f000000c04a0d0a090a077363616c6172732001")
        let value = Summary.Value(
            tag: "t", metadata: SummaryMetadata(pluginName: "scalars", dataClass: 1),
            kind: .tensor(TensorProto(dtype: .float, shape: [2], floatValues: [1, -2])))
        let event = Event(wallTime: 3, step: 300, what: .summary(Summary(values: [value])))
        #expect(event.serializedBytes() == golden)
        #expect(try Event(serializedBytes: golden) == event)
    }

    /// Every payload survives encode → decode unchanged.
    @Test func everyKindRoundTrips() throws {
        let events: [Event] = [
            Event(wallTime: 10, step: 0, what: .graphDef([0x0a, 0x03, 0x0a, 0x01, 0x78])),
            Event(wallTime: 11, step: 7, what: .taggedRunMetadata(TaggedRunMetadata(tag: "batch_2", runMetadata: [1, 2, 3]))),
            Event(wallTime: 12, step: 1, what: .summary(Summary(values: [
                .init(tag: "img/image/0", kind: .image(SummaryImage(height: 2, width: 3, colorspace: 1, encodedImage: [0x89, 0x50]))),
                .init(tag: "keras", metadata: SummaryMetadata(pluginName: "graph_keras_model", pluginContent: [0x31]),
                      kind: .tensor(.strings([Array("{\"class_name\": \"Sequential\"}".utf8)]))),
                .init(tag: "ints", kind: .tensor(TensorProto(dtype: .int64, shape: [3], int64Values: [-1, 0, 1 << 40]))),
                .init(tag: "halves", kind: .tensor(TensorProto(dtype: .half, shape: [1], halfValues: [0x3c00]))),
                .init(tag: "bools", kind: .tensor(TensorProto(dtype: .bool, shape: [2], boolValues: [true, false]))),
                .init(tag: "doubles", kind: .tensor(TensorProto(dtype: .double, shape: [1, 1], doubleValues: [-0.0]))),
                .init(tag: "int32", kind: .tensor(TensorProto(dtype: .int32, shape: [2], intValues: [-5, 5]))),
                .init(tag: "raw", kind: .tensor(TensorProto(dtype: .float, shape: [1], tensorContent: [0, 0, 0x80, 0x3f]))),
                .init(tag: "zero", kind: .simpleValue(0)),
                .init(tag: "negzero", kind: .simpleValue(-0.0)),
            ]))),
            Event(wallTime: 13, step: Int64.max, what: .other(field: 7, bytes: [0x08, 0x01])),
            Event(wallTime: 14, step: Int64.min),
        ]
        for event in events {
            let decoded = try Event(serializedBytes: event.serializedBytes())
            #expect(decoded == event)
        }
    }

    /// A scalar whose value is 0 still carries `simple_value`; TensorBoard would drop it otherwise.
    @Test func zeroScalarKeepsItsValueField() throws {
        var buffer = WireBuffer()
        Event.encodeScalar(tag: "x", value: 0, step: 0, wallTime: 1, into: &buffer)
        let decoded = try Event(serializedBytes: buffer.bytes)
        guard case .summary(let summary) = decoded.what else {
            Issue.record("no summary")
            return
        }
        #expect(summary.values.first?.kind == .simpleValue(0))
    }
}

/// The writer's one-pass scalar record against the general encoder it stands in for.
@Suite struct ScalarRecordTests {
    @Test(arguments: [Int64(0), 1, 127, 128, 300, 1 << 35, .max, -1, .min])
    func aScalarRecordIsTheFramedEventByteForByte(step: Int64) {
        for tag in ["loss", "", "batch_val/a.b-c", String(repeating: "é", count: 100)] {
            for wallTime in [0.0, 1_765_000_000.123456, -0.0, .nan] {
                for value in [Float(0), -0, 1.5, .infinity, .nan, .leastNonzeroMagnitude] {
                    let scalarTag = ScalarTag(tag)
                    var general = WireBuffer(capacity: 16)
                    TFRecord.append(to: &general) { ScalarTag.encodeScalar(scalarTag, value: value, step: step, wallTime: wallTime, into: &$0) }
                    var fast = WireBuffer(capacity: 16)
                    let scalars = [StagedScalar(tag: 1, value: value, step: step, wallTime: wallTime)]
                    scalars.withUnsafeBufferPointer {
                        ScalarTag.Prefixes([ScalarTag("other"), scalarTag]).appendRecords($0, into: &fast)
                    }
                    #expect(fast.bytes == general.bytes, "tag \(tag), step \(step), wall time \(wallTime), value \(value)")
                }
            }
        }
    }
}
