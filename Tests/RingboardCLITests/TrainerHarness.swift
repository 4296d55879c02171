import Foundation
import RingboardFormat
import RingboardTestSupport
import Testing

/// Real `ringboard demo-trainer` and `ringboard aggregate` processes, and the event streams they
/// leave, for the fault tests.
enum TrainerHarness {
    static let ringboard = productsDirectory + "/ringboard"
    /// Batches per epoch of every `demo-trainer` the tests start.
    static let steps = 40


    /// A `demo-trainer` whose run's `log_dir` is `logs`, that starts no aggregator of its own.
    static func startTrainer(
        rank: Int, procs: Int, policy: String, epochs: Int, rings: String, logs: String, ringCapacity: Int? = nil, output: Pipe? = nil,
        standardError: Pipe? = nil
    ) throws -> Process {
        let trainer = Process()
        trainer.executableURL = URL(fileURLWithPath: ringboard)
        trainer.arguments = ["demo-trainer", "--rank", "\(rank)", "--procs", "\(procs)", "--epochs", "\(epochs)", "--steps", "\(steps)",
                             "--ring-dir", rings, "--logdir", logs, "--policy", policy]
            + (ringCapacity.map { ["--ring-capacity", "\($0)"] } ?? []) + (output != nil ? ["--print-epochs"] : [])
        trainer.environment = trainerEnvironment
        trainer.standardOutput = output ?? FileHandle.nullDevice
        if let standardError { trainer.standardError = standardError }
        try trainer.run()
        return trainer
    }

    /// This process's environment with `RINGBOARD_AGGREGATE=off`: the tests start (or hold back)
    /// the aggregator themselves.
    static var trainerEnvironment: [String: String] {
        ProcessInfo.processInfo.environment.merging(["RINGBOARD_AGGREGATE": "off"]) { $1 }
    }

    static func startAggregator(logs: String, rings: String, exitWhenIdle: Bool) throws -> Process {
        let aggregator = Process()
        aggregator.executableURL = URL(fileURLWithPath: ringboard)
        aggregator.arguments = ["aggregate", "--logdir", logs, "--ring-dir", rings, "--wait"] + (exitWhenIdle ? ["--exit-when-idle", "0"] : [])
        // Its messages go to aggregator.log beside the rings, for a failure's explanation.
        let log = (rings.hasSuffix("/") ? String(rings.dropLast()) : rings) + ".log"
        if !FileManager.default.fileExists(atPath: log) { _ = FileManager.default.createFile(atPath: log, contents: nil) }
        let handle = FileHandle(forWritingAtPath: log)
        handle?.seekToEndOfFile()
        aggregator.standardError = handle ?? FileHandle.nullDevice
        try aggregator.run()
        return aggregator
    }

    /// - Parameter trainersFirst: Run the trainers to their end before the aggregator starts (their
    ///   rings wait for it): for runs so short that one rank could finish, and the aggregator go
    ///   idle and exit, before another rank has begun.
    static func uninterruptedRun(
        _ root: String, policy: String, procs: Int, epochs: Int, ringCapacity: Int? = nil, trainersFirst: Bool = false
    ) throws -> [String: [Event]] {
        let rings = root + "/rings", logs = root + "/logs"
        let early = trainersFirst ? nil : try startAggregator(logs: logs, rings: rings, exitWhenIdle: true)
        let trainers = try (0..<procs).map { rank in
            try startTrainer(rank: rank, procs: procs, policy: policy, epochs: epochs, rings: rings, logs: logs, ringCapacity: ringCapacity)
        }
        for trainer in trainers { trainer.waitUntilExit() }
        let aggregator = try early ?? startAggregator(logs: logs, rings: rings, exitWhenIdle: true)
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
    /// them), without wall times and file-version records, and with profile contents (tagged run
    /// metadata, `graph_run_metadata` values) reduced to their tags (they hold the times the hooks
    /// arrived). Every file must read strictly.
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
                case .summary(var summary):
                    // The profiled batch's RunMetadata (TF 2's `graph_run_metadata` value).
                    for index in summary.values.indices where summary.values[index].metadata?.pluginName == "graph_run_metadata" {
                        summary.values[index].kind = .tensor(.strings([]))
                    }
                    event.what = .summary(summary)
                default: break
                }
                streams[run, default: []].append(event)
            }
            #expect(next == .end(offset: reader.offset), "\(file) must end after a whole record: \(next)")
        }
        return streams
    }
}

extension TrainerHarness {
    /// Events of `expected` missing from `written`, and events of `written` beyond `expected`
    /// (both as multisets: an event written twice counts once as duplicated).
    static func lostAndDuplicated(expected: [Event], written: [Event]) -> (lost: Int, duplicated: Int) {
        var counts: [String: Int] = [:]
        for event in expected { counts[String(describing: event), default: 0] += 1 }
        for event in written { counts[String(describing: event), default: 0] -= 1 }
        return (counts.values.filter { $0 > 0 }.reduce(0, +), counts.values.filter { $0 < 0 }.reduce(0) { $0 - $1 })
    }

    /// Appends one line to the file named by `RINGBOARD_SOAK_REPORT`, when it is set, for
    /// Scripts/soak.sh's table: `family faults sent written lost duplicated`.
    static func report(_ family: String, faults: Int, sent: Int, written: Int, lost: Int, duplicated: Int) {
        guard let path = ProcessInfo.processInfo.environment["RINGBOARD_SOAK_REPORT"] else { return }
        let line = "\(family) \(faults) \(sent) \(written) \(lost) \(duplicated)\n"
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        guard let handle = FileHandle(forWritingAtPath: path) else { return }
        handle.seekToEndOfFile()
        handle.write(Data(line.utf8))
        try? handle.close()
    }

    /// Checks that `logs` holds exactly the event streams of `reference` (run by run, event by
    /// event, naming the first difference), and reports the family's counts for Scripts/soak.sh.
    ///
    /// `reference` must be what `epochs` epochs of `demo-trainer` write (`expectWhole`), so that
    /// two runs that both wrote nothing, or both stopped early, never pass as the same.
    static func expectSameEvents(
        _ logs: String, as reference: [String: [Event]], epochs: Int, family: String, faults: Int,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        try expectWhole(reference, epochs: epochs, sourceLocation: sourceLocation)
        let written = try eventStreams(logs)
        let (lost, duplicated) = lostAndDuplicated(expected: flattened(reference), written: flattened(written))
        report(family, faults: faults, sent: flattened(reference).count, written: flattened(written).count, lost: lost, duplicated: duplicated)
        #expect(written.keys.sorted() == reference.keys.sorted(), sourceLocation: sourceLocation)
        for (run, events) in reference {
            let other = written[run] ?? []
            #expect(other.count == events.count, "\(run): \(other.count) events after \(faults) faults, \(events.count) without",
                    sourceLocation: sourceLocation)
            if let first = zip(events, other).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
                Issue.record("\(run): event \(first) differs: \(other[first]) vs \(events[first]) without faults", sourceLocation: sourceLocation)
            }
        }
    }

    /// Checks that `streams` are what `epochs` epochs of `demo-trainer` write: at least one
    /// `train` run, each with one `epoch_loss` per epoch and at least one event per batch.
    /// Throws when there is no `train` run at all.
    static func expectWhole(_ streams: [String: [Event]], epochs: Int, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let train = streams.keys.filter { $0 == "train" || $0.hasSuffix("/train") }.sorted()
        try #require(!train.isEmpty, "no train run among \(streams.keys.sorted())", sourceLocation: sourceLocation)
        for run in train {
            let events = streams[run]!
            #expect(tagCount(events, "epoch_loss") == epochs, "\(run): \(tagCount(events, "epoch_loss")) epoch_loss events, not \(epochs)",
                    sourceLocation: sourceLocation)
            #expect(events.count >= epochs * steps, "\(run): \(events.count) events for \(epochs) epochs of \(steps) batches",
                    sourceLocation: sourceLocation)
        }
    }

    /// The events among `events` whose summary's first value has `tag`.
    static func tagCount(_ events: [Event], _ tag: String) -> Int {
        events.filter { event in
            if case .summary(let summary) = event.what { return summary.values.first?.tag == tag }
            return false
        }.count
    }

    /// Every stream's events, run after run in name order.
    static func flattened(_ streams: [String: [Event]]) -> [Event] {
        streams.keys.sorted().flatMap { streams[$0]! }
    }
}
