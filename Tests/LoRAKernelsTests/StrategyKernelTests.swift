import Foundation
import XCTest
@testable import LoRAKernels

/// The SIMD kernels under every strategy (issue 10 item 5): strategies that
/// accumulate each cell as one fp32 FMA chain in increasing `k` give the same
/// bits; vLLM's split-K shrink gives the bits of its own order, emulated here
/// cell by cell in scalar fp32, and stays within the fp64 reference's tolerance.
final class StrategyKernelTests: XCTestCase {

    /// Sorted first, so that `bitwiseEqualToFirst` reads "same bits as sorted".
    static let sortedFirst = [Strategy.sorted] + Strategy.allCases.filter { $0 != .sorted }

    /// A random batch small enough for a debug build: ranks with 0 and R,
    /// K past one 256-wide block, outputs past one 64-column panel (R 40).
    func randomWorkload(_ dice: inout Dice, mode: Mode) -> Workload {
        let maxRank = dice.pick([4, 19, 40])
        let slots = dice.next(1...5)
        let ranks = (0..<slots).map { _ in dice.pick([0, 3, 8, maxRank, maxRank]) }.map { min($0, maxRank) }
        let scalings = (0..<slots).map { _ in Float(dice.pick([0.5, 1, 2, -1.5])) }
        let bs = dice.next(1...17)
        let wi = (0..<bs).map { _ in dice.next(0...slots - 1) }
        let lengths = (0..<bs).map { _ in mode == .extend ? dice.next(1...9) : 1 }
        let dims = ModelDims(hidden: dice.pick([20, 37, 300]), out: dice.pick([16, 70]), q: dice.pick([24, 70]),
                             kv: dice.pick([8, 40]), ffn: dice.pick([30, 69]), maxRank: maxRank)
        return makeWorkload(kernel: .sgemmLoRAB, dims: dims, ranks: ranks, scalings: scalings, wi: wi,
                            lengths: lengths, mode: mode, seed: UInt64(dice.next(0...1_000_000)))
    }

    /// (a) every strategy but vLLM holds sorted's bits on every kernel, dtype
    /// and mode; (b) so does vLLM on the expands, which have no split-K.
    func testStrategiesSharingTheOrderGiveSortedsBits() throws {
        var dice = Dice(state: 1010)
        let options = KernelRunOptions(reps: 1, threads: 2, strategies: Self.sortedFirst)
        for mode in Mode.allCases {
            for batch in 0..<2 {
                var w = randomWorkload(&dice, mode: mode)
                for kernel in allKernels(stack: batch == 0 ? 1 : 3) {
                    for dtype in DType.allCases {
                        w.kernel = kernel
                        w.dtype = dtype
                        let r = try KernelRunner.run(w, options: options)
                        XCTAssertEqual(r.routings.map(\.strategy), Self.sortedFirst)
                        for run in r.routings where run.strategy != .vllm || !kernel.isShrink {
                            let label = "\(mode) batch \(batch) \(kernel.name) \(dtype) \(run.strategy): ranks \(w.batch.slotRanks) dims \(w.dims)"
                            XCTAssertTrue(run.bitwiseEqualToFirst, label)
                            XCTAssertEqual(run.maxAbsDiffVsFirst, 0, label)
                        }
                        XCTAssertEqual(r.clobberedCells, 0, "\(mode) batch \(batch) \(kernel.name) \(dtype)")
                    }
                }
            }
        }
    }

    /// Decode below 128 tokens (`BLOCK_K` 256, 64 splits: the streamed
    /// blocks) with K = 600 (two full blocks and a short one), and extend
    /// from 128 tokens (`BLOCK_K` 32, 8 splits: a partial set per split) with
    /// K = 300 (splits 0 and 1 hold two blocks, the last block is 12 long).
    /// Slots 0–3 hold one token each, so per-sequence-style lone rows run four
    /// side by side (`SGemmLoRAA.loneRows`); slot 5 is rank 0.
    static func splitKCases() -> [(label: String, workload: Workload, order: SplitKOrder)] {
        let ranks = [16, 16, 16, 16, 19, 0]
        let decodeDims = ModelDims(hidden: 600, out: 64, q: 64, kv: 64, ffn: 64, maxRank: 19)
        let decodeWi = [0, 1, 2, 3] + (0..<34).map { $0 % 9 == 0 ? 5 : 4 }
        let extendDims = ModelDims(hidden: 300, out: 64, q: 64, kv: 64, ffn: 64, maxRank: 19)
        let extendWi = [0, 1, 2, 3, 4, 5, 4, 4]
        let extendLengths = [1, 1, 1, 1, 60, 3, 17, 50]
        var cases: [(String, Workload, SplitKOrder)] = []
        for stack in [1, 3] {
            cases.append(("decode 38 tokens K 600 stack \(stack)",
                          makeWorkload(kernel: .sgemmLoRAA(stack: stack), dims: decodeDims, ranks: ranks, wi: decodeWi),
                          SplitKOrder(blockK: 256, splits: 64)))
        }
        cases.append(("extend 134 tokens K 300",
                      makeWorkload(kernel: .sgemmLoRAA(stack: 1), dims: extendDims, ranks: ranks, wi: extendWi,
                                   lengths: extendLengths, mode: .extend),
                      SplitKOrder(blockK: 32, splits: 8)))
        return cases
    }

    /// (c) vLLM's shrink holds, cell for cell, the bits of a literal scalar
    /// emulation of its split-K order, on the scheduled executor and on lone
    /// programs alike, in every dtype.
    func testVLLMShrinkFollowsTheSplitKOrder() throws {
        for (label, workload, order) in Self.splitKCases() {
            XCTAssertEqual(LaunchPlan.execution(workload: workload, strategy: .vllm).splitK, order, label)
            var w = workload
            for dtype in DType.allCases {
                w.dtype = dtype
                switch dtype {
                case .fp32: try check(Float.self, w, order, "\(label) fp32")
                case .bf16: try check(BFloat16.self, w, order, "\(label) bf16")
                case .fp16: try check(Float16.self, w, order, "\(label) fp16")
                }
            }
        }
    }

    /// Orders vLLM does not use, run through the same executor: splits that
    /// wrap inside a 256-wide chunk (32 × 3), blocks that do not divide it
    /// (96 × 4: interleaved; 96 × 64: streamed), blocks longer than it
    /// (512 × 2), and windows of whole chunks (32 × 8, 64 × 4, 256 × 1 on wide tiles),
    /// so that every branch of `SGemmLoRAA.chunks` meets the scalar
    /// emulation. K = 1100 leaves a short last block for each.
    func testAnySplitKOrderFollowsTheScalarEmulation() throws {
        let dims = ModelDims(hidden: 1100, out: 64, q: 64, kv: 64, ffn: 64, maxRank: 19)
        let w = makeWorkload(kernel: .sgemmLoRAA(stack: 1), dims: dims, dtype: .fp32, ranks: [16, 16, 16, 16, 19, 0],
                             wi: [0, 1, 2, 3] + (0..<21).map { $0 % 7 == 0 ? 5 : 4 })
        for order in [SplitKOrder(blockK: 32, splits: 3), SplitKOrder(blockK: 96, splits: 4),
                      SplitKOrder(blockK: 96, splits: 64), SplitKOrder(blockK: 512, splits: 2)] {
            try check(Float.self, w, order, "fp32 \(order)", override: true)
        }
        // Tiles of 3–4 vectors (rank 40, 64) take windows of whole chunks:
        // K = 1100 is one window of four chunks, then blocks 32–33 and a 12-long one.
        let wide = makeWorkload(kernel: .sgemmLoRAA(stack: 1), dims: ModelDims(hidden: 1100, out: 64, q: 64, kv: 64,
                                                                                ffn: 64, maxRank: 64),
                                dtype: .fp32, ranks: [40, 64, 0, 16], wi: (0..<23).map { $0 % 4 }, mode: .decode)
        for order in [SplitKOrder(blockK: 32, splits: 8), SplitKOrder(blockK: 64, splits: 4),
                      SplitKOrder(blockK: 256, splits: 1)] {
            try check(Float.self, wide, order, "fp32 rank 40/64 \(order)", override: true)
        }
    }

    /// (c) The order matters: in fp32 vLLM's shrink differs from sorted's
    /// bits, and both stay within the tolerance `Reference` derives.
    func testVLLMShrinkDiffersFromSortedWithinTolerance() throws {
        for (label, workload, _) in Self.splitKCases() {
            var w = workload
            w.dtype = .fp32
            let r = try KernelRunner.run(w, options: KernelRunOptions(reps: 1, threads: 2, checkTolerances: true,
                                                                      strategies: [.sorted, .vllm]))
            let sorted = try XCTUnwrap(r.run(.sorted)), vllm = try XCTUnwrap(r.run(.vllm))
            XCTAssertFalse(vllm.bitwiseEqualToFirst, label)
            XCTAssertGreaterThan(vllm.maxAbsDiffVsFirst, 0, label)
            XCTAssertEqual(sorted.toleranceViolations, 0, label)
            XCTAssertEqual(vllm.toleranceViolations, 0, label)
            XCTAssertEqual(r.clobberedCells, 0, label)
        }
    }

    /// vLLM's split-K shrink on the C VDPBF16PS tiles keeps its order: the
    /// same bits as on the Swift tiles (blocks of 32 and 256 hold whole pairs).
    func testVLLMShrinkOnTheDotTilesGivesTheSwiftTilesBits() throws {
        try XCTSkipUnless(KernelRunOptions.bf16DotMicrokernelAvailable, "no avx512_bf16 on this CPU")
        for c in Self.splitKCases() {
            var w = c.workload
            w.dtype = .bf16
            let inputs = try KernelInputs<BFloat16>(workload: w)
            let plan = LaunchPlan.execution(workload: w, strategy: .vllm)
            let outputs = [false, true].map { dot -> TensorBuffer<BFloat16> in
                let out = TensorBuffer(copying: inputs.base)
                let launch = Launch(plan: plan, inputs: inputs, output: out.pointer, bf16Dot: dot)
                XCTAssertEqual(launch.runsDot, dot)
                XCTAssertTrue(LaunchExecutor.execute(launch, threads: 2, serialBelow: 0))
                return out
            }
            XCTAssertEqual(memcmp(outputs[0].pointer, outputs[1].pointer, outputs[0].count * 2), 0, c.label)
        }
    }

    /// The scheduled executor and lone programs against `splitKReference`;
    /// `override`: run `order` instead of the one vLLM's plan carries.
    private func check<E: KernelElement>(_: E.Type, _ w: Workload, _ order: SplitKOrder, _ label: String,
                                         override: Bool = false) throws {
        let inputs = try KernelInputs<E>(workload: w)
        var plan = LaunchPlan.execution(workload: w, strategy: .vllm)
        if override { plan.splitK = order }
        let (scheduled, lone) = scheduledAndLoneShrink(plan, inputs)
        let expected = Self.splitKReference(inputs, order)
        var checked = 0, mismatches = 0, firstMismatch = ""
        for (i, value) in expected.enumerated() {
            guard let value else { continue }
            checked += 1
            for (name, out) in [("scheduled", scheduled), ("lone", lone)]
            where out[i].widened.bitPattern != value.widened.bitPattern {
                if mismatches == 0 { firstMismatch = "\(name) cell \(i): \(out[i].widened) vs \(value.widened)" }
                mismatches += 1
            }
        }
        XCTAssertGreaterThan(checked, 0, label)
        XCTAssertEqual(mismatches, 0, "\(label): \(firstMismatch)")
    }

    /// vLLM's shrink in the order `SplitKOrder` states, literally, in scalar
    /// fp32: per cell and split `s`, one FMA chain over K blocks `s, s +
    /// splits, …` in increasing `k` from 0; the cell is `((0 + p₀) + p₁) + …`
    /// over every split (idle ones add their zero), rounded to the dtype once.
    /// Cells `(row, c)` with `c < stack·r` of the row's slot; nil elsewhere.
    static func splitKReference<E: KernelElement>(_ inputs: KernelInputs<E>, _ order: SplitKOrder) -> [E?] {
        let workload = inputs.workload
        let k = workload.dims.hidden
        guard case .sgemmLoRAA(let stack) = workload.kernel else { return [] }
        var slots: [Int] = []
        for (slot, length) in zip(workload.batch.weightIndices, workload.batch.sequenceLengths) {
            slots += repeatElement(slot, count: length)
        }
        let ranks = workload.batch.slotRanks
        var out = [E?](repeating: nil, count: inputs.rows * inputs.outputWidth)
        for row in 0..<inputs.rows {
            let slot = slots[row]
            guard ranks[slot] > 0, let weights = inputs.weights[slot] else { continue }
            let layout = inputs.layouts[slot][0]
            for c in 0..<stack * min(ranks[slot], workload.dims.maxRank) {
                var total: Float = 0
                for s in 0..<order.splits {
                    var partial: Float = 0
                    var block = s
                    while block * order.blockK < k {
                        for kk in reductionOrder(block * order.blockK ..< min(k, (block + 1) * order.blockK), E.self) {
                            let x = inputs.x[row * inputs.xRowStride + kk].widened
                            let a = weights[layout.base + layout.panels.index(column: c, k: kk)].widened
                            partial = partial.addingProduct(x, a)
                        }
                        block += order.splits
                    }
                    total = total + partial
                }
                out[row * inputs.outputWidth + c] = E(rounding: total)
            }
        }
        return out
    }
}
