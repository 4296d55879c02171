import Foundation
@testable import RingboardAggregator
import RingboardRing
import RingboardTestSupport
import Testing

/// Which weight segments the aggregator removes after a checkpoint (`WeightSegments`).
@Suite struct WeightSegmentsTests {
    /// Makes segments 0..<count of ring `ring` in `directory`.
    static func makeSegments(_ directory: String, ring: String, count: Int) throws {
        let writer = WeightSegment.Writer(ringPath: directory + "/" + ring)
        for _ in 0..<count {
            try writer.write(valueCounts: [2], fill: { (_, write) throws(RingError) in
                let values: [Float] = [1, 2]
                try write(values.span)
            }, publish: { _, _ in })
        }
    }

    static func names(_ directory: String) -> Set<String> {
        Set(((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.contains(".weights.") })
    }

    /// Kept: what the checkpoint names, what a live ring may still name (its highest named
    /// segment and later ones; all of a ring none of whose segments was named yet). Removed:
    /// the rest of a live ring's (made a spare, up to two a ring), and every segment and spare
    /// of a ring that is gone unless named.
    @Test func onlySegmentsNothingCanNeedAreRemoved() throws {
        let directory = TemporaryDirectory("ringboard-segments")
        let (live, fresh, gone) = ("1-1.ring", "2-2.ring", "3-3.ring")
        for ring in [live, fresh] { FileManager.default.createFile(atPath: directory.appending(ring), contents: Data()) }
        for ring in [live, fresh, gone] { try Self.makeSegments(directory.path, ring: ring, count: 4) }
        let goneSpare = WeightSegment.spareFileName(ring: gone, sequence: 9)
        FileManager.default.createFile(atPath: directory.appending(goneSpare), contents: Data())
        var segments = WeightSegments(directory: directory.path)
        _ = try segments.named(ring: live, sequence: 2)
        segments.highestNamed[gone] = 3
        let named: Set<String> = [WeightSegment.fileName(ring: live, sequence: 0), WeightSegment.fileName(ring: gone, sequence: 1)]
        let removed = segments.removeUnneeded(keeping: named)
        let expected = Set([WeightSegment.fileName(ring: live, sequence: 1), goneSpare]
            + [0, 2, 3].map { WeightSegment.fileName(ring: gone, sequence: $0) })
        #expect(Set(removed) == expected)
        #expect(Self.names(directory.path) == named.union([2, 3].map { WeightSegment.fileName(ring: live, sequence: $0) })
            .union((0..<4).map { WeightSegment.fileName(ring: fresh, sequence: Int64($0)) })
            .union([WeightSegment.spareFileName(ring: live, sequence: 1)]))
        // A gone ring is forgotten with its segments.
        #expect(segments.highestNamed[gone] == nil && segments.highestNamed[live] == 2)
    }

    /// No more than two spares a ring: past them, segments are removed.
    @Test func aRingKeepsTwoSpares() throws {
        let directory = TemporaryDirectory("ringboard-segments")
        let ring = "1-1.ring"
        FileManager.default.createFile(atPath: directory.appending(ring), contents: Data())
        try Self.makeSegments(directory.path, ring: ring, count: 5)
        var segments = WeightSegments(directory: directory.path)
        _ = try segments.named(ring: ring, sequence: 4)
        #expect(segments.removeUnneeded(keeping: []).count == 4)
        let spares = Self.names(directory.path).filter { WeightSegment.parseSpare(fileName: $0) == ring }
        #expect(spares.count == WeightSegment.sparesPerRing)
        #expect(Self.names(directory.path).subtracting(spares) == [WeightSegment.fileName(ring: ring, sequence: 4)])
    }
}
