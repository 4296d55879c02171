import Foundation
import RingboardTestSupport
import Testing

/// Semantics "keras3" against Keras 3's own callback. Each fixture in
/// `Tests/Conformance/Fixtures/keras3/` holds what `keras.callbacks.TensorBoard` (Keras 3.15.1 on
/// TensorFlow 2.21) wrote while training, and the hooks it was given as a replay trace
/// (`Tests/Conformance/make_keras3_fixtures.py`). The trace is replayed through the ring and the
/// aggregator, and `compare_keras3.py` reads both with TensorBoard's loader: every tag's events,
/// step for step, and for two fixtures also what TensorBoard's Rust data server serves.
@Suite struct Keras3ConformanceTests {
    static let ringboard = productsDirectory + "/ringboard"
    static let fixtures = packageRoot + "/Tests/Conformance/Fixtures/keras3"

    /// - `epoch`: update_freq "epoch", histograms and images every epoch, then evaluate and predict;
    /// - `every3`: update_freq 3, where Keras's recording condition skips epoch summaries, two fits;
    /// - `batch`: update_freq "batch" on a Functional model with images of every weight form;
    /// - `subclassed`: no model JSON, update_freq 2.
    @Test(arguments: [("epoch", false), ("every3", true), ("batch", true), ("subclassed", false)])
    func replayWritesWhatKeras3Wrote(scenario: String, served: Bool) throws {
        let directory = TemporaryDirectory("ringboard-keras3")
        let compare = try Self.compare(replaying: scenario, with: scenario, in: directory, served: served)
        #expect(compare.status == 0, "\(compare.standardOutput)\n\(compare.standardError)")
        // Compared, not merely found no difference: an empty comparison is no pass.
        let summary = compare.standardOutput.split(separator: "\n").last.map(String.init) ?? ""
        let events = summary.hasPrefix("same: ") ? Int(summary.split(separator: " ")[3]) : nil
        #expect((events ?? 0) > 0, "no events compared: \(compare.standardOutput)")
        if served { #expect(summary.hasSuffix(" served series") && !summary.hasSuffix(", 0 served series"), "\(summary)") }
    }

    /// The comparison finds a difference: the `epoch` fixture's trace, replayed, is not what Keras
    /// wrote for `every3`.
    @Test func aDifferentRunIsReported() throws {
        let directory = TemporaryDirectory("ringboard-keras3-differs")
        let compare = try Self.compare(replaying: "epoch", with: "every3", in: directory, served: false)
        #expect(compare.status == 1)
        #expect(compare.standardOutput.contains("train/epoch_loss: steps [0, 1, 2], Keras [2]"), "\(compare.standardOutput)")
    }

    /// Two ranks replaying the same hooks: under `mean` the merged run (no `size` added, as Keras
    /// 3 counts no samples), under `per_rank` each rank's run, is what Keras wrote for one.
    @Test(arguments: ["mean", "per_rank"])
    func twoRanksWriteWhatKeras3Wrote(policy: String) throws {
        try #require(FileManager.default.isExecutableFile(atPath: venvPython), "run Scripts/setup.sh to create .venv")
        let directory = TemporaryDirectory("ringboard-keras3-ranks")
        var lines = try String(contentsOfFile: "\(Self.fixtures)/every3/trace.jsonl", encoding: .utf8).split(separator: "\n").map(String.init)
        lines[0] = String(lines[0].dropLast()) + #", "rank_policy": "\#(policy)"}"#
        let trace = directory.appending("trace.jsonl")
        try lines.joined(separator: "\n").write(toFile: trace, atomically: false, encoding: .utf8)
        let logs = directory.appending("logs")
        try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
        let replay = try run(Self.ringboard, ["replay", trace, "--procs", "2", "--ring-dir", directory.appending("rings"), "--logdir", logs],
                             currentDirectory: logs)
        #expect(replay.status == 0, "\(replay.standardOutput)\n\(replay.standardError)")
        for run in policy == "mean" ? ["run"] : ["run/rank_0", "run/rank_1"] {
            let compare = try RingboardTestSupport.run(venvPython, [
                packageRoot + "/Tests/Conformance/compare_keras3.py", "\(Self.fixtures)/every3/keras", "\(logs)/\(run)",
            ], environment: ["TF_CPP_MIN_LOG_LEVEL": "3"])
            #expect(compare.status == 0 && compare.standardOutput.hasPrefix("same: "), "\(run): \(compare.standardOutput)")
        }
    }

    /// Keras 3 writes no op graph, and TensorBoard's Graphs dashboard opens on "Malformed
    /// GraphDef" for its logs; the layer graph written with the model draws instead, in a real
    /// browser, and the conceptual graph of the model JSON too.
    @Test func theGraphsDashboardOpensOnTheLayerGraph() throws {
        try GraphsDashboardTests.requireTools()
        let directory = TemporaryDirectory("ringboard-keras3-graphs")
        let compare = try Self.compare(replaying: "batch", with: "batch", in: directory, served: false)
        #expect(compare.status == 0, "\(compare.standardOutput)")
        let check = try run(venvPython, [
            GraphsDashboardTests.checker, "--logdir", directory.appending("logs/run"), "--nodes", "tokens,embedding,conv1d,conv2d,dense",
            "--screenshot", directory.appending("graphs.png"), "--timeout", "120",
        ], timeout: 180)
        #expect(check.status == 0, "\(check.standardOutput)\n\(check.standardError)")
        #expect(check.standardOutput.contains("keras: conceptual_graph"), "\(check.standardOutput)")
    }

    /// Replays fixture `scenario`'s trace in `directory` and compares the run with what Keras
    /// wrote in fixture `keras`.
    static func compare(replaying scenario: String, with keras: String, in directory: TemporaryDirectory, served: Bool) throws -> ProcessOutput {
        try #require(FileManager.default.isExecutableFile(atPath: venvPython), "run Scripts/setup.sh to create .venv")
        let logs = directory.appending("logs")
        try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
        // The trace's log_dir is "run", relative as a user gives it: resolved in the working directory.
        let replay = try run(ringboard, [
            "replay", "\(fixtures)/\(scenario)/trace.jsonl", "--ring-dir", directory.appending("rings"), "--logdir", logs,
        ], currentDirectory: logs)
        #expect(replay.status == 0, "\(replay.standardOutput)\n\(replay.standardError)")
        return try run(venvPython, [
            packageRoot + "/Tests/Conformance/compare_keras3.py", "\(fixtures)/\(keras)/keras", logs + "/run",
        ] + (served ? ["--served"] : []), timeout: 300, environment: ["TF_CPP_MIN_LOG_LEVEL": "3"])
    }
}
