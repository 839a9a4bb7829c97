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
    /// 16 rows × `rowCapacity` floats: the program's x rows, widened.
    let x: UnsafeMutablePointer<Float>
    let rowCapacity: Int
    /// The shrink's cell accumulators: 16 × 16 for one program, 16 rows × all
    /// column tiles for a row block (`accumulatorCapacity`).
    let accumulators: UnsafeMutablePointer<SIMD16<Float>>
    /// Physical row of each of the tile's rows.
    let rows: UnsafeMutablePointer<Int>

    /// Runs `body` with scratch for programs whose staged x rows hold at most
    /// `rowCapacity` elements and at most `accumulatorCapacity` shrink cells.
    static func with<R>(rowCapacity: Int, accumulatorCapacity: Int = SGemmLoRAA.accumulatorCount,
                        _ body: (ProgramScratch) -> R) -> R {
        let x = UnsafeMutablePointer<Float>.allocate(capacity: LaunchPlan.blockRows * rowCapacity)
        let acc = UnsafeMutablePointer<SIMD16<Float>>.allocate(capacity: max(SGemmLoRAA.accumulatorCount, accumulatorCapacity))
        let rows = UnsafeMutablePointer<Int>.allocate(capacity: LaunchPlan.blockRows)
        defer { x.deallocate(); acc.deallocate(); rows.deallocate() }
        return body(ProgramScratch(x: x, rowCapacity: rowCapacity, accumulators: acc, rows: rows))
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
