import ArgumentParser

// Placeholder until its owner lands it; never submitted as is.
struct Interactive: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "interactive")
    func run() throws { throw ValidationError("not built yet") }
}
