import CLoRAKernels

/// `sgemm_lora_a`, the shrink: `out[:, 0..<N_eff] = round(x · A[w][0..<N_eff]ᵀ)`.
///
/// Grid and fates come from `LaunchPlan` (axis 0 = `cdiv(max_len,16) ·
/// cdiv(stack·R, 16)`, axis 1 = segments; `num_pid_n = cdiv(N_eff, 16)` per
/// segment). One program computes up to 16 rows × 16 columns over the whole
/// `K` loop.
///
/// The executor runs a row block's `num_pid_n` programs together
/// (`rowBlock`): their 16 × `N_eff` cells in `MicroTile`s over `Aᵀ` panels of
/// 64 columns, `K` in `kChunk` steps. Each cell is one fp32 FMA chain in
/// increasing `k` (`MicroTile`'s contract), so the lone program, the row block
/// and any tile shape give the same bits, and so do both routings.
enum SGemmLoRAA {
    /// Accumulator vectors of one lone program on the opt-in C path: 16 rows × 16 columns × 16 lanes.
    static let accumulatorCount = 256

    /// `BLOCK_K`: the kernel's K step, and the K chunk the row block works in.
    static let blockK = 256
    /// The K chunk: a 4-row group's x chunk (4 KB fp32) and the panel chunk
    /// (64 KB for 64 columns) stay in L1/L2 while every row group of the block
    /// passes; accumulators are saved exactly (fp32) between chunks. Measured
    /// on bs 256 / rank 64, one core: chunks of 64–512 within 4 % of each
    /// other; the whole K (no chunks) 8 % slower.
    static let kChunk = blockK

    /// One program (steps 5–7 of docs/kernels.md §3; steps 1–4 are the plan's).
    ///
    /// The executor runs `rowBlock` instead (the same cells, the same bits);
    /// this lone form is what the row-block schedule is tested against, and
    /// the opt-in C microkernels run it.
    static func program<E: KernelElement>(_ tile: ProgramTile, _ launch: Launch<E>, _ scratch: ProgramScratch) {
        if launch.bf16Dot && E.dtype == .bf16 {
            bf16DotProgram(tile, launch, scratch)
            return
        }
        cells(tile, columns: tile.columnStart ..< tile.columnStart + tile.validColumns, launch, scratch)
    }

    /// All column tiles of one row block at once: programs `pid_s · num_pid_n
    /// ..< (pid_s + 1) · num_pid_n` of a segment, `first` being the tile of the
    /// first. A scheduling of the same programs: the row block's x chunk is
    /// read once for all its columns, and each `Aᵀ` chunk once per 16 rows.
    static func rowBlock<E: KernelElement>(_ first: ProgramTile, _ launch: Launch<E>, _ scratch: ProgramScratch) {
        let seg = launch.plan.segments[first.position.segment]
        cells(first, columns: 0 ..< seg.sliceWidths[0], launch, scratch)
    }

    /// The cells of `tile`'s rows in output `columns` (starting on a 16-column boundary).
    static func cells<E: KernelElement>(_ tile: ProgramTile, columns: Range<Int>, _ launch: Launch<E>,
                                        _ scratch: ProgramScratch) {
        let seg = launch.plan.segments[tile.position.segment]
        guard let weights = launch.inputs.weights[seg.slot], !columns.isEmpty else { return }
        let slice = launch.inputs.layouts[seg.slot][0]
        let panels = slice.panels
        let k = tile.reduction
        let rows = tile.validRows
        for j in 0..<rows { scratch.rows[j] = launch.physicalRow(tile, j) }
        // From the first column of the panel: tiles start on a panel row
        // (bf16 vectors come in pairs); cells left of `columns` are computed
        // but not stored.
        let v0 = columns.lowerBound / WeightPanels.columnsPerPanel * 4
        let lastPanel = (columns.upperBound - 1) / WeightPanels.columnsPerPanel
        let vectors = lastPanel * 4 + panels.width(lastPanel) / 16 - v0
        let acc = scratch.accumulators
        chunks(rows: rows, vectors: vectors, k: k, launch, scratch) { k0, n in
            var v = v0
            while v < v0 + vectors {
                let p = v / 4
                let width = panels.width(p)
                // The whole panel, even past `columns`: a tile reads all of a
                // panel row's vectors (bf16 pairs them).
                let count = width / 16
                let w = UnsafePointer(weights.pointer + slice.base + panels.offset(p) + k0 * width)
                let target = Target(acc: acc + (v - v0), accStride: vectors, x: UnsafePointer(scratch.xRows),
                                    kStride: width, count: n)
                target.rows(count, rows, w)
                v += count
            }
        }

        store(rows, columns, firstVector: v0, vectors: vectors, launch, scratch)
    }

    /// Lone rows of up to four segments of one row each (per-sequence decode)
    /// with the same `N_eff`, side by side: a `MicroTile` with a weight matrix
    /// per row keeps four rows' chains in flight where one row has one to four.
    static func loneRows<E: KernelElement>(_ segments: [Int], _ launch: Launch<E>, _ scratch: ProgramScratch) {
        let plan = launch.plan
        let rows = segments.count
        guard rows == 4 else {
            for s in segments {
                cells(plan.tile(GridPosition(pid: 0, segment: s)), columns: 0 ..< plan.segments[s].sliceWidths[0],
                      launch, scratch)
            }
            return
        }
        let columns = plan.segments[segments[0]].sliceWidths[0]
        let k = plan.segments[segments[0]].reduction
        let panels = launch.inputs.layouts[plan.segments[segments[0]].slot][0].panels
        let bases = InlineArray<4, UnsafePointer<E>> { j in
            let slot = plan.segments[segments[j]].slot
            return UnsafePointer(launch.inputs.weights[slot]!.pointer + launch.inputs.layouts[slot][0].base)
        }
        for j in 0..<rows { scratch.rows[j] = plan.routing.physicalRow(segment: segments[j], row: 0) }
        let vectors = cdiv(columns, 16)
        let acc = scratch.accumulators
        chunks(rows: rows, vectors: vectors, k: k, launch, scratch) { k0, n in
            let x = MicroTile<4, 1>.Rows { scratch.xRows[$0] }
            for p in 0..<panels.panelCount {
                let width = panels.width(p)
                let offset = panels.offset(p) + k0 * width
                let w = InlineArray<4, UnsafePointer<E>> { bases[$0] + offset }
                let a = acc + p * 4
                switch width / 16 {
                case 1: sideBySide(MicroTile<4, 1>.self, a, vectors, x, w, width, n)
                case 2: sideBySide(MicroTile<4, 2>.self, a, vectors, x, w, width, n)
                case 3: sideBySide(MicroTile<4, 3>.self, a, vectors, x, w, width, n)
                default: sideBySide(MicroTile<4, 4>.self, a, vectors, x, w, width, n)
                }
            }
        }
        store(rows, 0 ..< columns, firstVector: 0, vectors: vectors, launch, scratch)
    }

    @inline(__always)
    static func sideBySide<let V: Int, E: KernelElement>(_: MicroTile<4, V>.Type, _ p: UnsafeMutablePointer<SIMD16<Float>>,
                                                         _ stride: Int, _ x: MicroTile<4, V>.Rows,
                                                         _ w: InlineArray<4, UnsafePointer<E>>, _ kStride: Int, _ count: Int) {
        var a = MicroTile<4, V>.load(p, stride: stride)
        MicroTile<4, V>.accumulate(&a, x: x, rowWeights: w, kStride: kStride, count: count)
        MicroTile<4, V>.save(a, to: p, stride: stride)
    }

    /// Zeroes the `rows × vectors` accumulators, then for each K chunk
    /// `k0 ..< k0 + n` points `scratch.xRows` at its fp32 x (`stageChunk`) and
    /// calls `body(k0, n)`.
    @inline(__always)
    static func chunks<E: KernelElement>(rows: Int, vectors: Int, k: Int, _ launch: Launch<E>, _ scratch: ProgramScratch,
                                         _ body: (_ k0: Int, _ n: Int) -> Void) {
        scratch.accumulators.initialize(repeating: SIMD16<Float>(), count: rows * vectors)
        var k0 = 0
        while k0 < k {
            let n = min(kChunk, k - k0)
            stageChunk(rows, k0, n, launch, scratch)
            body(k0, n)
            k0 += n
        }
    }

    /// Points `scratch.xRows` at the fp32 x of K chunk `k0 ..< k0 + n` of rows
    /// `scratch.rows[0 ..< rows]`: fp32 x in place, other dtypes widened.
    @inline(__always)
    static func stageChunk<E: KernelElement>(_ rows: Int, _ k0: Int, _ n: Int, _ launch: Launch<E>, _ scratch: ProgramScratch) {
        let x = UnsafePointer(launch.inputs.x.pointer)
        for j in 0..<rows {
            let source = x + scratch.rows[j] * launch.inputs.xRowStride + k0
            if E.self == Float.self {
                scratch.xRows[j] = UnsafeRawPointer(source).assumingMemoryBound(to: Float.self)
            } else {
                scratch.stage(row: j, from: source, count: n)
                scratch.xRows[j] = UnsafePointer(scratch.x + j * scratch.rowCapacity)
            }
        }
    }

    /// The epilogue: round to the dtype and store the cells of `columns`
    /// (accumulators `acc[j · vectors + c / 16 − firstVector]`); columns at or
    /// beyond N_eff are never written.
    @inline(__always)
    static func store<E: KernelElement>(_ rows: Int, _ columns: Range<Int>, firstVector v0: Int, vectors: Int,
                                        _ launch: Launch<E>, _ scratch: ProgramScratch) {
        let outStride = launch.outputWidth
        for j in 0..<rows {
            let dst = launch.output + scratch.rows[j] * outStride
            for c in columns { dst[c] = E(rounding: scratch.accumulators[j * vectors + c / 16 - v0][c % 16]) }
        }
    }

    /// Where one panel's vectors of a K chunk accumulate: `acc[j · accStride + v]`
    /// for row `j`, the rows' fp32 x chunks at `x[j]`.
    struct Target {
        let acc: UnsafeMutablePointer<SIMD16<Float>>
        let accStride: Int
        let x: UnsafePointer<UnsafePointer<Float>>
        let kStride: Int
        let count: Int

        /// Rows `0 ..< rows` of `vectors` (1–4) column vectors, on tiles of that
        /// width. Four vectors take 6-row tiles (10 loads per 24 FMAs; 4 × 4
        /// needs 8 per 16): fp32 bs 256 rank 64 measured 4 % faster in A/B runs.
        @inline(__always)
        func rows<W: KernelElement>(_ vectors: Int, _ rows: Int, _ w: UnsafePointer<W>) {
            switch vectors {
            case 1: self.rows(MicroTile<8, 1>.self, MicroTile<4, 1>.self, MicroTile<1, 1>.self, rows, w)
            case 2: self.rows(MicroTile<8, 2>.self, MicroTile<4, 2>.self, MicroTile<1, 2>.self, rows, w)
            case 3: self.rows(MicroTile<4, 3>.self, MicroTile<4, 3>.self, MicroTile<1, 3>.self, rows, w)
            default: self.rows(MicroTile<6, 4>.self, MicroTile<4, 4>.self, MicroTile<1, 4>.self, rows, w)
            }
        }

        /// Rows `0 ..< rows` in groups of `A` rows, then `B`, then `C`.
        @inline(__always)
        func rows<let A: Int, let B: Int, let C: Int, let V: Int, E: KernelElement>(
            _: MicroTile<A, V>.Type, _: MicroTile<B, V>.Type, _: MicroTile<C, V>.Type, _ rows: Int, _ w: UnsafePointer<E>) {
            var j = 0
            group(MicroTile<A, V>.self, &j, rows, w)
            group(MicroTile<B, V>.self, &j, rows, w)
            group(MicroTile<C, V>.self, &j, rows, w)
        }

        @inline(__always)
        func group<let M: Int, let V: Int, E: KernelElement>(_: MicroTile<M, V>.Type, _ j: inout Int, _ rows: Int,
                                                             _ w: UnsafePointer<E>) {
            while j + M <= rows {
                let p = acc + j * accStride
                var a = MicroTile<M, V>.load(p, stride: accStride)
                let first = j
                MicroTile<M, V>.accumulate(&a, x: MicroTile<M, V>.Rows { x[first + $0] }, w: w, kStride: kStride, count: count)
                MicroTile<M, V>.save(a, to: p, stride: accStride)
                j += M
            }
        }
    }

    /// The lone program on the opt-in C microkernels, reading `A` row-major.
    static func bf16DotProgram<E: KernelElement>(_ tile: ProgramTile, _ launch: Launch<E>, _ scratch: ProgramScratch) {
        let seg = launch.plan.segments[tile.position.segment]
        guard let weights = launch.inputs.rowMajorShrinkWeights[seg.slot] else { return }
        let k = tile.reduction
        let rows = tile.validRows
        let x = UnsafePointer(launch.inputs.x.pointer)
        let kStride = launch.inputs.xRowStride
        for j in 0..<rows { scratch.rows[j] = launch.physicalRow(tile, j) }
        let wStride = launch.inputs.rowMajorStride
        let w = UnsafePointer(weights.pointer + tile.columnStart * wStride)
        let acc = scratch.accumulators
        acc.initialize(repeating: SIMD16<Float>(), count: accumulatorCount)
        bf16DotBlocks(acc, x, kStride, w, wStride, k, rows, cdiv(tile.validColumns, 4), scratch)
        let out = launch.output
        let outStride = launch.outputWidth
        for j in 0..<rows {
            let dst = out + scratch.rows[j] * outStride + tile.outputColumnOffset + tile.columnStart
            for c in 0..<tile.validColumns { dst[c] = E(rounding: lanesSum(acc[j * 16 + c])) }
        }
    }

    /// A lone program's 4 × 4 blocks on the opt-in C microkernels
    /// (`CLoRAKernels`), on `A` row-major: lane `l` of a cell's vector adds the
    /// bf16 pairs `(32i + 2l, 32i + 2l + 1)` with VDPBF16PS and `lanesSum`
    /// totals the lanes. Another fixed per-cell order than the Swift tiles'
    /// (so the last bits differ from the Swift path), the same in every block
    /// shape (so both routings agree).
    static func bf16DotBlocks<E: KernelElement>(_ acc: UnsafeMutablePointer<SIMD16<Float>>, _ x: UnsafePointer<E>,
                                                _ kStride: Int, _ w: UnsafePointer<E>, _ wStride: Int, _ k: Int,
                                                _ rows: Int, _ columnBlocks: Int, _ scratch: ProgramScratch) {
        let accF = UnsafeMutableRawPointer(acc).assumingMemoryBound(to: Float.self)
        let xb = UnsafeRawPointer(x).assumingMemoryBound(to: UInt16.self)
        let wb = UnsafeRawPointer(w).assumingMemoryBound(to: UInt16.self)
        var j = 0
        while j + 4 <= rows {
            let x0 = xb + scratch.rows[j] * kStride, x1 = xb + scratch.rows[j + 1] * kStride
            let x2 = xb + scratch.rows[j + 2] * kStride, x3 = xb + scratch.rows[j + 3] * kStride
            for block in 0..<columnBlocks {
                lora_bf16_dot4x4(accF + (j * 16 + block * 4) * 16, x0, x1, x2, x3, wb + block * 4 * wStride, wStride, k)
            }
            j += 4
        }
        while j < rows {
            let xr = xb + scratch.rows[j] * kStride
            var block = 0
            while block < columnBlocks {
                let columns = min(8, (columnBlocks - block) * 4)
                lora_bf16_dot1xn(accF + (j * 16 + block * 4) * 16, xr, wb + block * 4 * wStride, wStride, k, Int32(columns))
                block += 2
            }
            j += 1
        }
    }

    /// The 16 lanes summed as a fixed tree.
    @inline(__always)
    static func lanesSum(_ v: SIMD16<Float>) -> Float {
        let half = v.lowHalf + v.highHalf
        let quarter = half.lowHalf + half.highHalf
        let eighth = quarter.lowHalf + quarter.highHalf
        return eighth[0] + eighth[1]
    }
}
