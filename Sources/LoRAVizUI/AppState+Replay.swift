import LoRAKernels
import LoRAScenario

/// A scenario playing in the TUI: which step is next, pauses, speed.
///
/// Time comes from `.tick(now:)` events, so tests drive it with a virtual clock.
public struct ReplayState: Sendable {
    public var scenario: Scenario
    /// Index of the next step to apply.
    public var next = 0
    /// Paused by the user (space).
    public var paused = false
    /// Stopped at a `pause` step until space or `n`.
    public var waitingForKey = false
    /// Waiting for a `run` step's kernels.
    public var waitingForRun = false
    /// Playback speed: delays are divided by it.
    public var speed = 1.0
    /// The clock time at which the next step may run.
    public var resumeAt = 0.0
    /// The step applied last (its line is shown).
    public var current: ScenarioStep?
    /// Expectations that failed, as messages.
    public var failures: [String] = []
    public var expectationsChecked = 0
    /// Seconds between plain steps at speed 1.
    public var stepDelay = 0.6

    public init(scenario: Scenario, speed: Double = 1) {
        self.scenario = scenario
        self.speed = speed
    }

    public var isFinished: Bool { next >= scenario.steps.count }

    /// Speeds the `+`/`-` keys step through.
    static let speeds: [Double] = [0.125, 0.25, 0.5, 1, 2, 4, 8, 16]
}

extension AppState {
    /// Starts replaying a scenario from the current session.
    public mutating func startReplay(_ scenario: Scenario, speed: Double = 1) {
        replay = ReplayState(scenario: scenario, speed: speed)
        replay?.resumeAt = now
    }

    /// Applies the next step when its time has come (one step per tick, so each shows).
    mutating func advanceReplay(force: Bool = false) -> [AppAction] {
        guard var r = replay, !r.isFinished else { return [] }
        if !force {
            guard !r.paused, !r.waitingForKey, now >= r.resumeAt else { return [] }
        }
        if r.waitingForRun {
            guard run == nil else { return [] }
            r.waitingForRun = false
        }
        let step = r.scenario.steps[r.next]
        r.next += 1
        r.current = step
        r.waitingForKey = false
        replay = r
        let (actions, effect) = apply(step.command, step: step, undoable: true)
        r = replay ?? r
        var delay = r.stepDelay
        switch effect {
        case nil:
            // A step that fails stops the replay where the user can read why.
            r.paused = true
            status = StatusMessage(text: (status?.text ?? "error") + " (replay paused)", isError: true)
        case .pause?:
            r.waitingForKey = true
            status = StatusMessage(text: "paused at line \(step.location.line): space or n continues", isError: false)
        case .sleep(let seconds)?:
            delay = seconds
        case .run?:
            r.waitingForRun = run != nil
        case .expect(let e)?:
            let outcome = e.evaluate(in: session.report())
            r.expectationsChecked += 1
            if outcome.held {
                status = StatusMessage(text: "expect held: \(e)", isError: false)
            } else {
                let message = "\(step.location): expect failed: \(outcome.message)"
                r.failures.append(message)
                status = StatusMessage(text: message, isError: true)
            }
        default:
            if case .narrate(let text) = step.command {
                // Time to read: about four words a second, at least two seconds.
                delay = max(2, Double(text.split(separator: " ").count) / 4)
            } else if case .title = step.command {
                delay = 1.5
            }
        }
        r.resumeAt = now + delay / r.speed
        if r.isFinished {
            let failed = r.failures.count
            status = StatusMessage(
                text: "replay finished: \(r.scenario.steps.count) steps, \(r.expectationsChecked) expects"
                    + (failed == 0 ? " held" : ", \(failed) failed") + " · q quits",
                isError: failed > 0)
        }
        replay = r
        return actions
    }

    /// Space, `n`, `+`, `-` while replaying.
    mutating func replayControl(_ action: UIAction) -> [AppAction] {
        guard var r = replay else { return [] }
        switch action {
        case .replayToggle:
            if r.waitingForKey {
                r.waitingForKey = false
                r.paused = false
            } else {
                r.paused.toggle()
            }
            r.resumeAt = now
            replay = r
            status = StatusMessage(text: r.paused ? "replay paused: space resumes, n steps" : "replay resumed", isError: false)
            return []
        case .replayNext:
            guard !r.isFinished else {
                status = StatusMessage(text: "replay finished", isError: false)
                return []
            }
            r.waitingForKey = false
            replay = r
            return advanceReplay(force: true)
        case .replayFaster, .replaySlower:
            let speeds = ReplayState.speeds
            let i = speeds.lastIndex { $0 <= r.speed } ?? 2
            r.speed = speeds[action == .replayFaster ? min(speeds.count - 1, i + 1) : max(0, i - 1)]
            replay = r
            status = StatusMessage(text: "speed \(Format.speed(r.speed))\(glyphs.times)", isError: false)
            return []
        default:
            return []
        }
    }
}

extension Format {
    /// `0.25`, `1`, `16`.
    static func speed(_ s: Double) -> String {
        s == s.rounded() ? String(Int(s)) : fixed(s, 2).trimmedZeros
    }
}
