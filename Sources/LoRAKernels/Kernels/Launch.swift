/// What every program of one launch reads and writes: the plan it executes,
/// the seeded inputs and the output tensor `(S, outputWidth)`.
struct Launch<E: KernelElement> {
    let plan: LaunchPlan
    let inputs: KernelInputs<E>
    let output: UnsafeMutablePointer<E>
    /// Run bf16 programs on the opt-in C AVX512_BF16 microkernels.
    var bf16Dot = false

    /// Whether the shrink runs on the opt-in C microkernels: bf16 with
    /// `bf16Dot`, and no split-K. VDPBF16PS adds bf16 pairs lane by lane and
    /// `lanesSum` totals 16 lanes, so no cell is an FMA chain in increasing
    /// `k`, and no regrouping of it can give the partial sums `plan.splitK`
    /// prescribes (vLLM's shrink); those launches run on the Swift tiles.
    var runsCShrink: Bool { bf16Dot && E.dtype == .bf16 && plan.splitK == nil }

    var outputWidth: Int { inputs.outputWidth }
    var inputWidth: Int { inputs.inputWidth }

    /// The physical token row of row `j` of a tile: `seg_indptr[seg] + j`, or
    /// through `perm` in the sorted routing (docs/kernels.md §3 step 5).
    @inline(__always)
    func physicalRow(_ tile: ProgramTile, _ j: Int) -> Int {
        plan.routing.physicalRow(segment: tile.position.segment, row: tile.rowStart + j)
    }
}

/// Per-worker scratch memory a program stages its tiles in (fp32), like the
/// SRAM a GPU program loads its tiles into.
struct ProgramScratch {
    /// 16 rows × `rowCapacity` floats: a row block's x rows (the expands' `K_eff`,
    /// a shrink K chunk), widened.
    let x: UnsafeMutablePointer<Float>
    let rowCapacity: Int
    /// Where each of the row block's fp32 x rows starts (staged or in place).
    let xRows: UnsafeMutablePointer<UnsafePointer<Float>>
    /// Cell accumulators: the shrink's 16 rows × the row block's column vectors
    /// (times `SGemmLoRAA.accumulatorSets` under split-K), a lone C program's
    /// 16 × 16 lane vectors, or one expand tile's.
    let accumulators: UnsafeMutablePointer<SIMD16<Float>>
    /// Physical row of each of the row block's rows.
    let rows: UnsafeMutablePointer<Int>

    /// Runs `body` with scratch for any block of `plan`: staged x rows of
    /// `K_eff` for the expands or a K chunk for the shrink, the shrink's
    /// accumulators for 16 rows × every column vector, room for one expand
    /// tile's.
    static func with<R>(for plan: LaunchPlan, _ body: (ProgramScratch) -> R) -> R {
        with(for: plan, workers: 1) { body($0[0]) }
    }

    /// Scratch for each of `workers` workers, allocated once for a whole launch
    /// rather than per chunk of blocks.
    static func with<R>(for plan: LaunchPlan, workers: Int, _ body: ([ProgramScratch]) -> R) -> R {
        let maxReduction = plan.segments.map(\.reduction).max() ?? 0
        let shrink = plan.kernel.isShrink
        let sets = SGemmLoRAA.accumulatorSets(plan.splitK, k: maxReduction)
        let staged = SGemmLoRAA.stagedLength(plan.splitK)
        let scratches = (0..<max(1, workers)).map { _ in
            shrink
                ? allocate(rowCapacity: staged, accumulatorCapacity: sets * LaunchPlan.blockRows * plan.columnBlocks)
                : allocate(rowCapacity: max(16, maxReduction), accumulatorCapacity: 6 * 4)  // the largest expand tile
        }
        defer { scratches.forEach { $0.deallocate() } }
        return body(scratches)
    }

    private static func allocate(rowCapacity: Int, accumulatorCapacity: Int) -> ProgramScratch {
        let blockRows = LaunchPlan.blockRows
        return ProgramScratch(
            x: .allocate(capacity: blockRows * rowCapacity), rowCapacity: rowCapacity,
            xRows: .allocate(capacity: blockRows),
            accumulators: .allocate(capacity: max(SGemmLoRAA.accumulatorCount, accumulatorCapacity)),
            rows: .allocate(capacity: blockRows))
    }

    private func deallocate() {
        x.deallocate(); xRows.deallocate(); accumulators.deallocate(); rows.deallocate()
    }

    /// Widens `count` elements of `source` into staged row `j`.
    @inline(__always)
    func stage<E: KernelElement>(row j: Int, from source: UnsafePointer<E>, count: Int) {
        let dst = x + j * rowCapacity
        var i = 0
        while i + 16 <= count {
            UnsafeMutableRawPointer(dst + i).storeBytes(of: E.load16(source + i), as: SIMD16<Float>.self)
            i += 16
        }
        while i < count {
            dst[i] = source[i].widened
            i += 1
        }
    }
}
