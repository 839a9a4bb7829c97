import CLoRAKernels

/// `sgemm_lora_a`, the shrink: `out[:, 0..<N_eff] = round(x · A[w][0..<N_eff]ᵀ)`.
///
/// Grid and fates come from `LaunchPlan` (axis 0 = `cdiv(max_len,16) ·
/// cdiv(stack·R, 16)`, axis 1 = segments; `num_pid_n = cdiv(N_eff, 16)` per
/// segment). One program computes up to 16 rows × 16 columns over the whole
/// `K` loop.
///
/// The microkernel is a dot product along `K`, which suits a 16-column tile:
/// x rows and A rows are both `K`-contiguous, so one x vector serves 4 columns
/// and one A vector 4 rows (8 loads per 16 FMAs; broadcast-FMA would need one
/// load per FMA here).
///
/// Accumulation order (fixed per output cell, whatever the tile holds): lane
/// `l` of a `SIMD16<Float>` adds the products of `k ≡ l (mod 16)` in increasing
/// `k` with fused multiply-adds (a short last vector is zero-filled), then the
/// 16 lanes are summed as a fixed tree (halves, quarters, …). Row blocks of 4
/// and single rows run the same per-cell arithmetic, so both routings give the
/// same bits.
enum SGemmLoRAA {
    /// Accumulator vectors per program: 16 rows × 16 columns.
    static let accumulatorCount = 256

    /// One program (steps 5–7 of KERNELS.md §3; steps 1–4 are the plan's).
    ///
    /// The executor runs `rowBlock` instead (the same cells, the same bits);
    /// this lone form serves the opt-in C microkernels and is the reference
    /// the row-block schedule is tested against.
    static func program<E: KernelElement>(_ tile: ProgramTile, _ launch: Launch<E>, _ scratch: ProgramScratch) {
        let seg = launch.plan.segments[tile.position.segment]
        guard let weights = launch.inputs.weights[seg.slot] else { return }
        let k = tile.reduction
        let rows = tile.validRows
        let x = UnsafePointer(launch.inputs.x.pointer)
        let kStride = launch.inputs.xRowStride
        for j in 0..<rows { scratch.rows[j] = launch.physicalRow(tile, j) }

        // A's rows `pid_n·16 ..< +16` (zero rows pad past N_eff); column blocks of 4.
        let wStride = launch.inputs.weightStride
        let w = UnsafePointer(weights.pointer + tile.columnStart * wStride)
        let columnBlocks = cdiv(tile.validColumns, 4)
        let acc = scratch.accumulators
        acc.initialize(repeating: SIMD16<Float>(), count: accumulatorCount)
        // Each 4 × 4 block runs the whole K loop with its accumulators in
        // registers. Within one 16 × 16 program, blocking K measured slower;
        // across a row block's programs it pays (`rowBlock`).
        if launch.bf16Dot && E.dtype == .bf16 {
            bf16DotBlocks(acc, x, kStride, w, wStride, k, rows, columnBlocks, scratch)
        } else {
            blocks(acc, x, kStride, w, wStride, k, rows, columnBlocks, scratch)
        }

        // Epilogue: round to the dtype, store the valid cells; columns at or
        // beyond N_eff are never written.
        let out = launch.output
        let outStride = launch.outputWidth
        for j in 0..<rows {
            let dst = out + scratch.rows[j] * outStride + tile.outputColumnOffset + tile.columnStart
            for c in 0..<tile.validColumns { dst[c] = E(rounding: lanesSum(acc[j * 16 + c])) }
        }
    }

    /// `BLOCK_K`: the K step the row-block schedule works in (the kernel's own).
    static let blockK = 256
    /// The K chunk of the row-block schedule: two `BLOCK_K` steps (measured
    /// on the sorted fp32 anchors, one core: 256 → 152–171 GFLOP/s, 512 →
    /// 160–183, 1024 no better).
    static let kChunk = 2 * blockK

    /// All column tiles of one row block at once: programs `pid_s · num_pid_n
    /// ..< (pid_s + 1) · num_pid_n` of a segment, whose `first` is the tile of
    /// the first. A scheduling of the same programs, not a different kernel:
    /// every cell gets exactly the FMAs of `program` in the same order (chunk
    /// boundaries fall on multiples of 16, so lane `l` still adds
    /// `k ≡ l (mod 16)` in increasing `k`; only the last chunk has the
    /// zero-filled short vector), and accumulators are saved exactly in fp32
    /// between chunks.
    ///
    /// Why: a lone 16 × 16 program runs each 4 × 4 block over the whole K,
    /// streaming 4 x rows and 4 A rows (64 KB each) from L2 for every block:
    /// 8 L2 loads per 16 FMAs, about L2's bandwidth (133–160 GFLOP/s, 49–58 %
    /// of the FMA peak). Here K runs in `kChunk` chunks, column block outside
    /// row group: a 4-row A chunk (8 KB fp32) stays in L1 while the row
    /// block's 4 row groups pass over it, so A leaves L2/L3 once per 16 rows,
    /// and the 16 accumulators of a 4 × 4 block stay in registers over a
    /// whole chunk (saved to scratch between chunks).
    static func rowBlock<E: KernelElement>(_ first: ProgramTile, columnTiles: Int, _ launch: Launch<E>,
                                           _ scratch: ProgramScratch) {
        let seg = launch.plan.segments[first.position.segment]
        guard let weights = launch.inputs.weights[seg.slot] else { return }
        var lastPosition = first.position
        lastPosition.pid += columnTiles - 1
        let last = launch.plan.tile(lastPosition)
        let columns = last.columnStart + last.validColumns  // N_eff
        let k = first.reduction
        let rows = first.validRows
        let x = UnsafePointer(launch.inputs.x.pointer)
        let kStride = launch.inputs.xRowStride
        for j in 0..<rows { scratch.rows[j] = launch.physicalRow(first, j) }
        let wStride = launch.inputs.weightStride
        let w = UnsafePointer(weights.pointer)
        let columnBlocks = cdiv(columns, 4)
        let stride = columnBlocks * 4
        let acc = scratch.accumulators
        acc.initialize(repeating: SIMD16<Float>(), count: rows * stride)
        if rows < 4 {
            // Per-sequence decode: one x row fits L1 whole; tile by tile over
            // the whole K, as lone programs run.
            for j in 0..<rows {
                let xr = x + scratch.rows[j] * kStride
                var block = 0
                while block + 2 <= columnBlocks {
                    dot1x8(acc + j * stride + block * 4, xr, w + block * 4 * wStride, wStride, k)
                    block += 2
                }
                if block < columnBlocks { dot1x4(acc + j * stride + block * 4, xr, w + block * 4 * wStride, wStride, k) }
            }
        } else {
            // (Packing each x chunk contiguous, against the 4 KB L1 set
            // aliasing of rows 16 KB apart, measured 5–25 % slower: the copy
            // costs more than the conflicts.)
            let fullRows = rows / 4 * 4
            var k0 = 0
            while k0 < k {
                let n = min(kChunk, k - k0)
                for block in 0..<columnBlocks {
                    let wb = w + block * 4 * wStride + k0
                    var j = 0
                    while j < fullRows {
                        let x0 = x + scratch.rows[j] * kStride + k0, x1 = x + scratch.rows[j + 1] * kStride + k0
                        let x2 = x + scratch.rows[j + 2] * kStride + k0, x3 = x + scratch.rows[j + 3] * kStride + k0
                        dot4x4(acc + j * stride + block * 4, stride, x0, x1, x2, x3, wb, wStride, n)
                        j += 4
                    }
                }
                for j in fullRows..<rows {
                    let xr = x + scratch.rows[j] * kStride + k0
                    var block = 0
                    while block + 2 <= columnBlocks {
                        dot1x8(acc + j * stride + block * 4, xr, w + block * 4 * wStride + k0, wStride, n)
                        block += 2
                    }
                    if block < columnBlocks {
                        dot1x4(acc + j * stride + block * 4, xr, w + block * 4 * wStride + k0, wStride, n)
                    }
                }
                k0 += n
            }
        }

        let out = launch.output
        let outStride = launch.outputWidth
        for j in 0..<rows {
            let dst = out + scratch.rows[j] * outStride + first.outputColumnOffset
            for c in 0..<columns { dst[c] = E(rounding: lanesSum(acc[j * stride + c])) }
        }
    }

    /// The tile's 4 × 4 blocks, then its leftover rows one by one (8 columns at a time).
    @inline(__always)
    static func blocks<E: KernelElement>(_ acc: UnsafeMutablePointer<SIMD16<Float>>, _ x: UnsafePointer<E>,
                                         _ kStride: Int, _ w: UnsafePointer<E>, _ wStride: Int, _ k: Int,
                                         _ rows: Int, _ columnBlocks: Int, _ scratch: ProgramScratch) {
        var j = 0
        while j + 4 <= rows {
            let x0 = x + scratch.rows[j] * kStride, x1 = x + scratch.rows[j + 1] * kStride
            let x2 = x + scratch.rows[j + 2] * kStride, x3 = x + scratch.rows[j + 3] * kStride
            for block in 0..<columnBlocks {
                dot4x4(acc + j * 16 + block * 4, 16, x0, x1, x2, x3, w + block * 4 * wStride, wStride, k)
            }
            j += 4
        }
        while j < rows {
            let xr = x + scratch.rows[j] * kStride
            var block = 0
            while block + 2 <= columnBlocks {
                dot1x8(acc + j * 16 + block * 4, xr, w + block * 4 * wStride, wStride, k)
                block += 2
            }
            if block < columnBlocks { dot1x4(acc + j * 16 + block * 4, xr, w + block * 4 * wStride, wStride, k) }
            j += 1
        }
    }

    /// The same blocks on the opt-in C microkernels (`CLoRAKernels`): lane `l`
    /// adds the bf16 pairs `(32i + 2l, 32i + 2l + 1)` with VDPBF16PS instead of
    /// `k ≡ l (mod 16)` with FMAs, a different but equally fixed per-cell order.
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

    /// `p[0..<count]` widened, zero-filled to 16 lanes (the K tail).
    @inline(__always)
    static func loadPartial<E: KernelElement>(_ p: UnsafePointer<E>, _ count: Int) -> SIMD16<Float> {
        var v = SIMD16<Float>()
        for i in 0..<count { v[i] = p[i].widened }
        return v
    }

    /// Four rows × four columns; accumulators `acc[r·16 + c]`.
    @inline(__always)
    static func dot4x4<X: KernelElement, E: KernelElement>(
        _ acc: UnsafeMutablePointer<SIMD16<Float>>, _ accStride: Int,
        _ x0: UnsafePointer<X>, _ x1: UnsafePointer<X>, _ x2: UnsafePointer<X>, _ x3: UnsafePointer<X>,
                                         _ w: UnsafePointer<E>, _ wStride: Int, _ count: Int) {
        let w0 = w, w1 = w + wStride, w2 = w + 2 * wStride, w3 = w + 3 * wStride
        let r1 = acc + accStride, r2 = acc + 2 * accStride, r3 = acc + 3 * accStride
        var a00 = acc[0], a01 = acc[1], a02 = acc[2], a03 = acc[3]
        var a10 = r1[0], a11 = r1[1], a12 = r1[2], a13 = r1[3]
        var a20 = r2[0], a21 = r2[1], a22 = r2[2], a23 = r2[3]
        var a30 = r3[0], a31 = r3[1], a32 = r3[2], a33 = r3[3]
        @inline(__always)
        func step(_ v0: SIMD16<Float>, _ v1: SIMD16<Float>, _ v2: SIMD16<Float>, _ v3: SIMD16<Float>,
                  _ b0: SIMD16<Float>, _ b1: SIMD16<Float>, _ b2: SIMD16<Float>, _ b3: SIMD16<Float>) {
            a00 = a00.addingProduct(v0, b0); a01 = a01.addingProduct(v0, b1)
            a02 = a02.addingProduct(v0, b2); a03 = a03.addingProduct(v0, b3)
            a10 = a10.addingProduct(v1, b0); a11 = a11.addingProduct(v1, b1)
            a12 = a12.addingProduct(v1, b2); a13 = a13.addingProduct(v1, b3)
            a20 = a20.addingProduct(v2, b0); a21 = a21.addingProduct(v2, b1)
            a22 = a22.addingProduct(v2, b2); a23 = a23.addingProduct(v2, b3)
            a30 = a30.addingProduct(v3, b0); a31 = a31.addingProduct(v3, b1)
            a32 = a32.addingProduct(v3, b2); a33 = a33.addingProduct(v3, b3)
        }
        var i = 0
        while i + 16 <= count {
            step(X.load16(x0 + i), X.load16(x1 + i), X.load16(x2 + i), X.load16(x3 + i),
                 E.load16(w0 + i), E.load16(w1 + i), E.load16(w2 + i), E.load16(w3 + i))
            i += 16
        }
        if i < count {
            let n = count - i
            step(loadPartial(x0 + i, n), loadPartial(x1 + i, n), loadPartial(x2 + i, n), loadPartial(x3 + i, n),
                 loadPartial(w0 + i, n), loadPartial(w1 + i, n), loadPartial(w2 + i, n), loadPartial(w3 + i, n))
        }
        acc[0] = a00; acc[1] = a01; acc[2] = a02; acc[3] = a03
        r1[0] = a10; r1[1] = a11; r1[2] = a12; r1[3] = a13
        r2[0] = a20; r2[1] = a21; r2[2] = a22; r2[3] = a23
        r3[0] = a30; r3[1] = a31; r3[2] = a32; r3[3] = a33
    }

    /// One row × eight columns: eight chains keep FMA latency covered for the
    /// one-row tiles of per-sequence decode.
    @inline(__always)
    static func dot1x8<X: KernelElement, E: KernelElement>(_ acc: UnsafeMutablePointer<SIMD16<Float>>, _ x: UnsafePointer<X>,
                                         _ w: UnsafePointer<E>, _ wStride: Int, _ count: Int) {
        let w0 = w, w1 = w + wStride, w2 = w + 2 * wStride, w3 = w + 3 * wStride
        let w4 = w + 4 * wStride, w5 = w + 5 * wStride, w6 = w + 6 * wStride, w7 = w + 7 * wStride
        var a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3], a4 = acc[4], a5 = acc[5], a6 = acc[6], a7 = acc[7]
        var i = 0
        while i + 16 <= count {
            let v = X.load16(x + i)
            a0 = a0.addingProduct(v, E.load16(w0 + i)); a1 = a1.addingProduct(v, E.load16(w1 + i))
            a2 = a2.addingProduct(v, E.load16(w2 + i)); a3 = a3.addingProduct(v, E.load16(w3 + i))
            a4 = a4.addingProduct(v, E.load16(w4 + i)); a5 = a5.addingProduct(v, E.load16(w5 + i))
            a6 = a6.addingProduct(v, E.load16(w6 + i)); a7 = a7.addingProduct(v, E.load16(w7 + i))
            i += 16
        }
        if i < count {
            let n = count - i
            let v = loadPartial(x + i, n)
            a0 = a0.addingProduct(v, loadPartial(w0 + i, n)); a1 = a1.addingProduct(v, loadPartial(w1 + i, n))
            a2 = a2.addingProduct(v, loadPartial(w2 + i, n)); a3 = a3.addingProduct(v, loadPartial(w3 + i, n))
            a4 = a4.addingProduct(v, loadPartial(w4 + i, n)); a5 = a5.addingProduct(v, loadPartial(w5 + i, n))
            a6 = a6.addingProduct(v, loadPartial(w6 + i, n)); a7 = a7.addingProduct(v, loadPartial(w7 + i, n))
        }
        acc[0] = a0; acc[1] = a1; acc[2] = a2; acc[3] = a3; acc[4] = a4; acc[5] = a5; acc[6] = a6; acc[7] = a7
    }

    /// One row × four columns (the last column block of a row).
    @inline(__always)
    static func dot1x4<X: KernelElement, E: KernelElement>(_ acc: UnsafeMutablePointer<SIMD16<Float>>, _ x: UnsafePointer<X>,
                                         _ w: UnsafePointer<E>, _ wStride: Int, _ count: Int) {
        let w0 = w, w1 = w + wStride, w2 = w + 2 * wStride, w3 = w + 3 * wStride
        var a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3]
        var i = 0
        while i + 16 <= count {
            let v = X.load16(x + i)
            a0 = a0.addingProduct(v, E.load16(w0 + i)); a1 = a1.addingProduct(v, E.load16(w1 + i))
            a2 = a2.addingProduct(v, E.load16(w2 + i)); a3 = a3.addingProduct(v, E.load16(w3 + i))
            i += 16
        }
        if i < count {
            let n = count - i
            let v = loadPartial(x + i, n)
            a0 = a0.addingProduct(v, loadPartial(w0 + i, n)); a1 = a1.addingProduct(v, loadPartial(w1 + i, n))
            a2 = a2.addingProduct(v, loadPartial(w2 + i, n)); a3 = a3.addingProduct(v, loadPartial(w3 + i, n))
        }
        acc[0] = a0; acc[1] = a1; acc[2] = a2; acc[3] = a3
    }
}
