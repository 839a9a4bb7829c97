import LoRAKernels
import LoRAScenario

/// A message into the app's single update function (bubbletea's `Msg`).
public enum AppEvent: Sendable {
    case key(Key)
    /// A click at a screen cell.
    case mouse(x: Int, y: Int)
    case resize(width: Int, height: Int)
    /// The clock moved: seconds since an arbitrary origin (a virtual clock in tests).
    case tick(now: Double)
    /// The background kernel run moved (0…1).
    case runProgress(Double)
    case runFinished(KernelRunResult)
    case runFailed(String)
    /// The host could not carry out an action (a file it could not write…).
    case failed(String)
    /// The host did something worth saying (a file written…).
    case notice(String)
}

/// What the update asks the host to do (bubbletea's `Cmd`): every side effect.
public enum AppAction: Sendable {
    case quit
    /// Run both routings of a workload in the background; report with `.runProgress`/`.runFinished`.
    case startRun(Workload, options: KernelRunOptions)
    /// Ask the running run to stop (its result would be stale).
    case cancelRun
    /// Write the current screen as text (`output FILE`).
    case writeScreen(path: String)
    /// Check that a recording may go to `path` (exists and not `force` → `.failed`).
    case checkRecordingTarget(path: String, force: Bool)
    /// Write a recorded scenario atomically (temp file + rename; no overwrite unless `force`).
    case saveRecording(path: String, text: String, force: Bool)
}

/// A status line message.
public struct StatusMessage: Hashable, Sendable {
    public var text: String
    public var isError: Bool
}

/// The `:` prompt being typed.
public struct PromptState: Hashable, Sendable {
    public var text = ""
    /// Position in the history while browsing with ↑/↓ (nil: editing a new line).
    public var historyIndex: Int?
}

/// How the grids are scaled.
public enum ZoomSetting: Hashable, Sendable {
    /// The smallest scale at which both grids fit.
    case fit
    /// A fixed scale; the grids pan to keep the cursor in view.
    case fixed(GridScale)
}

/// A background kernel run in progress.
public struct RunProgress: Hashable, Sendable {
    public var workload: Workload
    public var fraction: Double
    public var reps: Int
}

/// Commands being recorded into a scenario file.
public struct Recording: Hashable, Sendable {
    public var path: String
    public var force: Bool
    /// Command lines, starting with those that rebuild the state recording began on.
    public var lines: [String]

    /// The scenario text the recording writes.
    public var text: String {
        "# Recorded by lora-viz. Replay with: lora-viz replay \(path)\n" + lines.map { $0 + "\n" }.joined()
    }
}

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
    /// The grid the cursor moves in.
    public internal(set) var focus: Strategy = .perSequence
    /// The program under the cursor in each grid (the session's selection is the focused one).
    public internal(set) var cursors: [Strategy: GridPosition] = [:]
    public var zoom: ZoomSetting = .fit
    /// The first cell each grid shows when it does not fit.
    public internal(set) var origins: [Strategy: GridCell] = [:]
    public var showHelp = false
    public internal(set) var prompt: PromptState?
    public internal(set) var promptHistory: [String] = []
    public var status: StatusMessage?
    public internal(set) var undoStack: [Snapshot] = []
    public internal(set) var redoStack: [Snapshot] = []
    public internal(set) var run: RunProgress?
    public internal(set) var recording: Recording?
    public var replay: ReplayState?
    /// The clock as of the last tick.
    public internal(set) var now: Double = 0
    /// Launch plans of the current workload, computed once per change.
    public internal(set) var plans: Plans

    /// Both routings' launch plans of one workload, and their estimates on the session's GPU.
    public struct Plans: Sendable {
        public let workload: Workload
        public let perSequence: LaunchPlan
        public let sorted: LaunchPlan
        /// Both launches estimated on `session.gpu` (closed form: microseconds to compute).
        public let gpu: GPUComparison

        init(_ session: Session) {
            workload = session.workload
            perSequence = session.plan(.perSequence)
            sorted = session.plan(.sorted)
            gpu = session.gpu.compare(perSequence: perSequence, sorted: sorted)
        }

        /// One routing's estimate.
        public func estimate(_ kind: Strategy) -> GPUEstimate { kind == .perSequence ? gpu.perSequence : gpu.sorted }

        public subscript(kind: Strategy) -> LaunchPlan { kind == .perSequence ? perSequence : sorted }
    }

    /// A value undo/redo returns to: the session and what was recorded up to it.
    public struct Snapshot: Sendable {
        var session: Session
        var recordedLines: [String]?
    }

    /// Undo keeps this many steps.
    static let undoLimit = 500

    public init(session: Session, width: Int = 120, height: Int = 40, glyphs: Glyphs = .unicode) {
        self.session = session
        self.width = width
        self.height = height
        self.glyphs = glyphs
        plans = Plans(session)
        if let s = session.selection {
            focus = s.routing
            cursors[s.routing] = s.position
        }
    }

    /// The app on `Scenario.defaultSource`'s batch.
    public static func defaultSession() throws -> Session {
        var session = Session()
        let scenario = try Scenario.parse(Scenario.defaultSource, file: "<default>")
        for step in scenario.steps { _ = try session.apply(step) }
        return session
    }

    /// Whether the app asked to quit.
    public internal(set) var isQuitting = false

    // MARK: Update

    /// The one update: applies an event, returns what the host must do.
    public mutating func handle(_ event: AppEvent) -> [AppAction] {
        switch event {
        case .key(let key):
            return handleKey(key)
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
            session.lastRun = result
            run = nil
            status = StatusMessage(text: ranCurrent ? "run finished: speedup \(Format.fixed(result.speedup, 2))\(glyphs.times)"
                                   : "run finished on an older batch: marked stale", isError: false)
            // Playback goes on after the timings have been on screen a moment.
            replay?.player.runFinished(now: now)
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
            status = StatusMessage(text: "\(error)", isError: true)
            return ([], nil)
        }
        return (commit(next, command: command, effect: effect, undoable: undoable), effect)
    }

    /// Makes `next` the session after `command` and carries out its effect.
    mutating func commit(_ next: Session, command: Command, effect: SessionEffect, undoable: Bool,
                         fromReplay: Bool = false) -> [AppAction] {
        var actions: [AppAction] = []
        let workloadChanged = next.workload != session.workload
        let gpuChanged = next.gpu != session.gpu
        let stateChanged = workloadChanged || gpuChanged || next.title != session.title || next.narration != session.narration
        if stateChanged && undoable {
            undoStack.append(Snapshot(session: session, recordedLines: recording?.lines))
            if undoStack.count > Self.undoLimit { undoStack.removeFirst() }
            redoStack.removeAll()
        }
        session = next
        if gpuChanged && !workloadChanged { plans = Plans(session) }
        if workloadChanged {
            plans = Plans(session)
            if let running = run, running.workload != session.workload {
                run = nil
                actions.append(.cancelRun)
                status = StatusMessage(text: "run cancelled: the batch changed", isError: false)
            }
        }
        record(command)
        adoptSelection()
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
            run = RunProgress(workload: session.workload, fraction: 0, reps: reps)
            status = StatusMessage(text: "running \(session.workload.kernel.name) on both routings\(glyphs.ellipsis)", isError: false)
            actions.append(.startRun(session.workload, options: session.runOptions(reps: reps)))
        case .output(let path):
            actions.append(.writeScreen(path: path))
        case .record(let path, let force):
            // A recording in progress is written before the next one starts.
            if let r = recording { actions.append(.saveRecording(path: r.path, text: r.text, force: r.force)) }
            recording = Recording(path: path, force: force, lines: session.stateCommands.map(\.description))
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

    /// Starts recording from the current state (`lora-viz --record FILE`).
    public mutating func startRecording(path: String, force: Bool) {
        recording = Recording(path: path, force: force, lines: session.stateCommands.map(\.description))
    }

    /// Drops a recording that cannot be written (its target exists).
    public mutating func cancelRecording() { recording = nil }

    /// The recording's text and target, if recording (for the host to save on quit).
    public var pendingRecording: Recording? { recording }

    /// Appends a command to the recording; consecutive selections collapse into one.
    mutating func record(_ command: Command) {
        guard var r = recording else { return }
        switch command {
        case .record, .stop, .output, .expect, .pause, .sleep:
            return
        case .select:
            if let last = r.lines.last, last.hasPrefix("select ") { r.lines.removeLast() }
        default:
            break
        }
        r.lines.append(command.description)
        recording = r
    }

    /// Follows the session's selection (after `select` or a batch change that cleared it).
    mutating func adoptSelection() {
        if let s = session.selection {
            focus = s.routing
            cursors[s.routing] = s.position
        }
        for kind in Strategy.allCases {
            if let p = cursors[kind], !fits(p, plans[kind]) { cursors[kind] = nil }
        }
        scrollToCursor()
    }

    func fits(_ p: GridPosition, _ plan: LaunchPlan) -> Bool {
        p.pid < plan.pidCount && p.slice < plan.sliceCount && p.segment < plan.segments.count
    }

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
        guard let previous = undoStack.popLast() else {
            status = StatusMessage(text: "nothing to undo", isError: true)
            return []
        }
        redoStack.append(Snapshot(session: session, recordedLines: recording?.lines))
        return restore(previous, verb: "undo")
    }

    mutating func redo() -> [AppAction] {
        guard let next = redoStack.popLast() else {
            status = StatusMessage(text: "nothing to redo", isError: true)
            return []
        }
        undoStack.append(Snapshot(session: session, recordedLines: recording?.lines))
        return restore(next, verb: "redo")
    }

    mutating func restore(_ snapshot: Snapshot, verb: String) -> [AppAction] {
        var actions: [AppAction] = []
        var restored = snapshot.session
        // A run belongs to the batch it ran; keep the newest result, marked stale if it does not match.
        if let last = session.lastRun { restored.lastRun = last }
        session = restored
        plans = Plans(session)
        if let lines = snapshot.recordedLines, recording != nil { recording?.lines = lines }
        if let running = run, running.workload != session.workload {
            run = nil
            actions.append(.cancelRun)
        }
        adoptSelection()
        status = StatusMessage(text: verb, isError: false)
        return actions
    }
}
