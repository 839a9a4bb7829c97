import LoRAKernels
import LoRAScenario

/// The layer table in place of the grids (`L`, `layer`): a row per launch of
/// the decoder layer, a column group per pane's strategy, the current launch
/// highlighted (j/k choose another, Enter shows its grids).
enum LayerPanel {
    /// One column: its header, its cells per launch row and for the total, and
    /// whether it may give way on a narrow screen.
    struct Column {
        var header: String
        var cells: [String]
        var total: String
        var rightAligned: Bool
        /// Columns give way on a narrow screen in this order (1 first), every
        /// strategy's alike so the groups still compare; 0 never.
        var givesWay: Int
    }

    /// The table's columns for `strategies` (the panes'), widest screens first in mind.
    static func columns(_ report: LayerReport, strategies: [Strategy]) -> [Column] {
        let launches = report.launches
        var columns = [
            Column(header: "launch", cells: launches.map(\.name), total: "layer total", rightAligned: false, givesWay: 0),
            Column(header: "kernel", cells: launches.map { $0.kernel + ($0.stack.map { $0 > 1 ? " ×\($0)" : "" } ?? "") },
                   total: "", rightAligned: false, givesWay: 1),
            Column(header: "K → N", cells: launches.map { "\($0.k) → \($0.n)" }, total: "", rightAligned: true, givesWay: 2),
        ]
        let timed = report.totals.contains { $0.cpuMs != nil }
        for s in strategies {
            guard let j = report.totals.firstIndex(where: { $0.strategy == s.name }) else { continue }
            let f = launches.map { $0.figures[j] }, t = report.totals[j]
            columns.append(Column(header: s.shortName + " launched", cells: f.map { "\($0.launched)" },
                                  total: "\(t.launched)", rightAligned: true, givesWay: 0))
            columns.append(Column(header: "working", cells: f.map { "\($0.working)" }, total: "\(t.working)",
                                  rightAligned: true, givesWay: 4))
            columns.append(Column(header: "est. µs", cells: f.map { Format.fixed($0.gpuEstimateUs, 1) },
                                  total: Format.fixed(t.gpuEstimateUs, 1), rightAligned: true, givesWay: 0))
            if timed {
                columns.append(Column(header: "CPU ms", cells: f.map { $0.cpuMs.map { Format.fixed($0, 3) } ?? "–" },
                                      total: t.cpuMs.map { Format.fixed($0, 2) } ?? "–", rightAligned: true, givesWay: 3))
            }
        }
        return columns
    }

    /// The layer's totals in one line, for the ratios row: each pane's estimate
    /// summed over the eight launches, and the second ÷ the first.
    static func totalsLine(_ report: LayerReport, strategies: [Strategy], glyphs g: Glyphs) -> String {
        let shown = strategies.compactMap { s in report.totals.first { $0.strategy == s.name } }
        guard let first = shown.first else { return "" }
        var line = "layer total est. " + shown.map { "\($0.strategy) \(Format.fixed($0.gpuEstimateUs, 1)) µs" }
            .joined(separator: " \(g.arrow) ")
        if shown.count == 2, shown[1].gpuEstimateUs > 0 {
            line += " (\(Format.fixed(first.gpuEstimateUs / shown[1].gpuEstimateUs, 2))\(g.times))"
        }
        return line
    }

    /// Draws the table into `area`; `current` is the row of the launch the grids show, if any.
    static func render(_ report: LayerReport, strategies: [Strategy], current: Int?, glyphs g: Glyphs,
                       area: Rect, into canvas: inout Canvas) {
        var columns = columns(report, strategies: strategies)
        let width = { (c: Column) in ([c.header, c.total] + c.cells).map(Format.width).max() ?? 0 }
        // Columns give way by rank until the table fits.
        while columns.map({ width($0) + 2 }).reduce(0, +) > area.width,
              let rank = columns.map(\.givesWay).filter({ $0 > 0 }).min() {
            columns.removeAll { $0.givesWay == rank }
        }
        let widths = columns.map(width)
        func line(_ cells: [String]) -> String {
            zip(columns, zip(cells, widths)).map { c, cw in
                let pad = String(repeating: " ", count: max(0, cw.1 - Format.width(cw.0)))
                return c.rightAligned ? pad + cw.0 : cw.0 + pad
            }.joined(separator: "  ")
        }
        let layers = report.layers.map { " of \($0)" } ?? ""
        var y = area.y
        // The header, eight launches and the total need 10 rows; the title comes first only when it fits too.
        if area.height >= 11 {
            let long = "layer \(report.layer)\(layers): the eight LoRA launches of one decoder layer "
                + "(\(report.gpu) estimates; j/k choose a launch, Enter or L shows its grids)"
            let short = "layer \(report.layer)\(layers)\(g.separator)\(report.gpu) estimates\(g.separator)j/k launch, Enter grids"
            canvas.put(Format.width(long) <= area.width ? long : short, x: area.x, y: y, style: .title, maxWidth: area.width)
            y += 1
        }
        canvas.put(line(columns.map(\.header)), x: area.x, y: y, style: CellStyle(.dim, bold: true), maxWidth: area.width)
        y += 1
        for row in report.launches.indices where y < area.maxY {
            let selected = row == current
            let text = line(columns.map { $0.cells[row] })
            if selected {
                canvas.fill(Rect(x: area.x, y: y, width: min(area.width, Format.width(text)), height: 1),
                            with: Cell(" ", CellStyle(.accent, reverse: true)))
            }
            canvas.put(text, x: area.x, y: y, style: selected ? CellStyle(.accent, reverse: true) : .normal, maxWidth: area.width)
            // A marker too, for screens without reverse video (and text files).
            if selected, area.x > 0 { canvas.put(g.isASCII ? ">" : "▶", x: area.x - 1, y: y, style: .accent) }
            y += 1
        }
        guard y < area.maxY else { return }
        canvas.put(line(columns.map(\.total)), x: area.x, y: y, style: CellStyle(.normal, bold: true), maxWidth: area.width)
        y += 1
        for t in report.totals where strategies.contains(where: { $0.name == t.strategy }) && y < area.maxY {
            var s = "\(t.strategy): \(Format.fixed(t.gpuEstimateUs, 1)) µs a layer (estimate)"
            // Each later field whole, in its longest wording that fits (at 80 columns "…once per forward" was cut).
            var fields: [[String]] = []
            if let layers = report.layers {
                fields.append(["\(layers) layers \(Format.fixed(t.gpuEstimateUs * Double(layers), 1)) µs"])
            }
            if t.strategy == Strategy.sorted.name, let b = report.routingBuildUs {
                let us = Format.fixed(b, 1)
                fields.append(["+ routing build \(us) µs once per forward pass (H200, measured)", "+ routing build \(us) µs a pass"])
            }
            for variants in fields {
                if let fit = variants.first(where: { Format.width(s + g.separator + $0) <= area.width }) {
                    s += g.separator + fit
                } else if y + 1 < area.maxY, let fit = variants.first(where: { Format.width("  " + $0) <= area.width }) {
                    // A row of its own where one is free.
                    canvas.put(s, x: area.x, y: y, style: .dim, maxWidth: area.width)
                    y += 1
                    s = "  " + fit
                } else {
                    break
                }
            }
            canvas.put(s, x: area.x, y: y, style: .dim, maxWidth: area.width)
            y += 1
        }
    }
}
