import ArgumentParser

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
        subcommands: [Aggregate.self, Replay.self, Status.self, Inspect.self, Demo.self, Stress.self, DemoTrainer.self, StressProducer.self, StressConsumer.self]
    )
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
