import Foundation
import Synchronization
import LoRAKernels
import LoRAScenario
import LoRAVizUI

/// How the terminal app looks and what it records.
struct TerminalOptions {
    /// Colours unless `--no-color` or `NO_COLOR` (set and not empty).
    var colors = true
    /// ASCII glyphs (`--ascii`; also chosen for a non-UTF-8 locale).
    var ascii = false
    /// `--palette`: the colours the TUI starts with (`P` switches).
    var palette = Palette.standard
    /// `--record FILE`: record the session's commands into FILE on quit.
    var record: String?
    /// `--force`: let `--record` replace an existing file.
    var force = false
    /// Replay speed (1 = the scenario's own pace).
    var speed = 1.0
    /// The scenario file the TUI opened on or replays: `output` and `record` never replace it.
    var inputFile: String?

    /// Colours are on unless disabled by flag or by the `NO_COLOR` convention.
    static func colorsEnabled(noColorFlag: Bool) -> Bool {
        if noColorFlag { return false }
        if let v = ProcessInfo.processInfo.environment["NO_COLOR"], !v.isEmpty { return false }
        return true
    }
}

/// A background kernel run: the worker writes progress and the result, the
/// event loop polls them (no UI work off the main thread).
final class BackgroundRun: Sendable {
    /// What the worker wrote and the event loop last reported.
    private struct State {
        var progress = 0.0
        var result: Result<KernelRunResult, any Error>?
        var layerResults: [KernelRunResult]?
        var cancelled = false
        var reported = -1.0
    }
    private let state = Mutex(State())

    var isCancelled: Bool { state.withLock { $0.cancelled } }
    func cancel() { state.withLock { $0.cancelled = true } }
    func setProgress(_ p: Double) { state.withLock { $0.progress = p } }
    func finish(_ r: sending Result<KernelRunResult, any Error>, layer: sending [KernelRunResult]? = nil) {
        state.withLock { $0.layerResults = layer; $0.result = r }
        done.signal()
    }
    private let done = DispatchSemaphore(value: 0)

    /// Blocks until the worker has finished (a cancelled one stops within one chunk of work).
    func waitUntilDone() {
        done.wait()
        done.signal()
    }

    /// Events for what changed since the last poll.
    func poll() -> [AppEvent] {
        state.withLock { s in
            if let r = s.result {
                switch r {
                case .success(let result): return (s.layerResults.map { [.layerRunFinished($0)] } ?? []) + [.runFinished(result)]
                case .failure(let error): return [.runFailed("\(error)")]
                }
            }
            if s.progress != s.reported {
                s.reported = s.progress
                return [.runProgress(s.progress)]
            }
            return []
        }
    }

    var isDone: Bool { state.withLock { $0.result != nil } }

    /// Starts the kernels of the chosen strategies on a worker thread.
    /// Then each of `layer`'s launches in turn (the layer table's); progress spans them all.
    static func start(_ workload: Workload, options: KernelRunOptions, layer: [Workload] = []) -> BackgroundRun {
        let run = BackgroundRun()
        let thread = Thread {
            do {
                let parts = Double(1 + layer.count)
                let result = try KernelRunner.run(workload, options: options,
                                                  progress: { run.setProgress($0 / parts) },
                                                  isCancelled: { run.isCancelled })
                var layerResults: [KernelRunResult] = []
                for (i, w) in layer.enumerated() {
                    layerResults.append(try KernelRunner.run(w, options: options,
                                                             progress: { run.setProgress((Double(i + 1) + $0) / parts) },
                                                             isCancelled: { run.isCancelled }))
                }
                run.finish(.success(result), layer: layer.isEmpty ? nil : layerResults)
            } catch {
                run.finish(.failure(error))
            }
        }
        thread.stackSize = 8 << 20
        thread.start()
        return run
    }
}

/// The interactive event loop: ncurses in, state update, pure render, diffed flush out.
struct TerminalApp {
    var state: AppState
    var options: TerminalOptions
    /// Messages for standard error once the terminal is restored (a recording that could not be saved).
    var exitMessages: [String] = []
    /// Cancelled runs whose workers may still be stopping; the next run waits for them.
    var retiring: [BackgroundRun] = []

    /// What ended the loop.
    enum Ending {
        case quit
        case signal(Int32)
    }

    /// Runs until `q`, Ctrl-C or a signal; the terminal is restored on every way out.
    mutating func run() throws -> Ending {
        try NcursesTerminal.requireTTY()
        let terminal = NcursesTerminal()
        if options.ascii || !terminal.localeIsUTF8 { state.glyphs = .ascii }
        state.palette = options.palette
        let start = Date()
        terminal.open(colors: options.colors)
        defer { terminal.close() }
        var background: BackgroundRun?
        _ = state.handle(.resize(width: terminal.width, height: terminal.height))
        _ = state.handle(.tick(now: 0))
        terminal.setPalette(state.palette)
        terminal.draw(Screen.render(state))
        let firstFrame = Date().timeIntervalSince(start)
        if ProcessInfo.processInfo.environment["LORA_VIZ_TRACE"] != nil {
            // For checking a terminal by hand: how fast the first frame came and what the terminal offers.
            let sinceStart = Self.secondsSinceProcessStart().map { " (\(Int($0 * 1000)) ms after the process started)" } ?? ""
            _ = state.handle(.notice("first frame after \(Int(firstFrame * 1000)) ms\(sinceStart) · colours \(terminal.colorDepth.rawValue)"
                                     + " · \(state.glyphs.isASCII ? "ASCII" : "UTF-8") glyphs"))
        }
        var ending = Ending.quit
        var needsDraw = true
        loop: while true {
            var events: [AppEvent] = []
            switch terminal.read() {
            case .key(let key)?: events.append(.key(key))
            case .paste(let text)?: events.append(.paste(text))
            case .mouse(let x, let y)?: events.append(.mouse(x: x, y: y))
            case .resize(let w, let h)?: events.append(.resize(width: w, height: h))
            case .signal(let sig)? where sig == SIGTSTP || sig == SIGCONT:
                // kill -TSTP suspends as Ctrl-Z does; a SIGCONT after an uncatchable SIGSTOP repaints.
                if sig == SIGTSTP { suspend(terminal) } else { terminal.invalidate() }
                events.append(.resize(width: terminal.width, height: terminal.height))
            case .signal(let sig)?:
                // SIGINT/SIGTERM/SIGHUP/SIGQUIT/SIGUSR1…: save what must be saved, restore the terminal, leave.
                ending = .signal(sig)
                for action in state.perform(UIAction.quit) { perform(action, &background, terminal: terminal) }
                break loop
            case nil: break
            }
            if let run = background { events += run.poll(); if run.isDone { background = nil } }
            // Redraw on input, and while something moves on its own (a run's spinner, a replay).
            let animating = state.run != nil || (state.replay.map { !$0.isFinished } ?? false)
            if events.isEmpty && !animating && !needsDraw {
                _ = state.handle(.tick(now: Date().timeIntervalSince(start)))
                continue
            }
            needsDraw = false
            events.append(.tick(now: Date().timeIntervalSince(start)))
            for event in events {
                for action in state.handle(event) {
                    if case .quit = action { break loop }
                    perform(action, &background, terminal: terminal)
                }
            }
            persistRecording()
            terminal.setPalette(state.palette)
            terminal.draw(Screen.render(state))
        }
        background?.cancel()
        // A recording still open is saved by the quit action above; nothing else to flush.
        return ending
    }

    /// The recording as last written while it went on (path, text).
    var persisted: (path: String, text: String)?

    /// Writes the recording in progress whenever it changed, so a crash or
    /// `kill -9` loses nothing that was recorded: the target was checked when
    /// the recording started, and each write is atomic (a whole file, renamed
    /// over the last). A few hundred bytes per change; quit writes it once more.
    mutating func persistRecording() {
        guard let r = state.pendingRecording else { persisted = nil; return }
        let text = r.text
        guard persisted?.path != r.path || persisted?.text != text else { return }
        // The first write keeps the start's rule (an existing file needs force); later ones replace our own file.
        let ours = persisted?.path == r.path
        do {
            try HeadlessReplay.write(text, to: r.path, force: ours || r.force, protected: nil, verb: "record",
                                     at: SourceLocation(file: "<tui>", line: 1, column: 1))
            persisted = (r.path, text)
        } catch {
            // Say it once; quit tries again and reports on standard error.
            if persisted?.path != r.path { _ = state.handle(.failed("record: \(error)")) }
            persisted = (r.path, text)
        }
    }

    /// Stops until the shell's `fg`; the recording is on disk before the stop.
    private mutating func suspend(_ terminal: NcursesTerminal) {
        persistRecording()
        terminal.suspend()
    }

    /// Seconds since this process started (Linux: /proc, 10 ms resolution), for the trace.
    static func secondsSinceProcessStart() -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
              let uptime = try? String(contentsOfFile: "/proc/uptime", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        // Field 22 (starttime, clock ticks after boot); fields after the command name start at 3.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let ticks = Double(fields[19]), let up = Double(uptime.split(separator: " ")[0]) else { return nil }
        return up - ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Carries out one action of the update.
    private mutating func perform(_ action: AppAction, _ background: inout BackgroundRun?, terminal: NcursesTerminal) {
        switch action {
        case .quit:
            break
        case .startRun(let workload, let options, let layer):
            // At most one run's inputs alive at a time: the cancelled runs stop before the next one starts.
            if let old = background { old.cancel(); retiring.append(old) }
            for old in retiring { old.waitUntilDone() }
            retiring.removeAll()
            background = BackgroundRun.start(workload, options: options, layer: layer)
        case .cancelRun:
            if let old = background { old.cancel(); retiring.append(old) }
            retiring.removeAll { $0.isDone }
            background = nil
        case .writeScreen(let path, let force):
            let text = state.outputText
            report(HeadlessReplay.self, write: text, to: path, force: force, what: "screen")
        case .checkRecordingTarget(let path, let force):
            do {
                _ = try HeadlessReplay.checkWriteTarget(path, force: force, protected: options.inputFile, verb: "record",
                                                        at: SourceLocation(file: "<tui>", line: 1, column: 1))
            } catch let error as ScenarioError {
                state.cancelRecording()
                _ = state.handle(.failed("record: \(error.message)"))
            } catch {}
        case .suspend:
            suspend(terminal)
            _ = state.handle(.resize(width: terminal.width, height: terminal.height))
        case .saveRecording(let path, let text, let force):
            // A file this session kept up to date (`persistRecording`) is ours to replace.
            report(HeadlessReplay.self, write: text, to: path, force: force || persisted?.path == path, what: "recording")
        }
    }

    private mutating func report(_: HeadlessReplay.Type, write text: String, to path: String, force: Bool, what: String) {
        do {
            // A recording's target was checked when it started (`:record` may not name the input file;
            // `--record FILE --force` may, by the user's choice).
            try HeadlessReplay.write(text, to: path, force: force, protected: what == "screen" ? options.inputFile : nil,
                                     verb: what == "screen" ? "output" : "record",
                                     at: SourceLocation(file: "<tui>", line: 1, column: 1))
            _ = state.handle(.notice("wrote \(what) to \(path)"))
        } catch {
            _ = state.handle(.failed("\(error)"))
            if state.isQuitting { exitMessages.append("lora-viz: \(error)") }
        }
    }
}
