import ArgumentParser

// Placeholder until its owner lands it; never submitted as is.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run")
    func run() throws { throw ValidationError("not built yet") }
}
