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
        var recording: (path: String, force: Bool, location: SourceLocation)?
        var info: (String) -> Void { format == .text ? standardOutput : standardError }

        while !player.isFinished {
            let events = try player.advance(now: clock.now())
            for event in events {
                summary.steps += 1
                let location = event.step.location
                switch event.effect {
                case .none:
                    guard printsNarration else { break }
                    if case .narrate(let text) = event.step.command {
                        info(text.split(separator: "\n", omittingEmptySubsequences: false)
                            .map { "│ \($0)\n" }.joined())
                    } else if case .title(let text) = event.step.command {
                        info("═══ \(text) ═══\n")
                    }
                case .run(let reps):
                    summary.runs += 1
                    let result = try execute(player.session.workload, player.session.runOptions(reps: reps), summary.runs)
                    player.session.lastRun = result
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
                case .output(let path):
                    let screen = renderScreen(player.session, width, height)
                    try Self.write(screen, to: path, force: true, at: location)
                    summary.outputsWritten.append(path)
                case .record(let path, let force):
                    if !force, FileManager.default.fileExists(atPath: path) {
                        throw ScenarioError(location: location,
                                            message: "\(path) exists; record \(Printer.word(path)) force=true overwrites it")
                    }
                    recording = (path, force, location)
                case .stopRecording:
                    if let r = recording {
                        try Self.write(player.session.stateSource, to: r.path, force: r.force, at: location)
                        summary.recordingsWritten.append(r.path)
                    }
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
            try Self.write(player.session.stateSource, to: r.path, force: r.force, at: r.location)
            summary.recordingsWritten.append(r.path)
        }
        summary.virtualSeconds = clock.now() - start
        return summary
    }

    /// Writes a file atomically (temporary file + rename); refuses to replace
    /// an existing one unless `force`.
    public static func write(_ text: String, to path: String, force: Bool, at location: SourceLocation) throws {
        let url = URL(fileURLWithPath: path)
        if !force, FileManager.default.fileExists(atPath: path) {
            throw ScenarioError(location: location, message: "\(path) exists; not overwriting it without force=true")
        }
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).tmp")
        do {
            try Data(text.utf8).write(to: temporary)
        } catch {
            throw ScenarioError(location: location, message: "cannot write \(path): \(Self.reason(error))")
        }
        // rename(2) replaces the target atomically: a reader sees the old file or the new one.
        if rename(temporary.path, path) != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw ScenarioError(location: location, message: "cannot write \(path): \(reason)")
        }
    }

    static func reason(_ error: Error) -> String {
        let ns = error as NSError
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain,
           let message = strerror(Int32(underlying.code)) {
            return String(cString: message)
        }
        return ns.localizedDescription
    }
}
