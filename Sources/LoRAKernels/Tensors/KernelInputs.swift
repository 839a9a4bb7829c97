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
/// The shrink keeps `A` in its canonical layout (each row `K`-contiguous, for
/// its dot-product microkernel); the expands store `Bᵀ` (K-major, for
/// broadcast-FMA). `weight(slot:n:k:)` reads the canonical layout for the dump.
final class KernelInputs<E: KernelElement>: @unchecked Sendable {
    let workload: Workload
    /// `S`.
    let rows: Int
    let inputWidth: Int
    let outputWidth: Int
    /// x, `S` rows of `xRowStride` (the canonical `inputWidth` plus zero padding).
    let x: TensorBuffer<E>
    /// Elements between x rows: `inputWidth + rowPadding`.
    let xRowStride: Int
    let base: TensorBuffer<E>
    /// Per slot, `nil` for rank 0.
    /// Shrink: `A`, `N_eff` rows of `weightStride` (zero rows pad it to a multiple of 16).
    /// Expands: `r × weightStride`, `Bᵀ`: row `k` holds `B[n][k]` for every `n`.
    let weights: [TensorBuffer<E>?]
    /// Elements between weight rows: `K + rowPadding` (shrink) or `N + rowPadding`.
    let weightStride: Int

    /// Zero elements after every row (at least 16 and 64 bytes): rows of 4096
    /// elements would otherwise all start on the same L1 set (4 KB aliasing) and
    /// evict each other, and a 16-wide load at any valid column stays in its row.
    static var rowPadding: Int { max(16, 64 / MemoryLayout<E>.stride) }

    init(workload: Workload, threads: Int = ParallelLoop.coreCount) {
        self.workload = workload
        let values = SeededValues(seed: workload.seed)
        rows = workload.batch.totalTokens
        inputWidth = workload.inputWidth
        outputWidth = workload.outputWidth
        xRowStride = inputWidth + Self.rowPadding
        weightStride = (workload.kernel.isShrink ? workload.dims.hidden : outputWidth) + Self.rowPadding
        let ranks = workload.batch.slotRanks
        let kernel = workload.kernel
        let dims = workload.dims

        let x = TensorBuffer<E>(count: rows * xRowStride, repeating: E(rounding: 0))
        let inputWidth = self.inputWidth, xRowStride = self.xRowStride
        ParallelLoop.run(count: rows, chunk: max(1, (1 << 16) / max(1, inputWidth)), threads: threads) { range in
            for row in range {
                for c in 0..<inputWidth { x[row * xRowStride + c] = E(rounding: values.uniform(.x, row * inputWidth + c)) }
            }
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
                let scale = 1 / Float(k).squareRoot()
                let w = TensorBuffer<E>(count: cdiv(nEff, 16) * 16 * stride, repeating: E(rounding: 0))
                ParallelLoop.run(count: nEff, chunk: 4, threads: threads) { range in
                    for n in range {
                        let canonicalRow = (slot * weightRows + n) * weightColumns
                        for kk in 0..<k {
                            w[n * stride + kk] = E(rounding: values.uniform(.weights, canonicalRow + kk) * scale)
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

    /// `x[row][column]` in the canonical layout.
    @inline(__always)
    func input(row: Int, column: Int) -> E { x[row * xRowStride + column] }

    /// `W[slot][n][k]` in the canonical layout (0 where the adapter has no weight).
    @inline(__always)
    func weight(slot: Int, n: Int, k: Int) -> E {
        guard let w = weights[slot] else { return E(rounding: 0) }
        switch workload.kernel {
        case .sgemmLoRAA:
            guard n < w.count / weightStride else { return E(rounding: 0) }
            return w[n * weightStride + k]
        default:
            let r = w.count / weightStride
            guard k < r, n < outputWidth else { return E(rounding: 0) }
            return w[k * weightStride + n]
        }
    }
}
