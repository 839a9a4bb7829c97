import LoRAKernels

/// Steps a `Scenario` over a `Session`, at a speed, with pauses: what the TUI
/// replays and headless replay drives.
///
/// The player applies commands and keeps time; it does no I/O and runs no
/// kernel. Each applied step comes back as an `Event` whose effect the driver
/// carries out (a `run`: execute the kernels and set `session.lastRun`; an
/// `expect`: evaluate it against `session.report()`; …) before asking for
/// more. Time is passed in, from a `PlaybackClock`:
///
///     var player = ScenarioPlayer(scenario)
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
    /// The state the steps build; the driver sets `lastRun` after a `run`.
    public var session: Session
    /// The index of the next step to apply (`stepCount` when finished).
    public private(set) var nextStepIndex = 0
    /// The index of the step applied last, if any.
    public private(set) var currentStepIndex: Int?
    /// Playback speed: sleeps and step intervals last `1 / speed` as long (⅛×–64×).
    public var speed: Double = 1 {
        didSet { speed = min(max(speed, Self.speeds.lowerBound), Self.speeds.upperBound) }
    }
    /// The pause between two steps at speed 1, in seconds: 0 headless, a
    /// fraction of a second in the TUI so a human can follow.
    public var stepInterval: Double
    /// Waiting for `resume`: after a `pause` step, or paused by the user.
    public private(set) var isPaused = false
    /// When the next step is due, on the player's clock.
    private var dueTime: Double?

    public static let speeds: ClosedRange<Double> = 0.125...64

    public init(_ scenario: Scenario, session: Session = Session(), stepInterval: Double = 0) {
        self.scenario = scenario
        self.session = session
        self.stepInterval = stepInterval
    }

    // MARK: What the TUI shows

    public var stepCount: Int { scenario.steps.count }
    public var isFinished: Bool { nextStepIndex >= scenario.steps.count }
    /// The step applied last.
    public var currentStep: ScenarioStep? { currentStepIndex.map { scenario.steps[$0] } }
    /// The source line of the step applied last, as written.
    public var currentLineText: String? { currentStep?.text }
    public var narration: String? { session.narration }
    /// The session's title, else the scenario's first `title`.
    public var title: String? { session.title ?? scenario.title }

    /// When the next step is due; `nil` when paused or finished.
    public var nextDeadline: Double? {
        isPaused || isFinished ? nil : dueTime
    }

    // MARK: Driving

    /// Applies the next step now, whatever the time: the TUI's `n` key.
    ///
    /// - Throws: the step's `ScenarioError`; the player stays on that step.
    public mutating func step(now: Double) throws -> Event? {
        guard !isFinished else { return nil }
        let index = nextStepIndex
        let step = scenario.steps[index]
        let effect = try session.apply(step)
        nextStepIndex += 1
        currentStepIndex = index
        switch effect {
        case .sleep(let seconds):
            dueTime = now + seconds / speed
        case .pause:
            isPaused = true
            dueTime = now
        default:
            dueTime = now + stepInterval / speed
        }
        return Event(index: index, step: step, effect: effect)
    }

    /// Applies every step that is due at `now`, stopping after the first one
    /// with an effect so the driver handles it before the next step applies.
    public mutating func advance(now: Double) throws -> [Event] {
        var events: [Event] = []
        while !isFinished, !isPaused, dueTime.map({ now >= $0 }) ?? true {
            guard let event = try step(now: now) else { break }
            events.append(event)
            if event.effect != .none { break }
        }
        return events
    }

    /// Stops stepping until `resume`: the TUI's space bar.
    public mutating func pause() { isPaused = true }

    /// Continues after a `pause`; the next step is due now.
    public mutating func resume(now: Double) {
        isPaused = false
        dueTime = now
    }

    /// Space: pause or resume.
    public mutating func togglePause(now: Double) {
        if isPaused { resume(now: now) } else { pause() }
    }
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
