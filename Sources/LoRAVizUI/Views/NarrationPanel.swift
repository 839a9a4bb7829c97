import LoRAKernels
import LoRAScenario

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
