import Foundation
import RingboardFormat
import RingboardTestSupport
import Testing
@testable import RingboardSummaries

/// The profiled batch's run metadata, as TF 2.0's `trace_export` writes it.
@Suite struct ProfileTraceTests {
    static let span = ProfileTrace.Span(name: "h", category: "hook", startMicroseconds: 5, durationMicroseconds: 3,
                                        processID: 0, threadID: 1)
    // RunMetadata.step_stats { dev_stats { device "/job:localhost/replica:0/task:0/device:CPU:0"
    //   node_stats { node_name "h" all_start_micros 5 op_end_rel_micros 3 all_end_rel_micros 3
    //                timeline_label "h" scheduled_micros 5 thread_id 1 } } }
    static let device = Array("/job:localhost/replica:0/task:0/device:CPU:0".utf8)
    static let nodeStats: [UInt8] = [0x0a, 0x01, 0x68, 0x10, 0x05, 0x20, 0x03, 0x28, 0x03, 0x42, 0x01, 0x68, 0x48, 0x05, 0x50, 0x01]
    static let stepStats: [UInt8] = {
        let deviceStats = [0x0a, UInt8(device.count)] + device + [0x12, UInt8(nodeStats.count)] + nodeStats
        let stepStats = [0x0a, UInt8(deviceStats.count)] + deviceStats
        return [0x0a, UInt8(stepStats.count)] + stepStats
    }()

    @Test func aValueOfPluginGraphRunMetadataAtTheStep() throws {
        let event = ProfileTrace.runMetadataEvent(step: 2, spans: [Self.span], graphDef: nil, wallTime: 1_764_000_001.5)
        #expect(event.step == 2 && event.wallTime == 1_764_000_001.5)
        guard case .summary(let summary) = event.what else {
            Issue.record("not a summary: \(String(describing: event.what))")
            return
        }
        #expect(summary.values.count == 1)
        let value = try #require(summary.values.first)
        #expect(value.tag == "batch_2")
        #expect(value.metadata == SummaryMetadata(pluginName: "graph_run_metadata", pluginContent: [0x31]))
        // A scalar DT_STRING tensor holding the step stats only.
        #expect(value.kind == .tensor(TensorProto(dtype: .string, shape: [], stringValues: [Self.stepStats])))
    }

    @Test func theGraphIsTheOneFunctionGraph() {
        let graph: [UInt8] = [0x0a, 0x05, 0x0a, 0x01, 0x61, 0x12, 0x00]  // GraphDef { node { name: "a" op: "" } }
        let bytes = ProfileTrace.runMetadata(spans: [Self.span], graphDef: graph)
        // ... then RunMetadata.function_graphs (4) { pre_optimization_graph (2): the graph }.
        #expect(bytes == Self.stepStats + [0x22, 0x09, 0x12, 0x07] + graph)
    }

    /// Confined to a log root, the trace and the projector's files are written through the
    /// directories from the root down, never through a symbolic link planted below it, and a
    /// directory outside the root is refused.
    @Test func filesConfinedToARootFollowNoLinkBelowIt() throws {
        let directory = TemporaryDirectory()
        let root = directory.appending("logs"), outside = directory.appending("outside")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        // Confined and below the root: written where asked.
        let path = try ProfileTrace.write(spans: [Self.span], runDirectory: root + "/run/train", host: "h", wallTime: 1_764_291_845,
                                          confinedTo: root)[0]
        #expect(path.hasPrefix(root + "/run/train/plugins/profile/") && FileManager.default.fileExists(atPath: path))
        try Projector.write([(Projector.Embedding(tensorName: "e:0", rows: 1, columns: 1, metadataPath: nil), [1])],
                            logDirectory: root + "/run", confinedTo: root)
        #expect(FileManager.default.fileExists(atPath: root + "/run/" + Projector.configFileName))
        // A link planted below the root is not followed.
        try FileManager.default.createSymbolicLink(atPath: root + "/planted", withDestinationPath: outside)
        #expect(throws: SummaryFileError.self) {
            try ProfileTrace.write(spans: [Self.span], runDirectory: root + "/planted/train", host: "h", wallTime: 1_764_291_845, confinedTo: root)
        }
        #expect(throws: SummaryFileError.self) {
            try Projector.write([(Projector.Embedding(tensorName: "e:0", rows: 1, columns: 1, metadataPath: nil), [1])],
                                logDirectory: root + "/planted", confinedTo: root)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside).isEmpty)
        // A directory outside the root.
        #expect(throws: SummaryFileError.outsideRoot(path: outside, root: root)) {
            try ProfileTrace.write(spans: [Self.span], runDirectory: outside, host: "h", wallTime: 1_764_291_845, confinedTo: root)
        }
    }

    /// `keepingTensors` (a `set_model` after an embeddings epoch): the config is written again,
    /// a TSV that exists keeps the epoch's values, and a new embedding's TSV is written.
    @Test func keepingTensorsLeavesAWrittenTSV() throws {
        let directory = TemporaryDirectory()
        let root = directory.appending("logs")
        let first = Projector.Embedding(tensorName: "a/embeddings:0", rows: 1, columns: 2, metadataPath: nil)
        let second = Projector.Embedding(tensorName: "b/embeddings:0", rows: 1, columns: 1, metadataPath: nil)
        try Projector.write([(first, [1, 2])], logDirectory: root + "/run", confinedTo: root)
        try Projector.write([(first, [0, 0]), (second, [5])], logDirectory: root + "/run", confinedTo: root, keepingTensors: true)
        let tsv = { (embedding: Projector.Embedding) in try String(contentsOfFile: root + "/run/" + embedding.tensorPath, encoding: .utf8) }
        #expect(try tsv(first) == Projector.tsv([1, 2], columns: 2))
        #expect(try tsv(second) == Projector.tsv([5], columns: 1))
        let config = try String(contentsOfFile: root + "/run/" + Projector.configFileName, encoding: .utf8)
        #expect(config.contains("b/embeddings:0"))
        try Projector.write([(first, [3, 4])], logDirectory: root + "/run", confinedTo: root)
        #expect(try tsv(first) == Projector.tsv([3, 4], columns: 2))
    }

    /// `inTrainRunToo`: a copy of the config in `train/`, whose paths lead from there to the
    /// same files (the TSV beside it, a relative metadata file one level up, an absolute one as
    /// it is); without it, no copy.
    @Test func aConfigInTheTrainRunLeadsToTheSameFiles() throws {
        let directory = TemporaryDirectory()
        let root = directory.appending("logs")
        let relative = Projector.Embedding(tensorName: "a/embeddings:0", rows: 1, columns: 1, metadataPath: "meta.tsv")
        let absolute = Projector.Embedding(tensorName: "b/embeddings:0", rows: 1, columns: 1, metadataPath: "/data/meta.tsv")
        try Projector.write([(relative, [1]), (absolute, [2])], logDirectory: root + "/rank_0", confinedTo: root, inTrainRunToo: true)
        let copy = try String(contentsOfFile: root + "/rank_0/" + Projector.trainRunConfig, encoding: .utf8)
        #expect(copy == Projector.configText([relative, absolute], inTrainRun: true))
        #expect(copy.contains("tensor_path: \"a_embeddings_0.tsv\"") && copy.contains("metadata_path: \"../meta.tsv\""))
        #expect(copy.contains("metadata_path: \"/data/meta.tsv\""))
        #expect(FileManager.default.fileExists(atPath: root + "/rank_0/train/a_embeddings_0.tsv"))
        let config = try String(contentsOfFile: root + "/rank_0/" + Projector.configFileName, encoding: .utf8)
        #expect(config.contains("tensor_path: \"train/a_embeddings_0.tsv\"") && config.contains("metadata_path: \"meta.tsv\""))

        try Projector.write([(relative, [1])], logDirectory: root + "/run", confinedTo: root)
        #expect(!FileManager.default.fileExists(atPath: root + "/run/" + Projector.trainRunConfig))
    }
}
