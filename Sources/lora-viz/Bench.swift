import ArgumentParser
import Foundation
import LoRAKernels

/// `lora-viz bench`: the SIMD kernels on anchor shapes, per kernel × dtype ×
/// routing, with the ISA the build targets and the measured FMA peak.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time the SIMD kernels on anchor decode shapes (hidden 4096, 64 slots), per strategy.",
        discussion: """
            Shapes: decode, Llama-3-8B-like dims (hidden/out/q 4096, kv 1024, ffn 14336), 64 adapter \
            slots with `adapters` of them used (wi[i] = i % adapters, the rest rank 0), scaling 2. \
            GFLOP/s count useful work only (2 · useful MACs / median). `--strategies` times other \
            launch strategies on the same shapes (default per-sequence,sorted: the two SGLang triton \
            routings, with their speedup). Release build only: \
            `swift build -c release && .build/release/lora-viz bench`.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json }

    @Option(help: "Output format: text or json.") var format: Format = .text
    @Option(parsing: .unconditional, help: "Worker threads (default: every core).") var threads: Int?
    @Flag(help: "A short subset: bs 16 and 256, rank 16.") var quick = false
    @Option(name: .customLong("kernel"), help: "Only these kernels (sgemm_lora_a, sgemm_lora_b, qkv_lora_b, gate_up_lora_b).")
    var kernelNames: [String] = []
    @Option(name: .customLong("dtype"), help: "Only these dtypes (bf16, fp16, fp32).") var dtypeNames: [String] = []
    @Option(name: .customLong("bs"), help: "Batch sizes instead of the anchors.") var batchSizes: [Int] = []
    @Option(name: .customLong("adapters"), help: "Adapter counts instead of the anchors.") var adapterCounts: [Int] = []
    @Option(name: .customLong("rank"), help: "Ranks instead of 16 and 64.") var ranks: [Int] = []
    @Option(help: "Timed launches per routing after one warm-up.") var reps: Int = 7
    @Option(name: .customLong("strategies"),
            help: "Comma-separated strategies to time, in order (\(Strategy.names.joined(separator: ", "))); the first is what the others' bits are compared with.")
    var strategyNames: String = Strategy.defaults.map(\.name).joined(separator: ",")
    @Flag(help: "Skip the FMA and bf16 dot peak measurements.") var noPeak = false
    @Flag(help: "Core scaling: every shape on 1 thread, then at once on --threads (default all cores); prints the ratio.")
    var scaling = false
    enum BF16Microkernel: String, ExpressibleByArgument, CaseIterable { case auto, dot, swift }

    @Option(name: .customLong("bf16-microkernel"),
            help: "bf16 tiles: dot (C VDPBF16PS, needs AVX512_BF16), swift (widened to fp32, FMA) or auto (the faster by the measured peaks); same bits.")
    var bf16Microkernel: BF16Microkernel = .auto

    /// The run's options for the kernels.
    func options(threads: Int, strategies: [Strategy] = Strategy.defaults) -> KernelRunOptions {
        let dot: Bool?
        switch bf16Microkernel {
        case .auto: dot = nil
        case .dot: dot = true
        case .swift: dot = false
        }
        return KernelRunOptions(reps: reps, threads: threads, bf16DotMicrokernel: dot, strategies: strategies)
    }

    /// The measured roof of `dtype`'s microkernel on `threads` threads: the bf16 dot product's peak for the C VDPBF16PS tiles, else the FMA's.
    static func roof(_ dtype: DType, _ options: KernelRunOptions, threads: Int, fma: [String: Double], dot: [String: Double]) -> Double? {
        (options.microkernel(for: dtype).usesDotPeak ? dot : fma)["\(threads)"]
    }

    /// The strategies `--strategies` names, in order.
    var strategies: [Strategy] {
        strategyNames.split(separator: ",").compactMap { Strategy(name: $0.trimmingCharacters(in: .whitespaces)) }
    }

    /// Whether the run is the classic one (per-sequence, sorted), whose text and JSON keep their form.
    var isClassic: Bool { strategies == Strategy.defaults }

    /// One anchor: batch size, adapters in use, rank.
    struct Shape: Hashable { var bs: Int; var adapters: Int; var rank: Int }

    var shapes: [Shape] {
        let rankList = ranks.isEmpty ? (quick ? [16] : [16, 64]) : ranks
        var pairs: [(Int, Int)]
        if !batchSizes.isEmpty || !adapterCounts.isEmpty {
            let bsList = batchSizes.isEmpty ? [256] : batchSizes
            let adapterList = adapterCounts.isEmpty ? [4] : adapterCounts
            pairs = bsList.flatMap { bs in adapterList.map { (bs, min($0, bs)) } }
        } else if quick {
            pairs = [(16, 4), (256, 1), (256, 4)]
        } else {
            // The bs sweep on 4 adapters, then the adapter sweep at bs 256.
            pairs = [(1, 1), (16, 4), (64, 4), (256, 4), (512, 4), (256, 1), (256, 16), (256, 64), (512, 64)]
        }
        var seen = Set<Shape>()
        return rankList.flatMap { rank in pairs.map { Shape(bs: $0.0, adapters: $0.1, rank: rank) } }.filter { seen.insert($0).inserted }
    }

    mutating func validate() throws {
        for name in kernelNames where Kernel(name: name) == nil {
            throw ValidationError("unknown kernel '\(name)' (expected one of \(Kernel.names.joined(separator: ", ")))")
        }
        for name in dtypeNames where DType(rawValue: name) == nil {
            throw ValidationError("unknown dtype '\(name)' (expected bf16, fp16 or fp32)")
        }
        threads = try Threads.checked(threads)
        let names = strategyNames.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        for name in names where Strategy(name: name) == nil {
            throw ValidationError("unknown strategy '\(name)' (expected a comma-separated list of \(Strategy.names.joined(separator: ", ")))")
        }
        if Set(names).count != names.count { throw ValidationError("--strategies names a strategy twice") }
        if scaling && !isClassic { throw ValidationError("--scaling times per-sequence and sorted only; leave out --strategies") }
        if reps < 1 { throw ValidationError("--reps must be at least 1") }
        if bf16Microkernel == .dot && !KernelRunOptions.bf16DotMicrokernelAvailable {
            throw ValidationError("--bf16-microkernel dot needs a CPU with avx512_bf16; this one has none")
        }
        for bs in batchSizes where !(1...4096).contains(bs) { throw ValidationError("--bs \(bs) is outside 1...4096") }
        for a in adapterCounts where !(1...64).contains(a) { throw ValidationError("--adapters \(a) is outside 1...64") }
        for r in ranks where !(1...64).contains(r) { throw ValidationError("--rank \(r) is outside 1...64 (max rank R is 64)") }
    }

    static func workload(kernel: Kernel, dtype: DType, shape: Shape) -> Workload {
        let slots = 64
        let adapters = (0..<slots).map { slot in
            Adapter(name: "a\(slot)", rank: slot < shape.adapters ? shape.rank : 0, scaling: 2, slot: slot)
        }
        let sequences = (0..<shape.bs).map { BatchSequence(adapter: "a\($0 % shape.adapters)") }
        return Workload(batch: Batch(slotCount: slots, adapters: adapters, sequences: sequences, mode: .decode),
                        dims: ModelDims(hidden: 4096, out: 4096, q: 4096, kv: 1024, ffn: 14336, maxRank: 64),
                        dtype: dtype, kernel: kernel, seed: 42)
    }

    /// The dense GEMMs `(m, k, n)` the sorted launch amounts to: one per used
    /// adapter segment and slice, for numpy to time the same work.
    static func denseGEMMs(_ w: Workload) -> [[Int]] {
        let plan = LaunchPlan(workload: w, routing: .sorted)
        return plan.segments.filter { $0.segmentExit == nil }.flatMap { seg in
            seg.sliceWidths.map { [seg.length, seg.reduction, $0] }
        }
    }

    func run() throws {
        let threads = self.threads ?? KernelRunOptions.coreCount
        let kernels = kernelNames.isEmpty ? [Kernel.sgemmLoRAA(stack: 1), .sgemmLoRAB, .qkvLoRAB, .gateUpLoRAB]
            : kernelNames.compactMap { Kernel(name: $0) }
        let dtypes = dtypeNames.isEmpty ? DType.allCases : dtypeNames.compactMap { DType(rawValue: $0) }
        let isa = MachineProbe.instructionSet
        var peaks: [String: Double] = [:], dotPeaks: [String: Double] = [:]
        if !noPeak {
            peaks["1"] = MachineProbe.fmaPeak(threads: 1)
            if threads > 1 { peaks["\(threads)"] = MachineProbe.fmaPeak(threads: threads) }
            if KernelRunOptions.bf16DotMicrokernelAvailable {
                dotPeaks["1"] = MachineProbe.bf16DotPeak(threads: 1)
                if threads > 1 { dotPeaks["\(threads)"] = MachineProbe.bf16DotPeak(threads: threads) }
            }
        }
        let runOptions = options(threads: threads, strategies: strategies)
        let microkernels = dtypes.map { "\($0.rawValue) \(runOptions.microkernel(for: $0).rawValue)" }.joined(separator: ", ")
        if scaling {
            try runScaling(kernels: kernels, dtypes: dtypes, threads: threads, isa: isa, peaks: peaks)
            return
        }
        if format == .text {
            print("lora-viz bench · \(isa.cpuModel) · \(isa.summary)")
            let peakText = peaks.keys.sorted().map { "\($0) thread\($0 == "1" ? "" : "s") \(fixed(peaks[$0]!, 0))" }
            print("threads \(threads) · reps \(reps) after 1 warm-up · fp32 FMA peak (12 register FMA chains): " +
                  (peakText.isEmpty ? "not measured" : peakText.joined(separator: ", ") + " GFLOP/s"))
            let dotText = dotPeaks.keys.sorted().map { "\($0) thread\($0 == "1" ? "" : "s") \(fixed(dotPeaks[$0]!, 0))" }
            print("bf16 dot peak (12 register VDPBF16PS chains, 4 flops a lane): " + (dotText.isEmpty
                ? (KernelRunOptions.bf16DotMicrokernelAvailable ? "not measured" : "no AVX512_BF16 on this CPU")
                : dotText.joined(separator: ", ") + " GFLOP/s"))
            print("microkernels: \(microkernels) (--bf16-microkernel \(bf16Microkernel.rawValue); % of peak: of the bf16 dot peak for c-vdpbf16ps, else of the FMA peak)")
            if isClassic {
                print("decode, hidden 4096, 64 slots, GFLOP/s = 2·useful MACs / median; speedup = per-sequence / sorted median")
                print("")
                print(pad("kernel", 15) + pad("dtype", 6) + lpad("bs", 5) + lpad("ad", 4) + lpad("r", 4) +
                      " │ " + pad("per-sequence ms (min–max)", 27) + lpad("GF/s", 7) +
                      " │ " + pad("sorted ms (min–max)", 27) + lpad("GF/s", 7) + " │ " + lpad("speedup", 8) + "  bits")
            } else {
                print("decode, hidden 4096, 64 slots; per strategy: median ms, GFLOP/s = 2·useful MACs / median, % of the "
                      + "\(threads)-thread peak of the dtype's microkernel; bits: outputs against \(strategies[0])'s (max |Δ| where they differ)")
                print("")
                print(pad("kernel", 15) + pad("dtype", 6) + lpad("bs", 5) + lpad("ad", 4) + lpad("r", 4) +
                      strategies.map { " │ " + pad($0.name, Self.strategyCellWidth) }.joined() + " │ bits")
                print(String(repeating: " ", count: 34) +
                      strategies.map { _ in " │ " + lpad("ms", 8) + lpad("GF/s", 7) + lpad("%pk", 5) }.joined() + " │")
            }
        }
        var results: [[String: Any]] = []
        /// GFLOP/s on full-tile anchors (≥ 16 tokens per adapter), per strategy, kernel and dtype.
        var fullTiles: [String: [Double]] = [:]
        for kernel in kernels {
            for dtype in dtypes {
                for shape in shapes {
                    let w = Self.workload(kernel: kernel, dtype: dtype, shape: shape)
                    let r = try KernelRunner.run(w, options: runOptions)
                    let peak = Self.roof(dtype, runOptions, threads: threads, fma: peaks, dot: dotPeaks)
                    if format == .text && !isClassic {
                        print(pad(kernel.name, 15) + pad(dtype.rawValue, 6) + lpad("\(shape.bs)", 5) + lpad("\(shape.adapters)", 4) +
                              lpad("\(shape.rank)", 4) + r.routings.map { " │ " + Self.strategyCell($0, peak: peak) }.joined() +
                              " │ " + Self.bitsCell(r))
                        fflush(nil)  // every stream, stdout among them (Glibc's `stdout` is a global var Swift 6 will not read)
                    } else if format == .text {
                        func cell(_ run: RoutingRun) -> String {
                            pad("\(fixed(run.time.median, 3)) (\(fixed(run.time.min, 3))–\(fixed(run.time.max, 3)))", 27) + lpad(fixed(run.gflops, 1), 7)
                        }
                        print(pad(kernel.name, 15) + pad(dtype.rawValue, 6) + lpad("\(shape.bs)", 5) + lpad("\(shape.adapters)", 4) +
                              lpad("\(shape.rank)", 4) + " │ " + cell(r.perSequence) + " │ " + cell(r.sorted) + " │ " +
                              lpad(fixed(r.speedup, 2) + "×", 8) + "  " + (r.bitwiseEqual ? "same" : "DIFFER"))
                        fflush(nil)  // every stream, stdout among them (Glibc's `stdout` is a global var Swift 6 will not read)
                    }
                    func routing(_ run: RoutingRun) -> [String: Any] {
                        ["median_ms": run.time.median, "min_ms": run.time.min, "max_ms": run.time.max,
                         "gflops": run.gflops, "max_abs_error_vs_reference": run.maxAbsErrorVsReference]
                    }
                    if shape.bs / shape.adapters >= 16 {
                        for run in r.routings {
                            fullTiles["\(run.strategy) \(kernel.name) \(dtype.rawValue)", default: []].append(run.gflops)
                        }
                    }
                    var result: [String: Any] = [
                        "kernel": kernel.name, "dtype": dtype.rawValue, "bs": shape.bs, "adapters": shape.adapters,
                        "rank": shape.rank, "hidden": 4096, "slots": 64,
                        "useful_macs": LaunchPlan(workload: w, routing: .sorted).usefulMACs,
                        "dense_gemms": Self.denseGEMMs(w),
                    ]
                    // The classic keys only where both SGLang triton routings ran, so that they keep their meaning.
                    if let perSequence = r.run(.perSequence), let sorted = r.run(.sorted) {
                        result["per_sequence"] = routing(perSequence)
                        result["sorted"] = routing(sorted)
                        result["speedup"] = r.speedup
                        result["bitwise_equal"] = r.bitwiseEqual
                    }
                    if !isClassic {
                        result["strategies"] = Dictionary(uniqueKeysWithValues: r.routings.map { run -> (String, Any) in
                            var o = routing(run)
                            o["percent_of_peak"] = peak.map { 100 * run.gflops / $0 } ?? NSNull()
                            o["bitwise_equal_to_first"] = run.bitwiseEqualToFirst
                            o["max_abs_diff_vs_first"] = run.maxAbsDiffVsFirst
                            return (run.strategy.name, o)
                        })
                    }
                    results.append(result)
                }
            }
        }
        if format == .text && !fullTiles.isEmpty {
            let roofs = dtypes.compactMap { d in Self.roof(d, runOptions, threads: threads, fma: peaks, dot: dotPeaks).map {
                "\(d.rawValue) \(fixed($0, 0))" } }
            // The classic run summarises the sorted path, as it always has; others every strategy.
            for strategy in isClassic ? [Strategy.sorted] : strategies {
                print("")
                print("\(strategy)\(isClassic ? " path" : ""), full tiles (≥ 16 tokens per adapter): best GFLOP/s"
                      + (roofs.isEmpty ? "" : " and % of the \(threads)-thread peak of each dtype's microkernel (\(roofs.joined(separator: ", ")))")
                      + "; bf16 ÷ fp32")
                for kernel in kernels {
                    let best = { (d: DType) in fullTiles["\(strategy) \(kernel.name) \(d.rawValue)"]?.max() }
                    var cells = dtypes.compactMap { dtype -> String? in
                        guard let best = best(dtype) else { return nil }
                        let peak = Self.roof(dtype, runOptions, threads: threads, fma: peaks, dot: dotPeaks)
                        return "\(dtype.rawValue) \(fixed(best, 0))" + (peak.map { " (\(fixed(100 * best / $0, 0))%)" } ?? "")
                    }
                    if let b = best(.bf16), let f = best(.fp32), f > 0 { cells.append("bf16 ÷ fp32 \(fixed(b / f, 2))×") }
                    if !cells.isEmpty { print("  " + pad(kernel.name, 15) + cells.joined(separator: " · ")) }
                }
            }
        }
        if format == .json {
            let object: [String: Any] = [
                "isa": ["architecture": isa.architecture, "built_for_native_cpu": isa.builtForNativeCPU,
                        "avx512f": isa.avx512f, "avx512_bf16": isa.avx512bf16, "avx2": isa.avx2, "fma": isa.fma,
                        "f16c": isa.f16c, "cpu_model": isa.cpuModel, "summary": isa.summary],
                "threads": threads, "reps": reps, "fma_peak_gflops": peaks, "bf16_dot_peak_gflops": dotPeaks,
                "results": results, "bf16_dot_microkernel": runOptions.runsBF16Dot,
                "microkernels": Dictionary(uniqueKeysWithValues: dtypes.map { ($0.rawValue, runOptions.microkernel(for: $0).rawValue) }),
                "strategies": strategies.map(\.name),
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        }
    }
}

extension Bench {
    /// Columns of one strategy's cell in the `--strategies` table: ms, GF/s, % of peak.
    static let strategyCellWidth = 20

    /// One strategy's median ms, GFLOP/s and % of `peak` (blank without a peak).
    static func strategyCell(_ run: RoutingRun, peak: Double?) -> String {
        lpad(fixed(run.time.median, 3), 8) + lpad(fixed(run.gflops, 1), 7)
            + lpad(peak.map { fixed(100 * run.gflops / $0, 0) } ?? "–", 5)
    }

    /// "same" when every strategy holds the first one's bits, else each one
    /// that differs with its max |Δ| (vLLM's split-K shrink).
    static func bitsCell(_ r: KernelRunResult) -> String {
        let differing = r.routings.filter { !$0.bitwiseEqualToFirst }
        if differing.isEmpty { return "same" }
        return differing.map { "\($0.strategy) Δ\(String(format: "%.1e", $0.maxAbsDiffVsFirst))" }.joined(separator: ", ")
    }

    /// Each shape timed on one thread and right after on `threads`, so that
    /// the ratio is not skewed by load that comes and goes between two runs.
    func runScaling(kernels: [Kernel], dtypes: [DType], threads: Int, isa: MachineProbe.InstructionSet,
                    peaks: [String: Double]) throws {
        if format == .text {
            print("lora-viz bench --scaling · \(isa.cpuModel) · \(isa.summary)")
            let peakText = peaks.isEmpty ? "not measured"
                : peaks.keys.sorted().map { "\($0) thread(s) \(fixed(peaks[$0]!, 0))" }.joined(separator: ", ") + " GFLOP/s"
            print("fp32 FMA peak: \(peakText) · GFLOP/s of useful work, median of \(reps) launches")
            print("")
            print(pad("kernel", 15) + pad("dtype", 6) + lpad("bs", 5) + lpad("ad", 4) + lpad("r", 4) + " │ " +
                  pad("sorted 1 → \(threads) threads", 24) + " │ " + pad("per-sequence 1 → \(threads) threads", 24))
        }
        var results: [[String: Any]] = []
        var ratios: [Double] = []
        for kernel in kernels {
            for dtype in dtypes {
                for shape in shapes {
                    let w = Self.workload(kernel: kernel, dtype: dtype, shape: shape)
                    let one = try KernelRunner.run(w, options: options(threads: 1))
                    let many = try KernelRunner.run(w, options: options(threads: threads))
                    let sorted = many.sorted.gflops / max(one.sorted.gflops, 1e-9)
                    let perSequence = many.perSequence.gflops / max(one.perSequence.gflops, 1e-9)
                    if shape.bs >= 256 { ratios.append(sorted) }
                    if format == .text {
                        func cell(_ a: Double, _ b: Double, _ x: Double) -> String {
                            pad("\(fixed(a, 0)) → \(fixed(b, 0))  \(fixed(x, 2))×", 24)
                        }
                        print(pad(kernel.name, 15) + pad(dtype.rawValue, 6) + lpad("\(shape.bs)", 5) + lpad("\(shape.adapters)", 4) +
                              lpad("\(shape.rank)", 4) + " │ " + cell(one.sorted.gflops, many.sorted.gflops, sorted) + " │ " +
                              cell(one.perSequence.gflops, many.perSequence.gflops, perSequence))
                        fflush(nil)  // every stream, stdout among them (Glibc's `stdout` is a global var Swift 6 will not read)
                    }
                    results.append([
                        "kernel": kernel.name, "dtype": dtype.rawValue, "bs": shape.bs, "adapters": shape.adapters,
                        "rank": shape.rank, "threads": threads,
                        "sorted_gflops": [one.sorted.gflops, many.sorted.gflops], "sorted_ratio": sorted,
                        "per_sequence_gflops": [one.perSequence.gflops, many.perSequence.gflops],
                        "per_sequence_ratio": perSequence,
                    ])
                }
            }
        }
        let geomean = ratios.isEmpty ? 0 : exp(ratios.map { log($0) }.reduce(0, +) / Double(ratios.count))
        if format == .text {
            if !ratios.isEmpty {
                print("")
                print("sorted path at bs ≥ 256: \(threads) threads ÷ 1 thread, geometric mean \(fixed(geomean, 2))× over \(ratios.count) shapes " +
                      "(min \(fixed(ratios.min()!, 2))×, max \(fixed(ratios.max()!, 2))×, ≥ 1.5× on \(ratios.filter { $0 >= 1.5 }.count))")
            }
        } else {
            let object: [String: Any] = ["isa": isa.summary, "threads": threads, "fma_peak_gflops": peaks, "results": results,
                                         "sorted_bs256_geomean_ratio": geomean]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        }
    }
}

private func fixed(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }
private func pad(_ s: String, _ width: Int) -> String { s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count) }
private func lpad(_ s: String, _ width: Int) -> String { s.count >= width ? " " + s : String(repeating: " ", count: width - s.count) + s }
