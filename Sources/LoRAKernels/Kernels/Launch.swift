/// What every program of one launch reads and writes: the plan it executes,
/// the seeded inputs and the output tensor `(S, outputWidth)`.
///
/// `@unchecked Sendable`: the executor's workers share one launch and write
/// through `output`, a raw pointer, on the contract `TensorBuffer` states: the
/// programs of a launch write disjoint cells.
struct Launch<E: KernelElement>: @unchecked Sendable {
    let plan: LaunchPlan
    let inputs: KernelInputs<E>
    let output: UnsafeMutablePointer<E>
    /// Run bf16 tiles on the C VDPBF16PS microkernels (`CLoRAKernels`) rather
    /// than the Swift ones: the same per-cell order (`MicroTile`), so the same bits.
    /// Only where the CPU has AVX512_BF16 (`KernelRunOptions.bf16Microkernel`).
    var bf16Dot = false

    /// Whether this launch's tiles run on the C VDPBF16PS microkernels.
    var runsDot: Bool { bf16Dot && E.dtype == .bf16 }

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
///
/// `@unchecked Sendable`: raw buffers, handed to one worker each, never
/// shared (`LaunchExecutor` gives worker `w` only `scratches[w]`).
struct ProgramScratch: @unchecked Sendable {
    /// 16 rows × `rowCapacity` floats: a row block's x rows (the expands' `K_eff`,
    /// a shrink K chunk), widened.
    let x: UnsafeMutablePointer<Float>
    let rowCapacity: Int
    /// Where each of the row block's fp32 x rows starts (staged or in place).
    let xRows: UnsafeMutablePointer<UnsafePointer<Float>>
    /// Where each of the row block's bf16 x rows starts in place (the C tiles read x unwidened).
    let bf16Rows: UnsafeMutablePointer<UnsafePointer<UInt16>?>
    /// Cell accumulators: the shrink's 16 rows × the row block's column vectors
    /// (times `SGemmLoRAA.accumulatorSets` under split-K), or one expand tile's.
    let accumulators: UnsafeMutablePointer<SIMD16<Float>>
    /// Physical row of each of the row block's rows.
    let rows: UnsafeMutablePointer<Int>

    /// Runs `body` with scratch for any task of `plan`: staged x rows of
    /// `K_eff` for the expands or a K chunk for the shrink, the shrink's
    /// accumulators for 16 rows × every column vector, room for one expand
    /// tile's.
    static func with<R>(for plan: LaunchPlan, _ body: (ProgramScratch) -> R) -> R {
        with(for: plan, workers: 1) { body($0[0]) }
    }

    /// Scratch for each of `workers` workers, allocated once for a whole launch
    /// rather than per chunk of blocks.
    /// - Parameter placement: `.heap`, or every buffer between guard pages (`MemoryPlacement`, tests).
    static func with<R>(for plan: LaunchPlan, workers: Int, placement: MemoryPlacement = .heap,
                        _ body: ([ProgramScratch]) -> R) -> R {
        let maxReduction = plan.segments.map(\.reduction).max() ?? 0
        let shrink = plan.kernel.isShrink
        let sets = SGemmLoRAA.accumulatorSets(plan.splitK, k: maxReduction)
        let staged = SGemmLoRAA.stagedLength(plan.splitK)
        var regions: [GuardedRegion] = []
        let scratches = (0..<max(1, workers)).map { _ in
            shrink
                ? allocate(rowCapacity: staged, accumulatorCapacity: sets * LaunchPlan.blockRows * plan.columnBlocks,
                           placement, &regions)
                : allocate(rowCapacity: max(16, maxReduction), accumulatorCapacity: 6 * 4,  // the largest expand tile
                           placement, &regions)
        }
        defer {
            if placement == .heap { scratches.forEach { $0.deallocate() } } else { regions.forEach { $0.free() } }
        }
        return body(scratches)
    }

    private static func allocate(rowCapacity: Int, accumulatorCapacity: Int, _ placement: MemoryPlacement,
                                 _ regions: inout [GuardedRegion]) -> ProgramScratch {
        let blockRows = LaunchPlan.blockRows
        let bf16Rows = allocateBuffer(of: UnsafePointer<UInt16>?.self, capacity: blockRows, placement, &regions)
        // The shrink shifts `bf16Rows` on every path, so they are never read uninitialised.
        bf16Rows.initialize(repeating: nil, count: blockRows)
        return ProgramScratch(
            x: allocateBuffer(of: Float.self, capacity: blockRows * rowCapacity, placement, &regions), rowCapacity: rowCapacity,
            xRows: allocateBuffer(of: UnsafePointer<Float>.self, capacity: blockRows, placement, &regions),
            bf16Rows: bf16Rows,
            accumulators: allocateBuffer(of: SIMD16<Float>.self, capacity: accumulatorCapacity, placement, &regions),
            rows: allocateBuffer(of: Int.self, capacity: blockRows, placement, &regions))
    }

    private func deallocate() {
        x.deallocate(); xRows.deallocate(); bf16Rows.deallocate(); accumulators.deallocate(); rows.deallocate()
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
