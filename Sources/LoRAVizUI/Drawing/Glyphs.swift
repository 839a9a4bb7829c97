import LoRAKernels

/// The characters views draw with: UTF-8 by default, ASCII for terminals and
/// locales that cannot show more.
///
/// Every fate has its own glyph, so a screen reads without colour; a zoomed
/// cell that mixes fates shows the share of working programs in it.
public struct Glyphs: Sendable {
    /// Box-drawing characters.
    public struct Box: Sendable {
        public var horizontal, vertical, topLeft, topRight, bottomLeft, bottomRight: Unicode.Scalar
    }

    public var isASCII: Bool
    public var box: Box
    /// One glyph per fate, in `ProgramFate.allCases` order.
    let fateGlyphs: [Unicode.Scalar]
    /// Glyphs for a zoomed cell holding several fates, by share of working programs (lowest first).
    let mixRamp: [Unicode.Scalar]
    public var ellipsis: Unicode.Scalar
    public var times: String
    public var separator: String
    public var arrow: String
    public var delta: String
    public var spinner: [Unicode.Scalar]
    public var barFull: Unicode.Scalar
    public var barEmpty: Unicode.Scalar

    /// Unicode glyphs: block shades for the working fates, marks for the exits.
    public static let unicode = Glyphs(
        isASCII: false,
        box: Box(horizontal: "─", vertical: "│", topLeft: "┌", topRight: "┐", bottomLeft: "└", bottomRight: "┘"),
        fateGlyphs: ["ø", "∅", "·", "×", "¦", "÷", "░", "▒", "█"],
        mixRamp: ["▁", "▂", "▃", "▄", "▅", "▆", "▇"],
        ellipsis: "…", times: "×", separator: " │ ", arrow: "→", delta: "Δ",
        spinner: ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"],
        barFull: "█", barEmpty: "░")

    /// Plain ASCII, for `--ascii`, non-UTF-8 locales and golden files.
    public static let ascii = Glyphs(
        isASCII: true,
        box: Box(horizontal: "-", vertical: "|", topLeft: "+", topRight: "+", bottomLeft: "+", bottomRight: "+"),
        fateGlyphs: ["o", "_", ".", "x", "!", "/", "-", "+", "#"],
        mixRamp: ["1", "2", "3", "4", "5", "6", "7", "8", "9"],
        ellipsis: "~", times: "x", separator: " | ", arrow: "->", delta: "d",
        spinner: ["|", "/", "-", "\\"],
        barFull: "#", barEmpty: ".")

    /// The glyph of a fate.
    public func glyph(_ fate: ProgramFate) -> Unicode.Scalar {
        fateGlyphs[fate.ordinal]
    }

    /// The glyph of a zoomed cell holding both working and exiting programs:
    /// a ramp step for `working / total`, strictly between 0 and 1.
    public func mixGlyph(working: Int, total: Int) -> Unicode.Scalar {
        let steps = mixRamp.count
        let step = min(steps - 1, max(0, (working * steps - 1) / max(1, total)))
        return mixRamp[step]
    }

    /// The mix ramp as a string, for the legend.
    public var mixRampText: String {
        String(String.UnicodeScalarView(mixRamp))
    }
}
