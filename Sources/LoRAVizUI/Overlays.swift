import LoRAKernels
import LoRAScenario

/// Kernel timings: per routing median and spread, GFLOP/s, max error vs fp64,
/// speedup, between-routing max |Δ| and "bitwise equal"; or the run's progress.
public enum RunPanel {
    public static func render(_ state: AppState, area: Rect, into canvas: inout Canvas) {
        let g = state.glyphs
        let session = state.session
        var title = "run"
        if state.run == nil, session.lastRun != nil, session.runIsStale { title += " (stale: batch changed, r reruns)" }
        canvas.box(area, title: title, glyphs: g)
        let inner = area.inset(1)
        let x = inner.x + 1, w = inner.width - 1
        var y = inner.y
        func line(_ text: String, _ style: CellStyle = .normal) {
            guard y < inner.maxY else { return }
            canvas.put(text, x: x, y: y, style: style, maxWidth: w)
            y += 1
        }
        if let run = state.run {
            let spin = g.spinner[Int(state.now * 10) % g.spinner.count]
            let barWidth = max(4, min(30, w - 24))
            let filled = Int((run.fraction * Double(barWidth)).rounded(.down))
            let bar = String(repeating: Character(g.barFull), count: filled)
                + String(repeating: Character(g.barEmpty), count: barWidth - filled)
            line("running \(spin) \(Format.percent(run.fraction)) [\(bar)]", .accent)
            line("\(run.workload.kernel.name) \(run.workload.dtype.rawValue), both routings, \(run.reps) reps + warm-up")
            line("keys keep working; a change of batch cancels the run", .dim)
        }
        guard let result = session.lastRun else {
            if state.run == nil {
                line("no run yet: r runs the kernels", .dim)
                line("both routings, SIMD on the CPU,", .dim)
                line("checked against an fp64 reference", .dim)
            }
            return
        }
        let stale = session.runIsStale
        let body: CellStyle = stale ? .dim : .normal
        for routing in result.routings {
            let t = routing.time
            let name = Format.pad(routing.routing == .sorted ? "sorted" : "per-seq", 8)
            let dash = g.isASCII ? "-" : "–"
            line("\(name)\(Format.significant(t.median)) ms (\(Format.significant(t.min))\(dash)\(Format.significant(t.max)))"
                 + " \(Format.significant(routing.gflops)) GFLOP/s err \(Format.scientific(routing.maxAbsErrorVsReference))", body)
        }
        let equal = result.bitwiseEqual ? "bitwise equal: yes" : "bitwise equal: NO"
        line("speedup \(Format.fixed(result.speedup, 2))\(g.times)  max |\(g.delta)| \(Format.scientific(result.maxAbsDiffBetweenRoutings))  \(equal)",
             stale ? .dim : CellStyle(result.bitwiseEqual ? .good : .warning, bold: true))
        line("\(result.workload.kernel.name) \(result.workload.dtype.rawValue) · \(result.threads) threads · \(result.perSequence.time.samples.count) reps"
             .replacingOccurrences(of: "·", with: g.isASCII ? "-" : "·"), .dim)
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
        var y = inner.y
        if let r = state.replay, let step = r.current {
            canvas.put("\(step.location.line): \(step.text.trimmingSpaces)", x: inner.x + 1, y: y, style: .dim, maxWidth: inner.width - 1)
            y += 1
        }
        if let text = state.session.narration {
            for line in Format.wrap(text, width: inner.width - 2) {
                guard y < inner.maxY else { break }
                canvas.put(line, x: inner.x + 1, y: y, style: .normal)
                y += 1
            }
        }
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

    public static func render(_ state: AppState, into canvas: inout Canvas) {
        let g = state.glyphs
        let width = min(state.width - 2, 170)
        // Everything but the hint line: at 80x24 every key still fits.
        let area = Rect(x: (state.width - width) / 2, y: 0, width: width, height: state.height - 1)
        canvas.fill(area)
        canvas.box(area, title: "keys · any key closes · batch keys are commands you can type after :",
                   glyphs: g, style: .accent)
        let inner = area.inset(1)
        let columnWidth = (inner.width - 3) / 2
        let all = lines(columnWidth: columnWidth, glyphs: g, withCommands: columnWidth >= 78)
        // Break the columns at the group heading that balances them best, so no group is split.
        let starts = all.indices.filter { all[$0].1 && $0 > 0 }
        var split = starts.min { max($0, all.count - $0) < max($1, all.count - $1) } ?? all.count
        // On a small screen fill the first column instead, so every key is listed.
        if max(split, all.count - split) > inner.height { split = min(inner.height, all.count) }
        for (i, (text, heading)) in all.enumerated() {
            let column = i < split ? 0 : 1, row = i < split ? i : i - split
            guard row < inner.height else { continue }
            canvas.put(text, x: inner.x + 1 + column * (columnWidth + 2), y: inner.y + row,
                       style: heading ? .title : .normal, maxWidth: columnWidth)
        }
    }
}
