import ArgumentParser
import Foundation
import LoRAScenario
import LoRAVizUI

/// `lora-viz replay FILE` in a terminal: the scenario plays in the TUI with
/// its narration; space pauses/resumes, `n` steps, `+`/`-` change the speed,
/// `q` quits; the step counter and the current line of the file are shown.
enum TerminalReplay {
    /// Plays `scenario` in the terminal from an empty session.
    ///
    /// - Throws: `ExitCode(1)` when an `expect` failed, `ExitCode(128+n)` after signal n,
    ///   `ExitCode(2)` without a terminal.
    static func play(scenario: Scenario, options: TerminalOptions) throws {
        try NcursesTerminal.requireTTYOrExplain()
        var state = AppState(session: Session())
        state.startReplay(scenario, speed: options.speed)
        if let record = options.record { state.startRecording(path: record, force: options.force) }
        var app = TerminalApp(state: state, options: options)
        let ending = try app.run()
        for message in app.exitMessages { FileHandle.standardError.write(Data((message + "\n").utf8)) }
        let failures = app.state.replay?.failures ?? []
        for failure in failures { FileHandle.standardError.write(Data((failure + "\n").utf8)) }
        if case .signal(let sig) = ending { throw ExitCode(128 + sig) }
        if !failures.isEmpty || !app.exitMessages.isEmpty { throw ExitCode(1) }
    }
}
