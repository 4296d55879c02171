import Foundation
import CRingboard
import Glibc
import RingboardTestSupport
import Testing
@testable import RingboardFormat

@Suite struct EventFileTests {
    static func append(_ event: Event, to file: inout EventFile) {
        file.append { TFRecord.append(to: &$0) { event.encode(into: &$0) } }
    }

    static func scalar(step: Int64) -> Event {
        Event(wallTime: 1, step: step, what: .summary(Summary(values: [Summary.Value(tag: "x", kind: .simpleValue(1))])))
    }

    static func size(_ path: String) throws -> Int64 {
        (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value ?? -1
    }

    /// The bytes of the file's allocated blocks (`st_blocks`), whatever its size says.
    static func allocated(_ path: String) -> Int64 {
        var status = stat()
        return stat(path, &status) == 0 ? Int64(status.st_blocks) * 512 : -1
    }

    /// Appends and writes `count` records of 1 MiB (not events: the file does not read them).
    static func appendMebibytes(_ count: Int, to file: inout EventFile) throws {
        let payload = [UInt8](repeating: 0x5A, count: 1 << 20)
        for _ in 0..<count {
            file.append { buffer in TFRecord.append(to: &buffer) { $0.append(payload) } }
            try file.write()
        }
    }

    /// A new file holds the file-version record, written at once; appends stay in memory until
    /// `write()`.
    @Test func aNewFileHoldsTheFileVersionRecord() throws {
        let directory = TemporaryDirectory()
        var file = try EventFile.create(in: directory.appending("run"), options: EventFileWriter.Options())
        #expect(file.pendingBytes == 0)
        #expect(file.writtenBytes == (try Self.size(file.path)))
        Self.append(Self.scalar(step: 1), to: &file)
        #expect(file.pendingBytes > 0 && file.bufferedSince != nil)
        #expect(try EventFileWriterTests.readAll(file.path).count == 1)
        try file.write()
        #expect(file.pendingBytes == 0 && file.bufferedSince == nil)
        #expect(try EventFileWriterTests.readAll(file.path).map(\.step) == [0, 1])
        try file.close()
        let isClosed = file.isClosed
        #expect(isClosed)
    }

    /// Resuming cuts the file back to the checkpointed length: the records after it go, and
    /// appends follow the last record vouched for.
    @Test func resumingCutsBackToTheCheckpointedLength() throws {
        let directory = TemporaryDirectory()
        var file = try EventFile.create(in: directory.path, options: EventFileWriter.Options())
        Self.append(Self.scalar(step: 1), to: &file)
        try file.write()
        let checkpoint = file.writtenBytes
        Self.append(Self.scalar(step: 2), to: &file)
        try file.close()
        // A record torn by a crash, too.
        let handle = try #require(FileHandle(forWritingAtPath: file.path))
        handle.seekToEndOfFile()
        handle.write(Data([1, 2, 3]))
        handle.closeFile()

        var resumed = try EventFile(resuming: file.path, at: checkpoint)
        #expect(try Self.size(file.path) == checkpoint)
        #expect(resumed.writtenBytes == checkpoint)
        Self.append(Self.scalar(step: 3), to: &resumed)
        try resumed.close()
        #expect(try EventFileWriterTests.readAll(file.path).map(\.step) == [0, 1, 3])
    }

    @Test func resumingRefusesWhatIsNotAnEventFileOfThatLength() throws {
        let directory = TemporaryDirectory()
        var file = try EventFile.create(in: directory.path, options: EventFileWriter.Options())
        try file.close()
        #expect(throws: EventFileError.self) { _ = try EventFile(resuming: file.path, at: file.writtenBytes + 1) }
        #expect(throws: EventFileError.self) { _ = try EventFile(resuming: directory.path, at: 0) }
        #expect(throws: EventFileError.self) { _ = try EventFile(resuming: directory.appending("missing"), at: 0) }
    }

    /// A removed file is noticed before a write (its link count is 0), and its records stay.
    @Test func aRemovedFileIsDetected() throws {
        let directory = TemporaryDirectory()
        var file = try EventFile.create(in: directory.path, options: EventFileWriter.Options())
        Self.append(Self.scalar(step: 1), to: &file)
        try FileManager.default.removeItem(atPath: file.path)
        #expect(throws: EventFileError.fileRemoved(path: file.path)) { try file.write() }
        #expect(file.pendingBytes > 0)
        #expect(throws: EventFileError.fileRemoved(path: file.path)) { try file.close() }
        let isClosed = file.isClosed
        #expect(!isClosed)
    }

    /// After removal, a new file in the directory, made again, takes over the records held.
    @Test func aRemovedFileContinuesInANewOne() throws {
        let directory = TemporaryDirectory()
        var file = try EventFile.create(in: directory.appending("run"), options: EventFileWriter.Options())
        Self.append(Self.scalar(step: 1), to: &file)
        try FileManager.default.removeItem(atPath: directory.appending("run"))
        #expect(throws: EventFileError.fileRemoved(path: file.path)) { try file.write() }
        var successor = try file.continueInNewFile(options: EventFileWriter.Options())
        #expect(file.isClosed && file.pendingBytes == 0)
        #expect(successor.path != file.path)
        Self.append(Self.scalar(step: 2), to: &successor)
        try successor.close()
        let events = try EventFileWriterTests.readAll(successor.path)
        #expect(events.first?.what == .fileVersion(Event.fileVersion2))
        #expect(events.dropFirst().map(\.step) == [1, 2])
    }

    /// With `createWhenWritable`, nothing is made until a write can make it.
    @Test func aLazyFileIsMadeByTheFirstWriteThatCan() throws {
        let directory = TemporaryDirectory()
        _ = FileManager.default.createFile(atPath: directory.appending("blocked"), contents: Data([1]))
        var options = EventFileWriter.Options()
        options.createWhenWritable = true
        var file = try EventFile.create(in: directory.appending("blocked/run"), options: options)
        #expect(file.pendingBytes > 0)
        #expect(throws: EventFileError.self) { try file.write() }
        try FileManager.default.removeItem(atPath: directory.appending("blocked"))
        try file.close()
        #expect(try EventFileWriterTests.readAll(file.path).map(\.what) == [.fileVersion(Event.fileVersion2)])
    }

    /// A file past `largeFileStep` reserves its next blocks ahead of its writes, its size
    /// unchanged; its close gives back what it did not write.
    @Test func aLargeFileReservesBlocksAheadAndGivesBackTheRestAtItsClose() throws {
        let directory = TemporaryDirectory()
        var file = try EventFile.create(in: directory.path, options: EventFileWriter.Options())
        let step = Int(EventFile.largeFileStep >> 20)
        try Self.appendMebibytes(step, to: &file)
        // Below the step nothing is reserved.
        #expect(Self.allocated(file.path) < file.writtenBytes + (1 << 20))
        try Self.appendMebibytes(2, to: &file)
        #expect(try Self.size(file.path) == file.writtenBytes)
        #expect(Self.allocated(file.path) >= file.writtenBytes + EventFile.largeFileStep - (1 << 20))
        try file.close()
        #expect(try Self.size(file.path) == file.writtenBytes)
        #expect(Self.allocated(file.path) < file.writtenBytes + (64 << 10))
    }

    /// A file its writer left with blocks reserved past its end (it stopped before its close)
    /// gets them back when it is resumed at that end.
    @Test func resumingGivesBackBlocksReservedPastTheEnd() throws {
        let directory = TemporaryDirectory()
        var file = try EventFile.create(in: directory.path, options: EventFileWriter.Options())
        try Self.appendMebibytes(1, to: &file)
        try file.close()
        // As a writer that stopped before its close leaves it: blocks reserved past its records.
        let end = file.writtenBytes
        let descriptor = open(file.path, O_WRONLY)
        #expect(CRingboard_preallocate(descriptor, end, 4 << 20) == 0)
        Glibc.close(descriptor)
        #expect(try Self.size(file.path) == end)
        #expect(Self.allocated(file.path) > end + (1 << 20))

        var resumed = try EventFile(resuming: file.path, at: end)
        #expect(try Self.size(file.path) == end)
        #expect(Self.allocated(file.path) < end + (64 << 10))
        try resumed.close()
    }
}
