import Foundation
import RingboardFormat
import RingboardTestSupport
import Testing

/// The aggregator killed (`kill -9`) at random points while trainers run, and restarted each
/// time: what TensorBoard reads is what an uninterrupted aggregator wrote, event for event, and
/// every file reads strictly (no torn tail is left behind).
@Suite(.serialized) struct AggregatorRestartTests {
    static let ringboard = productsDirectory + "/ringboard"

    /// Kills per test; `RINGBOARD_AGGREGATOR_KILLS` raises it (Scripts/soak.sh does).
    static let kills = ProcessInfo.processInfo.environment["RINGBOARD_AGGREGATOR_KILLS"].flatMap(Int.init) ?? 8

    /// Each policy; the last with 64 KiB rings, so that the trainers spill while the aggregator
    /// is down, and restarts land in the middle of spill segments.
    @Test(arguments: [("chief", 1, nil), ("mean", 2, nil), ("per-rank", 2, 64 << 10)])
    func killedAndRestartedAggregatorWritesTheSameEvents(policy: String, procs: Int, ringCapacity: Int?) throws {
        let directory = TemporaryDirectory("ringboard-restart")
        let epochs = max(150, Self.kills * 20)  // long enough that the kills land while the rings are busy
        let reference = try Self.uninterruptedRun(directory.appending("reference"), policy: policy, procs: procs, epochs: epochs, ringCapacity: ringCapacity)

        let rings = directory.appending("rings"), logs = directory.appending("logs")
        let trainers = try (0..<procs).map { rank in
            try Self.startTrainer(rank: rank, procs: procs, policy: policy, epochs: epochs, rings: rings, ringCapacity: ringCapacity)
        }
        var random = SeededGenerator(seed: UInt64(procs) &* 7919 &+ UInt64(policy.utf8.count))
        var aggregator = try Self.startAggregator(logs: logs, rings: rings, exitWhenIdle: false)
        var killed = 0, killedWhileBusy = 0, sawSpill = false
        while killed < Self.kills {
            usleep(UInt32(30_000 + random.next() % 250_000))
            if Self.ringFiles(rings) > 0 { killedWhileBusy += 1 }
            sawSpill = sawSpill || ((try? FileManager.default.contentsOfDirectory(atPath: rings)) ?? []).contains { $0.contains(".spill.") }
            kill(aggregator.processIdentifier, SIGKILL)
            aggregator.waitUntilExit()
            killed += 1
            if random.next() % 2 == 0 { usleep(UInt32(random.next() % 100_000)) }
            aggregator = try Self.startAggregator(logs: logs, rings: rings, exitWhenIdle: false)
        }
        for trainer in trainers {
            trainer.waitUntilExit()
            #expect(trainer.terminationStatus == 0)
        }
        #expect(killedWhileBusy * 2 >= killed, "only \(killedWhileBusy) of \(killed) kills found records in flight")
        if ringCapacity != nil { #expect(sawSpill, "the small rings never spilled") }
        // Every ring drained and retired, then a graceful stop.
        let deadline = Date().addingTimeInterval(120)
        while Self.ringFiles(rings) > 0 && Date() < deadline { usleep(20_000) }
        #expect(Self.ringFiles(rings) == 0, "rings left undrained")
        aggregator.terminate()
        aggregator.waitUntilExit()
        #expect(aggregator.terminationStatus == 0)
        let messages = (try? String(contentsOfFile: rings + ".log", encoding: .utf8)) ?? ""
        let problems = messages.split(separator: "\n").filter { $0.contains("error") || $0.contains("warning") || $0.contains("ringboard aggregate:") }
        #expect(problems.isEmpty, "the aggregators said: \(problems.prefix(10).joined(separator: "\n"))")

        let interrupted = try Self.eventStreams(logs)
        #expect(interrupted.keys.sorted() == reference.keys.sorted())
        for (run, events) in reference {
            let other = interrupted[run] ?? []
            #expect(other.count == events.count, "\(run): \(other.count) events after \(killed) kills, \(events.count) uninterrupted")
            if let first = zip(events, other).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
                Issue.record("\(run): event \(first) differs: \(other[first]) vs uninterrupted \(events[first])")
            }
        }
        // One profile trace per profiled run, as without kills.
        #expect(Self.profileRuns(logs) == Self.profileRuns(directory.appending("reference/logs")))
    }

    /// A checkpoint made under one log root is not silently applied to another.
    @Test func aCheckpointForAnotherLogRootIsRefused() throws {
        let directory = TemporaryDirectory("ringboard-restart")
        let rings = directory.appending("rings")
        let trainer = try Self.startTrainer(rank: 0, procs: 1, policy: "chief", epochs: 100_000, rings: rings)
        defer {
            kill(trainer.processIdentifier, SIGKILL)
            trainer.waitUntilExit()
        }
        let first = try Self.startAggregator(logs: directory.appending("a"), rings: rings, exitWhenIdle: false)
        let deadline = Date().addingTimeInterval(30)
        while !FileManager.default.fileExists(atPath: rings + "/aggregator.state") && Date() < deadline { usleep(20_000) }
        usleep(200_000)
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        let second = try run(Self.ringboard, ["aggregate", "--logdir", directory.appending("b"), "--ring-dir", rings], timeout: 60)
        #expect(second.status == 2)
        #expect(second.standardError.contains("holds runs in progress under the log root \(directory.appending("a"))"), "\(second.standardError)")
    }

    // MARK: Helpers

    static func startTrainer(rank: Int, procs: Int, policy: String, epochs: Int, rings: String, ringCapacity: Int? = nil) throws -> Process {
        let trainer = Process()
        trainer.executableURL = URL(fileURLWithPath: ringboard)
        trainer.arguments = ["demo-trainer", "--rank", "\(rank)", "--procs", "\(procs)", "--epochs", "\(epochs)", "--steps", "40",
                             "--ring-dir", rings, "--policy", policy] + (ringCapacity.map { ["--ring-capacity", "\($0)"] } ?? [])
        trainer.standardOutput = FileHandle.nullDevice
        try trainer.run()
        return trainer
    }

    static func startAggregator(logs: String, rings: String, exitWhenIdle: Bool) throws -> Process {
        let aggregator = Process()
        aggregator.executableURL = URL(fileURLWithPath: ringboard)
        aggregator.arguments = ["aggregate", "--logdir", logs, "--ring-dir", rings, "--wait"] + (exitWhenIdle ? ["--exit-when-idle"] : [])
        // Its messages go to aggregator.log beside the rings, for a failure's explanation.
        let log = rings + ".log"
        if !FileManager.default.fileExists(atPath: log) { FileManager.default.createFile(atPath: log, contents: nil) }
        let handle = FileHandle(forWritingAtPath: log)
        handle?.seekToEndOfFile()
        aggregator.standardError = handle ?? FileHandle.nullDevice
        try aggregator.run()
        return aggregator
    }

    static func uninterruptedRun(_ root: String, policy: String, procs: Int, epochs: Int, ringCapacity: Int? = nil) throws -> [String: [Event]] {
        let rings = root + "/rings", logs = root + "/logs"
        let aggregator = try startAggregator(logs: logs, rings: rings, exitWhenIdle: true)
        let trainers = try (0..<procs).map { rank in
            try startTrainer(rank: rank, procs: procs, policy: policy, epochs: epochs, rings: rings, ringCapacity: ringCapacity)
        }
        for trainer in trainers { trainer.waitUntilExit() }
        aggregator.waitUntilExit()
        #expect(aggregator.terminationStatus == 0)
        return try eventStreams(logs)
    }

    static func ringFiles(_ rings: String) -> Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: rings)) ?? []).filter { $0.hasSuffix(".ring") }.count
    }

    static func profileRuns(_ logs: String) -> [String] {
        ((try? FileManager.default.subpathsOfDirectory(atPath: logs)) ?? []).filter { $0.hasSuffix(".trace.json.gz") }
            .map { $0.split(separator: "/").dropLast(2).joined(separator: "/") }.sorted()
    }

    /// Each run directory's events, file after file in name order (the order TensorBoard reads
    /// them), without wall times and file-version records, and with profile contents reduced to
    /// their tags (they hold the times the hooks arrived). Every file must read strictly.
    static func eventStreams(_ logs: String) throws -> [String: [Event]] {
        var streams: [String: [Event]] = [:]
        let files = try FileManager.default.subpathsOfDirectory(atPath: logs).filter { $0.contains("tfevents") }.sorted()
        for file in files {
            let run = file.split(separator: "/").dropLast().joined(separator: "/")
            let reader = try EventFileReader(path: logs + "/" + file)
            var next = try reader.nextEvent()
            while case .event(var event, _) = next {
                next = try reader.nextEvent()
                event.wallTime = 0
                switch event.what {
                case .fileVersion: continue
                case .taggedRunMetadata(let metadata): event.what = .taggedRunMetadata(TaggedRunMetadata(tag: metadata.tag, runMetadata: []))
                default: break
                }
                streams[run, default: []].append(event)
            }
            #expect(next == .end(offset: reader.offset), "\(file) must end after a whole record: \(next)")
        }
        return streams
    }
}
