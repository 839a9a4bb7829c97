import Foundation
import LoRAKernels

/// Plays a scenario without a terminal, on a virtual clock: prints each
/// narration and each `run` report, evaluates every `expect`, writes
/// `output` screens and recordings. What `lora-viz replay --headless` and
/// `lora-viz run` do.
///
/// I/O goes through closures so tests capture it and the CLI plugs in the
/// kernels and the UI's screen renderer.
public struct HeadlessReplay {
    public enum Format: String, CaseIterable, Sendable {
        /// Readable reports; narration and expect results inline.
        case text
        /// One JSON report per `run` on standard output, nothing else there;
        /// narration and expect results go to standard error.
        case json
    }

    /// What a replay did.
    public struct Summary: Hashable, Sendable {
        public var steps = 0
        public var runs = 0
        public var expectationsHeld = 0
        /// Failure messages, `file:line:col: error: expect … failed: …`.
        public var expectationFailures: [String] = []
        public var outputsWritten: [String] = []
        public var recordingsWritten: [String] = []
        /// Seconds the virtual clock advanced: the replay's waits (`pacing`, sleeps) at its speed.
        public var virtualSeconds: Double = 0

        /// 0 when every expect held, 1 when one failed.
        public var exitCode: Int32 { expectationFailures.isEmpty ? 0 : 1 }
    }

    public var format: Format = .text
    /// Terminal size the `output` screens are rendered at.
    public var width = 120
    public var height = 40
    /// Print `narrate` text (the replay does; `lora-viz run` does not).
    public var printsNarration = true
    /// Playback speed; the virtual clock makes it matter only to `virtualSeconds`.
    public var speed: Double = 1
    /// How long steps linger; `.reading` makes `virtualSeconds` the TUI replay's
    /// length (without its waits for keys and kernels).
    public var pacing: PlaybackPacing = .immediate
    /// Runs the chosen strategies: `KernelRunner.run` in the CLI. `options`
    /// holds the reps and strategies (`Session.runOptions`); the driver may set threads and tensors.
    public var execute: (_ workload: Workload, _ options: KernelRunOptions, _ runIndex: Int) throws -> KernelRunResult
    /// Runs one of the layer's eight launches while the layer table is shown
    /// (`layer`); the CLI sets its threads. `--dump` writes the current launch only.
    public var executeLayerLaunch: (_ workload: Workload, _ options: KernelRunOptions) throws -> KernelRunResult = {
        try KernelRunner.run($0, options: $1)
    }
    /// Draws the screen as text for `output FILE` (the UI's `Screen` + `Canvas.text`).
    public var renderScreen: (_ session: Session, _ width: Int, _ height: Int) -> String
    /// Standard output and standard error.
    public var standardOutput: (String) -> Void = { FileHandle.standardOutput.write(Data($0.utf8)) }
    public var standardError: (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }
    public var clock: PlaybackClock = VirtualClock()
    /// Measured GPU times to show beside the estimates (`run --gpu-results`);
    /// check them first with `Scenario.checkGPUResults`.
    public var gpuResults: [GPUBenchResults] = []

    public init(execute: @escaping (Workload, KernelRunOptions, Int) throws -> KernelRunResult,
                renderScreen: @escaping (Session, Int, Int) -> String) {
        self.execute = execute
        self.renderScreen = renderScreen
    }

    /// Plays the scenario to its end.
    ///
    /// - Throws: `ScenarioError` for bad input (found by `validate` before
    ///   anything runs, or a file that cannot be written); any error `execute` throws.
    /// - Returns: the summary; its `exitCode` says whether every expect held.
    public func play(_ scenario: Scenario) throws -> Summary {
        try scenario.validate()
        var summary = Summary()
        var player = ScenarioPlayer(scenario, pacing: pacing, speed: speed)
        player.session.gpuResults = gpuResults
        let start = clock.now()
        // The recording going on, and the `record` line that began it (for errors at the end).
        var recording: (file: Recording, location: SourceLocation)?
        // Every `output` and `record` target is checked before anything runs, so a long run is
        // not thrown away at the end. A file this replay wrote itself may be written again.
        var writesHere = Set<String>()
        for step in scenario.steps {
            let path: String, force: Bool, verb: String
            switch step.command {
            case let .output(p, f): (path, force, verb) = (p, f, "output")
            case let .record(p, f): (path, force, verb) = (p, f, "record")
            default: continue
            }
            _ = try Self.checkWriteTarget(path, force: force || writesHere.contains(path), protected: scenario.file,
                                          verb: verb, at: step.location)
            writesHere.insert(path)
        }
        var written = Set<String>()
        // Writes a recording (at `stop`, at the next `record`, at the end) and counts it.
        func save(_ r: Recording, at location: SourceLocation) throws {
            try Self.write(r.text, to: r.path, force: r.force, protected: scenario.file, verb: "record", at: location)
            written.insert(r.path)
            summary.recordingsWritten.append(r.path)
        }
        var info: (String) -> Void { format == .text ? standardOutput : standardError }

        while !player.isFinished {
            let events = try player.advance(now: clock.now())
            for event in events {
                summary.steps += 1
                let location = event.step.location
                // Every command applied while recording is recorded (`Recording.append` leaves out `record` itself).
                recording?.file.append(event.step.command)
                switch event.effect {
                case .none:
                    guard printsNarration else { break }
                    if case .narrate(let text) = event.step.command, !text.isEmpty {
                        info(text.split(separator: "\n", omittingEmptySubsequences: false)
                            .map { "│ \($0)\n" }.joined())
                    } else if case .title(let text) = event.step.command {
                        info("═══ \(text) ═══\n")
                    }
                case .run(let reps):
                    summary.runs += 1
                    let result = try execute(player.session.workload, player.session.runOptions(reps: reps), summary.runs)
                    player.session.apply(run: result)
                    if player.session.showsLayer {
                        let options = player.session.runOptions(reps: reps)
                        let layerRun = try player.session.layerWorkloads().map { try executeLayerLaunch($0, options) }
                        player.session.apply(layerRun: layerRun)
                    }
                    player.runFinished(now: clock.now())
                    let report = player.session.report()
                    switch format {
                    case .text:
                        standardOutput("── run \(summary.runs) at \(location) (reps \(reps)) ──\n" + report.text + "\n")
                    case .json:
                        standardOutput(report.json + "\n")
                    }
                case .expect(let e):
                    let outcome = e.evaluate(in: player.session.report())
                    if outcome.held {
                        summary.expectationsHeld += 1
                        info("ok \(location): expect \(e)\n")
                    } else {
                        let message = "\(ScenarioError(location: location, message: outcome.message))"
                        summary.expectationFailures.append(message)
                        standardError(message + "\n")
                    }
                case let .output(path, force):
                    let screen = renderScreen(player.session, width, height)
                    try Self.write(screen, to: path, force: force || written.contains(path), protected: scenario.file,
                                   verb: "output", at: location)
                    written.insert(path)
                    summary.outputsWritten.append(path)
                case .record(let path, let force):
                    // A recording in progress is written before the next one starts, as in the TUI.
                    if let r = recording { try save(r.file, at: location) }
                    _ = try Self.checkWriteTarget(path, force: force || written.contains(path), protected: scenario.file,
                                                  verb: "record", at: location)
                    recording = (Recording(path: path, force: force || written.contains(path), startingFrom: player.session),
                                 location)
                case .stopRecording:
                    if let r = recording { try save(r.file, at: location) }
                    recording = nil
                case .pause:
                    // No keys to wait for headless.
                    player.resume(now: clock.now())
                case .sleep:
                    break
                }
            }
            if let due = player.nextDeadline, due > clock.now() {
                clock.sleep(until: due)
            }
        }
        if let r = recording {
            // A recording still open at the end is written, as quitting the TUI would.
            try save(r.file, at: r.location)
        }
        summary.virtualSeconds = clock.now() - start
        return summary
    }

    /// Where `write` will put a file: the regular file a path names (through
    /// any symlinks), and the permission bits it has now.
    public typealias WriteTarget = AtomicFile.Destination

    /// Checks a path `output`, `record` or `--record` will write, before anything is written.
    ///
    /// A path that does not exist is fine when its folder exists. A symlink is
    /// followed to the file it points to (a dangling one is refused). An
    /// existing target must be a regular file, and needs `force`; a character
    /// or block device, FIFO, directory or socket is never replaced. Nor is
    /// `protected` (the scenario file being run, compared by device and inode).
    /// The rules are `AtomicFile.check`'s.
    ///
    /// - Throws: `ScenarioError` at `location`, naming the path and why.
    /// - Parameter verb: the command (`output`, `record`) whose `force=true` the "exists" error suggests.
    public static func checkWriteTarget(_ path: String, force: Bool, protected: String? = nil, verb: String? = nil,
                                        at location: SourceLocation) throws -> WriteTarget {
        guard !path.isEmpty else { throw ScenarioError(location: location, message: "cannot write an empty path") }
        do {
            return try AtomicFile.check(path, force: force, protected: protected)
        } catch let error as FileWriteError {
            throw scenarioError(error, path: path, verb: verb, at: location)
        }
    }

    static func scenarioError(_ error: FileWriteError, path: String, verb: String?, at location: SourceLocation) -> ScenarioError {
        if error.needsForce {
            return ScenarioError(location: location, message: verb.map { "\(path) exists; \($0) \(Printer.word(path)) force=true overwrites it" }
                                 ?? "\(path) exists; not overwriting it without force=true")
        }
        return ScenarioError(location: location, message: "cannot write \(path): \(error.message)")
    }

    /// Writes a file atomically (`AtomicFile`): a temporary file beside the
    /// target, created exclusively under a random name (`O_EXCL | O_NOFOLLOW`),
    /// renamed over it. The target is checked by `checkWriteTarget` first (so
    /// only a regular file is replaced, through symlinks, and only with
    /// `force`); a replaced file keeps its permission bits. The temporary file
    /// is removed on every failure and on SIGINT/SIGTERM/SIGHUP during the write.
    public static func write(_ text: String, to path: String, force: Bool, protected: String? = nil, verb: String? = nil,
                             at location: SourceLocation) throws {
        let target = try checkWriteTarget(path, force: force, protected: protected, verb: verb, at: location)
        do {
            try AtomicFile.write(text.utf8, to: target)
        } catch let error as FileWriteError {
            throw scenarioError(error, path: path, verb: verb, at: location)
        }
    }

    static func reason(_ error: Error) -> String { FileWriteError.reason(error) }
}
