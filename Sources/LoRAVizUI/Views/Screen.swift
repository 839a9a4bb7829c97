import LoRAKernels
import LoRAScenario

/// The whole screen as a pure function of the state (ratatui's `draw`):
/// top bar, two chosen strategies' grids side by side (one when one is
/// chosen), legend, ratios and the strip of the others, inspector and run
/// panels, narration, status or prompt, key hints, and the help overlay.
public enum Screen {
    /// Draws the state into a canvas of the state's size.
    public static func render(_ state: AppState) -> Canvas {
        var canvas = Canvas(width: state.width, height: state.height)
        render(state, into: &canvas)
        return canvas
    }

    /// Draws the state into `canvas` (which is cleared first).
    public static func render(_ state: AppState, into canvas: inout Canvas) {
        canvas.fill(Rect(x: 0, y: 0, width: canvas.width, height: canvas.height))
        let layout = ScreenLayout(state)
        let g = state.glyphs
        if layout.isTooSmall {
            renderTooSmall(state, into: &canvas)
            if g.isASCII { canvas.asciify() }
            return
        }
        renderTopBar(state, layout, into: &canvas)
        if let chart = state.sweepChart, let first = layout.panes.first {
            let area = Rect(x: 1, y: first.frame.y, width: layout.width - 2, height: layout.legendRow + 1 - first.frame.y)
            SweepPanel.render(chart, glyphs: g, area: area, into: &canvas)
        } else if let layer = state.plans.layer, let first = layout.panes.first {
            // The layer table takes the grids' rows and the legend's.
            let area = Rect(x: 1, y: first.frame.y, width: layout.width - 2, height: layout.legendRow + 1 - first.frame.y)
            LayerPanel.render(layer, strategies: state.panes, current: state.currentLayerRow, glyphs: g, area: area, into: &canvas)
        } else {
            renderGrids(state, layout, into: &canvas)
        }
        let shown = state.panes.map { state.plans[$0] }
        // With the layer table shown, the ratios row compares the layer's totals.
        var ratios = state.plans.layer.map { LayerPanel.totalsLine($0, strategies: state.panes, glyphs: g) }
            ?? (shown.count == 2
                ? StatsPanel.ratios(shown[0], shown[1], glyphs: g, width: layout.width)
                : StatsPanel.alone(shown[0], glyphs: g, width: layout.width))
        let hidden = state.plans.strategies.filter { !state.panes.contains($0) }
        if let row = layout.stripRow {
            canvas.put(StatsPanel.strip(hidden, state.plans, glyphs: g, width: layout.width),
                       x: 0, y: row, style: .dim, maxWidth: layout.width)
        } else if !hidden.isEmpty {
            // No row to spare: the strip follows the ratios where the line has room for it.
            let strip = StatsPanel.strip(hidden, state.plans, glyphs: g, width: layout.width - Format.width(ratios) - 2)
            if !strip.isEmpty { ratios += "  " + strip }
        }
        canvas.put(ratios, x: 0, y: layout.ratioRow, style: CellStyle(.accent), maxWidth: layout.width)
        let inspectorElided = renderInspector(state, layout, into: &canvas)
        let runElided = RunPanel.render(state, area: layout.runPanel, into: &canvas)
        renderExpandMark(state, layout, inspectorElided: inspectorElided, runElided: runElided, into: &canvas)
        if let area = layout.narration { NarrationPanel.render(state, area: area, into: &canvas) }
        renderStatus(state, layout, into: &canvas)
        renderHints(state, layout, into: &canvas)
        if state.showHelp { state.helpPage == 1 ? GlossaryOverlay.render(state, into: &canvas) : HelpOverlay.render(state, into: &canvas) }
        if state.logScroll != nil { MessageLogOverlay.render(state, into: &canvas) }
        if state.demoChoice != nil { DemoMenuOverlay.render(state, into: &canvas) }
        if g.isASCII { canvas.asciify() }
    }

    /// The screen as text (the text backend): what golden files, `output FILE`
    /// and headless replay read.
    ///
    /// - Parameters:
    ///   - ascii: ASCII glyphs (the default for files: they read anywhere).
    public static func renderText(session: Session, width: Int, height: Int, ascii: Bool = true) -> String {
        let state = AppState(session: session, width: width, height: height, glyphs: ascii ? .ascii : .unicode)
        return render(state).text
    }

    // MARK: Parts

    /// The panes' grids, the separator between them and the legend.
    static func renderGrids(_ state: AppState, _ layout: ScreenLayout, into canvas: inout Canvas) {
        let g = state.glyphs
        for pane in layout.panes { renderPane(state, layout, pane, into: &canvas) }
        if let column = layout.separatorColumn {
            for y in layout.panes[0].frame.y..<layout.panes[0].frame.maxY {
                canvas[column, y] = Cell(g.box.vertical, .dim)
            }
        }
        Legend.render(into: &canvas, x: 0, y: layout.legendRow, width: layout.width, glyphs: g,
                      zoomed: layout.isZoomed,
                      extra: Set(layout.panes.flatMap { pane in
                          ProgramFate.allCases.filter { state.plans[pane.routing].fateCounts[$0] > 0 }
                      }))
    }

    static func renderTooSmall(_ state: AppState, into canvas: inout Canvas) {
        let times = state.glyphs.times
        let size = "\(state.width)\(times)\(state.height)", needed = "\(ScreenLayout.minimumWidth)\(times)\(ScreenLayout.minimumHeight)"
        // The long message, else a short one where the long one's rows do not fit: `q` always shows.
        let messages = [
            ["terminal too small: " + size, "lora-viz needs at least " + needed, "enlarge the window, or q to quit"],
            ["too small: " + size, "needs " + needed, "q quits"],
        ]
        // Wrapped at spaces, so no word is cut at a narrow edge (30 columns cut "quit" before).
        func wrapped(_ message: [String]) -> [String] {
            var lines: [String] = []
            for text in message {
                var line = ""
                for word in text.split(separator: " ") {
                    let next = line.isEmpty ? String(word) : line + " " + word
                    if Format.width(next) > state.width && !line.isEmpty {
                        lines.append(line)
                        line = String(word)
                    } else {
                        line = next
                    }
                }
                lines.append(line)
            }
            return lines
        }
        let lines = messages.map(wrapped).first { $0.count <= state.height } ?? wrapped(messages[1])
        let top = max(0, min(state.height / 2 - 1, state.height - lines.count))
        for (i, line) in lines.enumerated() {
            let x = max(0, (state.width - Format.width(line)) / 2)
            canvas.put(line, x: x, y: top + i, style: i == 0 ? .error : .normal)
        }
    }

    static func renderTopBar(_ state: AppState, _ layout: ScreenLayout, into canvas: inout Canvas) {
        let w = state.session.workload
        let b = w.batch
        let d = w.dims
        let sep = state.glyphs.separator
        var kernel = w.kernel.name
        if case .sgemmLoRAA(let stack) = w.kernel, stack > 1 { kernel += " stack=\(stack)" }
        if let m = w.module { kernel = m.launchName(shrink: w.kernel.isShrink) + " (" + kernel + ")" }
        var settings = "\(kernel) \(w.dtype.rawValue) \(b.mode.rawValue)"
        if let model = state.session.model?.config.name { settings = model + sep + settings }
        let batch = "bs \(b.sequences.count) tokens \(b.totalTokens) slots \(b.slotCount) (\(b.slotsInUse) used) adapters \(b.adapters.count)"
        let dimsLong = "hidden \(d.hidden) out \(d.out) q \(d.q) kv \(d.kv) ffn \(d.ffn) R \(d.maxRank)"
        let dimsShort = "h\(d.hidden) o\(d.out) q\(d.q) kv\(d.kv) f\(d.ffn) R\(d.maxRank)"
        var line = " lora-viz" + sep + settings + sep + batch + sep + dimsLong
        if Format.width(line) > layout.width {
            // Whole fields only, never a value cut in two: the dims give way from the end.
            // `tokens` spelled out while it fits; `S` (SGLang's name for the batch's tokens, in the glossary) when not.
            let batchShorter = ["bs \(b.sequences.count) tokens \(b.totalTokens) slots \(b.slotCount)",
                                "bs \(b.sequences.count) S \(b.totalTokens) slots \(b.slotCount)"]
            let shorter = batchShorter.first { Format.width(" " + settings + sep + $0) <= layout.width } ?? batchShorter[1]
            line = " " + settings + sep + (Format.width(" " + settings + sep + batch) <= layout.width ? batch : shorter)
            var first = true
            for field in dimsShort.split(separator: " ") {
                let next = line + (first ? sep : " ") + field
                if Format.width(next) > layout.width { break }
                line = next
                first = false
            }
        }
        if let title = state.session.title, Format.width(line) + Format.width(title) + 3 <= layout.width {
            line += sep + title
        }
        canvas.fill(Rect(x: 0, y: 0, width: layout.width, height: 1), with: Cell(" ", CellStyle(.title, reverse: true)))
        canvas.put(line, x: 0, y: 0, style: CellStyle(.title, bold: true, reverse: true), maxWidth: layout.width)
    }

    static func renderPane(_ state: AppState, _ layout: ScreenLayout, _ pane: ScreenLayout.Pane, into canvas: inout Canvas) {
        let plan = state.plans[pane.routing]
        let g = state.glyphs
        let focused = state.focus == pane.routing
        let marker = focused ? (g.isASCII ? "> " : "▶ ") : "  "
        let dims = GridView.dimensionsTitle(plan, times: g.times)
        let blocks = GridView.blocksTitle(plan, times: g.times)
        let whatIf = plan.routing.isWhatIf ? " what-if" : ""
        let scale = pane.scale.text(times: g.times)
        let name = pane.routing.name, shortName = pane.routing.shortName
        let bare = dims.replacingOccurrences(of: "grid ", with: "")
        // Axis x's factors where it has some (csgmv's pids are its column tiles alone).
        let pids = plan.pidFactors.count > 1 ? GridView.pidsTitle(plan, times: g.times) + "  " : ""
        // The longest title that leaves room for the zoom level, which is always
        // shown; words give way whole, never cut.
        let variants = [
            (marker + name + "  " + dims + "  " + pids + blocks + (whatIf.isEmpty ? "" : " " + whatIf), "zoom " + scale),
            (marker + name + " " + dims + " " + pids.dropLast() + blocks + whatIf, "zoom " + scale),
            (marker + name + " " + dims + " " + blocks + whatIf, "zoom " + scale),
            (marker + name + " " + dims + whatIf, "zoom " + scale),
            (marker + shortName + " " + dims + whatIf, "zoom " + scale),
            (marker + shortName + " " + bare + whatIf, scale),
        ]
        let room = { (zoom: String) in pane.frame.width - Format.width(zoom) - 2 }
        // A wide pane says what the strategy launches, when the whole line fits: worth more than the pids.
        let summary = "  " + pane.routing.summary
        let full = marker + name + "  " + dims + "  " + blocks + (whatIf.isEmpty ? "" : " " + whatIf)
        let withSummary = [variants[0], (full, "zoom " + scale)].first { Format.width($0.0 + summary) <= room($0.1) }
        var (title, zoom) = withSummary ?? variants.first { Format.width($0.0) <= room($0.1) } ?? variants[variants.count - 1]
        title = Format.fitWords(title, width: room(zoom))
        let x0 = pane.frame.x
        let end = canvas.put(title, x: x0, y: pane.titleRow, style: focused ? .accent : .title, maxWidth: pane.frame.width)
        if withSummary != nil {
            canvas.put(summary, x: end, y: pane.titleRow, style: .dim)
        }
        // The zoom label sits at the pane's right edge, whole: the title gave way for it.
        let zx = max(x0 + Format.width(title) + 1, pane.frame.maxX - Format.width(zoom) - 1)
        if zx + Format.width(zoom) <= pane.frame.maxX {
            canvas.put(zoom, x: zx, y: pane.titleRow, style: .dim)
        }
        if plan.viewRowCount == 0 || plan.pidCount == 0 {
            let tokens = state.session.workload.batch.totalTokens
            let why = plan.strategy == .vllm && tokens > 0 ? "nothing launched: no token uses a LoRA adapter (vLLM skips the launch)"
                : plan.segments.isEmpty ? "no segments: the batch is empty (a adds a sequence)"
                : "no programs: max_len is 0 (the batch has no tokens)"
            canvas.put(why, x: x0 + 1, y: pane.body.y, style: .dim, maxWidth: pane.frame.width - 1)
        } else {
            var cursorCell: GridCell?
            if focused, let p = state.cursor(pane.routing) {
                cursorCell = GridCell(column: p.pid / pane.scale.x, row: plan.viewRow(of: p) / pane.scale.y)
            }
            var view = GridView(plan: plan, batch: state.session.workload.batch, scale: pane.scale,
                                origin: pane.origin, cursor: cursorCell, glyphs: g, labelWidth: pane.labelWidth,
                                cellWidth: pane.cellWidth)
            if !focused, let q = state.counterpart, q.strategy == pane.routing {
                view.counterpart = GridCell(column: q.position.pid / pane.scale.x, row: plan.viewRow(of: q.position) / pane.scale.y)
            }
            view.render(into: &canvas, area: pane.body)
        }
        // Both panes' footers in the same form, so they compare line by line.
        let measured = { (s: Strategy) in
            state.session.gpuResults.isEmpty ? nil : state.session.measuredOnGPU?.entry(s)?.measuredUs
        }
        let footers = StatsPanel.lines(layout.panes.map { p in
            (state.plans[p.routing], state.plans.estimate(p.routing), measured(p.routing), p.frame.width)
        }, profile: state.session.gpu, glyphs: g)
        let mine = footers[layout.panes.firstIndex { $0.routing == pane.routing } ?? 0]
        for (i, line) in mine.enumerated() {
            canvas.put(line, x: x0, y: pane.statsRow + i, style: i == 0 ? .normal : .normal, maxWidth: pane.frame.width)
        }
        // Colour the fate glyphs of the counts line.
        let y = pane.statsRow + 1
        for x in x0..<pane.frame.maxX {
            let c = canvas[x, y]
            if let fate = ProgramFate.allCases.first(where: { g.glyph($0) == c.scalar }) {
                canvas[x, y] = Cell(c.scalar, CellStyle(ColorRole(fate)))
            }
        }
    }

    /// Draws the inspector; returns whether some of its lines did not fit.
    static func renderInspector(_ state: AppState, _ layout: ScreenLayout, into canvas: inout Canvas) -> Bool {
        let g = state.glyphs
        let area = layout.inspector
        let (title, lines) = inspectorContent(state, scale: layout.scale(state.focus), width: area.width)
        canvas.box(area, title: title ?? "inspector", glyphs: g, titleStyle: title == nil || state.cursor(state.focus) == nil ? .title : .accent)
        return PanelText(lines: lines).render(in: area.inset(1), glyphs: g, into: &canvas)
    }

    /// On a bottom panel's edge, what `i` does: shows the lines that did not
    /// fit (marked `…`), or gives the grids their rows back.
    static func renderExpandMark(_ state: AppState, _ layout: ScreenLayout, inspectorElided: Bool, runElided: Bool,
                                 into canvas: inout Canvas) {
        guard inspectorElided || runElided || state.panelsExpanded else { return }
        // On the panel that lost lines (the inspector when both did or none does).
        let area = runElided && !inspectorElided ? layout.runPanel : layout.inspector
        let mark = state.panelsExpanded ? " i: fewer lines " : " i: all lines "
        let x = area.maxX - 2 - Format.width(mark)
        guard x > area.x + 1 else { return }
        canvas.put(mark, x: x, y: area.maxY - 1, style: CellStyle(.accent))
    }

    /// The inspector's title (nil: plain `inspector`) and lines for a panel `width` columns wide,
    /// at the focused grid's zoom `scale` (a zoomed-out cell adds the programs it covers).
    static func inspectorContent(_ state: AppState, scale: GridScale, width: Int) -> (title: String?, lines: [PanelText.Line]) {
        let g = state.glyphs
        guard let p = state.cursor(state.focus) else {
            return ("inspector", [PanelText.Line("no program to inspect: the grid is empty", style: .dim)])
        }
        let plan = state.plans[state.focus]
        var zoomedCell: (pids: Range<Int>, rows: Range<Int>, tally: FateCounts)?
        if scale != .one {
            let cx = p.pid / scale.x, cy = plan.viewRow(of: p) / scale.y
            let pids = cx * scale.x..<min(plan.pidCount, (cx + 1) * scale.x)
            let rows = cy * scale.y..<min(plan.viewRowCount, (cy + 1) * scale.y)
            zoomedCell = (pids, rows, plan.tally(rows: rows, pids: pids))
        }
        let story = InspectorPanel.story(plan, batch: state.session.workload.batch, dims: state.session.workload.dims,
                                         position: p, zoomedCell: zoomedCell, glyphs: g)
        let fate = plan.fate(p)
        // Who the program is goes in the box's top edge when it fits there, saving a row.
        let titles = ["inspector: " + story[0], story[0]]
        let title = titles.first { Format.width($0) <= width - 4 }
        // When rows are short the verdict stays, then the rows and columns it covers, then who it is.
        var lines: [PanelText.Line] = []
        for (i, text) in story.enumerated() {
            let isCell = zoomedCell != nil && i == story.count - 1
            switch i {
            case 0: if title == nil { lines.append(PanelText.Line(text, style: .accent, rank: 2)) }
            case 1: lines.append(PanelText.Line(text, rank: 0, lead: Cell(g.glyph(fate), CellStyle(ColorRole(fate), bold: true))))
            default: lines.append(PanelText.Line(text, rank: isCell ? 2 : i <= 3 ? 1 : 3))
            }
        }
        return (title, lines)
    }

    static func renderStatus(_ state: AppState, _ layout: ScreenLayout, into canvas: inout Canvas) {
        let y = layout.statusRow
        if let prompt = state.prompt {
            // Scrolled so the cursor is on screen; `…` at the left edge marks text scrolled out of view.
            let chars = prompt.chars
            let cursor = min(prompt.cursor, chars.count)
            let first = prompt.scrollOffset(width: layout.width)
            let lead = first > 0 ? String(state.glyphs.ellipsis) : ":"
            canvas.put(lead + String(chars[first...]), x: 0, y: y, style: .accent, maxWidth: layout.width)
            let x = 1 + cursor - first
            let under = cursor < chars.count ? chars[cursor] : " "
            if x < layout.width { canvas[x, y] = Cell(under.unicodeScalars.first ?? " ", CellStyle(.accent, reverse: true)) }
            return
        }
        var right = ""
        if let r = state.recording { right += (state.glyphs.isASCII ? "REC " : "● REC ") + r.path }
        if state.canUndo { right += (right.isEmpty ? "" : "  ") + "undo \(state.undoStack.count)" }
        let rightWidth = Format.width(right)
        if let status = state.status {
            let room = layout.width - rightWidth - 1
            // A message too long for the line says where the rest is: the log holds it in full.
            let more = " (M: all)"
            let text = Format.width(status.text) <= room || room < 20 ? status.text
                : Format.fitWords(status.text, width: room - Format.width(more) - 1) + String(state.glyphs.ellipsis) + more
            canvas.put(text, x: 0, y: y, style: status.isError ? .error : CellStyle(.good), maxWidth: room)
        }
        if rightWidth > 0 {
            canvas.put(right, x: layout.width - rightWidth, y: y, style: state.recording != nil ? .error : .dim)
        }
    }

    static func renderHints(_ state: AppState, _ layout: ScreenLayout, into canvas: inout Canvas) {
        if state.prompt != nil {
            let arrows = state.glyphs.isASCII ? "Up/Down" : "↑↓"
            let hint = "Enter applies  Esc cancels  Tab completes  \(arrows) history  Ctrl-A/E/W/K/U edit  e.g. seq NAME count=4"
            // Whole hints only: they give way from the end.
            var groups = hint.split(separator: "  ").map(String.init)
            while groups.count > 1, Format.width(groups.joined(separator: "  ")) > layout.width { groups.removeLast() }
            canvas.put(groups.joined(separator: "  "), x: 0, y: layout.hintRow, style: .dim, maxWidth: layout.width)
            return
        }
        let replaying = state.replay != nil
        let hints = KeyBinding.table.filter {
            $0.hint != nil && ($0.replayOnly == replaying || !$0.replayOnly) && ($0.hintApplies?(state) ?? true)
        }
        var ordered = hints.filter(\.replayOnly) + hints.filter { !$0.replayOnly }
        if !replaying { ordered = hints }
        // `? help` and `q quit` always show (a newcomer's way in and out): the
        // others give way for them, from the end.
        func isEssential(_ b: KeyBinding) -> Bool {
            if case .ui(let action) = b.effect, action == .help || action == .quit { return true }
            return false
        }
        let essentials = ordered.filter(isEssential)
        let essentialWidth = essentials.reduce(0) { $0 + Format.width($1.hint!) + 2 }
        var shown: [KeyBinding] = []
        var used = 0
        for binding in ordered where !isEssential(binding) {
            let needed = Format.width(binding.hint!) + 2
            if used + needed + essentialWidth > layout.width { break }
            shown.append(binding)
            used += needed
        }
        // In table order, the essentials where they stand.
        let keep = Set(shown.map(\.hint!)).union(essentials.map(\.hint!))
        var x = 0
        for binding in ordered where keep.contains(binding.hint!) {
            let hint = binding.hint!
            let parts = hint.split(separator: " ", maxSplits: 1).map(String.init)
            let needed = Format.width(hint) + 2
            if x + needed > layout.width { break }
            canvas.put(parts[0], x: x, y: layout.hintRow, style: CellStyle(.accent, bold: true))
            if parts.count > 1 {
                canvas.put(parts[1], x: x + Format.width(parts[0]) + 1, y: layout.hintRow, style: .dim)
            }
            x += needed
        }
    }
}
