import LoRAKernels
import LoRAScenario

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
