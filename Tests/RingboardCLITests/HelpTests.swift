import Foundation
import RingboardTestSupport
import Testing

/// `ringboard --help` and every subcommand's help carry examples, and an example uses only options
/// the subcommand's usage line names.
@Suite struct HelpTests {
    @Test(arguments: ["", "aggregate", "replay", "status", "inspect", "demo", "stress"])
    func helpCarriesExamplesOfOptionsThatExist(subcommand: String) throws {
        let help = try run(AggregateTests.ringboard, (subcommand.isEmpty ? [] : [subcommand]) + ["--help"])
        #expect(help.status == 0)
        let text = help.standardOutput
        let examples = try #require(text.components(separatedBy: "Examples:\n").dropFirst().first, "no examples in:\n\(text)")
        let lines = examples.split(separator: "\n", omittingEmptySubsequences: false).prefix { !$0.isEmpty }
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { $0.hasPrefix("ringboard ") }
        #expect(!lines.isEmpty, "no `ringboard` example in:\n\(examples)")
        for line in lines {
            let words = line.split(separator: "#")[0].split(separator: " ").map(String.init)
            if !subcommand.isEmpty { #expect(words[1] == subcommand, "\(line)") }
            let usage = subcommand.isEmpty ? try run(AggregateTests.ringboard, [words[1], "--help"]).standardOutput : text
            for option in words where option.hasPrefix("--") {
                #expect(usage.contains("[\(option)") || usage.contains(" \(option) "), "\(line): \(option) is not an option of ringboard \(words[1])")
            }
        }
    }

    /// A mistake on the command line is one line naming the command and where its options are
    /// listed, with the parser's exit status (64), never its usage block.
    @Test(arguments: [
        (["demo", "--bogus"], "ringboard demo: Unknown option '--bogus' (see `ringboard demo --help`)"),
        (["replay", "trace.jsonl", "--procs", "0"], "ringboard replay: --procs must be between 1 and 64 (see `ringboard replay --help`)"),
        (["inspect"], "ringboard inspect: Missing expected argument '<logdir>' (see `ringboard inspect --help`)"),
        (["bogus"], "ringboard: Unexpected argument 'bogus' (see `ringboard --help`)"),
    ])
    func commandLineMistakesAreOneLine(arguments: [String], expected: String) throws {
        let result = try run(AggregateTests.ringboard, arguments)
        #expect(result.status == 64)
        #expect(result.standardError == expected + "\n")
        #expect(result.standardOutput.isEmpty)
    }

    /// What a command finds wrong while running is one line too, saying what to do.
    @Test func errorsFoundWhileRunningAreOneLine() throws {
        let directory = TemporaryDirectory("ringboard-errors")
        let missing = directory.appending("missing.jsonl")
        let replay = try run(AggregateTests.ringboard, ["replay", missing, "--ring-dir", directory.appending("rings")])
        #expect(replay.status == 2)
        #expect(replay.standardError == "ringboard replay: cannot read \(missing): no such file (give a JSON-lines hook trace, docs/DESIGN.md §5)\n")
        // A log root that cannot be made: refused before serving, and before --detach.
        let file = directory.appending("file")
        try Data().write(to: URL(fileURLWithPath: file))
        for detach in [false, true] {
            let aggregate = try run(AggregateTests.ringboard, ["aggregate", "--logdir", file + "/logs/run", "--ring-dir", directory.appending("rings")]
                                    + (detach ? ["--detach"] : []))
            #expect(aggregate.status == 2)
            #expect(aggregate.standardError == "ringboard aggregate: cannot make the log root \(file)/logs/run: \(file) is not a directory; "
                    + "pass a --logdir this user can write\n")
        }
        #expect(!FileManager.default.fileExists(atPath: directory.appending("rings")), "nothing served")
        // One this user may make is not made before a run writes into it.
        let fine = directory.appending("new/logs")
        let served = try run(AggregateTests.ringboard, ["aggregate", "--logdir", fine, "--ring-dir", directory.appending("rings"),
                                                         "--exit-when-idle", "1"])
        #expect(served.status == 0, "\(served.standardError)")
        #expect(!FileManager.default.fileExists(atPath: directory.appending("new")))
    }

    @Test func versionIsTheLibrarysVersion() throws {
        let result = try run(AggregateTests.ringboard, ["--version"])
        #expect(result.status == 0)
        let header = try String(contentsOfFile: #filePath.replacingOccurrences(
            of: "Tests/RingboardCLITests/HelpTests.swift", with: "Sources/CRingboardABI/include/ringboard_internal.h"), encoding: .utf8)
        #expect(header.contains("#define RINGBOARD_LIBRARY_VERSION \"\(result.standardOutput.trimmingCharacters(in: .newlines))\""),
                "\(result.standardOutput)")
    }
}
