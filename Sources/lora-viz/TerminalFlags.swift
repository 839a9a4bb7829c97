import ArgumentParser
import LoRAVizUI

/// The flags of every command that opens the TUI (`lora-viz [FILE]`,
/// `lora-viz replay FILE`): how it draws and where it records.
struct TerminalFlags: ParsableArguments {
    @Flag(name: .customLong("no-color"), help: "No colours in the TUI (also when NO_COLOR is set).")
    var noColor = false

    @Flag(help: "ASCII glyphs in the TUI instead of UTF-8 (chosen anyway for a non-UTF-8 locale).")
    var ascii = false

    @Option(help: ArgumentHelp("Colours in the TUI: standard, or colorblind (blue and orange for red and green; P switches inside).", valueName: "name"))
    var palette = Palette.standard

    @Option(help: ArgumentHelp("Record the TUI session's commands into FILE (on disk from the start; written again on quit or :stop).", valueName: "FILE"))
    var record: String?

    @Flag(help: "Let --record replace an existing file.")
    var force = false

    /// Checks `--record`'s target before the terminal switches to the TUI.
    func validateRecord() throws {
        if let record { try HeadlessCLI.checkRecordFlag(record, force: force) }
    }

    /// The terminal's options for a session on `inputFile` (never replaced by a recording).
    func options(inputFile: String?) -> TerminalOptions {
        var options = TerminalOptions(colors: TerminalOptions.colorsEnabled(noColorFlag: noColor), ascii: ascii,
                                      record: record, force: force)
        options.inputFile = inputFile
        options.palette = palette
        return options
    }
}
