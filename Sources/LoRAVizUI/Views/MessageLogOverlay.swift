import LoRAKernels
import LoRAScenario

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
