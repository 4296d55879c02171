import Foundation
import RingboardFormat
import RingboardTestSupport
import Testing

/// The aggregator's checkpoint damaged while no aggregator ran: `ringboard aggregate` refuses to
/// resume from it, exits 2, and names the damaged file and what to remove; it never traps.
@Suite(.serialized) struct DamagedCheckpointTests {
    /// A ring directory holding the checkpoint of a run in progress (its model file too), left by
    /// an aggregator killed with `kill -9`, and the killed trainer's ring.
    static func checkpointedRun(_ directory: TemporaryDirectory) throws -> (rings: String, logs: String, models: [String]) {
        let rings = directory.appending("rings"), logs = directory.appending("logs")
        let trainer = try TrainerHarness.startTrainer(rank: 0, procs: 1, policy: "chief", epochs: 100_000, rings: rings, logs: logs)
        defer {
            kill(trainer.processIdentifier, SIGKILL)
            trainer.waitUntilExit()
        }
        let aggregator = try TrainerHarness.startAggregator(logs: logs, rings: rings, exitWhenIdle: false)
        func models() -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: rings)) ?? []).filter { $0.hasPrefix("aggregator.model.") && !$0.hasSuffix(".tmp") }
        }
        let deadline = Date().addingTimeInterval(60)
        while (!FileManager.default.fileExists(atPath: rings + "/aggregator.state") || models().isEmpty) && Date() < deadline { usleep(20_000) }
        usleep(200_000)
        kill(aggregator.processIdentifier, SIGKILL)
        aggregator.waitUntilExit()
        #expect(FileManager.default.fileExists(atPath: rings + "/aggregator.state"), "no checkpoint was written")
        #expect(!models().isEmpty, "no model file was written")
        return (rings, logs, models().map { rings + "/" + $0 })
    }

    /// Flips one bit of the file's body (after its 24-byte header), or cuts it short.
    static func damage(_ path: String, truncate: Bool = false) throws {
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        try #require(bytes.count > 40)
        if truncate { bytes.removeLast(bytes.count / 2) } else { bytes[32] ^= 0x10 }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    static func aggregate(_ rings: String, _ logs: String) throws -> ProcessOutput {
        try run(TrainerHarness.ringboard, ["aggregate", "--logdir", logs, "--ring-dir", rings, "--exit-when-idle", "0"], timeout: 60)
    }

    @Test(arguments: [false, true])
    func aDamagedStateFileIsNamed(truncate: Bool) throws {
        let directory = TemporaryDirectory("ringboard-damaged-checkpoint")
        let (rings, logs, _) = try Self.checkpointedRun(directory)
        try Self.damage(rings + "/aggregator.state", truncate: truncate)
        let result = try Self.aggregate(rings, logs)
        #expect(result.status == 2, "\(result.standardError)")
        let expected = "ringboard aggregate: \(rings)/aggregator.state: cannot resume from this aggregator checkpoint: "
            + (truncate ? "length" : "checksum mismatch")
        #expect(result.standardError.contains(expected), "\(result.standardError)")
        #expect(result.standardError.contains("remove it to start its runs afresh"), "\(result.standardError)")
    }

    @Test func aDamagedModelFileIsNamed() throws {
        let directory = TemporaryDirectory("ringboard-damaged-checkpoint")
        let (rings, logs, models) = try Self.checkpointedRun(directory)
        for model in models { try Self.damage(model) }
        let result = try Self.aggregate(rings, logs)
        #expect(result.status == 2, "\(result.standardError)")
        let line = result.standardError
        #expect(line.contains("ringboard aggregate: \(rings)/aggregator.model.") && line.contains(": cannot resume from this aggregator checkpoint: checksum mismatch"),
                "\(line)")
        #expect(line.contains("remove \(rings)/aggregator.state to start its runs afresh"), "\(line)")

        // A model file the state names that is gone: the state is named.
        for model in models { unlink(model) }
        let missing = try Self.aggregate(rings, logs)
        #expect(missing.status == 2, "\(missing.standardError)")
        #expect(missing.standardError.contains("ringboard aggregate: \(rings)/aggregator.state: cannot resume from this aggregator checkpoint: the model file aggregator.model."),
                "\(missing.standardError)")
    }

    /// The input FuzzAggregatorState found: a checksummed state whose `.mean` group has a world
    /// size of about 2⁴⁸, for which restoring it allocated a queue per rank and trapped. Its
    /// input is `u8 flags · u32 length · state body`, kept in the seed corpus.
    @Test func theFuzzedStateWithAHugeWorldSizeIsRefused() throws {
        let input = try [UInt8](Data(contentsOf: URL(fileURLWithPath:
            packageRoot + "/Tests/Fuzz/Corpus/FuzzAggregatorState/regression-mean-world-size-huge")))
        let body = Array(input.dropFirst(5))
        var state = Array("RBAGGST1".utf8)  // what StateEncoder.file(magic:) writes before the body
        withUnsafeBytes(of: UInt32(5).littleEndian) { state += $0 }  // the state layout version
        withUnsafeBytes(of: UInt64(body.count).littleEndian) { state += $0 }
        withUnsafeBytes(of: CRC32C.checksum(body).littleEndian) { state += $0 }
        let directory = TemporaryDirectory("ringboard-damaged-checkpoint")
        let rings = directory.appending("rings")
        try FileManager.default.createDirectory(atPath: rings, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        try Data(state + body).write(to: URL(fileURLWithPath: rings + "/aggregator.state"))
        // The log root the fuzz target's states name.
        let result = try Self.aggregate(rings, "/tmp/ringboard-fuzz-aggregator-state/logs")
        #expect(result.status == 2, "\(result.standardError)")
        #expect(result.standardError.contains("\(rings)/aggregator.state: cannot resume from this aggregator checkpoint: mean group of world size"),
                "\(result.standardError)")
    }
}
