import ArgumentParser

// Placeholder until its owner lands it; never submitted as is.
struct Replay: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "replay")
    func run() throws { throw ValidationError("not built yet") }
}
