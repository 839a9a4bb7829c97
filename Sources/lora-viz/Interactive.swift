import ArgumentParser
import Foundation
import LoRAScenario
import LoRAVizUI

/// `lora-viz [FILE]`: the interactive TUI on the default batch or a command file's batch.
struct Interactive: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "interactive",
        abstract: "Open the interactive view (the default): two strategies' grids side by side, live kernels.",
        discussion: """
            Opens on a default decode batch (26 sequences on 3 adapters plus the base model), or on the batch a \
            command file builds. Press ? inside for every key; every key is a command of the scenario language, \
            and : takes any command. Needs a terminal; for reports use `lora-viz run`.
            """)

    @Argument(help: "A command file (.lora) whose batch to open on.")
    var file: String?

    @OptionGroup var terminal: TerminalFlags

    @Option(name: .customLong("gpu-results"), help: ArgumentHelp(
        "A results file of `lora-viz gpu-bench`'s script (repeatable): while the batch is the one it measured, each pane shows the measured GPU µs after the estimate.",
        valueName: "json"))
    var gpuResults: [String] = []

    func run() throws {
        // Bad input is reported first, terminal or not.
        var session: Session
        if let file {
            session = try Self.load(file)
        } else {
            session = try AppState.defaultSession()
        }
        session.gpuResults = try HeadlessCLI.loadGPUResults(gpuResults)
        if !session.gpuResults.isEmpty, session.measuredOnGPU == nil {
            // Not an error: the batch can still be edited into the measured one. Say so before the screen opens.
            FileHandle.standardError.write(Data("note: --gpu-results: none of the files measured this batch; they show once the batch is theirs\n".utf8))
        }
        try terminal.validateRecord()
        try NcursesTerminal.requireTTYOrExplain()
        var state = AppState(session: session)
        state.demos = ShippedDemos.find()
        if file == nil, !state.demos.isEmpty {
            // The first screen tells a newcomer the demos exist.
            state.status = StatusMessage(text: "new here? D lists the \(state.demos.count) narrated demos · ? lists every key", isError: false)
        }
        if let record = terminal.record { state.startRecording(path: record, force: terminal.force) }
        var app = TerminalApp(state: state, options: terminal.options(inputFile: file))
        let ending = try app.run()
        for message in app.exitMessages { FileHandle.standardError.write(Data((message + "\n").utf8)) }
        if case .signal(let sig) = ending { throw ExitCode(128 + sig) }
        if !app.exitMessages.isEmpty { throw ExitCode(1) }
    }

    /// A command file's batch: every step applied, effects (run, pause, expect…) left to `replay`.
    static func load(_ path: String) throws -> Session {
        do {
            return try Session(replaying: Scenario.load(path: path))
        } catch let error as ScenarioError {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(2)
        }
    }
}

/// `--palette standard|colorblind`.
extension Palette: ExpressibleByArgument {}

extension NcursesTerminal {
    /// Like `requireTTY`, printing the explanation and exiting with status 2.
    static func requireTTYOrExplain() throws {
        do {
            try requireTTY()
        } catch let error as TerminalUnavailable {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(2)
        }
    }
}

/// The demos shipped with lora-viz (`scenarios/*.lora`), for the TUI's `D`.
enum ShippedDemos {
    /// `scenarios/` of the working directory, else of the checkout the binary
    /// was built in (`.build/<config>/lora-viz` → `../../scenarios`); files that
    /// do not parse are left out.
    static func find() -> [Demo] {
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let candidates = [URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("scenarios"),
                          exe.deletingLastPathComponent().appendingPathComponent("../../../scenarios").standardized,
                          exe.deletingLastPathComponent().appendingPathComponent("../../scenarios").standardized]
        for dir in candidates {
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir.path) else { continue }
            let demos = names.filter { $0.hasSuffix(".lora") }.sorted().compactMap { name -> Demo? in
                let path = dir.appendingPathComponent(name).path
                return (try? Scenario.load(path: path)).map { Demo(path: path, scenario: $0) }
            }
            if !demos.isEmpty { return demos }
        }
        return []
    }
}
