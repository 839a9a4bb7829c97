import Foundation

/// How the text chart draws its lines.
public enum ChartStyle: String, CaseIterable, Hashable, Sendable {
    /// Braille dots (U+2800…U+28FF), 2×4 dots a cell: the finest lines.
    case braille
    /// Half blocks (`▀ ▄ █`), 1×2 a cell.
    case block
    /// ASCII only, for terminals without Unicode: `' . :` draw the lines, `| - +` the axes.
    case ascii

    /// Braille when the locale's character set is UTF-8, ASCII otherwise.
    ///
    /// The locale is the first non-empty of `LC_ALL`, `LC_CTYPE` and `LANG`
    /// (POSIX's order); UTF-8 is `UTF-8` or `utf8` in it, in any case.
    public static func preferred(environment: [String: String]) -> ChartStyle {
        let locale = ["LC_ALL", "LC_CTYPE", "LANG"].lazy.compactMap { environment[$0] }.first { !$0.isEmpty } ?? ""
        let l = locale.lowercased()
        return l.contains("utf-8") || l.contains("utf8") ? .braille : .ascii
    }
}

/// One cell of the text chart: its character and what it draws, so a TUI can colour it.
public struct ChartCell: Hashable, Sendable {
    /// The part of the chart a cell belongs to.
    public enum Role: Hashable, Sendable {
        case blank
        /// Title, subtitle, axis names, tick labels, legend labels, messages.
        case text
        /// The axes and their ticks.
        case axis
        /// Gridline dots where a y tick meets an x tick.
        case grid
        /// The 1× line and its label.
        case unity
        /// A series' line between its samples.
        case line
        /// A series' mark at a sample, or beside its label in the legend.
        case mark
    }

    public let character: Character
    /// The index in `SweepChart.series` of the series drawn here (lines and marks only).
    public let series: Int?
    public let role: Role

    init(_ character: Character, series: Int? = nil, role: Role) {
        self.character = character
        self.series = series
        self.role = role
    }

    static let blank = ChartCell(" ", role: .blank)
}

// MARK: - Text rendering

extension SweepChart {
    /// The chart as `height` rows of exactly `width` characters (every glyph one column wide).
    ///
    /// A chart with nothing to draw is one row: `unavailable`'s message. A
    /// size too small for axes, legend and at least three plot rows is one
    /// row saying so.
    public func lines(width: Int, height: Int, style: ChartStyle) -> [String] {
        cells(width: width, height: height, style: style).map { String($0.map(\.character)) }
    }

    /// `lines(width:height:style:)` as cells, each naming its series and role.
    ///
    /// Every character is one Unicode scalar, one column wide; in `.ascii`
    /// every one is ASCII (the labels' `×` `÷` `—` `…` become `x` `/` `-` `~`).
    public func cells(width: Int, height: Int, style: ChartStyle) -> [[ChartCell]] {
        guard width > 0, height > 0 else { return [] }
        let rows = unavailable.map { [Self._textRow($0, width: width)] }
            ?? _render(width: width, height: height, style: style)
            ?? [Self._textRow("chart: \(width)×\(height) is too small (at least \(Self._minWidth)×\(Self._fixedRows + 3) and room for the legend)", width: width)]
        guard style == .ascii else { return rows }
        return rows.map { $0.map { c in Self._ascii[c.character].map { ChartCell($0, series: c.series, role: c.role) } ?? c } }
    }

    /// The ASCII stand-ins of the labels' few non-ASCII characters.
    static let _ascii: [Character: Character] = ["×": "x", "÷": "/", "—": "-", "…": "~"]

    static let _minWidth = 32
    /// Title, subtitle, y axis name, x axis, x tick labels, x axis name.
    static let _fixedRows = 6

    /// `text` cut (with `…`) or padded to `width` cells.
    static func _textRow(_ text: String, width: Int, role: ChartCell.Role = .text) -> [ChartCell] {
        var chars = Array(text)
        if chars.count > width { chars = Array(chars.prefix(max(0, width - 1))) + ["…"] }
        return chars.prefix(width).map { ChartCell($0, role: $0 == " " ? .blank : role) }
            + Array(repeating: .blank, count: max(0, width - chars.count))
    }

    /// The glyphs of a style's frame.
    struct _Frame {
        var vertical, tick, unityTick, corner, horizontal, xTick, unity: Character
        var grid: Character?

        init(_ style: ChartStyle) {
            switch style {
            case .ascii:
                (vertical, tick, unityTick, corner, horizontal, xTick, unity, grid) = ("|", "+", "+", "+", "-", "+", "-", nil)
            case .braille, .block:
                (vertical, tick, unityTick, corner, horizontal, xTick, unity, grid) = ("│", "┤", "┼", "└", "─", "┬", "─", "·")
            }
        }
    }

    /// Sub-cell resolution of a style: columns and rows of dots per cell.
    static func _resolution(_ style: ChartStyle) -> (x: Int, y: Int) {
        style == .braille ? (2, 4) : (1, 2)
    }

    /// The bit of dot (`dx`, `dy`) in a cell.
    static func _bit(_ style: ChartStyle, dx: Int, dy: Int) -> UInt8 {
        guard style == .braille else { return dy == 0 ? 1 : 2 }
        return _brailleBits[dx][dy]
    }

    /// Braille's dot bits by column and row (dots 1–3 and 7, then 4–6 and 8).
    static let _brailleBits: [[UInt8]] = [[0x01, 0x02, 0x04, 0x40], [0x08, 0x10, 0x20, 0x80]]

    /// The glyph of a cell's dots.
    static func _glyph(_ style: ChartStyle, bits: UInt8) -> Character {
        switch style {
        case .braille: return Character(Unicode.Scalar(0x2800 + UInt32(bits))!)
        case .block: return bits == 1 ? "▀" : bits == 2 ? "▄" : "█"
        case .ascii: return bits == 1 ? "'" : bits == 2 ? "." : ":"
        }
    }

    /// The legend's entries: mark, space, label.
    var _legendEntries: [(series: Int, text: String)] {
        series.enumerated().map { ($0.offset, "\($0.element.mark) \($0.element.label)") }
    }

    /// The legend's rows at `width`: entries three spaces apart, wrapped; each entry's series at its first column.
    static func _legendRows(_ entries: [(series: Int, text: String)], width: Int) -> [[(column: Int, series: Int, text: String)]] {
        var rows: [[(column: Int, series: Int, text: String)]] = [[]]
        var column = 0
        for e in entries {
            let n = e.text.count
            if column > 0 && column + 3 + n > width {
                rows.append([])
                column = 0
            }
            if column > 0 { column += 3 }
            rows[rows.count - 1].append((column, e.series, e.text))
            column += n
        }
        return rows
    }

    func _render(width: Int, height: Int, style: ChartStyle) -> [[ChartCell]]? {
        guard width >= Self._minWidth else { return nil }
        let frame = _Frame(style)
        let legend = Self._legendRows(_legendEntries, width: width)
        let plotRows = height - Self._fixedRows - legend.count
        guard plotRows >= 3 else { return nil }

        // The y axis: ticks at least two rows apart.
        let y = _yAxis(length: Double(plotRows - 1), minGap: 2)
        let tickLabels = y.ticks.map(Self._tickLabel)
        let labelWidth = tickLabels.map(\.count).max() ?? 2
        let axisColumn = labelWidth + 1, plotStart = axisColumn + 1
        let bsLabels = bsValues.map(String.init)
        let plotColumns = width - plotStart - max(1, (bsLabels.last?.count ?? 1) / 2)
        guard plotColumns >= 8 else { return nil }
        let x = _xDomain
        func fx(_ bs: Int) -> Double { (log2(Double(bs)) - x.lo) / (x.hi - x.lo) * Double(plotColumns - 1) }
        func fy(_ v: Double) -> Double { (y.hi - v) / (y.hi - y.lo) * Double(plotRows - 1) }
        let unityRow = Int(fy(0).rounded())

        // Lines, on the style's dot grid; each cell keeps every series' dots:
        // cell i's dots of series s at i · seriesCount + s (a flat array: a
        // dictionary per cell made this loop most of a frame with the chart open).
        let (sx, sy) = Self._resolution(style)
        let seriesCount = series.count
        var dots = [UInt8](repeating: 0, count: plotColumns * plotRows * seriesCount)
        func plot(_ px: Int, _ py: Int, _ s: Int) {
            let c = px / sx, r = py / sy
            guard c >= 0, c < plotColumns, r >= 0, r < plotRows else { return }
            dots[(r * plotColumns + c) * seriesCount + s] |= Self._bit(style, dx: px % sx, dy: py % sy)
        }
        func cellDots(_ i: Int) -> ArraySlice<UInt8> { dots[(i * seriesCount)..<((i + 1) * seriesCount)] }
        let dash = style == .braille ? (on: 4, off: 3) : (on: 2, off: 2)
        for (s, line) in series.enumerated() {
            let points = line.samples.map { sample in
                (Int((fx(sample.bs) * Double(sx) + Double(sx - 1) / 2).rounded()),
                 Int((fy(log2(sample.speedup)) * Double(sy) + Double(sy - 1) / 2).rounded()))
            }
            var step = 0
            for (a, b) in zip(points, points.dropFirst()) {
                Self._bresenham(from: a, to: b) { px, py in
                    if !line.isDashed || step % (dash.on + dash.off) < dash.on { plot(px, py, s) }
                    step += 1
                }
            }
        }
        var marks = [Int?](repeating: nil, count: plotColumns * plotRows)
        for (s, line) in series.enumerated() {
            for sample in line.samples {
                let c = Int(fx(sample.bs).rounded()), r = Int(fy(log2(sample.speedup)).rounded())
                guard r >= 0, r < plotRows else { continue }
                // Marks that fall in one cell are set side by side, so every series stays visible.
                let free = [0, 1, -1, 2, -2, 3, -3].lazy.map { c + $0 }.first {
                    $0 >= 0 && $0 < plotColumns && marks[r * plotColumns + $0] == nil
                }
                if let free { marks[r * plotColumns + free] = s }
            }
        }

        // The 1× label: where it hides the fewest dots and marks, on or beside the line.
        let label = [" 1× — sorting pays above this line ", " 1× — sorting pays above ", " 1× "]
            .first { $0.count + 2 <= plotColumns } ?? ""
        var labelAt: (row: Int, column: Int)?
        if !label.isEmpty {
            var best = Int.max
            for row in [unityRow, unityRow - 1, unityRow + 1] where row >= 0 && row < plotRows {
                for column in [plotColumns - 1 - label.count, 1] {
                    let cost = (column..<column + label.count).filter {
                        cellDots(row * plotColumns + $0).contains { $0 != 0 } || marks[row * plotColumns + $0] != nil
                    }.count
                    if cost < best { best = cost; labelAt = (row, column) }
                }
            }
        }

        // The plot's cells.
        let xTickColumns = Set(bsValues.map { Int(fx($0).rounded()) })
        let tickRows = Dictionary(y.ticks.enumerated().map { (Int(fy($0.element).rounded()), $0.offset) }) { a, _ in a }
        let labelChars = Array(label)
        let plotCells: [[ChartCell]] = (0..<plotRows).map { r in
            (0..<plotColumns).map { c in
                let i = r * plotColumns + c
                if let s = marks[i] { return ChartCell(series[s].mark, series: s, role: .mark) }
                if let at = labelAt, at.row == r, c >= at.column, c < at.column + labelChars.count {
                    let ch = labelChars[c - at.column]
                    return ch == " " && r != unityRow ? .blank : ChartCell(ch, role: .unity)
                }
                let cell = cellDots(i)
                let bits = cell.reduce(0, |)
                if bits != 0 {
                    // The cell's series: the one with the most dots in it, the later on a tie.
                    var owner = 0, most = 0
                    for (s, d) in zip(0..., cell) where d != 0 && d.nonzeroBitCount >= most {
                        owner = s; most = d.nonzeroBitCount
                    }
                    return ChartCell(Self._glyph(style, bits: bits), series: owner, role: .line)
                }
                if r == unityRow { return ChartCell(frame.unity, role: .unity) }
                if let g = frame.grid, tickRows[r] != nil, xTickColumns.contains(c) { return ChartCell(g, role: .grid) }
                return .blank
            }
        }
        // Frame, labels, legend.
        func row(_ cells: [ChartCell]) -> [ChartCell] {
            Array((cells + Array(repeating: .blank, count: max(0, width - cells.count))).prefix(width))
        }
        func text(_ s: String, role: ChartCell.Role = .text) -> [ChartCell] {
            s.map { ChartCell($0, role: $0 == " " ? .blank : role) }
        }
        var out: [[ChartCell]] = [
            Self._textRow(title, width: width),
            Self._textRow(subtitle, width: width),
            Self._textRow(Self._yAxisLabel, width: width),
        ]
        for r in 0..<plotRows {
            var left: [ChartCell]
            if let t = tickRows[r] {
                let l = tickLabels[t]
                left = text(String(repeating: " ", count: labelWidth - l.count) + l + " ")
                left.append(ChartCell(r == unityRow ? frame.unityTick : frame.tick, role: r == unityRow ? .unity : .axis))
            } else {
                left = Array(repeating: .blank, count: axisColumn)
                left.append(ChartCell(frame.vertical, role: .axis))
            }
            out.append(row(left + plotCells[r]))
        }
        var axis = Array(repeating: ChartCell.blank, count: axisColumn) + [ChartCell(frame.corner, role: .axis)]
        axis += (0..<plotColumns).map { ChartCell(xTickColumns.contains($0) ? frame.xTick : frame.horizontal, role: .axis) }
        out.append(row(axis))

        // bs labels centred under their ticks; one that would touch its neighbour is left out, never the last.
        var placed: [(start: Int, text: String)] = []
        for (b, l) in zip(bsValues, bsLabels) {
            let start = plotStart + Int(fx(b).rounded()) - (l.count - 1) / 2
            guard start >= 0, start + l.count <= width else { continue }
            let isLast = b == bsValues.last
            while isLast, let p = placed.last, p.start + p.text.count + 1 > start, placed.count > 1 { placed.removeLast() }
            if let p = placed.last, p.start + p.text.count + 1 > start { continue }
            placed.append((start, l))
        }
        var ticks = Array(repeating: ChartCell.blank, count: width)
        for p in placed { for (k, ch) in p.text.enumerated() { ticks[p.start + k] = ChartCell(ch, role: .text) } }
        out.append(ticks)
        let xName = Self._xAxisLabel
        let end = min(width, plotStart + plotColumns)
        out.append(row(Array(repeating: .blank, count: max(0, end - xName.count)) + Self._textRow(xName, width: min(end, xName.count))))
        for entries in legend {
            var cells = Array(repeating: ChartCell.blank, count: width)
            for e in entries {
                for (k, ch) in e.text.prefix(width - e.column).enumerated() {
                    cells[e.column + k] = k == 0 ? ChartCell(ch, series: e.series, role: .mark)
                        : ChartCell(ch, role: ch == " " ? .blank : .text)
                }
                if e.column + e.text.count > width { cells[width - 1] = ChartCell("…", role: .text) }
            }
            out.append(cells)
        }
        return out
    }

    /// Every point of the line from `a` to `b` (Bresenham), `a` first.
    static func _bresenham(from a: (Int, Int), to b: (Int, Int), _ body: (Int, Int) -> Void) {
        var (x0, y0) = a
        let (x1, y1) = b
        let dx = abs(x1 - x0), dy = -abs(y1 - y0)
        let stepX = x0 < x1 ? 1 : -1, stepY = y0 < y1 ? 1 : -1
        var error = dx + dy
        while true {
            body(x0, y0)
            if x0 == x1 && y0 == y1 { return }
            let e2 = 2 * error
            if e2 >= dy { error += dy; x0 += stepX }
            if e2 <= dx { error += dx; y0 += stepY }
        }
    }
}
