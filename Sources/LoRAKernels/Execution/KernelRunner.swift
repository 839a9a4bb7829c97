import CLoRAKernels
import Dispatch
import Foundation

/// Wall-clock times of repeated launches, in milliseconds.
public struct TimingSummary: Hashable, Sendable, Codable {
    public var median: Double
    public var min: Double
    public var max: Double
    /// Every timed launch, in the order run.
    public var samples: [Double]

    /// The summary of `samples` (at least one).
    public init(samples: [Double]) {
        let sorted = samples.sorted()
        let n = sorted.count
        self.samples = samples
        median = n == 0 ? 0 : (n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2)
        min = sorted.first ?? 0
        max = sorted.last ?? 0
    }
}

/// One routing's launches of a workload.
public struct RoutingRun: Sendable {
    public var routing: Strategy
    public var time: TimingSummary
    /// Max over valid cells of `|out − ref|` against the fp64 reference (see `Reference`).
    public var maxAbsErrorVsReference: Double
    /// Useful GFLOP/s: `2 · plan.usefulMACs / median time`.
    public var gflops: Double
    /// Valid cells over the tolerance `Reference` derives (0 unless asked for).
    public var toleranceViolations: Int
    /// Max over valid cells of `|out − out of the first strategy run|`.
    public var maxAbsDiffVsFirst: Double
    /// Whether every cell holds the bits of the first strategy's output.
    public var bitwiseEqualToFirst: Bool

    public init(routing: Strategy, time: TimingSummary, maxAbsErrorVsReference: Double, gflops: Double,
                toleranceViolations: Int = 0, maxAbsDiffVsFirst: Double = 0, bitwiseEqualToFirst: Bool = true) {
        self.routing = routing
        self.time = time
        self.maxAbsErrorVsReference = maxAbsErrorVsReference
        self.gflops = gflops
        self.toleranceViolations = toleranceViolations
        self.maxAbsDiffVsFirst = maxAbsDiffVsFirst
        self.bitwiseEqualToFirst = bitwiseEqualToFirst
    }

    /// The strategy run (`routing`, named as the JSON names it).
    public var strategy: Strategy { routing }
}

/// How `KernelRunner.run` measures.
public struct KernelRunOptions: Sendable {
    /// Timed repetitions per routing, after one warm-up launch each.
    public var reps: Int = 5
    /// Worker threads the programs are spread over (default: every core).
    public var threads: Int = ParallelLoop.coreCount
    /// Keep the tensors so that `KernelRunResult.writeDump(to:)` can write them.
    public var keepTensors: Bool = false
    /// Also check every valid cell against its derived tolerance (slower: a
    /// second fp64 pass for `Σ|x|·|w|`); fills `RoutingRun.toleranceViolations`.
    public var checkTolerances: Bool = false
    /// The strategies run, in order (the first is what the others are compared with).
    public var strategies: [Strategy] = Strategy.defaults
    /// The settings of csgmv and vLLM.
    public var strategyOptions = StrategyOptions()
    /// Run bf16 tiles on the C VDPBF16PS microkernels (`CLoRAKernels`, true)
    /// or the Swift ones (false); true is ignored where the CPU has no
    /// AVX512_BF16, and both are for bf16 only. Both add each cell's products
    /// in the same pair order (`MicroTile`), so they give the same bits; the
    /// default, nil, takes the faster on this CPU (`bf16DotIsFaster`, measured
    /// at the first bf16 launch, not for other dtypes).
    public var bf16DotMicrokernel: Bool? = nil
    /// Check every row against the fp64 reference however large the shape
    /// (`ReferenceSample`); the default samples rows of huge shapes.
    public var fullReference: Bool = false
    /// Above this many reference multiply-adds a run checks a sample of rows
    /// (`ReferenceSample.fullCheckMACs`; tests lower it).
    public var referenceCheckMACs: Int = ReferenceSample.fullCheckMACs

    public init(reps: Int = 5, threads: Int? = nil, keepTensors: Bool = false, checkTolerances: Bool = false,
                bf16DotMicrokernel: Bool? = nil, strategies: [Strategy] = Strategy.defaults,
                strategyOptions: StrategyOptions = StrategyOptions()) {
        self.strategies = strategies.isEmpty ? Strategy.defaults : strategies
        self.strategyOptions = strategyOptions
        self.reps = max(1, reps)
        self.threads = max(1, threads ?? ParallelLoop.coreCount)
        self.keepTensors = keepTensors
        self.checkTolerances = checkTolerances
        self.bf16DotMicrokernel = bf16DotMicrokernel
    }

    /// Whether this CPU runs the C AVX512_BF16 microkernels (detected at run time).
    public static let bf16DotMicrokernelAvailable: Bool = lora_bf16_dot_available() != 0

    /// Whether the C VDPBF16PS tiles are the faster bf16 path here: the CPU
    /// has AVX512_BF16 and the instruction's peak (4 flops a lane) beats the
    /// FMA's by 10 %, both measured once per process from registers (best of
    /// 3 short runs, about 10 ms). Having the instruction is not enough: on the Xeon (family 6,
    /// model 207) of `benchmarks/README.md` VDPBF16PS peaks at half the FMA's
    /// flops (it issues at a quarter of the FMA's rate), so the Swift tiles,
    /// which widen each weight vector and run two FMAs, are faster there. The
    /// two give the same bits, so this chooses speed only.
    public static let bf16DotIsFaster: Bool = bf16DotMicrokernelAvailable
        && MachineProbe.bf16DotPeak(threads: 1, iterations: 100_000) > 1.1 * MachineProbe.fmaPeak(threads: 1, iterations: 200_000)

    /// Whether bf16 launches run on the C VDPBF16PS tiles with these options.
    public var runsBF16Dot: Bool { (bf16DotMicrokernel ?? Self.bf16DotIsFaster) && Self.bf16DotMicrokernelAvailable }

    /// The microkernel `dtype`'s tiles run on with these options, as the benchmark names it.
    public func microkernel(for dtype: DType) -> Microkernel {
        switch dtype {
        case .fp32: return .fma
        case .fp16: return .fmaWidened
        case .bf16: return runsBF16Dot ? .bf16Dot : .fmaWidened
        }
    }

    /// The machine's online cores.
    public static var coreCount: Int { ParallelLoop.coreCount }
}

/// The instruction a dtype's tiles compute with, and so the roof its GFLOP/s are a share of.
public enum Microkernel: String, Sendable, Codable {
    /// Swift `SIMD16<Float>` fused multiply-adds on fp32 values (`MicroTile`).
    case fma = "swift-fma"
    /// The same, each 16-bit weight vector widened to fp32 first (fp16; bf16 without AVX512_BF16).
    case fmaWidened = "swift-fma-widened"
    /// C VDPBF16PS tiles: two bf16 products per fp32 lane per instruction.
    case bf16Dot = "c-vdpbf16ps"

    /// Whether its roof is the bf16 dot product's peak rather than the FMA's.
    public var usesDotPeak: Bool { self == .bf16Dot }
}

/// Every chosen strategy's launches of one workload, timed and checked.
public struct KernelRunResult: Sendable {
    public var workload: Workload
    /// One run per strategy, in the order chosen.
    public var routings: [RoutingRun]
    /// Max over valid cells of `|out_per-sequence − out_sorted|` when both
    /// ran, else between the first two strategies (0 with one).
    public var maxAbsDiffBetweenRoutings: Double
    /// Whether per-sequence and sorted (else the first two) hold the same bits in every cell.
    public var bitwiseEqual: Bool
    public var threads: Int
    /// The csgmv and vLLM settings the strategies ran with.
    public var strategyOptions = StrategyOptions()
    /// Cells the shrink must never write (`column ≥ N_eff`, rank-0 rows) that
    /// do not hold their initial NaN, over every strategy (0 for the expands).
    public var clobberedCells: Int
    /// The tensors, when the run was asked to keep them.
    var tensors: KernelTensors?
    /// Token rows checked against the fp64 reference: every row (`S`) unless
    /// the shape is huge, then a seeded sample (`ReferenceSample`); the max
    /// errors are over these rows. 0 in results built from parts means every row.
    public var referenceRowsChecked = 0
    /// Whether `referenceRowsChecked` is a sample of the rows.
    public var referenceIsSampled: Bool { referenceRowsChecked > 0 && referenceRowsChecked < workload.batch.totalTokens }

    /// The run of a strategy, if it was chosen.
    public func run(_ strategy: Strategy) -> RoutingRun? { routings.first { $0.routing == strategy } }

    /// The two runs `speedup` and `bitwiseEqual` compare: per-sequence and
    /// sorted when both ran, else the first two.
    public var pair: (RoutingRun, RoutingRun)? {
        if let a = run(.perSequence), let b = run(.sorted) { return (a, b) }
        return routings.count >= 2 ? (routings[0], routings[1]) : nil
    }

    /// The per-sequence run, or the first.
    public var perSequence: RoutingRun { pair?.0 ?? routings[0] }
    /// The sorted run, or the second (the first with one strategy).
    public var sorted: RoutingRun { pair?.1 ?? routings[0] }

    /// `perSequence.time.median / sorted.time.median` (0 when the sorted median is 0).
    public var speedup: Double {
        sorted.time.median > 0 ? perSequence.time.median / sorted.time.median : 0
    }

    /// A result from its parts (for reports and tests; `writeDump` needs a real run's tensors).
    public init(workload: Workload, perSequence: RoutingRun, sorted: RoutingRun, maxAbsDiffBetweenRoutings: Double,
                bitwiseEqual: Bool, threads: Int, clobberedCells: Int = 0) {
        self.init(workload: workload, routings: [perSequence, sorted],
                  maxAbsDiffBetweenRoutings: maxAbsDiffBetweenRoutings, bitwiseEqual: bitwiseEqual,
                  threads: threads, clobberedCells: clobberedCells, tensors: nil)
    }

    init(workload: Workload, routings: [RoutingRun], maxAbsDiffBetweenRoutings: Double,
         bitwiseEqual: Bool, threads: Int, clobberedCells: Int, tensors: KernelTensors?) {
        self.workload = workload
        self.routings = routings
        self.maxAbsDiffBetweenRoutings = maxAbsDiffBetweenRoutings
        self.bitwiseEqual = bitwiseEqual
        self.threads = threads
        self.clobberedCells = clobberedCells
        self.tensors = tensors
    }
}

/// A run stopped because its `isCancelled` closure answered true.
public struct KernelRunCancelled: Error { public init() {} }

/// A workload the kernels cannot run, with the reason.
public struct KernelWorkloadError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { "error: \(message)" }
}

/// Runs the SIMD kernels of a workload under both routings.
public enum KernelRunner {
    /// Runs both routings' plans on seeded inputs, checks both against the fp64 reference.
    ///
    /// One warm-up launch per routing, then `reps` timed launches per routing
    /// (alternating routings; the output is reset to the base output before
    /// every launch, outside the timing).
    public static func run(_ workload: Workload, options: KernelRunOptions = .init(),
                           progress: @escaping @Sendable (Double) -> Void = { _ in },
                           isCancelled: @escaping @Sendable () -> Bool = { false }) throws -> KernelRunResult {
        // The expands read x columns q·r ..< q·r + r of a row 3R (or 2R, R) wide.
        for adapter in workload.batch.adapters where adapter.rank > workload.dims.maxRank {
            throw KernelWorkloadError(message: "adapter '\(adapter.name)' has rank \(adapter.rank), above the max rank R = \(workload.dims.maxRank)")
        }
        switch workload.dtype {
        case .bf16: return try run(BFloat16.self, workload, options, progress, isCancelled)
        case .fp16: return try run(Float16.self, workload, options, progress, isCancelled)
        case .fp32: return try run(Float.self, workload, options, progress, isCancelled)
        }
    }

    static func run<E: KernelElement>(_: E.Type, _ workload: Workload, _ options: KernelRunOptions,
                                      _ progress: @Sendable (Double) -> Void,
                                      _ isCancelled: @Sendable () -> Bool) throws -> KernelRunResult {
        let threads = options.threads
        // Cancellation is checked while the inputs are generated, so a cancelled run frees them promptly.
        let inputs = try KernelInputs<E>(workload: workload, threads: threads, isCancelled: isCancelled)
        if isCancelled() { throw KernelRunCancelled() }
        // After the inputs: the first bf16 run measures which tiles are faster (`bf16DotIsFaster`).
        let bf16Dot = E.dtype == .bf16 && options.runsBF16Dot
        // Each strategy's working programs, as 16-row microkernel passes over its own segments.
        let plans = options.strategies.map {
            LaunchPlan.execution(workload: workload, strategy: $0, options: options.strategyOptions)
        }
        let outputs = plans.map { _ in TensorBuffer(copying: inputs.base) }
        var samples: [[Double]] = plans.map { _ in [] }
        let steps = Double(plans.count * (options.reps + 1) + 2)
        var done = 0.0
        progress(0)
        for rep in 0...options.reps {
            for (i, plan) in plans.enumerated() {
                outputs[i].assign(from: inputs.base)
                let launch = Launch(plan: plan, inputs: inputs, output: outputs[i].pointer, bf16Dot: bf16Dot)
                let start = DispatchTime.now().uptimeNanoseconds
                let completed = LaunchExecutor.execute(launch, threads: threads, isCancelled: isCancelled)
                let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
                guard completed else { throw KernelRunCancelled() }
                if rep > 0 { samples[i].append(elapsed) }
                done += 1
                progress(done / steps)
            }
        }
        // per-sequence vs sorted when both ran, else the first two.
        let pairIndices: (Int, Int) = {
            if let a = options.strategies.firstIndex(of: .perSequence), let b = options.strategies.firstIndex(of: .sorted) { return (a, b) }
            return (0, min(1, plans.count - 1))
        }()
        // A dump keeps the whole reference; otherwise a huge shape checks a seeded sample of rows.
        let sample = options.keepTensors || options.fullReference ? nil : ReferenceSample.rows(for: workload, limit: options.referenceCheckMACs)
        guard let comparison = OutputComparison.compare(outputs, inputs: inputs, tolerances: options.checkTolerances,
                                                        keepReference: options.keepTensors, threads: threads,
                                                        pair: pairIndices, referenceRows: sample, isCancelled: isCancelled)
        else { throw KernelRunCancelled() }
        func same(_ a: Int, _ b: Int) -> Bool {
            memcmp(outputs[a].pointer, outputs[b].pointer, outputs[a].count * MemoryLayout<E>.stride) == 0
        }
        let runs = plans.indices.map { i -> RoutingRun in
            let time = TimingSummary(samples: samples[i])
            return RoutingRun(routing: options.strategies[i], time: time,
                              maxAbsErrorVsReference: comparison.maxAbsError[i],
                              gflops: time.median > 0 ? 2 * Double(plans[i].usefulMACs) / (time.median * 1e6) : 0,
                              toleranceViolations: comparison.toleranceViolations[i],
                              maxAbsDiffVsFirst: comparison.maxAbsDifferenceVsFirst[i], bitwiseEqualToFirst: same(0, i))
        }
        let tensors = options.keepTensors
            ? KernelTensors(TypedKernelTensors(inputs: inputs, plans: plans, outputs: outputs,
                                               reference: comparison.reference ?? TensorBuffer(count: 0, repeating: 0)))
            : nil
        progress(1)
        var result = KernelRunResult(
            workload: workload, routings: runs,
            maxAbsDiffBetweenRoutings: comparison.maxAbsDifference,
            bitwiseEqual: same(pairIndices.0, pairIndices.1),
            threads: threads, clobberedCells: comparison.clobberedCells.reduce(0, +), tensors: tensors)
        result.strategyOptions = options.strategyOptions
        result.referenceRowsChecked = sample.map { $0.lazy.filter { $0 }.count } ?? workload.batch.totalTokens
        return result
    }
}

/// Which token rows a run checks against the fp64 reference.
///
/// The reference is scalar fp64 (`Reference`), about `S · N · K` multiply-adds
/// (the expands: `S · N · r`), and on huge shapes it dominates a run: shrink
/// stack 3, R 1024, hidden 65536 at bs 512 is 10¹¹ of them, minutes on two
/// cores, while the kernels take seconds. Up to `fullCheckMACs` (2³², a few
/// seconds at ~1 GMAC/s per core) every row is checked. Above it a sample of
/// rows is, drawn from the workload's seed (the same rows every run of the
/// same file): as many rows as fit in `fullCheckMACs`, at least `minimumRows`.
/// Every row is still compared between the strategies (bits and max |Δ|) and
/// checked for clobbered cells; only the reference is sampled, and the report
/// and the JSON say so (`reference_rows_checked`).
public enum ReferenceSample {
    /// The reference work checked in full: 2³² multiply-adds.
    public static let fullCheckMACs = 1 << 32
    /// A sampled reference checks at least this many rows (or all of them).
    public static let minimumRows = 64

    /// Upper bound of the reference's multiply-adds for one token row.
    public static func macsPerRow(_ w: Workload) -> Int {
        let depth = w.kernel.isShrink ? w.inputWidth : w.launchDims.maxRank
        return max(1, w.outputWidth * depth)
    }

    /// The reference's multiply-adds over every row (an upper bound).
    public static func macs(_ w: Workload) -> Int { w.batch.totalTokens * macsPerRow(w) }

    /// `nil` to check every row, else a mask of the rows to check.
    public static func rows(for w: Workload, limit: Int = fullCheckMACs) -> [Bool]? {
        let rows = w.batch.totalTokens
        guard macs(w) > limit else { return nil }
        let count = min(rows, max(minimumRows, limit / macsPerRow(w)))
        guard count < rows else { return nil }
        // Partial Fisher–Yates on a seeded generator: `count` distinct rows.
        var order = Array(0..<rows)
        var state = w.seed ^ 0x5EED_0F_12EF_0000
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        var mask = [Bool](repeating: false, count: rows)
        for i in 0..<count {
            let j = i + Int(next() % UInt64(rows - i))
            order.swapAt(i, j)
            mask[order[i]] = true
        }
        return mask
    }
}
