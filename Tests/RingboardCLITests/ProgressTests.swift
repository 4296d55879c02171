import Foundation
import RingboardTestSupport
import Testing

/// Long commands draw one progress line on a terminal, redrawn in place and erased at the end, and
/// stay silent when standard error is not one (a pipe, a CI log). The terminal is a real one:
/// `script` runs the command on a pseudo-terminal.
@Suite struct ProgressTests {
    /// `script -qec COMMAND /dev/null`: COMMAND on a pseudo-terminal; its output, which the
    /// terminal merges, comes back as standard output.
    static func onATerminal(_ arguments: [String]) throws -> ProcessOutput {
        let command = ([AggregateTests.ringboard] + arguments).map { "'\($0)'" }.joined(separator: " ")
        return try run("/usr/bin/script", ["-qec", command, "/dev/null"])
    }

    /// A trace of `batches` batch-end hooks into `logDir`.
    static func longTrace(at path: String, logDir: String, batches: Int) throws {
        var lines = [#"{"tensorboard": {"log_dir": "\#(logDir)", "update_freq": "batch"}}"#,
                     #"{"hook": "on_train_begin"}"#, #"{"hook": "on_epoch_begin", "epoch": 0}"#]
        for batch in 0..<batches {
            lines.append(#"{"hook": "on_train_batch_end", "batch": \#(batch), "logs": {"size": 32, "loss": 0.5}}"#)
        }
        lines += [#"{"hook": "on_epoch_end", "epoch": 0, "logs": {"loss": 0.5}}"#, #"{"hook": "on_train_end"}"#]
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: false, encoding: .utf8)
    }

    @Test func replayOfALongTraceShowsItsProgressOnATerminalOnly() throws {
        let directory = TemporaryDirectory("ringboard-progress")
        let trace = directory.appending("trace.jsonl")
        try Self.longTrace(at: trace, logDir: directory.appending("logs"), batches: 20_000)

        let terminal = try Self.onATerminal(["replay", trace, "--ring-dir", directory.appending("rings-1")])
        #expect(terminal.status == 0, "\(terminal.standardOutput)")
        let drawn = terminal.standardOutput
        // 20 004 hooks: the train begin and end, the epoch's begin and end, and the batches.
        #expect(drawn.hasPrefix("\r\u{1B}[Kreplay: 4095 of 20004 hooks sent"), "\(drawn.debugDescription)")
        #expect(drawn.contains("\r\u{1B}[Kreplay: 20004 hooks sent; waiting for the aggregator to write them\r\u{1B}[K"),
                "\(drawn.debugDescription)")
        #expect(drawn.hasSuffix("\r\u{1B}[K"), "the line is erased at the end: \(drawn.debugDescription)")

        let piped = try run(AggregateTests.ringboard, ["replay", trace, "--ring-dir", directory.appending("rings-2")])
        #expect(piped.status == 0)
        #expect(piped.standardError.isEmpty, "\(piped.standardError)")
        #expect(piped.standardOutput.isEmpty, "\(piped.standardOutput)")
    }

    @Test func stressShowsItsProgressOnATerminalOnly() throws {
        let directory = TemporaryDirectory("ringboard-progress")
        let arguments = ["stress", "--producers", "1", "--threads", "1", "--records", "20000", "--capacity", "65536"]
        let terminal = try Self.onATerminal(arguments + ["--ring-dir", directory.appending("rings-1")])
        #expect(terminal.status == 0, "\(terminal.standardOutput)")
        // Drawn, then erased before the report.
        #expect(terminal.standardOutput.contains(" of 20000 records received\r\u{1B}[K"), "\(terminal.standardOutput.debugDescription)")
        #expect(terminal.standardOutput.hasSuffix("1 passed, 0 failed\r\n"), "\(terminal.standardOutput.debugDescription)")

        let piped = try run(AggregateTests.ringboard, arguments + ["--ring-dir", directory.appending("rings-2")])
        #expect(piped.status == 0)
        #expect(!piped.standardError.contains("records received"), "\(piped.standardError)")
        #expect(!piped.standardOutput.contains("\r"), "\(piped.standardOutput.debugDescription)")
    }
}
