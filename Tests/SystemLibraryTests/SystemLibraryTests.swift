import CLZ4
import CZlib
import Testing

/// zlib and liblz4 are reached as system libraries; these tests prove they link and work.
@Suite struct SystemLibraryTests {
    @Test func zlibComputesTheStandardCRC32() {
        let data = Array("123456789".utf8)
        let crc = data.withUnsafeBufferPointer { crc32(0, $0.baseAddress, uInt($0.count)) }
        #expect(crc == 0xCBF4_3926)
    }

    @Test func lz4FrameRoundTrips() {
        let input = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 % 251) }
        var compressed = [UInt8](repeating: 0, count: LZ4F_compressFrameBound(input.count, nil))
        let size = LZ4F_compressFrame(&compressed, compressed.count, input, input.count, nil)
        #expect(LZ4F_isError(size) == 0)
        #expect(size < input.count)

        var context: OpaquePointer?
        #expect(LZ4F_isError(LZ4F_createDecompressionContext(&context, UInt32(LZ4F_VERSION))) == 0)
        defer { LZ4F_freeDecompressionContext(context) }
        var output = [UInt8](repeating: 0, count: input.count)
        var outputSize = output.count
        var inputSize = size
        let result = LZ4F_decompress(context, &output, &outputSize, compressed, &inputSize, nil)
        #expect(result == 0)
        #expect(outputSize == input.count)
        #expect(output == input)
    }
}
