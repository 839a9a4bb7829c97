import ArgumentParser
import Foundation
import LoRAKernels

/// Results files read by `gpu-fit` and `gpu-check`, with their split.
struct MeasurementFiles: ParsableArguments {
    @Argument(help: ArgumentHelp(
        "Results files (JSON lines, as gpu/measure_sglang.py and gpu/measure_strategies.py write them). Records without a `set` count as calibration data.",
        valueName: "file"))
    var files: [String]

    /// Every triton case and every csgmv/vLLM launch of every file, priced once;
    /// a strategy launch carries the sorted time of its batch when a file holds it.
    func load() throws -> (cases: [GPUCalibration.Case], strategies: [GPUCalibration.StrategySample]) {
        var all: [GPUCalibration.Case] = [], measured: [StrategyMeasurement] = []
        var byFile: [(file: String, cases: [GPUMeasurement])] = []
        for file in files {
            let text: String
            do {
                let data = try RegularFile.read(file, limit: RegularFile.jsonLimit, what: "a results file")
                guard let decoded = String(data: data, encoding: .utf8) else {
                    FileHandle.standardError.write(Data("error: \(file): not UTF-8 text, so not a results file\n".utf8))
                    throw ExitCode(2)
                }
                text = decoded
            } catch let error as FileReadError {
                FileHandle.standardError.write(Data("error: \(file): \(error.reason)\n".utf8))
                throw ExitCode(2)
            }
            do {
                let cases = try GPUMeasurement.parse(jsonl: text, source: file, defaultSplit: .calib)
                byFile.append((file, cases))
                all += cases.map(GPUCalibration.Case.init)
                measured += try StrategyMeasurement.parse(jsonl: text, source: file, defaultSplit: .calib)
            } catch let e as GPUMeasurementError {
                FileHandle.standardError.write(Data("error: \(e)\n".utf8))
                throw ExitCode(2)
            }
        }
        // A repeat run scored beside its original counts its cases twice: say so, score both.
        for r in GPUMeasurement.repeats(byFile) {
            FileHandle.standardError.write(Data(("note: \(r.cases) cases of \(r.file) repeat cases of \(r.earlierFile) (the same id and batch, e.g. \(r.example)); "
                + "both copies are scored, so leave one file out to count each case once\n").utf8))
        }
                var sorted: [String: Double] = [:]
        for c in all { sorted[c.measurement.id] = c.measurement.sortedUs }
        let samples = measured.flatMap { m in
            GPUCalibration.samples(m, sortedUs: sorted[m.id].flatMap { _ in
                all.first { $0.measurement.id == m.id && $0.measurement.workload == m.workload }?.measurement.sortedUs })
        }
        return (all, samples)
    }
}

/// `lora-viz gpu-check FILE…`: how well a profile predicts measured launches.
struct GPUCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gpu-check",
        abstract: "Score a GPU profile's estimates against measured launches.",
        discussion: """
            For each split (calibration, held-out) prints the share of cases whose
            estimated per-sequence ÷ sorted speedup is within ±25 % of the measured
            one, the share whose direction agrees (> 1.1, < 0.9 or between), and the
            share of launches estimated within ±20 %, overall and per kernel.
            """)

    @OptionGroup var measurements: MeasurementFiles

    @Option(help: ArgumentHelp("The profile to score: \(GPUProfile.names.joined(separator: ", ")).", valueName: "name"))
    var gpu = "h200"

    @Flag(help: "List the cases whose speedup estimate misses by more than 25 %, with both breakdowns.")
    var misses = false

    @Option(help: ArgumentHelp("Write every triton launch (case, split, kernel, routing, batch, work terms, measured and estimated µs) as CSV to <file>, for checking the model case by case.", valueName: "file"))
    var csv: String?

    func run() throws {
        guard let profile = GPUProfile.named(gpu) else {
            FileHandle.standardError.write(Data("error: --gpu: unknown GPU `\(gpu)`; expected one of \(GPUProfile.names.joined(separator: ", "))\n".utf8))
            throw ExitCode(2)
        }
        let (cases, strategies) = try measurements.load()
        print("\(profile.estimateLabel) (\(profile.source))")
        GPUFit.printScores(profile, cases)
        GPUFit.printStrategyScores(profile, strategies)
        if let csv {
            do {
                try AtomicFile.write(Self.csv(profile, cases).utf8, to: csv, force: true)
            } catch let e as FileWriteError {
                FileHandle.standardError.write(Data("error: --csv \(csv): \(e.message)\n".utf8))
                throw ExitCode(2)
            }
        }
        if misses {
            for c in cases {
                let est = GPUCalibration.estimatedSpeedup(profile, c)
                guard abs(est / c.measurement.speedup - 1) > 0.25 else { continue }
                let w = c.measurement.workload
                let p = profile.estimate(c.perSequence.work, kernel: w.kernel).totalUs
                let s = profile.estimate(c.sorted.work, kernel: w.kernel).totalUs
                print(String(format: "  miss %@ (%@) %@ %@ S %d slots %d R %d: measured %.1f → %.1f (%.2f×), est. %.1f → %.1f (%.2f×)",
                             c.measurement.id, c.measurement.split.rawValue, w.kernel.name, w.batch.mode.rawValue, w.batch.totalTokens, w.batch.slotCount,
                             w.dims.maxRank, c.measurement.perSequenceUs, c.measurement.sortedUs, c.measurement.speedup, p, s, est))
                print("    per-sequence: " + profile.estimate(c.perSequence.work, kernel: w.kernel).summary)
                print("    sorted:       " + profile.estimate(c.sorted.work, kernel: w.kernel).summary)
            }
        }
    }
}

extension GPUCheck {
    /// One row per measured triton launch: what the batch is, the work the
    /// model prices, and both times.
    static func csv(_ profile: GPUProfile, _ cases: [GPUCalibration.Case]) -> String {
        var rows = ["id,split,kernel,mode,routing,tokens,sequences,slots,max_rank,k,n,segment_exits,excess_exits,working,k_steps,max_k_steps,excess_before_last_work,segment_before_last_work,tile_bytes,overfetch_bytes,unique_bytes,measured_us,estimate_us,bound,order,exit_work_pairs,aligned_width"]
        for c in cases {
            let w = c.measurement.workload
            for s in c.samples {
                let e = profile.estimate(s.work, kernel: s.kernel)
                let g = s.work
                rows.append([c.measurement.id, c.measurement.split.rawValue, w.kernel.name, w.batch.mode.rawValue, s.routing,
                             "\(w.batch.totalTokens)", "\(w.batch.sequences.count)", "\(w.batch.slotCount)", "\(w.dims.maxRank)",
                             "\(w.inputWidth)", "\(w.outputWidth)",
                             "\(g.segmentExits)", "\(g.excessExits)", "\(g.workingPrograms)", "\(g.kSteps)", "\(g.maxKSteps)",
                             "\(g.excessExitsBeforeLastWork)", "\(g.segmentExitsBeforeLastWork)", "\(g.tileBytes)", "\(g.overfetchBytes)", "\(g.uniqueBytes)",
                             String(format: "%.3f", s.measuredUs), String(format: "%.3f", e.totalUs), e.bound.rawValue, Self.order(LaunchPlan(workload: w, routing: Self.routing(s.routing, w.batch))),
                             "\(g.excessExitWorkPairs)", "\(g.alignedWidth)"]
                    .joined(separator: ","))
            }
        }
        return rows.joined(separator: "\n") + "\n"
    }

    static func routing(_ name: String, _ b: Batch) -> Routing {
        name == "per-sequence" ? .perSequence(b) : name == "sorted" ? .sorted(b) : .tight(b)
    }

    /// Programs in launch order, run-length encoded: `W<steps>*n`, `S*n` (segment exit), `X*n` (excess exit).
    static func order(_ plan: LaunchPlan) -> String {
        guard plan.launched <= 400_000 else { return "" }
        var out: [String] = [], last = "", n = 0
        for seg in plan.segments {
            for slice in 0..<plan.sliceCount {
                for pid in 0..<plan.pidCount {
                    let f = plan.fate(GridPosition(pid: pid, slice: slice, segment: seg.segment))
                    let k = f.runsKLoop ? "W\(cdiv(seg.reduction, plan.blocks.k))" : (f == .excessExit ? "X" : "S")
                    if k == last { n += 1 } else { if n > 0 { out.append("\(last)*\(n)") }; last = k; n = 1 }
                }
            }
        }
        if n > 0 { out.append("\(last)*\(n)") }
        return out.joined(separator: " ")
    }
}

/// `lora-viz gpu-fit FILE…`: fit the H200 profile's program costs.
struct GPUFit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gpu-fit",
        abstract: "Fit the h200 profile's program costs to the calibration records of results files.",
        discussion: """
            Fits on the records marked `calib` (and those without a `set`), never on
            `holdout`; prints the fitted constants as the Swift of
            Sources/LoRAKernels/GPU/GPUProfile+H200.swift and the scores on both splits.
            """)

    @OptionGroup var measurements: MeasurementFiles

    @Option(help: "Loss evaluations the fit may spend.")
    var evaluations = 4000

    @Option(help: "Restarts from perturbed parameters (the best fit is kept).")
    var restarts = 8

    @Option(help: ArgumentHelp("What to fit: `all`, `triton` (SGLang triton's kernels and the shared terms) or `strategies` (csgmv's and vLLM's kernels, the rest kept).", valueName: "part"))
    var part = "all"

    @Option(help: ArgumentHelp("Replace the lines between the BEGIN FITTED and END FITTED markers of <file> (Sources/LoRAKernels/GPU/GPUProfile+H200.swift) with the fit.", valueName: "file"))
    var write: String?

    func run() throws {
        guard ["all", "triton", "strategies"].contains(part) else {
            FileHandle.standardError.write(Data("error: --part: `\(part)` is not one of all, triton, strategies\n".utf8))
            throw ExitCode(2)
        }
        let (cases, strategies) = try measurements.load()
        let calib = cases.filter { $0.measurement.split == .calib }
        var fitted = GPUProfile.h200
        if part != "strategies" {
            print("fitting on \(calib.count) calibration cases; loss before \(String(format: "%.4f", GPUCalibration.loss(.h200, calib)))")
            fitted = GPUCalibration.fit(.h200, to: calib, evaluations: evaluations, restarts: restarts)
            print("loss after \(String(format: "%.4f", GPUCalibration.loss(fitted, calib)))")
        }
        if part != "triton" {
            let samples = strategies.filter { $0.split == .calib }
            print("fitting csgmv and vLLM costs on \(samples.count) calibration launches")
            fitted = GPUCalibration.fitFamilies(fitted, to: samples, evaluations: evaluations / 2, restarts: restarts / 2)
        }
        let source = GPUCalibration.swiftSource(fitted)
        print(source)
        Self.printScores(fitted, cases)
        Self.printStrategyScores(fitted, strategies)
        if let write { try Self.replaceFitted(in: write, with: source) }
    }

    /// Rewrites the fitted block of a profile's source file.
    static func replaceFitted(in path: String, with source: String) throws {
        guard let data = try? RegularFile.read(path, limit: RegularFile.jsonLimit, what: "a profile's source file"),
              let text = String(data: data, encoding: .utf8),
              let begin = text.range(of: "// BEGIN FITTED\n"), let end = text.range(of: "        // END FITTED")
        else {
            FileHandle.standardError.write(Data("error: --write: \(path) is unreadable or lacks the BEGIN FITTED / END FITTED markers\n".utf8))
            throw ExitCode(2)
        }
        let updated = text[..<begin.upperBound] + source + "\n" + text[end.lowerBound...]
        do {
            // Atomic, through symlinks, keeping the file's permissions; a device or FIFO is refused.
            try AtomicFile.write(String(updated).utf8, to: path, force: true)
        } catch let e as FileWriteError {
            FileHandle.standardError.write(Data("error: --write \(path): \(e.message)\n".utf8))
            throw ExitCode(2)
        }
        print("wrote \(path)")
    }

    /// Per split and strategy: launches within ±20 % and the speedup against sorted.
    static func printStrategyScores(_ profile: GPUProfile, _ samples: [GPUCalibration.StrategySample]) {
        for split in [GPUMeasurement.Split.calib, .holdout] {
            let part = samples.filter { $0.split == split }
            guard !part.isEmpty else { continue }
            print("\(split == .calib ? "calibration" : "held-out"), against sorted:")
            let cards = GPUCalibration.score(profile, on: part)
            for s in Strategy.allCases {
                guard let card = cards[s] else { continue }
                print("  \(s.name): \(card)")
                for name in Kernel.names {
                    let k = part.filter { $0.strategy == s && $0.kernel.name == name }
                    if let c = GPUCalibration.score(profile, on: k)[s] { print("    \(name): \(c)") }
                }
            }
        }
    }

    static func printScores(_ profile: GPUProfile, _ cases: [GPUCalibration.Case]) {
        for split in [GPUMeasurement.Split.calib, .holdout] {
            let part = cases.filter { $0.measurement.split == split }
            guard !part.isEmpty else { continue }
            print("\(split == .calib ? "calibration" : "held-out"): \(GPUCalibration.score(profile, on: part))")
            for name in Kernel.names {
                let k = part.filter { $0.measurement.workload.kernel.name == name }
                if !k.isEmpty { print("  \(name): \(GPUCalibration.score(profile, on: k))") }
            }
            // What the report quotes beside an estimate (GPUDirectionRecord).
            print("  direction by the estimate's distance from the nearest band edge (0.9, 1.1):")
            let record = GPUCalibration.directionRecord(profile, on: part, source: "")
            for (i, b) in record.bins.enumerated() {
                let upper = i + 1 < record.bins.count ? String(format: "%.0f %%", 100 * record.bins[i + 1].fromDistance) : "up"
                print(String(format: "    %.0f %% – %@: %d cases, direction agrees %.1f%%", 100 * b.fromDistance, upper, b.cases, 100 * b.share))
            }
        }
    }
}
