/// What every program of one launch reads and writes: the plan it executes,
/// the seeded inputs and the output tensor `(S, outputWidth)`.
struct Launch<E: KernelElement> {
    let plan: LaunchPlan
    let inputs: KernelInputs<E>
    let output: UnsafeMutablePointer<E>
    /// Run bf16 programs on the opt-in C AVX512_BF16 microkernels.
    var bf16Dot = false

    var outputWidth: Int { inputs.outputWidth }
    var inputWidth: Int { inputs.inputWidth }

    /// The physical token row of row `j` of a tile: `seg_indptr[seg] + j`, or
    /// through `perm` in the sorted routing (KERNELS.md §3 step 5).
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
    /// The shrink's cell accumulators: 16 rows × the row block's column vectors
    /// (`accumulatorCapacity`), or a lone C program's 16 × 16 lane vectors.
    let accumulators: UnsafeMutablePointer<SIMD16<Float>>
    /// Physical row of each of the row block's rows.
    let rows: UnsafeMutablePointer<Int>
    /// bf16/fp16 weight panels widened to fp32 (`widen`).
    let weights: UnsafeMutablePointer<Float>

    /// Runs `body` with scratch for any block of `blocks`: staged x rows of
    /// `K_eff` for the expands or a K chunk for the shrink, the shrink's
    /// accumulators for 16 rows × every column vector, and fp32 room for the
    /// weights one block (expands) or one K chunk (shrink) reads.
    static func with<R>(for blocks: ProgramBlocks, _ body: (ProgramScratch) -> R) -> R {
        let plan = blocks.plan
        let maxReduction = plan.segments.map(\.reduction).max() ?? 0
        let columns = cdiv(blocks.maxColumns, WeightPanels.columnsPerPanel) * WeightPanels.columnsPerPanel
        if plan.kernel.isShrink {
            return with(rowCapacity: SGemmLoRAA.kChunk, accumulatorCapacity: LaunchPlan.blockRows * plan.columnBlocks,
                        weightCapacity: SGemmLoRAA.kChunk * columns, body)
        }
        return with(rowCapacity: max(16, maxReduction), accumulatorCapacity: 0,
                    weightCapacity: columns * maxReduction, body)
    }

    private static func with<R>(rowCapacity: Int, accumulatorCapacity: Int, weightCapacity: Int,
                                _ body: (ProgramScratch) -> R) -> R {
        let blockRows = LaunchPlan.blockRows
        let x = UnsafeMutablePointer<Float>.allocate(capacity: blockRows * rowCapacity)
        let xRows = UnsafeMutablePointer<UnsafePointer<Float>>.allocate(capacity: blockRows)
        let acc = UnsafeMutablePointer<SIMD16<Float>>.allocate(capacity: max(SGemmLoRAA.accumulatorCount, accumulatorCapacity))
        let rows = UnsafeMutablePointer<Int>.allocate(capacity: blockRows)
        let weights = UnsafeMutablePointer<Float>.allocate(capacity: max(16, weightCapacity))
        defer { x.deallocate(); xRows.deallocate(); acc.deallocate(); rows.deallocate(); weights.deallocate() }
        return body(ProgramScratch(x: x, rowCapacity: rowCapacity, xRows: xRows, accumulators: acc, rows: rows,
                                   weights: weights))
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
