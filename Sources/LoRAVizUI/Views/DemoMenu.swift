import LoRAKernels
import LoRAScenario

/// One shipped demo the TUI can play (`D`): its file and title.
public struct Demo: Sendable {
    public var path: String
    public var title: String
    public var scenario: Scenario

    public init(path: String, scenario: Scenario) {
        self.path = path
        self.scenario = scenario
        title = scenario.title ?? String(path.split(separator: "/").last ?? Substring(path))
    }
}

/// The demo menu's overlay: the demos by number and title, the chosen one marked.
enum DemoMenuOverlay {
    static func render(_ state: AppState, into canvas: inout Canvas) {
        let g = state.glyphs
        let rows = state.demos.count + 4
        let width = min(state.width - 2, max(50, (state.demos.map { Format.width($0.title) }.max() ?? 0) + 10))
        let height = min(state.height - 2, rows)
        let area = Rect(x: (state.width - width) / 2, y: max(1, (state.height - height) / 2), width: width, height: height)
        canvas.fill(area)
        canvas.box(area, title: "demos · j/k choose · Enter plays · Esc closes", glyphs: g, style: .accent)
        let inner = area.inset(1)
        let chosen = state.demoChoice ?? 0
        // Scrolled so the chosen demo stays in view.
        let first = max(0, min(chosen - inner.height / 2, state.demos.count - inner.height + 1))
        for (row, i) in (first..<state.demos.count).enumerated() where row < inner.height - 1 {
            let demo = state.demos[i]
            let line = "\(i == chosen ? (g.isASCII ? ">" : "▶") : " ") \(i + 1 < 10 ? " " : "")\(i + 1)  \(demo.title)"
            canvas.put(fitted(line, inner.width - 2, g), x: inner.x + 1, y: inner.y + row,
                       style: i == chosen ? CellStyle(.accent, bold: true) : .normal, maxWidth: inner.width - 2)
        }
        canvas.put(fitted("plays from an empty session; u after it ends undoes back to this one", inner.width - 2, g),
                   x: inner.x + 1, y: inner.maxY - 1, style: .dim, maxWidth: inner.width - 2)
    }

    /// `text` whole, or its words that fit and `…`: a long title never ends mid-word.
    static func fitted(_ text: String, _ width: Int, _ g: Glyphs) -> String {
        Format.width(text) <= width ? text : Format.fitWords(text, width: width - 1) + String(g.ellipsis)
    }
}
