import Foundation
import RingboardTestSupport
import Testing
@testable import RingboardRing

/// Ring headers whose positions no producer or consumer could have stored: refused when the ring
/// is opened (or reported when they change under the reader), never followed into the middle of a
/// record and never a trap. The first of them was found by `Tests/Fuzz` (FuzzRingFile), and its
/// input is kept in the seed corpus.
@Suite struct RingReaderDamagedHeaderTests {
    /// A ring holding two committed records, and its path.
    static func makeRing() throws -> (TemporaryDirectory, RingWriter) {
        let directory = TemporaryDirectory("ringboard-header")
        var options = RingWriter.Options()
        options.capacity = 4096
        let writer = try RingWriter(directory: directory.appending("rings"), options: options)
        #expect(writer.tryAppend(type: RingRecordType.firstUser, [1, 2, 3]) != .full)
        #expect(writer.tryAppend(type: RingRecordType.firstUser, Array(repeating: 7, count: 40)) != .full)
        return (directory, writer)
    }

    static func refusesToOpen(_ path: String, reasonContaining text: String) {
        #expect { _ = try RingReader(path: path) } throws: { error in
            guard case .invalidHeader(_, let reason) = error as? RingError else { return false }
            return reason.contains(text)
        }
    }

    /// The input FuzzRingFile found: head 111 (between records), tail 240. Opening it trapped in
    /// `RingMapping.recordLength(at:)` on the first poll.
    @Test func theFuzzedRingWithHeadBetweenRecordsIsRefused() throws {
        let directory = TemporaryDirectory("ringboard-header")
        let path = directory.appending("fuzzed.ring")
        try FileManager.default.copyItem(
            atPath: packageRoot + "/Tests/Fuzz/Corpus/FuzzRingFile/regression-unaligned-head.ring", toPath: path)
        chmod(path, 0o600)
        Self.refusesToOpen(path, reasonContaining: "head 111, tail 240")
    }

    @Test(arguments: [4, 12, 1])
    func aHeadBetweenRecordsIsRefused(head: Int64) throws {
        let (directory, writer) = try Self.makeRing()
        defer { withExtendedLifetime(directory) {} }
        writer.mapping.head.store(head, ordering: .relaxed)
        Self.refusesToOpen(writer.path, reasonContaining: "not all record boundaries")
    }

    @Test func aTailBetweenRecordsIsRefusedAndReportedWhenItChanges() throws {
        let (directory, writer) = try Self.makeRing()
        defer { withExtendedLifetime(directory) {} }
        let tail = writer.mapping.tail.load(ordering: .relaxed)
        let reader = try RingReader(path: writer.path)
        writer.mapping.tail.store(tail + 3, ordering: .relaxed)
        #expect { try reader.poll { _ in } } throws: { error in
            guard case .corruptRecord(_, _, let reason) = error as? RingError else { return false }
            return reason.contains("not a record boundary")
        }
        #expect(!reader.skipTornClaim())
        #expect(reader.readPosition == 0)
        Self.refusesToOpen(writer.path, reasonContaining: "not all record boundaries")
    }

    /// A checkpoint whose position lies between records.
    @Test func aCheckpointBetweenRecordsIsRefused() throws {
        let (directory, writer) = try Self.makeRing()
        defer { withExtendedLifetime(directory) {} }
        let reader = try RingReader(path: writer.path)
        try reader.poll { _ in }
        try reader.commit(checkpoint: [9])
        // The newest slot (generation 1) now says position 20, inside the records, with a
        // checksum that matches (FNV-1a over the position and the state, as RingReader computes
        // it), and head is back at 0: as if the consumer was killed before moving head.
        writer.mapping.head.store(0, ordering: .relaxed)
        writer.mapping.withCheckpointSlot(1) { slot in
            var hash: UInt32 = 2_166_136_261
            withUnsafeBytes(of: Int64(20).littleEndian) { for byte in $0 { hash = (hash ^ UInt32(byte)) &* 16_777_619 } }
            hash = (hash ^ 9) &* 16_777_619
            slot.storeBytes(of: Int64(20).littleEndian, toByteOffset: 8, as: Int64.self)
            slot.storeBytes(of: hash.littleEndian, toByteOffset: 20, as: UInt32.self)
        }
        Self.refusesToOpen(writer.path, reasonContaining: "checkpoint 20")
    }

    /// Positions at the ends of `Int64`: refused, where subtracting them used to overflow.
    @Test func extremePositionsAreRefusedWithoutOverflow() throws {
        let (directory, writer) = try Self.makeRing()
        defer { withExtendedLifetime(directory) {} }
        writer.mapping.head.store(Int64.min, ordering: .relaxed)
        Self.refusesToOpen(writer.path, reasonContaining: "inconsistent")

        // Head and tail near Int64.max with a record that claims more than is left before it.
        let top = Int64.max - 7
        writer.mapping.head.store(top - 8, ordering: .relaxed)
        writer.mapping.tail.store(top, ordering: .relaxed)
        let index = Int(top - 8) & writer.mapping.mask
        writer.mapping.recordLength(at: index).store(64, ordering: .relaxed)
        let reader = try RingReader(path: writer.path)
        #expect { try reader.poll { _ in } } throws: { error in
            guard case .corruptRecord(_, _, let reason) = error as? RingError else { return false }
            return reason.contains("does not fit")
        }
        writer.mapping.recordLength(at: index).store(-64, ordering: .relaxed)
        #expect(reader.skipTornClaim())
        #expect(reader.readPosition == top)
    }

    /// The consumer sets such a ring aside as corrupt and keeps serving the directory.
    @Test func theConsumerQuarantinesIt() throws {
        let (directory, writer) = try Self.makeRing()
        writer.mapping.head.store(4, ordering: .relaxed)
        let consumer = try RingConsumer(directory: directory.appending("rings"))
        #expect(consumer.sources.isEmpty)
        let notices = consumer.notices()
        #expect(notices.contains { notice in
            if case .quarantined(writer.path, writer.path + ".corrupt", let reason) = notice { reason.contains("record boundaries") } else { false }
        }, "\(notices)")
    }
}
