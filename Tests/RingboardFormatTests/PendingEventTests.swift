import Foundation
import RingboardTestSupport
import Testing
@testable import RingboardFormat

@Suite struct PendingEventTests {
    static func madeEvent(step: Int64) -> Event {
        Event(wallTime: 2, step: step, what: .summary(Summary(values: [Summary.Value(tag: "made", kind: .simpleValue(1))])))
    }

    /// `close()` waits for a pending event fulfilled (from another thread) only after the close
    /// was requested; appends meanwhile are refused at once instead of waiting with it.
    @Test func closeWaitsForAnEventFulfilledAfterItWasRequested() throws {
        let directory = TemporaryDirectory()
        let writer = try EventFileWriter(directory: directory.path)
        let pending = PendingEvent()
        try writer.append(pending)
        let closed = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            #expect(throws: Never.self) { try writer.close() }
            closed.signal()
        }
        #expect(closed.wait(timeout: .now() + .milliseconds(300)) == .timedOut)
        // Once the close has begun, appends are refused at once, not kept waiting.
        var accepted = 0
        let deadline = DispatchTime.now() + 10
        while DispatchTime.now() < deadline {
            do {
                try writer.appendScalar(tag: "late", value: 1, step: 9, wallTime: 1)
                accepted += 1
                usleep(1_000)
            } catch {
                #expect(error == .closed(path: writer.path))
                break
            }
        }
        #expect(DispatchTime.now() < deadline)
        DispatchQueue.global().async { pending.fulfill(Self.madeEvent(step: 7)) }
        #expect(closed.wait(timeout: .now() + 10) == .success)
        #expect(try EventFileWriterTests.readAll(writer.path).dropFirst().map(\.step) == [7] + Array(repeating: 9, count: accepted))
    }

    /// Appends behind an event not yet fulfilled return without waiting for it; `flush()`
    /// waits, and writes them in order once it is fulfilled.
    @Test func appendsBehindAPendingEventDoNotWait() throws {
        let directory = TemporaryDirectory()
        let writer = try EventFileWriter(directory: directory.path)
        let pending = PendingEvent()
        try writer.append(pending)
        let appended = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            for step in 1...100 {
                try? writer.appendScalar(tag: "behind", value: 1, step: Int64(step), wallTime: 1)
                try? writer.append(Self.madeEvent(step: 100 + Int64(step)))
            }
            appended.signal()
        }
        #expect(appended.wait(timeout: .now() + 10) == .success)
        // Nothing behind the pending event was written.
        #expect(try EventFileWriterTests.readAll(writer.path).count == 1)
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(50)) { pending.fulfill(Self.madeEvent(step: 0)) }
        try writer.flush()
        let steps = try EventFileWriterTests.readAll(writer.path).dropFirst().map(\.step)
        let expected: [Int64] = [0] + (1...100).flatMap { (step: Int64) -> [Int64] in [step, 100 + step] }
        #expect(steps == expected)
        try writer.close()
    }

    /// An event fulfilled before it is appended is written in its place; one fulfilled with
    /// `nil` leaves nothing.
    @Test func eventsFulfilledBeforeTheirAppendAreWritten() throws {
        let directory = TemporaryDirectory()
        let writer = try EventFileWriter(directory: directory.path)
        let made = PendingEvent()
        made.fulfill(Self.madeEvent(step: 1))
        let nothing = PendingEvent()
        nothing.fulfill(nil)
        try writer.append(made)
        try writer.append(nothing)
        try writer.append(Self.madeEvent(step: 2))
        #expect(writer.pendingBytes > 0)
        try writer.close()
        #expect(try EventFileWriterTests.readAll(writer.path).dropFirst().map(\.step) == [1, 2])
    }

    /// A writer dropped while an event is pending lives until the event is made, then writes it.
    @Test func aDroppedWriterWritesItsPendingEvent() throws {
        let directory = TemporaryDirectory()
        let pending = PendingEvent()
        let path: String
        do {
            let writer = try EventFileWriter(directory: directory.path)
            path = writer.path
            try writer.append(pending)
        }
        pending.fulfill(Self.madeEvent(step: 3))
        var waited = 0
        while (try EventFileWriterTests.readAll(path)).count < 2 && waited < 5_000 {
            usleep(10_000)
            waited += 10
        }
        #expect(try EventFileWriterTests.readAll(path).dropFirst().map(\.step) == [3])
    }

    /// The writer's encoding may run on the very serial queue that makes its events: the encoding
    /// job never waits there for an event the queue has yet to make.
    @Test func encodingOnTheQueueThatMakesTheEventsDoesNotDeadlock() throws {
        let directory = TemporaryDirectory()
        let pool = DispatchQueue(label: "pool")
        var options = EventFileWriter.Options()
        options.encodingTarget = pool
        options.flushDelay = .milliseconds(5)
        let writer = try EventFileWriter(directory: directory.path, options: options)
        let pending = PendingEvent()
        try writer.append(pending)
        // Staged behind the pending event: queues the encoding job on `pool`.
        try writer.appendScalar(tag: "behind", value: 1, step: 2, wallTime: 1)
        usleep(20_000)
        pool.async { pending.fulfill(Self.madeEvent(step: 1)) }
        let written = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            var waited = 0
            while writer.writtenBytes == 0 || (try? EventFileWriterTests.readAll(writer.path).count) ?? 0 < 3, waited < 10_000 {
                usleep(10_000)
                waited += 10
            }
            written.signal()
        }
        #expect(written.wait(timeout: .now() + 15) == .success)
        // Written by the encoding job and the timer, without flush().
        #expect(try EventFileWriterTests.readAll(writer.path).dropFirst().map(\.step) == [1, 2])
        try writer.close()
    }

    @Test func fulfillingTwiceTraps() async {
        await #expect(processExitsWith: .failure) {
            let pending = PendingEvent()
            pending.fulfill(nil)
            pending.fulfill(nil)
        }
    }

    @Test func appendingTwiceTraps() async {
        await #expect(processExitsWith: .failure) {
            let writer = try EventFileWriter(directory: NSTemporaryDirectory() + "/ringboard-pending-\(getpid())")
            let pending = PendingEvent()
            try writer.append(pending)
            try writer.append(pending)
        }
    }
}
