import RingboardTestSupport
import Testing
@testable import RingboardFormat

@Suite struct ProtobufReaderTests {
    @Test func unknownFieldsOfEveryWireTypeAreSkipped() throws {
        // step=5, then unknown fields 20 (varint), 21 (fixed64), 22 (bytes), 23 (fixed32), then wall_time=1.0
        let message = bytes(hex: "1005 a00101 a9010102030405060708 b201020a0b bd0101020304 09000000000000f03f")
        let event = try Event(serializedBytes: message)
        #expect(event.step == 5)
        #expect(event.wallTime == 1)
    }

    @Test func repeatedDoublesAreReadPackedOrNot() throws {
        // HistogramProto with bucket_limit packed [1.0] and then one unpacked 2.0.
        let packed = bytes(hex: "3208000000000000f03f")
        let unpacked = bytes(hex: "310000000000000040")
        let histogram = try HistogramProto(ProtobufReader(packed + unpacked))
        #expect(histogram.bucketLimit == [1, 2])
    }

    @Test(arguments: [
        ("truncated varint", "10ff"),
        ("length past the end", "1a05616263"),
        ("group wire type", "13"),
        ("field number zero", "0001"),
        ("wire type 7", "0f"),
        ("string with the wrong wire type", "1d00000000"),
        ("invalid UTF-8 in file_version", "1a02c328"),
        ("eleven-byte varint", "10ffffffffffffffffffff01"),
        ("fixed64 cut short", "09000000"),
        ("packed doubles not a multiple of 8", "2a0b0a090a0177" + "2a04" + "32020000"),
    ])
    func malformedMessagesAreRejected(_ name: String, _ hex: String) {
        #expect(throws: ProtobufError.self, "\(name)") {
            _ = try Event(serializedBytes: bytes(hex: hex))
        }
    }

    @Test func randomBytesNeverCrashTheDecoder() {
        var generator = SeededGenerator(seed: 7)
        let valid = Event(
            wallTime: 1, step: 2,
            what: .summary(Summary(values: [.init(tag: "a", kind: .histogram(HistogramProto(
                min: 0, max: 1, num: 1, sum: 1, sumSquares: 1, bucketLimit: [1], bucket: [1])))]))
        ).serializedBytes()
        for _ in 0..<20_000 {
            var mutated = valid
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                mutated[Int.random(in: 0..<mutated.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            if Bool.random(using: &generator) { mutated.removeLast(Int.random(in: 0..<mutated.count, using: &generator)) }
            _ = try? Event(serializedBytes: mutated)
        }
    }
}
