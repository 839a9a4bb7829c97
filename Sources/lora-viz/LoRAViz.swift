import ArgumentParser
import Foundation

/// The `lora-viz` command: the TUI by default, plus headless subcommands.
@main
struct LoRAViz: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lora-viz",
        abstract: "See and measure how multi-LoRA kernels launch: per-sequence vs per-adapter grids.",
        discussion: """
            Exit status: 0 success, 1 a failed `expect`, 2 bad input (a bad flag, \
            a missing or malformed scenario file; the error names file:line:col).
            """,
        version: LoRAViz.version,
        subcommands: [Interactive.self, Run.self, Replay.self, Bench.self, SweepCommand.self, GPUCheck.self, GPUFit.self, GPUBench.self, Calibrate.self],
        defaultSubcommand: Interactive.self)

    /// What `--version` prints (the project has no releases yet: bump by hand when it does).
    static let version = "lora-viz 0.1.0"

    /// Parses and runs, mapping argument-parser's usage errors (EX_USAGE, 64)
    /// to 2, the status every other kind of bad input exits with.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            guard exitCode(for: error) == .validationFailure else { exit(withError: error) }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            exit(withError: ExitCode(2))
        }
    }
}
