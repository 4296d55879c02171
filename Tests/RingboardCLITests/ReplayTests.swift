import Foundation
import RingboardTestSupport
import Testing

/// `ringboard replay` end to end: generated traces through the callback, the ring and the
/// aggregator, compared with a reference model of the TF 2.0 callback written from its source
/// (`Tests/Conformance/keras_reference.py`), and malformed traces refused by line.
@Suite struct ReplayTests {
    static let ringboard = productsDirectory + "/ringboard"

    /// One process, and 3 processes as ranks 0…2 under each trace's rank policy (chief, mean,
    /// per_rank).
    @Test(arguments: [(seed: 11, procs: 1), (seed: 12, procs: 1), (seed: 13, procs: 3)])
    func replayMatchesTheTF20Callback(seed: Int, procs: Int) throws {
        try #require(FileManager.default.isExecutableFile(atPath: venvPython), "run Scripts/setup.sh to create .venv")
        let directory = TemporaryDirectory("ringboard-replay")
        let count = 20
        let result = try run(venvPython, [
            packageRoot + "/Tests/Conformance/replay_conformance.py", "--ringboard", Self.ringboard,
            "--seed", "\(seed)", "--count", "\(count)", "--work", directory.path, "--procs", "\(procs)",
        ], timeout: 600)
        #expect(result.status == 0, "\(result.standardOutput)\n\(result.standardError)")
        // Every generated trace compared, not merely none failed: "0 passed, 0 failed" is no pass.
        let summary = result.standardOutput.split(separator: "\n").last.map(String.init) ?? ""
        let passed = summary.hasSuffix(" passed, 0 failed") ? summary.split(separator: " ").first.flatMap { Int($0) } : nil
        #expect((passed ?? 0) >= count, "\(count) traces generated, but: \(result.standardOutput)")
    }

    @Test func aMalformedLineIsNamedAndNothingIsWritten() throws {
        let directory = TemporaryDirectory("ringboard-replay-bad")
        let trace = directory.appending("trace.jsonl")
        try """
            {"tensorboard": {"log_dir": "run", "update_freq": "batch"}}
            {"hook": "on_train_begin"}
            {"hook": "on_train_batch_end", "batch": 0, "logs": {"loss": 0.5}}
            {"hook": "on_train_batch_end", "batch": "one", "logs": {"loss": 0.4}}
            """.write(toFile: trace, atomically: false, encoding: .utf8)
        let result = try run(Self.ringboard, ["replay", trace, "--ring-dir", directory.appending("rings"), "--logdir", directory.appending("logs")])
        #expect(result.status == 2)
        #expect(result.standardError == "ringboard replay: \(trace): line 4: batch must be an integer ≥ 0\n")
        #expect(!FileManager.default.fileExists(atPath: directory.appending("logs/run")))

        try """
            {"tensorboard": {"log_dir": "run", "write_grads": true, "histogram_frequency": 1}}
            """.write(toFile: trace, atomically: false, encoding: .utf8)
        let unknown = try run(Self.ringboard, ["replay", trace, "--ring-dir", directory.appending("rings")])
        #expect(unknown.status == 2)
        #expect(unknown.standardError.contains("line 1: Unrecognized arguments in `TensorBoard` Callback: [\"histogram_frequency\"]"))
    }

    /// `log_dir` as Keras takes it, with no aggregator running and no `--logdir`: an absolute one
    /// is written where it says, a relative one under the replaying process's working directory.
    @Test func logDirIsTakenAsKerasTakesIt() throws {
        let directory = TemporaryDirectory("ringboard-replay-logdir")
        let absolute = directory.appending("absolute/exp1")
        for (logDir, expected) in [(absolute, absolute), ("relative/exp2", directory.appending("work/relative/exp2"))] {
            let trace = directory.appending("trace.jsonl")
            try """
                {"tensorboard": {"log_dir": "\(logDir)", "update_freq": "batch"}}
                {"hook": "on_train_begin"}
                {"hook": "on_train_batch_end", "batch": 0, "logs": {"loss": 0.5}}
                {"hook": "on_epoch_end", "epoch": 0, "logs": {"loss": 0.5, "val_loss": 0.6}}
                {"hook": "on_train_end"}
                """.write(toFile: trace, atomically: false, encoding: .utf8)
            let result = try run(Self.ringboard, ["replay", trace, "--ring-dir", directory.appending("rings")],
                                 currentDirectory: directory.appending("work"))
            #expect(result.status == 0, "\(result.standardError)")
            for subdirectory in ["train", "validation"] {
                let files = (try? FileManager.default.contentsOfDirectory(atPath: expected + "/" + subdirectory)) ?? []
                #expect(files.contains { $0.hasPrefix("events.out.tfevents.") }, "\(logDir): \(subdirectory): \(files)")
            }
        }
        // Nothing anywhere else: the two runs, the rings, the trace and the working directory.
        let top = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(top == ["absolute", "rings", "trace.jsonl", "work"], "\(top)")
    }

    /// A trace that must be refused: its bytes (made when the test runs: some are 10 MB), the
    /// line the error must name and words the reason must hold.
    struct BadTrace: Sendable, CustomTestStringConvertible {
        var name: String
        var line: Int
        var reason: String
        var bytes: @Sendable () -> [UInt8]
        var testDescription: String { name }

        /// The arguments line, a harmless hook, then `text` as line 3.
        init(_ name: String, line: Int = 3, _ reason: String, _ text: @escaping @Sendable () -> [UInt8]) {
            self.name = name
            self.line = line
            self.reason = reason
            self.bytes = {
                Array(#"{"tensorboard": {"log_dir": "run", "update_freq": "batch"}}"#.utf8) + [0x0a]
                    + Array(#"{"hook": "on_train_begin"}"#.utf8) + [0x0a] + text() + [0x0a]
                    + Array(#"{"hook": "on_train_end"}"#.utf8) + [0x0a]
            }
        }

        init(_ name: String, line: Int = 3, _ reason: String, _ text: String) {
            self.init(name, line: line, reason) { Array(text.utf8) }
        }
    }

    /// A weight of `count` values (about 8 bytes of JSON each) in a `set_model` line.
    static func modelLine(values count: Int, shape: [Int]) -> String {
        let values = Array(repeating: "0.015625", count: count).joined(separator: ", ")
        return #"{"hook": "set_model", "model": {"name": "m", "layers": [{"name": "dense", "class_name": "Dense", "#
            + #""weights": [{"name": "dense/kernel:0", "shape": \#(shape), "values": [\#(values)]}]}]}}"#
    }

    static let badTraces: [BadTrace] = [
        // Wrong types.
        BadTrace("an epoch as a string", "epoch must be an integer ≥ 0", #"{"hook": "on_epoch_end", "epoch": "0"}"#),
        BadTrace("logs as a list", #""logs" must be an object"#, #"{"hook": "on_epoch_end", "epoch": 0, "logs": [0.5]}"#),
        BadTrace("a metric as a boolean", #"logs["loss"] must be a number"#, #"{"hook": "on_epoch_end", "epoch": 0, "logs": {"loss": true}}"#),
        BadTrace("layers as an object", #""layers" must be a list of objects"#, #"{"hook": "set_weights", "layers": {"dense": []}}"#),
        BadTrace("weight values as booleans", "values must be numbers", #"""
            {"hook": "set_weights", "layers": [{"name": "d", "weights": [{"name": "k", "shape": [1], "values": [false]}]}]}
            """#),
        // Found by Tests/Fuzz (FuzzReplayTrace): Foundation traps when asked to write a number as
        // a JSON document.
        BadTrace("the model's json as a number", #"the model's "json" must be a JSON object"#,
                 #"{"hook": "set_model", "model": {"name": "m", "json": 10, "layers": []}}"#),
        BadTrace("a layer config as a list", #"layer d: "config" must be a JSON object"#,
                 #"{"hook": "set_model", "model": {"name": "m", "layers": [{"name": "d", "config": [1, 2]}]}}"#),
        BadTrace("write_graph as a number", line: 1, "write_graph must be true or false", #"{"hook": "on_train_end"}"#)
            .replacingFirstLine(#"{"tensorboard": {"log_dir": "run", "write_graph": 1}}"#),
        BadTrace("a hook that is not an object", "not a JSON object", #"["on_train_end"]"#),
        BadTrace("a world of a million ranks", line: 1, "world_size 1000000 is not between 1 and 65536", #"{"hook": "on_train_end"}"#)
            .replacingFirstLine(#"{"tensorboard": {"log_dir": "run"}, "world_size": 1000000}"#),
        // Huge numbers.
        BadTrace("an epoch of 1e400", "Number 1e400 is not representable", #"{"hook": "on_epoch_end", "epoch": 1e400}"#),
        BadTrace("a batch of 30 digits", "batch must be an integer ≥ 0",
                 #"{"hook": "on_train_batch_end", "batch": 123456789012345678901234567890}"#),
        BadTrace("a size of 1e300", #"logs["size"] must be a non-negative integer"#,
                 #"{"hook": "on_train_batch_end", "batch": 0, "logs": {"size": 1e300}}"#),
        BadTrace("a shape whose product overflows", "shape [4000000000000000, 4000000000000000] is too large",
                 modelLine(values: 1, shape: [4_000_000_000_000_000, 4_000_000_000_000_000])),
        // NaN: JSON has no such literal; the strings "NaN" and "Infinity" are metric values only.
        BadTrace("a bare NaN", "not valid JSON (Invalid value around character", #"{"hook": "on_epoch_end", "epoch": 0, "logs": {"loss": NaN}}"#),
        BadTrace("a NaN epoch", "epoch must be an integer ≥ 0", #"{"hook": "on_epoch_end", "epoch": "NaN"}"#),
        BadTrace("a NaN size", #"logs["size"] must be a non-negative integer, not nan"#,
                 #"{"hook": "on_train_batch_end", "batch": 0, "logs": {"size": "NaN"}}"#),
        // Deep nesting: 100 000 arrays inside each other, refused without exhausting the stack.
        BadTrace("100 000 nested arrays", "Too many nested arrays or dictionaries") {
            Array(#"{"hook": "on_epoch_end", "epoch": 0, "logs": "#.utf8) + Array(repeating: UInt8(ascii: "["), count: 100_000)
                + Array(repeating: UInt8(ascii: "]"), count: 100_000) + Array("}".utf8)
        },
        // 10 MB lines: one cut short, one whose values do not fill the shape.
        BadTrace("a 10 MB line cut short", "not valid JSON") { Array(modelLine(values: 1_250_000, shape: [1_250_000]).utf8.dropLast(3)) },
        BadTrace("a 10 MB line with one value missing", "shape [1250001] needs 1250001 values, not 1250000") {
            Array(modelLine(values: 1_250_000, shape: [1_250_001]).utf8)
        },
        // Invalid UTF-8: a stray byte, an overlong '/', a UTF-16 surrogate, a sequence cut short.
        BadTrace("a stray 0xFF", "not UTF-8 (an invalid byte at column 39)") {
            Array(#"{"hook": "on_epoch_end", "epoch": 0, ""#.utf8) + [0xff] + Array(#"": 1}"#.utf8)
        },
        BadTrace("an overlong encoding", "not UTF-8 (an invalid byte at column 39)") {
            Array(#"{"hook": "on_epoch_end", "epoch": 0, ""#.utf8) + [0xc0, 0xaf] + Array(#"": 1}"#.utf8)
        },
        BadTrace("a surrogate", "not UTF-8 (an invalid byte at column 39)") {
            Array(#"{"hook": "on_epoch_end", "epoch": 0, ""#.utf8) + [0xed, 0xa0, 0x80] + Array(#"": 1}"#.utf8)
        },
        BadTrace("a sequence cut short by the end of the line", "not UTF-8 (an invalid byte at column 27)") {
            Array(#"{"hook": "on_train_begin"}"#.utf8) + [0xe2, 0x82]
        },
        // A NUL: raw it is not JSON; escaped it is refused as part of a run directory.
        BadTrace("a raw NUL", "Unescaped control character") { Array(#"{"hook": "on_epoch_end", "epoch": 0, "logs": {"a"#.utf8) + [0] + Array(#"": 1}}"#.utf8) },
        BadTrace("a NUL in log_dir", line: 1, "run directory", #"{"hook": "on_train_end"}"#)
            .replacingFirstLine(#"{"tensorboard": {"log_dir": "run\u0000/x"}}"#),
        // Semantics: named, and Keras 3's own argument rules.
        BadTrace("an unknown semantics", line: 1, #"semantics must be "tf2.0" or "keras3""#, #"{"hook": "on_train_end"}"#)
            .replacingFirstLine(#"{"tensorboard": {"log_dir": "run"}, "semantics": "keras2"}"#),
        BadTrace("update_freq 0 under Keras 3", line: 1, "update_freq must be an integer ≥ 1", #"{"hook": "on_train_end"}"#)
            .replacingFirstLine(#"{"tensorboard": {"log_dir": "run", "update_freq": 0}, "semantics": "keras3"}"#),
        BadTrace("a TF 1 argument under Keras 3", line: 1, "write_grads", #"{"hook": "on_train_end"}"#)
            .replacingFirstLine(#"{"tensorboard": {"log_dir": "run", "write_grads": true}, "semantics": "keras3"}"#),
        BadTrace("iterations below -1", #"iterations must be an integer ≥ -1"#, #"{"hook": "on_test_end", "iterations": -2}"#),
    ]

    /// Each refused with exit status 2 and one line naming the trace and the line, and nothing
    /// written: no ring directory, no log directory.
    @Test(arguments: badTraces)
    func aBadTraceIsRefusedByLine(_ bad: BadTrace) throws {
        let directory = TemporaryDirectory("ringboard-replay-bad")
        let trace = directory.appending("trace.jsonl")
        try Data(bad.bytes()).write(to: URL(fileURLWithPath: trace))
        let result = try run(Self.ringboard, ["replay", trace, "--ring-dir", directory.appending("rings"), "--logdir", directory.appending("logs")])
        #expect(result.status == 2)
        let prefix = "ringboard replay: \(trace): line \(bad.line): "
        #expect(result.standardError.hasPrefix(prefix) && result.standardError.contains(bad.reason), "\(result.standardError.prefix(500))")
        #expect(result.standardError.filter { $0 == "\n" }.count == 1, "\(result.standardError.prefix(500))")
        #expect(!FileManager.default.fileExists(atPath: directory.appending("logs")))
        #expect(!FileManager.default.fileExists(atPath: directory.appending("rings")))
    }

    /// A 10 MB line that is valid is replayed like any other: its weight arrives whole in the
    /// histogram of the epoch that follows.
    @Test func aValid10MBLineIsReplayed() throws {
        let directory = TemporaryDirectory("ringboard-replay-big")
        let trace = directory.appending("trace.jsonl")
        let lines = [
            #"{"tensorboard": {"log_dir": "run", "histogram_freq": 1}}"#,
            #"{"hook": "set_params", "params": {"epochs": 1, "steps": 1, "do_validation": true}}"#,
            Self.modelLine(values: 1_250_000, shape: [1_250_000]),
            #"{"hook": "on_train_begin"}"#,
            #"{"hook": "on_epoch_end", "epoch": 0, "logs": {"loss": 0.5}}"#,
            #"{"hook": "on_train_end"}"#,
        ]
        #expect(lines[2].utf8.count > 10_000_000)
        try lines.joined(separator: "\n").write(toFile: trace, atomically: false, encoding: .utf8)
        // log_dir "run" is relative to the working directory, as Keras takes it.
        let result = try run(Self.ringboard, ["replay", trace, "--ring-dir", directory.appending("rings"), "--logdir", directory.appending("logs")],
                             currentDirectory: directory.appending("logs"))
        #expect(result.status == 0, "\(result.standardError)")
        let inspect = try run(Self.ringboard, ["inspect", directory.appending("logs/run"), "--json"])
        #expect(inspect.status == 0, "\(inspect.standardError)")
        #expect(inspect.standardOutput.contains("dense/kernel_0"), "\(inspect.standardOutput.prefix(2000))")
    }
}

extension ReplayTests.BadTrace {
    /// The same trace with another first line (for errors in the arguments).
    func replacingFirstLine(_ first: String) -> Self {
        var copy = self
        let bytes = self.bytes
        copy.bytes = {
            let original = bytes()
            let rest = original[(original.firstIndex(of: 0x0a) ?? original.endIndex)...]
            return Array(first.utf8) + rest
        }
        return copy
    }
}
