import CLoRAKernels

/// The program body the three expand kernels share once their slice is
/// resolved: `out[rows, c] = round(round(acc · scaling) + out[rows, c])` with
/// `acc = Σ_{k < K_eff} x[row, xColumn + k] · B[w][c][k]`.
///
/// Accumulation order (fixed per output cell): one fp32 chain of fused
/// multiply-adds in increasing `k`. Independent chains come from the tile's
/// many columns, so the row count of a tile never changes a cell's order.
enum ExpandProgram {
    /// Computes one tile.
    /// - Parameters:
    ///   - outputColumn: first output column of the tile (slice offset + `pid_n·BLOCK_N`),
    ///     also the first row of `B` it reads.
    ///   - inputColumn: first x column of the slice (`q·r`, `g·r`, 0).
    static func run<E: KernelElement>(_ tile: ProgramTile, _ launch: Launch<E>, _ scratch: ProgramScratch,
                                      outputColumn: Int, inputColumn: Int) {
        let seg = launch.plan.segments[tile.position.segment]
        guard let weights = launch.inputs.weights[seg.slot] else { return }
        let r = tile.reduction
        let rows = tile.validRows
        let x = launch.inputs.x.pointer
        let xStride = launch.inputs.xRowStride
        for j in 0..<rows {
            let row = launch.physicalRow(tile, j)
            scratch.rows[j] = row
            scratch.stage(row: j, from: UnsafePointer(x + row * xStride + inputColumn), count: r)
        }
        let stride = launch.inputs.weightStride
        let w = UnsafePointer(weights.pointer + outputColumn)
        if launch.bf16Dot && E.dtype == .bf16 {
            // Opt-in: the same FMA chains in C, rounded with VCVTNEPS2BF16.
            lora_bf16_expand_tile(scratch.x, scratch.rowCapacity, scratch.rows, Int32(rows),
                                  UnsafeRawPointer(w).assumingMemoryBound(to: UInt16.self), stride, Int32(r),
                                  UnsafeMutableRawPointer(launch.output).assumingMemoryBound(to: UInt16.self),
                                  launch.outputWidth, outputColumn, Int32(tile.validColumns), seg.scaling)
            return
        }
        let vectors = cdiv(tile.validColumns, 16)
        let epilogue = Epilogue<E>(launch: launch, scratch: scratch, column: outputColumn,
                                   columns: tile.validColumns, scaling: seg.scaling)
        // Column groups outer: a group's `K_eff × 64` slice of Bᵀ stays in L1
        // while every 4-row block of the tile passes over it.
        let fullRowBlocks = rows / 4
        var v = 0
        while v + 4 <= vectors {
            for block in 0..<fullRowBlocks {
                let j = block * 4
                tile4x4(scratch.x + j * scratch.rowCapacity, scratch.rowCapacity, w + v * 16, stride, r, epilogue, row: j, vector: v)
            }
            v += 4
        }
        while v < vectors {
            for j in 0..<fullRowBlocks * 4 {
                tile1x1(scratch.x + j * scratch.rowCapacity, w + v * 16, stride, r, epilogue, row: j, vector: v)
            }
            v += 1
        }
        var j = fullRowBlocks * 4
        while j < rows {
            var v = 0
            // Eight chains for a lone row (per-sequence decode): four would
            // stall on FMA latency over the short K_eff loop.
            while v + 8 <= vectors {
                tile1x8(scratch.x + j * scratch.rowCapacity, w + v * 16, stride, r, epilogue, row: j, vector: v)
                v += 8
            }
            while v + 4 <= vectors {
                tile1x4(scratch.x + j * scratch.rowCapacity, w + v * 16, stride, r, epilogue, row: j, vector: v)
                v += 4
            }
            while v < vectors {
                tile1x1(scratch.x + j * scratch.rowCapacity, w + v * 16, stride, r, epilogue, row: j, vector: v)
                v += 1
            }
            j += 1
        }
    }

    /// KERNELS.md §3 step 7 for the expands, on one 16-wide column vector of one row.
    struct Epilogue<E: KernelElement> {
        let output: UnsafeMutablePointer<E>
        let rows: UnsafeMutablePointer<Int>
        let outputStride: Int
        let column: Int
        let columns: Int
        let scaling: SIMD16<Float>
        let scalar: Float

        init(launch: Launch<E>, scratch: ProgramScratch, column: Int, columns: Int, scaling: Float) {
            output = launch.output
            rows = scratch.rows
            outputStride = launch.outputWidth
            self.column = column
            self.columns = columns
            self.scaling = SIMD16(repeating: scaling)
            scalar = scaling
        }

        /// `out = round(round(acc · scaling) + out)` on the valid lanes.
        @inline(__always)
        func store(_ acc: SIMD16<Float>, row j: Int, vector v: Int) {
            let dst = output + rows[j] * outputStride + column + v * 16
            let scaled = E.round16(acc * scaling)
            let lanes = columns - v * 16
            if lanes >= 16 {
                E.store16(scaled + E.load16(dst), to: dst)
            } else {
                for lane in 0..<lanes { dst[lane] = E(rounding: scaled[lane] + dst[lane].widened) }
            }
        }
    }

    @inline(__always)
    static func tile4x4<E: KernelElement>(_ x: UnsafePointer<Float>, _ xStride: Int, _ w: UnsafePointer<E>, _ wStride: Int,
                                          _ r: Int, _ epilogue: Epilogue<E>, row j: Int, vector v: Int) {
        let x0 = x, x1 = x + xStride, x2 = x + 2 * xStride, x3 = x + 3 * xStride
        var a00 = SIMD16<Float>(), a01 = SIMD16<Float>(), a02 = SIMD16<Float>(), a03 = SIMD16<Float>()
        var a10 = SIMD16<Float>(), a11 = SIMD16<Float>(), a12 = SIMD16<Float>(), a13 = SIMD16<Float>()
        var a20 = SIMD16<Float>(), a21 = SIMD16<Float>(), a22 = SIMD16<Float>(), a23 = SIMD16<Float>()
        var a30 = SIMD16<Float>(), a31 = SIMD16<Float>(), a32 = SIMD16<Float>(), a33 = SIMD16<Float>()
        var wk = w
        for k in 0..<r {
            let w0 = E.load16(wk), w1 = E.load16(wk + 16), w2 = E.load16(wk + 32), w3 = E.load16(wk + 48)
            let b0 = x0[k], b1 = x1[k], b2 = x2[k], b3 = x3[k]
            a00 = a00.addingProduct(b0, w0); a01 = a01.addingProduct(b0, w1)
            a02 = a02.addingProduct(b0, w2); a03 = a03.addingProduct(b0, w3)
            a10 = a10.addingProduct(b1, w0); a11 = a11.addingProduct(b1, w1)
            a12 = a12.addingProduct(b1, w2); a13 = a13.addingProduct(b1, w3)
            a20 = a20.addingProduct(b2, w0); a21 = a21.addingProduct(b2, w1)
            a22 = a22.addingProduct(b2, w2); a23 = a23.addingProduct(b2, w3)
            a30 = a30.addingProduct(b3, w0); a31 = a31.addingProduct(b3, w1)
            a32 = a32.addingProduct(b3, w2); a33 = a33.addingProduct(b3, w3)
            wk += wStride
        }
        epilogue.store(a00, row: j, vector: v); epilogue.store(a01, row: j, vector: v + 1)
        epilogue.store(a02, row: j, vector: v + 2); epilogue.store(a03, row: j, vector: v + 3)
        epilogue.store(a10, row: j + 1, vector: v); epilogue.store(a11, row: j + 1, vector: v + 1)
        epilogue.store(a12, row: j + 1, vector: v + 2); epilogue.store(a13, row: j + 1, vector: v + 3)
        epilogue.store(a20, row: j + 2, vector: v); epilogue.store(a21, row: j + 2, vector: v + 1)
        epilogue.store(a22, row: j + 2, vector: v + 2); epilogue.store(a23, row: j + 2, vector: v + 3)
        epilogue.store(a30, row: j + 3, vector: v); epilogue.store(a31, row: j + 3, vector: v + 1)
        epilogue.store(a32, row: j + 3, vector: v + 2); epilogue.store(a33, row: j + 3, vector: v + 3)
    }

    @inline(__always)
    static func tile1x4<E: KernelElement>(_ x: UnsafePointer<Float>, _ w: UnsafePointer<E>, _ wStride: Int,
                                          _ r: Int, _ epilogue: Epilogue<E>, row j: Int, vector v: Int) {
        var a0 = SIMD16<Float>(), a1 = SIMD16<Float>(), a2 = SIMD16<Float>(), a3 = SIMD16<Float>()
        var wk = w
        for k in 0..<r {
            let b = x[k]
            a0 = a0.addingProduct(b, E.load16(wk)); a1 = a1.addingProduct(b, E.load16(wk + 16))
            a2 = a2.addingProduct(b, E.load16(wk + 32)); a3 = a3.addingProduct(b, E.load16(wk + 48))
            wk += wStride
        }
        epilogue.store(a0, row: j, vector: v); epilogue.store(a1, row: j, vector: v + 1)
        epilogue.store(a2, row: j, vector: v + 2); epilogue.store(a3, row: j, vector: v + 3)
    }

    @inline(__always)
    static func tile1x8<E: KernelElement>(_ x: UnsafePointer<Float>, _ w: UnsafePointer<E>, _ wStride: Int,
                                          _ r: Int, _ epilogue: Epilogue<E>, row j: Int, vector v: Int) {
        var a0 = SIMD16<Float>(), a1 = SIMD16<Float>(), a2 = SIMD16<Float>(), a3 = SIMD16<Float>()
        var a4 = SIMD16<Float>(), a5 = SIMD16<Float>(), a6 = SIMD16<Float>(), a7 = SIMD16<Float>()
        var wk = w
        for k in 0..<r {
            let b = x[k]
            a0 = a0.addingProduct(b, E.load16(wk)); a1 = a1.addingProduct(b, E.load16(wk + 16))
            a2 = a2.addingProduct(b, E.load16(wk + 32)); a3 = a3.addingProduct(b, E.load16(wk + 48))
            a4 = a4.addingProduct(b, E.load16(wk + 64)); a5 = a5.addingProduct(b, E.load16(wk + 80))
            a6 = a6.addingProduct(b, E.load16(wk + 96)); a7 = a7.addingProduct(b, E.load16(wk + 112))
            wk += wStride
        }
        epilogue.store(a0, row: j, vector: v); epilogue.store(a1, row: j, vector: v + 1)
        epilogue.store(a2, row: j, vector: v + 2); epilogue.store(a3, row: j, vector: v + 3)
        epilogue.store(a4, row: j, vector: v + 4); epilogue.store(a5, row: j, vector: v + 5)
        epilogue.store(a6, row: j, vector: v + 6); epilogue.store(a7, row: j, vector: v + 7)
    }

    @inline(__always)
    static func tile1x1<E: KernelElement>(_ x: UnsafePointer<Float>, _ w: UnsafePointer<E>, _ wStride: Int,
                                          _ r: Int, _ epilogue: Epilogue<E>, row j: Int, vector v: Int) {
        var a = SIMD16<Float>()
        var wk = w
        for k in 0..<r {
            a = a.addingProduct(x[k], E.load16(wk))
            wk += wStride
        }
        epilogue.store(a, row: j, vector: v)
    }
}
