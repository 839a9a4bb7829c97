import LoRAKernels

/// How long a replay lingers after each kind of step, at speed 1: the one
/// pacing policy of the TUI and of headless replay (which the virtual clock
/// makes free).
public struct PlaybackPacing: Hashable, Sendable {
    /// Seconds after a step that only changes state (`seq`, `slots`, `expect`…).
    public var stepDelay: Double
    /// Reading speed for `title` and `narrate`: they stay `words / wordsPerSecond`
    /// seconds on screen (0: no dwell).
    public var wordsPerSecond: Double
    /// The least a `title` or `narrate` stays on screen.
    public var minimumDwell: Double
    /// Seconds a run's result stays on screen before the next step.
    public var afterRun: Double

    public init(stepDelay: Double, wordsPerSecond: Double, minimumDwell: Double, afterRun: Double) {
        self.stepDelay = stepDelay
        self.wordsPerSecond = wordsPerSecond
        self.minimumDwell = minimumDwell
        self.afterRun = afterRun
    }

    /// No time between steps: only `sleep` takes time (headless replay, `lora-viz run`).
    public static let immediate = PlaybackPacing(stepDelay: 0, wordsPerSecond: 0, minimumDwell: 0, afterRun: 0)
    /// A pace a person can follow: the TUI's.
    public static let reading = PlaybackPacing(stepDelay: 0.6, wordsPerSecond: 3, minimumDwell: 2, afterRun: 2)

    /// Seconds to wait after `step`, at speed 1; `sleep` as written.
    ///
    /// A step that only builds the batch followed by another that does
    /// (`next`) takes no time: a run of them plays at once and the screen
    /// lingers after its last (demo 08's 512 `seq` lines took 5 minutes at
    /// 0.6 s each before its first narration).
    public func delay(after step: ScenarioStep, effect: SessionEffect, next: ScenarioStep? = nil) -> Double {
        if case .sleep(let seconds) = effect { return seconds }
        if Self.buildsTheBatch(step.command), let next, Self.buildsTheBatch(next.command) { return 0 }
        switch step.command {
        case .title(let text), .narrate(let text):
            guard wordsPerSecond > 0 else { return stepDelay }
            let words = text.split(whereSeparator: { $0 == " " || $0 == "\n" }).count
            return max(minimumDwell, Double(words) / wordsPerSecond)
        default:
            return stepDelay
        }
    }
}

extension PlaybackPacing {
    /// Whether a command only builds the batch (adapters, sequences, slots):
    /// a run of them needs no dwell between its steps.
    static func buildsTheBatch(_ c: Command) -> Bool {
        switch c {
        case .seq, .setSeq, .removeSeq, .adapter, .adapterFile, .removeAdapter, .slots: return true
        default: return false
        }
    }
}

/// Steps a `Scenario` over a `Session`, at a speed, with pauses: the one
/// stepping engine of the TUI replay and of headless replay.
///
/// The player applies commands and keeps time; it does no I/O and runs no
/// kernel. Each applied step comes back as an `Event` whose effect the driver
/// carries out (a `run`: execute the kernels, set `session.lastRun`, then call
/// `runFinished`; an `expect`: evaluate it against `session.report()`; …)
/// before asking for more. Time is passed in, from a `PlaybackClock`:
///
///     var player = ScenarioPlayer(scenario, pacing: .reading)
///     while !player.isFinished {
///         for event in try player.advance(now: clock.now()) { handle(event) }
///         if let due = player.nextDeadline { clock.sleep(until: due) }
///         else if player.isPaused { player.resume(now: clock.now()) }  // headless: no keys to wait for
///     }
public struct ScenarioPlayer: Sendable {
    /// One applied step and what it asks of the driver.
    public struct Event: Hashable, Sendable {
        /// The step's index in `scenario.steps`.
        public var index: Int
        public var step: ScenarioStep
        public var effect: SessionEffect
    }

    public let scenario: Scenario
    /// The state the steps build; the driver sets `lastRun` after a `run`
    /// (the TUI puts its own session here before each step, so edits made
    /// during a replay carry on).
    public var session: Session
    /// The index of the next step to apply (`stepCount` when finished).
    public private(set) var nextStepIndex = 0
    /// The index of the step applied last, if any.
    public private(set) var currentStepIndex: Int?
    /// Playback speed: every wait lasts `1 / speed` as long (⅛×–64×).
    /// Setting it directly does not rescale a wait in progress; `setSpeed` does.
    public var speed: Double = 1 {
        didSet { speed = min(max(speed, Self.speeds.lowerBound), Self.speeds.upperBound) }
    }
    public var pacing: PlaybackPacing
    /// Waiting for `resume` (or `step`): after a `pause` step, or paused by the user.
    public private(set) var isPaused = false
    /// Stopped by a `pause` step (not by the user): `step` also continues.
    public private(set) var isWaitingForKey = false
    /// A `run` step's kernels are running: nothing steps until `runFinished`.
    public private(set) var isAwaitingRun = false
    /// When the next step is due, on the player's clock (`nil`: at once).
    private var dueTime: Double?

    public static let speeds: ClosedRange<Double> = 0.125...64

    public init(_ scenario: Scenario, session: Session = Session(), pacing: PlaybackPacing = .immediate,
                speed: Double = 1) {
        self.scenario = scenario
        self.session = session
        self.pacing = pacing
        self.speed = min(max(speed, Self.speeds.lowerBound), Self.speeds.upperBound)
    }

    // MARK: What the TUI shows

    public var stepCount: Int { scenario.steps.count }
    public var isFinished: Bool { nextStepIndex >= scenario.steps.count }
    /// The step applied last.
    public var currentStep: ScenarioStep? { currentStepIndex.map { scenario.steps[$0] } }
    /// The source line of the step applied last, as written (for tests).
    @_spi(Testing) public var currentLineText: String? { currentStep?.text }
    public var narration: String? { session.narration }
    /// The session's title, else the scenario's first `title`.
    public var title: String? { session.title ?? scenario.title }

    /// When the next step is due; `nil` when paused, waiting for a run, or finished.
    public var nextDeadline: Double? {
        isPaused || isAwaitingRun || isFinished ? nil : (dueTime ?? -Double.infinity)
    }

    // MARK: Driving

    /// Applies the next step now, whatever the time: the TUI's `n` key. A
    /// user's pause stays; a `pause` step's wait ends. Nothing steps while a
    /// run is awaited.
    ///
    /// - Throws: the step's `ScenarioError`; the player stays on that step.
    public mutating func step(now: Double) throws -> Event? {
        guard !isFinished, !isAwaitingRun else { return nil }
        let index = nextStepIndex
        let step = scenario.steps[index]
        let effect = try session.apply(step)
        nextStepIndex += 1
        currentStepIndex = index
        if isWaitingForKey {
            isWaitingForKey = false
            isPaused = false
        }
        switch effect {
        case .pause:
            isPaused = true
            isWaitingForKey = true
            dueTime = now
        case .run:
            isAwaitingRun = true
            dueTime = nil
        default:
            let next = nextStepIndex < scenario.steps.count ? scenario.steps[nextStepIndex] : nil
            dueTime = now + pacing.delay(after: step, effect: effect, next: next) / speed
        }
        return Event(index: index, step: step, effect: effect)
    }

    /// Applies the steps due at `now` (at most `limit`), stopping after the
    /// first one with an effect so the driver handles it before the next step applies.
    public mutating func advance(now: Double, limit: Int = .max) throws -> [Event] {
        var events: [Event] = []
        while events.count < limit, let due = nextDeadline, now >= due {
            guard let event = try step(now: now) else { break }
            events.append(event)
            if event.effect != .none { break }
        }
        return events
    }

    /// The awaited run ended (finished, failed or cancelled): its result
    /// stays on screen `pacing.afterRun` before the next step.
    public mutating func runFinished(now: Double) {
        guard isAwaitingRun else { return }
        isAwaitingRun = false
        dueTime = now + pacing.afterRun / speed
    }

    /// Stops stepping until `resume`: the TUI's space bar.
    public mutating func pause() { isPaused = true }

    /// Continues after a pause; the next step is due now.
    public mutating func resume(now: Double) {
        isPaused = false
        isWaitingForKey = false
        if !isAwaitingRun { dueTime = now }
    }

    /// Space: pause or resume.
    public mutating func togglePause(now: Double) {
        if isPaused { resume(now: now) } else { pause() }
    }

    /// Changes the speed, rescaling what is left of the current wait.
    public mutating func setSpeed(_ newSpeed: Double, now: Double) {
        let old = speed
        speed = newSpeed
        if let due = dueTime, due > now { dueTime = now + (due - now) * old / speed }
    }

    /// `+`: twice as fast (up to 64×).
    public mutating func faster(now: Double) { setSpeed(speed * 2, now: now) }

    /// `-`: half as fast (down to ⅛×).
    public mutating func slower(now: Double) { setSpeed(speed / 2, now: now) }
}

extension Scenario {
    /// Applies every step to a fresh session, effects ignored, so a replay
    /// reports a bad line before it runs any kernel or writes any file.
    ///
    /// Kernel runs do not change the workload, so every error `apply` can
    /// raise during a replay is raised here.
    public func validate() throws {
        var session = Session()
        var recording = false
        for step in steps {
            let effect = try session.apply(step)
            switch effect {
            case .record:
                if recording { throw ScenarioError(location: step.location, message: "already recording; stop first") }
                recording = true
            case .stopRecording:
                if !recording { throw ScenarioError(location: step.location, message: "stop without a record before it") }
                recording = false
            default:
                break
            }
        }
    }
}

/// One `run` a scenario will make, known before anything runs.
public struct PlannedRun: Sendable {
    public var workload: Workload
    public var strategies: [Strategy]
    public var strategyOptions: StrategyOptions
    public var reps: Int
    public var location: SourceLocation

    /// Multiply-adds the kernels do: every strategy's useful MACs, once per
    /// timed rep and once for the warm-up.
    public var kernelMACs: Int {
        strategies.reduce(0) { $0 + LaunchPlan(workload: workload, strategy: $1, options: strategyOptions).usefulMACs } * (reps + 1)
    }

    /// Multiply-adds of the fp64 reference (an upper bound), sampled as the run will sample it.
    public var referenceMACs: Int {
        guard let mask = ReferenceSample.rows(for: workload) else { return ReferenceSample.macs(workload) }
        return mask.lazy.filter { $0 }.count * ReferenceSample.macsPerRow(workload)
    }
}

extension Scenario {
    /// Every `run` the file makes, with the workload and strategies it runs,
    /// from applying the steps to a fresh session (as `validate` does): what
    /// `--dump` sizes and the work estimate counts before any kernel runs.
    public func plannedRuns() throws -> [PlannedRun] {
        var session = Session()
        var runs: [PlannedRun] = []
        for step in steps {
            if case .run(let reps) = try session.apply(step) {
                runs.append(PlannedRun(workload: session.workload, strategies: session.strategies,
                                       strategyOptions: session.strategyOptions, reps: reps, location: step.location))
            }
        }
        return runs
    }
}
