import Foundation
import RingboardRecords
import RingboardRing
import RingboardTestSupport
import Testing
@testable import Ringboard

/// The Swift `SummaryWriter` through a real ring: the records each call appends, what a summary
/// larger than a ring record leaves in a weight segment, ranks, and what a call refuses.
@Suite struct SummaryWriterTests {
    /// The summaries among `records`, with their wall times set to 0.
    static func summaries(_ records: [HookRecord]) -> [HookRecord] {
        records.compactMap { record in
            guard case .summary(let run, let tag, let directory, let step, _, let value) = record else { return nil }
            return .summary(run: run, tag: tag, directory: directory, step: step, wallTime: 0, value: value)
        }
    }

    @Test func eachCallAppendsItsSummaryAndNamesEachTagOnce() throws {
        let directory = TemporaryDirectory("ringboard-writer")
        let rings = directory.appending("rings")
        let writer = try SummaryWriter(logDir: directory.appending("logs"), ringDirectory: rings, startAggregator: false)
        let loss = try writer.tag("loss")
        try writer.addScalar(loss, 0.5, step: 1, wallTime: 1_765_000_000.5)
        try writer.addScalar("loss", 0.25, step: 2)
        try writer.addText("notes", "**hi**", step: 3)
        try writer.addAudio("sound", .float([0.5, -0.5]), sampleRate: 8000, step: 4)
        let mesh = MeshData(components: [MeshData.Component(content: .vertex, batch: 1, count: 1, values: [1, 2, 3])], jsonConfig: "{}")
        try writer.addMesh("cloud", mesh, step: 5)
        let graph: [UInt8] = [0x0A, 0x03, 0x0A, 0x01, 0x61]
        try writer.addGraph(graph)
        let embedding = EmbeddingData(rows: 2, columns: 1, values: [1, 2], metadata: "a\nb\n")
        try writer.addEmbedding(embedding, step: 6)
        let records = try TensorBoardTests.records(in: rings)
        #expect(records.compactMap { if case .metricName(_, let number, let name) = $0 { "\(number)=\(name)" } else { nil } }
                == ["0=loss", "1=notes", "2=sound", "3=cloud", "4=__graph__", "5=default"])
        let run = writer.run
        #expect(Self.summaries(records) == [
            .summary(run: run, tag: 0, directory: nil, step: 1, wallTime: 0, value: .scalar(0.5)),
            .summary(run: run, tag: 0, directory: nil, step: 2, wallTime: 0, value: .scalar(0.25)),
            .summary(run: run, tag: 1, directory: nil, step: 3, wallTime: 0, value: .text("**hi**")),
            .summary(run: run, tag: 2, directory: nil, step: 4, wallTime: 0, value: .audio(sampleRate: 8000, samples: .float([0.5, -0.5]))),
            .summary(run: run, tag: 3, directory: nil, step: 5, wallTime: 0, value: .mesh(mesh)),
            .summary(run: run, tag: 4, directory: nil, step: 0, wallTime: 0, value: .graph(graphDef: graph, runMetadata: [])),
            .summary(run: run, tag: 5, directory: nil, step: 6, wallTime: 0, value: .embedding(embedding)),
        ])
        guard case .summary(_, _, _, _, let wallTime, _) = records.first(where: { if case .summary = $0 { true } else { false } }) else {
            Issue.record("no summary")
            return
        }
        #expect(wallTime == 1_765_000_000.5)
    }

    /// An image larger than a ring record (an eighth of the ring) goes whole into a weight
    /// segment, and the ring carries a record naming it.
    @Test func aSummaryLargerThanARingRecordGoesWholeIntoAWeightSegment() throws {
        let directory = TemporaryDirectory("ringboard-writer")
        let rings = directory.appending("rings")
        var small = RingWriter.Options()
        small.capacity = 1 << 16
        let writer = try SummaryWriter(logDir: directory.appending("logs"), ringDirectory: rings, ringOptions: small, startAggregator: false)
        let pixels = (0..<(64 * 50 * 3)).map { UInt8(truncatingIfNeeded: $0 * 7) }
        try writer.addImage("picture", pixels: pixels.span, height: 64, width: 50, channels: 3, step: 2, wallTime: 5)
        let values = (0..<3000).map { Double($0) / 7 }
        try writer.addHistogram("weights", values.span, step: 3, wallTime: 6)
        let records = try TensorBoardTests.records(in: rings)
        let ring = try #require(try FileManager.default.contentsOfDirectory(atPath: rings).first { $0.hasSuffix(".ring") })
        let carried = try Self.summaries(records).map { record -> HookRecord in
            guard case .summary(let run, _, _, _, _, .inSegment(let sequence, let offset, let length)) = record else { return record }
            let segment = try WeightSegment(directory: rings, ring: ring, sequence: sequence)
            let bytes = segment.withValues(offset: Int(offset), count: Int((length + 3) / 4)) { floats in
                floats.withUnsafeBytes { Array($0.prefix(Int(length))) }
            }
            let inner = try HookRecord(type: RecordType.summary, bytes: bytes)
            guard case .summary(run, let tag, let directory, let step, _, let value) = inner else { return inner }
            return .summary(run: run, tag: tag, directory: directory, step: step, wallTime: 0, value: value)
        }
        let run = writer.run
        #expect(carried == [
            .summary(run: run, tag: 0, directory: nil, step: 2, wallTime: 0, value: .image(height: 64, width: 50, channels: 3, pixels: pixels)),
            .summary(run: run, tag: 1, directory: nil, step: 3, wallTime: 0, value: .histogram(.double(values))),
        ])
        #expect(records.contains { if case .summary(_, _, _, _, _, .inSegment) = $0 { true } else { false } })
    }

    @Test func otherRanksOfAChiefWriterSendOnlyTheirAnnouncement() throws {
        let directory = TemporaryDirectory("ringboard-writer")
        let rings = directory.appending("rings")
        let writer = try SummaryWriter(logDir: directory.appending("logs"), rank: 1, worldSize: 2, ringDirectory: rings, startAggregator: false)
        try writer.addScalar("loss", 1, step: 0)
        try writer.addAudio("sound", .double([0.1]), step: 0)
        try writer.addEmbedding(EmbeddingData(rows: 1, columns: 1, values: [1]))
        let records = try TensorBoardTests.records(in: rings)
        #expect(records.count == 1)
        guard case .runAnnouncement(_, 1, 2, .chief, _) = records.first else {
            Issue.record("not rank 1's announcement: \(records)")
            return
        }
    }

    @Test func badInputIsRefusedAtTheCallAndNothingIsSent() throws {
        let directory = TemporaryDirectory("ringboard-writer")
        let rings = directory.appending("rings")
        let writer = try SummaryWriter(logDir: directory.appending("logs"), ringDirectory: rings, startAggregator: false)
        func reason(_ call: () throws(ConfigurationError) -> Void) -> String {
            do {
                try call()
                return "accepted"
            } catch {
                return error.description
            }
        }
        #expect(reason { () throws(ConfigurationError) in try writer.addAudio("a", .float([]), step: 0) }.contains("holds no samples"))
        #expect(reason { () throws(ConfigurationError) in try writer.addAudio("a", .double([0, .nan]), step: 0) }.contains("NaN or infinity at sample 1"))
        #expect(reason { () throws(ConfigurationError) in try writer.addAudio("a", .float([0]), sampleRate: 0, step: 0) }.contains("sample_rate"))
        let ragged = MeshData(components: [MeshData.Component(content: .vertex, batch: 1, count: 2, values: [1, 2, 3])])
        #expect(reason { () throws(ConfigurationError) in try writer.addMesh("m", ragged) }.contains("3 vertex values are not [1, 2, 3]"))
        let colored = MeshData(components: [MeshData.Component(content: .vertex, batch: 1, count: 1, values: [1, 2, 3])], jsonConfig: "[1]")
        #expect(reason { () throws(ConfigurationError) in try writer.addMesh("m", colored) }.contains("config_dict"))
        #expect(reason { () throws(ConfigurationError) in try writer.addGraph([0x0A, 0xFF]) }.contains("not a serialized GraphDef"))
        #expect(reason { () throws(ConfigurationError) in try writer.addEmbedding(EmbeddingData(rows: 2, columns: 2, values: [1, 2, 3])) }.contains("3 values are not 2 × 2"))
        #expect(reason { () throws(ConfigurationError) in try writer.addEmbedding(EmbeddingData(rows: 2, columns: 1, values: [1, 2], metadata: "a\n")) }
                .contains("1 lines for 2 points"))
        let records = try TensorBoardTests.records(in: rings)
        #expect(Self.summaries(records).isEmpty)
    }
}
