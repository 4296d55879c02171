import Foundation
import RingboardTestSupport
import Testing
@testable import RingboardFormat

@Suite struct StagedRecordsTests {
    static func event(_ tag: String, step: Int64) -> Event {
        Event(wallTime: 1, step: step, what: .summary(Summary(values: [Summary.Value(tag: tag, kind: .simpleValue(1))])))
    }

    /// Events are encoded among the scalars where they were staged, pending ones once they are
    /// fulfilled (nothing for `nil`).
    @Test func takenRecordsAreEncodedInStagingOrder() throws {
        let directory = TemporaryDirectory()
        var file = try EventFile.create(in: directory.path, options: EventFileWriter.Options())
        var staged = StagedRecords()
        let table = [ScalarTag("a"), ScalarTag("b")]
        var scalars = [StagedScalar(tag: 0, value: 1, step: 1, wallTime: 1), StagedScalar(tag: 1, value: 1, step: 2, wallTime: 1)]
        staged.stage(&scalars, table: table)
        #expect(scalars.isEmpty)
        var ahead = staged.hasEventsAhead
        #expect(!ahead)
        let made = PendingEvent()
        staged.stage(.pending(made))
        let nothing = PendingEvent()
        staged.stage(.pending(nothing))
        var encoded = WireBuffer(capacity: 64)
        Self.event("plain", step: 4).encode(into: &encoded)
        staged.stage(.encoded(encoded.bytes))
        scalars = [StagedScalar(tag: 1, value: 1, step: 5, wallTime: 1)]
        staged.stage(&scalars, table: table)
        ahead = staged.hasEventsAhead
        var count = staged.scalarCount
        #expect(ahead && count == 3)

        let taken = staged.take()
        count = staged.scalarCount
        ahead = staged.hasEventsAhead
        // Still ahead: taken, and waiting for the pending events.
        #expect(count == 0 && ahead)
        made.fulfill(Self.event("made", step: 3))
        nothing.fulfill(nil)
        taken.encode(into: &file)
        staged.finishedEncoding()
        ahead = staged.hasEventsAhead
        #expect(!ahead)
        // The arrays go back, emptied, to the next staging's callers.
        var storage = taken.emptied()
        staged.recycle(&storage)
        var next = [StagedScalar(tag: 0, value: 1, step: 6, wallTime: 1)]
        staged.stage(&next, table: table)
        #expect(next.isEmpty && next.capacity >= 2)
        try file.close()
        let events = try EventFileWriterTests.readAll(file.path).dropFirst()
        #expect(events.map(\.step) == [1, 2, 3, 4, 5])
    }

    /// Taken only if ready: nothing while a pending event is not fulfilled, everything after.
    @Test func takingOnlyIfReadyLeavesRecordsBehindAnUnfulfilledEvent() {
        var staged = StagedRecords()
        var scalars = [StagedScalar(tag: 0, value: 1, step: 1, wallTime: 1)]
        staged.stage(&scalars, table: [ScalarTag("a")])
        let pending = PendingEvent()
        staged.stage(.pending(pending))
        let taken = staged.take(onlyIfReady: true)
        var isEmpty = taken.isEmpty
        var count = staged.scalarCount
        #expect(isEmpty && count == 1)
        _ = taken.emptied()
        pending.fulfill(nil)
        let second = staged.take(onlyIfReady: true)
        isEmpty = second.isEmpty
        count = staged.scalarCount
        #expect(!isEmpty && count == 0)
        _ = second.emptied()
    }
}
