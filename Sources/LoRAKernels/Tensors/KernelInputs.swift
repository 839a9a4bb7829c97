/// The seeded tensors one workload runs on, rounded to its dtype.
///
/// Values (canonical layouts, KERNELS.md §1):
/// - `x (S, inputWidth)`: uniform in `[-1, 1)`;
/// - weights of every slot with rank `r > 0`: uniform in `[-1, 1)` divided by
///   `√K_eff` (`K` for the shrink's A, `r` for the expands' B), so outputs stay
///   near unit size; only the rows (A: `stack·r`) or columns (B: `r`) an
///   adapter of rank `r` uses are generated, the rest of the canonical tensor
///   reads as 0;
/// - base output `(S, outputWidth)`: uniform in `[-1, 1)` for the expands. The
///   shrink has no base: its output starts as NaN everywhere, so cells it never
///   writes (`column ≥ N_eff`, rank-0 rows) stay visibly unwritten.
///
/// Weights are stored pre-laid-out for broadcast-FMA (K-major); the canonical
/// layouts are rebuilt on demand for the dump and the reference.
final class KernelInputs<E: KernelElement>: @unchecked Sendable {
    let workload: Workload
    /// `S`.
    let rows: Int
    let inputWidth: Int
    let outputWidth: Int
    let x: TensorBuffer<E>
    let base: TensorBuffer<E>
    /// Per slot, `nil` for rank 0.
    /// Shrink: column tiles of 16, each `K × 16` (tile-major, zero-padded past `stack·r`).
    /// Expands: `r × weightStride`, `Bᵀ`: row `k` holds `B[n][k]` for every `n`.
    let weights: [TensorBuffer<E>?]
    /// Row length of the expands' `Bᵀ`: `N + 16`, so a 16-wide load starting
    /// at any valid column stays inside the row.
    let weightStride: Int

    init(workload: Workload, threads: Int = ParallelLoop.coreCount) {
        self.workload = workload
        let values = SeededValues(seed: workload.seed)
        rows = workload.batch.totalTokens
        inputWidth = workload.inputWidth
        outputWidth = workload.outputWidth
        weightStride = outputWidth + 16
        let ranks = workload.batch.slotRanks
        let kernel = workload.kernel
        let dims = workload.dims

        let x = TensorBuffer<E>(count: rows * inputWidth, repeating: E(rounding: 0))
        let inputWidth = self.inputWidth
        ParallelLoop.run(count: x.count, chunk: 1 << 16, threads: threads) { range in
            for i in range { x[i] = E(rounding: values.uniform(.x, i)) }
        }
        self.x = x

        let base: TensorBuffer<E>
        if kernel.isShrink {
            base = TensorBuffer(count: rows * outputWidth, repeating: E(rounding: .nan))
        } else {
            base = TensorBuffer(count: rows * outputWidth, repeating: E(rounding: 0))
            ParallelLoop.run(count: base.count, chunk: 1 << 16, threads: threads) { range in
                for i in range { base[i] = E(rounding: values.uniform(.base, i)) }
            }
        }
        self.base = base

        let weightRows = workload.weightRows, weightColumns = workload.weightColumns
        let stride = weightStride
        var weights: [TensorBuffer<E>?] = []
        for (slot, rank) in ranks.enumerated() {
            guard rank > 0 else { weights.append(nil); continue }
            let r = min(rank, dims.maxRank)
            switch kernel {
            case .sgemmLoRAA(let stack):
                let k = dims.hidden
                let nEff = stack * r
                let tiles = cdiv(nEff, 16)
                let scale = 1 / Float(k).squareRoot()
                let w = TensorBuffer<E>(count: tiles * k * 16, repeating: E(rounding: 0))
                ParallelLoop.run(count: nEff, chunk: 4, threads: threads) { range in
                    for n in range {
                        let (tile, lane) = n.quotientAndRemainder(dividingBy: 16)
                        let canonicalRow = (slot * weightRows + n) * weightColumns
                        for kk in 0..<k {
                            w[(tile * k + kk) * 16 + lane] = E(rounding: values.uniform(.weights, canonicalRow + kk) * scale)
                        }
                    }
                }
                weights.append(w)
            case .sgemmLoRAB, .qkvLoRAB, .gateUpLoRAB:
                let scale = 1 / Float(r).squareRoot()
                let w = TensorBuffer<E>(count: r * stride, repeating: E(rounding: 0))
                ParallelLoop.run(count: weightRows, chunk: 256, threads: threads) { range in
                    for n in range {
                        let canonicalRow = (slot * weightRows + n) * weightColumns
                        for kk in 0..<r {
                            w[kk * stride + n] = E(rounding: values.uniform(.weights, canonicalRow + kk) * scale)
                        }
                    }
                }
                weights.append(w)
            }
        }
        _ = inputWidth
        self.weights = weights
    }

    /// `W[slot][n][k]` in the canonical layout (0 where the adapter has no weight).
    @inline(__always)
    func weight(slot: Int, n: Int, k: Int) -> E {
        guard let w = weights[slot] else { return E(rounding: 0) }
        switch workload.kernel {
        case .sgemmLoRAA:
            let kDim = workload.dims.hidden
            let tiles = w.count / (kDim * 16)
            let (tile, lane) = n.quotientAndRemainder(dividingBy: 16)
            guard tile < tiles else { return E(rounding: 0) }
            return w[(tile * kDim + k) * 16 + lane]
        default:
            let r = w.count / weightStride
            guard k < r, n < outputWidth else { return E(rounding: 0) }
            return w[k * weightStride + n]
        }
    }
}
