import ArgumentParser

/// The `lora-viz` command: the TUI by default, plus headless subcommands.
@main
struct LoRAViz: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lora-viz",
        abstract: "See and measure how multi-LoRA kernels launch: per-sequence vs per-adapter grids.",
        subcommands: [Interactive.self, Run.self, Replay.self, Bench.self],
        defaultSubcommand: Interactive.self)
}
