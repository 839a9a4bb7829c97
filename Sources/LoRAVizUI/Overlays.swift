import LoRAKernels
import LoRAScenario

/// Kernel timings: per routing median and spread, GFLOP/s, max error vs fp64,
/// speedup, between-routing max |Δ| and "bitwise equal"; or the run's progress.
public enum RunPanel {
    public static func render(_ state: AppState, area: Rect, into canvas: inout Canvas) {
        let g = state.glyphs
        let session = state.session
        var title = "run"
        if state.run == nil, session.lastRun != nil, session.runIsStale {
            title = Format.width("run (stale: batch changed, r reruns)") <= area.width - 4 ? "run (stale: batch changed, r reruns)"
                : "run (stale: r reruns)"
        }
        // The GPU estimate needs no run: it is there from the first frame, in
        // the box's top edge when it fits there (the rows below hold the CPU run).
        let gpu = state.plans.gpu
        let sep = g.isASCII ? " - " : " · "
        // The model writes `→`; in ASCII it reads `->`, as every arrow of the screen does.
        let headline = gpu.headline.replacingOccurrences(of: "→", with: g.arrow)
        let compactHeadline = gpu.compactHeadline.replacingOccurrences(of: "→", with: g.arrow)
        let titled = Format.width(title + sep + headline) <= area.width - 4
        canvas.box(area, title: titled ? title + sep + headline : title, glyphs: g)
        let inner = area.inset(1)
        let width = inner.width - 2
        var lines: [PanelText.Line] = []
        if !titled {
            lines.append(PanelText.Line(variants: [headline, compactHeadline], style: CellStyle(.accent, bold: true), rank: 0))
        }
        // Both launches' estimates term by term; after a run they give way to the timings.
        lines += breakdownLines(gpu, focus: state.focus, width: width, glyphs: g, rank: session.lastRun == nil ? 1 : 3)
        if let run = state.run {
            let spin = g.spinner[Int(state.now * 10) % g.spinner.count]
            let barWidth = max(4, min(30, width - 16))
            let filled = Int((run.fraction * Double(barWidth)).rounded(.down))
            let bar = String(repeating: Character(g.barFull), count: filled)
                + String(repeating: Character(g.barEmpty), count: barWidth - filled)
            lines.append(PanelText.Line("running \(spin) \(Format.percent(run.fraction)) [\(bar)]", style: .accent, rank: 0))
            lines.append(PanelText.Line("\(run.workload.kernel.name) \(run.workload.dtype.rawValue), both routings, \(run.reps) reps + warm-up",
                                        rank: 2))
            lines.append(PanelText.Line("keys keep working; a change of batch cancels the run", style: .dim, rank: 3))
        }
        if let result = session.lastRun {
            let stale = session.runIsStale
            let body: CellStyle = stale ? .dim : .normal
            // Where the CPU and the GPU estimate point different ways, the line
            // saying why outranks the timing table, which shrinks to one line.
            let why = !stale && result.workload == state.plans.workload ? gpu.explanation(cpuSpeedup: result.speedup) : nil
            if let why {
                lines.append(PanelText.Line(why, style: CellStyle(.warning), rank: 0))
                let times = result.routings.map { "\($0.routing == .sorted ? "sorted" : "per-seq") \(Format.significant($0.time.median)) ms" }
                lines.append(PanelText.Line("CPU " + times.joined(separator: ", "), style: body, rank: 1))
            } else {
                lines += timingLines(result, width: width, glyphs: g).map { PanelText.Line(variants: $0, style: body, rank: 1) }
            }
            let equal = result.bitwiseEqual ? "bitwise equal: yes" : "bitwise equal: NO"
            lines.append(PanelText.Line(
                "speedup \(Format.fixed(result.speedup, 2))\(g.times)  max |\(g.delta)| \(Format.scientific(result.maxAbsDiffBetweenRoutings))  \(equal)",
                style: stale ? .dim : CellStyle(result.bitwiseEqual ? .good : .warning, bold: true), rank: 0))
            lines.append(PanelText.Line(
                "\(result.workload.kernel.name) \(result.workload.dtype.rawValue) · \(result.threads) threads · \(result.perSequence.time.samples.count) reps"
                    .replacingOccurrences(of: "·", with: g.isASCII ? "-" : "·"), style: .dim, rank: 3))
        } else if state.run == nil {
            lines.append(PanelText.Line("no run yet: r runs the kernels", style: .dim, rank: 0))
            lines.append(PanelText.Line(variants: ["both routings, SIMD on the CPU, checked against fp64",
                                                   "both routings, SIMD, vs fp64"], style: .dim, rank: 2))
        }
        PanelText(lines: lines).render(in: inner, glyphs: g, into: &canvas)
    }

    /// Both routings' GPU estimates term by term (docs/gpu-model.md), under a
    /// heading that names the terms: `per-seq 2.2 + max(0.3, 0.0 + 1.1, 0.4) compute-bound`.
    ///
    /// Where a routing's terms do not fit on one row, one line says what
    /// bounds each launch instead (`bound: compute → exits`). The focused
    /// grid's line is kept longest; the heading gives way first.
    static func breakdownLines(_ gpu: GPUComparison, focus: Strategy, width: Int, glyphs g: Glyphs,
                               rank: Int) -> [PanelText.Line] {
        let estimates = [(Strategy.perSequence, "per-seq", gpu.perSequence), (.sorted, "sorted ", gpu.sorted)]
        // `compactSummary` is the model's own wording; shorter forms drop its unit (the heading
        // has it), then the "-bound".
        let variants = estimates.map { kind, name, e -> (Strategy, [String]) in
            let terms = name + " " + e.compactSummary
            let unitless = terms.replacingOccurrences(of: " µs, ", with: " ")
            return (kind, [terms, unitless, unitless.replacingOccurrences(of: "-bound", with: "")])
        }
        guard variants.allSatisfy({ Format.width($0.1.last!) <= width }) else {
            let a = gpu.perSequence.bound.rawValue, b = gpu.sorted.bound.rawValue
            return [PanelText.Line(variants: ["per-seq \(a)-bound, sorted \(b)-bound", "bound: \(a) \(g.arrow) \(b)"],
                                   style: .dim, rank: rank)]
        }
        var lines = [PanelText.Line("µs: floor+max(longest+held, exits+compute, memory)", style: .dim, rank: rank + 1)]
        for (kind, texts) in variants {
            lines.append(PanelText.Line(variants: texts, style: .dim, rank: kind == focus ? rank : rank + 1))
        }
        return lines
    }

    /// Each routing's timing, as a table with a heading when `width` allows,
    /// else one line per routing in the longest wording that fits.
    static func timingLines(_ result: KernelRunResult, width: Int, glyphs g: Glyphs) -> [[String]] {
        let dash = g.isASCII ? "-" : "–"
        let rows = result.routings.map { r in
            [r.routing == .sorted ? "sorted" : "per-seq", Format.significant(r.time.median),
             "\(Format.significant(r.time.min))\(dash)\(Format.significant(r.time.max))",
             Format.significant(r.gflops), Format.scientific(r.maxAbsErrorVsReference)]
        }
        let table = [["", "median ms", "range ms", "GFLOP/s", "max err"]] + rows
        let columns = (0..<5).map { c in table.map { Format.width($0[c]) }.max()! }
        let tableWidth = columns.reduce(0, +) + 2 * (columns.count - 1)
        if tableWidth <= width {
            return table.map { row in
                var line = zip(row, columns).map { Format.pad($0, $1) }.joined(separator: "  ")
                while line.last == " " { line.removeLast() }
                return [line]
            }
        }
        return rows.map { r in
            let name = Format.pad(r[0], 8)
            return ["\(name)\(r[1]) ms (\(r[2])) \(r[3]) GFLOP/s err \(r[4])",
                    "\(name)\(r[1]) ms \(r[3]) GFLOP/s err \(r[4])",
                    "\(name)\(r[1]) ms err \(r[4])"]
        }
    }
}

/// The narration of a scenario (wrapped), and in replay the step counter,
/// the current line of the file, the speed and whether it is paused.
public enum NarrationPanel {
    public static func render(_ state: AppState, area: Rect, into canvas: inout Canvas) {
        let g = state.glyphs
        var title = "narration"
        if let r = state.replay {
            let p = r.player
            let mode = p.isFinished ? "done" : p.isWaitingForKey ? "waiting: space" : p.isPaused ? "paused"
                : p.isAwaitingRun ? "running kernels" : "playing"
            title = "replay \(r.scenario.file) · step \(r.stepsApplied)/\(p.stepCount)"
                + " · \(Format.speed(p.speed))\(g.times) · \(mode)"
            if g.isASCII { title = title.replacingOccurrences(of: "·", with: "-") }
        }
        canvas.box(area, title: title, glyphs: g, style: .dim, titleStyle: .accent)
        let inner = area.inset(1)
        var lines: [PanelText.Line] = []
        if let r = state.replay, let step = r.current {
            // The source line as written; a long one is shortened, visibly (the narration below wraps).
            let text = "\(step.location.line): \(step.text.trimmingSpaces)"
            let room = inner.width - 2
            let short = Format.width(text) <= room ? text
                : String(String.UnicodeScalarView(text.unicodeScalars.prefix(max(0, room - 1)))) + String(g.ellipsis)
            lines.append(PanelText.Line(variants: [short], style: .dim, rank: 1))
        }
        if let text = state.session.narration {
            lines.append(PanelText.Line(text, rank: 0))
        }
        PanelText(lines: lines).render(in: inner, glyphs: g, into: &canvas)
    }
}

/// Every key, generated from `KeyBinding.table`, in two columns.
public enum HelpOverlay {
    /// The overlay's lines for a column width: group headings, then `keys  summary`.
    public static func lines(columnWidth: Int, glyphs: Glyphs, withCommands: Bool) -> [(String, Bool)] {
        var lines: [(String, Bool)] = []
        func keys(_ b: KeyBinding) -> String {
            b.keys.map { glyphs.isASCII ? $0.asciiDescription : $0.description }.joined(separator: " ")
        }
        let keyWidth = KeyBinding.table.map { Format.width(keys($0)) }.max()! + 1
        for group in KeyBinding.Group.allCases {
            lines.append((group.rawValue, true))
            for binding in KeyBinding.table where binding.group == group {
                var text = Format.pad(keys(binding), keyWidth) + binding.summary
                if withCommands, let shape = binding.commandShape { text += "  [\(shape)]" }
                lines.append((text, false))
            }
        }
        return lines
    }

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
        let title = "keys · any key closes · batch keys are commands you can type after :"
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
                if rows.count > 1 + spare {
                    rows = Array(rows.prefix(1 + spare))
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
