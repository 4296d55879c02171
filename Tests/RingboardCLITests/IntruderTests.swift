import Foundation
import RingboardRing
import RingboardTestSupport
import Testing

/// Rings and ring directories that another user made or can write, met by the consumer of this
/// user: refused, reported and left alone, while this user's own rings keep flowing. The other
/// user is real (`SecondUser`, made with useradd) and makes its ring with the real `ringboard`.
///
/// Root passes every permission check, so these run as root: the consumer must check owners and
/// modes itself, which is what they test. Elsewhere they are skipped, or fail when
/// `RINGBOARD_REQUIRE_PRIVILEGED=1` (as `.ci/run` sets it).
@Suite(.privileged("needs root, useradd and setpriv to make a second user and act as it", missing: SecondUser.problem))
struct IntruderTests {
    static let ringboard = productsDirectory + "/ringboard"

    /// A ring made by `ringboard stress-producer` as `user` (the second user when `asSecondUser`)
    /// in a ring directory of its own under `directory`, closed, with 100 records in it.
    static func makeRing(in directory: String, asSecondUser: Bool) throws -> String {
        let rings = directory + "/" + (asSecondUser ? "intruder" : "staging") + "-\(UUID().uuidString.prefix(8))"
        let arguments = ["stress-producer", "--ring-dir", rings + "/rings", "--id", "0", "--threads", "1", "--records", "100",
                         "--bytes", "16", "--policy", "drop", "--capacity", "65536"]
        let result: ProcessOutput
        if asSecondUser {
            try FileManager.default.createDirectory(atPath: rings, withIntermediateDirectories: false)
            try SecondUser.own(rings)
            result = try SecondUser.run(Self.ringboard, arguments)
        } else {
            result = try run(Self.ringboard, arguments)
        }
        try #require(result.status == 0, "stress-producer: \(result.standardError)")
        let names = try FileManager.default.contentsOfDirectory(atPath: rings + "/rings").filter { $0.hasSuffix(".ring") }
        try #require(names.count == 1, "\(names)")
        return rings + "/rings/" + names[0]
    }

    /// A private directory the second user can pass through (to reach its own directory in it).
    static func makeDirectory() throws -> TemporaryDirectory {
        let directory = TemporaryDirectory("ringboard-intruder")
        #expect(chmod(directory.path, 0o711) == 0)
        return directory
    }

    /// The second user's ring, and rings of ours that group or others can write, moved into our
    /// ring directory: the consumer refuses each and says why; the real aggregator (started by
    /// `ringboard replay`) reports them, leaves them as they are, and replays our trace.
    @Test func ringsOfAnotherUserOrWritableByOthersAreRefusedAndReported() throws {
        let (uid, _) = try SecondUser.ids()
        let directory = try Self.makeDirectory()
        let rings = directory.appending("rings")
        try RingDirectory.prepare(rings)
        var refused: [String: String] = [:]
        let intruders = try Self.makeRing(in: directory.path, asSecondUser: true)
        refused[rings + "/" + URL(fileURLWithPath: intruders).lastPathComponent] = "owned by uid \(uid), not 0"
        #expect(rename(intruders, rings + "/" + URL(fileURLWithPath: intruders).lastPathComponent) == 0)
        for mode in [0o620, 0o602] as [mode_t] {
            let loose = try Self.makeRing(in: directory.path, asSecondUser: false)
            let moved = rings + "/" + URL(fileURLWithPath: loose).lastPathComponent
            #expect(rename(loose, moved) == 0)
            #expect(chmod(moved, mode) == 0)
            refused[moved] = "group or others can write it (mode \(String(mode, radix: 8)))"
        }
        let before = try refused.keys.map { try FileManager.default.attributesOfItem(atPath: $0) as NSDictionary }

        do {
            let consumer = try RingConsumer(directory: rings)
            #expect(consumer.sources.isEmpty)
            let notices = consumer.notices()
            for (path, reason) in refused {
                #expect(notices.contains(.refused(path: path, reason: reason)), "\(path): \(notices)")
            }
        }

        let trace = directory.appending("trace.jsonl")
        try """
            {"tensorboard": {"log_dir": "run", "update_freq": "batch"}}
            {"hook": "on_train_batch_end", "batch": 0, "logs": {"loss": 0.5}}
            """.write(toFile: trace, atomically: false, encoding: .utf8)
        let result = try run(Self.ringboard, ["replay", trace, "--ring-dir", rings, "--logdir", directory.appending("logs")],
                             currentDirectory: directory.appending("logs"))
        #expect(result.status == 0, "\(result.standardError)")
        for (path, reason) in refused {
            #expect(result.standardError.contains("ring \(path): refused: \(reason)"), "\(path): \(result.standardError)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.appending("logs/run/train")).count == 1)
        // Left alone: there, unchanged, with their owner and mode.
        let after = try refused.keys.map { try FileManager.default.attributesOfItem(atPath: $0) as NSDictionary }
        #expect(before == after)
    }

    /// A ring directory someone else made first where ours goes (as `/dev/shm/ringboard-<uid>`
    /// could be squatted): the aggregator refuses to serve it and the trainer refuses to put a
    /// ring in it, each saying whose it is; nothing is written to it.
    @Test func aRingDirectoryMadeByAnotherUserIsRefused() throws {
        let (uid, _) = try SecondUser.ids()
        let directory = try Self.makeDirectory()
        // The second user's real producer makes the directory, 0700 and its own, with a ring in it.
        let intruders = try Self.makeRing(in: directory.path, asSecondUser: true)
        let squatted = URL(fileURLWithPath: intruders).deletingLastPathComponent().path
        let reason = "\(squatted): refused: owned by uid \(uid), not 0"

        let aggregate = try run(Self.ringboard, ["aggregate", "--ring-dir", squatted, "--logdir", directory.appending("logs")])
        #expect(aggregate.status == 2)
        #expect(aggregate.standardError == "ringboard aggregate: \(reason)\n")
        #expect(throws: RingError.notOwned(path: squatted, reason: "owned by uid \(uid), not 0")) { _ = try RingWriter(directory: squatted) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: squatted) == [URL(fileURLWithPath: intruders).lastPathComponent])
        #expect(!FileManager.default.fileExists(atPath: directory.appending("logs")))
    }
}
