import RingboardTestSupport
import Testing
import RingboardFormat

@Suite struct GraphDefCheckTests {
    /// GraphDef { node { name: "a" op: "A" attr { key: "keras_class" value { s: "A" } } }
    ///            node { name: "b" op: "B" input: "a" } versions { producer: 27 } }
    static let twoNodes = bytes(hex: "0a1a" + "0a0161" + "120141" + "2a12" + "0a0b" + "6b657261735f636c617373" + "1203120141"
        + "0a09" + "0a0162" + "120142" + "1a0161"
        + "2202081b")

    @Test func countsTheNodesOfAWellFormedGraph() throws {
        #expect(try GraphDefCheck.nodeCount(in: Self.twoNodes) == 2)
        #expect(try GraphDefCheck.nodeCount(in: []) == 0)
        // Only versions { producer: 27 }: well formed, but no node to show.
        #expect(try GraphDefCheck.nodeCount(in: bytes(hex: "2202081b")) == 0)
        // An unknown field (99, bytes) is skipped, as protobuf skips it.
        #expect(try GraphDefCheck.nodeCount(in: bytes(hex: "9a060101") + Self.twoNodes) == 2)
    }

    @Test(arguments: [
        ("cut short", "0a1a0a0161"),
        ("node as a varint", "0805"),
        ("node name as a varint", "0a02" + "0805"),
        ("node name not UTF-8", "0a04" + "0a02c328"),
        ("attr entry key as fixed32", "0a07" + "2a05" + "0d00000000"),
        ("attr value i as bytes", "0a08" + "2a06" + "1204" + "1a020101"),
        ("versions with a varint cut short", "2202" + "08ff"),
        ("random bytes", "d3a1f07c2219b004"),
    ])
    func malformedGraphsAreRejected(_ name: String, _ hex: String) {
        #expect(throws: ProtobufError.self, "\(name)") {
            _ = try GraphDefCheck.nodeCount(in: bytes(hex: hex))
        }
    }
}
