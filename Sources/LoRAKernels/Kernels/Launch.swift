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

    /// Runs `body` with scratch for any block of `plan`: staged x rows of
    /// `K_eff` for the expands or a K chunk for the shrink, and the shrink's
    /// accumulators for 16 rows × every column vector.
    static func with<R>(for plan: LaunchPlan, _ body: (ProgramScratch) -> R) -> R {
        let shrink = plan.kernel.isShrink
        return with(rowCapacity: shrink ? SGemmLoRAA.kChunk : max(16, plan.segments.map(\.reduction).max() ?? 0),
                    accumulatorCapacity: shrink ? LaunchPlan.blockRows * plan.columnBlocks : 0, body)
    }

    /// Runs `body` with scratch for row blocks whose staged x rows hold at most
    /// `rowCapacity` elements and at most `accumulatorCapacity` shrink vectors.
    private static func with<R>(rowCapacity: Int, accumulatorCapacity: Int = SGemmLoRAA.accumulatorCount,
                        _ body: (ProgramScratch) -> R) -> R {
        let blockRows = LaunchPlan.blockRows
        let x = UnsafeMutablePointer<Float>.allocate(capacity: blockRows * rowCapacity)
        let xRows = UnsafeMutablePointer<UnsafePointer<Float>>.allocate(capacity: blockRows)
        let acc = UnsafeMutablePointer<SIMD16<Float>>.allocate(capacity: max(SGemmLoRAA.accumulatorCount, accumulatorCapacity))
        let rows = UnsafeMutablePointer<Int>.allocate(capacity: blockRows)
        defer { x.deallocate(); xRows.deallocate(); acc.deallocate(); rows.deallocate() }
        return body(ProgramScratch(x: x, rowCapacity: rowCapacity, xRows: xRows, accumulators: acc, rows: rows))
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
