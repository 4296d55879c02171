import Testing
@testable import RingboardFormat

@Suite struct WireBufferTests {
    @Test func varintsUseTheFewestBytes() {
        let cases: [(UInt64, [UInt8])] = [
            (0, [0x00]), (1, [0x01]), (127, [0x7f]), (128, [0x80, 0x01]), (300, [0xac, 0x02]),
            (16_383, [0xff, 0x7f]), (16_384, [0x80, 0x80, 0x01]),
            (UInt64.max, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
        ]
        for (value, expected) in cases {
            var buffer = WireBuffer(capacity: 1)
            buffer.appendVarint(value)
            #expect(buffer.bytes == expected, "varint \(value)")
            #expect(WireBuffer.varintSize(value) == expected.count)
        }
    }

    /// A nested message's length is patched in after its body; bodies of 127, 128 and 16 384
    /// bytes need 1, 2 and 3 length bytes, so the body has to move.
    @Test(arguments: [0, 1, 127, 128, 129, 16_383, 16_384, 70_000])
    func lengthDelimitedBodiesOfEverySize(size: Int) {
        var buffer = WireBuffer(capacity: 8)
        buffer.append(byte: 0xAA)
        buffer.appendMessageField(5) { body in
            for k in 0..<size { body.append(byte: UInt8(truncatingIfNeeded: k)) }
        }
        buffer.append(byte: 0xBB)
        var expected: [UInt8] = [0xAA, 0x2A]
        var length = UInt64(size)
        while length >= 0x80 {
            expected.append(UInt8(truncatingIfNeeded: length) | 0x80)
            length >>= 7
        }
        expected.append(UInt8(length))
        expected += (0..<size).map { UInt8(truncatingIfNeeded: $0) }
        expected.append(0xBB)
        #expect(buffer.bytes == expected)
    }

    @Test func removeFirstKeepsTheRest() {
        var buffer = WireBuffer(capacity: 4)
        buffer.append([1, 2, 3, 4, 5, 6])
        buffer.removeFirst(2)
        #expect(buffer.bytes == [3, 4, 5, 6])
        buffer.truncate(to: 1)
        #expect(buffer.bytes == [3])
        buffer.removeAll()
        let empty = buffer.isEmpty
        #expect(empty)
    }
}
