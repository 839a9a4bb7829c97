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
    public var routing: RoutingKind
    public var time: TimingSummary
    /// Max over valid cells of `|out − ref|` against the fp64 reference (see `Reference`).
    public var maxAbsErrorVsReference: Double
    /// Useful GFLOP/s: `2 · plan.usefulMACs / median time`.
    public var gflops: Double
    /// Valid cells over the tolerance `Reference` derives (0 unless asked for).
    public var toleranceViolations: Int

    public init(routing: RoutingKind, time: TimingSummary, maxAbsErrorVsReference: Double, gflops: Double,
                toleranceViolations: Int = 0) {
        self.routing = routing
        self.time = time
        self.maxAbsErrorVsReference = maxAbsErrorVsReference
        self.gflops = gflops
        self.toleranceViolations = toleranceViolations
    }
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
    /// Opt-in: run bf16 launches on the C AVX512_BF16 microkernels
    /// (`CLoRAKernels`) where the CPU has them: the shrink dots bf16 pairs with
    /// VDPBF16PS (another fixed per-cell order), the expands keep the Swift FMA
    /// chains and round with VCVTNEPS2BF16 (same bits on normal values).
    /// Ignored elsewhere and for other dtypes; the Swift SIMD kernels are the default.
    public var bf16DotMicrokernel: Bool = false

    public init(reps: Int = 5, threads: Int? = nil, keepTensors: Bool = false, checkTolerances: Bool = false,
                bf16DotMicrokernel: Bool = false) {
        self.reps = max(1, reps)
        self.threads = max(1, threads ?? ParallelLoop.coreCount)
        self.keepTensors = keepTensors
        self.checkTolerances = checkTolerances
        self.bf16DotMicrokernel = bf16DotMicrokernel
    }

    /// Whether this CPU runs the opt-in AVX512_BF16 microkernels.
    public static let bf16DotMicrokernelAvailable: Bool = lora_bf16_dot_available() != 0

    /// The machine's online cores.
    public static var coreCount: Int { ParallelLoop.coreCount }
}

/// Both routings of one workload, timed and checked.
public struct KernelRunResult: Sendable {
    public var workload: Workload
    public var perSequence: RoutingRun
    public var sorted: RoutingRun
    public var routings: [RoutingRun] { [perSequence, sorted] }
    /// Max over valid cells of `|out_per-sequence − out_sorted|`.
    public var maxAbsDiffBetweenRoutings: Double
    /// Whether the two outputs hold the same bits in every cell.
    public var bitwiseEqual: Bool
    /// `perSequence.time.median / sorted.time.median` (0 when the sorted median is 0).
    public var speedup: Double {
        sorted.time.median > 0 ? perSequence.time.median / sorted.time.median : 0
    }
    public var threads: Int
    /// Cells the shrink must never write (`column ≥ N_eff`, rank-0 rows) that
    /// do not hold their initial NaN, over both routings (0 for the expands).
    public var clobberedCells: Int
    /// The tensors, when the run was asked to keep them.
    var tensors: KernelTensors?

    /// A result from its parts (for reports and tests; `writeDump` needs a real run's tensors).
    public init(workload: Workload, perSequence: RoutingRun, sorted: RoutingRun, maxAbsDiffBetweenRoutings: Double,
                bitwiseEqual: Bool, threads: Int, clobberedCells: Int = 0) {
        self.init(workload: workload, perSequence: perSequence, sorted: sorted,
                  maxAbsDiffBetweenRoutings: maxAbsDiffBetweenRoutings, bitwiseEqual: bitwiseEqual,
                  threads: threads, clobberedCells: clobberedCells, tensors: nil)
    }

    init(workload: Workload, perSequence: RoutingRun, sorted: RoutingRun, maxAbsDiffBetweenRoutings: Double,
         bitwiseEqual: Bool, threads: Int, clobberedCells: Int, tensors: KernelTensors?) {
        self.workload = workload
        self.perSequence = perSequence
        self.sorted = sorted
        self.maxAbsDiffBetweenRoutings = maxAbsDiffBetweenRoutings
        self.bitwiseEqual = bitwiseEqual
        self.threads = threads
        self.clobberedCells = clobberedCells
        self.tensors = tensors
    }
}

/// A run stopped because its `isCancelled` closure answered true.
public struct KernelRunCancelled: Error {}

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
        let bf16Dot = options.bf16DotMicrokernel && KernelRunOptions.bf16DotMicrokernelAvailable
        let inputs = KernelInputs<E>(workload: workload, threads: threads,
                                     rowMajorShrinkWeights: bf16Dot && E.dtype == .bf16)
        if isCancelled() { throw KernelRunCancelled() }
        let plans = RoutingKind.allCases.map { LaunchPlan(workload: workload, routing: $0) }
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
        guard let comparison = OutputComparison.compare(outputs, inputs: inputs, tolerances: options.checkTolerances,
                                                        keepReference: options.keepTensors, threads: threads,
                                                        isCancelled: isCancelled)
        else { throw KernelRunCancelled() }
        let bitwise = outputs[0].count == outputs[1].count
            && memcmp(outputs[0].pointer, outputs[1].pointer, outputs[0].count * MemoryLayout<E>.stride) == 0
        let runs = plans.indices.map { i -> RoutingRun in
            let time = TimingSummary(samples: samples[i])
            return RoutingRun(routing: plans[i].routing.kind, time: time,
                              maxAbsErrorVsReference: comparison.maxAbsError[i],
                              gflops: time.median > 0 ? 2 * Double(plans[i].usefulMACs) / (time.median * 1e6) : 0,
                              toleranceViolations: comparison.toleranceViolations[i])
        }
        let tensors = options.keepTensors
            ? KernelTensors(TypedKernelTensors(inputs: inputs, plans: plans, outputs: outputs,
                                               reference: comparison.reference ?? TensorBuffer(count: 0, repeating: 0)))
            : nil
        progress(1)
        return KernelRunResult(
            workload: workload, perSequence: runs[0], sorted: runs[1],
            maxAbsDiffBetweenRoutings: comparison.maxAbsDifference, bitwiseEqual: bitwise,
            threads: threads, clobberedCells: comparison.clobberedCells.reduce(0, +), tensors: tensors)
    }
}
