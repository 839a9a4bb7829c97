import LoRAKernels
import LoRAScenario

/// Kernel timings and estimates for the strategies the panes show: the GPU
/// estimate of each (headline and terms) from the first frame; after a run
/// every chosen strategy's median, spread, GFLOP/s, max error vs fp64 and max
/// |Δ| against the first, the panes' ratio and bitwise equality; or the run's
/// progress.
public enum RunPanel {
    /// Draws the panel; returns whether some of its lines did not fit.
    @discardableResult
    public static func render(_ state: AppState, area: Rect, into canvas: inout Canvas) -> Bool {
        let (title, lines) = content(state, width: area.width)
        canvas.box(area, title: title, glyphs: state.glyphs)
        return PanelText(lines: lines).render(in: area.inset(1), glyphs: state.glyphs, into: &canvas)
    }

    /// The panel's title (its top edge) and lines for a panel `width` columns wide.
    static func content(_ state: AppState, width areaWidth: Int) -> (title: String, lines: [PanelText.Line]) {
        let g = state.glyphs
        let session = state.session
        let panes = state.panes
        let stale = session.lastRun != nil && session.freshRun == nil
        var title = "run"
        if state.run == nil, session.lastRun != nil, stale {
            title = Format.width("run (stale: batch changed, r reruns)") <= areaWidth - 4 ? "run (stale: batch changed, r reruns)"
                : "run (stale: r reruns)"
        }
        // The GPU estimate needs no run: it is there from the first frame, in
        // the box's top edge when it fits there (the rows below hold the CPU run).
        let sep = g.isASCII ? " - " : " · "
        // The model writes `→`; in ASCII it reads `->`, as every arrow of the screen does.
        let headline = self.headline(state.plans, panes).replacingOccurrences(of: "→", with: g.arrow)
        let compactHeadline = self.compactHeadline(state.plans, panes).replacingOccurrences(of: "→", with: g.arrow)
        let titled = Format.width(title + sep + headline) <= areaWidth - 4
        // The box's inside less a column of margin each side.
        let width = areaWidth - 4
        var lines: [PanelText.Line] = []
        if !titled {
            lines.append(PanelText.Line(variants: [headline, compactHeadline], style: CellStyle(.accent, bold: true), rank: 0))
        }
        // The panes' estimates term by term; after a run they give way to the timings.
        lines += breakdownLines(state.plans, panes: panes, focus: state.focus, width: width, glyphs: g,
                                rank: session.lastRun == nil ? 1 : 3)
        if let run = state.run {
            let spin = g.spinner[Int(state.now * 10) % g.spinner.count]
            let barWidth = max(4, min(30, width - 16))
            let filled = Int((run.fraction * Double(barWidth)).rounded(.down))
            let bar = String(repeating: Character(g.barFull), count: filled)
                + String(repeating: Character(g.barEmpty), count: barWidth - filled)
            lines.append(PanelText.Line("running \(spin) \(Format.percent(run.fraction)) [\(bar)]", style: .accent, rank: 0))
            lines.append(PanelText.Line("\(run.workload.kernel.name) \(run.workload.dtype.rawValue), \(strategiesPhrase(run.strategies)), \(run.reps) reps + warm-up",
                                        rank: 2))
            lines.append(PanelText.Line("keys keep working; a change of batch cancels the run", style: .dim, rank: 3))
        }
        if let result = session.lastRun {
            let body: CellStyle = stale ? .dim : .normal
            // Where the CPU and the GPU estimate point different ways, the line
            // saying why outranks the timing table, which shrinks to one line.
            // The model's wording speaks of a per-sequence launch on the left.
            var why: String?
            if !stale, panes.count == 2, panes[0] == .perSequence, let l = result.run(panes[0]), let r = result.run(panes[1]),
               r.time.median > 0 {
                let gpu = GPUComparison(profile: state.plans.profile, perSequence: state.plans.estimate(panes[0]),
                                        sorted: state.plans.estimate(panes[1]))
                why = gpu.explanation(cpuSpeedup: l.time.median / r.time.median)
            }
            if let why {
                lines.append(PanelText.Line(why, style: CellStyle(.warning), rank: 0))
                let times = result.routings.map { "\($0.routing.shortName) \(Format.significant($0.time.median)) ms" }
                lines.append(PanelText.Line("CPU " + times.joined(separator: ", "), style: body, rank: 1))
            } else {
                lines += timingLines(result, width: width, glyphs: g).map { PanelText.Line(variants: $0, style: body, rank: 1) }
            }
            if let outcome = pairLine(result, panes: panes, glyphs: g) {
                lines.append(PanelText.Line(outcome.text, style: stale ? .dim : CellStyle(outcome.equal ? .good : .warning, bold: true),
                                            rank: 0))
            }
            if let note = differenceNote(result, glyphs: g) {
                lines.append(PanelText.Line(note, style: stale ? .dim : CellStyle(.warning), rank: 2))
            }
            lines.append(PanelText.Line(
                "\(result.workload.kernel.name) \(result.workload.dtype.rawValue) · \(result.threads) threads · \(result.routings[0].time.samples.count) reps",
                style: .dim, rank: 3))
        } else if state.run == nil {
            let what = strategiesPhrase(session.strategies)
            lines.append(PanelText.Line("no run yet: r runs the kernels", style: .dim, rank: 0))
            lines.append(PanelText.Line(variants: ["\(what), SIMD on the CPU, checked against fp64",
                                                   "\(what), SIMD, vs fp64"], style: .dim, rank: 2))
        }
        return (titled ? title + sep + headline : title, lines)
    }

    /// What a run covers: `both routings` for SGLang triton's two, `both
    /// strategies` for another pair, `3 strategies`, or the one strategy's name.
    static func strategiesPhrase(_ strategies: [Strategy]) -> String {
        switch strategies.count {
        case 1: return strategies[0].name
        case 2: return Set(strategies) == Set(Strategy.defaults) ? "both routings" : "both strategies"
        default: return "\(strategies.count) strategies"
        }
    }

    /// The status line after a run: the per-sequence/sorted speedup when both
    /// ran, else every strategy's median.
    static func finishedSummary(_ result: KernelRunResult, glyphs g: Glyphs) -> String {
        if result.run(.perSequence) != nil, result.run(.sorted) != nil {
            return "speedup \(Format.fixed(result.speedup, 2))\(g.times)"
        }
        return result.routings.map { "\($0.routing.shortName) \(Format.significant($0.time.median)) ms" }.joined(separator: ", ")
    }

    /// The label of the panes' estimates: the profile's, or `H200 est.
    /// (uncalibrated for vllm)` where a pane's kernels were never measured.
    static func estimateLabel(_ profile: GPUProfile, _ panes: [Strategy]) -> String {
        let unmeasured = panes.filter { profile.calibrated && !profile.isCalibrated(for: $0) }
        if unmeasured.count <= 1 { return profile.estimateLabel(for: unmeasured.first ?? panes[0]) }
        return "\(profile.displayName) est. (uncalibrated for \(unmeasured.map(\.name).joined(separator: ", ")))"
    }

    /// `H200 est. 352 µs → 55 µs, 6.4×`: the left pane's estimate, the right
    /// one's, and left ÷ right (how much faster the right one is); one pane: its estimate.
    static func headline(_ plans: AppState.Plans, _ panes: [Strategy]) -> String {
        let label = estimateLabel(plans.profile, panes)
        let us = panes.map { plans.estimate($0).totalUs }
        guard us.count == 2 else { return "\(label) \(formatMicroseconds(us[0]))" }
        return "\(label) \(formatMicroseconds(us[0])) → \(formatMicroseconds(us[1])), \(formatRatio(us[0] / us[1]))"
    }

    /// The headline for narrow panels: `H200 est. 6.4×: 352→55 µs`.
    static func compactHeadline(_ plans: AppState.Plans, _ panes: [Strategy]) -> String {
        let label = estimateLabel(plans.profile, panes)
        let us = panes.map { plans.estimate($0).totalUs }
        guard us.count == 2 else { return "\(label) \(formatMicroseconds(us[0]))" }
        let a = formatMicroseconds(us[0]), b = formatMicroseconds(us[1])
        // One unit for both when they share it: `352→55 µs`, else `2.35 ms→55 µs`.
        let first = a.hasSuffix(" µs") && b.hasSuffix(" µs") ? String(a.dropLast(3)) : a
        return "\(label) \(formatRatio(us[0] / us[1])): \(first)→\(b)"
    }

    /// The panes' estimates term by term (docs/gpu-model.md), under a heading
    /// that names the terms: `per-seq 2.2 + (0.3, 0.0 + 1.1, 0.4) compute-bound`.
    ///
    /// Where a pane's terms do not fit on one row, one line says what bounds
    /// each launch instead (`bound: compute → exits`). The focused pane's line
    /// is kept longest; the heading gives way first.
    static func breakdownLines(_ plans: AppState.Plans, panes: [Strategy], focus: Strategy, width: Int, glyphs g: Glyphs,
                               rank: Int) -> [PanelText.Line] {
        let nameWidth = panes.map { Format.width($0.shortName) }.max() ?? 0
        // `compactSummary` is the model's own wording; shorter forms drop its unit (the heading
        // has it), then the "-bound".
        let variants = panes.map { kind -> (Strategy, [String]) in
            let terms = Format.pad(kind.shortName, nameWidth) + " " + plans.estimate(kind).compactSummary
            let unitless = terms.replacingOccurrences(of: " µs, ", with: " ")
            return (kind, [terms, unitless, unitless.replacingOccurrences(of: "-bound", with: "")])
        }
        guard variants.allSatisfy({ Format.width($0.1.last!) <= width }) else {
            let bounds = panes.map { plans.estimate($0).bound.rawValue }
            let named = zip(panes, bounds).map { "\($0.shortName) \($1)-bound" }.joined(separator: ", ")
            return [PanelText.Line(variants: [named, "bound: " + bounds.joined(separator: " \(g.arrow) ")],
                                   style: .dim, rank: rank)]
        }
        // Both lines in one wording, the longest that fits them both, so they read as one table.
        let form = (0..<3).first { i in variants.allSatisfy { Format.width($0.1[i]) <= width } } ?? 2
        var lines = [PanelText.Line("µs: floor+norm4(longest+held, exits+compute, mem.)", style: .dim, rank: rank + 1)]
        for (kind, texts) in variants {
            lines.append(PanelText.Line(variants: Array(texts[form...]), style: .dim, rank: kind == focus ? rank : rank + 1))
        }
        return lines
    }

    /// Every chosen strategy's timing, as a table with a heading when `width`
    /// allows, else one line per strategy in the longest wording that fits.
    /// With more than two strategies a column gives each one's max |Δ|
    /// against the first (`same bits` where they agree bit for bit); the
    /// spread gives way to it first.
    static func timingLines(_ result: KernelRunResult, width: Int, glyphs g: Glyphs) -> [[String]] {
        let dash = g.isASCII ? "-" : "–"
        let first = result.routings[0]
        let withDiff = result.routings.count > 2
        func diff(_ r: RoutingRun) -> String {
            r.routing == first.routing ? dash : r.bitwiseEqualToFirst ? "same bits" : Format.scientific(r.maxAbsDiffVsFirst)
        }
        let rows = result.routings.map { r in
            [r.routing.shortName, Format.significant(r.time.median),
             "\(Format.significant(r.time.min))\(dash)\(Format.significant(r.time.max))",
             Format.significant(r.gflops), Format.scientific(r.maxAbsErrorVsReference), diff(r)]
        }
        let heading = ["", "median ms", "range ms", "GFLOP/s", "max err", "|\(g.delta)| vs \(first.routing.shortName)"]
        // Columns in the order shown; each layout drops what the next one cannot hold.
        let layouts: [[Int]] = withDiff ? [[0, 1, 2, 3, 4, 5], [0, 1, 3, 4, 5], [0, 1, 4, 5]] : [[0, 1, 2, 3, 4]]
        for columns in layouts {
            let table = ([heading] + rows).map { row in columns.map { row[$0] } }
            let widths = columns.indices.map { c in table.map { Format.width($0[c]) }.max()! }
            let tableWidth = widths.reduce(0, +) + 2 * (widths.count - 1)
            if tableWidth <= width {
                return table.map { row in
                    var line = zip(row, widths).map { Format.pad($0, $1) }.joined(separator: "  ")
                    while line.last == " " { line.removeLast() }
                    return [line]
                }
            }
        }
        if withDiff {
            // Too narrow for a table of three or more: one line that wraps, every median and |Δ|.
            let entries = rows.map { r in "\(r[0]) \(r[1])" + (r[5] == dash ? "" : r[5] == "same bits" ? " (same bits)" : " (|\(g.delta)| \(r[5]))") }
            return [["CPU ms: " + entries.joined(separator: ", ")]]
        }
        let nameWidth = max(8, (rows.map { Format.width($0[0]) }.max() ?? 0) + 1)
        return rows.map { r in
            let name = Format.pad(r[0], nameWidth)
            let d = withDiff && r[5] != dash ? " |\(g.delta)| \(r[5])" : ""
            return ["\(name)\(r[1]) ms (\(r[2])) \(r[3]) GFLOP/s err \(r[4])\(d)",
                    "\(name)\(r[1]) ms \(r[3]) GFLOP/s err \(r[4])\(d)",
                    "\(name)\(r[1]) ms err \(r[4])\(d)"]
        }
    }

    /// The panes' CPU ratio, max |Δ| and bitwise equality (`speedup 1.52×  max
    /// |Δ| 0  bitwise equal: yes` for per-sequence → sorted; the pair named
    /// otherwise), from what the run measured: the two against each other
    /// when the run compared them, else each against the first strategy
    /// (exact when one of them is the first or agrees with it bit for bit,
    /// else a bound). Nil with one pane or a pane the run did not cover.
    static func pairLine(_ result: KernelRunResult, panes: [Strategy], glyphs g: Glyphs) -> (text: String, equal: Bool)? {
        guard panes.count == 2, let l = result.run(panes[0]), let r = result.run(panes[1]) else { return nil }
        let first = result.routings[0].routing
        var diff: String, equal: Bool?
        if let pair = result.pair, Set([pair.0.routing, pair.1.routing]) == Set(panes) {
            (diff, equal) = (Format.scientific(result.maxAbsDiffBetweenRoutings), result.bitwiseEqual)
        } else if l.routing == first || l.bitwiseEqualToFirst {
            (diff, equal) = (Format.scientific(r.maxAbsDiffVsFirst), r.bitwiseEqualToFirst)
        } else if r.routing == first || r.bitwiseEqualToFirst {
            (diff, equal) = (Format.scientific(l.maxAbsDiffVsFirst), false)
        } else {
            // Both differ from the first: |l − r| ≤ |l − first| + |first − r|.
            (diff, equal) = ("<= " + Format.scientific(l.maxAbsDiffVsFirst + r.maxAbsDiffVsFirst), nil)
        }
        let ratio = r.time.median > 0 ? l.time.median / r.time.median : 0
        let head = panes == Strategy.defaults ? "speedup" : "\(l.routing.shortName)\(g.arrow)\(r.routing.shortName)"
        let bits = equal.map { "  bitwise equal: \($0 ? "yes" : "NO")" } ?? ""
        return ("\(head) \(Format.fixed(ratio, 2))\(g.times)  max |\(g.delta)| \(diff)\(bits)", equal ?? false)
    }

    /// Why strategies differ from the first bit for bit: vLLM's split-K shrink
    /// sums each cell in `SPLIT_K` fp32 partial sums, another order.
    static func differenceNote(_ result: KernelRunResult, glyphs g: Glyphs) -> String? {
        let differing = result.routings.dropFirst().filter { !$0.bitwiseEqualToFirst }
        guard !differing.isEmpty else { return nil }
        let first = result.routings[0].routing.name
        let names = differing.map(\.routing.name).joined(separator: ", ")
        if differing.allSatisfy({ $0.routing == .vllm }) && result.workload.kernel.isShrink {
            return "vllm's split-K adds fp32 partial sums in another order: not bitwise equal to \(first)"
        }
        return "\(names) not bitwise equal to \(first)"
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
        }
        canvas.box(area, title: title, glyphs: g, style: .dim, titleStyle: .accent)
        let inner = area.inset(1)
        var lines: [PanelText.Line] = []
        if let r = state.replay, let step = r.current {
            // The source line as written; a long one is shortened, visibly (the narration below wraps).
            let text = "\(step.location.line): \(step.text.trimmingSpaces)"
            let room = inner.width - 2
            let short = Format.width(text) <= room ? text : Format.fitWords(text, width: room - 1) + String(g.ellipsis)
            lines.append(PanelText.Line(variants: [short], style: .dim, rank: 1))
        }
        if let text = state.session.narration {
            lines.append(PanelText.Line(text, rank: 0))
        }
        let elided = PanelText(lines: lines).render(in: inner, glyphs: g, into: &canvas)
        // The message log holds the narration in full.
        let mark = " M: all "
        if elided, state.session.narration != nil, area.width > Format.width(mark) + 4 {
            canvas.put(mark, x: area.maxX - 2 - Format.width(mark), y: area.maxY - 1, style: CellStyle(.accent))
        }
    }
}

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

/// The message log (`M`): every status message of the session, in full and
/// wrapped, newest last, scrolled with ↑↓ PgUp PgDn Home End.
public enum MessageLogOverlay {
    /// The log's lines at a width: each message wrapped, errors marked `!`, with its time.
    static func lines(_ log: [LogEntry], width: Int) -> [(String, isError: Bool)] {
        var out: [(String, Bool)] = []
        for entry in log {
            let stamp = Format.fixed(entry.time, 1) + "s " + (entry.message.isError ? "! " : "  ")
            let indent = String(repeating: " ", count: Format.width(stamp))
            for (i, row) in Format.wrap(entry.message.text, width: max(8, width - Format.width(stamp))).enumerated() {
                out.append(((i == 0 ? stamp : indent) + row, entry.message.isError))
            }
        }
        return out
    }

    public static func render(_ state: AppState, into canvas: inout Canvas) {
        let g = state.glyphs
        let area = Rect(x: 0, y: 0, width: state.width, height: state.height)
        canvas.fill(area)
        let title = "messages (\(state.messageLog.count)) · newest last · ↑↓ PgUp PgDn scroll · Esc closes"
        canvas.box(area, title: title, glyphs: g, style: .accent)
        let inner = area.inset(1)
        guard !state.messageLog.isEmpty else {
            canvas.put("no messages yet", x: inner.x + 1, y: inner.y, style: .dim, maxWidth: inner.width - 2)
            return
        }
        // Only the newest messages that can show are wrapped (a long session's log stays cheap to draw).
        let needed = inner.height + (state.logScroll ?? 0)
        var all: [(String, isError: Bool)] = []
        var older = state.messageLog.count
        for entry in state.messageLog.reversed() where all.count < needed {
            all.insert(contentsOf: lines([entry], width: area.width - 4), at: 0)
            older -= 1
        }
        // Scrolled by lines from the end: 0 shows the newest at the bottom.
        let scroll = min(state.logScroll ?? 0, max(0, all.count - inner.height))
        let end = all.count - scroll
        let start = max(0, end - inner.height)
        for (row, line) in all[start..<end].enumerated() {
            canvas.put(line.0, x: inner.x + 1, y: inner.y + row, style: line.isError ? .error : .normal, maxWidth: inner.width - 2)
        }
        // Markers on the frame's bottom edge, clear of the title.
        var marks: [String] = []
        if start > 0 || older > 0 { marks.append("↑ older") }
        if scroll > 0 { marks.append("↓ \(scroll) more (End: newest)") }
        if !marks.isEmpty { canvas.put(" " + marks.joined(separator: " · ") + " ", x: inner.x + 2, y: area.maxY - 1, style: .dim) }
    }
}

/// The help's second page (`?` twice): what the screen's notation and words
/// mean, and every fate with its glyph, from `ProgramFate` (one source).
public enum GlossaryOverlay {
    /// The glossary's entries: a term and what it means.
    static func entries(glyphs g: Glyphs) -> [(term: String, meaning: String)] {
        let times = g.times
        // The fates first: they are what the grids are coloured by.
        var out: [(String, String)] = ProgramFate.allCases.map { ("\(g.glyph($0)) \($0.label)", $0.explanation) }
        out += [
            ("grid [128, 26, 1]", "the launch's grid as the report and `expect` write it: x the pids, y the slices of a fused expand (1 if none), z the segments (26)"),
            ("pids 8\(times)16", "axis x's pids as row tiles \(times) column tiles (8\(times)16 = 128; vLLM: splits \(times) row tiles \(times) column tiles)"),
            ("blocks 16\(times)256\(times)16", "BLOCK_M \(times) BLOCK_N \(times) BLOCK_K: the rows, columns and K step of one program; `split 64` where vLLM splits K"),
            ("zoom 1:7\(times)19", "one screen cell shows 7 pids across and 19 grid rows down; a mixed cell's glyph (\(g.isASCII ? "1-7" : "▁▂▃▄▅▆▇")) says how much of it works"),
            ("launched · working", "programs in the grid · those that run their K loop (masked-out, partial, full)"),
            ("util", "row utilisation: valid rows ÷ (BLOCK_M \(times) working programs); decode puts one token in a 16-row tile"),
            ("W", "bytes of adapter weights the working programs load"),
            ("H200 est.", "an estimate of the launch on that GPU from the cost model (docs/gpu-model.md), never a measurement; `(uncalibrated)` on profiles not fitted to their own GPU"),
            ("measured", "the real kernels' time on a GPU, from a gpu-bench results file of this batch (a CUDA graph of 20 calls)"),
            ("S", "the batch's tokens (SGLang's name; the header's `tokens` where there is room); the sorted grid's max_len = S"),
            ("segment · slot", "a run of token rows served by one adapter slot: a sequence (per-sequence) or a slot's tokens (sorted)"),
        ]
        return out
    }

    /// The glossary as rows of `width` columns: a term on its entry's first row, the meaning wrapped beside it.
    static func rows(glyphs g: Glyphs, width: Int) -> [(term: String?, text: String)] {
        let terms = entries(glyphs: g)
        let termWidth = min(22, terms.map { Format.width($0.term) }.max() ?? 0) + 2
        var out: [(String?, String)] = []
        for (term, meaning) in terms {
            for (i, row) in Format.wrap(meaning, width: max(10, width - termWidth - 2)).enumerated() {
                out.append((i == 0 ? term : nil, row))
            }
        }
        return out
    }

    /// The first row shown at `scroll` on a screen of `height` rows (clamped so the last row stays at the bottom).
    static func firstRow(scroll: Int, rowCount: Int, height: Int) -> Int {
        let visible = height - 2
        guard rowCount > visible else { return 0 }
        // Two rows give way to the `↑ more` / `↓ more` marks.
        return min(max(0, scroll), rowCount - (visible - 2))
    }

    public static func render(_ state: AppState, into canvas: inout Canvas) {
        let g = state.glyphs
        let area = Rect(x: 0, y: 0, width: state.width, height: state.height)
        canvas.fill(area)
        let inner = area.inset(1)
        let all = rows(glyphs: g, width: inner.width)
        let scrolls = all.count > inner.height
        let title = scrolls ? "what the screen's words mean · j/k scroll · other keys close"
            : "what the screen's words mean · any key closes"
        canvas.box(area, title: Format.width(title) <= area.width - 4 ? title : "glossary · j/k scroll", glyphs: g, style: .accent)
        let termWidth = min(22, entries(glyphs: g).map { Format.width($0.term) }.max() ?? 0) + 2
        let first = firstRow(scroll: state.glossaryScroll, rowCount: all.count, height: state.height)
        // With marks: one row above (`↑ more` or blank), one below (`↓ more` or the docs' pointer).
        let top = scrolls ? inner.y + 1 : inner.y
        let shown = scrolls ? inner.height - 2 : inner.height
        if scrolls && first > 0 {
            canvas.put((g.isASCII ? "^ more" : "↑ more") + " (k scrolls up)", x: inner.x + 1, y: inner.y, style: .dim)
        }
        for (i, row) in all.dropFirst(first).prefix(shown).enumerated() {
            if let term = row.term {
                canvas.put(term, x: inner.x + 1, y: top + i, style: CellStyle(.accent, bold: true), maxWidth: termWidth)
            }
            canvas.put(row.text, x: inner.x + 1 + termWidth, y: top + i, style: .normal, maxWidth: inner.width - termWidth - 2)
        }
        if scrolls {
            let last = first + shown >= all.count
            let text = last ? "docs/kernels.md and docs/strategies.md explain them all"
                : (g.isASCII ? "v more" : "↓ more") + " (j scrolls down)"
            canvas.put(text, x: inner.x + 1, y: inner.maxY - 1, style: .dim, maxWidth: inner.width - 2)
        }
    }
}
