/// The register tile every kernel computes with: `M` rows × `V` 16-wide
/// column vectors of fp32 accumulators, one broadcast-FMA per cell and `k`.
///
/// Per step `k` it loads the `V` weight vectors of panel row `k` once and
/// broadcasts each row's `x[k]` against them, so a 4 × 4 tile issues 16 FMAs
/// for 4 vector loads and 4 broadcasts: the ratio that lets it run at the
/// FMA peak. `M` and `V` are compile-time, so the accumulators live in
/// registers (`6 × 4`, `4 × 4`, `4 × 3`, `8 × 2`, `8 × 1`: 8–24 independent chains
/// cover the FMA latency; `1 × V` is the lone row of per-sequence decode).
///
/// Accumulation order, the contract that keeps every routing and strategy
/// bit-identical: every cell is one fp32 chain of fused multiply-adds, whatever
/// tile shape computes it and wherever its row sits, so tiles of any shape may
/// cover any rows and columns. fp32 and fp16 add the products in increasing
/// `k`. bf16 adds them in K pairs, the order of VDPBF16PS (the C tiles,
/// `CLoRAKernels/include/lora_bf16_dot.h`): pair `j` adds `x[2j+1]·w[2j+1]`,
/// then `x[2j]·w[2j]`, pairs in increasing `j`; a bf16 product is exact in
/// fp32, so each step rounds once, like the instruction, and the Swift and C
/// tiles give the same bits. The order is a permutation of the same `n`
/// multiply-adds, so the fp64 reference's bound (`Reference`: `γ_n`, any
/// order) is unchanged.
struct MicroTile<let M: Int, let V: Int> {
    typealias Accumulators = InlineArray<M, InlineArray<V, SIMD16<Float>>>
    typealias Rows = InlineArray<M, UnsafePointer<Float>>

    /// All-zero accumulators.
    @inline(__always)
    static var zero: Accumulators { Accumulators(repeating: InlineArray(repeating: SIMD16<Float>())) }

    /// `acc[i][v] += Σ_k x[i][k] · w[k][16v ..< 16v + 16]` for `k` in `0 ..< count`, in increasing `k`.
    /// - Parameters:
    ///   - x: each row's fp32 values, `x[i][k]`.
    ///   - w: the start of a panel row holding `V` vectors (`V > 4`: `V / 4`
    ///     consecutive full panels, `panelStride` elements apart); row `k`
    ///     starts `k · kStride` elements on.
    @inline(__always)
    static func accumulate<E: KernelElement>(_ acc: inout Accumulators, x: Rows, w: UnsafePointer<E>,
                                             kStride: Int, panelStride: Int = 0, count: Int) {
        if E.pairsPanelRows {
            accumulatePairs(&acc, x: x, w: w, kStride: kStride, panelStride: panelStride, count: count)
            return
        }
        var wk = w
        for k in 0..<count {
            var wv = InlineArray<V, SIMD16<Float>>(repeating: SIMD16<Float>())
            for v in 0..<V { wv[v] = E.load16(wk + (v / 4) * panelStride + (v % 4) * 16) }
            for i in 0..<M {
                let b = x[i][k]
                for v in 0..<V { acc[i][v] = acc[i][v].addingProduct(b, wv[v]) }
            }
            wk += kStride
        }
    }

    /// `accumulate` on K-paired panels (bf16), in pair order: `w` is the pair
    /// row of an even `k`, pair rows `2 · kStride` apart, vector `v` at
    /// `(v / 4) · panelStride + (v % 4) · 32`.
    @inline(__always)
    static func accumulatePairs<E: KernelElement>(_ acc: inout Accumulators, x: Rows, w: UnsafePointer<E>,
                                                  kStride: Int, panelStride: Int, count: Int) {
        var wk = w
        var k = 0
        while k + 2 <= count {
            // Every row's odd product, then every row's even one (each cell
            // still adds odd before even): V weight vectors live and one
            // broadcast per row and k, as the unpaired tiles. Odd and even
            // per vector at once held 2V vectors (6 × 4: 8 + 24 accumulators)
            // or re-broadcast x per vector (52 loads per 48 FMAs).
            // Declared per step, as `accumulate`'s (one array kept across
            // steps ran the bf16 shrink at rank 64 at 64 GFLOP/s, this 86,
            // the column-paired layout before it 119: benchmarks/README.md).
            var odd = InlineArray<V, SIMD16<Float>>(repeating: SIMD16<Float>())
            for v in 0..<V { odd[v] = E.panelPair(wk + (v / 4) * panelStride + (v % 4) * 32).odd }
            for i in 0..<M {
                let b = x[i][k + 1]
                for v in 0..<V { acc[i][v] = acc[i][v].addingProduct(b, odd[v]) }
            }
            var even = InlineArray<V, SIMD16<Float>>(repeating: SIMD16<Float>())
            for v in 0..<V { even[v] = E.panelPair(wk + (v / 4) * panelStride + (v % 4) * 32).even }
            for i in 0..<M {
                let b = x[i][k]
                for v in 0..<V { acc[i][v] = acc[i][v].addingProduct(b, even[v]) }
            }
            wk += 2 * kStride
            k += 2
        }
        if k < count {
            for v in 0..<V {
                let even = E.panelPair(wk + (v / 4) * panelStride + (v % 4) * 32).even
                for i in 0..<M { acc[i][v] = acc[i][v].addingProduct(x[i][k], even) }
            }
        }
    }

    /// The same with a weight matrix per row (`w[i]`, all in one layout):
    /// lone rows of different segments computed side by side, `M` chains
    /// where one row alone would have `V`.
    @inline(__always)
    static func accumulate<E: KernelElement>(_ acc: inout Accumulators, x: Rows, rowWeights w: InlineArray<M, UnsafePointer<E>>,
                                             kStride: Int, count: Int) {
        if E.pairsPanelRows {
            var offset = 0
            var k = 0
            while k < count {
                for i in 0..<M {
                    for v in 0..<V {
                        let pair = E.panelPair(w[i] + offset + v * 32)
                        acc[i][v] = k + 1 < count
                            ? acc[i][v].addingProduct(x[i][k + 1], pair.odd).addingProduct(x[i][k], pair.even)
                            : acc[i][v].addingProduct(x[i][k], pair.even)
                    }
                }
                offset += 2 * kStride
                k += 2
            }
            return
        }
        var offset = 0
        for k in 0..<count {
            for i in 0..<M {
                let b = x[i][k]
                for v in 0..<V { acc[i][v] = acc[i][v].addingProduct(b, E.load16(w[i] + offset + v * 16)) }
            }
            offset += kStride
        }
    }

    /// Loads accumulators saved by `save` (`acc[i][v]` at `p[i · stride + v]`).
    @inline(__always)
    static func load(_ p: UnsafePointer<SIMD16<Float>>, stride: Int) -> Accumulators {
        var acc = zero
        for i in 0..<M { for v in 0..<V { acc[i][v] = p[i * stride + v] } }
        return acc
    }

    /// Saves accumulators exactly (fp32), `acc[i][v]` to `p[i · stride + v]`.
    @inline(__always)
    static func save(_ acc: Accumulators, to p: UnsafeMutablePointer<SIMD16<Float>>, stride: Int) {
        for i in 0..<M { for v in 0..<V { p[i * stride + v] = acc[i][v] } }
    }
}

// MARK: Metadata, instantiated on one thread

extension MicroTile {
    /// The sizes of the tile's arrays, read through their runtime type metadata.
    ///
    /// Never specialized, so it asks the runtime for the metadata of
    /// `InlineArray<M, InlineArray<V, SIMD16<Float>>>` and `InlineArray<M, UnsafePointer<Float>>`
    /// as the unspecialized kernel code does.
    @inline(never)
    @_semantics("optimize.sil.specialize.generic.never")
    static func metadataSizes() -> Int {
        MemoryLayout<Accumulators>.size + MemoryLayout<Rows>.size + MemoryLayout<InlineArray<V, SIMD16<Float>>>.size
    }
}

/// Instantiates the metadata of every tile shape the kernels use, once, on
/// the first thread that launches a kernel, before any worker runs.
///
/// Why: the expand and shrink tiles run partly unspecialized, and their frames
/// size the accumulator arrays at run time from `InlineArray`'s metadata. When
/// two workers instantiated the same shape's metadata for the first time at
/// once, one of them sized its arrays too small (they are sized from the
/// metadata's value witnesses, read while another thread was completing it,
/// as we read the crash) and the zeroed accumulators overwrote its own
/// frame: a SEGV in `ExpandProgram.Target.tile` reading a pointer from a
/// zeroed stack slot, in 25 of 400 fresh test processes
/// (`LaunchScheduleTests.testExpandBlocksGiveTheLoneProgramsBits`, 2 threads),
/// never twice in one process. Instantiated here first: 0 of 600.
enum MicroTileMetadata {
    /// The sum of `metadataSizes()` over rows 1, 4, 6, 8 × vectors 1, 2, 3, 4, 8.
    static let instantiated: Int = {
        var total = 0
        total += MicroTile<1, 1>.metadataSizes() + MicroTile<1, 2>.metadataSizes() + MicroTile<1, 3>.metadataSizes()
        total += MicroTile<1, 4>.metadataSizes() + MicroTile<1, 8>.metadataSizes()
        total += MicroTile<4, 1>.metadataSizes() + MicroTile<4, 2>.metadataSizes() + MicroTile<4, 3>.metadataSizes()
        total += MicroTile<4, 4>.metadataSizes() + MicroTile<4, 8>.metadataSizes()
        total += MicroTile<6, 1>.metadataSizes() + MicroTile<6, 2>.metadataSizes() + MicroTile<6, 3>.metadataSizes()
        total += MicroTile<6, 4>.metadataSizes() + MicroTile<6, 8>.metadataSizes()
        total += MicroTile<8, 1>.metadataSizes() + MicroTile<8, 2>.metadataSizes() + MicroTile<8, 3>.metadataSizes()
        total += MicroTile<8, 4>.metadataSizes() + MicroTile<8, 8>.metadataSizes()
        return total
    }()
}
