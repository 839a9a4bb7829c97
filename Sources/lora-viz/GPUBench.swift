import ArgumentParser
import Foundation
import LoRAKernels
import LoRAScenario
import LoRAVizUI

/// `lora-viz gpu-bench FILE -o DIR`: a folder a CUDA machine runs on the real kernels.
struct GPUBench: ParsableCommand {
    /// `--sweep`: one timing-only folder per point of the file's batch as a template.
    func exportSweep(_ override: [Strategy]?) throws {
        func fail(_ message: String) -> ExitCode {
            FileHandle.standardError.write(Data("error: \(message)\n".utf8))
            return ExitCode(2)
        }
        let sweep: LoRAScenario.Sweep
        do {
            let template = try LoRAScenario.Sweep.template(try HeadlessCLI.loadScenario(file))
            sweep = try LoRAScenario.Sweep(
                template: template, bs: LoRAScenario.Sweep.parseList(bs, flag: "--bs"),
                adapters: LoRAScenario.Sweep.parseList(adapters, flag: "--adapters"),
                ranks: try ranks.map { try LoRAScenario.Sweep.parseList($0, flag: "--ranks", allowZero: true) },
                strategies: override)
        } catch let e as ScenarioError {
            FileHandle.standardError.write(Data("\(e)\n".utf8))
            throw ExitCode(2)
        } catch let e as SweepError {
            throw fail(e.message)
        }
        var folders: [String] = []
        var folder: DumpFolder?
        defer { folder?.discard() }
        do {
            // As --dump: a non-empty -o needs --force; the cases are written beside it and renamed over it.
            folder = try DumpFolder(output, force: force, inputs: [file])
            let staging = folder!.staging
            for p in sweep.points {
                let s = sweep.session(p)
                try s.strategyOptions.validate(s.strategies, for: s.workload.batch)
                let name = "bs\(p.bs)-a\(p.adapters)-r\(p.rank)"
                try GPUBenchExport.writeTimingOnly(s.workload, options: s.strategyOptions, strategies: s.strategies,
                                                   to: "\(staging)/\(name)")
                folders.append("\(output)/\(name)")
            }
            try GPUBenchExport.writeScript(to: staging)
            try folder?.commit()
            folder = nil
        } catch let e as StrategyError {
            throw fail("--strategies: \(e)")
        } catch let e as DumpError {
            throw fail("gpu-bench -o \(output): \(e.message)")
        }
        print("wrote \(folders.count) timing-only cases under \(output)/ (bsB-aA-rR: batch.json each) and \(output)/\(GPUBenchExport.scriptName)")
        print("""
            on a CUDA machine with torch, triton and numpy (every case in one process, seeded inputs):
              python3 \(output)/\(GPUBenchExport.scriptName) --sglang SGLANG_WHEEL_OR_DIR [--vllm-ops VLLM_OPS_DIR]
            then: lora-viz calibrate \(output)/*/\(GPUBenchExport.resultsName) -o PROFILE.json
            """)
    }

    static let configuration = CommandConfiguration(
        commandName: "gpu-bench",
        abstract: "Export a batch and a Python script that runs it on the real SGLang / vLLM kernels of a GPU.",
        discussion: """
            Plays the command file; for every `run` it writes into <dir> (<dir>/run-N when \
            the file runs more than once) the --dump files (inputs, routings, lora-viz's \
            outputs as .npy, manifest.json), batch.json (the batch's fingerprint and the \
            routing lora-viz plans for each strategy) and lora_viz_gpu_bench.py. On a \
            machine with torch, triton and numpy (no lora-viz needed):

              python3 DIR/lora_viz_gpu_bench.py --sglang sglang-0.5.23-….whl --vllm-ops DIR_OF_VLLM_OPS

            loads each strategy's kernels by file path, checks its routing and outputs \
            against lora-viz's, times each launch as a CUDA graph of 20 calls and writes \
            DIR/gpu-results.json, which `lora-viz run FILE --gpu-results` shows beside the \
            estimate and `lora-viz calibrate` fits a profile to. `--self-check` runs it on \
            the CPU under Triton's interpreter (fp16 and fp32 batches; no timing).

            With --sweep the file's batch is a template, varied as `lora-viz sweep` varies \
            it (--bs, --adapters, --ranks; docs/sweep.md): one timing-only folder per point \
            (<dir>/bsB-aA-rR: batch.json with the tensors' shapes, no .npy files, no CPU run) \
            and the script at <dir>, which runs every point in one process on seeded inputs \
            and writes each point's gpu-results.json, for `lora-viz calibrate <dir>/*/gpu-results.json`.

            `expect` lines are not evaluated. Exit status: 0 written, 2 bad input.
            """)

    @Argument(help: ArgumentHelp("The command file (a .lora scenario); - reads standard input.", valueName: "file"))
    var file: String

    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("The folder to write (created if missing).", valueName: "dir"))
    var output = "gpu-bench"

    @Option(help: ArgumentHelp(
        "The strategies to export, comma-separated (default: the file's `strategies`, else per-sequence,sorted). Any of: \(Strategy.names.joined(separator: ", ")).",
        valueName: "names"))
    var strategies: String?

    @Option(parsing: .unconditional, help: "Worker threads for the CPU kernels (default: every core).")
    var threads: Int?

    @Flag(help: "Replace a non-empty -o folder (the export is written beside it and renamed over it).")
    var force = false

    @Flag(help: "Export a spread of batches for calibration: the file's batch as a template over --bs, --adapters, --ranks.")
    var sweep = false

    @Option(help: ArgumentHelp("With --sweep: batch sizes, comma-separated.", valueName: "list"))
    var bs = "1,8,32,128,512"

    @Option(help: ArgumentHelp("With --sweep: adapter counts, comma-separated.", valueName: "list"))
    var adapters = "1,4,16"

    @Option(help: ArgumentHelp("With --sweep: ranks, comma-separated (default: the template's).", valueName: "list"))
    var ranks: String?

    func chosen() throws -> [Strategy]? {
        guard let strategies else { return nil }
        let names = strategies.split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init)
        guard !names.isEmpty else { throw ValidationError("--strategies names none") }
        return try names.map { name in
            guard let s = Strategy(name: name) else {
                throw ValidationError("--strategies: unknown strategy '\(name)' (strategies: \(Strategy.names.joined(separator: ", ")))")
            }
            return s
        }
    }

    mutating func validate() throws {
        threads = try Threads.checked(threads)
        _ = try chosen()
    }

    func run() throws {
        let override = try chosen()
        if sweep { return try exportSweep(override) }
        var folder: DumpFolder?
        defer { folder?.discard() }
        do {
            let scenario = try HeadlessCLI.loadScenario(file)
            let runCount = scenario.steps.filter { if case .run = $0.command { return true } else { return false } }.count
            // As --dump: checked before any kernel runs, written beside it, renamed over it at the end.
            folder = try DumpFolder(output, force: force, inputs: [file])
            let staging = folder!.staging
            var written: [String] = []
            var replay = HeadlessReplay(
                execute: { workload, options, index in
                    var options = options
                    options.threads = threads ?? options.threads
                    options.keepTensors = true
                    if let override {
                        try options.strategyOptions.validate(override, for: workload.batch)
                        options.strategies = override
                    }
                    let result = try KernelRunner.run(workload, options: options)
                    try GPUBenchExport.write(result, to: runCount > 1 ? "\(staging)/run-\(index)" : staging)
                    written.append(runCount > 1 ? "\(output)/run-\(index)" : output)
                    return result
                },
                renderScreen: { session, width, height in Screen.renderText(session: session, width: width, height: height) })
            replay.printsNarration = false
            replay.standardOutput = { _ in }
            replay.standardError = { _ in }
            let summary = try replay.play(scenario)
            if summary.runs == 0 {
                FileHandle.standardError.write(Data("error: \(scenario.file) has no `run` command: there is no batch to export\n".utf8))
                throw ExitCode(2)
            }
            try folder?.commit()
            folder = nil
            for dir in written {
                print("wrote \(dir)/: batch.json, manifest.json, the .npy files, \(GPUBenchExport.scriptName)")
            }
            let results = written.map { "--gpu-results \($0)/\(GPUBenchExport.resultsName)" }.joined(separator: " ")
            print("""
                on a CUDA machine with torch, triton and numpy, for each folder:
                  python3 \(written[0])/\(GPUBenchExport.scriptName) --sglang SGLANG_WHEEL_OR_DIR [--vllm-ops VLLM_OPS_DIR]
                then: lora-viz run \(file) \(results)
                """)
        } catch let error as ScenarioError {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(2)
        } catch let error as StrategyError {
            FileHandle.standardError.write(Data("error: --strategies: \(error)\n".utf8))
            throw ExitCode(2)
        } catch let error as DumpError {
            FileHandle.standardError.write(Data("error: gpu-bench -o \(output): \(error.message)\n".utf8))
            throw ExitCode(2)
        }
    }
}
