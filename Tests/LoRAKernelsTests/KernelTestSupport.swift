@testable import LoRAKernels
import XCTest

/// Builds workloads the way the SGLang tests describe batches: one adapter per
/// slot (`ranks[i]`, `scalings[i]`), one sequence per entry of `wi`.
func makeWorkload(kernel: Kernel, dims: ModelDims, dtype: DType = .bf16, ranks: [Int], scalings: [Float]? = nil,
                  wi: [Int], lengths: [Int]? = nil, mode: Mode = .decode, seed: UInt64 = 42) -> Workload {
    let adapters = ranks.enumerated().map { slot, rank in
        Adapter(name: "a\(slot)", rank: rank, scaling: scalings?[slot] ?? 1, slot: slot)
    }
    let sequences = wi.enumerated().map { i, slot in
        BatchSequence(adapter: "a\(slot)", tokens: lengths?[i] ?? 1)
    }
    let batch = Batch(slotCount: ranks.count, adapters: adapters, sequences: sequences, mode: mode)
    return Workload(batch: batch, dims: dims, dtype: dtype, kernel: kernel, seed: seed)
}

/// The four kernels, the shrink with `stack` (`Kernel.all(stack:)`).
func allKernels(stack: Int = 1) -> [Kernel] { Kernel.all(stack: stack) }

/// Options for correctness runs: one timed launch, tolerances checked.
let checkedRun = KernelRunOptions(reps: 1, threads: 2, checkTolerances: true)

/// Calls `body` for each expand kernel × decode/extend × routing on a small
/// bf16 batch with partial column tiles, a rank-0 slot and mixed ranks and
/// scalings, with the seeded inputs and the launch plan.
func forEachExpandCase(extendLengths: [Int],
                       _ body: (_ label: String, KernelInputs<BFloat16>, LaunchPlan) throws -> Void) throws {
    let dims = ModelDims(hidden: 64, out: 300, q: 70, kv: 24, ffn: 100, maxRank: 19)
    for kernel in [Kernel.sgemmLoRAB, .qkvLoRAB, .gateUpLoRAB] {
        for (mode, lengths) in [(Mode.decode, nil as [Int]?), (.extend, extendLengths)] {
            let w = makeWorkload(kernel: kernel, dims: dims, ranks: [19, 0, 4, 16], scalings: [0.5, 1, -2, 1.5],
                                 wi: [0, 1, 2, 3, 0, 3, 2], lengths: lengths, mode: mode)
            let inputs = try KernelInputs<BFloat16>(workload: w)
            for kind in Strategy.allCases {
                try body("\(kernel.name) \(mode) \(kind)", inputs, LaunchPlan.execution(workload: w, strategy: kind))
            }
        }
    }
}

/// A small deterministic generator for the random batches of the sweeps (not the kernel inputs).
struct Dice {
    var state: UInt64
    mutating func next(_ range: ClosedRange<Int>) -> Int {
        state = SeededValues.mix(state)
        return range.lowerBound + Int(state % UInt64(range.count))
    }
    mutating func pick<T>(_ values: [T]) -> T { values[next(0...values.count - 1)] }
}

/// A shrink plan's output two ways, from copies of the base: the scheduled
/// multi-core executor's, and every computing program run alone, in plan order.
func scheduledAndLoneShrink<E: KernelElement>(_ plan: LaunchPlan, _ inputs: KernelInputs<E>) -> (scheduled: TensorBuffer<E>, lone: TensorBuffer<E>) {
    let scheduled = TensorBuffer(copying: inputs.base)
    XCTAssertTrue(LaunchExecutor.execute(Launch(plan: plan, inputs: inputs, output: scheduled.pointer),
                                         threads: 2, serialBelow: 0))
    let lone = TensorBuffer(copying: inputs.base)
    let launch = Launch(plan: plan, inputs: inputs, output: lone.pointer)
    ProgramScratch.with(for: plan) { scratch in
        plan.forEachComputingTile { tile in
            guard tile.validColumns > 0 else { return }
            SGemmLoRAA.program(tile, launch, scratch)
        }
    }
    return (scheduled, lone)
}

/// The order the tiles add a cell's products over `range` (which starts on an
/// even `k`): increasing `k`, or for bf16 (`KernelElement.pairsPanelRows`) by
/// pairs, the odd `k` first (`MicroTile`'s contract, VDPBF16PS's order).
func reductionOrder<E: KernelElement>(_ range: Range<Int>, _: E.Type) -> [Int] {
    guard E.pairsPanelRows else { return Array(range) }
    return stride(from: range.lowerBound, to: range.upperBound, by: 2).flatMap { k in
        k + 1 < range.upperBound ? [k + 1, k] : [k]
    }
}
