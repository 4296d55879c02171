import Foundation
import RingboardTestSupport
import Testing

/// TensorBoard's Graphs dashboard, in a real browser (headless Chromium, on a loopback port), on
/// logs we wrote: it opens on the op graph of the layers and draws every tag it offers without
/// an error (`Tests/Conformance/graphs_dashboard_check.py`).
@Suite struct GraphsDashboardTests {
    static let ringboard = productsDirectory + "/ringboard"
    static let checker = packageRoot + "/Tests/Conformance/graphs_dashboard_check.py"

    static func requireTools() throws {
        try #require(FileManager.default.isExecutableFile(atPath: venvPython), "run Scripts/setup.sh to create .venv")
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium"), "run Scripts/setup.sh to install chromium")
    }

    /// The demo: a Sequential model described as layers, with a profiled batch (`batch_2`).
    @Test func theDemoOpensOnTheLayerGraph() throws {
        try Self.requireTools()
        let directory = TemporaryDirectory("ringboard-graphs")
        let logdir = directory.appending("logs")
        let demo = try run(Self.ringboard, ["demo", "--logdir", logdir, "--procs", "1", "--epochs", "1", "--steps", "4"], timeout: 120)
        #expect(demo.status == 0, "\(demo.standardError)")
        let check = try run(venvPython, [
            Self.checker, "--logdir", logdir, "--nodes", "embedding,global_average_pooling1d,dense",
            "--screenshot", directory.appending("graphs.png"), "--timeout", "120",
        ], timeout: 180)
        #expect(check.status == 0, "\(check.standardOutput)\n\(check.standardError)")
    }

    /// A replayed functional model (TF 2.0's model JSON, two inputs joined by a Concatenate
    /// layer), traced at batch 1: the op graph draws its layers from their `inbound_nodes`.
    @Test func aFunctionalModelOpensOnItsLayerGraph() throws {
        try Self.requireTools()
        let directory = TemporaryDirectory("ringboard-graphs-functional")
        let trace = directory.appending("trace.jsonl")
        let model = #"""
            {"class_name": "Model", "config": {"name": "two_towers", "layers": [
              {"class_name": "InputLayer", "name": "left", "config": {"name": "left"}, "inbound_nodes": []},
              {"class_name": "InputLayer", "name": "right", "config": {"name": "right"}, "inbound_nodes": []},
              {"class_name": "Concatenate", "name": "joined", "config": {"name": "joined"},
               "inbound_nodes": [[["left", 0, 0, {}], ["right", 0, 0, {}]]]},
              {"class_name": "Dense", "name": "score", "config": {"name": "score"}, "inbound_nodes": [[["joined", 0, 0, {}]]]}],
              "input_layers": [["left", 0, 0], ["right", 0, 0]], "output_layers": [["score", 0, 0]]},
             "keras_version": "2.2.4-tf", "backend": "tensorflow"}
            """#.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
        let lines = [
            #"{"tensorboard": {"log_dir": "run", "profile_batch": 1, "update_freq": "batch"}}"#,
            #"{"hook": "set_model", "model": {"name": "two_towers", "json": \#(model), "layers": [{"name": "score", "class_name": "Dense"}]}}"#,
            #"{"hook": "on_train_begin"}"#,
            #"{"hook": "on_train_batch_end", "batch": 0, "logs": {"loss": 0.5}}"#,
            #"{"hook": "on_train_batch_end", "batch": 1, "logs": {"loss": 0.4}}"#,
            #"{"hook": "on_train_end"}"#,
        ]
        try lines.joined(separator: "\n").write(toFile: trace, atomically: false, encoding: .utf8)
        let logdir = directory.appending("logs")
        let replay = try run(Self.ringboard, ["replay", trace, "--ring-dir", directory.appending("rings"), "--logdir", logdir],
                             currentDirectory: logdir)
        #expect(replay.status == 0, "\(replay.standardError)")
        let check = try run(venvPython, [
            Self.checker, "--logdir", logdir + "/run", "--nodes", "left,right,joined,score", "--timeout", "120",
        ], timeout: 180)
        #expect(check.status == 0, "\(check.standardOutput)\n\(check.standardError)")
    }

    /// A replayed Sequential model with `write_graph: false`, traced at batch 2: the run has no
    /// run graph, so the dashboard opens on the profiled batch (`batch_2`, TF 2.0's
    /// `graph_run_metadata` summary) and draws the layers from its function graph.
    @Test func theProfiledBatchAloneOpensOnTheLayerGraph() throws {
        try Self.requireTools()
        let directory = TemporaryDirectory("ringboard-graphs-profile")
        let trace = directory.appending("trace.jsonl")
        let logdir = directory.appending("logs")
        let lines = [
            #"{"tensorboard": {"log_dir": "\#(logdir)/run", "write_graph": false, "profile_batch": 2, "update_freq": "batch"}}"#,
            #"{"hook": "set_model", "model": {"name": "classifier", "layers": [{"name": "embedding", "class_name": "Embedding"}, "#
                + #"{"name": "pooling", "class_name": "GlobalAveragePooling1D"}, {"name": "dense", "class_name": "Dense"}]}}"#,
            #"{"hook": "on_train_begin"}"#,
            #"{"hook": "on_train_batch_end", "batch": 0, "logs": {"loss": 0.5}}"#,
            #"{"hook": "on_train_batch_end", "batch": 1, "logs": {"loss": 0.4}}"#,
            #"{"hook": "on_train_batch_end", "batch": 2, "logs": {"loss": 0.3}}"#,
            #"{"hook": "on_train_end"}"#,
        ]
        try lines.joined(separator: "\n").write(toFile: trace, atomically: false, encoding: .utf8)
        let replay = try run(Self.ringboard, ["replay", trace, "--ring-dir", directory.appending("rings"), "--logdir", logdir])
        #expect(replay.status == 0, "\(replay.standardError)")
        let check = try run(venvPython, [
            Self.checker, "--logdir", logdir + "/run", "--nodes", "embedding,pooling,dense",
            "--screenshot", directory.appending("graphs.png"), "--timeout", "120",
        ], timeout: 180)
        #expect(check.status == 0, "\(check.standardOutput)\n\(check.standardError)")
    }
}
