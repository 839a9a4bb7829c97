import LoRAKernels

/// A 2-D buffer of cells that views draw into (ratatui's `Buffer`).
///
/// Writes outside the canvas, or outside the current clip rectangle, are
/// dropped, so a widget never has to check its bounds. Every character takes
/// one column: views use only single-width scalars.
public struct Canvas: Hashable, Sendable {
    public let width: Int
    public let height: Int
    public private(set) var cells: [Cell]

    public init(width: Int, height: Int) {
        self.width = max(0, width)
        self.height = max(0, height)
        cells = Array(repeating: .blank, count: self.width * self.height)
    }

    /// The cell at column `x`, row `y` (blank outside).
    public subscript(x: Int, y: Int) -> Cell {
        get { x >= 0 && y >= 0 && x < width && y < height ? cells[y * width + x] : .blank }
        set { if x >= 0 && y >= 0 && x < width && y < height { cells[y * width + x] = newValue } }
    }

    /// Writes `text` from column `x` of row `y`, cut at `maxWidth` columns; returns the column after it.
    @discardableResult
    public mutating func put(_ text: String, x: Int, y: Int, style: CellStyle = .normal, maxWidth: Int = .max) -> Int {
        guard y >= 0 && y < height else { return x }
        var column = x
        let limit = min(width, maxWidth == .max ? width : x + maxWidth)
        for scalar in text.unicodeScalars {
            if column >= limit { break }
            if column >= 0 { cells[y * width + column] = Cell(scalar, style) }
            column += 1
        }
        return column
    }

    /// Fills a rectangle with one cell.
    public mutating func fill(_ rect: Rect, with cell: Cell = .blank) {
        let r = rect.clamped(width: width, height: height)
        guard r.width > 0 else { return }
        for y in r.y..<r.maxY {
            let base = y * width
            for x in r.x..<r.maxX { cells[base + x] = cell }
        }
    }

    /// Applies a style to every cell of a rectangle, keeping the characters.
    public mutating func restyle(_ rect: Rect, _ transform: (inout CellStyle) -> Void) {
        let r = rect.clamped(width: width, height: height)
        guard r.width > 0 else { return }
        for y in r.y..<r.maxY {
            for x in r.x..<r.maxX { transform(&cells[y * width + x].style) }
        }
    }

    /// Draws a frame around `rect` with an optional title on its top edge.
    public mutating func box(_ rect: Rect, title: String? = nil, glyphs: Glyphs, style: CellStyle = .dim, titleStyle: CellStyle = .title) {
        guard rect.width >= 2 && rect.height >= 2 else { return }
        let b = glyphs.box
        for x in rect.x + 1..<rect.maxX - 1 {
            self[x, rect.y] = Cell(b.horizontal, style)
            self[x, rect.maxY - 1] = Cell(b.horizontal, style)
        }
        for y in rect.y + 1..<rect.maxY - 1 {
            self[rect.x, y] = Cell(b.vertical, style)
            self[rect.maxX - 1, y] = Cell(b.vertical, style)
        }
        self[rect.x, rect.y] = Cell(b.topLeft, style)
        self[rect.maxX - 1, rect.y] = Cell(b.topRight, style)
        self[rect.x, rect.maxY - 1] = Cell(b.bottomLeft, style)
        self[rect.maxX - 1, rect.maxY - 1] = Cell(b.bottomRight, style)
        if let title, rect.width > 4 {
            put(" \(title) ", x: rect.x + 1, y: rect.y, style: titleStyle, maxWidth: rect.width - 2)
        }
    }

    /// Replaces every non-ASCII character with an ASCII stand-in, so an ASCII
    /// screen stays ASCII whatever text (error messages, names) it shows.
    public mutating func asciify() {
        for i in cells.indices where !cells[i].scalar.isASCII {
            cells[i].scalar = Self.asciiStandIn(cells[i].scalar)
        }
    }

    static func asciiStandIn(_ s: Unicode.Scalar) -> Unicode.Scalar {
        switch s {
        case "·", "–", "—", "─", "░": return "-"
        case "…": return "~"
        case "×": return "x"
        case "→", "▶", "›": return ">"
        case "←": return "<"
        case "↑": return "^"
        case "↓": return "v"
        case "│": return "|"
        case "≥": return ">"
        case "≤": return "<"
        case "█": return "#"
        case "▒": return "+"
        case "ø": return "o"
        case "µ": return "u"  // µs → us, as the GPU estimates print
        default: return "?"
        }
    }

    // MARK: Text backend

    /// The canvas as plain text: one line per row, trailing spaces trimmed.
    ///
    /// The text backend: golden screens, `output FILE` and the headless replay
    /// read this; styles are dropped, so the glyphs alone must tell the fates.
    public var text: String {
        var out = String.UnicodeScalarView()
        out.reserveCapacity((width + 1) * height)
        for y in 0..<height {
            var end = width
            while end > 0 && cells[y * width + end - 1].scalar == " " { end -= 1 }
            for x in 0..<end { out.append(cells[y * width + x].scalar) }
            out.append("\n")
        }
        return String(out)
    }

    /// One row as a string, untrimmed.
    public func line(_ y: Int) -> String {
        guard y >= 0 && y < height else { return "" }
        var s = String.UnicodeScalarView()
        for x in 0..<width { s.append(cells[y * width + x].scalar) }
        return String(s)
    }
}
