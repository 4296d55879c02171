import Foundation
import RingboardFormat
import RingboardTestSupport
import Testing

/// `ringboard inspect`, run as a real process.
@Suite struct InspectTests {
    static let ringboard = productsDirectory + "/ringboard"

    static func inspect(_ arguments: [String]) throws -> ProcessOutput {
        try run(ringboard, ["inspect"] + arguments, timeout: 120)
    }

    /// `{run: {tag: [kind, count, first_step, last_step]}}` from `inspect --json`.
    static func tagsByRun(_ json: String) throws -> [String: [String: [String]]] {
        let report = try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
        var result: [String: [String: [String]]] = [:]
        for run in report["runs"] as! [[String: Any]] {
            var tags: [String: [String]] = [:]
            for tag in run["tags"] as! [[String: Any]] {
                tags[tag["tag"] as! String] = ["\(tag["kind"]!)", "\(tag["count"]!)", "\(tag["first_step"]!)", "\(tag["last_step"]!)"]
            }
            result[run["name"] as! String] = tags
        }
        return result
    }

    /// The same shape from an `expect.json` written by `write_peer_logs.py`.
    static func expectedTags(_ path: String) throws -> [String: [String: [String]]] {
        let expect = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
        var result: [String: [String: [String]]] = [:]
        for (run, body) in expect["runs"] as! [String: [String: Any]] {
            var tags: [String: [String]] = [:]
            for (tag, info) in body["tags"] as! [String: [String: Any]] {
                tags[tag] = ["\(info["kind"]!)", "\(info["count"]!)", "\(info["first_step"]!)", "\(info["last_step"]!)"]
            }
            result[run] = tags
        }
        return result
    }

    @Test func reportsOurOwnFiles() throws {
        let directory = TemporaryDirectory()
        let logdir = directory.appending("logs")
        let demo = try run(Self.ringboard, ["demo", "--logdir", logdir, "--procs", "1", "--epochs", "3", "--steps", "4"])
        #expect(demo.status == 0, "\(demo.standardError)")
        let result = try Self.inspect([logdir, "--json"])
        #expect(result.status == 0, "\(result.standardError)")
        let tags = try Self.tagsByRun(result.standardOutput)
        // update_freq "batch": batch scalars at steps 0…11, epoch scalars at the samples seen.
        #expect(tags["train"]?["batch_loss"] == ["scalar", "12", "0", "11"])
        #expect(tags["train"]?["epoch_loss"] == ["scalar", "3", "128", "384"])
        #expect(tags["train"]?["dense/kernel_0"] == ["histogram", "3", "0", "2"])
        #expect(tags["train"]?["embedding/embeddings_0/image/0"] == ["image", "3", "0", "2"])
        #expect(tags["train"]?["keras"] == ["graph", "1", "0", "0"])
        #expect(tags["train"]?["__graph__"] == ["graph", "1", "0", "0"])
        #expect(tags["train"]?["batch_2"] == ["run_metadata", "1", "2", "2"])
        #expect(tags["validation"] == ["epoch_loss": ["scalar", "3", "128", "384"], "epoch_accuracy": ["scalar", "3", "128", "384"]])
        let text = try Self.inspect([logdir])
        #expect(text.status == 0)
        #expect(text.standardOutput.contains("2 runs, 2 event files"))
    }

    /// Files written by tensorboardX and by TensorBoard's own writer (TF 2 style tensors).
    @Test func readsOtherWritersFiles() throws {
        try #require(FileManager.default.isExecutableFile(atPath: venvPython), "run Scripts/setup.sh to create .venv")
        let directory = TemporaryDirectory()
        let logdir = directory.appending("peers")
        let expect = directory.appending("expect.json")
        let written = try run(venvPython, [packageRoot + "/Tests/Conformance/write_peer_logs.py", "--out", logdir, "--expect", expect])
        #expect(written.status == 0, "\(written.standardError)")
        let result = try Self.inspect([logdir, "--json"])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(try Self.tagsByRun(result.standardOutput) == Self.expectedTags(expect))
    }

    /// Files written by TensorFlow 2.21 itself (`tf.summary` and TF 1 graph-mode summaries).
    @Test func readsTensorFlowsFiles() throws {
        let fixture = packageRoot + "/Tests/RingboardFormatTests/Fixtures/tensorflow"
        let result = try Self.inspect([fixture, "--json"])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(try Self.tagsByRun(result.standardOutput) == Self.expectedTags(fixture + "/expect.json"))
    }

    @Test func corruptAndTruncatedFilesGetTheirVerdicts() throws {
        let directory = TemporaryDirectory()
        let writer = try EventFileWriter(directory: directory.appending("logs/train"))
        for step in 0..<10 { try writer.appendScalar(tag: "loss", value: 1, step: Int64(step), wallTime: 5) }
        try writer.close()
        let original = try Data(contentsOf: URL(fileURLWithPath: writer.path))

        let reader = try EventFileReader(path: writer.path)
        var lastRecord: Int64 = 0
        while case .record(let offset, _) = try reader.next() { lastRecord = offset }

        var truncated = original
        truncated.removeLast(3)
        try truncated.write(to: URL(fileURLWithPath: writer.path))
        let cut = try Self.inspect([directory.appending("logs")])
        #expect(cut.status == 0)
        #expect(cut.standardOutput.contains("truncated at \(lastRecord)"), "\(cut.standardOutput)")

        var corrupt = original
        corrupt[Int(lastRecord) + 20] ^= 0x01
        try corrupt.write(to: URL(fileURLWithPath: writer.path))
        let damaged = try Self.inspect([directory.appending("logs")])
        #expect(damaged.status == 1)
        #expect(damaged.standardOutput.contains("corrupt at \(lastRecord) (bad data CRC)"), "\(damaged.standardOutput)")
        let json = try Self.inspect([directory.appending("logs"), "--json"])
        #expect(json.status == 1)
        #expect(json.standardOutput.contains("\"verdict\" : \"corrupt\""))
        #expect(json.standardOutput.contains("\"verdict_offset\" : \(lastRecord)"))
    }

    @Test func badPathsGetOneClearLine() throws {
        let directory = TemporaryDirectory()
        let missing = try Self.inspect([directory.appending("nowhere")])
        #expect(missing.status == 2)
        #expect(missing.standardError == "ringboard inspect: no such file or directory: \(directory.appending("nowhere"))\n")

        let empty = try Self.inspect([directory.path])
        #expect(empty.status == 2)
        #expect(empty.standardError.hasPrefix("ringboard inspect: no event files"))
        #expect(empty.standardError.split(separator: "\n").count == 1)

        let text = directory.appending("notes.txt")
        try "not an event file, just some text\n".write(toFile: text, atomically: false, encoding: .utf8)
        let notEvents = try Self.inspect([text])
        #expect(notEvents.status == 1)
        #expect(notEvents.standardError == "ringboard inspect: \(text): not an event file (bad length CRC at byte 0)\n")
        #expect(notEvents.standardOutput.isEmpty)

        // A FIFO whose name looks like an event file: reported as unreadable, never read.
        try FileManager.default.createDirectory(atPath: directory.appending("run"), withIntermediateDirectories: true)
        #expect(mkfifo(directory.appending("run/events.out.tfevents.1.h.1.0.v2"), 0o600) == 0)
        let fifo = try Self.inspect([directory.path])
        #expect(fifo.status == 1)
        #expect(fifo.standardOutput.contains("unreadable (\(directory.appending("run/events.out.tfevents.1.h.1.0.v2")): not an event file: not a regular file)"), "\(fifo.standardOutput)")
    }
}
