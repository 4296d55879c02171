import Foundation
import RingboardFormat
import RingboardRecords
import RingboardRing
import RingboardTestSupport
import Testing

/// Run directories and tags that try to leave the log directory, and links planted in it, against
/// the real aggregator: nothing is ever written outside the log directory, what is refused is
/// logged, and the runs that are fine are written as usual.
@Suite struct LogDirectoryEscapeTests {
    static let ringboard = productsDirectory + "/ringboard"

    /// Everything below `path`, relative to it.
    static func contents(_ path: String) -> [String] {
        ((try? FileManager.default.subpathsOfDirectory(atPath: path)) ?? []).sorted()
    }

    /// The tags of every event file under `path`.
    static func tags(under path: String) throws -> Set<String> {
        var tags: Set<String> = []
        for file in contents(path) where file.contains("tfevents") {
            let reader = try EventFileReader(path: path + "/" + file)
            while case .event(let event, _) = try reader.nextEvent() {
                if case .summary(let summary) = event.what { tags.formUnion(summary.values.map(\.tag)) }
            }
        }
        return tags
    }

    /// A producer that forges its records (as a hostile or broken trainer could: the callback's
    /// own checks are bypassed) announces runs whose directories are not absolute and normalized,
    /// or lie outside the log root, and one that is fine but names its metrics like paths. The
    /// aggregator refuses the first two kinds, each by name, and writes the last under the log
    /// root only, with the metric names as tags.
    @Test func forgedRunDirectoriesAreRefusedAndTagsStayTags() throws {
        let directory = TemporaryDirectory("ringboard-escape")
        let rings = directory.appending("rings"), logs = directory.appending("logs")
        let outside = directory.appending("outside")
        let malformed = ["../escape", "good", "good/../../escape", logs + "/good/../../escape", logs + "//good", "run\u{0}/x", ".."]
        let elsewhere = [outside, "/", directory.path, logs + "-sibling"]
        let escaping = malformed + elsewhere
        var options = RingWriter.Options()
        options.capacity = 1 << 16
        let writer = try RingWriter(directory: rings, options: options)
        func append(_ record: HookRecord) {
            #expect(writer.tryAppend(type: record.type, record.encoded) != .full)
        }
        for (run, path) in escaping.enumerated() {
            append(.runAnnouncement(run: UInt32(run), rank: 0, worldSize: 1, policy: .chief, arguments: TensorBoardArguments(
                logDirectory: path, updateFrequency: .batch)))
            append(.metricName(run: UInt32(run), metric: 0, name: "loss"))
            append(.batch(run: UInt32(run), phase: .train, isEnd: true, batch: 0, logs: [MetricValue(metric: 0, value: 0.5)], wallTime: 1_800_000_000_000_000_000))
        }
        let good = UInt32(escaping.count)
        append(.runAnnouncement(run: good, rank: 0, worldSize: 1, policy: .chief, arguments: TensorBoardArguments(
            logDirectory: logs + "/good", updateFrequency: .batch)))
        let names = ["../../escape", "/absolute", "..", "nul\u{0}name"]
        for (metric, name) in names.enumerated() { append(.metricName(run: good, metric: UInt32(metric), name: name)) }
        append(.hook(run: good, kind: .trainBegin, index: 0, logs: [], wallTime: 1_800_000_000_000_000_000))
        append(.batch(run: good, phase: .train, isEnd: true, batch: 0,
                      logs: names.indices.map { MetricValue(metric: UInt32($0), value: Double($0)) }, wallTime: 1_800_000_000_000_000_000))
        append(.hook(run: good, kind: .trainEnd, index: 0, logs: [], wallTime: 1_800_000_000_000_000_000))
        writer.close()

        let result = try run(Self.ringboard, ["aggregate", "--logdir", logs, "--ring-dir", rings, "--exit-when-idle", "0"], timeout: 120)
        #expect(result.status == 0, "\(result.standardError)")
        let log = result.standardOutput + result.standardError
        for path in malformed {
            #expect(log.contains("run directory \"\(path)\" is refused"), "\(path): \(log)")
        }
        for path in elsewhere {
            #expect(log.contains("run=\(path) [RingboardAggregator] run refused: its directory is outside the log root"), "\(path): \(log)")
        }
        #expect(log.contains("name: empty or with control characters"), "\(log)")
        // Only the good run, and nothing beside the log directory but the rings and the logs.
        #expect(Self.contents(logs).allSatisfy { $0 == "good" || $0.hasPrefix("good/") }, "\(Self.contents(logs))")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() == ["logs", "rings"])
        #expect(try Self.tags(under: logs + "/good") == ["batch_../../escape", "batch_/absolute", "batch_.."])
    }

    /// A trace replayed through the real callback and aggregator: profile batch 1, histograms and
    /// embeddings every epoch, so it writes event files, a profile trace and projector files.
    static func trace(logDir: String) -> String {
        """
        {"tensorboard": {"log_dir": "\(logDir)", "update_freq": "batch", "histogram_freq": 1, "profile_batch": 1, "embeddings_freq": 1}}
        {"hook": "set_params", "params": {"epochs": 1, "steps": 2, "do_validation": true}}
        {"hook": "set_model", "model": {"name": "m", "layers": [{"name": "embedding", "class_name": "Embedding", "weights": [{"name": "embedding/embeddings:0", "shape": [2, 2], "values": [1, 2, 3, 4]}]}]}}
        {"hook": "on_train_begin"}
        {"hook": "on_train_batch_end", "batch": 0, "logs": {"loss": 0.5}}
        {"hook": "on_train_batch_end", "batch": 1, "logs": {"loss": 0.4}}
        {"hook": "on_epoch_end", "epoch": 0, "logs": {"loss": 0.45, "val_loss": 0.5}}
        {"hook": "on_train_end"}
        """
    }

    /// Links planted in the log directory, leading outside: at the run directory itself, and at
    /// its `train` directory. The aggregator writes nothing through either (no event file, no
    /// profile trace, no projector file) and says why; the run next to them is written.
    @Test func plantedLinksAreNeverWrittenThrough() throws {
        let directory = TemporaryDirectory("ringboard-links")
        let logs = directory.appending("logs"), outside = directory.appending("outside")
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: logs + "/deep", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: logs + "/run", withDestinationPath: outside)
        try FileManager.default.createSymbolicLink(atPath: logs + "/deep/train", withDestinationPath: outside)
        for (name, link) in [("run", logs + "/run"), ("deep", logs + "/deep/train"), ("fine", nil)] {
            let trace = directory.appending("\(name).jsonl")
            try Self.trace(logDir: logs + "/" + name).write(toFile: trace, atomically: false, encoding: .utf8)
            let result = try run(Self.ringboard, ["replay", trace, "--ring-dir", directory.appending("rings"), "--logdir", logs], timeout: 120)
            #expect(result.status == 0, "\(result.standardError)")
            if let link {
                #expect(result.standardError.contains("\(link): open failed: Too many levels of symbolic links"), "\(result.standardError)")
            }
            #expect(Self.contents(outside).isEmpty, "\(name): \(Self.contents(outside))")
        }
        let fine = Self.contents(logs + "/fine")
        #expect(fine.contains { $0.hasPrefix("train/events.out.tfevents.") }, "\(fine)")
        #expect(fine.contains { $0.hasPrefix("validation/events.out.tfevents.") }, "\(fine)")
        #expect(fine.contains { $0.hasPrefix("train/plugins/profile/") && $0.hasSuffix(".trace.json.gz") }, "\(fine)")
        #expect(fine.contains("projector_config.pbtxt"), "\(fine)")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: logs + "/run") == outside)

        // Without a log root, the run directory is the user's to name (a link in its path is
        // theirs), but a link planted inside it is still never followed.
        let free = directory.appending("free")
        try FileManager.default.createDirectory(atPath: free, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: free + "/train", withDestinationPath: outside)
        try FileManager.default.createSymbolicLink(atPath: directory.appending("named"), withDestinationPath: directory.appending("real"))
        try FileManager.default.createDirectory(atPath: directory.appending("real"), withIntermediateDirectories: true)
        for (name, runDirectory) in [("free", free), ("named", directory.appending("named/run"))] {
            let trace = directory.appending("\(name).jsonl")
            try Self.trace(logDir: runDirectory).write(toFile: trace, atomically: false, encoding: .utf8)
            let result = try run(Self.ringboard, ["replay", trace, "--ring-dir", directory.appending("rings")], timeout: 120)
            #expect(result.status == 0, "\(result.standardError)")
            if name == "free" {
                #expect(result.standardError.contains("\(free)/train: open failed: Too many levels of symbolic links"), "\(result.standardError)")
            }
        }
        #expect(Self.contents(outside).isEmpty, "\(Self.contents(outside))")
        let named = Self.contents(directory.appending("real/run"))
        #expect(named.contains { $0.hasPrefix("train/events.out.tfevents.") }, "\(named)")
    }

    /// Event files and the directories made for them follow the umask of the aggregator (the
    /// process that creates them): 0644 and 0755 under umask 022, 0640 and 0750 under 027.
    @Test(arguments: [(umask: "022", file: 0o644, directory: 0o755), (umask: "027", file: 0o640, directory: 0o750)])
    func modesFollowTheUmask(umask: String, file: Int, directory mode: Int) throws {
        let directory = TemporaryDirectory("ringboard-umask")
        let logs = directory.appending("logs"), trace = directory.appending("trace.jsonl")
        try Self.trace(logDir: logs + "/run").write(toFile: trace, atomically: false, encoding: .utf8)
        let result = try run("/bin/sh", ["-c", "umask \(umask) && exec \"$0\" \"$@\"", Self.ringboard,
                                         "replay", trace, "--ring-dir", directory.appending("rings"), "--logdir", logs], timeout: 120)
        #expect(result.status == 0, "\(result.standardError)")
        let files = Self.contents(logs + "/run").filter { $0.contains("tfevents") }
        #expect(files.count == 2, "\(files)")
        for name in files {
            let attributes = try FileManager.default.attributesOfItem(atPath: logs + "/run/" + name)
            #expect(attributes[.posixPermissions] as? Int == file, "\(name)")
            #expect(attributes[.type] as? FileAttributeType == .typeRegular)
        }
        for name in ["run", "run/train", "run/validation"] {
            #expect(try FileManager.default.attributesOfItem(atPath: logs + "/" + name)[.posixPermissions] as? Int == mode, "\(name)")
        }
    }
}
