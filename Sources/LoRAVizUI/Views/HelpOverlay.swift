import LoRAKernels
import LoRAScenario

/// Every key, generated from `KeyBinding.table`, in two columns.
public enum HelpOverlay {
    /// One row of the overlay before layout: a group heading, or a binding's keys and summary.
    struct Entry {
        var keys: String
        var summary: String
        var isHeading: Bool
    }

    static func entries(glyphs: Glyphs, withCommands: Bool) -> [Entry] {
        var entries: [Entry] = []
        for group in KeyBinding.Group.allCases {
            entries.append(Entry(keys: group.rawValue, summary: "", isHeading: true))
            for binding in KeyBinding.table where binding.group == group {
                let keys = binding.keys.map { glyphs.isASCII ? $0.asciiDescription : $0.description }.joined(separator: " ")
                var summary = binding.summary
                if withCommands, let shape = binding.commandShape { summary += "  [\(shape)]" }
                entries.append(Entry(keys: keys, summary: summary, isHeading: false))
            }
        }
        return entries
    }

    /// Rows a column of entries takes when its summaries wrap, and its key column width.
    static func columnRows(_ items: ArraySlice<Entry>, columnWidth: Int) -> (rows: Int, keyWidth: Int) {
        let keyWidth = (items.filter { !$0.isHeading }.map { Format.width($0.keys) }.max() ?? 0) + 1
        let summaryWidth = max(1, columnWidth - keyWidth)
        let rows = items.reduce(0) { $0 + ($1.isHeading ? 1 : max(1, Format.wrap($1.summary, width: summaryWidth).count)) }
        return (rows, keyWidth)
    }

    public static func render(_ state: AppState, into canvas: inout Canvas) {
        let g = state.glyphs
        let title = "keys · ? again: glossary · other keys close · batch keys are commands after :"
        let inner: Rect
        if state.height >= 30 {
            let width = min(state.width - 2, 170)
            let area = Rect(x: (state.width - width) / 2, y: 0, width: width, height: state.height - 1)
            canvas.fill(area)
            canvas.box(area, title: title, glyphs: g, style: .accent)
            inner = area.inset(1)
        } else {
            // A small screen gives the whole of itself to the keys: no frame, the title on the top row.
            let area = Rect(x: 0, y: 0, width: state.width, height: state.height)
            canvas.fill(area)
            canvas.fill(Rect(x: 0, y: 0, width: state.width, height: 1), with: Cell(" ", CellStyle(.accent, reverse: true)))
            canvas.put(" " + title, x: 0, y: 0, style: CellStyle(.accent, reverse: true), maxWidth: state.width)
            inner = Rect(x: -1, y: 1, width: state.width + 1, height: state.height - 1)
        }
        let columnWidth = (inner.width - 3) / 2
        let all = entries(glyphs: g, withCommands: columnWidth >= 78)
        // Break the columns where both fit with every summary wrapped: at the group heading that
        // balances them best, else anywhere; failing that, fill the first column (long summaries marked cut).
        func fits(_ split: Int) -> Bool {
            columnRows(all[0..<split], columnWidth: columnWidth).rows <= inner.height
                && columnRows(all[split...], columnWidth: columnWidth).rows <= inner.height
        }
        func balance(_ split: Int) -> Int {
            max(columnRows(all[0..<split], columnWidth: columnWidth).rows, columnRows(all[split...], columnWidth: columnWidth).rows)
        }
        let headings = all.indices.filter { all[$0].isHeading && $0 > 0 }.filter(fits)
        let anywhere = all.indices.dropFirst().filter(fits)
        let split = headings.min { balance($0) < balance($1) } ?? anywhere.min { balance($0) < balance($1) }
            ?? min(inner.height, all.count)
        for (column, range) in [0..<split, split..<all.count].enumerated() {
            let items = all[range]
            let keyWidth = columnRows(items, columnWidth: columnWidth).keyWidth
            let summaryWidth = max(1, columnWidth - keyWidth)
            // Rows the column has beyond one per entry let long summaries wrap; the rest are marked cut.
            var spare = inner.height - items.count
            let x = inner.x + 1 + column * (columnWidth + 2)
            var y = inner.y
            for entry in items {
                guard y < inner.maxY else { break }
                if entry.isHeading {
                    canvas.put(entry.keys, x: x, y: y, style: .title, maxWidth: columnWidth)
                    y += 1
                    continue
                }
                canvas.put(entry.keys, x: x, y: y, style: .normal, maxWidth: keyWidth)
                var rows = Format.wrap(entry.summary, width: summaryWidth)
                // An overfull column (more entries than rows) still gives each entry its first row.
                if rows.count > max(1, 1 + spare) {
                    rows = Array(rows.prefix(max(1, 1 + spare)))
                    let last = String(String.UnicodeScalarView(rows[rows.count - 1].unicodeScalars.prefix(summaryWidth - 1)))
                    rows[rows.count - 1] = last + String(g.ellipsis)
                }
                spare -= rows.count - 1
                for row in rows where y < inner.maxY {
                    canvas.put(row, x: x + keyWidth, y: y, style: .normal, maxWidth: summaryWidth)
                    y += 1
                }
            }
        }
    }
}
