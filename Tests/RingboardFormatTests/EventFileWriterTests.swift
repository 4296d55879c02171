import Foundation
import RingboardTestSupport
import Testing
@testable import RingboardFormat

@Suite struct EventFileWriterTests {
    /// Reads every event of a file strictly: each record whole, both CRCs right.
    static func readAll(_ path: String) throws -> [Event] {
        let reader = try EventFileReader(path: path)
        var events: [Event] = []
        while true {
            switch try reader.nextEvent() {
            case .event(let event, _): events.append(event)
            case .end: return events
            case let other: throw ReadFailure(item: "\(other)")
            }
        }
    }

    struct ReadFailure: Error { var item: String }

    /// Each event after the file-version record as (its first summary value, its step); a
    /// recorded issue for an event without a summary value.
    static func summaryValues(_ path: String) throws -> [(value: Summary.Value, step: Int64)] {
        try readAll(path).dropFirst().compactMap { event in
            guard case .summary(let summary) = event.what, let value = summary.values.first else {
                Issue.record("event at step \(event.step) holds no summary")
                return nil
            }
            return (value, event.step)
        }
    }

    @Test func fileNameAndFirstRecordFollowTensorFlow() throws {
        let directory = TemporaryDirectory()
        var options = EventFileWriter.Options()
        options.hostName = "node-7"
        let writer = try EventFileWriter(directory: directory.appending("run/train"), options: options)
        try writer.close()
        let name = URL(fileURLWithPath: writer.path).lastPathComponent
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        #expect(name.hasPrefix("events.out.tfevents."))
        #expect(parts.count == 8)
        #expect(parts[3].count == 10 && parts[3].allSatisfy(\.isNumber))
        #expect(parts[4] == "node-7")
        #expect(parts[5] == "\(getpid())")
        #expect(parts[7] == "v2")
        let events = try Self.readAll(writer.path)
        #expect(events.count == 1)
        #expect(events.first?.what == .fileVersion("brain.Event:2"))
        let now = Date().timeIntervalSince1970
        #expect(abs((events.first?.wallTime ?? 0) - now) < 60)
    }

    @Test func writersOpenedInTheSameSecondNeverCollide() throws {
        let directory = TemporaryDirectory()
        let writers = try (0..<50).map { _ in try EventFileWriter(directory: directory.path) }
        #expect(Set(writers.map(\.path)).count == 50)
        // TensorBoard reads a directory's files in name order: that must be the order they were opened.
        #expect(writers.map(\.path) == writers.map(\.path).sorted())
        for writer in writers { try writer.close() }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).count == 50)
    }

    @Test func eventsComeBackInOrderWithTheirValues() throws {
        let directory = TemporaryDirectory()
        let writer = try EventFileWriter(directory: directory.path)
        for step in 0..<10_000 {
            try writer.appendScalar(tag: step % 2 == 0 ? "loss" : "accuracy", value: Float(step) / 7, step: Int64(step), wallTime: 1000 + Double(step))
        }
        let graph = Event(wallTime: 5, what: .graphDef([1, 2, 3]))
        try writer.append(graph)
        try writer.close()
        let events = try Self.readAll(writer.path)
        #expect(events.count == 10_002)
        for step in 0..<10_000 {
            let event = events[step + 1]
            #expect(event.step == Int64(step))
            #expect(event.wallTime == 1000 + Double(step))
            guard case .summary(let summary) = event.what, let value = summary.values.first else {
                Issue.record("event \(step) holds no summary")
                return
            }
            #expect(value.tag == (step % 2 == 0 ? "loss" : "accuracy"))
            #expect(value.kind == .simpleValue(Float(step) / 7))
        }
        #expect(events.last == graph)
    }

    /// A tag encoded once writes the very bytes `appendScalar` writes.
    @Test func scalarTagsEncodeAsAppendScalarDoes() throws {
        for (tag, step, wallTime) in [("loss", Int64(0), 0.0), ("batch_loss", 7, 1.5e9), (String(repeating: "t", count: 300), -3, 12.25)] {
            var plain = WireBuffer(capacity: 16)
            Event.encodeScalar(tag: tag, value: 0.75, step: step, wallTime: wallTime, into: &plain)
            var encoded = WireBuffer(capacity: 16)
            ScalarTag.encodeScalar(ScalarTag(tag), value: 0.75, step: step, wallTime: wallTime, into: &encoded)
            #expect(encoded.bytes == plain.bytes, "tag of \(tag.count) bytes")
        }
    }

    /// Scalars appended in batches are encoded off the caller's thread, yet the file holds every
    /// append in order, whatever path each took.
    @Test func batchedScalarsKeepTheirPlaceAmongOtherAppends() throws {
        let directory = TemporaryDirectory()
        let writer = try EventFileWriter(directory: directory.path)
        var table: [ScalarTag] = []
        var expected: [(tag: String, value: Float, step: Int64)] = []
        var batch = EventFileWriter.ScalarBatch()
        for step in 0..<20_000 {
            if step % 1000 == 0 { table.append(ScalarTag("t\(table.count)")) }
            let values = [Double(step) / 3, Double(step) * 2, -1]
            let tags: [Int32] = [0, Int32(table.count - 1)]
            batch.append(tags, values, at: [1, 0], step: Int64(step), wallTime: 2)
            expected += [("t0", Float(values[1]), Int64(step)), ("t\(table.count - 1)", Float(values[0]), Int64(step))]
            // Batches of one to thirty steps.
            if step % 7 == step % 5 || step % 1000 == 999 {
                try writer.appendScalars(table, &batch)
                #expect(batch.isEmpty)
            }
            if step % 777 == 0 {
                try writer.appendScalars(table, &batch)
                try writer.appendScalar(tag: "single", value: 9, step: Int64(step), wallTime: 3)
                expected.append(("single", 9, Int64(step)))
            }
            if step % 5003 == 0 {
                // Another thread's job may be encoding meanwhile: a write of the buffer must not
                // pass it.
                try writer.flush()
            }
        }
        try writer.appendScalars(table, &batch)
        try writer.close()
        let events = try Self.summaryValues(writer.path)
        #expect(events.count == expected.count)
        for (event, expected) in zip(events, expected) {
            #expect(event.value.tag == expected.tag && event.value.kind == .simpleValue(expected.value) && event.step == expected.step)
        }
        #expect(throws: EventFileError.closed(path: writer.path)) {
            batch.append([0], [1], at: [0], step: 1, wallTime: 1)
            try writer.appendScalars(table, &batch)
        }
    }

    /// Pending events are fulfilled on other threads, several at a time and in any order, late
    /// (after the appends behind them), yet each keeps its place among scalars batched before and
    /// after it and the plain appends behind it; one fulfilled with `nil` leaves nothing;
    /// `close()` waits for those not yet fulfilled.
    @Test func pendingEventsKeepTheirPlaceAmongOtherAppends() throws {
        let directory = TemporaryDirectory()
        let writer = try EventFileWriter(directory: directory.path)
        let table = [ScalarTag("loss")]
        var batch = EventFileWriter.ScalarBatch()
        var expected: [(tag: String, step: Int64)] = []
        let making = DispatchQueue(label: "making", attributes: .concurrent)
        for step in 0..<600 {
            batch.append([0], [Double(step)], at: [0], step: Int64(step), wallTime: 1)
            expected.append(("loss", Int64(step)))
            if step % 3 == 0 { try writer.appendScalars(table, &batch) }
            if step % 10 == 0 {
                try writer.appendScalars(table, &batch)
                let made = Int64(step)
                let pending = PendingEvent()
                try writer.append(pending)
                // Later ones are quicker, so they are fulfilled before the earlier ones.
                let delay = UInt32(600 - step) * 20
                making.async {
                    usleep(delay)
                    pending.fulfill(made % 20 == 0 ? nil : Event(wallTime: 2, step: made, what: .summary(Summary(values: [
                        Summary.Value(tag: "made", kind: .simpleValue(1))]))))
                }
                if made % 20 != 0 { expected.append(("made", made)) }
                try writer.append(Event(wallTime: 3, step: made, what: .summary(Summary(values: [Summary.Value(tag: "plain", kind: .simpleValue(2))]))))
                expected.append(("plain", made))
            }
            if step % 7 == 0 {
                try writer.appendScalars(table, &batch)
                try writer.appendScalar(tag: "single", value: 3, step: Int64(step), wallTime: 4)
                expected.append(("single", Int64(step)))
            }
            if step % 101 == 0 { try writer.flush() }
        }
        try writer.appendScalars(table, &batch)
        let last = PendingEvent()
        try writer.append(last)
        try writer.appendScalar(tag: "single", value: 3, step: 601, wallTime: 4)
        making.async {
            usleep(20_000)
            last.fulfill(Event(wallTime: 2, step: 600, what: .summary(Summary(values: [Summary.Value(tag: "made", kind: .simpleValue(1))]))))
        }
        expected += [("made", 600), ("single", 601)]
        try writer.close()
        let events = try Self.summaryValues(writer.path)
        #expect(events.count == expected.count)
        for (event, expected) in zip(events, expected) {
            #expect(event.value.tag == expected.tag && event.step == expected.step)
        }
        #expect(throws: EventFileError.closed(path: writer.path)) { try writer.append(PendingEvent()) }
    }

    /// Batched scalars reach the file by themselves too.
    @Test func batchedScalarsAreFlushedOnTheirOwn() throws {
        let directory = TemporaryDirectory()
        let writer = try EventFileWriter(directory: directory.path)
        var batch = EventFileWriter.ScalarBatch()
        batch.append([0], [0.5], at: [0], step: 4, wallTime: 1)
        try writer.appendScalars([ScalarTag("loss")], &batch)
        var waited = 0
        while (try Self.readAll(writer.path).count) < 2 && waited < 5_000 {
            usleep(10_000)
            waited += 10
        }
        let events = try Self.readAll(writer.path)
        #expect(events.count == 2)
        #expect(events.last?.step == 4)
        try writer.close()
    }

    /// Appended records reach the file by themselves, without flush(), soon after the writer goes idle.
    @Test func idleWriterFlushesOnItsOwn() throws {
        let directory = TemporaryDirectory()
        let writer = try EventFileWriter(directory: directory.path)
        try writer.appendScalar(tag: "loss", value: 1, step: 0, wallTime: 1)
        #expect(writer.pendingBytes > 0)
        var waited = 0
        while writer.pendingBytes > 0 && waited < 5_000 {
            usleep(10_000)
            waited += 10
        }
        #expect(writer.pendingBytes == 0)
        #expect(try Self.readAll(writer.path).count == 2)
        try writer.close()
    }

    @Test func appendsFromManyThreadsAreAllWritten() async throws {
        let directory = TemporaryDirectory()
        let writer = try EventFileWriter(directory: directory.path)
        await withTaskGroup(of: Void.self) { group in
            for thread in 0..<4 {
                group.addTask {
                    for step in 0..<2_000 {
                        try? writer.appendScalar(tag: "t\(thread)", value: Float(step), step: Int64(step), wallTime: 1)
                    }
                }
            }
        }
        try writer.close()
        let events = try Self.readAll(writer.path)
        #expect(events.count == 8_001)
        for thread in 0..<4 {
            let steps = events.compactMap { event -> Int64? in
                guard case .summary(let summary) = event.what, summary.values.first?.tag == "t\(thread)" else { return nil }
                return event.step
            }
            #expect(steps == (0..<2_000).map(Int64.init))
        }
    }

    @Test func closedWriterRefusesAppends() throws {
        let directory = TemporaryDirectory()
        let writer = try EventFileWriter(directory: directory.path)
        try writer.close()
        try writer.close()
        #expect(throws: EventFileError.closed(path: writer.path)) {
            try writer.appendScalar(tag: "x", value: 1, step: 1, wallTime: 1)
        }
    }

    @Test func removedDirectoryIsReportedWithThePath() throws {
        let directory = TemporaryDirectory()
        let writer = try EventFileWriter(directory: directory.appending("run"))
        try writer.appendScalar(tag: "x", value: 1, step: 1, wallTime: 1)
        try FileManager.default.removeItem(atPath: directory.appending("run"))
        #expect(throws: EventFileError.fileRemoved(path: writer.path)) { try writer.flush() }
        // The record is still held, not silently dropped.
        #expect(writer.pendingBytes > 0)
        #expect(throws: EventFileError.fileRemoved(path: writer.path)) { try writer.close() }
    }

    /// After its directory is removed, a writer hands what it holds to a new file in the
    /// directory made again; appending goes on there.
    @Test func aRemovedFileContinuesInANewOne() throws {
        let directory = TemporaryDirectory()
        let writer = try EventFileWriter(directory: directory.appending("run"))
        try writer.appendScalar(tag: "x", value: 1, step: 1, wallTime: 1)
        try FileManager.default.removeItem(atPath: directory.appending("run"))
        try writer.appendScalar(tag: "x", value: 2, step: 2, wallTime: 2)
        #expect(throws: EventFileError.fileRemoved(path: writer.path)) { try writer.flush() }
        let successor = try writer.continueInNewFile()
        #expect(successor.path != writer.path)
        #expect(throws: EventFileError.closed(path: writer.path)) { try writer.appendScalar(tag: "x", value: 9, step: 9, wallTime: 9) }
        try successor.appendScalar(tag: "x", value: 3, step: 3, wallTime: 3)
        try successor.close()
        let events = try Self.readAll(successor.path)
        #expect(events.first?.what == .fileVersion(Event.fileVersion2))
        #expect(events.dropFirst().map(\.step) == [1, 2, 3])
    }

    @Test func uncreatableDirectoryIsAnErrorNamingThePath() throws {
        let directory = TemporaryDirectory()
        _ = FileManager.default.createFile(atPath: directory.appending("file"), contents: Data([1]))
        #expect {
            _ = try EventFileWriter(directory: directory.appending("file/run"))
        } throws: { error in
            "\(error)".contains(directory.appending("file"))
        }
    }

    /// A full disk: the write fails with ENOSPC naming the file, the file keeps only whole
    /// records, and once space returns everything is written exactly once.
    @Test(.privileged("needs root to mount a small tmpfs", missing: tmpfsMountProblem))
    func fullDiskLeavesNoTornRecordAndRecovers() throws {
        let mountPoint = TemporaryDirectory("ringboard-enospc")
        #expect(try run("/bin/mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", mountPoint.path]).status == 0)
        defer { _ = try? run("/bin/umount", ["-l", mountPoint.path]) }
        var options = EventFileWriter.Options()
        options.bufferSize = 1 << 30  // write only when asked
        let writer = try EventFileWriter(directory: mountPoint.path, options: options)
        let filler = mountPoint.appending("filler")
        // Leave a few KiB free, then append more than fits.
        #expect(try run("/bin/dd", ["if=/dev/zero", "of=\(filler)", "bs=4096", "count=13"]).status == 0)
        let payload = [UInt8](repeating: 0x5a, count: 1000)
        for step in 0..<20 {
            try writer.append(Event(wallTime: 1, step: Int64(step), what: .graphDef(payload)))
        }
        #expect {
            try writer.flush()
        } throws: { error in
            guard case .systemCall("write", let path, .noSpace) = error as? EventFileError else { return false }
            return path == writer.path
        }
        // Only the file-version record is in the file: nothing torn.
        #expect(try Self.readAll(writer.path).count == 1)
        try FileManager.default.removeItem(atPath: filler)
        try writer.close()
        let events = try Self.readAll(writer.path)
        #expect(events.count == 21)
        #expect(events.dropFirst().map(\.step) == (0..<20).map(Int64.init))
    }
}

extension EventFileWriterTests {
    /// `createWhenWritable`: a directory that cannot be made yet does not fail the writer; the
    /// file appears, with every record, at the first flush that can make it.
    @Test func aLazyWriterCreatesItsFileWhenItCan() throws {
        let directory = TemporaryDirectory()
        _ = FileManager.default.createFile(atPath: directory.appending("blocked"), contents: Data([1]))
        var options = EventFileWriter.Options()
        options.createWhenWritable = true
        let writer = try EventFileWriter(directory: directory.appending("blocked/run"), options: options)
        try writer.appendScalar(tag: "x", value: 1, step: 1, wallTime: 1)
        #expect(throws: EventFileError.self) { try writer.flush() }
        #expect(!FileManager.default.fileExists(atPath: writer.path))
        try FileManager.default.removeItem(atPath: directory.appending("blocked"))
        try writer.appendScalar(tag: "x", value: 2, step: 2, wallTime: 2)
        try writer.close()
        let events = try Self.readAll(writer.path)
        #expect(events.first?.what == .fileVersion(Event.fileVersion2))
        #expect(events.dropFirst().map(\.step) == [1, 2])
    }

    /// A writer that cannot write its first record leaves no file behind.
    @Test(.privileged("needs root to mount a small tmpfs", missing: tmpfsMountProblem))
    func writerOnAFullDiskLeavesNoFile() throws {
        let mountPoint = TemporaryDirectory("ringboard-enospc")
        #expect(try run("/bin/mount", ["-t", "tmpfs", "-o", "size=16k", "tmpfs", mountPoint.path]).status == 0)
        defer { _ = try? run("/bin/umount", ["-l", mountPoint.path]) }
        // Fill every block (dd stops with ENOSPC, so its status is not checked).
        _ = try run("/bin/dd", ["if=/dev/zero", "of=\(mountPoint.appending("filler"))", "bs=4096"])
        #expect {
            _ = try EventFileWriter(directory: mountPoint.path)
        } throws: { error in
            guard case .systemCall("write", _, .noSpace) = error as? EventFileError else { return false }
            return true
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: mountPoint.path) == ["filler"])
    }
}
