/// A recording (`record FILE` … `stop`, the TUI's `--record FILE`): the
/// commands that rebuild the state it began on, then every command applied
/// while it goes on, as a scenario file replays them.
///
///     var r = Recording(path: "demo.lora", force: false, startingFrom: session)
///     r.append(.seed(7))
///     r.text  // "# Recorded by lora-viz. …\n" + the state's commands + "seed 7\n"
///
/// The TUI and a headless replay write the same file for the same commands:
/// both build it here.
public struct Recording: Hashable, Sendable {
    public var path: String
    public var force: Bool
    /// Command lines, starting with those that rebuild the state recording began on.
    public var lines: [String]

    public init(path: String, force: Bool, lines: [String]) {
        self.path = path
        self.force = force
        self.lines = lines
    }

    /// Starts recording from `session`'s state (`Session.stateCommands`).
    public init(path: String, force: Bool, startingFrom session: Session) {
        self.init(path: path, force: force, lines: session.stateCommands.map(\.description))
    }

    /// Appends a command that was applied. What only the driver sees (`record`,
    /// `stop`, `output`, `expect`, `pause`, `sleep`) is left out, since
    /// replaying it would write files or wait; consecutive selections collapse
    /// into the last (the cursor walking the grid is one step, not a hundred).
    public mutating func append(_ command: Command) {
        switch command {
        case .record, .stop, .output, .expect, .pause, .sleep:
            return
        case .select:
            if let last = lines.last, last.hasPrefix("select ") { lines.removeLast() }
        default:
            break
        }
        lines.append(command.description)
    }

    /// The scenario text the recording writes.
    public var text: String {
        "# Recorded by lora-viz. Replay with: lora-viz replay \(path)\n" + lines.map { $0 + "\n" }.joined()
    }
}
