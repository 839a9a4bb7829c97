/// `sgemm_lora_a`, the shrink: `out[:, 0..<N_eff] = round(x · A[w][0..<N_eff]ᵀ)`.
///
/// Grid and fates come from `LaunchPlan` (axis 0 = `cdiv(max_len,16) ·
/// cdiv(stack·R, 16)`, axis 1 = segments; `num_pid_n = cdiv(N_eff, 16)` per
/// segment). One program computes up to 16 rows × 16 columns over the whole
/// `K` loop, in `BLOCK_K = 256` steps.
///
/// Accumulation order (fixed per output cell, whatever the tile holds): four
/// fp32 partial sums, partial `p` adding the products of `k ≡ p (mod 4)` in
/// increasing `k` with fused multiply-adds, combined as `(s0 + s1) + (s2 + s3)`.
/// Four chains keep a one-row (decode, per-sequence) tile from stalling on FMA
/// latency; the order never depends on how many rows a tile has, so both
/// routings give the same bits.
enum SGemmLoRAA {
    /// Partial sums per output cell.
    static let phases = 4
    /// `BLOCK_K`.
    static let blockK = Kernel.sgemmLoRAA(stack: 1).blocks.k

    /// One program (steps 5–7 of KERNELS.md §3; steps 1–4 are the plan's).
    static func program<E: KernelElement>(_ tile: ProgramTile, _ launch: Launch<E>, _ scratch: ProgramScratch) {
        let seg = launch.plan.segments[tile.position.segment]
        guard let weights = launch.inputs.weights[seg.slot] else { return }
        let k = tile.reduction
        let rows = tile.validRows
        let x = launch.inputs.x.pointer
        let kStride = launch.inputWidth
        for j in 0..<rows { scratch.rows[j] = launch.physicalRow(tile, j) }

        // A's column tile `pid_n`, K-major: `K × 16` contiguous.
        let w = UnsafePointer(weights.pointer + tile.columnTile * k * 16)
        let acc = scratch.accumulators
        acc.initialize(repeating: SIMD16<Float>(), count: rows * phases)
        var k0 = 0
        while k0 < k {
            let kc = min(blockK, k - k0)
            for j in 0..<rows {
                scratch.stage(row: j, from: UnsafePointer(x + scratch.rows[j] * kStride + k0), count: kc)
            }
            let wChunk = w + k0 * 16
            var j = 0
            while j + 4 <= rows {
                accumulate4(acc + j * phases, scratch.x + j * scratch.rowCapacity, scratch.rowCapacity, wChunk, kc)
                j += 4
            }
            while j < rows {
                accumulate1(acc + j * phases, scratch.x + j * scratch.rowCapacity, wChunk, kc)
                j += 1
            }
            k0 += kc
        }

        // Epilogue: round to the dtype, store the valid cells; columns at or
        // beyond N_eff are never written.
        let out = launch.output
        let outStride = launch.outputWidth
        let columns = tile.validColumns
        for j in 0..<rows {
            let a = acc + j * phases
            let sum = (a[0] + a[1]) + (a[2] + a[3])
            let dst = out + scratch.rows[j] * outStride + tile.outputColumnOffset + tile.columnStart
            if columns == 16 {
                E.store16(sum, to: dst)
            } else {
                for lane in 0..<columns { dst[lane] = E(rounding: sum[lane]) }
            }
        }
    }

    /// Four rows: 4 rows × 4 partial sums of one 16-wide column vector.
    @inline(__always)
    static func accumulate4<E: KernelElement>(_ acc: UnsafeMutablePointer<SIMD16<Float>>, _ x: UnsafePointer<Float>,
                                              _ xStride: Int, _ w: UnsafePointer<E>, _ count: Int) {
        let x0 = x, x1 = x + xStride, x2 = x + 2 * xStride, x3 = x + 3 * xStride
        var a00 = acc[0], a01 = acc[1], a02 = acc[2], a03 = acc[3]
        var a10 = acc[4], a11 = acc[5], a12 = acc[6], a13 = acc[7]
        var a20 = acc[8], a21 = acc[9], a22 = acc[10], a23 = acc[11]
        var a30 = acc[12], a31 = acc[13], a32 = acc[14], a33 = acc[15]
        var i = 0
        while i + 4 <= count {
            let w0 = E.load16(w + i * 16), w1 = E.load16(w + i * 16 + 16)
            let w2 = E.load16(w + i * 16 + 32), w3 = E.load16(w + i * 16 + 48)
            a00 = a00.addingProduct(x0[i], w0); a01 = a01.addingProduct(x0[i + 1], w1)
            a02 = a02.addingProduct(x0[i + 2], w2); a03 = a03.addingProduct(x0[i + 3], w3)
            a10 = a10.addingProduct(x1[i], w0); a11 = a11.addingProduct(x1[i + 1], w1)
            a12 = a12.addingProduct(x1[i + 2], w2); a13 = a13.addingProduct(x1[i + 3], w3)
            a20 = a20.addingProduct(x2[i], w0); a21 = a21.addingProduct(x2[i + 1], w1)
            a22 = a22.addingProduct(x2[i + 2], w2); a23 = a23.addingProduct(x2[i + 3], w3)
            a30 = a30.addingProduct(x3[i], w0); a31 = a31.addingProduct(x3[i + 1], w1)
            a32 = a32.addingProduct(x3[i + 2], w2); a33 = a33.addingProduct(x3[i + 3], w3)
            i += 4
        }
        acc[0] = a00; acc[1] = a01; acc[2] = a02; acc[3] = a03
        acc[4] = a10; acc[5] = a11; acc[6] = a12; acc[7] = a13
        acc[8] = a20; acc[9] = a21; acc[10] = a22; acc[11] = a23
        acc[12] = a30; acc[13] = a31; acc[14] = a32; acc[15] = a33
        // K tail (last BLOCK_K step only): k ≡ p (mod 4) still goes to partial p.
        var p = 0
        while i < count {
            let wv = E.load16(w + i * 16)
            for r in 0..<4 { acc[r * 4 + p] = acc[r * 4 + p].addingProduct(x[r * xStride + i], wv) }
            i += 1
            p += 1
        }
    }

    /// One row: 4 partial sums of one 16-wide column vector.
    @inline(__always)
    static func accumulate1<E: KernelElement>(_ acc: UnsafeMutablePointer<SIMD16<Float>>, _ x: UnsafePointer<Float>,
                                              _ w: UnsafePointer<E>, _ count: Int) {
        var a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3]
        var i = 0
        while i + 4 <= count {
            a0 = a0.addingProduct(x[i], E.load16(w + i * 16))
            a1 = a1.addingProduct(x[i + 1], E.load16(w + i * 16 + 16))
            a2 = a2.addingProduct(x[i + 2], E.load16(w + i * 16 + 32))
            a3 = a3.addingProduct(x[i + 3], E.load16(w + i * 16 + 48))
            i += 4
        }
        acc[0] = a0; acc[1] = a1; acc[2] = a2; acc[3] = a3
        var p = 0
        while i < count {
            acc[p] = acc[p].addingProduct(x[i], E.load16(w + i * 16))
            i += 1
            p += 1
        }
    }
}
