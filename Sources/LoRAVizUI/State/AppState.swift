import LoRAKernels
import LoRAScenario

/// The state of the interactive app: the session plus everything only the
/// screen cares about (cursor, zoom, overlays, prompt, undo, run progress, replay).
///
/// One update function, `handle(_:)`, turns events into a new state and a
/// list of actions for the host; `Screen.render` draws it. Neither does I/O.
public struct AppState: Sendable {
    public internal(set) var session: Session
    public var width: Int
    public var height: Int
    public var glyphs: Glyphs
    /// The grid the cursor moves in: always one of `panes`.
    public internal(set) var focus: Strategy = .perSequence
    /// The strategies the panes show, left to right: two distinct chosen
    /// strategies (`session.strategies`), or one when only one is chosen.
    /// Kept across changes of the workload; refitted when `strategies` changes.
    public internal(set) var panes: [Strategy] = Strategy.defaults
    /// The program under the cursor in each grid (the session's selection is the focused one).
    public internal(set) var cursors: [Strategy: GridPosition] = [:]
    /// Each pane's zoom, by the strategy it shows (absent: fitted to its pane).
    public var zooms: [Strategy: ZoomSetting] = [:]
    /// The focused pane's zoom (`z`/`Z` set it; `=` fits every pane again).
    public var zoom: ZoomSetting {
        get { zoomSetting(focus) }
        set { zooms[focus] = newValue }
    }
    /// The program of the other pane that computes the first cell the focused
    /// cursor's program computes ("where did my work go?"), when both panes
    /// show a grid and the cursor's program does work; set with the selection.
    public internal(set) var counterpart: (strategy: Strategy, position: GridPosition)?
    /// The first cell each grid shows when it does not fit.
    public internal(set) var origins: [Strategy: GridCell] = [:]
    public var showHelp = false
    /// Whether the inspector and the run panel show every line, the grids giving way (`i`).
    public internal(set) var panelsExpanded = false
    /// The colours the host draws roles with (`P`, `--palette`); glyphs carry the meaning either way.
    public var palette = Palette.standard
    /// The help's page: 0 the keys, 1 the glossary (`?` again).
    public internal(set) var helpPage = 0
    /// Rows the glossary (the help's second page) is scrolled down.
    public internal(set) var glossaryScroll = 0
    /// The shipped demos (`scenarios/*.lora`), which the host finds at start; `D` lists them.
    public var demos: [Demo] = []
    /// The demo menu's chosen row while it is open.
    public internal(set) var demoChoice: Int?
    /// The sweep chart in place of the grids (`w`), recomputed when the state changes.
    public internal(set) var sweepChart: Result<SweepChart, SweepError>?
    public internal(set) var prompt: PromptState?
    public internal(set) var promptHistory: [String] = []
    public var status: StatusMessage?
    /// Every status message of the session, oldest first (the message log, `M`).
    public internal(set) var messageLog: [LogEntry] = []
    /// The message log overlay, while open: how many lines it is scrolled up from the newest.
    public internal(set) var logScroll: Int?
    public internal(set) var undoStack: [Snapshot] = []
    public internal(set) var redoStack: [Snapshot] = []
    public internal(set) var run: RunProgress?
    public internal(set) var recording: Recording?
    public var replay: ReplayState?
    /// The clock as of the last tick.
    public internal(set) var now: Double = 0
    /// Launch plans of the current workload, computed once per change.
    public internal(set) var plans: Plans

    /// The launch plan of every chosen strategy for one workload, and its
    /// estimate on the session's GPU: what the panes, the ratios, the strip
    /// and the run panel read.
    public struct Plans: Sendable {
        public let workload: Workload
        /// The chosen strategies, in order (`session.strategies`).
        public let strategies: [Strategy]
        /// The GPU the estimates are for.
        public let profile: GPUProfile
        let options: StrategyOptions
        let plans: [Strategy: LaunchPlan]
        let estimates: [Strategy: GPUEstimate]
        /// The layer table, while it is shown (`layer`).
        public let layer: LayerReport?

        init(_ session: Session) {
            // `apply` checked every launch of the layer, so this only fails for a state apply refused.
            layer = session.showsLayer ? try? LayerReport(session, runs: session.lastLayerRun) : nil
            workload = session.workload
            strategies = session.strategies.isEmpty ? Strategy.defaults : session.strategies
            profile = session.gpu
            options = session.strategyOptions
            var plans: [Strategy: LaunchPlan] = [:], estimates: [Strategy: GPUEstimate] = [:]
            // Closed forms over the segments: ~250 µs a strategy at bs 4096 × mlpb 512, once per change.
            for s in strategies where plans[s] == nil {
                let plan = session.plan(s)
                plans[s] = plan
                estimates[s] = session.gpu.estimate(plan)
            }
            self.plans = plans
            self.estimates = estimates
        }

        /// A strategy's plan: computed with the others for a chosen one, on demand otherwise.
        public subscript(kind: Strategy) -> LaunchPlan {
            plans[kind] ?? LaunchPlan(workload: workload, strategy: kind, options: options)
        }

        /// A strategy's estimate on `profile`.
        public func estimate(_ kind: Strategy) -> GPUEstimate { estimates[kind] ?? profile.estimate(self[kind]) }

        /// The per-sequence plan (the render bench compares it with `sorted`).
        public var perSequence: LaunchPlan { self[.perSequence] }
        /// The sorted plan.
        public var sorted: LaunchPlan { self[.sorted] }
    }

    /// A value undo/redo returns to: the session and what was recorded up to it.
    public struct Snapshot: Sendable {
        var session: Session
        var recordedLines: [String]?
        /// The command that changed the state away from this snapshot (what undo names).
        var change: String?
    }

    /// The message log keeps this many messages (a day of keys; bounded so a replay left running cannot grow it forever).
    static let logLimit = 10_000

    /// Undo keeps this many steps.
    static let undoLimit = 500

    public init(session: Session, width: Int = 120, height: Int = 40, glyphs: Glyphs = .unicode) {
        self.session = session
        self.width = width
        self.height = height
        self.glyphs = glyphs
        plans = Plans(session)
        panes = Self.defaultPanes(plans.strategies)
        focus = panes[0]
        adoptSelection(changed: true)
    }

    /// The panes a list of chosen strategies opens with: the first two.
    static func defaultPanes(_ chosen: [Strategy]) -> [Strategy] {
        Array((chosen.isEmpty ? Strategy.defaults : chosen).prefix(2))
    }

    /// The panes after `strategies` changed from `old` to `chosen`: the first
    /// two again, unless the panes had been chosen by hand (cycled, or a
    /// `select` brought a strategy in); then each pane whose strategy is still
    /// chosen keeps it and the others take the first chosen ones not shown.
    static func refit(_ panes: [Strategy], from old: [Strategy], to chosen: [Strategy]) -> [Strategy] {
        let fresh = defaultPanes(chosen)
        guard panes != defaultPanes(old) else { return fresh }
        var kept: [Strategy?] = panes.map { chosen.contains($0) ? $0 : nil }
        while kept.count < fresh.count { kept.append(nil) }
        for i in kept.indices where kept[i] == nil {
            kept[i] = chosen.first { !kept.contains($0) }
        }
        let result = kept.compactMap { $0 }.prefix(fresh.count)
        return result.count == fresh.count ? Array(result) : fresh
    }

    /// Makes `panes` the panes, keeping the focus on the same side.
    mutating func setPanes(_ next: [Strategy]) {
        let side = panes.firstIndex(of: focus) ?? 0
        panes = next
        if !panes.contains(focus) { focus = panes[min(side, panes.count - 1)] }
    }

    /// The app on `Scenario.defaultSource`'s batch.
    public static func defaultSession() throws -> Session {
        try Session(replaying: Scenario.parse(Scenario.defaultSource, file: "<default>"))
    }

    /// The screen `output FILE` writes: the session in the panes shown now,
    /// in ASCII, zoomed to fit, without prompt, help or status.
    public var outputText: String {
        var s = AppState(session: session, width: width, height: height, glyphs: .ascii)
        s.panes = panes
        s.focus = focus
        s.cursors = cursors
        return Screen.render(s).text
    }

    /// Whether the app asked to quit.
    public internal(set) var isQuitting = false

    // MARK: Update

    /// The one update: applies an event, returns what the host must do.
    /// A status message the event leaves goes into the message log.
    public mutating func handle(_ event: AppEvent) -> [AppAction] {
        let said = status
        let narrated = session.narration
        let actions = update(event)
        if let message = status, message != said {
            messageLog.append(LogEntry(time: now, message: message))
        }
        // A narration goes to the log too: the panel can be too short for it (M shows it in full).
        if let text = session.narration, text != narrated {
            messageLog.append(LogEntry(time: now, message: StatusMessage(text: "narration: " + text, isError: false)))
        }
        if messageLog.count > Self.logLimit { messageLog.removeFirst(messageLog.count - Self.logLimit) }
        return actions
    }

    mutating func update(_ event: AppEvent) -> [AppAction] {
        switch event {
        case .key(let key):
            return handleKey(key)
        case .paste(let text):
            return handlePaste(text)
        case .mouse(let x, let y):
            return handleClick(x: x, y: y)
        case .resize(let w, let h):
            width = w
            height = h
            scrollToCursor()
            return []
        case .tick(let t):
            now = t
            return replay == nil ? [] : advanceReplay()
        case .runProgress(let f):
            run?.fraction = f
            return []
        case .runFinished(let result):
            let ranCurrent = result.workload == session.workload
            session.apply(run: result)
            // A result of other strategies than those chosen now is as stale as one of another batch.
            let sameStrategies = result.routings.map(\.routing) == session.strategies
                && result.strategyOptions == session.strategyOptions
            run = nil
            status = StatusMessage(text: !ranCurrent ? "run finished on an older batch: marked stale"
                                   : !sameStrategies ? "run finished on other strategies: marked stale"
                                   : "run finished: " + RunPanel.finishedSummary(result, glyphs: glyphs), isError: false)
            // Playback goes on after the timings have been on screen a moment.
            replay?.player.runFinished(now: now)
            return []
        case .layerRunFinished(let results):
            session.apply(layerRun: results)
            plans = Plans(session)
            return []
        case .runFailed(let message):
            run = nil
            status = StatusMessage(text: "run failed: \(message)", isError: true)
            replay?.player.runFinished(now: now)
            return []
        case .failed(let message):
            status = StatusMessage(text: message, isError: true)
            return []
        case .notice(let message):
            status = StatusMessage(text: message, isError: false)
            return []
        }
    }

    /// Applies one command of the language as if typed, for keys, the prompt and replay.
    ///
    /// Errors land in the status line with their location; the state is unchanged.
    @discardableResult
    public mutating func perform(_ command: Command, text: String? = nil, undoable: Bool = true) -> [AppAction] {
        let step = text.map {
            ScenarioStep(command: command, location: SourceLocation(file: "<prompt>", line: 1, column: 1), text: $0)
        }
        return apply(command, step: step, undoable: undoable).actions
    }

    /// Applies a command (located by `step` for errors); returns the actions and the effect, nil on error.
    mutating func apply(_ command: Command, step: ScenarioStep?, undoable: Bool) -> (actions: [AppAction], effect: SessionEffect?) {
        var next = session
        let effect: SessionEffect
        do {
            effect = try step.map { try next.apply($0) } ?? next.apply(command)
        } catch {
            // A typed or replayed command keeps its file:line:col; a key's has none worth showing.
            status = StatusMessage(text: step == nil ? Self.keyErrorText(error) : "\(error)", isError: true)
            return ([], nil)
        }
        return (commit(next, command: command, effect: effect, undoable: undoable), effect)
    }

    /// Makes `next` the session after `command` and carries out its effect.
    mutating func commit(_ next: Session, command: Command, effect: SessionEffect, undoable: Bool,
                         fromReplay: Bool = false) -> [AppAction] {
        var actions: [AppAction] = []
        // One run at a time: a second `run` typed during one is refused (a replay's waits for its turn).
        if case .run = effect, run != nil, !fromReplay {
            status = StatusMessage(text: runInProgressMessage, isError: true)
            return []
        }
        let workloadChanged = next.workload != session.workload
        let gpuChanged = next.gpu != session.gpu
        let strategiesChanged = next.strategies != session.strategies || next.strategyOptions != session.strategyOptions
        let layerChanged = next.showsLayer != session.showsLayer || next.layerIndex != session.layerIndex
        let stateChanged = workloadChanged || gpuChanged || strategiesChanged || layerChanged || next.title != session.title
            || next.narration != session.narration
        // The panes follow a new selection (a `strategies` change refits them by its own rules).
        var selectionChanged = next.selection != session.selection
        if case .select = command { selectionChanged = true }
        if stateChanged && undoable {
            undoStack.append(Snapshot(session: session, recordedLines: recording?.lines, change: command.description))
            if undoStack.count > Self.undoLimit { undoStack.removeFirst() }
            redoStack.removeAll()
        }
        let oldStrategies = plans.strategies
        if next.adapterNotes != session.adapterNotes, !next.adapterNotes.isEmpty {
            // What the adapter files left out of this launch (an untargeted projection runs as rank 0).
            status = StatusMessage(text: "note: " + next.adapterNotes.joined(separator: "; "), isError: false)
        }
        session = next
        if workloadChanged || gpuChanged || strategiesChanged || layerChanged { plans = Plans(session) }
        if sweepChart != nil, workloadChanged || gpuChanged || strategiesChanged { sweepChart = SweepPanel.chart(session) }
        if strategiesChanged { setPanes(Self.refit(panes, from: oldStrategies, to: plans.strategies)) }
        if let running = run, !running.matches(session) {
            run = nil
            actions.append(.cancelRun)
            status = StatusMessage(text: "run cancelled: the \(workloadChanged ? "batch" : "strategies") changed", isError: false)
        }
        record(command)
        adoptSelection(changed: selectionChanged)
        switch effect {
        case .none, .sleep, .pause:
            break
        case .expect(let e):
            // Typed at the prompt: say whether it holds (a replay checks and counts its own).
            if !fromReplay {
                let outcome = e.evaluate(in: session.report())
                status = StatusMessage(text: outcome.message, isError: !outcome.held)
            }
        case .run(let reps):
            if run != nil { actions.append(.cancelRun) }
            run = RunProgress(workload: session.workload, fraction: 0, reps: reps, strategies: session.strategies,
                              strategyOptions: session.strategyOptions)
            status = StatusMessage(text: "running \(session.workload.kernel.name) on \(RunPanel.strategiesPhrase(session.strategies))\(glyphs.ellipsis)",
                                   isError: false)
            let layer = session.showsLayer ? (try? session.layerWorkloads()) ?? [] : []
            actions.append(.startRun(session.workload, options: session.runOptions(reps: reps), layer: layer))
        case let .output(path, force):
            actions.append(.writeScreen(path: path, force: force))
        case .record(let path, let force):
            // A recording in progress is written before the next one starts.
            if let r = recording { actions.append(.saveRecording(path: r.path, text: r.text, force: r.force)) }
            recording = Recording(path: path, force: force, startingFrom: session)
            status = StatusMessage(text: "recording to \(path)", isError: false)
            actions.append(.checkRecordingTarget(path: path, force: force))
        case .stopRecording:
            if let r = recording {
                actions.append(.saveRecording(path: r.path, text: r.text, force: r.force))
                recording = nil
            } else {
                status = StatusMessage(text: "not recording (start with :record FILE)", isError: true)
            }
        }
        return actions
    }

    /// What `r` (or `:run`) says while a run is in progress.
    public var runInProgressMessage: String {
        let percent = Int(((run?.fraction ?? 0) * 100).rounded(.down))
        return "a run is in progress (\(percent)%): r does not start another until it ends; Esc cancels it (a change of the batch or strategies does too)"
    }

    /// Starts recording from the current state (`lora-viz --record FILE`).
    public mutating func startRecording(path: String, force: Bool) {
        recording = Recording(path: path, force: force, startingFrom: session)
    }

    /// Drops a recording that cannot be written (its target exists).
    public mutating func cancelRecording() { recording = nil }

    /// The recording's text and target, if recording (for the host to save on quit).
    public var pendingRecording: Recording? { recording }

    /// Appends a command to the recording, if one goes on (`Recording.append`).
    mutating func record(_ command: Command) {
        recording?.append(command)
    }

    /// Follows the session's selection when it `changed` (a `select`, or a
    /// change that moved or cleared it): the focus goes to its strategy, which
    /// takes the right pane if no pane shows it (the left keeps the reference).
    /// Cursors of strategies no longer chosen, or outside their grid, go.
    mutating func adoptSelection(changed: Bool) {
        if changed, let s = session.selection, plans.strategies.contains(s.routing) {
            if !panes.contains(s.routing) {
                var next = panes
                next[next.count - 1] = s.routing
                panes = next
            }
            focus = s.routing
            cursors[s.routing] = s.position
        }
        for (kind, p) in cursors where !plans.strategies.contains(kind) || !fits(p, plans[kind]) { cursors[kind] = nil }
        counterpart = linkedProgram()
        scrollToCursor()
    }

    /// The other pane's program computing the focused program's first output cell.
    func linkedProgram() -> (strategy: Strategy, position: GridPosition)? {
        guard let other = panes.first(where: { $0 != focus }), let p = cursor(focus),
              let cells = plans[focus].cells(of: p), let token = cells.tokens.first,
              let q = plans[other].program(computing: token, column: plans[focus].kernel.isShrink ? nil : cells.columns.lowerBound)
        else { return nil }
        return (other, q)
    }

    func fits(_ p: GridPosition, _ plan: LaunchPlan) -> Bool { plan.contains(p) }

    /// How the pane showing `kind` is zoomed.
    public func zoomSetting(_ kind: Strategy) -> ZoomSetting { zooms[kind] ?? .fit }

    /// The program under the cursor of a grid, if the grid has any program.
    public func cursor(_ kind: Strategy) -> GridPosition? {
        let plan = plans[kind]
        guard plan.pidCount > 0 && plan.viewRowCount > 0 else { return nil }
        if let p = cursors[kind], fits(p, plan) { return p }
        return GridPosition(pid: 0, slice: 0, segment: 0)
    }

    // MARK: Undo

    public var canUndo: Bool { !undoStack.isEmpty }
    public var canRedo: Bool { !redoStack.isEmpty }

    /// Returns to the session before the last change (and drops what it recorded).
    mutating func undo() -> [AppAction] {
        travel(from: \.undoStack, to: \.redoStack, verb: "undo", done: "undid", more: "Ctrl-R redoes")
    }

    mutating func redo() -> [AppAction] {
        travel(from: \.redoStack, to: \.undoStack, verb: "redo", done: "redid", more: "u undoes")
    }

    /// Restores the top of one history stack, keeping the session left behind on the other.
    private mutating func travel(from source: WritableKeyPath<AppState, [Snapshot]>,
                                 to target: WritableKeyPath<AppState, [Snapshot]>,
                                 verb: String, done: String, more: String) -> [AppAction] {
        guard let snapshot = self[keyPath: source].popLast() else {
            status = StatusMessage(text: "nothing to \(verb)", isError: true)
            return []
        }
        self[keyPath: target].append(Snapshot(session: session, recordedLines: recording?.lines, change: snapshot.change))
        return restore(snapshot, verb: done, change: snapshot.change, more: more)
    }

    mutating func restore(_ snapshot: Snapshot, verb: String, change: String?, more: String) -> [AppAction] {
        var actions: [AppAction] = []
        var restored = snapshot.session
        // A run belongs to the batch it ran; keep the newest result, marked stale if it does not match.
        if let last = session.lastRun { restored.apply(run: last) }
        let oldStrategies = plans.strategies
        session = restored
        plans = Plans(session)
        if sweepChart != nil { sweepChart = SweepPanel.chart(session) }
        if plans.strategies != oldStrategies { setPanes(Self.refit(panes, from: oldStrategies, to: plans.strategies)) }
        if let lines = snapshot.recordedLines, recording != nil { recording?.lines = lines }
        if let running = run, !running.matches(session) {
            run = nil
            actions.append(.cancelRun)
        }
        adoptSelection(changed: true)
        status = StatusMessage(text: "\(verb) \(change ?? "the last change") · \(more)", isError: false)
        return actions
    }
}
