import Foundation
import RingboardTestSupport
import Testing
@testable import RingboardRing

/// Recycled spill segment files: the consumer leaves the files of the last committed segments,
/// the producer renames one to its next segment's name instead of making a new file.
@Suite struct SpillSegmentTests {
    static func segmentNames(_ directory: TemporaryDirectory) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.appending("rings")).filter { $0.contains(".spill.") }.sorted()
    }

    static func inode(_ path: String) throws -> UInt64 {
        try #require(FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as? UInt64)
    }

    /// A consumer (restarted: a new one) drains the ring of a dead producer, segments included,
    /// and retires it. Returns whether it did.
    static func drainUntilRetired(_ directory: TemporaryDirectory, into values: inout [UInt32]) throws -> Bool {
        let consumer = try RingConsumer(directory: directory.appending("rings"))
        for _ in 0..<50 {
            consumer.poll { _, record in values.append(record.payload.loadUnaligned(as: UInt32.self)) }
            try consumer.commitAll()
            consumer.scan()
            if consumer.sources.isEmpty { return true }
        }
        return false
    }

    /// Fills a 4 KiB ring (85 records of 40 bytes) and spills `count - 85` more, numbered from `first`.
    static func fill(_ writer: RingWriter, from first: UInt32, count: Int) -> UInt32 {
        for value in first..<(first + UInt32(count)) { _ = SpillTests.append(writer, value) }
        return first + UInt32(count)
    }

    /// A segment read and committed stays as a spare; the next spill takes its file (the same
    /// inode, renamed), and the records arrive once each, in order.
    @Test func aCommittedSegmentIsReusedByTheProducer() throws {
        let directory = TemporaryDirectory("ringboard-recycle")
        let writer = try SpillTests.makeWriter(directory)
        let reader = try RingReader(path: writer.path)
        var values: [UInt32] = []
        var next = Self.fill(writer, from: 0, count: 300)
        let first = try Self.inode(writer.path + ".spill.0")
        try SpillTests.values(reader, into: &values)
        try reader.commit()
        next = Self.fill(writer, from: next, count: 1)  // the marker, then this record in the ring
        try SpillTests.values(reader, into: &values)
        try reader.commit()
        #expect(writer.mapping.spillCommitted.load(ordering: .relaxed) == 1)
        // Committed, and kept for the producer.
        #expect(try Self.segmentNames(directory) == [URL(fileURLWithPath: writer.path).lastPathComponent + ".spill.0"])
        // Segment 1 takes segment 0's file. (Its marker fits in the ring before the next record
        // does: segment 2 follows, in a new file, segment 1 not being committed yet.)
        next = Self.fill(writer, from: next, count: 300)
        #expect(!FileManager.default.fileExists(atPath: writer.path + ".spill.0"))
        #expect(try Self.inode(writer.path + ".spill.1") == first)
        try SpillTests.values(reader, into: &values)
        try reader.commit()
        next = Self.fill(writer, from: next, count: 1)
        try SpillTests.values(reader, into: &values)
        #expect(values == Array(0..<next))
    }

    /// A reused file still holds the records of its last life past what its new segment wrote: a
    /// producer that dies with it open has only its new records read (the header's count), and
    /// the spare the consumer committed is never read again.
    @Test func aRecycledFileIsNeverReadAsALiveSegment() throws {
        let directory = TemporaryDirectory("ringboard-recycle")
        let writer = try SpillTests.makeWriter(directory)
        let reader = try RingReader(path: writer.path)
        var values: [UInt32] = []
        var next = Self.fill(writer, from: 0, count: 600)  // segment 0: 515 records
        try SpillTests.values(reader, into: &values)
        try reader.commit()
        next = Self.fill(writer, from: next, count: 1)
        try SpillTests.values(reader, into: &values)
        try reader.commit()
        // The ring fills again, and 10 records spill: the first to segment 1, in segment 0's file
        // (its marker then fits in the ring), the others to segment 2, which the producer was
        // writing when it died.
        let first = try Self.inode(writer.path + ".spill.0")
        next = Self.fill(writer, from: next, count: 85 + 10)
        #expect(try Self.inode(writer.path + ".spill.1") == first)
        writer.mapping.storeHeader(UInt64(1), at: RingLayout.producerStartTimeOffset)  // it "dies"
        #expect(try Self.drainUntilRetired(directory, into: &values))
        #expect(values == Array(0..<next))
        #expect(try Self.segmentNames(directory).isEmpty)
    }

    /// The producer killed between the consumer's hand-back (a commit past a segment) and its
    /// reuse, at either side of the rename: nothing is lost or read twice, and every file goes.
    @Test func aCrashBetweenHandBackAndReuseLosesNothing() throws {
        for renamed in [false, true] {
            let directory = TemporaryDirectory("ringboard-recycle")
            let writer = try SpillTests.makeWriter(directory)
            let reader = try RingReader(path: writer.path)
            var values: [UInt32] = []
            var next = Self.fill(writer, from: 0, count: 300)
            try SpillTests.values(reader, into: &values)
            try reader.commit()
            next = Self.fill(writer, from: next, count: 1)
            try SpillTests.values(reader, into: &values)
            try reader.commit()
            // Then the ring fills again, to the last byte before a spill.
            next = Self.fill(writer, from: next, count: 84)
            if renamed {
                // Killed right after renaming the spare to segment 1 (named in the header first),
                // before its first record: the file holds segment 0's records, none of them counted.
                writer.mapping.openSpillSize.store(0, ordering: .relaxed)
                writer.mapping.openSpill.store(2, ordering: .relaxed)
                try FileManager.default.moveItem(atPath: writer.path + ".spill.0", toPath: writer.path + ".spill.1")
            }
            writer.mapping.storeHeader(UInt64(1), at: RingLayout.producerStartTimeOffset)
            // A consumer restarted from the last commit, then retiring the dead producer's ring.
            #expect(try Self.drainUntilRetired(directory, into: &values))
            #expect(values == Array(0..<next), "renamed: \(renamed)")
            #expect(try Self.segmentNames(directory).isEmpty, "renamed: \(renamed)")
        }
    }

    /// A long spill makes new files (none is committed yet to reuse); once they are read, the
    /// consumer removes each as soon as `spareCount` later ones are committed, and the last
    /// `spareCount` stay for the producer.
    @Test func theConsumerKeepsOnlyTheLastCommittedSegments() throws {
        let directory = TemporaryDirectory("ringboard-recycle")
        let writer = try SpillTests.makeWriter(directory)
        var next = Self.fill(writer, from: 0, count: 200_000)
        let made = try Self.segmentNames(directory).count
        #expect(made > Int(SpillSegment.spareCount) + 2)
        let reader = try RingReader(path: writer.path)
        var values: [UInt32] = []
        try SpillTests.values(reader, into: &values)
        try reader.commit()
        next = Self.fill(writer, from: next, count: 1)  // every marker, then this record
        try SpillTests.values(reader, into: &values)
        try reader.commit()
        #expect(values == Array(0..<next))
        let left = try Self.segmentNames(directory).map { Int64($0.split(separator: ".").last!)! }.sorted()
        #expect(left == Array(Int64(made) - SpillSegment.spareCount..<Int64(made)))
        // The producer kept the same last ones: the next spill reuses the oldest.
        let oldest = try Self.inode(writer.path + ".spill.\(left[0])")
        next = Self.fill(writer, from: next, count: 200)
        #expect(try Self.inode(writer.path + ".spill.\(made)") == oldest)
        #expect(!FileManager.default.fileExists(atPath: writer.path + ".spill.\(left[0])"))
    }

    /// Segments read in place: records of every size, one that spans stored blocks, and a
    /// segment whose length stops inside a block (its producer died while copying a record).
    @Test func storedSegmentsAreReadInPlace() throws {
        let directory = TemporaryDirectory("ringboard-stored")
        let path = directory.appending("segment")
        let buffers = SpillSegment.Buffers(maximumRecordLength: 6 << 20)
        let writer = try SpillSegment.Writer(path: path, index: 0, buffers: buffers)
        let payloads: [[UInt8]] = [[], [1], Array(repeating: 7, count: 4 << 20), Array(0..<200).map(UInt8.init), Array(repeating: 9, count: 5 << 20)]
        var lengths: [Int64] = []
        for payload in payloads {
            try writer.append(type: 16, flags: 3, length: payload.count) { destination in
                payload.withUnsafeBytes { destination.copyMemory(from: $0) }
            }
            lengths.append(writer.bytes)
        }
        func read(_ length: Int64?) throws -> [[UInt8]] {
            var read: [[UInt8]] = []
            _ = try SpillSegment.readStored(path: path, maximumRecordLength: 6 << 20, length: length) { type, flags, payload in
                #expect(type == 16 && flags == 3)
                read.append(Array(payload))
            }
            return read
        }
        #expect(try read(lengths.last!) == payloads)
        #expect(try read(lengths[3] + 100) == Array(payloads.prefix(4)))
        #expect(try read(lengths[1] + 2) == Array(payloads.prefix(2)))
        try writer.seal()
        #expect(try read(nil) == payloads)
        #expect(throws: RingError.self) { _ = try read(lengths.last! + Int64(SpillSegment.frameEndSize) + 1) }
    }
}
