import Foundation
import RingboardRing
import RingboardTestSupport
import Testing

/// `ringboard status` reads ring headers without touching them.
@Suite struct StatusTests {
    @Test func showsProducersLagSpillsAndDrops() throws {
        let directory = TemporaryDirectory("ringboard-status")
        let rings = directory.appending("rings")
        var options = RingWriter.Options()
        options.capacity = 4096
        options.policy = .dropNewest
        let writer = try RingWriter(directory: rings, options: options)
        for _ in 0..<100 { _ = writer.append(type: RingRecordType.firstUser, length: 56) { $0.initializeMemory(as: UInt8.self, repeating: 1) } }
        let name = URL(fileURLWithPath: writer.path).lastPathComponent
        let result = try run(productsDirectory + "/ringboard", ["status", "--ring-dir", rings, "--interval", "0.05"])
        #expect(result.status == 0, "\(result.standardError)")
        let line = try #require(result.standardOutput.split(separator: "\n").first { $0.hasPrefix(name) })
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        // name, pid, state, lag (value and unit), records/s, consumed, spilled, dropped
        #expect(fields.count == 9, "\(line)")
        #expect(fields[1] == "\(getpid())")
        #expect(fields[2] == "live")
        #expect(fields[3] == "4.0" && fields[4] == "KiB")
        #expect(fields[8] == "36")  // 64 records of 64 bytes fill 4 KiB; 36 dropped
        writer.close()
        let closed = try run(productsDirectory + "/ringboard", ["status", "--ring-dir", rings, "--interval", "0.05"])
        #expect(closed.standardOutput.contains(" closed "))
        // Status changes nothing: the consumer still finds every record.
        var count = 0
        try RingReader(path: writer.path).poll { _ in count += 1 }
        #expect(count == 64)
    }

    @Test func anEmptyOrMissingDirectory() throws {
        let directory = TemporaryDirectory("ringboard-status")
        let empty = try run(productsDirectory + "/ringboard", ["status", "--ring-dir", directory.path])
        #expect(empty.status == 0)
        #expect(empty.standardOutput == "aggregator: none serves \(directory.path) (none has served it yet)\n\(directory.path): no rings\n")
        let missing = try run(productsDirectory + "/ringboard", ["status", "--ring-dir", directory.appending("nope")])
        #expect(missing.status == 2)
        #expect(missing.standardError.hasPrefix("ringboard status: \(directory.appending("nope")): opendir failed"))
    }
}
