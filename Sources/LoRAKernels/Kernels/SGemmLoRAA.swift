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
/// increasing `k`, bf16 in K pairs (`MicroTile`'s contract), so the lone
/// program, the row block and any tile shape give the same bits, and so do
/// both routings. bf16 tiles run on the C VDPBF16PS microkernels where the
/// CPU has them (`Launch.runsDot`), reading x in place, in the same order.
///
/// **Split-K** (`plan.splitK`, vLLM's shrink): split `s` sums K blocks `s, s +
/// splits, …` of `blockK` as one fp32 chain in that order (blocks of 32 and
/// 256 hold whole bf16 pairs), and the cell is
/// `((0 + partial₀) + partial₁) + …` in fp32, rounded once (`chunks` says how
/// the partials are kept). Every path (row block, lone rows, lone program)
/// does the same, so vLLM's shrink has one set of bits however it is
/// scheduled; it differs from the other strategies' by the fp32 error of a
/// regrouped sum.
enum SGemmLoRAA {
    /// `BLOCK_K`: the kernel's K step, and the K chunk the row block works in.
    static let blockK = 256
    /// The K chunk: a 4-row group's x chunk (4 KB fp32) and the panel chunk
    /// (64 KB for 64 columns) stay in L1/L2 while every row group of the row block
    /// passes; accumulators are saved exactly (fp32) between chunks. Measured
    /// on bs 256 / rank 64, one core: chunks of 64–512 within 4 % of each
    /// other; the whole K (no chunks) 8 % slower.
    static let kChunk = blockK

    /// One program (steps 5–7 of docs/kernels.md §3; steps 1–4 are the plan's).
    ///
    /// The executor runs `rowBlock` instead (the same cells, the same bits);
    /// this lone form is what the row-block schedule is tested against.
    static func program<E: KernelElement>(_ tile: ProgramTile, _ launch: Launch<E>, _ scratch: ProgramScratch) {
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
        // From the first column of the panel: tiles start on a panel's first
        // vector; cells left of `columns` are computed but not stored.
        let v0 = columns.lowerBound / WeightPanels.columnsPerPanel * 4
        let lastPanel = (columns.upperBound - 1) / WeightPanels.columnsPerPanel
        let vectors = lastPanel * 4 + panels.width(lastPanel) / 16 - v0
        chunks(rows: rows, vectors: vectors, k: k, launch, scratch) { run, acc in
            var v = v0
            while v < v0 + vectors {
                let p = v / 4
                let width = panels.width(p)
                // The whole panel, even past `columns` (its padding is zero).
                let count = width / 16
                let w = UnsafePointer(weights.pointer + slice.base + panels.offset(p) + run.k0 * width)
                let target = Target(acc: acc + (v - v0), accStride: vectors, x: UnsafePointer(scratch.xRows),
                                    kStride: width, run: run, dotX: launch.runsDot ? UnsafePointer(scratch.bf16Rows) : nil)
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
        chunks(rows: rows, vectors: vectors, k: k, launch, scratch) { run, acc in
            let x = MicroTile<4, 1>.Rows { scratch.xRows[$0] }
            for p in 0..<panels.panelCount {
                let width = panels.width(p)
                let offset = panels.offset(p) + run.k0 * width
                let w = InlineArray<4, UnsafePointer<E>> { bases[$0] + offset }
                let a = acc + p * 4
                if launch.runsDot {
                    dotSideBySide(width / 16, a, vectors, scratch, w, width, run)
                    continue
                }
                switch width / 16 {
                case 1: sideBySide(MicroTile<4, 1>.self, a, vectors, x, w, width, run)
                case 2: sideBySide(MicroTile<4, 2>.self, a, vectors, x, w, width, run)
                case 3: sideBySide(MicroTile<4, 3>.self, a, vectors, x, w, width, run)
                default: sideBySide(MicroTile<4, 4>.self, a, vectors, x, w, width, run)
                }
            }
        }
        store(rows, 0 ..< columns, firstVector: 0, vectors: vectors, launch, scratch)
    }

    @inline(__always)
    static func sideBySide<let V: Int, E: KernelElement>(_: MicroTile<4, V>.Type, _ p: UnsafeMutablePointer<SIMD16<Float>>,
                                                         _ stride: Int, _ x: MicroTile<4, V>.Rows,
                                                         _ w: InlineArray<4, UnsafePointer<E>>, _ kStride: Int, _ run: KRun) {
        for b in 0..<run.blocks {
            let set = p + b * run.setStride
            var a = MicroTile<4, V>.load(set, stride: stride)
            for r in 0..<run.repeats {
                let o = b * run.count + r * run.repeatStride
                MicroTile<4, V>.accumulate(&a, x: MicroTile<4, V>.Rows { x[$0] + o },
                                           rowWeights: InlineArray { w[$0] + o * kStride }, kStride: kStride, count: run.count)
            }
            MicroTile<4, V>.save(a, to: set, stride: stride)
        }
    }

    /// `sideBySide` on the C VDPBF16PS tiles (bf16 x in place).
    static func dotSideBySide<E: KernelElement>(_ vectors: Int, _ p: UnsafeMutablePointer<SIMD16<Float>>, _ stride: Int,
                                                _ scratch: ProgramScratch, _ w: InlineArray<4, UnsafePointer<E>>,
                                                _ kStride: Int, _ run: KRun) {
        withUnsafeTemporaryAllocation(of: UnsafePointer<UInt16>?.self, capacity: 4) { rows in
            for b in 0..<run.blocks {
                let set = UnsafeMutableRawPointer(p + b * run.setStride).assumingMemoryBound(to: Float.self)
                for r in 0..<run.repeats {
                    let o = b * run.count + r * run.repeatStride
                    for i in 0..<4 { rows[i] = UnsafeRawPointer(w[i] + o * kStride).assumingMemoryBound(to: UInt16.self) }
                    lora_bf16_dot_tile_rows(Int32(vectors), set, stride, scratch.bf16Rows, o, rows.baseAddress,
                                            2 * kStride, run.count)
                }
            }
        }
    }

    /// A stretch of K that `chunks` hands its body: `blocks` consecutive runs
    /// of `count` elements, run `b` covering K `k0 + b · count ..< + count`
    /// (its x at `scratch.xRows[j] + b · count`) and going, in increasing `k`,
    /// into the chains of the accumulator set at `acc + b · setStride` (one
    /// set per vLLM split; one set in all when `setStride` is 0). Each run is
    /// followed in its set by `repeats − 1` more, `repeatStride` elements on
    /// each: the same split's block in the next chunks.
    struct KRun {
        var k0: Int
        var count: Int
        var blocks = 1
        var setStride = 0
        var repeats = 1
        var repeatStride = 0
    }

    /// Chunks per window of interleaved split-K on tiles of 3–4 vectors (`chunks`).
    static let splitWindow = 4

    /// Whether split-K over `k` has a split with more than one K block (vLLM
    /// from 128 tokens), so that `chunks` keeps a partial set per split.
    static func isInterleaved(_ splitK: SplitKOrder, k: Int) -> Bool { cdiv(k, splitK.blockK) > splitK.splits }

    /// The staged x a row needs: a K chunk; under split-K a window of
    /// `splitWindow` chunks, or one block when longer. Padded by 16 floats:
    /// rows a power of two apart share L1 sets (a whole-K staging, tried and
    /// dropped, ran bf16 rank 16 at bs 256 at 37 GFLOP/s with rows 4096
    /// floats apart and 60 with the padding, one core).
    static func stagedLength(_ splitK: SplitKOrder?) -> Int {
        guard let splitK else { return kChunk }
        return max(kChunk * splitWindow + 16, splitK.blockK)
    }

    /// Accumulator sets of 16 rows × the column vectors `chunks` needs: the
    /// total, plus one block's chain (streamed split-K) or one partial per
    /// split (interleaved).
    static func accumulatorSets(_ splitK: SplitKOrder?, k: Int) -> Int {
        guard let splitK else { return 1 }
        return isInterleaved(splitK, k: k) ? 1 + splitK.splits : 2
    }

    /// Runs a shrink's K loop over `rows × vectors` accumulators (row `j`'s
    /// `vectors` apart) and leaves each cell's fp32 total in
    /// `scratch.accumulators` for `store`. For each K chunk it stages fp32 x
    /// (`stageChunk`), points `scratch.xRows` at each run's first element and
    /// calls `body(run, acc)`, which adds the run's products into the chains
    /// of `acc` in increasing `k`.
    ///
    /// - No split-K: `kChunk`-long runs, all into the total.
    /// - Split-K with at most one K block per split (vLLM below 128 tokens:
    ///   `BLOCK_K` 256 = `kChunk`, 64 splits, of which K = 4096 reaches 16):
    ///   split `s`'s whole contribution is block `s`, and blocks come in
    ///   split order, so each block's chain runs in fresh accumulators and is
    ///   then added into the running total: two sets, `(0 + p₀) + p₁ + …`
    ///   exactly.
    /// - Interleaved split-K (vLLM from 128 tokens: `BLOCK_K` 32, 8 splits,
    ///   so a 256-wide chunk holds one block of each split): one partial set
    ///   per split, added into the total in split order at the end. A chunk's
    ///   full blocks go to the body as one `KRun`, block `b` into split
    ///   `b mod splits`'s set, so a tile walks the chunk's eight blocks back
    ///   to back, each loaded from and saved to its own set. Where the
    ///   splits' blocks tile a chunk exactly (splits · `BLOCK_K` = `kChunk`)
    ///   and the tile is 3–4 vectors wide, a window of `splitWindow` chunks
    ///   is one `KRun`: each set is loaded once, runs its split's block in
    ///   every chunk of the window (4 × 32 steps in registers) and is saved.
    ///   A short last block is a run of its own.
    ///
    ///   Measured, vLLM ÷ sorted GFLOP/s at bs 256 and 512, one core, three
    ///   runs each on this shared machine: one chunk at a time 0.82–0.93
    ///   (the tile's load and save every 32 steps); windows of 4 at rank 64
    ///   0.86–1.00 (bf16 0.94–1.00). At rank 16 (8 chains of one vector) the
    ///   window's jumps from one chunk to the next in x and the weights cost
    ///   more than the saves (windows of 2: 0.75–0.85, one chunk 0.82–0.90),
    ///   so narrow tiles keep one chunk. Slower exact schemes: each block a
    ///   pass of its own over the row block's panels (0.63–0.83), and one run
    ///   per split over the whole K (0.76–0.83 at rank 16).
    ///
    /// Splits whose K range starts past K add a zero tile on the GPU; adding
    /// +0 leaves every total as it is (it starts at +0, and a
    /// round-to-nearest sum is −0 only when both terms are), so they are skipped.
    @inline(__always)
    static func chunks<E: KernelElement>(rows: Int, vectors: Int, k: Int, _ launch: Launch<E>, _ scratch: ProgramScratch,
                                         _ body: (_ run: KRun, _ acc: UnsafeMutablePointer<SIMD16<Float>>) -> Void) {
        let cells = rows * vectors
        let total = scratch.accumulators
        total.initialize(repeating: SIMD16<Float>(), count: cells)
        guard let split = launch.plan.splitK else {
            var k0 = 0
            while k0 < k {
                let n = min(kChunk, k - k0)
                stageChunk(rows, k0, n, launch, scratch)
                body(KRun(k0: k0, count: n), total)
                k0 += n
            }
            return
        }
        let blockK = split.blockK, splits = split.splits
        let partials = total + cells
        guard isInterleaved(split, k: k) else {
            var start = 0
            while start < k {
                let end = min(k, start + blockK)
                partials.initialize(repeating: SIMD16<Float>(), count: cells)
                var k0 = start
                while k0 < end {
                    let n = min(kChunk, end - k0)
                    stageChunk(rows, k0, n, launch, scratch)
                    body(KRun(k0: k0, count: n), partials)
                    k0 += n
                }
                for i in 0..<cells { total[i] += partials[i] }
                start = end
            }
            return
        }
        partials.initialize(repeating: SIMD16<Float>(), count: splits * cells)
        var k0 = 0
        // Windows of whole chunks, each holding one block of every split.
        let period = splits * blockK
        if period == kChunk {
            let fullPeriods = k / period
            while k0 / period < fullPeriods {
                let periods = min(vectors >= 3 ? splitWindow : 1, fullPeriods - k0 / period)
                stageChunk(rows, k0, periods * period, launch, scratch)
                body(KRun(k0: k0, count: blockK, blocks: splits, setStride: cells, repeats: periods, repeatStride: period),
                     partials)
                k0 += periods * period
            }
        }
        // Chunks of whole blocks: kChunk rounded down to blocks, or one block when longer.
        let chunk = max(1, kChunk / blockK) * blockK
        let fullBlocks = k / blockK
        while k0 < k {
            let n = min(chunk, k - k0)
            stageChunk(rows, k0, n, launch, scratch)
            var b = k0 / blockK
            let end = cdiv(k0 + n, blockK)
            while b < end {
                let set = b % splits
                // Full blocks into consecutive sets up to the last split, or the short last block alone.
                let m = b < fullBlocks ? min(splits - set, min(end, fullBlocks) - b) : 1
                let run = b < fullBlocks ? KRun(k0: b * blockK, count: blockK, blocks: m, setStride: cells)
                    : KRun(k0: b * blockK, count: k - b * blockK)
                let shift = run.k0 - k0
                for j in 0..<rows { scratch.xRows[j] += shift; scratch.bf16Rows[j] = scratch.bf16Rows[j].map { $0 + shift } }
                body(run, partials + set * cells)
                for j in 0..<rows { scratch.xRows[j] -= shift; scratch.bf16Rows[j] = scratch.bf16Rows[j].map { $0 - shift } }
                b += m
            }
            k0 += n
        }
        for s in 0..<splits {
            let p = partials + s * cells
            for i in 0..<cells { total[i] += p[i] }
        }
    }

    /// Points `scratch.xRows` at the fp32 x of K chunk `k0 ..< k0 + n` of rows
    /// `scratch.rows[0 ..< rows]`: fp32 x in place, other dtypes widened; on
    /// the C tiles `scratch.bf16Rows` at the bf16 x in place instead.
    @inline(__always)
    static func stageChunk<E: KernelElement>(_ rows: Int, _ k0: Int, _ n: Int, _ launch: Launch<E>, _ scratch: ProgramScratch) {
        let x = UnsafePointer(launch.inputs.x.pointer)
        for j in 0..<rows {
            let source = x + scratch.rows[j] * launch.inputs.xRowStride + k0
            if launch.runsDot {
                scratch.bf16Rows[j] = UnsafeRawPointer(source).assumingMemoryBound(to: UInt16.self)
            } else if E.self == Float.self {
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

    /// Where one panel's vectors of a `KRun` accumulate: `acc[j · accStride + v]`
    /// for row `j`, the run's first x element of row `j` at `x[j]`.
    struct Target {
        let acc: UnsafeMutablePointer<SIMD16<Float>>
        let accStride: Int
        let x: UnsafePointer<UnsafePointer<Float>>
        let kStride: Int
        let run: KRun
        /// The bf16 x rows in place when the tiles run on the C VDPBF16PS microkernels, else nil.
        let dotX: UnsafePointer<UnsafePointer<UInt16>?>?

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
                let first = j
                if let dotX {
                    // The same runs into the same sets, on the C tiles (which load and save them).
                    let wb = UnsafeRawPointer(w).assumingMemoryBound(to: UInt16.self)
                    for b in 0..<run.blocks {
                        let p = UnsafeMutableRawPointer(acc + b * run.setStride + j * accStride).assumingMemoryBound(to: Float.self)
                        for r in 0..<run.repeats {
                            let offset = b * run.count + r * run.repeatStride
                            lora_bf16_dot_tile(Int32(M), Int32(V), p, accStride, dotX + first, offset,
                                               wb + offset * kStride, 2 * kStride, 0, run.count)
                        }
                    }
                    j += M
                    continue
                }
                if run.blocks == 1 && run.repeats == 1 {
                    // One run into one set: every launch without interleaved split-K.
                    let p = acc + j * accStride
                    var a = MicroTile<M, V>.load(p, stride: accStride)
                    MicroTile<M, V>.accumulate(&a, x: MicroTile<M, V>.Rows { x[first + $0] }, w: w,
                                               kStride: kStride, count: run.count)
                    MicroTile<M, V>.save(a, to: p, stride: accStride)
                    j += M
                    continue
                }
                // One block after another, each into its own split's set.
                for b in 0..<run.blocks {
                    let p = acc + b * run.setStride + j * accStride
                    var a = MicroTile<M, V>.load(p, stride: accStride)
                    for r in 0..<run.repeats {
                        let offset = b * run.count + r * run.repeatStride
                        MicroTile<M, V>.accumulate(&a, x: MicroTile<M, V>.Rows { x[first + $0] + offset },
                                                   w: w + offset * kStride, kStride: kStride, count: run.count)
                    }
                    MicroTile<M, V>.save(a, to: p, stride: accStride)
                }
                j += M
            }
        }
    }
}
