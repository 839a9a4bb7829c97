import ArgumentParser
import Foundation
import LoRAScenario
import LoRAVizUI

/// `lora-viz replay FILE`: play a scenario in the TUI, or headless.
struct Replay: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Play a scenario: in the TUI, or headless with --headless.",
        discussion: """
            In the TUI: narration is shown, space pauses and resumes, n steps, + and -
            change the speed, q quits; the step counter and the current line are visible.
            --record FILE records the session (the replay's commands and your own) as the
            interactive command does.

            Headless (--headless): runs with a virtual clock (sleeps take no time,
            pauses do not wait), prints each narration and each `run` report, writes
            `output` screens at --size, and evaluates every `expect`. With --format json
            standard output holds only the reports, one JSON object per `run`;
            narration and expect results go to standard error.

            Exit status: 0 when every expect held, 1 when an expect failed, 2 on bad input.
            """)

    @Argument(help: ArgumentHelp("The scenario file (.lora); - reads standard input (headless only).", valueName: "file"))
    var file: String

    @Flag(help: "Run without a terminal, on a virtual clock.")
    var headless = false

    @Option(help: ArgumentHelp("Screen size for `output` files, as <columns>x<rows> (default 120x40).", valueName: "size"),
            transform: { try ScreenSize.parse($0) })
    var size: ScreenSize = ScreenSize(columns: 120, rows: 40)

    @Option(help: "Report format (headless): text or json.")
    var format: HeadlessReplay.Format = .text

    @Option(parsing: .unconditional, help: "Worker threads for the kernels (default: every core).")
    var threads: Int?

    @Option(help: ArgumentHelp("Playback speed, \(Self.speedRange).", valueName: "factor"))
    var speed: Double = 1

    @OptionGroup var terminal: TerminalFlags

    static let speedRange = "\(ScenarioPlayer.speeds.lowerBound)–\(Int(ScenarioPlayer.speeds.upperBound))"

    mutating func validate() throws {
        if file == "-", !headless {
            throw ValidationError("reading the scenario from standard input needs --headless: the TUI reads keys there")
        }
        if headless, terminal.record != nil {
            throw ValidationError("--record records the TUI session; a headless replay records with the `record FILE` command")
        }
        try terminal.validateRecord()
        threads = try Threads.checked(threads)
        guard ScenarioPlayer.speeds.contains(speed) else {
            throw ValidationError("--speed must be within \(Self.speedRange), got \(speed)")
        }
    }

    func run() throws {
        guard headless else {
            // Bad input is reported before the terminal switches to the TUI.
            let scenario = try HeadlessCLI.loadScenario(file)
            var options = terminal.options(inputFile: file)
            options.speed = speed
            try TerminalReplay.play(scenario: scenario, options: options)
            return
        }
        try HeadlessCLI.play(file: file, format: format, threads: threads, dump: nil, narration: true,
                             width: size.columns, height: size.rows, speed: speed)
    }
}

/// `120x40`: the terminal size headless screens are drawn at.
struct ScreenSize: Hashable, Sendable {
    var columns: Int
    var rows: Int

    static let limits = 20...1000

    static func parse(_ argument: String) throws -> ScreenSize {
        let parts = argument.lowercased().split(separator: "x", omittingEmptySubsequences: false)
        guard parts.count == 2, let c = Int(parts[0]), let r = Int(parts[1]) else {
            throw ValidationError("--size takes <columns>x<rows>, like 120x40; got '\(argument)'")
        }
        guard limits.contains(c), limits.contains(r) else {
            throw ValidationError("--size \(argument): columns and rows must each be within \(limits.lowerBound)…\(limits.upperBound)")
        }
        return ScreenSize(columns: c, rows: r)
    }
}
