import ArgumentParser

@main
struct RingboardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ringboard",
        abstract: "Keras TensorBoard callback semantics at hot-loop speed.",
        subcommands: []
    )
}
