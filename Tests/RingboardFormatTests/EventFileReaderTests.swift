import Foundation
import RingboardTestSupport
import Testing
@testable import RingboardFormat

@Suite struct EventFileReaderTests {
    /// Writes a small event file and returns its bytes and the offsets where records start.
    static func sampleFile(in directory: TemporaryDirectory) throws -> (bytes: [UInt8], recordStarts: [Int64]) {
        let writer = try EventFileWriter(directory: directory.appending("source"))
        for step in 0..<5 {
            try writer.appendScalar(tag: "loss", value: Float(step), step: Int64(step), wallTime: 2)
        }
        try writer.append(Event(wallTime: 3, what: .graphDef([UInt8](repeating: 7, count: 300))))
        try writer.close()
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: writer.path)))
        let reader = try EventFileReader(path: writer.path)
        var starts: [Int64] = []
        while case .record(let offset, _) = try reader.next() { starts.append(offset) }
        return (bytes, starts)
    }

    static func write(_ bytes: [UInt8], to path: String) {
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
    }

    static func lastItem(_ path: String) throws -> (records: Int, EventFileReader.EventItem) {
        let reader = try EventFileReader(path: path)
        var records = 0
        while true {
            let item = try reader.nextEvent()
            if case .event = item { records += 1 } else { return (records, item) }
        }
    }

    /// Cut at every byte: a cut at a record boundary reads as a clean end, anywhere else as a
    /// truncated tail at the start of the cut record, never as corruption.
    @Test func everyCutIsATruncatedTailOrACleanEnd() throws {
        let directory = TemporaryDirectory()
        let (bytes, starts) = try Self.sampleFile(in: directory)
        let path = directory.appending("cut")
        for length in 0...bytes.count {
            Self.write(Array(bytes[0..<length]), to: path)
            let (records, last) = try Self.lastItem(path)
            let whole = starts.filter { $0 < Int64(length) }
            if starts.contains(Int64(length)) || length == bytes.count {
                #expect(last == .end(offset: Int64(length)), "cut at \(length)")
                #expect(records == whole.count)
            } else {
                #expect(last == .truncated(offset: whole.last!), "cut at \(length)")
                #expect(records == whole.count - 1)
            }
        }
    }

    /// Flip one byte anywhere: the reader reports corruption at the damaged record's offset (or,
    /// for a damaged length that now reaches past the end, a truncated tail there), and reads
    /// every record before it.
    @Test func everyFlippedByteIsCaughtAtItsRecord() throws {
        let directory = TemporaryDirectory()
        let (bytes, starts) = try Self.sampleFile(in: directory)
        let path = directory.appending("flipped")
        for position in 0..<bytes.count {
            var damaged = bytes
            damaged[position] ^= 0x01
            Self.write(damaged, to: path)
            let record = starts.last { $0 <= Int64(position) }!
            let (records, last) = try Self.lastItem(path)
            #expect(records == starts.firstIndex(of: record)!, "flip at \(position)")
            switch last {
            case .corrupt(let offset, _): #expect(offset == record, "flip at \(position)")
            default: Issue.record("flip at \(position): \(last)")
            }
        }
    }

    @Test func corruptionKindsAreNamed() throws {
        let directory = TemporaryDirectory()
        let (bytes, starts) = try Self.sampleFile(in: directory)
        let path = directory.appending("damaged")
        var badLength = bytes
        badLength[Int(starts[2]) + 9] ^= 0xff
        Self.write(badLength, to: path)
        #expect(try Self.lastItem(path).1 == .corrupt(offset: starts[2], .lengthChecksum))
        var badData = bytes
        badData[Int(starts[3]) + 14] ^= 0xff
        Self.write(badData, to: path)
        #expect(try Self.lastItem(path).1 == .corrupt(offset: starts[3], .dataChecksum))
        // Valid framing around bytes that are not an Event.
        Self.write(TFRecord.frame([0xff, 0xff]), to: path)
        guard case .corrupt(0, .malformedEvent) = try Self.lastItem(path).1 else {
            Issue.record("a framed non-Event must read as malformed")
            return
        }
    }

    /// A file still being written: the reader stops at the partial record and continues from it
    /// once the rest arrives.
    @Test func readingResumesWhenTheFileGrows() throws {
        let directory = TemporaryDirectory()
        let (bytes, starts) = try Self.sampleFile(in: directory)
        let path = directory.appending("growing")
        let cut = Int(starts[3]) + 5
        Self.write(Array(bytes[0..<cut]), to: path)
        let reader = try EventFileReader(path: path)
        var seen = 0
        while case .event = try reader.nextEvent() { seen += 1 }
        #expect(seen == 3)
        #expect(try reader.nextEvent() == .truncated(offset: starts[3]))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(bytes[cut...]))
        try handle.close()
        while case .event = try reader.nextEvent() { seen += 1 }
        #expect(seen == starts.count)
        #expect(try reader.nextEvent() == .end(offset: Int64(bytes.count)))
    }

    @Test func aHugeClaimedLengthIsNotAllocated() throws {
        let directory = TemporaryDirectory()
        // A valid length CRC around a length of 2^40 bytes.
        var header = [UInt8](repeating: 0, count: 12)
        let length: UInt64 = 1 << 40
        withUnsafeBytes(of: length.littleEndian) { header.replaceSubrange(0..<8, with: $0) }
        let crc = CRC32C.mask(CRC32C.checksum(Array(header[0..<8])))
        withUnsafeBytes(of: crc.littleEndian) { header.replaceSubrange(8..<12, with: $0) }
        let path = directory.appending("huge")
        Self.write(header + [1, 2, 3], to: path)
        #expect(try Self.lastItem(path).1 == .truncated(offset: 0))
    }

    @Test func directoriesAndMissingFilesAreErrors() throws {
        let directory = TemporaryDirectory()
        #expect(throws: EventFileError.notAnEventFile(path: directory.path, reason: "not a regular file")) {
            _ = try EventFileReader(path: directory.path)
        }
        #expect(throws: EventFileError.systemCall("open", path: directory.appending("nope"), .noSuchFileOrDirectory)) {
            _ = try EventFileReader(path: directory.appending("nope"))
        }
    }
}
