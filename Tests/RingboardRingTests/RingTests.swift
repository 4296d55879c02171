import Foundation
import RingboardTestSupport
import Synchronization
import Testing
@testable import RingboardRing

@Suite struct RingLayoutTests {
    /// The offsets are the file format: changing one means bumping the layout version.
    @Test func offsetsArePinned() {
        #expect(RingLayout.version == 3)
        #expect(RingLayout.magic == 0x3130_474E_4952_4252)
        let offsets: [Int] = [RingLayout.tailOffset, RingLayout.headCacheOffset, RingLayout.headOffset, RingLayout.doorbellOffset,
                 RingLayout.heartbeatOffset, RingLayout.spilledOffset, RingLayout.droppedOffset, RingLayout.consumedOffset,
                 RingLayout.producerStateOffset]
        #expect(offsets == [128, 256, 384, 512, 640, 768, 896, 1024, 1152])
        #expect(RingLayout.checkpointOffset == 2048 && RingLayout.checkpointSlotSize == 1024)
        #expect(RingLayout.headerSize == 4096)
        #expect(RingLayout.recordHeaderSize == 8)
        #expect(withUnsafeBytes(of: RingLayout.magic.littleEndian) { Array($0) } == Array("RBRING01".utf8))
    }

    @Test func alignment() {
        #expect((0...17).map(RingLayout.aligned) == [0, 8, 8, 8, 8, 8, 8, 8, 8, 16, 16, 16, 16, 16, 16, 16, 16, 24])
    }
}

@Suite struct RingTests {
    static let type: UInt16 = RingRecordType.firstUser

    static func makeRing(capacity: Int = 4096) throws -> (TemporaryDirectory, RingWriter, RingReader) {
        let directory = TemporaryDirectory("ringboard-ring")
        var options = RingWriter.Options()
        options.capacity = capacity
        let writer = try RingWriter(directory: directory.appending("rings"), options: options)
        let reader = try RingReader(path: writer.path)
        return (directory, writer, reader)
    }

    static func drain(_ reader: RingReader) throws -> [[UInt8]] {
        var payloads: [[UInt8]] = []
        try reader.poll { payloads.append(Array($0.payload)) }
        return payloads
    }

    @Test func fileIsPrivateAndNamedByProcess() throws {
        let (directory, writer, _) = try Self.makeRing()
        let attributes = try FileManager.default.attributesOfItem(atPath: writer.path)
        #expect((attributes[.posixPermissions] as! Int) == 0o600)
        let directoryAttributes = try FileManager.default.attributesOfItem(atPath: directory.appending("rings"))
        #expect((directoryAttributes[.posixPermissions] as! Int) == 0o700)
        #expect(URL(fileURLWithPath: writer.path).lastPathComponent.hasPrefix("\(getpid())-"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.appending("rings")).count == 1)
    }

    @Test func recordsComeBackInOrderWithTypesAndFlags() throws {
        let (directory, writer, reader) = try Self.makeRing()
        defer { withExtendedLifetime(directory) {} }
        for length in 0..<40 {
            let payload = (0..<length).map { UInt8(truncatingIfNeeded: $0 &+ length) }
            #expect(writer.tryAppend(type: Self.type + UInt16(length % 3), flags: UInt16(length), payload) != .full)
        }
        var seen: [(UInt16, UInt16, [UInt8])] = []
        let count = try reader.poll { seen.append(($0.type, $0.flags, Array($0.payload))) }
        #expect(count == 40)
        for (length, record) in seen.enumerated() {
            #expect(record.0 == Self.type + UInt16(length % 3))
            #expect(record.1 == UInt16(length))
            #expect(record.2 == (0..<length).map { UInt8(truncatingIfNeeded: $0 &+ length) })
        }
        #expect(reader.isDrained)
    }

    /// Aeron's shouldInsertPaddingRecordPlusMessageOnBufferWrap: head and tail set by hand 16 bytes
    /// before the end; a 24-byte record needs the padding and goes to index 0.
    @Test func paddingFillsTheWrap() throws {
        let (directory, writer, reader) = try Self.makeRing()
        defer { withExtendedLifetime(directory) {} }
        let start = Int64(4096 - 16)
        writer.mapping.tail.store(start, ordering: .relaxed)
        writer.mapping.head.store(start, ordering: .relaxed)
        writer.mapping.headCache.store(start, ordering: .relaxed)
        let reopened = try RingReader(path: reader.path)
        #expect(writer.tryAppend(type: Self.type, Array(repeating: 7, count: 16)) == .appended(position: 4096))
        #expect(writer.mapping.tail.load(ordering: .relaxed) == start + 16 + 24)
        #expect(writer.mapping.recordLength(at: 4096 - 16).load(ordering: .relaxed) == 16)
        #expect(writer.mapping.recordType(at: 4096 - 16).type == RingRecordType.padding)
        #expect(try Self.drain(reopened) == [Array(repeating: 7, count: 16)])
        try reopened.commit()
        // The padding and the record were zeroed behind the consumer.
        #expect(writer.mapping.recordLength(at: 4096 - 16).load(ordering: .relaxed) == 0)
        #expect(writer.mapping.recordLength(at: 0).load(ordering: .relaxed) == 0)
    }

    @Test func aRecordThatExactlyReachesTheEndNeedsNoPadding() throws {
        let (directory, writer, reader) = try Self.makeRing()
        defer { withExtendedLifetime(directory) {} }
        let start = Int64(4096 - 24)
        writer.mapping.tail.store(start, ordering: .relaxed)
        writer.mapping.head.store(start, ordering: .relaxed)
        let reopened = try RingReader(path: reader.path)
        #expect(writer.tryAppend(type: Self.type, Array(repeating: 1, count: 16)) == .appended(position: start))
        #expect(writer.tryAppend(type: Self.type, [2]) == .appended(position: 4096))
        #expect(try Self.drain(reopened) == [Array(repeating: 1, count: 16), [2]])
    }

    @Test func fullRingRefusesUntilTheConsumerCommits() throws {
        let (directory, writer, reader) = try Self.makeRing()
        defer { withExtendedLifetime(directory) {} }
        var appended = 0
        while case .appended = writer.tryAppend(type: Self.type, Array(repeating: 9, count: 56)) { appended += 1 }
        #expect(appended == 4096 / 64)
        #expect(writer.tryAppend(type: Self.type, []) == .full)
        #expect(try reader.poll(limit: 10) { _ in } == 10)
        #expect(writer.tryAppend(type: Self.type, []) == .full)  // read but not committed: not free yet
        try reader.commit()
        #expect(writer.tryAppend(type: Self.type, Array(repeating: 9, count: 56)) != .full)
        #expect(try reader.poll { _ in } == appended - 10 + 1)
    }

    @Test func wrapsManyTimesWithRandomSizes() throws {
        let (directory, writer, reader) = try Self.makeRing()
        defer { withExtendedLifetime(directory) {} }
        var generator = SeededGenerator(seed: 11)
        var expected: [[UInt8]] = []
        var received: [[UInt8]] = []
        for round in 0..<20_000 {
            let length = Int.random(in: 0...writer.maximumPayloadLength, using: &generator)
            let payload = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ round) }
            if writer.tryAppend(type: Self.type, payload) == .full {
                received += try Self.drain(reader)
                try reader.commit()
                #expect(writer.tryAppend(type: Self.type, payload) != .full)
            }
            expected.append(payload)
        }
        received += try Self.drain(reader)
        #expect(received == expected)
        #expect(writer.mapping.tail.load(ordering: .relaxed) > Int64(4096 * 100))
    }

    @Test func zeroCopyClaimWritesInPlace() throws {
        let (directory, writer, reader) = try Self.makeRing()
        defer { withExtendedLifetime(directory) {} }
        let result = writer.tryClaim(type: Self.type, length: 12) { buffer in
            for k in 0..<buffer.count { buffer[k] = UInt8(k * 2) }
        }
        #expect(result == .appended(position: 0))
        #expect(try Self.drain(reader) == [(0..<12).map { UInt8($0 * 2) }])
    }

    /// A claim whose length is still negative (the producer died mid-record) is skipped by its size.
    @Test func tornClaimWithNegativeLengthIsSkipped() throws {
        let (directory, writer, reader) = try Self.makeRing()
        defer { withExtendedLifetime(directory) {} }
        _ = writer.tryAppend(type: Self.type, [1])
        // Claim 24 bytes and die after marking the length, as a killed producer would.
        writer.mapping.tail.wrappingIncrement(by: 24, ordering: .relaxed)
        writer.mapping.recordLength(at: 16).store(-20, ordering: .relaxed)
        _ = writer.tryAppend(type: Self.type, [3])
        #expect(try Self.drain(reader) == [[1]])
        #expect(!reader.isDrained)
        #expect(reader.skipTornClaim())
        #expect(try Self.drain(reader) == [[3]])
        #expect(reader.isDrained)
        #expect(reader.tornClaimsSkipped == 1)
    }

    /// A claim with nothing written (killed between the CAS and the header): the next record is
    /// the next nonzero length word, because free space is always zero.
    @Test func tornClaimWithZeroLengthIsSkippedToTheNextRecord() throws {
        let (directory, writer, reader) = try Self.makeRing()
        defer { withExtendedLifetime(directory) {} }
        _ = writer.tryAppend(type: Self.type, [1])
        writer.mapping.tail.wrappingIncrement(by: 40, ordering: .relaxed)
        _ = writer.tryAppend(type: Self.type, [5, 6])
        #expect(try Self.drain(reader) == [[1]])
        #expect(reader.skipTornClaim())
        #expect(try Self.drain(reader) == [[5, 6]])
        // A torn claim at the very end: nothing follows it.
        writer.mapping.tail.wrappingIncrement(by: 16, ordering: .relaxed)
        #expect(reader.skipTornClaim())
        #expect(reader.isDrained)
    }

    @Test func commitsSurviveTheConsumerAndCarryItsState() throws {
        let (directory, writer, reader) = try Self.makeRing()
        defer { withExtendedLifetime(directory) {} }
        for k in 0..<10 { _ = writer.tryAppend(type: Self.type, [UInt8(k)]) }
        #expect(try reader.poll(limit: 4) { _ in } == 4)
        try reader.commit(checkpoint: Array("state after 4".utf8))
        #expect(try reader.poll(limit: 3) { _ in } == 3)  // read, never committed
        let restarted = try RingReader(path: reader.path)
        #expect(restarted.checkpoint == Array("state after 4".utf8))
        #expect(try Self.drain(restarted) == (4..<10).map { [UInt8($0)] })
        #expect(throws: RingError.checkpointTooLarge(length: 1001, maximum: 1000)) {
            try restarted.commit(checkpoint: Array(repeating: 0, count: 1001))
        }
    }

    /// A consumer lingering while records trickle in: appends do not end it (they ring no
    /// doorbell), and a producer that starts waiting for its records to be committed does.
    @Test func aWaitingProducerEndsTheConsumersLingerAndAppendsDoNot() throws {
        let (directory, writer, reader) = try Self.makeRing()
        defer { withExtendedLifetime(directory) {} }
        var start = ContinuousClock.now
        let appender = Thread { for k in 0..<20 { _ = writer.tryAppend(type: Self.type, [UInt8(k)]); usleep(5_000) } }
        appender.start()
        RingMapping.linger([reader.mapping], timeout: .milliseconds(300))
        #expect(ContinuousClock.now - start >= .milliseconds(300), "an append ended the linger")
        while !appender.isFinished { usleep(1_000) }
        #expect(try reader.poll { _ in } == 20)

        let waiter = Thread {
            usleep(100_000)
            _ = writer.waitUntilCommitted(timeout: .seconds(20))
        }
        start = ContinuousClock.now
        waiter.start()
        RingMapping.linger([reader.mapping], timeout: .seconds(20))
        #expect(ContinuousClock.now - start < .seconds(10), "the waiting producer did not end the linger")
        try reader.commit()
        while !waiter.isFinished { usleep(1_000) }
    }

    /// `waitForNextCommit`: nothing to wait for when everything is committed; a commit ends the
    /// wait; once a wait has timed out, the stalled consumer is not waited for again until it
    /// commits, and then it is.
    @Test func waitingForTheNextCommitGivesUpOnAStalledConsumerUntilItCommits() throws {
        let (directory, writer, reader) = try Self.makeRing()
        defer { withExtendedLifetime(directory) {} }
        /// `waitForNextCommit(timeout:)` on a thread of its own while the consumer (this thread)
        /// commits `commitAfter` from now, if at all; what it returned.
        func wait(_ timeout: Duration, commitAfter delay: Duration?) throws -> Bool {
            let result = Atomic<Int>(-1)
            let waiter = Thread { result.store(writer.waitForNextCommit(timeout: timeout) ? 1 : 0, ordering: .releasing) }
            waiter.start()
            if let delay {
                usleep(UInt32(delay.components.seconds * 1_000_000 + delay.components.attoseconds / 1_000_000_000_000))
                _ = try reader.poll { _ in }
                try reader.commit()
            }
            while !waiter.isFinished { usleep(1_000) }
            return result.load(ordering: .acquiring) == 1
        }
        #expect(try !wait(.seconds(20), commitAfter: nil), "nothing was appended")
        _ = writer.tryAppend(type: Self.type, [1])
        #expect(try wait(.seconds(20), commitAfter: .milliseconds(50)), "the commit did not end the wait")
        _ = writer.tryAppend(type: Self.type, [2])
        #expect(try !wait(.milliseconds(20), commitAfter: nil), "no consumer committed")
        // The consumer commits 300 ms from now: a call that waited for it would see the commit.
        #expect(try !wait(.seconds(20), commitAfter: .milliseconds(300)), "waited again for a consumer that had let a wait time out")
        _ = writer.tryAppend(type: Self.type, [3])
        #expect(try wait(.seconds(20), commitAfter: .milliseconds(50)), "a consumer that committed again was not waited for")
    }

    /// A checkpoint numbered Int64.max (a damaged or forged ring; FuzzRingFile found it) leaves
    /// the next commit no number: the ring is refused as invalid, not trapped on.
    @Test func aCheckpointGenerationWithNoSuccessorIsRefused() throws {
        let (directory, writer, reader) = try Self.makeRing()
        defer { withExtendedLifetime(directory) {} }
        _ = writer.tryAppend(type: Self.type, [1])
        #expect(try reader.poll(limit: 1) { _ in } == 1)
        try reader.commit(checkpoint: [1])  // generation 1, in slot 1
        writer.mapping.withCheckpointSlot(1) { $0.storeBytes(of: Int64.max.littleEndian, toByteOffset: 0, as: Int64.self) }
        #expect(throws: RingError.invalidHeader(path: reader.path, reason: "checkpoint generation \(Int64.max) leaves no room for another commit")) {
            _ = try RingReader(path: reader.path)
        }
    }

    /// Killed after writing its checkpoint but before moving head: the next consumer completes
    /// that commit rather than delivering the records again.
    @Test func aCheckpointAheadOfHeadIsCompletedOnOpen() throws {
        let (directory, writer, reader) = try Self.makeRing()
        defer { withExtendedLifetime(directory) {} }
        for k in 0..<6 { _ = writer.tryAppend(type: Self.type, [UInt8(k)]) }
        #expect(try reader.poll(limit: 2) { _ in } == 2)
        try reader.commit(checkpoint: [1])
        #expect(try reader.poll(limit: 2) { _ in } == 2)
        let committedAt2 = reader.committedPosition
        try reader.commit(checkpoint: [2])
        // Undo the head move of the second commit, as if the consumer died right before it.
        writer.mapping.head.store(committedAt2, ordering: .relaxed)
        let restarted = try RingReader(path: reader.path)
        #expect(restarted.checkpoint == [2])
        #expect(try Self.drain(restarted) == [[4], [5]])
        #expect(writer.mapping.head.load(ordering: .relaxed) == restarted.committedPosition)
    }

    @Test func corruptRecordsAreReportedNotFollowed() throws {
        let (directory, writer, reader) = try Self.makeRing()
        defer { withExtendedLifetime(directory) {} }
        _ = writer.tryAppend(type: Self.type, [1, 2, 3])
        writer.mapping.recordLength(at: 0).store(5000, ordering: .relaxed)
        #expect(throws: RingError.self) { try reader.poll { _ in } }
        writer.mapping.recordLength(at: 0).store(11, ordering: .relaxed)
        writer.mapping.storeRecordType(3, flags: 0, at: 0)
        #expect(throws: RingError.corruptRecord(path: reader.path, position: 0, reason: "reserved record type 3")) {
            try reader.poll { _ in }
        }
        writer.mapping.tail.store(1 << 40, ordering: .relaxed)
        #expect(throws: RingError.self) { try reader.poll { _ in } }
    }

    /// Random bytes over the whole file: opening or reading fails cleanly, never a crash or a read
    /// outside the mapping. A third keep the header whole, so that at least those open and their
    /// records are read.
    @Test func randomBytesNeverCrashTheConsumer() throws {
        let (directory, writer, _) = try Self.makeRing()
        for number in 0..<20 { _ = SpillTests.append(writer, UInt32(number)) }
        var generator = SeededGenerator(seed: 5)
        let path = directory.appending("random.ring")
        var opened = 0, polled = 0
        for round in 0..<300 {
            var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: writer.path)))
            // The whole file; all but the first slot (magic, version, sizes); only the records.
            let kept = [0, RingLayout.slotSize, RingLayout.headerSize][round % 3]
            for k in kept..<bytes.count where UInt8.random(in: 0...255, using: &generator) < 40 {
                bytes[k] = UInt8.random(in: 0...255, using: &generator)
            }
            FileManager.default.createFile(atPath: path, contents: Data(bytes), attributes: [.posixPermissions: 0o600])
            guard let reader = try? RingReader(path: path) else { continue }
            opened += 1
            for _ in 0..<4 {
                _ = try? reader.poll { _ in polled += 1 }
                _ = reader.skipTornClaim()
            }
        }
        #expect(opened >= 100, "only \(opened) of 300 mutated rings opened: the reads were hardly tried")
        #expect(polled > 0, "no record of a mutated ring was read")
    }

    @Test func refusesFilesOthersCanWriteOrThatAreNotOurs() throws {
        let (directory, writer, _) = try Self.makeRing()
        chmod(writer.path, 0o620)
        #expect { _ = try RingReader(path: writer.path) } throws: { error in
            guard case .notOwned(_, let reason) = error as? RingError else { return false }
            return reason.contains("group or others can write")
        }
        chmod(writer.path, 0o600)
        let open = directory.appending("open")
        try FileManager.default.createDirectory(atPath: open, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o777])
        chmod(open, 0o777)
        #expect { try RingDirectory.prepare(open) } throws: { error in
            guard case .notOwned = error as? RingError else { return false }
            return true
        }
        let link = directory.appending("link")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: directory.appending("rings"))
        #expect(throws: RingError.self) { try RingDirectory.prepare(link) }
    }

    /// Only root can give a ring file to another user.
    @Test(.privileged("needs root to give a ring file to another user", missing: rootProblem))
    func refusesRingsOwnedByAnotherUser() throws {
        let (directory, writer, _) = try Self.makeRing()
        defer { withExtendedLifetime(directory) {} }
        #expect(chown(writer.path, 65534, 65534) == 0, "chown: errno \(errno)")
        #expect { _ = try RingReader(path: writer.path) } throws: { error in
            guard case .notOwned(_, let reason) = error as? RingError else { return false }
            return reason.contains("owned by uid 65534")
        }
    }

    @Test func liveAndDeadProducers() throws {
        let (directory, writer, reader) = try Self.makeRing()
        defer { withExtendedLifetime(directory) {} }
        #expect(reader.producerIsAlive)
        #expect(!reader.producerClosed)
        writer.close()
        #expect(reader.producerClosed)
        // A pid that is running but started at another time is not the producer.
        writer.mapping.storeHeader(UInt64(1), at: RingLayout.producerStartTimeOffset)
        #expect(try !RingReader(path: reader.path).producerIsAlive)
    }

    /// Several threads append while a consumer drains and commits: every record arrives once, and
    /// each thread's records in its order.
    @Test func concurrentProducersLoseNothing() async throws {
        let (directory, writer, reader) = try Self.makeRing(capacity: 1 << 16)
        defer { withExtendedLifetime(directory) {} }
        let threads = 4, perThread = 50_000
        let done = ManagedAtomicFlag()
        let consumer = Task.detached { () -> [[Int]] in
            var next = [Int](repeating: 0, count: threads)
            var errors: [[Int]] = []
            while true {
                let finished = done.isSet
                let count = try reader.poll { record in
                    let thread = Int(record.payload.loadUnaligned(as: UInt32.self))
                    let sequence = Int(record.payload.load(fromByteOffset: 4, as: UInt32.self))
                    if sequence != next[thread] { errors.append([thread, sequence, next[thread]]) }
                    next[thread] = sequence + 1
                }
                try reader.commit()
                if count == 0 && finished && reader.isDrained { break }
            }
            return errors + [next]
        }
        await withTaskGroup(of: Void.self) { group in
            for thread in 0..<threads {
                group.addTask {
                    var sequence = 0
                    while sequence < perThread {
                        let result = writer.tryClaim(type: Self.type, length: 8 + thread * 8) { buffer in
                            buffer.storeBytes(of: UInt32(thread), as: UInt32.self)
                            buffer.storeBytes(of: UInt32(sequence), toByteOffset: 4, as: UInt32.self)
                        }
                        if result == .full { continue }
                        sequence += 1
                    }
                }
            }
        }
        done.set()
        let outcome = try await consumer.value
        #expect(outcome.count == 1, "out-of-order or lost records: \(outcome.dropLast().prefix(5))")
        #expect(outcome.last == [Int](repeating: perThread, count: threads))
    }
}

/// A flag one task sets and another reads.
final class ManagedAtomicFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}

@Suite struct SpillTests {
    static let type = RingRecordType.firstUser

    static func makeWriter(_ directory: TemporaryDirectory, capacity: Int = 4096, policy: RingPolicy = .spill) throws -> RingWriter {
        var options = RingWriter.Options()
        options.capacity = capacity
        options.policy = policy
        return try RingWriter(directory: directory.appending("rings"), options: options)
    }

    static func append(_ writer: RingWriter, _ value: UInt32) -> RingWriter.AppendOutcome {
        writer.append(type: type, length: 40) { payload in
            payload.storeBytes(of: value, as: UInt32.self)
            for k in 4..<40 { payload[k] = UInt8(truncatingIfNeeded: value &+ UInt32(k)) }
        }
    }

    static func values(_ reader: RingReader, into values: inout [UInt32]) throws {
        try reader.poll { record in
            precondition(record.payload.count == 40)
            values.append(record.payload.loadUnaligned(as: UInt32.self))
        }
    }

    /// A full ring spills; once there is room, a marker ends the segment and the consumer reads
    /// the segment there: one order across ring and spill. Committed, the segment's file stays
    /// for the producer to reuse (`SpillSegmentTests`), and no reader takes it for a live one.
    @Test func spilledRecordsArriveInOrder() throws {
        let directory = TemporaryDirectory("ringboard-spill")
        let writer = try Self.makeWriter(directory)
        let reader = try RingReader(path: writer.path)
        var outcomes: [RingWriter.AppendOutcome] = []
        for value in 0..<300 { outcomes.append(Self.append(writer, UInt32(value))) }
        let inRing = outcomes.filter { if case .ring = $0 { true } else { false } }.count
        #expect(inRing == 4096 / 48)
        #expect(writer.spilledCount == Int64(300 - inRing))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.appending("rings")).contains { $0.hasSuffix(".spill.0") })
        var values: [UInt32] = []
        try Self.values(reader, into: &values)
        try reader.commit()
        // Room again: the next append writes the marker first, then goes to the ring.
        for value in 300..<320 { #expect(Self.append(writer, UInt32(value)) != .spilled) }
        try Self.values(reader, into: &values)
        try reader.commit()
        #expect(values == (0..<320).map(UInt32.init))
        #expect(writer.mapping.spillCommitted.load(ordering: .relaxed) == 1)
        #expect(!reader.hasUnmarkedSpill)
    }

    /// Spilling, then the ring fills again: a second segment, each in its place.
    @Test func severalSegmentsKeepTheirPlaces() throws {
        let directory = TemporaryDirectory("ringboard-spill")
        let writer = try Self.makeWriter(directory)
        let reader = try RingReader(path: writer.path)
        var values: [UInt32] = []
        var next: UInt32 = 0
        for _ in 0..<5 {
            for _ in 0..<200 {
                _ = Self.append(writer, next)
                next += 1
            }
            try Self.values(reader, into: &values)
            try reader.commit()
        }
        writer.close()
        try Self.values(reader, into: &values)
        while reader.hasUnmarkedSpill { _ = try reader.pollUnmarkedSpill { values.append($0.payload.loadUnaligned(as: UInt32.self)) } }
        #expect(values == Array(0..<next))
    }

    /// A producer that dies while spilling leaves a segment no marker names: the consumer reads
    /// it after the ring, then retires the ring and removes every file.
    @Test func anUnmarkedSegmentOfADeadProducerIsDrained() throws {
        let directory = TemporaryDirectory("ringboard-spill")
        let writer = try Self.makeWriter(directory)
        for value in 0..<500 { _ = Self.append(writer, UInt32(value)) }
        // It "dies": same pid, another start time.
        writer.mapping.storeHeader(UInt64(1), at: RingLayout.producerStartTimeOffset)
        let consumer = try RingConsumer(directory: directory.appending("rings"))
        var values: [UInt32] = []
        var retired = false
        for _ in 0..<50 where !retired {
            consumer.poll { _, record in values.append(record.payload.loadUnaligned(as: UInt32.self)) }
            try consumer.commitAll()
            retired = consumer.notices().contains { if case .retired(_, _, 500, 0, false) = $0 { true } else { false } }
            consumer.scan()
        }
        #expect(retired)
        #expect(values == (0..<500).map(UInt32.init))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.appending("rings")) == ["consumer.lock"])
    }

    @Test func dropNewestCountsWhatItDrops() throws {
        let directory = TemporaryDirectory("ringboard-drop")
        let writer = try Self.makeWriter(directory, policy: .dropNewest)
        let outcomes = (0..<100).map { Self.append(writer, UInt32($0)) }
        #expect(outcomes.filter { $0 == .dropped }.count == 100 - 4096 / 48)
        #expect(writer.droppedCount == Int64(100 - 4096 / 48))
        #expect(try RingReader(path: writer.path).droppedCount == writer.droppedCount)
    }

    /// A payload of `length` bytes that LZ4 cannot shrink, numbered by its first four bytes.
    static func bulkPayload(_ number: UInt32, length: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
        withUnsafeBytes(of: number) { bytes.replaceSubrange(0..<4, with: $0) }
        return bytes
    }

    /// Appends `payloads` (each spilled once the ring is full), closes the producer, and reads
    /// everything back, ring and spill.
    static func roundTrip(_ payloads: [[UInt8]], capacity: Int) throws -> (read: [[UInt8]], spilled: Int64, segmentBytes: Int) {
        let directory = TemporaryDirectory("ringboard-spill")
        let writer = try makeWriter(directory, capacity: capacity)
        let reader = try RingReader(path: writer.path)
        for payload in payloads {
            _ = writer.append(type: type, length: payload.count) { destination in
                payload.withUnsafeBytes { destination.copyMemory(from: $0) }
            }
        }
        // The bytes its records fill (the file is allocated ahead of them).
        let segmentBytes = Int(writer.mapping.openSpillSize.load(ordering: .relaxed))
        writer.close()
        var read: [[UInt8]] = []
        try reader.poll { read.append(Array($0.payload)) }
        while reader.hasUnmarkedSpill { _ = try reader.pollUnmarkedSpill { read.append(Array($0.payload)) } }
        return (read, writer.spilledCount, segmentBytes)
    }

    /// Records of every size spill stored, one after another in the same segment: every byte and
    /// the order survive.
    @Test func recordsOfEverySizeShareASegmentInOrder() throws {
        var payloads: [[UInt8]] = []
        for number in 0..<40 as Range<UInt32> {
            switch number % 4 {
            case 0, 1: payloads.append(Self.bulkPayload(number, length: 100_000))
            case 2: payloads.append(Array(repeating: UInt8(number), count: 40))
            default: payloads.append(Self.bulkPayload(number, length: 65_536 - 8 - 1))
            }
        }
        let (read, spilled, segmentBytes) = try Self.roundTrip(payloads, capacity: 1 << 20)
        #expect(spilled > 10)
        #expect(read == payloads)
        // Stored records take their own length plus a block header: the segment is no larger
        // than the records it holds with a few bytes each.
        #expect(segmentBytes > 0 && segmentBytes < payloads.reduce(0) { $0 + $1.count + 64 })
    }

    /// A record longer than one stored block (4 MiB) is split across blocks and read back whole.
    @Test func aRecordLongerThanAStoredBlockSpansBlocks() throws {
        // A 64 MiB ring takes records of up to 8 MiB; nine of 7 MiB fill it, the rest spill.
        let payloads = (0..<12 as Range<UInt32>).map { number in
            var payload = [UInt8](repeating: UInt8(number), count: number % 2 == 0 ? 7 << 20 : 7 << 20 - 5)
            withUnsafeBytes(of: number) { payload.replaceSubrange(0..<4, with: $0) }
            return payload
        }
        let (read, spilled, _) = try Self.roundTrip(payloads, capacity: 64 << 20)
        #expect(spilled >= 2)
        #expect(read == payloads)
    }

    /// A producer killed while copying a stored record into its segment has not counted it in
    /// the ring header: the records before it are delivered, the cut one is not. A layout 2
    /// segment (written with `write`) cut inside a record delivers the records before it too.
    @Test func aSegmentCutInsideAStoredRecordDeliversTheRecordsBeforeIt() throws {
        let directory = TemporaryDirectory("ringboard-spill")
        let writer = try Self.makeWriter(directory, capacity: 1 << 20)
        let payloads = (0..<20 as Range<UInt32>).map { Self.bulkPayload($0, length: 90_000 + Int($0)) }
        var outcomes: [RingWriter.AppendOutcome] = []
        for payload in payloads {
            outcomes.append(writer.append(type: Self.type, length: payload.count) { destination in
                payload.withUnsafeBytes { destination.copyMemory(from: $0) }
            })
        }
        #expect(outcomes.last == .spilled)
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.appending("rings"))
        let last = names.compactMap { $0.split(separator: ".spill.").last.flatMap { Int($0) } }.max() ?? 0
        let segment = writer.path + ".spill.\(last)"
        let written = writer.mapping.openSpillSize.load(ordering: .relaxed)
        // It "dies" in the middle of copying the last record: its bytes are there (its block
        // header, its record header, its payload), uncounted.
        let countedBeforeLast = written - Int64(4 + 8 + payloads.last!.count)
        writer.mapping.openSpillSize.store(countedBeforeLast, ordering: .relaxed)
        writer.mapping.storeHeader(UInt64(1), at: RingLayout.producerStartTimeOffset)
        func read() throws -> [[UInt8]] {
            let reader = try RingReader(path: writer.path)
            var read: [[UInt8]] = []
            try reader.poll { read.append(Array($0.payload)) }
            while reader.hasUnmarkedSpill { _ = try reader.pollUnmarkedSpill { read.append(Array($0.payload)) } }
            return read
        }
        #expect(try read() == Array(payloads.dropLast()))
        // Layout 2: the segment ends with its file, here inside the last record.
        writer.mapping.storeHeader(UInt32(2), at: RingLayout.versionOffset)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: segment)))
        try Data(bytes.prefix(Int(written) - 40_000)).write(to: URL(fileURLWithPath: segment))
        #expect(try read() == Array(payloads.dropLast()))
    }

    /// A producer that dies right after making a segment file, before any record is in it,
    /// leaves a file of zeros (allocated ahead) or of nothing: no record comes of it, whether the
    /// ring header names it yet or not.
    @Test func aSegmentDiedBeforeItsFirstRecordDeliversNothing() throws {
        for namedInHeader in [true, false] {
            let directory = TemporaryDirectory("ringboard-spill")
            let writer = try Self.makeWriter(directory)
            for value in 0..<200 { _ = Self.append(writer, UInt32(value)) }
            let reader = try RingReader(path: writer.path)
            var values: [UInt32] = []
            try Self.values(reader, into: &values)
            try reader.commit()
            _ = Self.append(writer, 200)  // the marker of segment 0, then this record in the ring
            try Data(count: 64 << 10).write(to: URL(fileURLWithPath: writer.path + ".spill.1"))
            if namedInHeader {
                writer.mapping.openSpillSize.store(0, ordering: .relaxed)
                writer.mapping.openSpill.store(2, ordering: .relaxed)
            }
            writer.mapping.storeHeader(UInt64(1), at: RingLayout.producerStartTimeOffset)
            try Self.values(reader, into: &values)
            while reader.hasUnmarkedSpill { _ = try reader.pollUnmarkedSpill { values.append($0.payload.loadUnaligned(as: UInt32.self)) } }
            #expect(values == Array(0...200), "named in the header: \(namedInHeader)")
        }
    }

    /// A long spell of a full ring goes into several segments of bounded size: once the ring has
    /// room their markers follow one another, in order; a producer that dies meanwhile leaves them
    /// all without markers, and they are read one per call, in order.
    @Test func aLongSpillIsCutIntoSegmentsReadInOrder() throws {
        for dies in [false, true] {
            let directory = TemporaryDirectory("ringboard-spill")
            let writer = try Self.makeWriter(directory)
            let count = 200_000  // 52 bytes each in a segment: about ten segments' worth
            for value in 0..<count { _ = Self.append(writer, UInt32(value)) }
            let segments = try FileManager.default.contentsOfDirectory(atPath: directory.appending("rings")).filter { $0.contains(".spill.") }
            #expect(segments.count >= 3, "\(segments)")
            // Sealed ones (all but the last) hold as many records as fit in the sealed size.
            let sizes = try segments.sorted { Int($0.split(separator: ".").last!)! < Int($1.split(separator: ".").last!)! }.dropLast().map {
                try #require(FileManager.default.attributesOfItem(atPath: directory.appending("rings") + "/" + $0)[.size] as? Int)
            }
            #expect(sizes.allSatisfy { Int64($0) <= RingWriter.sealedSize && Int64($0) > RingWriter.sealedSize - 64 }, "\(sizes)")
            let reader = try RingReader(path: writer.path)
            var values: [UInt32] = []
            try Self.values(reader, into: &values)
            if dies {
                writer.mapping.storeHeader(UInt64(1), at: RingLayout.producerStartTimeOffset)
                var calls = 0
                while reader.hasUnmarkedSpill {
                    _ = try reader.pollUnmarkedSpill { values.append($0.payload.loadUnaligned(as: UInt32.self)) }
                    calls += 1
                }
                #expect(calls == segments.count)
                #expect(values == Array(0..<UInt32(count)))
            } else {
                try reader.commit()
                _ = Self.append(writer, UInt32(count))  // the markers, then this record in the ring
                try Self.values(reader, into: &values)
                #expect(!reader.hasUnmarkedSpill)
                #expect(values == Array(0...UInt32(count)))
            }
        }
    }

    /// A version 1 ring (one compressed frame per segment) is still read; a later version is refused.
    @Test func version1RingsAreReadAndLaterOnesRefused() throws {
        let directory = TemporaryDirectory("ringboard-spill")
        let writer = try Self.makeWriter(directory)
        for value in 0..<200 { _ = Self.append(writer, UInt32(value)) }
        writer.mapping.storeHeader(UInt32(1), at: RingLayout.versionOffset)
        let reader = try RingReader(path: writer.path)
        var values: [UInt32] = []
        try Self.values(reader, into: &values)
        try reader.commit()
        _ = Self.append(writer, 200)  // writes the marker
        try Self.values(reader, into: &values)
        #expect(values == Array(0...200))
        writer.mapping.storeHeader(RingLayout.version + 1, at: RingLayout.versionOffset)
        #expect(throws: RingError.self) { _ = try RingReader(path: writer.path) }
    }

    /// A damaged spill segment quarantines its ring, not the consumer.
    @Test func aDamagedSegmentIsReported() throws {
        let directory = TemporaryDirectory("ringboard-spill")
        let writer = try Self.makeWriter(directory)
        for value in 0..<200 { _ = Self.append(writer, UInt32(value)) }
        let segment = writer.path + ".spill.0"
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: segment)))
        // A block length in the middle of the segment (records are stored as they are, without
        // checksums, as in the ring: damage to their framing is what is caught).
        let written = Int(writer.mapping.openSpillSize.load(ordering: .relaxed))
        let frameHeader = 7, block = 4 + 8 + 40
        #expect(written > frameHeader + 3 * block)
        bytes[frameHeader + (written - frameHeader) / block / 2 * block + 2] ^= 0x7f
        try Data(bytes).write(to: URL(fileURLWithPath: segment))
        let reader = try RingReader(path: writer.path)
        var values: [UInt32] = []
        try Self.values(reader, into: &values)
        try reader.commit()
        _ = Self.append(writer, 999)  // writes the marker
        #expect(throws: RingError.self) { try Self.values(reader, into: &values) }
    }
}

@Suite struct RingConsumerTests {
    /// One ring damaged: it is renamed aside and reported, while another producer's records keep
    /// arriving; files of another owner or with loose permissions are refused and left alone.
    @Test func aCorruptRingIsQuarantinedAndTheOthersFlow() throws {
        let directory = TemporaryDirectory("ringboard-consumer")
        let rings = directory.appending("rings")
        let healthy = try RingWriter(directory: rings)
        // A second "producer": a ring file made by this process under another name.
        var options = RingWriter.Options()
        options.capacity = 4096
        let damagedWriter = try RingWriter(directory: directory.appending("staging"), options: options)
        let damagedPath = rings + "/99999-1.ring"
        try FileManager.default.copyItem(atPath: damagedWriter.path, toPath: damagedPath)
        chmod(damagedPath, 0o600)
        let loose = rings + "/99998-1.ring"
        try FileManager.default.copyItem(atPath: damagedWriter.path, toPath: loose)
        chmod(loose, 0o666)

        let consumer = try RingConsumer(directory: rings)
        #expect(consumer.sources.count == 2)
        // Damage: a record whose length runs past the data area.
        let damaged = try #require(consumer.reader(named: "99999-1.ring"))
        damaged.mapping.tail.store(64, ordering: .relaxed)
        damaged.mapping.recordLength(at: 0).store(60_000, ordering: .relaxed)
        _ = healthy.tryAppend(type: RingRecordType.firstUser, [1, 2, 3])

        var received: [[UInt8]] = []
        consumer.poll { _, record in received.append(Array(record.payload)) }
        #expect(received == [[1, 2, 3]])
        let notices = consumer.notices()
        #expect(notices.contains { if case .quarantined(damagedPath, damagedPath + ".corrupt", _) = $0 { true } else { false } })
        #expect(notices.contains { if case .refused(loose, let reason) = $0 { reason.contains("others can write") } else { false } })
        #expect(FileManager.default.fileExists(atPath: damagedPath + ".corrupt"))
        #expect(FileManager.default.fileExists(atPath: loose))
        #expect(consumer.sources.map(\.name) == [URL(fileURLWithPath: healthy.path).lastPathComponent])

        _ = healthy.tryAppend(type: RingRecordType.firstUser, [4])
        consumer.poll { _, record in received.append(Array(record.payload)) }
        #expect(received == [[1, 2, 3], [4]])
    }

    /// A consumer without rings sleeps until one appears, and finds it at once, long before its
    /// next scan; other files appearing (hidden ones, a checkpoint) wake it but find nothing.
    @Test func aNewRingIsFoundAtOnce() throws {
        let directory = TemporaryDirectory("ringboard-consumer")
        let rings = directory.appending("rings")
        let consumer = try RingConsumer(directory: rings)
        consumer.scanInterval = .seconds(600)
        consumer.poll { _, _ in }
        #expect(consumer.sources.isEmpty)
        FileManager.default.createFile(atPath: rings + "/state.tmp", contents: Data([1]))
        FileManager.default.createFile(atPath: rings + "/.hidden.ring", contents: Data([1]))
        consumer.poll { _, _ in }
        #expect(consumer.sources.isEmpty)

        final class Producer: @unchecked Sendable { var writer: RingWriter? }
        let producer = Producer()
        let made = DispatchSemaphore(value: 0)
        Thread {
            usleep(50_000)
            producer.writer = try? RingWriter(directory: rings)
            _ = producer.writer?.tryAppend(type: RingRecordType.firstUser, [7])
            made.signal()
        }.start()
        // Woken by the new ring, not by the end of this wait.
        let start = ContinuousClock.now
        consumer.waitForRecords(timeout: .seconds(20))
        #expect(ContinuousClock.now - start < .seconds(10))
        #expect(made.wait(timeout: .now() + 10) == .success)
        var received: [[UInt8]] = []
        consumer.poll { _, record in received.append(Array(record.payload)) }
        #expect(received == [[7]])
        #expect(consumer.notices().contains { if case .discovered = $0 { true } else { false } })
    }
}
