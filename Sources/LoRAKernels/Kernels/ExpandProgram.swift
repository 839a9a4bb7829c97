import CLoRAKernels

/// The body the three expand kernels share once their slice is resolved:
/// `out[row, c] = round(round(acc · scaling) + out[row, c])` with
/// `acc = Σ_{k < K_eff} x[row, xColumn + k] · B[w][c][k]`.
///
/// It runs a `ProgramTask`, a rectangle of one segment's programs in one
/// slice: row block by row block, 6- or 4-row group by group, and across
/// the rectangle's `Bᵀ` panels (up to 16, 1024 columns) for each group. A
/// panel (`K_eff × 64`, 16 KB fp32 at rank 64) stays in L1/L2 over every row
/// group, and each output row is touched in runs of up to 4 KB, which the
/// prefetchers follow. Programs write disjoint cells, so running several at
/// once changes no bit.
///
/// Accumulation order (fixed per output cell): one fp32 chain of fused
/// multiply-adds in increasing `k`, bf16 in K pairs (`MicroTile`), whatever
/// the tile's shape and whether the tile runs in Swift or on the C
/// VDPBF16PS microkernels (bf16 where the CPU has them: `Launch.runsDot`).
enum ExpandProgram {
    /// Computes every cell of the programs of `task`.
    static func run<E: KernelElement>(_ task: ProgramTask, _ launch: Launch<E>, _ scratch: ProgramScratch) {
        let plan = launch.plan
        let seg = plan.segments[task.segment]
        guard let weights = launch.inputs.weights[seg.slot] else { return }
        let slice = launch.inputs.layouts[seg.slot][task.slice]
        let panels = slice.panels
        let blockN = plan.blocks.n
        // The rectangle's valid columns within the slice (masked-out tiles have none).
        let firstColumn = task.columnTiles.lowerBound * blockN
        let endColumn = min(seg.sliceWidths[task.slice], task.columnTiles.upperBound * blockN)
        guard firstColumn < endColumn else { return }
        let r = seg.reduction
        let inputColumn = task.slice * seg.rank  // docs/kernels.md §3: slice i reads x from i·r
        let x = launch.inputs.x.pointer
        let xStride = launch.inputs.xRowStride
        let w = UnsafePointer(weights.pointer + slice.base)
        let epilogue = Epilogue<E>(output: launch.output + slice.firstColumn, rows: scratch.rows,
                                   outputStride: launch.outputWidth, scaling: seg.scaling)
        let firstPanel = firstColumn / WeightPanels.columnsPerPanel
        let endPanel = cdiv(endColumn, WeightPanels.columnsPerPanel)

        for rowBlock in task.rowBlocks {
            let rowStart = rowBlock * LaunchPlan.blockRows
            let rows = min(LaunchPlan.blockRows, seg.length - rowStart)
            for j in 0..<rows {
                let row = plan.routing.physicalRow(segment: task.segment, row: rowStart + j)
                scratch.rows[j] = row
                if launch.runsDot {
                    // The C tiles read the bf16 x pairs in place.
                    scratch.bf16Rows[j] = UnsafeRawPointer(x + row * xStride + inputColumn).assumingMemoryBound(to: UInt16.self)
                    continue
                }
                scratch.stage(row: j, from: UnsafePointer(x + row * xStride + inputColumn), count: r)
                scratch.xRows[j] = UnsafePointer(scratch.x + j * scratch.rowCapacity)
            }
            // bf16/fp16 panels are read in place: widening them once per
            // row block into fp32 scratch measured 5–20 % slower (bs 256, one core).
            rowGroups(Target(epilogue: epilogue, x: UnsafePointer(scratch.xRows), w: w, panels: panels,
                             endColumn: endColumn, count: r, accumulators: scratch.accumulators,
                             dotX: launch.runsDot ? UnsafePointer(scratch.bf16Rows) : nil),
                      rowStart, rows, firstPanel, endPanel, task, plan, seg)
        }
    }

    /// The row block's rows in 6- and 4-row groups, then one by one, across the block's panels.
    @inline(__always)
    static func rowGroups<E: KernelElement>(_ target: Target<E>, _ rowStart: Int, _ rows: Int,
                                                              _ firstPanel: Int, _ endPanel: Int, _ task: ProgramTask,
                                                              _ plan: LaunchPlan, _ seg: SegmentPlan) {
        var target = target
        var j = 0
        while rows - j >= 4 {
            // 6-row tiles (10 loads per 24 FMAs) where they fit: 16 rows run
            // as 6 + 6 + 4. Measured against 4-row groups, one core, bs 256:
            // +2–4 % at rank 64, up to +8 % at rank 16.
            let left = rows - j
            let size = left >= 6 && left != 8 && left != 9 ? 6 : 4
            // The output rows the next group will read and write, so that
            // their lines arrive while this group computes: each row is
            // touched in runs of one 4 KB page, too short for the hardware
            // prefetchers to lock on (measured: gate_up fp32 bs 256
            // spent 2.4 of 3.3 ms in the epilogue, compute alone 0.9).
            target.nextRows = 0
            for i in 0..<6 {
                var row = rowStart + j + size + i
                if j + size + i >= rows { row += LaunchPlan.blockRows - rows }  // next row block
                guard row < min(seg.length, task.rowBlocks.upperBound * LaunchPlan.blockRows) else { break }
                target.next[i] = plan.routing.physicalRow(segment: task.segment, row: row)
                target.nextRows += 1
            }
            if size == 6 {
                for p in firstPanel..<endPanel { target.panel(rows: MicroTile<6, 4>.self, MicroTile<6, 3>.self,
                                                              MicroTile<6, 2>.self, MicroTile<6, 1>.self, j, p) }
            } else {
                for p in firstPanel..<endPanel { target.panel(rows: MicroTile<4, 4>.self, MicroTile<4, 3>.self,
                                                              MicroTile<4, 2>.self, MicroTile<4, 1>.self, j, p) }
            }
            j += size
        }
        target.nextRows = 0
        while j < rows {
            // A lone row (per-sequence decode) takes two full panels at a
            // time: eight chains cover the FMA latency, four would not.
            var p = firstPanel
            while p + 2 <= endPanel && target.isFull(p + 1) {
                target.twoPanels(j, p)
                p += 2
            }
            while p < endPanel {
                target.panel(rows: MicroTile<1, 4>.self, MicroTile<1, 3>.self, MicroTile<1, 2>.self,
                             MicroTile<1, 1>.self, j, p)
                p += 1
            }
            j += 1
        }
    }

    /// One slice's panels and the row group's staged x, for `MicroTile`s.
    struct Target<E: KernelElement> {
        let epilogue: Epilogue<E>
        let x: UnsafePointer<UnsafePointer<Float>>
        /// The slice's panels.
        let w: UnsafePointer<E>
        let panels: WeightPanels
        /// End of the valid columns within the slice.
        let endColumn: Int
        /// `K_eff`.
        let count: Int
        /// Room for one tile's accumulators (24 vectors).
        let accumulators: UnsafeMutablePointer<SIMD16<Float>>
        /// The bf16 x rows in place when the tiles run on the C VDPBF16PS microkernels, else nil.
        let dotX: UnsafePointer<UnsafePointer<UInt16>?>?
        /// Physical rows of the next row group (`nextRows` of them), prefetched for the epilogue.
        var next = InlineArray<6, Int>(repeating: 0)
        var nextRows = 0

        /// Panel `p` holds 64 valid columns.
        @inline(__always)
        func isFull(_ p: Int) -> Bool { (p + 1) * WeightPanels.columnsPerPanel <= endColumn }

        /// The valid vectors of panel `p` for rows `j ..< j + M`, on the tile of their width.
        @inline(__always)
        func panel<let M: Int>(rows four: MicroTile<M, 4>.Type, _ three: MicroTile<M, 3>.Type,
                               _ two: MicroTile<M, 2>.Type, _ one: MicroTile<M, 1>.Type, _ j: Int, _ p: Int) {
            let column = p * WeightPanels.columnsPerPanel
            let columns = min(endColumn - column, WeightPanels.columnsPerPanel)
            switch cdiv(columns, 16) {
            case 4: tile(four, j, p, column, columns)
            case 3: tile(three, j, p, column, columns)
            case 2: tile(two, j, p, column, columns)
            default: tile(one, j, p, column, columns)
            }
        }

        /// Panels `p` and `p + 1`, both full, for row `j`.
        @inline(__always)
        func twoPanels(_ j: Int, _ p: Int) {
            tile(MicroTile<1, 8>.self, j, p, p * WeightPanels.columnsPerPanel, 2 * WeightPanels.columnsPerPanel,
                 panelStride: panels.offset(1))
        }

        @inline(__always)
        func tile<let M: Int, let V: Int>(_: MicroTile<M, V>.Type, _ j: Int, _ p: Int, _ column: Int, _ columns: Int,
                                          panelStride: Int = 0) {
            for i in 0..<nextRows { epilogue.prefetch(physicalRow: next[i], column: column, columns: columns) }
            if let dotX {
                // Tile and epilogue in C, the accumulators never leaving registers.
                withUnsafeTemporaryAllocation(of: UnsafeMutablePointer<UInt16>?.self, capacity: M) { out in
                    for i in 0..<M {
                        out[i] = UnsafeMutableRawPointer(epilogue.row(j + i) + column).assumingMemoryBound(to: UInt16.self)
                    }
                    lora_bf16_dot_expand(Int32(M), Int32(V), dotX + j, UnsafeRawPointer(w + panels.offset(p)).assumingMemoryBound(to: UInt16.self),
                                         panels.rowStride(p), panelStride, count, out.baseAddress, Int32(columns),
                                         epilogue.scaling[0])
                }
                return
            }
            var acc = MicroTile<M, V>.zero
            MicroTile<M, V>.accumulate(&acc, x: MicroTile<M, V>.Rows { x[j + $0] }, w: w + panels.offset(p),
                                       kStride: panels.width(p), panelStride: panelStride, count: count)
            // Through scratch: with 6 rows the compiler kept the accumulators
            // in registers but also stored them to the stack at every step
            // when the epilogue read them in place (fp32 fell to 96 GFLOP/s).
            MicroTile<M, V>.save(acc, to: accumulators, stride: V)
            if columns >= V * 16 {
                for i in 0..<M {
                    let dst = epilogue.row(j + i) + column
                    for v in 0..<V { epilogue.store(accumulators[i * V + v], to: dst + v &* 16) }
                }
            } else {
                for i in 0..<M {
                    for v in 0..<V {
                        epilogue.store(accumulators[i * V + v], row: j + i, column: column + v * 16, lanes: columns - v * 16)
                    }
                }
            }
        }
    }

    /// docs/kernels.md §3 step 7 for the expands, on one 16-wide column vector of one row.
    struct Epilogue<E: KernelElement> {
        /// The output at the slice's first column.
        let output: UnsafeMutablePointer<E>
        /// Physical row of each of the row block's rows.
        let rows: UnsafeMutablePointer<Int>
        let outputStride: Int
        let scaling: SIMD16<Float>

        init(output: UnsafeMutablePointer<E>, rows: UnsafeMutablePointer<Int>, outputStride: Int, scaling: Float) {
            self.output = output
            self.rows = rows
            self.outputStride = outputStride
            self.scaling = SIMD16(repeating: scaling)
        }

        /// `out = round(round(acc · scaling) + out)` on one whole vector at `p`.
        @inline(__always)
        func store(_ acc: SIMD16<Float>, to p: UnsafeMutablePointer<E>) {
            E.addRounded16(acc * scaling, to: p)
        }

        /// Asks for the cache lines of `columns` output cells from `column` of a
        /// physical row, for writing (PREFETCHW).
        @inline(__always)
        func prefetch(physicalRow row: Int, column: Int, columns: Int) {
            let start = UnsafeRawPointer(output + (row &* outputStride &+ column))
            for byte in stride(from: 0, to: columns * MemoryLayout<E>.stride, by: 64) { lora_prefetch_write(start + byte) }
        }

        /// Row `j`'s output at the slice's first column.
        @inline(__always)
        func row(_ j: Int) -> UnsafeMutablePointer<E> { output + rows[j] &* outputStride }

        /// `out = round(round(acc · scaling) + out)` on the first `lanes` lanes (all when ≥ 16).
        @inline(__always)
        func store(_ acc: SIMD16<Float>, row j: Int, column: Int, lanes: Int) {
            let dst = output + rows[j] * outputStride + column
            if lanes >= 16 {
                E.addRounded16(acc * scaling, to: dst)
            } else {
                let scaled = E.round16(acc * scaling)
                for lane in 0..<lanes { dst[lane] = E(rounding: scaled[lane] + dst[lane].widened) }
            }
        }
    }
}
