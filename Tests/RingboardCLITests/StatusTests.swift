import Foundation
@testable import RingboardRing
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
        #expect(!result.standardOutput.contains("weight segments"))
        // Weight segments beside the ring, and a spare, are counted with their bytes.
        let segments = WeightSegment.Writer(ringPath: writer.path)
        for _ in 0..<3 {
            try segments.write(valueCounts: [240], fill: { (_, write) throws(RingError) in
                let values = [Float](repeating: 1, count: 240)
                try write(values.span)
            }, publish: { _, _ in })
        }
        #expect(WeightSegment.makeSpare(directory: rings, ring: name, sequence: 0))
        let withSegments = try run(productsDirectory + "/ringboard", ["status", "--ring-dir", rings, "--interval", "0.05"])
        #expect(withSegments.standardOutput.contains("weight segments of \(name): 2 (2.0 KiB), spares 1 (1.0 KiB)\n"),
                "\(withSegments.standardOutput)")
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
        #expect(missing.standardError == "ringboard status: no ring directory at \(directory.appending("nope")): no trainer has made one there yet "
                + "(pass the --ring-dir your trainers use)\n")
    }

    /// A 4 KiB ring of this process in `directory`.
    static func smallRing(in directory: String) throws -> RingWriter {
        var options = RingWriter.Options()
        options.capacity = 4096
        return try RingWriter(directory: directory, options: options)
    }

    /// `RINGBOARD_RING_DIR` names the ring directory every command and trainer takes by default.
    @Test func theEnvironmentNamesTheDefaultRingDirectory() throws {
        let directory = TemporaryDirectory("ringboard-status")
        let rings = directory.appending("rings")
        let writer = try Self.smallRing(in: rings)
        defer { writer.close() }
        let status = try run(productsDirectory + "/ringboard", ["status"], environment: ["RINGBOARD_RING_DIR": rings])
        #expect(status.status == 0)
        #expect(status.standardOutput.hasPrefix("aggregator: none serves \(rings) (none has served it yet)\n"))
        #expect(status.standardOutput.contains(writer.path.split(separator: "/").last.map(String.init) ?? "?"))
    }

    /// A ring whose header has the right magic and version but a capacity no ring has and
    /// positions that overflow any subtraction: reported as damaged, on one line, and the other
    /// rings still shown.
    @Test func aCraftedHeaderIsReportedAsDamaged() throws {
        let directory = TemporaryDirectory("ringboard-status")
        let rings = directory.appending("rings")
        let writer = try Self.smallRing(in: rings)
        defer { writer.close() }
        let crafted = rings + "/crafted.ring"
        try Data(Self.craftedRing).write(to: URL(fileURLWithPath: crafted))
        let result = try run(productsDirectory + "/ringboard", ["status", "--ring-dir", rings, "--interval", "0.05"])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput.contains("\(rings): 2 rings"), "\(result.standardOutput)")
        let lines = result.standardOutput.split(separator: "\n").filter { $0.hasPrefix("crafted.ring") }
        #expect(lines.count == 1, "\(result.standardOutput)")
        #expect(lines.first?.contains("damaged: capacity 18446744073709551615 is not a power of two in range") == true, "\(result.standardOutput)")
        let live = URL(fileURLWithPath: writer.path).lastPathComponent
        #expect(result.standardOutput.split(separator: "\n").contains { $0.hasPrefix(live) && $0.contains(" live ") }, "\(result.standardOutput)")
    }

    /// A ring file's header with valid magic and version, capacity `0xFFFF_FFFF_FFFF_FFFF`, tail
    /// `Int64.min` and head `Int64.max`, followed by a 4 KiB data area.
    static var craftedRing: [UInt8] {
        var bytes = [UInt8](repeating: 0, count: RingLayout.headerSize + 4096)
        func store<T: FixedWidthInteger>(_ value: T, at offset: Int) {
            withUnsafeBytes(of: value.littleEndian) { bytes.replaceSubrange(offset..<(offset + MemoryLayout<T>.size), with: $0) }
        }
        store(RingLayout.magic, at: RingLayout.magicOffset)
        store(RingLayout.version, at: RingLayout.versionOffset)
        store(UInt32(RingLayout.headerSize), at: RingLayout.headerSizeOffset)
        store(UInt64.max, at: RingLayout.capacityOffset)
        store(Int64.min, at: RingLayout.tailOffset)
        store(Int64.max, at: RingLayout.headOffset)
        return bytes
    }
}
