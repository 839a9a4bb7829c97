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
        // How far to trust the estimate's direction: the held-out record at this
        // distance from a band edge (98.5 % far from both, 75.4 % within 5 %).
        if panes == [.perSequence, .sorted], let record = state.plans.profile.directionRecord {
            let speedup = state.plans.estimate(.perSequence).totalUs / state.plans.estimate(.sorted).totalUs
            lines.append(PanelText.Line(variants: record.compactNotes(for: speedup), style: .dim,
                                        rank: session.lastRun == nil ? 3 : 4))
        }
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
