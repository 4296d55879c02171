import ArgumentParser
import Glibc

/// `ringboard`: the command-line face of Ringboard.
@main
struct RingboardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ringboard",
        abstract: "Keras TensorBoard callback semantics at hot-loop speed.",
        discussion: """
            Trainers log through the Ringboard library (Swift, C, or the Python package's \
            ringboard.keras.TensorBoard and ringboard.SummaryWriter); this command serves their \
            rings and looks at what they wrote.

            Examples:
              ringboard demo                     # trainers, then logs/ringboard-demo
              ringboard aggregate --logdir logs  # serve this user's rings into logs/
              ringboard status                   # the live rings: producers, lag
              ringboard inspect logs/ringboard-demo
            """,
        version: "0.1.0",  // RINGBOARD_LIBRARY_VERSION (ringboard_internal.h)
        subcommands: [Aggregate.self, Replay.self, Status.self, Inspect.self, Demo.self, Stress.self, DemoTrainer.self, StressProducer.self, StressConsumer.self]
    )

    /// Parses and runs the command. A mistake on the command line is one line on standard error,
    /// naming the subcommand and where its options are listed, rather than the parser's usage
    /// block; help, and the exit codes commands throw after reporting their own errors, pass
    /// through as they are.
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
        } catch {
            if error is ExitCode || exitCode(for: error) == .success { exit(withError: error) }
            let subcommand = configuration.subcommands.lazy
                .compactMap { $0.configuration.commandName ?? $0._commandName }
                .first { $0 == arguments.first }
            let name = ["ringboard", subcommand].compactMap { $0 }.joined(separator: " ")
            var standardError = StandardError()
            print("\(name): \(message(for: error)) (see `\(name) --help`)", to: &standardError)
            Glibc.exit(exitCode(for: error).rawValue)
        }
    }
}

/// Prints `message` to standard error as one line prefixed with the command name.
func printError(_ command: String, _ message: String) {
    var standardError = StandardError()
    print("ringboard \(command): \(message)", to: &standardError)
}

struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        var string = string
        string.withUTF8 { bytes in
            var remaining = UnsafeRawBufferPointer(bytes)
            while !remaining.isEmpty {
                let written = writeToStandardError(remaining)
                if written <= 0 { return }
                remaining = UnsafeRawBufferPointer(rebasing: remaining[written...])
            }
        }
    }
}
