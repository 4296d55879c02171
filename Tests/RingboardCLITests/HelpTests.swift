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

    @Test func versionIsTheLibrarysVersion() throws {
        let result = try run(AggregateTests.ringboard, ["--version"])
        #expect(result.status == 0)
        let header = try String(contentsOfFile: #filePath.replacingOccurrences(
            of: "Tests/RingboardCLITests/HelpTests.swift", with: "Sources/CRingboardABI/include/ringboard_internal.h"), encoding: .utf8)
        #expect(header.contains("#define RINGBOARD_LIBRARY_VERSION \"\(result.standardOutput.trimmingCharacters(in: .newlines))\""),
                "\(result.standardOutput)")
    }
}
