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
        let result = try run(venvPython, [
            packageRoot + "/Tests/Conformance/replay_conformance.py", "--ringboard", Self.ringboard,
            "--seed", "\(seed)", "--count", "20", "--work", directory.path, "--procs", "\(procs)",
        ], timeout: 600)
        #expect(result.status == 0, "\(result.standardOutput)\n\(result.standardError)")
        #expect(result.standardOutput.hasSuffix(" passed, 0 failed\n"), "\(result.standardOutput)")
    }

    @Test func aMalformedLineIsNamedAndNothingIsWritten() throws {
        let directory = TemporaryDirectory("ringboard-replay-bad")
        let trace = directory.appending("trace.jsonl")
        try """
            {"tensorboard": {"log_dir": "run", "update_freq": "batch"}}
            {"hook": "on_train_begin"}
            {"hook": "on_train_batch_end", "batch": 0, "logs": {"loss": 0.5}}
            {"hook": "on_train_batch_end", "batch": "one", "logs": {"loss": 0.4}}
            """.write(toFile: trace, atomically: true, encoding: .utf8)
        let result = try run(Self.ringboard, ["replay", trace, "--ring-dir", directory.appending("rings"), "--logdir", directory.appending("logs")])
        #expect(result.status == 2)
        #expect(result.standardError == "ringboard replay: \(trace): line 4: batch must be an integer ≥ 0\n")
        #expect(!FileManager.default.fileExists(atPath: directory.appending("logs/run")))

        try """
            {"tensorboard": {"log_dir": "run", "write_grads": true, "histogram_frequency": 1}}
            """.write(toFile: trace, atomically: true, encoding: .utf8)
        let unknown = try run(Self.ringboard, ["replay", trace, "--ring-dir", directory.appending("rings")])
        #expect(unknown.status == 2)
        #expect(unknown.standardError.contains("line 1: Unrecognized arguments in `TensorBoard` Callback: [\"histogram_frequency\"]"))
    }
}
