import LoRAKernels
import LoRAScenario

extension AppState {
    /// Keys: Ctrl-Z suspends from anywhere; the prompt takes them while open, then the message log (it
    /// scrolls; other keys close it), the help overlay closes on any key (`q`
    /// and Esc too: only Ctrl-C quits from it), behind the "terminal too
    /// small" screen only `q` and Ctrl-C act (nothing may change unseen), Esc
    /// cancels a running measurement, otherwise the binding table decides; a
    /// command key says what it did (`performKeyCommand`).
    mutating func handleKey(_ key: Key) -> [AppAction] {
        // Ctrl-Z suspends from anywhere, as in a shell: the prompt, an overlay, the too-small screen keep their state.
        if key == .ctrl("z") { return [.suspend] }
        if prompt != nil { return handlePromptKey(key) }
        if logScroll != nil { return handleLogKey(key) }
        if demoChoice != nil { return handleDemoKey(key) }
        if showHelp {
            // `?` (or F1) again turns to the glossary; any other key closes.
            if (key == .char("?") || key == .f1) && helpPage == 0 {
                helpPage = 1
                glossaryScroll = 0
                return []
            }
            if helpPage == 1, let step = Self.glossaryStep(key, page: height - 4) {
                // The glossary scrolls (it is taller than 24 rows); the step stops at its last row.
                let count = GlossaryOverlay.rows(glyphs: glyphs, width: width - 2).count
                glossaryScroll = GlossaryOverlay.firstRow(scroll: glossaryScroll + step, rowCount: count, height: height)
                return []
            }
            showHelp = false
            helpPage = 0
            if key == .ctrl("c") { return quit() }
            return []
        }
        if ScreenLayout(self).isTooSmall {
            return key == .char("q") || key == .ctrl("c") ? quit() : []
        }
        if key == .escape, run != nil {
            // Esc stops a measurement (no overlay is open: those close first).
            run = nil
            say("run cancelled (Esc): the run panel keeps the last finished run; r runs again", isError: false)
            replay?.player.runFinished(now: now)
            return [.cancelRun]
        }
        guard let binding = KeyBinding.binding(for: key, replaying: replay != nil) else {
            if case .char(let c) = key, c != " " {
                status = StatusMessage(text: "no key \(c): ? lists the keys", isError: true)
            }
            return []
        }
        switch binding.effect {
        case .ui(let action):
            return perform(action)
        case .uiPair(let first, let second):
            return perform(key == binding.keys[0] ? first : second)
        case .command(let make):
            switch make(self, key) {
            case .success(let command):
                return performKeyCommand(command)
            case .failure(let refusal):
                status = StatusMessage(text: refusal.message, isError: true)
                return []
            }
        }
    }

    /// Carries out a UI action.
    public mutating func perform(_ action: UIAction) -> [AppAction] {
        switch action {
        case .quit:
            return quit()
        case .help:
            showHelp = true
        case .openPrompt:
            prompt = PromptState()
        case .closeOverlay:
            showHelp = false
            prompt = nil
            logScroll = nil
            // Nothing else open: Esc closes the narration panel (`narrate ""`, so u brings it back).
            if session.narration != nil {
                return performKeyCommand(.narrate(""))
            }
            status = nil
        case .suspend:
            return [.suspend]
        case .expandPanels:
            panelsExpanded.toggle()
            scrollToCursor()
            status = StatusMessage(text: panelsExpanded ? "inspector and run panel show every line; the grids give way (i: fewer lines)"
                                   : "inspector and run panel back to their rows (i: all lines)", isError: false)
        case .togglePalette:
            palette = palette == .standard ? .colorBlind : .standard
            status = StatusMessage(text: "colours: \(palette.label); the glyphs say the same (P switches)", isError: false)
        case .demoMenu:
            guard !demos.isEmpty else {
                status = StatusMessage(text: "no demos found (they live in scenarios/ beside the working directory)", isError: true)
                return []
            }
            demoChoice = 0
            return []
        case .messageLog:
            logScroll = 0
        case .undo:
            return undo()
        case .redo:
            return redo()
        case .switchGrid:
            guard let other = panes.first(where: { $0 != focus }) else {
                status = StatusMessage(text: "one pane: only \(focus.name) is chosen (strategies \(focus.name) NAME shows two)",
                                       isError: true)
                return []
            }
            // Tab follows the work: to the program of the other grid that computes what this one does.
            if let link = counterpart, link.strategy == other, let p = cursor(focus), let cells = plans[focus].cells(of: p) {
                let from = focus
                let actions = perform(Self.selectCommand(plans[other], pid: link.position.pid, row: plans[other].viewRow(of: link.position)))
                // Tab again comes back to the program we left, not to the first token's.
                counterpart = (from, p)
                let token = cells.tokens[0]
                let sequence = Self.sequence(ofToken: token, session.workload.batch)
                status = StatusMessage(text: "\(other.name) pid \(link.position.pid) seg \(link.position.segment) computes what \(from.name) "
                                       + "pid \(p.pid) does: token \(token)\(sequence.map { " (sequence \($0))" } ?? ""), column \(cells.columns.lowerBound)"
                                       + " · Tab goes back", isError: false)
                return actions
            }
            return focusPane(other)
        case .cycleStrategy:
            return cycleStrategy()
        case .zoomIn, .zoomOut:
            // Zooms the focused pane; the other keeps its own zoom.
            let current = ScreenLayout(self).scale(focus)
            let factor = action == .zoomIn
            // Zooming out stops once the whole grid is one cell: further steps would change nothing seen.
            let plan = plans[focus]
            if !factor && current.x >= max(1, plan.pidCount) && current.y >= max(1, plan.viewRowCount) {
                status = StatusMessage(text: "\(focus.name): the whole grid is one cell at zoom \(current.text(times: glyphs.times)); z zooms in, = fits",
                                       isError: true)
                return []
            }
            // Each axis stops growing once it covers its whole grid.
            let next = factor ? GridScale(x: current.x / 2, y: current.y / 2)
                : GridScale(x: min(current.x * 2, max(current.x, plan.pidCount)), y: min(current.y * 2, max(current.y, plan.viewRowCount)))
            zoom = .fixed(next)
            scrollToCursor()
            status = StatusMessage(text: "\(focus.name) zoom \(next.text(times: glyphs.times)) (= fits each grid again)",
                                   isError: false)
        case .toggleSweep:
            sweepChart = sweepChart == nil ? SweepPanel.chart(session) : nil
            status = StatusMessage(text: sweepChart == nil ? "sweep chart closed"
                                   : "sweep chart: GPU estimates of this batch's template over bs and adapters (w closes)", isError: false)
        case .zoomFit:
            zooms = [:]
            origins = [:]
            status = StatusMessage(text: "zoom to fit: each grid fitted to its pane", isError: false)
        case .replayToggle, .replayNext, .replayFaster, .replaySlower:
            return replayControl(action)
        }
        return []
    }

    /// Moves the focus to the pane showing `kind` with a `select` of its
    /// cursor (so a recording replays it); an empty grid takes the focus alone.
    /// The sequence a token row belongs to (extend mode: several rows a sequence).
    static func sequence(ofToken token: Int, _ batch: Batch) -> Int? {
        var start = 0
        for (i, n) in batch.sequenceLengths.enumerated() {
            if token < start + n { return i }
            start += n
        }
        return nil
    }

    mutating func focusPane(_ kind: Strategy) -> [AppAction] {
        let plan = plans[kind]
        guard let p = cursor(kind) else {
            focus = kind
            status = StatusMessage(text: "the \(kind.name) grid is empty", isError: true)
            return []
        }
        return perform(Self.selectCommand(plan, pid: p.pid, row: plan.viewRow(of: p)))
    }

    /// The strategy the focused pane shows next: the chosen one after it (in
    /// `session.strategies` order, wrapping) that the other pane does not show.
    var nextPaneStrategy: Strategy? {
        let other = panes.first { $0 != focus }
        let candidates = plans.strategies.filter { $0 != other }
        guard candidates.count > 1, let i = candidates.firstIndex(of: focus) else { return nil }
        return candidates[(i + 1) % candidates.count]
    }

    /// Shows the next chosen strategy in the focused pane and focuses it.
    mutating func cycleStrategy() -> [AppAction] {
        guard let next = nextPaneStrategy else {
            let chosen = plans.strategies.map(\.name).joined(separator: " ")
            status = StatusMessage(text: "every chosen strategy is shown (\(chosen)): strategies \(chosen) NAME adds one",
                                   isError: true)
            return []
        }
        var shown = panes
        shown[panes.firstIndex(of: focus) ?? 0] = next
        panes = shown
        let actions = focusPane(next)
        if status?.isError != true {
            let side = panes.count == 1 ? "the pane" : panes[0] == next ? "left pane" : "right pane"
            let long = "\(side): \(next.name), \(next.summary)"
            // Room for the undo counter and REC mark at the status line's right end.
            status = StatusMessage(text: Format.width(long) <= width - 20 ? long : "\(side): \(next.name)", isError: false)
        }
        return actions
    }

    mutating func quit() -> [AppAction] {
        isQuitting = true
        var actions: [AppAction] = []
        if run != nil { actions.append(.cancelRun) }
        if let r = recording {
            actions.append(.saveRecording(path: r.path, text: r.text, force: r.force))
            recording = nil
        }
        return actions + [.quit]
    }

    // MARK: Prompt

    /// Parses and applies a prompt line; a bad line leaves the state as it was.
    public mutating func submit(_ line: String) -> [AppAction] {
        let trimmed = line.trimmingSpaces
        guard !trimmed.isEmpty else { return [] }
        if promptHistory.last != trimmed { promptHistory.append(trimmed) }
        let command: Command
        do {
            guard let parsed = try Command.parse(trimmed, file: "<prompt>", line: 1) else { return [] }
            command = parsed
        } catch {
            status = StatusMessage(text: "\(error)", isError: true)
            return []
        }
        status = nil
        let actions = perform(command, text: trimmed)
        if status == nil { status = StatusMessage(text: "ok: \(command)", isError: false) }
        return actions
    }

    /// How far a key scrolls the glossary (nil: the key closes it).
    static func glossaryStep(_ key: Key, page: Int) -> Int? {
        switch key {
        case .down, .char("j"), .wheelDown: return 1
        case .up, .char("k"), .wheelUp: return -1
        case .pageDown, .char(" "): return max(1, page)
        case .pageUp: return -max(1, page)
        default: return nil
        }
    }

    /// Keys while the demo menu is open: j/k or ↑↓ choose, a digit jumps,
    /// Enter plays the chosen demo from an empty session (undoable: the
    /// session before it is one `u` away), Esc or q closes, Ctrl-C quits.
    mutating func handleDemoKey(_ key: Key) -> [AppAction] {
        var i = demoChoice ?? 0
        switch key {
        case .down, .char("j"), .wheelDown: i += 1
        case .up, .char("k"), .wheelUp: i -= 1
        case .home: i = 0
        case .end: i = demos.count - 1
        case .char(let c) where c.isNumber: i = (Int(String(c)) ?? 1) - 1
        case .enter:
            demoChoice = nil
            let demo = demos[i]
            undoStack.append(Snapshot(session: session, recordedLines: recording?.lines))
            redoStack.removeAll()
            let old = plans.strategies
            session = Session()
            plans = Plans(session)
            setPanes(Self.refit(panes, from: old, to: plans.strategies))
            cursors = [:]
            startReplay(demo.scenario)
            status = StatusMessage(text: "playing \(demo.path): space pauses, n steps, +/- speed", isError: false)
            return []
        case .ctrl("c"): return quit()
        default:
            demoChoice = nil
            return []
        }
        demoChoice = min(max(0, i), demos.count - 1)
        return []
    }

    /// Keys while the message log is open: ↑↓ PgUp PgDn Home End scroll, Esc, q or M close
    /// (Ctrl-C quits); any other key closes it too, without acting.
    mutating func handleLogKey(_ key: Key) -> [AppAction] {
        let top = max(0, messageLog.count - 1)
        var scroll = logScroll ?? 0
        switch key {
        case .up, .char("k"), .wheelUp: scroll += 1
        case .down, .char("j"), .wheelDown: scroll -= 1
        case .pageUp: scroll += max(1, height - 4)
        case .pageDown: scroll -= max(1, height - 4)
        case .home, .char("g"): scroll = top
        case .end, .char("G"): scroll = 0
        case .ctrl("c"): return quit()
        default:
            logScroll = nil
            return []
        }
        logScroll = min(max(0, scroll), top)
        return []
    }

    // MARK: Mouse

    mutating func handleClick(x: Int, y: Int) -> [AppAction] {
        if showHelp {
            showHelp = false
            return []
        }
        let layout = ScreenLayout(self)
        if layout.isTooSmall { return [] }
        for pane in layout.panes {
            guard pane.cells.contains(x: x, y: y) else { continue }
            let plan = plans[pane.routing]
            let column = pane.origin.column + (x - pane.cells.x) / pane.cellWidth
            let row = pane.origin.row + (y - pane.cells.y)
            let pid = column * pane.scale.x, viewRow = row * pane.scale.y
            guard pid < plan.pidCount, viewRow < plan.viewRowCount else { return [] }
            return perform(Self.selectCommand(plan, pid: pid, row: viewRow))
        }
        return []
    }

    // MARK: Viewport

    /// Pans each grid so its cursor's cell stays in view.
    mutating func scrollToCursor() {
        let layout = ScreenLayout(self)
        for pane in layout.panes {
            let plan = plans[pane.routing]
            let (columns, rows) = pane.scale.cells(plan)
            var origin = origins[pane.routing] ?? GridCell(column: 0, row: 0)
            if let p = cursor(pane.routing) {
                let cx = p.pid / pane.scale.x, cy = plan.viewRow(of: p) / pane.scale.y
                if cx < origin.column { origin.column = cx }
                if cx >= origin.column + pane.visibleColumns { origin.column = cx - pane.visibleColumns + 1 }
                if cy < origin.row { origin.row = cy }
                if cy >= origin.row + pane.cells.height { origin.row = cy - pane.cells.height + 1 }
            }
            origin.column = max(0, min(origin.column, columns - pane.visibleColumns))
            origin.row = max(0, min(origin.row, rows - pane.cells.height))
            origins[pane.routing] = origin
        }
    }

    /// The origin a pane draws from (clamped to the grid).
    func origin(_ kind: Strategy) -> GridCell {
        origins[kind] ?? GridCell(column: 0, row: 0)
    }
}

extension String {
    /// The string without leading and trailing spaces and tabs (no Foundation).
    var trimmingSpaces: String {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\t" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" { s.removeLast() }
        return String(s)
    }
}
