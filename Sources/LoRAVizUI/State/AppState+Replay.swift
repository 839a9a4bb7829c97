import LoRAKernels
import LoRAScenario

/// A scenario playing in the TUI: `ScenarioPlayer` steps it (the engine
/// headless replay uses too); this keeps only what the screen reports.
///
/// Time comes from `.tick(now:)` events, so tests drive it with a virtual clock.
public struct ReplayState: Sendable {
    /// The stepping engine: next step, pauses, speed, the wait for a run.
    public internal(set) var player: ScenarioPlayer
    /// Expectations that failed, as `file:line:col: error: expect … failed: …`.
    public internal(set) var failures: [String] = []
    public internal(set) var expectationsChecked = 0

    public init(scenario: Scenario, speed: Double = 1, pacing: PlaybackPacing = .reading) {
        player = ScenarioPlayer(scenario, pacing: pacing, speed: speed)
    }

    public var scenario: Scenario { player.scenario }
    public var isFinished: Bool { player.isFinished }
    /// Steps applied so far: the step counter.
    public var stepsApplied: Int { player.nextStepIndex }
    /// The step applied last (its line is shown).
    public var current: ScenarioStep? { player.currentStep }
}

extension AppState {
    /// Starts replaying a scenario from the current session.
    public mutating func startReplay(_ scenario: Scenario, speed: Double = 1, pacing: PlaybackPacing = .reading) {
        replay = ReplayState(scenario: scenario, speed: speed, pacing: pacing)
    }

    /// Applies the next step when its time has come (one step per tick, so each shows).
    mutating func advanceReplay() -> [AppAction] {
        guard let r = replay else { return [] }
        // However the run ended (finished, failed, cancelled by a change of batch), playback goes on.
        if r.player.isAwaitingRun && run == nil { replay?.player.runFinished(now: now) }
        guard let due = replay?.player.nextDeadline, now >= due else { return [] }
        return stepReplay()
    }

    /// Applies the player's next step to the session as if typed, and handles its effect.
    mutating func stepReplay() -> [AppAction] {
        guard var r = replay else { return [] }
        // The session is the truth: edits made during the replay carry on.
        r.player.session = session
        let event: ScenarioPlayer.Event
        do {
            guard let e = try r.player.step(now: now) else { return [] }
            event = e
        } catch {
            // The step stays next: fix the state at the prompt and press n, or q.
            r.player.pause()
            replay = r
            status = StatusMessage(text: "\(error) (replay paused: n retries)", isError: true)
            return []
        }
        replay = r
        let actions = commit(r.player.session, command: event.step.command, effect: event.effect, undoable: true,
                             fromReplay: true)
        let location = event.step.location
        switch event.effect {
        case .pause:
            status = StatusMessage(text: "paused at line \(location.line): space or n continues", isError: false)
        case .expect(let e):
            let outcome = e.evaluate(in: session.report())
            replay?.expectationsChecked += 1
            if outcome.held {
                status = StatusMessage(text: outcome.message, isError: false)
            } else {
                let message = "\(ScenarioError(location: location, message: outcome.message))"
                replay?.failures.append(message)
                status = StatusMessage(text: message, isError: true)
            }
        default:
            break
        }
        if let r = replay, r.isFinished {
            let failed = r.failures.count
            status = StatusMessage(
                text: "replay finished: \(r.scenario.steps.count) steps, \(r.expectationsChecked) expects"
                    + (failed == 0 ? " held" : ", \(failed) failed") + " · q quits",
                isError: failed > 0)
        }
        return actions
    }

    /// Space, `n`, `+`, `-` while replaying.
    mutating func replayControl(_ action: UIAction) -> [AppAction] {
        guard replay != nil else { return [] }
        switch action {
        case .replayToggle:
            replay!.player.togglePause(now: now)
            status = StatusMessage(text: replay!.player.isPaused ? "replay paused: space resumes, n steps" : "replay resumed",
                                   isError: false)
            return []
        case .replayNext:
            if replay!.isFinished {
                status = StatusMessage(text: "replay finished", isError: false)
                return []
            }
            if replay!.player.isAwaitingRun {
                status = StatusMessage(text: "waiting for the run to finish", isError: false)
                return []
            }
            return stepReplay()
        case .replayFaster:
            replay!.player.faster(now: now)
        case .replaySlower:
            replay!.player.slower(now: now)
        default:
            return []
        }
        status = StatusMessage(text: "speed \(Format.speed(replay!.player.speed))\(glyphs.times)", isError: false)
        return []
    }
}

extension Format {
    /// `0.25`, `1`, `16`.
    static func speed(_ s: Double) -> String {
        s == s.rounded() ? String(Int(s)) : fixed(s, 2).trimmedZeros
    }
}
