import ArgumentParser

// Placeholder until its owner lands it; never submitted as is.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench")
    func run() throws { throw ValidationError("not built yet") }
}
