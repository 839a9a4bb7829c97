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
        var recording: (path: String, force: Bool, location: SourceLocation)?
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
                    if player.session.showsLayer {
                        let options = player.session.runOptions(reps: reps)
                        player.session.lastLayerRun = try player.session.layerWorkloads().map {
                            try executeLayerLaunch($0, options)
                        }
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
                    _ = try Self.checkWriteTarget(path, force: force || written.contains(path), protected: scenario.file,
                                                  verb: "record", at: location)
                    recording = (path, force || written.contains(path), location)
                case .stopRecording:
                    if let r = recording {
                        try Self.write(player.session.stateSource, to: r.path, force: r.force, protected: scenario.file,
                                       verb: "record", at: location)
                        written.insert(r.path)
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
            try Self.write(player.session.stateSource, to: r.path, force: r.force, protected: scenario.file,
                           verb: "record", at: r.location)
            summary.recordingsWritten.append(r.path)
        }
        summary.virtualSeconds = clock.now() - start
        return summary
    }

    /// Where `write` will put a file: the regular file a path names (through
    /// any symlinks), and the permission bits it has now.
    public struct WriteTarget: Hashable, Sendable {
        /// The path written: `path` itself, or the file its symlinks lead to.
        public var path: String
        /// The existing file's permission bits, kept by the replacement; nil for a new file.
        public var existingMode: mode_t?
    }

    /// Checks a path `output`, `record` or `--record` will write, before anything is written.
    ///
    /// A path that does not exist is fine when its folder exists. A symlink is
    /// followed to the file it points to (a dangling one is refused). An
    /// existing target must be a regular file, and needs `force`; a character
    /// or block device, FIFO, directory or socket is never replaced. Nor is
    /// `protected` (the scenario file being run, compared by device and inode).
    ///
    /// - Throws: `ScenarioError` at `location`, naming the path and why.
    /// - Parameter verb: the command (`output`, `record`) whose `force=true` the "exists" error suggests.
    public static func checkWriteTarget(_ path: String, force: Bool, protected: String? = nil, verb: String? = nil,
                                        at location: SourceLocation) throws -> WriteTarget {
        func fail(_ why: String) -> ScenarioError { ScenarioError(location: location, message: "cannot write \(path): \(why)") }
        guard !path.isEmpty else { throw ScenarioError(location: location, message: "cannot write an empty path") }
        var target = path
        var info = stat()
        if lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFLNK {
            // Write the file the link points to, never the link's own inode.
            guard let resolved = realpath(path, nil) else {
                let code = errno
                throw fail(code == ENOENT ? "it is a symlink to a missing file (dangling); write the file itself"
                           : code == ELOOP ? "it is a symlink loop" : "it is a symlink that cannot be followed: \(String(cString: strerror(code)))")
            }
            target = String(cString: resolved)
            free(resolved)
        }
        guard stat(target, &info) == 0 else {
            let code = errno
            guard code == ENOENT else { throw fail(String(cString: strerror(code))) }
            // A new file: its folder must exist.
            let folder = (target as NSString).deletingLastPathComponent
            var folderInfo = stat()
            let folderPath = folder.isEmpty ? "." : folder
            guard stat(folderPath, &folderInfo) == 0 else {
                throw fail("its folder \(folderPath) does not exist")
            }
            guard (folderInfo.st_mode & S_IFMT) == S_IFDIR else { throw fail("\(folderPath) is not a folder") }
            guard access(folderPath, W_OK) == 0 else { throw fail("its folder \(folderPath) is not writable") }
            return WriteTarget(path: target, existingMode: nil)
        }
        let kind: String?
        switch info.st_mode & S_IFMT {
        case S_IFREG: kind = nil
        case S_IFDIR: kind = "a directory"
        case S_IFCHR: kind = "a character device"
        case S_IFBLK: kind = "a block device"
        case S_IFIFO: kind = "a FIFO (named pipe)"
        case S_IFSOCK: kind = "a socket"
        default: kind = "not a regular file"
        }
        let shown = target == path ? "it" : "it links to \(target), which"
        if let kind { throw fail("\(shown) is \(kind), not a regular file; only regular files are written") }
        if let protected {
            var input = stat()
            if stat(protected, &input) == 0, input.st_dev == info.st_dev, input.st_ino == info.st_ino {
                throw fail("\(shown) is the scenario file being run")
            }
        }
        // The replacement is created beside the target and renamed over it.
        let folder = (target as NSString).deletingLastPathComponent
        if access(folder.isEmpty ? "." : folder, W_OK) != 0 {
            throw fail("its folder \(folder.isEmpty ? "." : folder) is not writable")
        }
        if !force {
            throw ScenarioError(location: location, message: verb.map { "\(path) exists; \($0) \(Printer.word(path)) force=true overwrites it" }
                                ?? "\(path) exists; not overwriting it without force=true")
        }
        return WriteTarget(path: target, existingMode: info.st_mode & 0o7777)
    }

    /// Writes a file atomically: a temporary file beside the target, created
    /// exclusively under a random name (`O_EXCL | O_NOFOLLOW`), renamed over it.
    /// The target is checked by `checkWriteTarget` first (so only a regular
    /// file is replaced, through symlinks, and only with `force`); a replaced
    /// file keeps its permission bits. The temporary file is removed on every
    /// failure.
    public static func write(_ text: String, to path: String, force: Bool, protected: String? = nil, verb: String? = nil,
                             at location: SourceLocation) throws {
        let target = try checkWriteTarget(path, force: force, protected: protected, verb: verb, at: location)
        func fail(_ why: String) -> ScenarioError { ScenarioError(location: location, message: "cannot write \(path): \(why)") }
        func errnoText() -> String { String(cString: strerror(errno)) }
        let url = URL(fileURLWithPath: target.path)
        let folder = url.deletingLastPathComponent().path
        var temporary = "", fd: Int32 = -1
        for _ in 0..<16 {
            let suffix = String(UInt64.random(in: 0 ... .max), radix: 36)
            temporary = (folder as NSString).appendingPathComponent(".\(url.lastPathComponent).\(suffix).tmp")
            fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o666)
            if fd >= 0 || errno != EEXIST { break }
        }
        guard fd >= 0 else { throw fail(errnoText()) }
        var written = false
        defer {
            if fd >= 0 { close(fd) }
            if !written { unlink(temporary) }
        }
        if let mode = target.existingMode, fchmod(fd, mode) != 0 { throw fail(errnoText()) }
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw fail(errnoText())
            }
            offset += n
        }
        let closed = close(fd)
        fd = -1
        if closed != 0 { throw fail(errnoText()) }
        // rename(2) replaces the target atomically: a reader sees the old file or the new one.
        if rename(temporary, target.path) != 0 { throw fail(errnoText()) }
        written = true
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
