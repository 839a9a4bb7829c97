import Foundation
import XCTest
@testable import LoRAKernels

/// Exhaustive-ish sweeps in the style of swift-collections' `withEvery`: many
/// small random batches × every kernel (the shrink with stack 1, 2, 3) × every
/// dtype, decode and extend, all checked for bitwise routing agreement, the
/// derived tolerance on every valid cell, and untouched never-written cells.
final class KernelSweepTests: XCTestCase {

    /// A random batch with odd, tile-straddling dims: ranks include 0 (base
    /// model) and R, k/v wider or narrower than q, N past one 256-wide tile,
    /// shrink outputs past one 64-column weight panel (R 40, stack 2–3).
    func randomWorkload(_ dice: inout Dice, mode: Mode) -> Workload {
        let maxRank = dice.pick([4, 16, 19, 40])
        let slots = dice.next(1...5)
        let ranks = (0..<slots).map { _ in dice.pick([0, 1, 3, 8, maxRank, maxRank]) }.map { min($0, maxRank) }
        let scalings = (0..<slots).map { _ in Float(dice.pick([0.25, 0.5, 1, 2, -1.5])) }
        let bs = dice.next(1...21)
        let wi = (0..<bs).map { _ in dice.next(0...slots - 1) }
        let lengths = (0..<bs).map { _ in mode == .extend ? dice.next(1...37) : 1 }
        let dims = ModelDims(hidden: dice.pick([5, 20, 37, 300]), out: dice.pick([16, 50, 300]),
                             q: dice.pick([24, 70]), kv: dice.pick([8, 40, 90]), ffn: dice.pick([30, 69]),
                             maxRank: maxRank)
        return makeWorkload(kernel: .sgemmLoRAB, dims: dims, ranks: ranks, scalings: scalings, wi: wi,
                            lengths: lengths, mode: mode, seed: UInt64(dice.next(0...1_000_000)))
    }

    func testRandomBatchesEveryKernelDtypeAndMode() throws {
        var dice = Dice(state: 2026)
        let kernels: [Kernel] = [.sgemmLoRAA(stack: 1), .sgemmLoRAA(stack: 2), .sgemmLoRAA(stack: 3),
                                 .sgemmLoRAB, .qkvLoRAB, .gateUpLoRAB]
        for mode in Mode.allCases {
            for batchIndex in 0..<6 {
                var workload = randomWorkload(&dice, mode: mode)
                for kernel in kernels {
                    for dtype in DType.allCases {
                        workload.kernel = kernel
                        workload.dtype = dtype
                        let label = "\(mode) batch \(batchIndex) \(kernel.name)\(kernel.isShrink ? " stack \(workload.outputWidth / workload.dims.maxRank)" : "") \(dtype): ranks \(workload.batch.slotRanks) wi \(workload.batch.weightIndices) dims \(workload.dims)"
                        let r = try KernelRunner.run(workload, options: checkedRun)
                        XCTAssertTrue(r.bitwiseEqual, "routings differ: \(label)")
                        XCTAssertEqual(r.maxAbsDiffBetweenRoutings, 0, label)
                        XCTAssertEqual(r.clobberedCells, 0, "never-written cells written: \(label)")
                        XCTAssertEqual(r.perSequence.toleranceViolations, 0, "per-sequence over tolerance: \(label)")
                        XCTAssertEqual(r.sorted.toleranceViolations, 0, "sorted over tolerance: \(label)")
                    }
                }
            }
        }
    }

    /// Threads change which worker runs a program, never a cell's bits.
    func testThreadCountDoesNotChangeBits() throws {
        var dice = Dice(state: 7)
        var workload = randomWorkload(&dice, mode: .extend)
        workload.dtype = .fp32
        for kernel in allKernels(stack: 3) {
            workload.kernel = kernel
            let inputs = try KernelInputs<Float>(workload: workload)
            for kind in Strategy.allCases {
                let plan = LaunchPlan.execution(workload: workload, strategy: kind)
                let outputs = [1, 3].map { threads -> TensorBuffer<Float> in
                    let out = TensorBuffer(copying: inputs.base)
                    let launch = Launch(plan: plan, inputs: inputs, output: out.pointer)
                    XCTAssertTrue(LaunchExecutor.execute(launch, threads: threads, serialBelow: 0))
                    return out
                }
                XCTAssertEqual(memcmp(outputs[0].pointer, outputs[1].pointer, outputs[0].count * 4), 0, "\(kernel.name) \(kind)")
            }
        }
    }

    /// One cell off by 0.01 (a few bf16 ulps at unit size) must show as a
    /// tolerance violation and a routing difference: the checks can fail.
    func testToleranceCatchesAWrongCell() throws {
        let w = makeWorkload(kernel: .sgemmLoRAB, dims: ModelDims(hidden: 64, out: 64, q: 64, kv: 64, ffn: 64, maxRank: 8),
                             dtype: .bf16, ranks: [8], wi: [0, 0, 0])
        let inputs = try KernelInputs<BFloat16>(workload: w)
        let good = TensorBuffer(copying: inputs.base)
        let plan = LaunchPlan(workload: w, routing: .sorted)
        XCTAssertTrue(LaunchExecutor.execute(Launch(plan: plan, inputs: inputs, output: good.pointer), threads: 1))
        let bad = TensorBuffer(copying: good)
        bad[5] = BFloat16(bad[5].float + 0.01)
        let c = try XCTUnwrap(OutputComparison.compare([good, bad], inputs: inputs, tolerances: true, keepReference: false, threads: 1))
        XCTAssertEqual(c.toleranceViolations, [0, 1])
        XCTAssertGreaterThan(c.maxAbsDifference, 0.005)
    }
}
