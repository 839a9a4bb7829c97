import ArgumentParser
import Foundation
import Synchronization
import LoRAKernels
import LoRAScenario
import LoRAVizUI

/// `lora-viz run FILE`: execute a command file headless and report every `run`.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Execute a command file and print a report for every `run` in it.",
        discussion: """
            Applies the file's commands in order. Each `run` times both routings on
            the SIMD CPU kernels and prints a report: grids, fate counts, utilisation,
            weight bytes, timings, GFLOP/s, speedup and errors. `expect` lines are
            evaluated; narration, pauses and sleeps are skipped.

            Exit status: 0 when every expect held, 1 when an expect failed, 2 on bad
            input (the error is printed to standard error as file:line:col: error: …).
            """)

    @Argument(help: ArgumentHelp("The command file (a .lora scenario); - reads standard input.", valueName: "file"))
    var file: String

    @Option(help: "Report format: text, or json (one JSON object per `run` on one line).")
    var format: HeadlessReplay.Format = .text

    @Option(help: ArgumentHelp(
        "Write each run's inputs, permutation, segment arrays and both outputs as .npy files with a manifest.json into <dir> (<dir>/run-N when the file runs more than once).",
        valueName: "dir"))
    var dump: String?

    @Flag(help: ArgumentHelp("Let --dump replace a non-empty folder and write a dump above \(DumpFolder.sizeLimit >> 30) GiB."))
    var force = false

    @Option(parsing: .unconditional, help: "Worker threads for the kernels (default: every core).")
    var threads: Int?

    @Option(name: .customLong("gpu-results"), help: ArgumentHelp(
        "A results file of `lora-viz gpu-bench`'s script (repeatable): each run of the batch it was measured on shows the measured GPU µs beside the estimate, with the estimate's error (JSON: gpu_measured_us, gpu_estimate_error). A file for another batch is refused (exit 2).",
        valueName: "json"))
    var gpuResults: [String] = []

    mutating func validate() throws {
        threads = try Threads.checked(threads)
    }

    func run() throws {
        try HeadlessCLI.play(file: file, format: format, threads: threads, dump: dump, narration: false,
                             width: 120, height: 40, noteWithoutRuns: true, gpuResults: gpuResults, force: force)
    }
}

extension HeadlessReplay.Format: ExpressibleByArgument {}

/// Set by SIGINT or SIGTERM during a run with `--dump`: the kernels stop, the staged dump is removed.
/// `nonisolated(unsafe)`: a C signal handler writes it and can take no lock; a
/// `sig_atomic_t` is the one type such a handler may write.
nonisolated(unsafe) private var dumpInterrupted: sig_atomic_t = 0

/// What `run` and `replay --headless` share: load, play, map outcomes to exit codes.
enum HeadlessCLI {
    /// A scenario file, or standard input for `-` (named `<stdin>` in errors),
    /// parsed and checked by applying it to a scratch session.
    ///
    /// On bad input prints every bad line (up to 20) to standard error and
    /// throws `ExitCode(2)`.
    static func loadScenario(_ file: String) throws -> Scenario {
        var data: Data?
        do {
            let scenario: Scenario
            if file == "-" {
                // At most 16 MiB + 1 bytes are read: an endless standard input is refused, not buffered.
                data = try Scenario.readStandardInput()
                scenario = try Scenario.load(data: data!, file: "<stdin>")
            } else {
                scenario = try Scenario.load(path: file)
            }
            try scenario.validate()
            return scenario
        } catch let error as ScenarioError {
            // A readable file: report all its bad lines, not only the first.
            if data == nil, file != "-", error.location.line > 0 { data = try? RegularFile.read(file, limit: Scenario.maxFileBytes, what: "a scenario") }
            let limit = 20
            var errors = data.map { Scenario.diagnose(data: $0, file: error.location.file, limit: limit) } ?? []
            if errors.isEmpty { errors = [error] }
            var text = errors.map { "\($0)\n" }.joined()
            if errors.count > 1 {
                text += errors.count == limit ? "stopped after \(limit) errors\n" : "\(errors.count) errors\n"
            }
            FileHandle.standardError.write(Data(text.utf8))
            throw ExitCode(2)
        }
    }

    static func play(file: String, format: HeadlessReplay.Format, threads: Int?, dump: String?, narration: Bool,
                     width: Int, height: Int, speed: Double = 1, noteWithoutRuns: Bool = false,
                     gpuResults resultPaths: [String] = [], force: Bool = false) throws {
        var folder: DumpFolder?
        defer { folder?.discard() }
        do {
            let scenario = try loadScenario(file)
            let gpuResults = try loadGPUResults(resultPaths)
            try scenario.checkGPUResults(gpuResults)
            let planned = try scenario.plannedRuns()
            let runCount = planned.count
            if let dump {
                // Before any kernel runs: the folder, and the dump's size.
                try DumpFolder.check(dump, force: force, inputs: [file] + resultPaths)
                let bytes = planned.reduce(0) { $0 + $1.workload.dumpBytes(strategies: $1.strategies.count) }
                let size = Session.formatBytes(bytes)
                if bytes > DumpFolder.sizeLimit && !force {
                    throw DumpError(message: "the dump would take about \(size) (\(runCount) run\(runCount == 1 ? "" : "s")), above the limit of \(Session.formatBytes(DumpFolder.sizeLimit)); --force writes it anyway")
                }
                if bytes > DumpFolder.announceSize {
                    FileHandle.standardError.write(Data("note: --dump \(dump) will take about \(size)\n".utf8))
                }
                folder = try DumpFolder(dump, force: force, inputs: [file] + resultPaths)
                // An interrupted dump is removed, not left half-written beside DIR.
                dumpInterrupted = 0
                signal(SIGINT) { _ in dumpInterrupted = 1 }
                signal(SIGTERM) { _ in dumpInterrupted = 1 }
            }
            defer {
                if dump != nil {
                    signal(SIGINT, SIG_DFL)
                    signal(SIGTERM, SIG_DFL)
                }
            }
            let estimate = WorkEstimate(planned)
            if estimate.isLarge { FileHandle.standardError.write(Data((estimate.text + "\n").utf8)) }
            let progress = estimate.isLarge ? HeadlessProgress(runs: runCount) : nil
            let staging = folder?.staging
            var replay = HeadlessReplay(
                execute: { workload, options, index in
                    var options = options
                    options.threads = threads ?? options.threads
                    options.keepTensors = staging != nil
                    let result = try KernelRunner.run(workload, options: options,
                                                      progress: { fraction in progress?.report(run: index, fraction) },
                                                      isCancelled: { dumpInterrupted != 0 })
                    progress?.finish(run: index)
                    if let staging {
                        try result.writeDump(to: runCount > 1 ? "\(staging)/run-\(index)" : staging)
                        if dumpInterrupted != 0 { throw KernelRunCancelled() }
                    }
                    return result
                },
                // `output FILE`: the TUI's screen through the text backend, ASCII glyphs.
                renderScreen: { session, width, height in
                    Screen.renderText(session: session, width: width, height: height)
                })
            replay.executeLayerLaunch = { workload, options in
                var options = options
                options.threads = threads ?? options.threads
                return try KernelRunner.run(workload, options: options)
            }
            replay.format = format
            replay.printsNarration = narration
            replay.width = width
            replay.height = height
            replay.speed = speed
            replay.gpuResults = gpuResults
            let summary = try replay.play(scenario)
            // The dump is whole: it replaces the folder now (an expect that failed does not discard it).
            if let f = folder {
                try f.commit()
                folder = nil
            }
            if noteWithoutRuns, summary.runs == 0 {
                FileHandle.standardError.write(Data("note: \(scenario.file) has no `run` command; nothing was measured\n".utf8))
            }
            if summary.exitCode != 0 {
                FileHandle.standardError.write(Data(
                    "\(summary.expectationFailures.count) of \(summary.expectationFailures.count + summary.expectationsHeld) expectations failed\n".utf8))
                throw ExitCode(summary.exitCode)
            }
        } catch let error as ScenarioError {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(2)
        } catch is KernelRunCancelled {
            folder?.discard()
            FileHandle.standardError.write(Data("interrupted: --dump \(dump ?? "") was not written\n".utf8))
            throw ExitCode(130)
        } catch let error as DumpError {
            FileHandle.standardError.write(Data("error: --dump \(dump ?? ""): \(error.message)\n".utf8))
            throw ExitCode(2)
        }
    }

    /// Checks `--record FILE` before the terminal opens: an existing file needs
    /// `--force`; a device, FIFO, directory, socket, dangling symlink or
    /// missing folder is refused. (`--record FILE --force` on the file being
    /// replayed is the user's explicit choice; the `record` command cannot.)
    static func checkRecordFlag(_ record: String, force: Bool) throws {
        do {
            _ = try HeadlessReplay.checkWriteTarget(record, force: force,
                                                    at: SourceLocation(file: "--record", line: 0, column: 0))
        } catch let error as ScenarioError {
            if error.message.hasSuffix("without force=true") {
                throw ValidationError("--record \(record): the file exists; add --force to replace it")
            }
            throw ValidationError("--record: \(error.message)")
        }
    }

    /// Reads `--gpu-results` files; a bad one prints `error: --gpu-results FILE: why` and throws `ExitCode(2)`.
    static func loadGPUResults(_ paths: [String]) throws -> [GPUBenchResults] {
        do {
            return try paths.map { try GPUBenchResults.load(path: $0) }
        } catch let error as GPUBenchError {
            FileHandle.standardError.write(Data("error: --gpu-results \(error)\n".utf8))
            throw ExitCode(2)
        }
    }
}

/// The work a file's runs will do, printed on standard error before the first
/// when it is large (`largeMACs`), so a long run is not silence.
struct WorkEstimate {
    var kernelMACs = 0
    var referenceMACs = 0
    var sampledRuns = 0
    var runs = 0

    /// 2³⁴ multiply-adds (about ten seconds and up on a few cores).
    static let largeMACs = 1 << 34

    init(_ planned: [PlannedRun]) {
        runs = planned.count
        for p in planned {
            kernelMACs += p.kernelMACs
            referenceMACs += p.referenceMACs
            if ReferenceSample.rows(for: p.workload) != nil { sampledRuns += 1 }
        }
    }

    var isLarge: Bool { kernelMACs + referenceMACs > Self.largeMACs }

    var text: String {
        func g(_ macs: Int) -> String { String(format: "%.1f G", Double(macs) / 1e9) }
        var text = "note: \(runs) run\(runs == 1 ? "" : "s"): about \(g(kernelMACs)) multiply-adds in the kernels and \(g(referenceMACs)) in the fp64 reference"
        if sampledRuns > 0 {
            text += " (a seeded sample of rows in \(sampledRuns) run\(sampledRuns == 1 ? "" : "s"): the full reference would be above 2^32 multiply-adds per run)"
        }
        return text + "; progress follows on standard error"
    }
}

/// `progress: run 1 of 3: 40 %` on standard error, at most every two seconds.
final class HeadlessProgress: Sendable {
    let runs: Int
    /// When the last line was printed.
    private let last = Mutex(Date.distantPast)
    let start = Date()

    init(runs: Int) { self.runs = runs }

    func report(run: Int, _ fraction: Double) {
        last.withLock { last in
            let now = Date()
            guard now.timeIntervalSince(last) >= 2 else { return }
            last = now
            let percent = Int((fraction * 100).rounded(.down))
            let elapsed = Int(now.timeIntervalSince(start))
            FileHandle.standardError.write(Data("progress: run \(run) of \(runs): \(percent) % of the launches (\(elapsed) s)\n".utf8))
        }
    }

    func finish(run: Int) {
        last.withLock { last in
            FileHandle.standardError.write(Data("progress: run \(run) of \(runs) done (\(Int(Date().timeIntervalSince(start))) s)\n".utf8))
            last = Date()
        }
    }
}
