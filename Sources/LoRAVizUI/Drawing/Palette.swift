/// The colours the terminal backend draws each role with.
///
/// The standard palette tells full (green) from excess exit (red), which a
/// red-green colour-blind reader cannot; the colour-blind-safe one draws the
/// fates from Okabe and Ito's palette (blue, sky blue, orange, vermillion,
/// reddish purple, yellow, greys). Either way every fate keeps its own glyph,
/// so the colour only repeats what the glyph says.
public enum Palette: String, CaseIterable, Sendable {
    case standard
    /// `--palette colorblind`, `P`.
    case colorBlind = "colorblind"

    /// What the status line calls it.
    public var label: String {
        switch self {
        case .standard: return "the standard palette"
        case .colorBlind: return "the colour-blind-safe palette (blue full, orange excess exit)"
        }
    }

    /// The xterm 256-colour index of a role (nil: the terminal's default colour).
    public func color256(_ role: ColorRole) -> Int16? {
        switch self {
        case .standard:
            switch role {
            case .normal: return nil
            case .dim: return 244
            case .accent: return 39
            case .title: return 75
            case .good: return 78
            case .warning: return 214
            case .error: return 203
            case .cursor: return 255
            case .rank0Exit: return 240
            case .emptyExit: return 67
            case .excessExit: return 167
            case .maskedOut: return 134
            case .partial: return 221
            case .full: return 71
            case .noLoRAExit: return 246
            case .columnExit: return 173
            case .splitIdle: return 110
            }
        case .colorBlind:
            // Okabe-Ito: blue #0072B2 ≈ 25, sky blue #56B4E9 ≈ 74, orange #E69F00 ≈ 214,
            // vermillion #D55E00 ≈ 166, reddish purple #CC79A7 ≈ 175, yellow #F0E442 ≈ 227.
            switch role {
            case .normal: return nil
            case .dim: return 244
            case .accent: return 74
            case .title: return 74
            case .good: return 74
            case .warning: return 227
            case .error: return 166
            case .cursor: return 255
            case .rank0Exit: return 240
            case .emptyExit: return 248
            case .excessExit: return 214
            case .maskedOut: return 175
            case .partial: return 74
            case .full: return 25
            case .noLoRAExit: return 246
            case .columnExit: return 166
            case .splitIdle: return 250
            }
        }
    }

    /// One of the eight basic colours for a role (0 black … 7 white, as curses numbers them; nil: default).
    public func color8(_ role: ColorRole) -> Int16? {
        let red: Int16 = 1, green: Int16 = 2, yellow: Int16 = 3, blue: Int16 = 4, magenta: Int16 = 5, cyan: Int16 = 6, white: Int16 = 7
        switch self {
        case .standard:
            switch role {
            case .normal: return nil
            case .dim, .cursor, .rank0Exit, .noLoRAExit: return white
            case .accent, .title, .splitIdle: return cyan
            case .good, .full: return green
            case .warning, .partial: return yellow
            case .error, .excessExit, .columnExit: return red
            case .emptyExit: return blue
            case .maskedOut: return magenta
            }
        case .colorBlind:
            // Blue against yellow stays apart for every common colour blindness; no red against green.
            switch role {
            case .normal: return nil
            case .dim, .cursor, .rank0Exit, .noLoRAExit, .emptyExit, .splitIdle: return white
            case .accent, .title, .good, .partial: return cyan
            case .full: return blue
            case .warning, .excessExit, .columnExit: return yellow
            case .error, .maskedOut: return magenta
            }
        }
    }
}
