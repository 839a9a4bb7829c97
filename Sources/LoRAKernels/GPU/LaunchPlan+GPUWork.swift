/// What a launch asks of a GPU, in the terms the cost model prices
/// (docs/gpu-model.md): programs by fate, the K-loop steps of the working
/// ones, and the bytes they move.
///
/// Computed per segment in closed form from the `LaunchPlan`: O(segments ×
/// slices), whatever the program count (both routings take ~32 µs at bs 512
/// and ~250 µs at bs 4096 × 512 slots, `lora-viz-render-bench`), so it is
/// computed once per change with the plans, never per frame.
public struct GPUWork: Hashable, Sendable {
    /// Programs that leave at step 1 or 2 (rank-0 and empty-segment exits):
    /// two dependent loads, then return.
    public var segmentExits: Int
    /// Programs that take the excess exit: two more loads (`seg_lens`, the
    /// pid arithmetic) before returning.
    public var excessExits: Int
    /// Programs that run their K loop (masked-out, partial, full).
    public var workingPrograms: Int
    /// K-loop steps (`cdiv(K_loop, BLOCK_K)`) summed over the working programs.
    public var kSteps: Int
    /// The longest K loop of any working program, in steps.
    public var maxKSteps: Int
    /// Whether every row load goes through the permutation (sorted routings).
    public var permuted: Bool
    /// Whether the shrink's N argument (stack × max rank) is a multiple of 16.
    /// Triton specializes integer arguments divisible by 16, so a launch with
    /// N = 8 or 24 runs another compiled kernel (`ProgramCost.unalignedStepNs`);
    /// always `true` for the expands.
    public var alignedWidth: Bool = true
    /// Bytes the working programs load and store, tile by tile (x rows, weight
    /// tiles, output tiles; expands read and write the output): what crosses
    /// between L2 and the SMs.
    public var tileBytes: Int
    /// Bytes the expands' weight loads fetch beyond the tile: a K step reads
    /// `BLOCK_K` = 16 elements (32 bytes) of each weight row, but rows are `R`
    /// elements long and the loads come in 128-byte lines, so at R ≥ 64 each
    /// step fetches 4× what it uses. Per-sequence gate_up on the H200 costs
    /// 264, 429 and 1,360 ns per program and SM at rank 16, 32 and 64 (1, 2, 4
    /// steps): linear in these bytes, not in the steps.
    public var overfetchBytes: Int = 0
    /// Bytes of distinct data the launch touches: each used adapter's weights
    /// once, x once, the output once (twice for the expands' read-add-write).
    /// What DRAM must supply when nothing is in L2.
    public var uniqueBytes: Int

    /// Excess exits dispatched before the last working program (segments are
    /// dispatched in order, pid fastest): they delay the working programs
    /// behind them. A sorted launch's trailing exits delay nothing.
    public var excessExitsBeforeLastWork: Int = 0

    /// Segment exits (rank-0 and empty segments) dispatched before the last
    /// working program.
    public var segmentExitsBeforeLastWork: Int = 0

    /// Σ over the working programs of the excess exits dispatched ahead of
    /// each: what holds the working programs back (`ProgramCost.exitDelayNs`
    /// per pair). At bs 128 on 64 rank-16 adapters a sorted shrink has 64
    /// working programs, each behind 7 exits per segment before it (14,112
    /// pairs), and takes 16.3 µs on the H200 against 8.5 µs with a tight grid;
    /// on one adapter its exits all trail the work (0 pairs) and it takes 8.6 µs.
    public var excessExitWorkPairs: Int = 0

    /// Kernels the host launches, each paying the launch floor: vLLM's
    /// `lora_shrink` zeroes its fp32 output before the kernel (a memset; its
    /// smallest shrink takes 3.7 µs on the H200 against csgmv's 5.2 and the
    /// triton floor of 2.0), so 2; 0 when the host launches nothing (vLLM
    /// with no LoRA token: 0.1 µs per call); else 1.
    public var kernelLaunches: Int = 1

    /// Programs launched.
    public var launched: Int { segmentExits + excessExits + workingPrograms }
}

extension LaunchPlan {
    /// The launch in the cost model's terms (the strategy's `ProgramMap` says how).
    public var gpuWork: GPUWork { map.gpuWork(self) }

    /// A row-by-column grid's work (triton, csgmv).
    ///
    /// One pass over the segments: the exit and working counts are those of
    /// `fateCounts` (a test holds them against enumeration), summed here
    /// rather than by a second pass.
    var rowColumnGPUWork: GPUWork {
        let bytes = dtype.byteCount
        let blockK = blocks.k
        // The expands read the base output and write it back: 2 passes.
        let outputPasses = kernel.isShrink ? 1 : 2
        var kSteps = 0, maxKSteps = 0, tileBytes = 0, streamBytes = 0, overfetch = 0
        // 128-byte lines over rows of R elements; what one K step uses of a row.
        let rowFetch = min(128, maxRank * bytes), stepUse = blockK * bytes
        let extraPerRowStep = kernel.isShrink ? 0 : max(0, rowFetch - stepUse)
        var weightsOfSlot: [Int: Int] = [:]
        var segmentExits = 0, excessExits = 0, working = 0, excessBeforeLastWork = 0, segmentBeforeLastWork = 0, pairs = 0
        for seg in segments {
            guard seg.segmentExit == nil else {
                segmentExits += pidCount * sliceCount
                continue
            }
            // The excess exits of the segments before the last one that works.
            if seg.workingPids > 0 { excessBeforeLastWork = excessExits; segmentBeforeLastWork = segmentExits }
            let excessPerSlice = pidCount - seg.workingPids
            let programs = seg.workingPids * sliceCount
            // Launch order is pid fastest, then slice, then segment: a slice's working
            // pids come first, behind every excess exit of the earlier segments and slices.
            pairs += programs * excessExits + seg.workingPids * excessPerSlice * sliceCount * (sliceCount - 1) / 2
            excessExits += excessPerSlice * sliceCount
            let steps = cdiv(seg.reduction, blockK)
            working += programs
            kSteps += programs * steps
            if programs > 0 { maxKSteps = max(maxKSteps, steps) }
            let width = seg.sliceWidths.reduce(0, +)
            // x: every working program loads its valid rows × K loop.
            tileBytes += seg.length * seg.columnTiles * sliceCount * seg.reduction * bytes
            // W: once per row block per valid column (masked lanes fetch nothing).
            tileBytes += seg.rowBlocks * width * seg.reduction * bytes
            overfetch += seg.rowBlocks * width * steps * extraPerRowStep
            // The output cells of the valid rows.
            tileBytes += seg.length * width * bytes * outputPasses
            // Distinct x rows (slice i reads its own r columns) and output rows.
            streamBytes += seg.length * (seg.reduction * kernel.sliceCount + width * outputPasses) * bytes
            weightsOfSlot[seg.slot] = width * seg.reduction * bytes
        }
        let unique = weightsOfSlot.values.reduce(0, +) + streamBytes
        return GPUWork(
            segmentExits: segmentExits,
            excessExits: excessExits,
            workingPrograms: working,
            kSteps: kSteps, maxKSteps: maxKSteps,
            permuted: routing.permutation != nil,
            alignedWidth: !kernel.isShrink || (kernel.stack * maxRank) % 16 == 0,
            tileBytes: tileBytes, overfetchBytes: overfetch, uniqueBytes: unique, excessExitsBeforeLastWork: excessBeforeLastWork,
            segmentExitsBeforeLastWork: segmentBeforeLastWork, excessExitWorkPairs: pairs)
    }
}
