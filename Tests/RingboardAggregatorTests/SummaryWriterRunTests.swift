import Foundation
@testable import RingboardAggregator
import RingboardFormat
import RingboardRecords
import RingboardSummaries
import Testing

/// `SummaryWriter` runs (`Semantics.summaryWriter`): summaries written as they come, in the run
/// directory itself, as torch's writer makes them.
@Suite struct SummaryWriterRunTests {
    typealias H = RunTableHarness

    func announce(_ harness: H, _ ring: String = "ring", rank: UInt32 = 0, worldSize: UInt32 = 1, policy: RankPolicy = .chief,
                  names: [String] = ["loss", "notes", "weights", "picture", "raw", "curves", "curves_train", "curves_test"]) {
        harness.announce(ring, rank: rank, worldSize: worldSize, policy: policy, harness.arguments("sw", semantics: .summaryWriter))
        for (number, name) in names.enumerated() { harness.table.deliver(.metricName(run: 0, metric: UInt32(number), name: name), from: ring) }
    }

    func summary(_ harness: H, _ ring: String = "ring", tag: UInt32, directory: UInt32? = nil, step: Int64, _ value: SummaryValue) {
        harness.table.deliver(.summary(run: 0, tag: tag, directory: directory, step: step, wallTime: 1_765_000_000.25 + Double(step), value: value),
                              from: ring)
    }

    @Test func scalarsGoIntoTheRunDirectoryItselfWithTheCallersWallTime() {
        let harness = H()
        announce(harness)
        for step in 0..<3 { summary(harness, tag: 0, step: Int64(step), .scalar(Double(step) / 2)) }
        harness.flush()
        let scalars = harness.scalars("sw")
        #expect(scalars.map(\.description) == ["loss@0=0.0", "loss@1=0.5", "loss@2=1.0"])
        #expect(scalars.map(\.wallTime) == [1_765_000_000.25, 1_765_000_001.25, 1_765_000_002.25])
        #expect(!FileManager.default.fileExists(atPath: harness.logs + "/sw/train"))
    }

    @Test func addScalarsWritesEachKeyInItsOwnDirectoryUnderTheMainTag() {
        let harness = H()
        announce(harness)
        summary(harness, tag: 5, directory: 6, step: 1, .scalar(1.5))
        summary(harness, tag: 5, directory: 7, step: 1, .scalar(2.5))
        harness.flush()
        #expect(harness.scalars("sw/curves_train").map(\.description) == ["curves@1=1.5"])
        #expect(harness.scalars("sw/curves_test").map(\.description) == ["curves@1=2.5"])
        #expect(harness.events("sw").isEmpty)
    }

    @Test func textIsTheTextPluginsStringTensorUnderTextSummary() throws {
        let harness = H()
        announce(harness)
        summary(harness, tag: 1, step: 4, .text("**bold** ünïcode"))
        harness.flush()
        let event = try #require(harness.events("sw").first)
        guard case .summary(let summary) = event.what, let value = summary.values.first, case .tensor(let tensor) = value.kind else {
            Issue.record("not a tensor summary: \(event)")
            return
        }
        #expect(value.tag == "notes/text_summary" && value.metadata?.pluginName == "text" && event.step == 4)
        #expect(tensor.dtype == .string && tensor.shape == [1] && tensor.stringValues == [Array("**bold** ünïcode".utf8)])
    }

    @Test func histogramsCountAsNumpyDoesIntoTheDefaultBins() throws {
        let harness = H()
        announce(harness)
        summary(harness, tag: 2, step: 0, .histogram(.float([0, 1, 1, 2, -0.5])))
        summary(harness, tag: 4, step: 0, .rawHistogram(RawHistogram(min: 0, max: 3, num: 3, sum: 4, sumSquares: 6, bucketLimits: [1, 3],
                                                                      bucketCounts: [1, 2])))
        harness.flush()
        let histograms = harness.events("sw").compactMap { event -> (String, HistogramProto)? in
            guard case .summary(let summary) = event.what, case .histogram(let histogram) = summary.values[0].kind else { return nil }
            return (summary.values[0].tag, histogram)
        }
        try #require(histograms.count == 2)
        let (tag, histogram) = histograms[0]
        #expect(tag == "weights" && histogram.min == -0.5 && histogram.max == 2 && histogram.num == 5 && histogram.sum == 3.5)
        #expect(histogram.sumSquares == 6.25)
        // The bins from the one before -0.5's to 2's, each limit a bin's right edge.
        let edges = Histogram.summaryWriterEdges
        let first = try #require(edges.lastIndex { $0 <= -0.5 })
        let last = try #require(edges.lastIndex { $0 <= 2 })
        #expect(histogram.bucketLimit == Array(edges[first...(last + 1)]))
        #expect(histogram.bucket.reduce(0, +) == 5 && histogram.bucket.first == 0)
        #expect(histograms[1].0 == "raw" && histograms[1].1.bucketLimit == [1, 3] && histograms[1].1.bucket == [1, 2])
    }

    @Test func imagesArePNGAndOneChannelIsShownAsThree() throws {
        let harness = H()
        announce(harness)
        summary(harness, tag: 3, step: 2, .image(height: 2, width: 3, channels: 1, pixels: [0, 50, 100, 150, 200, 250]))
        harness.flush()
        let event = try #require(harness.events("sw").first)
        guard case .summary(let summary) = event.what, case .image(let image) = summary.values[0].kind else {
            Issue.record("not an image: \(event)")
            return
        }
        #expect(summary.values[0].tag == "picture" && image.height == 2 && image.width == 3 && image.colorspace == 3)
        #expect(Array(image.encodedImage.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
    }

    @Test func summariesOfUnnamedTagsOrEscapingDirectoriesAreSkipped() {
        let harness = H()
        announce(harness, names: ["loss", "../escape", "a//b"])
        summary(harness, tag: 9, step: 0, .scalar(1))
        summary(harness, tag: 0, directory: 1, step: 0, .scalar(2))
        summary(harness, tag: 0, directory: 2, step: 0, .scalar(3))
        summary(harness, tag: 0, step: 0, .scalar(4))
        harness.flush()
        #expect(harness.scalars("sw").map(\.description) == ["loss@0=4.0"])
        #expect(!FileManager.default.fileExists(atPath: harness.logs + "/escape"))
    }

    @Test func chiefWritesRankZeroAndPerRankEachRank() {
        let harness = H()
        for rank in 0..<2 {
            announce(harness, "ring-\(rank)", rank: UInt32(rank), worldSize: 2, policy: .perRank)
            summary(harness, "ring-\(rank)", tag: 0, step: 0, .scalar(Double(rank)))
        }
        harness.flush()
        #expect(harness.scalars("sw/rank_0").map(\.description) == ["loss@0=0.0"])
        #expect(harness.scalars("sw/rank_1").map(\.description) == ["loss@0=1.0"])
        let chief = H()
        for rank in 0..<2 {
            announce(chief, "ring-\(rank)", rank: UInt32(rank), worldSize: 2)
            summary(chief, "ring-\(rank)", tag: 0, step: 0, .scalar(Double(rank) + 5))
        }
        chief.flush()
        #expect(chief.scalars("sw").map(\.description) == ["loss@0=5.0"])
    }

    @Test func aKerasRunIgnoresSummaries() {
        let harness = H()
        harness.announce("keras", harness.arguments("keras"))
        harness.table.deliver(.metricName(run: 0, metric: 0, name: "loss"), from: "keras")
        summary(harness, "keras", tag: 0, step: 0, .scalar(2))
        harness.flush()
        #expect(harness.events("keras").isEmpty)
    }

    /// `.mean`: a tag and step's scalars once every rank logged them, their mean with rank 0's
    /// wall time; one only some ranks log, once the others are gone (or its grace is over);
    /// other summaries rank 0's; and what waits survives a restart.
    @Test func theMeanPolicyWritesEachStepOnceAsTheMeanOfTheRanks() throws {
        let harness = H()
        for rank in 0..<2 {
            // Each rank numbers its names its own way.
            announce(harness, "ring-\(rank)", rank: UInt32(rank), worldSize: 2, policy: .mean,
                     names: rank == 0 ? ["loss", "lr", "weights"] : ["weights", "loss"])
        }
        harness.table.deliver(.summary(run: 0, tag: 0, directory: nil, step: 0, wallTime: 100, value: .scalar(1)), from: "ring-0")
        harness.table.deliver(.summary(run: 0, tag: 1, directory: nil, step: 0, wallTime: 90, value: .scalar(3)), from: "ring-1")
        harness.table.deliver(.summary(run: 0, tag: 1, directory: nil, step: 1, wallTime: 91, value: .scalar(5)), from: "ring-1")
        harness.table.deliver(.summary(run: 0, tag: 1, directory: nil, step: 0, wallTime: 101, value: .scalar(0.5)), from: "ring-0")
        harness.table.deliver(.summary(run: 0, tag: 0, directory: nil, step: 0, wallTime: 95, value: .histogram(.float([1, 2]))), from: "ring-1")
        harness.table.deliver(.summary(run: 0, tag: 2, directory: nil, step: 0, wallTime: 100, value: .histogram(.float([1, 2]))), from: "ring-0")
        harness.flush()
        #expect(harness.scalars("sw").map(\.description) == ["loss@0=2.0"])
        #expect(harness.scalars("sw").first?.wallTime == 100)
        try harness.restart()
        harness.table.deliver(.summary(run: 0, tag: 0, directory: nil, step: 1, wallTime: 102, value: .scalar(7)), from: "ring-0")
        harness.flush()
        #expect(harness.scalars("sw").map(\.description) == ["loss@0=2.0", "loss@1=6.0"])
        // lr only rank 0 logs: written once rank 1 is gone.
        harness.table.retire(ring: "ring-1", now: harness.now)
        harness.flush()
        #expect(harness.scalars("sw").map(\.description) == ["loss@0=2.0", "loss@1=6.0", "lr@0=0.5"])
        let histograms = harness.events("sw").filter { if case .summary(let s) = $0.what, case .histogram = s.values[0].kind { true } else { false } }
        #expect(histograms.count == 1)
    }

    @Test func aRestartGoesOnInTheSameFileWithTheSameNames() throws {
        let harness = H()
        announce(harness)
        summary(harness, tag: 0, step: 0, .scalar(1))
        try harness.restart()
        summary(harness, tag: 0, step: 1, .scalar(2))
        summary(harness, tag: 5, directory: 6, step: 1, .scalar(3))
        harness.flush()
        #expect(harness.scalars("sw").map(\.description) == ["loss@0=1.0", "loss@1=2.0"])
        #expect(harness.scalars("sw/curves_train").map(\.description) == ["curves@1=3.0"])
        let files = try FileManager.default.contentsOfDirectory(atPath: harness.logs + "/sw").filter { $0.hasPrefix("events.out.tfevents.") }
        #expect(files.count == 1)
    }

    /// Several writers on one directory (processes each of rank 0 of 1, or two writers in one
    /// process): each numbers its names itself, and the run goes on until the last one is gone.
    @Test func writersSharingADirectoryKeepTheirOwnNamesAndTheRunOutlivesTheFirst() throws {
        let harness = H()
        announce(harness, "ring-a", names: ["a/loss"])
        announce(harness, "ring-b", names: ["b/loss"])
        // A second writer in ring-b's process: run 1 there, its own numbers.
        harness.table.deliver(.runAnnouncement(run: 1, rank: 0, worldSize: 1, policy: .chief,
                                               arguments: harness.arguments("sw", semantics: .summaryWriter)), from: "ring-b")
        harness.table.deliver(.metricName(run: 1, metric: 0, name: "c/loss"), from: "ring-b")
        summary(harness, "ring-a", tag: 0, step: 0, .scalar(1))
        summary(harness, "ring-b", tag: 0, step: 0, .scalar(2))
        harness.table.deliver(.summary(run: 1, tag: 0, directory: nil, step: 0, wallTime: 1_765_000_000, value: .scalar(3)), from: "ring-b")
        harness.table.retire(ring: "ring-a", now: harness.now)
        summary(harness, "ring-b", tag: 0, step: 1, .scalar(4))
        harness.flush()
        #expect(harness.scalars("sw").map(\.description) == ["a/loss@0=1.0", "b/loss@0=2.0", "c/loss@0=3.0", "b/loss@1=4.0"])
        try harness.restart()
        summary(harness, "ring-b", tag: 0, step: 2, .scalar(5))
        harness.flush()
        #expect(harness.scalars("sw").last?.description == "b/loss@2=5.0")
    }

    /// `add_hparams`: three events with the HParams plugin's data, as torch writes them.
    @Test func hparamsAreTheExperimentAndTheSession() throws {
        let harness = H()
        announce(harness, names: ["_hparams_/experiment", "exp"])
        summary(harness, tag: 0, directory: 1, step: 2, .hparams(HParamsSet(
            values: [HParamsSet.Entry(name: "lr", value: .number(0.5)), HParamsSet.Entry(name: "opt", value: .string("sgd"))],
            discrete: ["opt": [.string("sgd"), .string("adam")]], metrics: ["loss"])))
        harness.flush()
        let values = harness.events("sw/exp").compactMap { event -> Summary.Value? in
            guard case .summary(let summary) = event.what else { return nil }
            #expect(event.step == 2)
            return summary.values.first
        }
        #expect(values.map(\.tag) == ["_hparams_/experiment", "_hparams_/session_start_info", "_hparams_/session_end_info"])
        #expect(values.allSatisfy { $0.metadata?.pluginName == "hparams" && $0.kind == .none })
        // HParamsPluginData { session_end_info (4) { status: STATUS_SUCCESS } }.
        #expect(values.last?.metadata?.pluginContent == [0x22, 0x02, 0x08, 0x01])
        // The session start holds each value: "lr" with number_value 0.5, "opt" with string_value "sgd".
        let start = values[1].metadata?.pluginContent ?? []
        #expect(start.count > 20 && start.first == 0x1A)
        #expect(String(decoding: start, as: UTF8.self).contains("sgd") && String(decoding: start, as: UTF8.self).contains("lr"))
    }

    /// `add_custom_scalars`: the layout as a string tensor under `custom_scalars__config__`.
    @Test func theCustomScalarsLayoutIsAStringTensor() throws {
        let harness = H()
        announce(harness, names: ["custom_scalars__config__"])
        summary(harness, tag: 0, step: 0, .customScalars(CustomScalarsLayout(categories: [
            CustomScalarsLayout.Category(title: "L", charts: [CustomScalarsLayout.Chart(title: "c", content: .multiline(["a"]))]),
        ])))
        harness.flush()
        let event = try #require(harness.events("sw").first)
        guard case .summary(let summary) = event.what, case .tensor(let tensor) = summary.values[0].kind else {
            Issue.record("not a tensor: \(event)")
            return
        }
        #expect(summary.values[0].tag == "custom_scalars__config__" && summary.values[0].metadata?.pluginName == "custom_scalars")
        // Layout { category { title "L" chart { title "c" multiline { tag "a" } } } }.
        #expect(tensor.dtype == .string && tensor.stringValues == [[0x12, 0x0D, 0x0A, 0x01, 0x4C, 0x12, 0x08, 0x0A, 0x01, 0x63, 0x12, 0x03, 0x0A, 0x01, 0x61]])
    }

    /// `add_pr_curve_raw`: a [6, N] float tensor with the PR curves plugin's thresholds.
    @Test func aPRCurveIsASixRowTensor() throws {
        let harness = H()
        announce(harness, names: ["pr"])
        summary(harness, tag: 0, step: 1, .prCurve(numThresholds: 200, columns: 2, values: [5, 3, 2, 1, 0, 1, 1, 3, 0.7, 0.75, 0.8, 0.5]))
        harness.flush()
        let event = try #require(harness.events("sw").first)
        guard case .summary(let summary) = event.what, case .tensor(let tensor) = summary.values[0].kind else {
            Issue.record("not a tensor: \(event)")
            return
        }
        #expect(summary.values[0].metadata?.pluginName == "pr_curves" && summary.values[0].metadata?.pluginContent == [0x10, 0xC8, 0x01])
        #expect(tensor.dtype == .float && tensor.shape == [6, 2] && tensor.floatValues == [5, 3, 2, 1, 0, 1, 1, 3, 0.7, 0.75, 0.8, 0.5])
    }

    /// `add_audio`: torch's 16-bit WAV (Python's `wave` header), each sample clipped when any
    /// lies beyond [-1, 1] and scaled in its own precision, truncated toward zero.
    @Test func audioIsSixteenBitWAVAsTorchWritesIt() throws {
        let harness = H()
        announce(harness, names: ["sound"])
        summary(harness, tag: 0, step: 2, .audio(sampleRate: 8000, samples: .float([0.5, -2, 0.1])))
        summary(harness, tag: 0, step: 3, .audio(sampleRate: 8000.4, samples: .double([0.1, -0.5])))
        harness.flush()
        let events = harness.events("sw")
        try #require(events.count == 2)
        guard case .summary(let first) = events[0].what, case .audio(let bytes) = first.values[0].kind,
              case .summary(let second) = events[1].what, case .audio(let other) = second.values[0].kind else {
            Issue.record("not audio: \(events)")
            return
        }
        #expect(first.values[0].tag == "sound" && events[0].step == 2)
        // Clipped (−2 → −1): 16383, −32767 and Float(0.1) × 32767 = 3276.7 → 3276.
        let wav: [UInt8] = Array("RIFF".utf8) + [42, 0, 0, 0] + Array("WAVEfmt ".utf8) + [16, 0, 0, 0, 1, 0, 1, 0, 0x40, 0x1F, 0, 0, 0x80, 0x3E, 0, 0,
            2, 0, 16, 0] + Array("data".utf8) + [6, 0, 0, 0, 0xFF, 0x3F, 0x01, 0x80, 0xCC, 0x0C]
        // Summary.Audio { sample_rate 8000; num_channels 1; length_frames 3; encoded_audio_string; content_type }.
        let expected: [UInt8] = [0x0D, 0x00, 0x00, 0xFA, 0x45, 0x10, 0x01, 0x18, 0x03, 0x22, UInt8(wav.count)] + wav
            + [0x2A, 0x09] + Array("audio/wav".utf8)
        #expect(bytes == expected)
        // A Float64 0.1 × 32767 is 3276.7000000000003 → 3276; wave rounds the frame rate to 8000.
        #expect(Array(other[(other.count - 11 - 4)..<(other.count - 11)]) == [0xCC, 0x0C, 0x01, 0xC0])
        #expect(Array(other[(11 + 24)..<(11 + 28)]) == [0x40, 0x1F, 0, 0])
    }

    /// `add_mesh`: one event of a float tensor per part, `<tag>_VERTEX`, `_FACE`, `_COLOR`, each
    /// with `MeshPluginData` naming the parts present.
    @Test func aMeshIsOneFloatTensorPerPart() throws {
        let harness = H()
        announce(harness, names: ["cube"])
        summary(harness, tag: 0, step: 1, .mesh(MeshData(components: [
            MeshData.Component(content: .vertex, batch: 1, count: 2, values: [0, 1, 2, 3, 4, 5]),
            MeshData.Component(content: .face, batch: 1, count: 1, values: [0, 1, 1]),
        ], jsonConfig: "{}")))
        harness.flush()
        let event = try #require(harness.events("sw").first)
        guard case .summary(let summary) = event.what, case .tensor(let vertices) = summary.values[0].kind,
              case .tensor(let faces) = summary.values[1].kind else {
            Issue.record("not tensors: \(event)")
            return
        }
        #expect(summary.values.map(\.tag) == ["cube_VERTEX", "cube_FACE"] && event.step == 1)
        #expect(vertices.dtype == .float && vertices.shape == [1, 2, 3] && vertices.floatValues == [0, 1, 2, 3, 4, 5])
        #expect(faces.shape == [1, 1, 3] && faces.floatValues == [0, 1, 1])
        // MeshPluginData { name "cube"; content_type VERTEX; json_config "{}"; shape [1, 2, 3]; components 0b110 }.
        #expect(summary.values[0].metadata?.pluginName == "mesh")
        #expect(summary.values[0].metadata?.pluginContent == [0x12, 0x04] + Array("cube".utf8) + [0x18, 0x01, 0x2A, 0x02, 0x7B, 0x7D, 0x32, 0x03, 1, 2, 3, 0x38, 0x06])
        #expect(summary.values[1].metadata?.pluginContent == [0x12, 0x04] + Array("cube".utf8) + [0x18, 0x02, 0x2A, 0x02, 0x7B, 0x7D, 0x32, 0x03, 1, 1, 3, 0x38, 0x06])
    }

    /// `add_graph`: the `GraphDef` as the run's graph and the run metadata as `step1`; bytes that
    /// are not a `GraphDef` are skipped.
    @Test func aGraphIsTheRunsGraphAndItsRunMetadataStepOne() throws {
        let harness = H()
        announce(harness, names: ["__graph__"])
        let graph: [UInt8] = [0x0A, 0x0A, 0x0A, 0x01, 0x61, 0x12, 0x05] + Array("Const".utf8)
        summary(harness, tag: 0, step: 0, .graph(graphDef: [0x0A, 0xFF], runMetadata: []))
        summary(harness, tag: 0, step: 0, .graph(graphDef: graph, runMetadata: [0x0A, 0x00]))
        harness.flush()
        let events = harness.events("sw")
        #expect(events.map(\.what) == [.graphDef(graph), .taggedRunMetadata(TaggedRunMetadata(tag: "step1", runMetadata: [0x0A, 0x00]))])
    }

    /// `add_embedding`: torch's files under `<step, 5 digits>/<tag, percent-encoded>/` and the
    /// config's entry, once however often the record comes (a replay after a crash).
    @Test func anEmbeddingIsTorchsFilesAndOneConfigEntry() throws {
        let harness = H()
        announce(harness, names: ["default", "a/b%", ".."])
        let sprite = EmbeddingData.Sprite(imageHeight: 1, imageWidth: 1, side: 2, pixels: [UInt8](repeating: 200, count: 12))
        summary(harness, tag: 0, step: 0, .embedding(EmbeddingData(rows: 2, columns: 2, values: [0.1, -2, 3e-7, 4], metadata: "x\ny\n", sprite: sprite)))
        summary(harness, tag: 1, step: 12, .embedding(EmbeddingData(rows: 1, columns: 1, values: [1])))
        summary(harness, tag: 2, step: 1, .embedding(EmbeddingData(rows: 1, columns: 1, values: [2])))  // not the step's parent
        summary(harness, tag: 0, step: 0, .embedding(EmbeddingData(rows: 2, columns: 2, values: [0.1, -2, 3e-7, 4], metadata: "x\ny\n", sprite: sprite)))
        harness.flush()
        let run = harness.logs + "/sw/"
        #expect(try String(contentsOfFile: run + "00000/default/tensors.tsv", encoding: .utf8) == "0.10000000149011612\t-2.0\n3.000000106112566e-07\t4.0\n")
        #expect(try String(contentsOfFile: run + "00000/default/metadata.tsv", encoding: .utf8) == "x\ny\n")
        let png = try Data(contentsOf: URL(fileURLWithPath: run + "00000/default/sprite.png"))
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        #expect(try String(contentsOfFile: run + "00012/a%2fb%25/tensors.tsv", encoding: .utf8) == "1.0\n")
        #expect(try String(contentsOfFile: run + "00001/%2e%2e/tensors.tsv", encoding: .utf8) == "2.0\n")
        #expect(!FileManager.default.fileExists(atPath: run + "tensors.tsv"))
        #expect(try String(contentsOfFile: run + "projector_config.pbtxt", encoding: .utf8) == """
            embeddings {
              tensor_name: "default:00000"
              metadata_path: "00000/default/metadata.tsv"
              sprite {
                image_path: "00000/default/sprite.png"
                single_image_dim: 1
                single_image_dim: 1
              }
              tensor_path: "00000/default/tensors.tsv"
            }
            embeddings {
              tensor_name: "a/b%:00012"
              tensor_path: "00012/a%2fb%25/tensors.tsv"
            }
            embeddings {
              tensor_name: "..:00001"
              tensor_path: "00001/%2e%2e/tensors.tsv"
            }

            """)
    }

    /// `add_scalar(new_style=True)`: the scalars plugin's Float32 (or Float64) tensor; and
    /// `purge_step`: a file version and a `SessionLog` START at the step, as torch writes them.
    @Test func newStyleScalarsAreTensorsAndAPurgeIsASessionStart() throws {
        let harness = H()
        announce(harness, names: ["loss", "__session_log__"])
        summary(harness, tag: 1, step: 5, .sessionStart)
        summary(harness, tag: 0, step: 5, .tensorScalar(0.1, doublePrecision: false))
        summary(harness, tag: 0, step: 6, .tensorScalar(0.1, doublePrecision: true))
        harness.flush()
        let events = harness.events("sw")  // file versions left out
        try #require(events.count == 3)
        #expect(events[0].what == .other(field: 7, bytes: [0x08, 0x01]) && events[0].step == 5)
        let scalars = events[1...].map { event -> String in
            guard case .summary(let summary) = event.what, case .tensor(let tensor) = summary.values[0].kind,
                  summary.values[0].metadata?.pluginName == "scalars", summary.values[0].tag == "loss", tensor.shape.isEmpty else { return "?" }
            return "\(tensor.dtype) \(tensor.floatValues) \(tensor.doubleValues)"
        }
        #expect(scalars == ["DT_FLOAT [0.1] []", "DT_DOUBLE [] [0.1]"])
    }
}
