/// Text in a boxed panel: every line wrapped on word boundaries, never cut
/// at the edge; when the lines need more rows than the panel has, the least
/// important whole lines give way and a "…" in the right margin says so.
struct PanelText {
    /// One line of the panel, before wrapping.
    struct Line {
        /// The line's wordings, longest first: the first that fits on one row
        /// is shown, else the last one wraps.
        var variants: [String]
        var style: CellStyle
        /// 0 is kept longest; higher ranks give way first (ties: the later line).
        var rank: Int
        /// A glyph before the first row (continuation rows are indented to match).
        var lead: Cell?

        init(_ text: String, style: CellStyle = .normal, rank: Int = 0, lead: Cell? = nil) {
            self.init(variants: [text], style: style, rank: rank, lead: lead)
        }

        init(variants: [String], style: CellStyle = .normal, rank: Int = 0, lead: Cell? = nil) {
            self.variants = variants
            self.style = style
            self.rank = rank
            self.lead = lead
        }

        /// The rows this line takes at `width` columns.
        func rows(width: Int) -> [String] {
            let room = width - (lead == nil ? 0 : 2)
            if let one = variants.first(where: { Format.width($0) <= room && !$0.contains("\n") }) { return [one] }
            return Format.wrap(variants.last ?? "", width: room)
        }
    }

    /// A row to draw: its text, the line it belongs to, whether it is that line's first.
    struct Row {
        var text: String
        var line: Int
        var isFirst: Bool
    }

    var lines: [Line]

    /// The rows every line takes at `width` columns (none giving way).
    func rowsNeeded(width: Int) -> Int {
        lines.reduce(0) { $0 + $1.rows(width: max(1, width)).count }
    }

    /// The rows shown in `height` rows of `width` columns, and whether anything was left out.
    func layout(width: Int, height: Int) -> (rows: [Row], elided: Bool) {
        guard width > 0, height > 0 else { return ([], !lines.isEmpty) }
        let wrapped = lines.map { $0.rows(width: width) }
        var kept = Array(lines.indices)
        func total() -> Int { kept.reduce(0) { $0 + wrapped[$1].count } }
        while total() > height, kept.count > 1 {
            // The least important line goes; among equals, the later one.
            let drop = kept.indices.max { a, b in
                (lines[kept[a]].rank, a) < (lines[kept[b]].rank, b)
            }!
            kept.remove(at: drop)
        }
        // Rows left free take the lines that gave way and fit there, most important first.
        var free = height - total()
        for i in lines.indices.sorted(by: { (lines[$0].rank, $0) < (lines[$1].rank, $1) })
        where !kept.contains(i) && wrapped[i].count <= free {
            kept.append(i)
            free -= wrapped[i].count
        }
        kept.sort()
        var rows: [Row] = []
        for i in kept {
            for (j, text) in wrapped[i].enumerated() { rows.append(Row(text: text, line: i, isFirst: j == 0)) }
        }
        let elided = kept.count < lines.count || rows.count > height
        return (Array(rows.prefix(height)), elided)
    }

    /// Draws the lines into `inner` (a box's inside): one column of margin on
    /// each side, the right one holding "…" when something did not fit.
    /// Returns whether something did not fit.
    @discardableResult
    func render(in inner: Rect, glyphs: Glyphs, into canvas: inout Canvas) -> Bool {
        let width = inner.width - 2
        let (rows, elided) = layout(width: width, height: inner.height)
        for (y, row) in rows.enumerated() {
            let line = lines[row.line]
            var x = inner.x + 1
            if let lead = line.lead {
                if row.isFirst { canvas[x, inner.y + y] = lead }
                x += 2
            }
            canvas.put(row.text, x: x, y: inner.y + y, style: line.style, maxWidth: inner.x + 1 + width - x)
        }
        if elided, inner.width > 0 {
            canvas.put(String(glyphs.ellipsis), x: inner.maxX - 1, y: inner.y + max(0, min(rows.count, inner.height) - 1), style: .dim)
        }
        return elided
    }
}
