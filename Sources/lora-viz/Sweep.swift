import ArgumentParser
import Foundation
import LoRAKernels
import LoRAScenario

/// Set by SIGINT during a sweep; checked after every point.
/// `nonisolated(unsafe)`: a C signal handler writes it and can take no lock; a
/// `sig_atomic_t` is the one type such a handler may write.
nonisolated(unsafe) private var sweepInterrupted: sig_atomic_t = 0

/// `lora-viz sweep FILE --bs … --adapters …`: the file's batch as a template, varied.
struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Vary the batch a command file builds over batch size, adapter count and rank; report counts and GPU estimates per point.",
        discussion: """
            FILE's commands are applied to a session as `run` does (its `run`, `expect` and \
            other effects are not executed); the resulting batch is the template. For each \
            point (rank outermost, then adapters, then bs) the template's kernel, dims, dtype, \
            mode, seed, GPU, strategies and strategy options are kept; its adapters and \
            sequences are replaced by ADAPTERS adapters a0, a1, … in slots 0, 1, …, each with \
            the template's first adapter's rank (or each --ranks value; 16, at most the dims' \
            rank=, when the file has no adapter) and its scaling, and BS sequences assigned \
            round-robin (sequence i uses a(i mod ADAPTERS)). In extend mode every sequence has \
            the template's first sequence's token count; in decode one token. The slot count \
            is the file's, raised to ADAPTERS when it is smaller.

            Per point and strategy it reports programs launched, working programs, every \
            fate count and the GPU estimate in µs (an estimate from the GPU profile, not a \
            measurement; gpu_calibrated says whether it rests on measurements of that \
            strategy), and the estimated speedup per-sequence ÷ sorted when both are chosen. \
            With --run, also CPU timings from the SIMD kernels (--reps each).

            Formats: text (a table per strategy, then a chart of the speedup against bs: \
            one series per adapter count for one rank, the GPU figures estimates from the \
            GPU profile, dashed CPU series with --run; braille when LC_ALL/LC_CTYPE/LANG say \
            UTF-8, else ASCII, or --chart), svg (that chart as a standalone SVG document), json (one object per point per line: bs, adapters, rank, then the \
            keys of `run --format json`), csv (a header, then one row per point and strategy, \
            columns bs…cpu_speedup then every key of a strategy's report entry; written and \
            flushed as it goes). Ctrl-C stops after the current point and exits 130, keeping \
            what was written.

            Exit status: 0 success, 2 bad input (a bad list value, an axis outside the \
            language's limits, a file that fails to load), 130 interrupted.
            """)

    @Argument(help: ArgumentHelp("The command file (a .lora scenario) whose batch is the template; - reads standard input.", valueName: "file"))
    var file: String

    @Option(help: ArgumentHelp("Batch sizes, comma-separated (\(Batch.Limits.sequences.lowerBound)…\(Batch.Limits.sequences.upperBound)).", valueName: "list"))
    var bs: String = "1,8,32,128,512"

    @Option(help: ArgumentHelp("Adapter counts, comma-separated (\(Batch.Limits.slots.lowerBound)…\(Batch.Limits.slots.upperBound)).", valueName: "list"))
    var adapters: String = "1,4,16,64"

    @Option(help: ArgumentHelp("Ranks, comma-separated (0…the file's dims rank=; default: the file's first adapter's rank).", valueName: "list"))
    var ranks: String?

    @Option(help: ArgumentHelp("Strategies, comma-separated (default: the file's `strategies`, else per-sequence,sorted). Any of: \(Strategy.names.joined(separator: ", ")).", valueName: "list"))
    var strategies: String?

    @Option(help: "Output format: text, svg, json or csv.")
    var format: SweepFormat = .text

    @Option(help: ArgumentHelp("How --format text draws the chart: braille, block or ascii (default: braille in a UTF-8 locale, else ascii).", valueName: "style"))
    var chart: ChartStyleOption?

    @Option(name: .customLong("chart-rank"), help: ArgumentHelp("The rank whose series the chart draws, one of --ranks (default: the first).", valueName: "rank"))
    var chartRank: Int?

    @Flag(help: "Also estimate every point's decoder layer (its eight launches, docs/layer.md): a table of layer totals, the chart of the layer's speedup, and a `layer` object per JSON line.")
    var layer = false

    @Flag(name: .customLong("run"), help: "Also time every point on the CPU kernels.")
    var timed = false

    @Option(help: "Timed repetitions per strategy with --run.")
    var reps: Int = 3

    @Option(parsing: .unconditional, help: "Worker threads for the kernels with --run (default: every core).")
    var threads: Int?

    @Option(name: .shortAndLong, help: ArgumentHelp("Write the output to FILE instead of standard output.", valueName: "file"))
    var output: String?

    @Flag(help: "Replace the -o file if it exists.")
    var force = false

    enum SweepFormat: String, ExpressibleByArgument, CaseIterable { case text, svg, json, csv }

    /// `--chart`: `ChartStyle`'s cases, as the parser reads them.
    enum ChartStyleOption: String, ExpressibleByArgument, CaseIterable {
        case braille, block, ascii
        var style: ChartStyle { ChartStyle(rawValue: rawValue)! }
    }

    mutating func validate() throws {
        if reps < 1 { throw ValidationError("--reps must be at least 1, got \(reps)") }
        threads = try Threads.checked(threads)
    }

    func chosenStrategies() throws -> [Strategy]? {
        guard let strategies else { return nil }
        var out: [Strategy] = []
        for name in strategies.split(separator: ",", omittingEmptySubsequences: false).map({ $0.trimmingCharacters(in: .whitespaces) }) {
            guard let s = Strategy(name: name) else {
                throw SweepError("--strategies: unknown strategy '\(name)' (strategies: \(Strategy.names.joined(separator: ", ")))")
            }
            if out.contains(s) { throw SweepError("--strategies: \(name) is listed twice") }
            out.append(s)
        }
        return out
    }

    func run() throws {
        var sweep: Sweep
        do {
            if chart != nil, format != .text {
                throw SweepError("--chart draws the text chart; it needs --format text (got --format \(format.rawValue))")
            }
            if chartRank != nil, format != .text, format != .svg {
                throw SweepError("--chart-rank picks the chart's rank; it needs --format text or svg (got --format \(format.rawValue))")
            }
            let bsList = try Sweep.parseList(bs, flag: "--bs")
            let adapterList = try Sweep.parseList(adapters, flag: "--adapters")
            let rankList = try ranks.map { try Sweep.parseList($0, flag: "--ranks", allowZero: true) }
            let chosen = try chosenStrategies()
            let scenario = try HeadlessCLI.loadScenario(file)
            let template: Session
            do {
                template = try Sweep.template(scenario)
            } catch let error as ScenarioError {
                FileHandle.standardError.write(Data("\(error)\n".utf8))
                throw ExitCode(2)
            }
            sweep = try Sweep(template: template, bs: bsList, adapters: adapterList, ranks: rankList, strategies: chosen)
            sweep.layer = layer || template.showsLayer
            if format == .svg, !(sweep.template.strategies.contains(.perSequence) && sweep.template.strategies.contains(.sorted)) {
                throw SweepError("--format svg: the chart is of the speedup per-sequence ÷ sorted; add both to --strategies")
            }
            if let chartRank, !sweep.ranks.contains(chartRank) {
                throw SweepError("--chart-rank: \(chartRank) is not among --ranks (\(sweep.ranks.map(String.init).joined(separator: ",")))")
            }
        } catch let error as SweepError {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(2)
        }

        let out: FileHandle
        if let output {
            // An existing file is replaced only on request, as `record` and `output` ask for force=true;
            // only a regular file (through symlinks), never a device, FIFO, folder or socket. The CSV
            // and JSON lines stay streamed into it, so what was measured is there if the sweep stops.
            let target: AtomicFile.Destination
            do {
                // Never the template being swept (it was overwritten with --force).
                target = try AtomicFile.check(output, force: force, protected: file == "-" ? nil : file,
                                              protectedName: "the command file being swept")
            } catch let e as FileWriteError {
                FileHandle.standardError.write(Data("error: -o \(output): \(e.needsForce ? "exists (--force replaces it)" : e.message)\n".utf8))
                throw ExitCode(2)
            }
            let fd = open(target.path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o666)
            guard fd >= 0 else {
                FileHandle.standardError.write(Data("error: -o \(output): cannot create the file: \(String(cString: strerror(errno)))\n".utf8))
                throw ExitCode(2)
            }
            let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
            out = handle
        } else {
            out = FileHandle.standardOutput
        }
        // FileHandle.write is unbuffered: every line is in the file when it returns.
        func emit(_ s: String) { out.write(Data(s.utf8)) }

        sweepInterrupted = 0
        signal(SIGINT) { _ in sweepInterrupted = 1 }
        defer { signal(SIGINT, SIG_DFL) }

        let points = sweep.points
        let progress = timed || points.count > 50
        if format == .csv { emit(Sweep.csvHeader + "\n") }
        var rows: [(Sweep.Point, RunReport)] = []
        var interrupted = false
        for (i, p) in points.enumerated() {
            if sweepInterrupted != 0 { interrupted = true; break }
            if progress {
                FileHandle.standardError.write(Data("\r[\(i + 1)/\(points.count)] bs=\(p.bs) adapters=\(p.adapters) rank=\(p.rank)   ".utf8))
            }
            var result: KernelRunResult?
            if timed {
                let session = sweep.session(p)
                var options = session.runOptions(reps: reps)
                options.threads = threads ?? options.threads
                result = try KernelRunner.run(session.workload, options: options)
            }
            let report = sweep.report(p, run: result)
            switch format {
            case .csv: emit(Sweep.csvRows(p, report).map { $0 + "\n" }.joined())
            case .json: emit(Sweep.jsonLine(p, report) + "\n")
            case .text, .svg: rows.append((p, report))
            }
        }
        if sweepInterrupted != 0 { interrupted = true }
        if progress { FileHandle.standardError.write(Data("\n".utf8)) }
        switch format {
        case .text:
            let style = chart?.style ?? ChartStyle.preferred(environment: ProcessInfo.processInfo.environment)
            emit(Sweep.textTables(rows, chartStyle: style, chartRank: chartRank, layerChart: layer))
        case .svg:
            let chart = SweepChart(rows: rows, rank: chartRank, measure: layer ? .layer : .launch)
            guard chart.unavailable == nil else {
                FileHandle.standardError.write(Data("error: --format svg: \(chart.unavailable!)\n".utf8))
                if output != nil { try? out.close() }
                throw ExitCode(interrupted ? 130 : 2)
            }
            emit(chart.svg())
        case .json, .csv: break
        }
        if output != nil { try? out.close() }
        if interrupted {
            FileHandle.standardError.write(Data("interrupted: stopped after the current point; what was measured is kept\n".utf8))
            throw ExitCode(130)
        }
    }
}
