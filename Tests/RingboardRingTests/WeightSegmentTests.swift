import Foundation
import RingboardTestSupport
import Testing
@testable import RingboardRing

@Suite struct WeightSegmentTests {
    static let ring = "4242-77.ring"

    /// A segment of `weights` made beside ring `ring` in `directory`: its sequence number and
    /// each weight's byte offset, as `publish` hears them.
    static func make(
        _ directory: String, _ weights: [[Float]], writer: WeightSegment.Writer? = nil, waitForCommit: ((Duration) -> Bool)? = nil
    ) throws -> (Int64, [Int]) {
        let writer = writer ?? WeightSegment.Writer(ringPath: directory + "/" + ring)
        var published: (Int64, [Int])?
        try writer.write(
            valueCounts: weights.map(\.count),
            fill: { (index, write) throws(RingError) in
                let values = weights[index]
                try write(values.span)
            },
            publish: { sequence, offsets in published = (sequence, offsets) },
            waitForCommit: waitForCommit)
        return try #require(published)
    }

    static func inode(_ path: String) throws -> Int? {
        try FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as? Int
    }

    static func values(_ segment: WeightSegment, offset: Int, count: Int) -> [Float] {
        segment.withValues(offset: offset, count: count) { span in
            var values: [Float] = []
            for index in span.indices { values.append(span[index]) }
            return values
        }
    }

    /// The header is the file format: changing it means bumping `WeightSegment.version`.
    @Test func headerIsPinned() {
        #expect(WeightSegment.version == 1)
        #expect(withUnsafeBytes(of: WeightSegment.magic.littleEndian) { Array($0) } == Array("RBWSEG01".utf8))
        let offsets: [Int] = [WeightSegment.magicOffset, WeightSegment.versionOffset, WeightSegment.headerSizeOffset,
                              WeightSegment.sequenceOffset, WeightSegment.valueBytesOffset, WeightSegment.sealedOffset]
        #expect(offsets == [0, 8, 12, 16, 24, 32])
        #expect(WeightSegment.headerSize == 64 && WeightSegment.valueAlignment == 64)
    }

    @Test func writtenValuesReadBackInPlace() throws {
        let directory = TemporaryDirectory("ringboard-weights")
        let weights: [[Float]] = [(0..<1000).map { Float($0) * 0.5 }, [], [-1, .pi, 3], [Float](repeating: 7, count: 16)]
        let writer = WeightSegment.Writer(ringPath: directory.appending(Self.ring))
        let (sequence, offsets) = try Self.make(directory.path, weights, writer: writer)
        #expect(sequence == 0)
        #expect(offsets.allSatisfy { $0 >= WeightSegment.headerSize && $0 % WeightSegment.valueAlignment == 0 })
        let segment = try WeightSegment(directory: directory.path, ring: Self.ring, sequence: 0)
        #expect(segment.fileName == "4242-77.ring.weights.0" && segment.ring == Self.ring && segment.sequence == 0)
        for (weight, offset) in zip(weights, offsets) {
            #expect(segment.contains(offset: offset, count: weight.count))
            #expect(Self.values(segment, offset: offset, count: weight.count) == weight)
        }
        // Nothing past the values, nothing between them, nothing in the header.
        #expect(!segment.contains(offset: offsets[3], count: 17))
        #expect(!segment.contains(offset: offsets[3] + 2, count: 1))
        #expect(!segment.contains(offset: 0, count: 1))
        // The next segment of the ring gets the next number; the files list both.
        #expect(try Self.make(directory.path, [[1]], writer: writer).0 == 1)
        let files = try WeightSegment.files(in: directory.path).sorted { $0.sequence < $1.sequence }
        #expect(files.map(\.name) == ["4242-77.ring.weights.0", "4242-77.ring.weights.1"])
        #expect(files.allSatisfy { $0.ring == Self.ring })
    }

    /// The writer puts its next segment into a spare of its ring, when there is one: the spare's
    /// file, under the new name, holds the new segment whole; another ring's spare is not taken.
    @Test func theNextSegmentTakesASpare() throws {
        let directory = TemporaryDirectory("ringboard-weights")
        let writer = WeightSegment.Writer(ringPath: directory.appending(Self.ring))
        _ = try Self.make(directory.path, [Array(repeating: 7, count: 1000)], writer: writer)
        #expect(WeightSegment.makeSpare(directory: directory.path, ring: Self.ring, sequence: 0))
        let other = WeightSegment.spareFileName(ring: "9-9.ring", sequence: 3)
        FileManager.default.createFile(atPath: directory.appending(other), contents: Data())
        let spare = directory.appending(WeightSegment.spareFileName(ring: Self.ring, sequence: 0))
        let inode = try FileManager.default.attributesOfItem(atPath: spare)[.systemFileNumber] as? Int
        let (sequence, offsets) = try Self.make(directory.path, [[1, 2, 3]], writer: writer)
        #expect(sequence == 1)
        #expect(!FileManager.default.fileExists(atPath: spare) && FileManager.default.fileExists(atPath: directory.appending(other)))
        let path = directory.appending(WeightSegment.fileName(ring: Self.ring, sequence: 1))
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as? Int == inode)
        let segment = try WeightSegment(directory: directory.path, ring: Self.ring, sequence: 1)
        #expect(Self.values(segment, offset: offsets[0], count: 3) == [1, 2, 3])
        #expect(segment.valueByteCount == 12)
    }

    /// A spare the writer wrote before is written through the mapping it kept, and read through
    /// the one the reader kept: one file through four segments of different sizes, each read
    /// back whole, the larger one (past both kept mappings) through new mappings.
    @Test func aSpareIsWrittenAndReadThroughTheMappingsKeptFromItsLastLife() throws {
        let directory = TemporaryDirectory("ringboard-weights")
        let writer = WeightSegment.Writer(ringPath: directory.appending(Self.ring))
        let sizes = [3000, 2000, 2500, 9000]
        var kept: [SegmentMapping] = []
        var inode: Int?
        for (sequence, size) in sizes.enumerated() {
            let weights: [[Float]] = [(0..<size).map { Float($0 + 7 * sequence) }, [Float(sequence), -1]]
            let (made, offsets) = try Self.make(directory.path, weights, writer: writer)
            #expect(made == Int64(sequence))
            let path = directory.appending(WeightSegment.fileName(ring: Self.ring, sequence: made))
            if let inode { #expect(try Self.inode(path) == inode, "segment \(sequence) is not in the spare's file") }
            inode = try Self.inode(path)
            let segment = try WeightSegment(directory: directory.path, ring: Self.ring, sequence: made, reusing: kept)
            // The file shrank twice, then grew past what the kept mapping covers.
            #expect((segment.mapping === kept.first) == (sequence == 1 || sequence == 2), "segment \(sequence)")
            for (weight, offset) in zip(weights, offsets) {
                #expect(Self.values(segment, offset: offset, count: weight.count) == weight)
            }
            #expect(segment.valueByteCount == offsets[1] + 8 - WeightSegment.headerSize)
            kept = [segment.mapping]
            #expect(WeightSegment.makeSpare(directory: directory.path, ring: Self.ring, sequence: made))
        }
    }

    /// With no spare and `segmentsAhead` segments still the aggregator's, the writer waits for a
    /// commit (which makes spares) and takes the spare it finds; when the wait ends with no
    /// commit, it makes a new file. With fewer segments out, it never waits.
    @Test func aWriterAheadOfTheAggregatorWaitsForASpare() throws {
        let directory = TemporaryDirectory("ringboard-weights")
        let writer = WeightSegment.Writer(ringPath: directory.appending(Self.ring))
        var waits = 0
        let noCommit: (Duration) -> Bool = { _ in waits += 1; return false }
        for _ in 0..<WeightSegment.Writer.segmentsAhead { _ = try Self.make(directory.path, [[1, 2]], writer: writer, waitForCommit: noCommit) }
        #expect(waits == 0, "waited with fewer than segmentsAhead segments out")
        let (timedOut, _) = try Self.make(directory.path, [[3]], writer: writer, waitForCommit: noCommit)
        #expect(waits == 1)
        #expect(try Self.inode(directory.appending(WeightSegment.fileName(ring: Self.ring, sequence: timedOut))) != nil)

        let oldest = directory.appending(WeightSegment.fileName(ring: Self.ring, sequence: 0))
        let inode = try Self.inode(oldest)
        let commit: (Duration) -> Bool = { _ in
            waits += 1
            return WeightSegment.makeSpare(directory: directory.path, ring: Self.ring, sequence: 0)
        }
        let (sequence, offsets) = try Self.make(directory.path, [[4, 5, 6]], writer: writer, waitForCommit: commit)
        #expect(waits == 2)
        #expect(try Self.inode(directory.appending(WeightSegment.fileName(ring: Self.ring, sequence: sequence))) == inode)
        let segment = try WeightSegment(directory: directory.path, ring: Self.ring, sequence: sequence)
        #expect(Self.values(segment, offset: offsets[0], count: 3) == [4, 5, 6])
    }

    @Test func spareNamesParseOnlyWhenTheyAreASpares() {
        #expect(WeightSegment.parseSpare(fileName: "1-2.ring.weights.spare.12") == "1-2.ring")
        for name in ["1-2.ring.weights.12", "1-2.ring.weights.spare.", "1-2.ring.weights.spare.x", ".ring.weights.spare.1",
                     ".1-2.ring.weights.spare.1", "1-2.ringweights.spare.1", "aggregator.state"] {
            #expect(WeightSegment.parseSpare(fileName: name) == nil, "\(name)")
            #expect(WeightSegment.parse(fileName: "1-2.ring.weights.spare.12") == nil)
        }
    }

    @Test func namesParseOnlyWhenTheyAreASegments() {
        let parsed = WeightSegment.parse(fileName: "1-2.ring.weights.12")
        #expect(parsed?.ring == "1-2.ring" && parsed?.sequence == 12)
        for name in ["1-2.ring", "1-2.ring.weights.", "1-2.ring.weights.-1", "1-2.ring.weights.01", "1-2.ring.weights.1x",
                     "1-2.ring.spill.3", ".ring.weights.1", ".1-2.ring.weights.1", "1-2.ringweights.1", "aggregator.state"] {
            #expect(WeightSegment.parse(fileName: name) == nil, "\(name)")
        }
    }

    /// A segment cut short, one its producer never sealed, one of another sequence number, and
    /// files that are no segment at all are refused with an error that says why.
    @Test func damagedAndForeignSegmentsAreRefused() throws {
        let directory = TemporaryDirectory("ringboard-weights")
        func refusal(_ sequence: Int64) -> String {
            do {
                _ = try WeightSegment(directory: directory.path, ring: Self.ring, sequence: sequence)
                return "accepted"
            } catch {
                guard case .weightSegment(let path, let reason) = error else { return "\(error)" }
                #expect(path.hasSuffix(WeightSegment.fileName(ring: Self.ring, sequence: sequence)))
                return reason
            }
        }
        let writer = WeightSegment.Writer(ringPath: directory.appending(Self.ring))
        for _ in 0..<4 { _ = try Self.make(directory.path, [[Float](repeating: 1, count: 100)], writer: writer) }
        func path(_ sequence: Int64) -> String { directory.appending(WeightSegment.fileName(ring: Self.ring, sequence: sequence)) }

        let truncated = try FileHandle(forWritingTo: URL(fileURLWithPath: path(0)))
        try truncated.truncate(atOffset: UInt64(WeightSegment.headerSize + 40))
        try truncated.close()
        #expect(refusal(0).hasPrefix("truncated"))

        let unsealed = try FileHandle(forWritingTo: URL(fileURLWithPath: path(1)))
        try unsealed.seek(toOffset: UInt64(WeightSegment.sealedOffset))
        unsealed.write(Data(count: 8))
        try unsealed.close()
        #expect(refusal(1).hasPrefix("not sealed"))

        try FileManager.default.removeItem(atPath: path(3))
        try FileManager.default.moveItem(atPath: path(2), toPath: path(3))
        #expect(refusal(3) == "holds sequence number 2, not 3")

        FileManager.default.createFile(atPath: path(4), contents: Data(repeating: 0x41, count: 4096))
        #expect(refusal(4) == "not a weight segment (bad magic)")
        FileManager.default.createFile(atPath: path(5), contents: Data(count: 10))
        #expect(refusal(5).hasPrefix("10 bytes is shorter"))

        #expect(throws: RingError.self) { try WeightSegment(directory: directory.path, ring: "../x.ring", sequence: 0) }
        #expect(throws: RingError.self) { try WeightSegment(directory: directory.path, ring: Self.ring, sequence: -1) }
    }

    /// A removed segment is gone for later readers; one already mapped still reads whole.
    @Test func removalLeavesMappedValuesReadable() throws {
        let directory = TemporaryDirectory("ringboard-weights")
        let (sequence, offsets) = try Self.make(directory.path, [[1, 2, 3]])
        let segment = try WeightSegment(directory: directory.path, ring: Self.ring, sequence: sequence)
        WeightSegment.remove(segment.path)
        #expect(!FileManager.default.fileExists(atPath: segment.path))
        #expect(Self.values(segment, offset: offsets[0], count: 3) == [1, 2, 3])
        #expect {
            try WeightSegment(directory: directory.path, ring: Self.ring, sequence: sequence)
        } throws: { error in
            if case .systemCall("open", _, .noSuchFileOrDirectory) = error as? RingError { true } else { false }
        }
    }

    /// A segment that cannot be made (its name taken, as a full disk would fail it) publishes
    /// nothing and leaves nothing; the next one gets the next number.
    @Test func aSegmentThatCannotBeMadePublishesNothing() throws {
        let directory = TemporaryDirectory("ringboard-weights")
        let writer = WeightSegment.Writer(ringPath: directory.appending(Self.ring))
        try FileManager.default.createDirectory(atPath: directory.appending(WeightSegment.fileName(ring: Self.ring, sequence: 0)),
                                                withIntermediateDirectories: false)
        var published = false
        #expect(throws: RingError.self) {
            try writer.write(valueCounts: [1], fill: { (_, write) throws(RingError) in
                let one: [Float] = [1]
                try write(one.span)
            }, publish: { _, _ in published = true })
        }
        #expect(!published)
        #expect(try Self.make(directory.path, [[2]], writer: writer).0 == 1)
    }
}
