import Foundation
import RingboardTestSupport
import Testing
@testable import RingboardRing

/// Owned appends (a thread claims with plain stores) and their hand-overs, with the
/// compare-and-swap path forced (`ownedAppends = false`) for comparison. Where this machine has no
/// membarrier, both runs take the compare-and-swap path.
@Suite(.serialized) struct RingOwnershipTests {
    static let type = RingRecordType.firstUser

    static func makeRing(capacity: Int = 1 << 16, owned: Bool = true) throws -> (TemporaryDirectory, RingWriter, RingReader) {
        let directory = TemporaryDirectory("ringboard-owner")
        var options = RingWriter.Options()
        options.capacity = capacity
        options.ownedAppends = owned
        let writer = try RingWriter(directory: directory.appending("rings"), options: options)
        let reader = try RingReader(path: writer.path)
        return (directory, writer, reader)
    }

    /// A record of thread `thread`, number `sequence`: 8 to 8 + 8 × 15 bytes, every byte derived
    /// from both, so that a torn or overwritten record shows.
    static func append(_ writer: RingWriter, thread: Int, sequence: Int) -> Bool {
        let length = 8 + 8 * ((thread + sequence) % 16)
        let result = writer.tryClaim(type: type, length: length) { buffer in
            buffer.storeBytes(of: UInt32(thread), as: UInt32.self)
            buffer.storeBytes(of: UInt32(sequence), toByteOffset: 4, as: UInt32.self)
            for offset in 8..<buffer.count { buffer[offset] = UInt8(truncatingIfNeeded: thread &* 31 &+ sequence &+ offset) }
        }
        return result != .full
    }

    /// Drains until `done` is set and the ring is empty, checking each record. Returns the next
    /// sequence number expected of each thread, and the first problems found.
    static func consume(_ reader: RingReader, threads: Int, done: ManagedAtomicFlag) throws -> (next: [Int], problems: [String]) {
        var next = [Int](repeating: 0, count: threads)
        var problems: [String] = []
        while true {
            let finished = done.isSet
            let count = try reader.poll { record in
                let payload = record.payload
                guard payload.count >= 8 else { problems.append("short record of \(payload.count) bytes"); return }
                let thread = Int(payload.loadUnaligned(as: UInt32.self))
                let sequence = Int(payload.load(fromByteOffset: 4, as: UInt32.self))
                guard thread < threads else { problems.append("thread \(thread)"); return }
                if sequence != next[thread] { problems.append("thread \(thread): \(sequence) after \(next[thread] - 1)") }
                next[thread] = sequence + 1
                if payload.count != 8 + 8 * ((thread + sequence) % 16) { problems.append("thread \(thread) #\(sequence): \(payload.count) bytes") }
                for offset in 8..<payload.count where payload[offset] != UInt8(truncatingIfNeeded: thread &* 31 &+ sequence &+ offset) {
                    problems.append("thread \(thread) #\(sequence): byte \(offset) torn")
                    break
                }
            }
            try reader.commit()
            if count == 0 && finished && reader.isDrained { break }
            if count == 0 { usleep(10) }
        }
        return (next, Array(problems.prefix(5)))
    }

    /// Runs `consume` on a thread of its own (not a task: the producers block threads of their
    /// own, and a consumer waiting for a pool thread would leave them spinning on a full ring).
    static func startConsumer(_ reader: RingReader, threads: Int, done: ManagedAtomicFlag) -> () throws -> (next: [Int], problems: [String]) {
        /// The reader goes to the consumer thread, the result comes back from it.
        final class Outcome: @unchecked Sendable {
            let reader: RingReader
            var value: Result<(next: [Int], problems: [String]), Error>?
            init(_ reader: RingReader) { self.reader = reader }
        }
        let outcome = Outcome(reader)
        let finished = DispatchSemaphore(value: 0)
        Thread {
            outcome.value = Result { try consume(outcome.reader, threads: threads, done: done) }
            finished.signal()
        }.start()
        return {
            finished.wait()
            return try outcome.value!.get()
        }
    }

    /// Appends `count` records of `thread`, retrying while the ring is full.
    static func produce(_ writer: RingWriter, thread: Int, count: Int, from start: Int = 0) {
        var sequence = start
        while sequence < start + count {
            if append(writer, thread: thread, sequence: sequence) { sequence += 1 }
        }
    }

    @Test func theFirstThreadToAppendOwnsTheRing() throws {
        let (directory, writer, reader) = try Self.makeRing(capacity: 1 << 20)
        defer { withExtendedLifetime(directory) {} }
        #expect(writer.ownership.ownerGeneration == nil)
        #expect(writer.ownership.isShared == !Membarrier.ownedAppendsAvailable)
        for sequence in 0..<1000 { #expect(Self.append(writer, thread: 0, sequence: sequence)) }
        if Membarrier.ownedAppendsAvailable { #expect(writer.ownership.ownerGeneration == 0) }
        let done = ManagedAtomicFlag()
        done.set()
        let (next, problems) = try Self.consume(reader, threads: 1, done: done)
        #expect(problems.isEmpty)
        #expect(next == [1000])
    }

    @Test func withoutOwnershipEveryAppendUsesTheCompareAndSwap() throws {
        let (directory, writer, reader) = try Self.makeRing(capacity: 1 << 20, owned: false)
        defer { withExtendedLifetime(directory) {} }
        #expect(writer.ownership.isShared)
        for sequence in 0..<1000 { #expect(Self.append(writer, thread: 0, sequence: sequence)) }
        #expect(writer.ownership.isShared)
        let done = ManagedAtomicFlag()
        done.set()
        let (next, problems) = try Self.consume(reader, threads: 1, done: done)
        #expect(problems.isEmpty)
        #expect(next == [1000])
    }

    /// The owner keeps appending while a second thread starts: the second takes the ring over in
    /// the middle of the owner's stream, then both append (taking turns at owning, then sharing).
    /// Nothing is lost or torn, and each thread's records stay in order.
    @Test(arguments: [true, false]) func aSecondThreadTakesTheRingOverMidStream(owned: Bool) throws {
        let (directory, writer, reader) = try Self.makeRing(owned: owned)
        defer { withExtendedLifetime(directory) {} }
        let perThread = 50_000
        let done = ManagedAtomicFlag()
        let consumer = Self.startConsumer(reader, threads: 2, done: done)
        let ownerStarted = DispatchSemaphore(value: 0)
        let finished = DispatchGroup()
        finished.enter()
        Thread {
            Self.produce(writer, thread: 0, count: 1000)
            ownerStarted.signal()
            Self.produce(writer, thread: 0, count: perThread - 1000, from: 1000)
            finished.leave()
        }.start()
        ownerStarted.wait()
        if owned && Membarrier.ownedAppendsAvailable { #expect(writer.ownership.ownerGeneration == 0) }
        finished.enter()
        Thread {
            Self.produce(writer, thread: 1, count: perThread)
            finished.leave()
        }.start()
        finished.wait()
        done.set()
        let (next, problems) = try consumer()
        #expect(problems.isEmpty, "\(problems)")
        #expect(next == [perThread, perThread])
        if owned && Membarrier.ownedAppendsAvailable { #expect(writer.ownership.ownerGeneration != 0) }
    }

    /// Many threads at once, with the consumer draining beside them.
    @Test(arguments: [true, false]) func manyThreadsLoseNothing(owned: Bool) throws {
        let (directory, writer, reader) = try Self.makeRing(owned: owned)
        defer { withExtendedLifetime(directory) {} }
        let threads = 8, perThread = 10_000
        let done = ManagedAtomicFlag()
        let consumer = Self.startConsumer(reader, threads: threads, done: done)
        let finished = DispatchGroup()
        for thread in 0..<threads {
            finished.enter()
            Thread {
                Self.produce(writer, thread: thread, count: perThread)
                finished.leave()
            }.start()
        }
        finished.wait()
        done.set()
        let (next, problems) = try consumer()
        #expect(problems.isEmpty, "\(problems)")
        #expect(next == [Int](repeating: perThread, count: threads))
    }

    /// Threads taking turns hand the ring over once per turn until the generations run out; then
    /// it is shared for good.
    @Test func threadsTakingTurnsEndUpSharing() throws {
        try #require(Membarrier.ownedAppendsAvailable, "no membarrier here: the ring is shared from the start")
        let (directory, writer, reader) = try Self.makeRing()
        defer { withExtendedLifetime(directory) {} }
        let turns = Int(RingOwnership.generations) + 2
        // Two threads that live through every turn (a thread started afresh may reuse the
        // identity of one that ended, and would own the ring already).
        let goes = [DispatchSemaphore(value: 0), DispatchSemaphore(value: 0)]
        let appended = DispatchSemaphore(value: 0)
        for thread in 0..<2 {
            Thread {
                for turn in stride(from: thread, to: turns, by: 2) {
                    goes[thread].wait()
                    Self.produce(writer, thread: thread, count: 10, from: turn / 2 * 10)
                    appended.signal()
                }
            }.start()
        }
        var generations: [Int?] = []
        for turn in 0..<turns {
            goes[turn % 2].signal()
            appended.wait()
            generations.append(writer.ownership.ownerGeneration)
        }
        #expect(generations == Array(0..<Int(RingOwnership.generations)) + [nil, nil])
        #expect(writer.ownership.isShared)
        let done = ManagedAtomicFlag()
        done.set()
        let (next, problems) = try Self.consume(reader, threads: 2, done: done)
        #expect(problems.isEmpty)
        #expect(next == [50, 50])
    }

    /// A consumer asleep on the doorbell wakes for each owned append, well before its wait times
    /// out: the owner's unfenced doorbell check pairs with the consumer's membarrier.
    @Test func anOwnedAppendWakesASleepingConsumer() throws {
        let directory = TemporaryDirectory("ringboard-owner")
        let rings = directory.appending("rings")
        let writer = try RingWriter(directory: rings)
        let consumer = try RingConsumer(directory: rings)
        consumer.scanInterval = .seconds(600)
        consumer.poll { _, _ in }
        let rounds = 200
        let go = DispatchSemaphore(value: 0)
        let producer = Thread {
            for round in 0..<rounds {
                go.wait()
                usleep(UInt32(round % 7) * 50)
                _ = Self.append(writer, thread: 0, sequence: round)
            }
        }
        producer.start()
        var slowest = Duration.zero
        var received = 0
        for _ in 0..<rounds {
            go.signal()
            let start = ContinuousClock.now
            while true {
                var count = 0
                consumer.poll { _, _ in count += 1 }
                received += count
                try consumer.commitAll()
                if count > 0 { break }
                consumer.waitForRecords(timeout: .seconds(5))
            }
            slowest = max(slowest, ContinuousClock.now - start)
        }
        #expect(received == rounds)
        if Membarrier.ownedAppendsAvailable { #expect(writer.ownership.ownerGeneration == 0) }
        // A missed doorbell would show as a wait of 5 s.
        #expect(slowest < .seconds(2))
    }

    /// A child of fork() shares the ring's mapping but not the writer's ownership (the forking
    /// thread looks like the owner there): its appends through the parent's writer are dropped,
    /// never claimed, while the parent goes on; the ring holds the parent's records only.
    @Test func aForkedChildDoesNotAppendThroughItsParentsWriter() throws {
        let (directory, writer, reader) = try Self.makeRing()
        _ = directory
        #expect(Self.append(writer, thread: 0, sequence: 0) && !writer.isInheritedFromParent)
        let child = fork()
        if child == 0 {
            // The child: every append is dropped, and the writer says it is the parent's.
            var status: Int32 = writer.isInheritedFromParent ? 0 : 10
            for sequence in 0..<100 where writer.append(type: Self.type, length: 8, { _ in }) != .dropped { status = 11 }
            if writer.waitUntilCommitted(timeout: .zero) { status = 12 }
            _exit(status)
        }
        for sequence in 1..<50 { #expect(Self.append(writer, thread: 0, sequence: sequence)) }
        var status: Int32 = 0
        #expect(waitpid(child, &status, 0) == child)
        #expect(status & 0x7f == 0 && (status >> 8) & 0xff == 0, "child exit status \(status)")
        let done = ManagedAtomicFlag()
        done.set()
        let (next, problems) = try Self.consume(reader, threads: 1, done: done)
        #expect(next == [50] && problems.isEmpty, "\(problems)")
    }
}
