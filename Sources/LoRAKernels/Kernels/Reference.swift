/// The fp64 reference of a workload: the same math on the same dtype-rounded
/// inputs, computed in `Double` with no intermediate rounding, row by row from
/// the batch (not from either routing).
///
/// **Valid cells.** The expands: every cell of `(S, outputWidth)` (rows on
/// rank-0 slots must keep the base output exactly). The shrink: cells
/// `(row, c)` with `c < N_eff = stack·r` of the row's slot; all other cells are
/// never written and must keep their initial NaN.
///
/// **Max error** of an output = max over valid cells of `|out − ref|`.
///
/// **Tolerance** per valid cell, with `a = scaling · Σ x·w` (fp64), `b` the base
/// (0 for the shrink, `scaling` 1), `M = |scaling| · Σ |x|·|w|` and `n` the
/// reduction length (`K` or `K_eff`):
///
///     tol = 2·(u_d + u)·(|a| + |a + b|) + γ_n·M + 4·η_d,   γ_n = n·u / (1 − n·u)
///
/// where `u = 2⁻²⁴` (fp32 accumulation and the fp32 multiply/add of the
/// epilogue), `u_d` the dtype's unit roundoff (bf16 `2⁻⁸`, fp16 `2⁻¹¹`, fp32 0:
/// storing an fp32 result rounds nothing) and `η_d` half its smallest
/// subnormal (underflow of the two epilogue roundings). `γ_n·M` bounds any
/// order of `n` fp32 multiply-adds (Higham, Thm 3.1); the first term bounds the
/// epilogue's roundings `round(round(acc·s) + b)`, each relative to a value
/// within `(1 + γ_n)` of `|a|` or `|a + b|`, which the factor 2 covers.
struct Reference<E: KernelElement> {
    let inputs: KernelInputs<E>
    /// Slot of every token row.
    let tokenSlots: [Int]
    let ranks: [Int]
    let scalings: [Float]

    init(_ inputs: KernelInputs<E>) {
        self.inputs = inputs
        let batch = inputs.workload.batch
        var slots: [Int] = []
        slots.reserveCapacity(inputs.rows)
        for (slot, length) in zip(batch.weightIndices, batch.sequenceLengths) {
            slots.append(contentsOf: repeatElement(slot, count: length))
        }
        tokenSlots = slots
        ranks = batch.slotRanks.map { min($0, inputs.workload.dims.maxRank) }
        scalings = batch.slotScalings
    }

    /// `u_d`: the dtype's unit roundoff.
    static var unitRoundoff: Double {
        switch E.dtype {
        case .bf16: return 0x1p-8
        case .fp16: return 0x1p-11
        case .fp32: return 0
        }
    }

    /// `η_d`: half the dtype's smallest subnormal.
    static var underflow: Double {
        switch E.dtype {
        case .bf16: return 0x1p-134
        case .fp16: return 0x1p-25
        case .fp32: return 0x1p-150
        }
    }

    /// Valid output columns of a token row (see the type's note).
    func validColumns(row: Int) -> Int {
        if case .sgemmLoRAA(let stack) = inputs.workload.kernel { return stack * ranks[tokenSlots[row]] }
        return inputs.outputWidth
    }

    /// The reference values of one token row into `values` (`outputWidth`
    /// long; NaN for never-written shrink cells) and, when `magnitudes` is
    /// given, `|scaling|·Σ|x|·|w|` per cell. Also returns the row's `n`.
    // Specialized per dtype here because a debug build (no whole-module
    // optimization) cannot specialize across files: unspecialized, every
    // element read went through generic value witnesses (demo 08's headless
    // replay in a debug build: 4.0 s unspecialized, 2.1 s specialized).
    @_specialize(where E == BFloat16)
    @_specialize(where E == Float16)
    @_specialize(where E == Float)
    func row(_ row: Int, values: UnsafeMutablePointer<Double>, magnitudes: UnsafeMutablePointer<Double>?) -> Int {
        let width = inputs.outputWidth
        let slot = tokenSlots[row]
        let r = ranks[slot]
        let x = inputs.x.pointer + row * inputs.xRowStride
        switch inputs.workload.kernel {
        case .sgemmLoRAA:
            let k = inputs.workload.inputWidth
            let columns = validColumns(row: row)
            for c in 0..<width { values[c] = .nan; magnitudes?[c] = 0 }
            guard columns > 0, let w = inputs.weights[slot] else { return k }
            // Sixteen columns at a time, down K: one vector of a panel row per
            // step (as the expands below), not K strided scalar reads per column.
            let slice = inputs.layouts[slot][0]
            let weights = UnsafePointer(w.pointer + slice.base)
            let xs = (0..<k).map { Double(x[$0].widened) }
            var c = 0
            while c < columns {
                var s = Accumulator16(), m = Accumulator16()
                let panel = c / WeightPanels.columnsPerPanel, vector = c % WeightPanels.columnsPerPanel / 16
                for kk in 0..<k {
                    let wv = slice.panels.vector(weights, panel: panel, k: kk, vector: vector)
                    s.add(xs[kk], wv)
                    if magnitudes != nil { m.add(Swift.abs(xs[kk]), abs(wv)) }
                }
                for lane in 0..<min(16, columns - c) {
                    values[c + lane] = s[lane]
                    magnitudes?[c + lane] = m[lane]
                }
                c += 16
            }
            return k
        case .sgemmLoRAB, .qkvLoRAB, .gateUpLoRAB:
            let base = inputs.base.pointer + row * width
            for c in 0..<width { values[c] = Double(base[c].widened); magnitudes?[c] = 0 }
            guard r > 0, let w = inputs.weights[slot] else { return r }
            let scaling = Double(scalings[slot])
            for (slice, layout) in inputs.layouts[slot].enumerated() {
                let panels = layout.panels
                var c = 0
                while c < panels.columns {
                    var s = Accumulator16(), m = Accumulator16()
                    for kk in 0..<r {
                        let xv = Double(x[slice * r + kk].widened)
                        // Columns c ..< c + 16: vector v of panel p's row kk.
                        let wv = panels.vector(UnsafePointer(w.pointer + layout.base), panel: c / WeightPanels.columnsPerPanel,
                                               k: kk, vector: c % WeightPanels.columnsPerPanel / 16)
                        s.add(xv, wv)
                        if magnitudes != nil { m.add(abs(xv), abs(wv)) }
                    }
                    for lane in 0..<min(16, panels.columns - c) {
                        let column = layout.firstColumn + c + lane
                        values[column] = scaling * s[lane] + values[column]
                        magnitudes?[column] = abs(scaling) * m[lane]
                    }
                    c += 16
                }
            }
            return r
        }
    }

    /// The tolerance of one valid cell (see the type's note).
    static func tolerance(reference: Double, base: Double, magnitude: Double, length n: Int) -> Double {
        let u = 0x1p-24
        let nu = Double(n) * u
        let gamma = nu / (1 - nu)
        let a = reference - base
        return 2 * (unitRoundoff + u) * (abs(a) + abs(reference)) + gamma * magnitude + 4 * underflow
    }
}

/// Sixteen fp64 lanes accumulating `x · w` for one 16-wide column vector.
struct Accumulator16 {
    var lo = SIMD8<Double>(), hi = SIMD8<Double>()

    @inline(__always)
    mutating func add(_ x: Double, _ w: SIMD16<Float>) {
        var wl = SIMD8<Double>(), wh = SIMD8<Double>()
        for i in 0..<8 { wl[i] = Double(w[i]); wh[i] = Double(w[i + 8]) }
        lo = lo.addingProduct(x, wl)
        hi = hi.addingProduct(x, wh)
    }

    subscript(lane: Int) -> Double { lane < 8 ? lo[lane] : hi[lane - 8] }
}

@inline(__always)
private func abs(_ v: SIMD16<Float>) -> SIMD16<Float> {
    unsafeBitCast(unsafeBitCast(v, to: SIMD16<UInt32>.self) & 0x7FFF_FFFF, to: SIMD16<Float>.self)
}
