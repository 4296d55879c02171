import RingboardTestSupport
import Testing
@testable import RingboardFormat

@Suite struct TFRecordTests {
    /// Framed by TensorBoard's own `RecordWriter` around the same event bytes.
    @Test func framingMatchesTensorBoardsRecordWriter() {
        let data = bytes(hex: "09000010a0ecd1d9411a0d627261696e2e4576656e743a32")
        let golden = bytes(hex: "1800000000000000a37f4b22" + "09000010a0ecd1d9411a0d627261696e2e4576656e743a32" + "4962be10")
        #expect(TFRecord.frame(data) == golden)
    }

    @Test func emptyRecord() {
        let framed = TFRecord.frame([])
        #expect(framed.count == TFRecord.overhead)
        #expect(framed[0..<8].allSatisfy { $0 == 0 })
        // CRC32C of nothing is 0, so the data checksum is the mask of 0.
        #expect(Array(framed[12..<16]) == [0xd8, 0xea, 0x82, 0xa2])
    }
}
