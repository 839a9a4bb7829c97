/// The seeded tensors one workload runs on, rounded to its dtype.
///
/// Values (canonical layouts, docs/kernels.md §1):
/// - `x (S, inputWidth)`: uniform in `[-1, 1)`;
/// - weights of a slot whose adapter was read from a file
///   (`Workload.slotWeights`): the file's values, rounded to the dtype;
/// - weights of every other slot with rank `r > 0`: uniform in `[-1, 1)` divided by
///   `√K_eff` (`K` for the shrink's A, `r` for the expands' B), so outputs stay
///   near unit size; only the rows (A: `stack·r`) or columns (B: `r`) an
///   adapter of rank `r` uses are generated, the rest of the canonical tensor
///   reads as 0;
/// - base output `(S, outputWidth)`: uniform in `[-1, 1)` for the expands. The
///   shrink has no base: its output starts as NaN everywhere, so cells it never
///   writes (`column ≥ N_eff`, rank-0 rows) stay visibly unwritten.
///
/// Weights are stored as each kernel reads them (`WeightPanels`): `Aᵀ` for
/// the shrink, `Bᵀ` for the expands, slice by slice, in panels of 64 output
/// columns. `weight(slot:n:k:)` reads them back in the canonical layout.
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
    /// Per slot, `nil` for rank 0: the slices of `layouts[slot]` back to back.
    let weights: [TensorBuffer<E>?]
    /// Per slot, where each slice's panels lie in `weights[slot]` (empty for rank 0):
    /// the shrink has one slice of `N_eff` columns and depth `K`; the expands one
    /// per output slice (`N`; q, k, v; gate, up) of depth `K_eff`.
    let layouts: [[WeightSlice]]

    /// One slice of a slot's weights: output columns `firstColumn ..< firstColumn + panels.columns`.
    struct WeightSlice: Hashable, Sendable {
        let firstColumn: Int
        let panels: WeightPanels
        /// First element of the slice in the slot's buffer.
        let base: Int
    }

    /// Zero elements after every x row (at least 16 and 64 bytes): rows of 4096
    /// elements would otherwise all start on the same L1 set (4 KB aliasing) and
    /// evict each other, and a 16-wide load at any valid column stays in its row.
    static var rowPadding: Int { max(16, 64 / MemoryLayout<E>.stride) }

    /// - Parameters:
    ///   - isCancelled: asked between chunks of every tensor; once it answers
    ///     true the generation stops and what it allocated is freed.
    /// - Throws: `KernelRunCancelled` when `isCancelled` answered true.
    ///   - placement: where every tensor lies: the heap, or between guard pages (tests: `MemoryPlacement`).
    init(workload: Workload, threads: Int = ParallelLoop.coreCount, placement: MemoryPlacement = .heap,
         isCancelled: @Sendable () -> Bool = { false }) throws {
        func check(_ completed: Bool) throws { if !completed { throw KernelRunCancelled() } }
        self.workload = workload
        let values = SeededValues(seed: workload.seed)
        rows = workload.batch.totalTokens
        inputWidth = workload.inputWidth
        outputWidth = workload.outputWidth
        xRowStride = inputWidth + Self.rowPadding
        let ranks = workload.batch.slotRanks
        let kernel = workload.kernel

        let x = TensorBuffer<E>(count: rows * xRowStride, repeating: E(rounding: 0), placement: placement)  // = Sizes.x
        let inputWidth = self.inputWidth, xRowStride = self.xRowStride
        try check(ParallelLoop.run(count: rows, chunk: max(1, (1 << 16) / max(1, inputWidth)), threads: threads,
                                   isCancelled: isCancelled) { range in
            for row in range {
                for c in 0..<inputWidth { x[row * xRowStride + c] = E(rounding: values.uniform(.x, row * inputWidth + c)) }
            }
        })
        self.x = x

        let base: TensorBuffer<E>
        if kernel.isShrink {
            base = TensorBuffer(count: rows * outputWidth, repeating: E(rounding: .nan), placement: placement)
        } else {
            base = TensorBuffer(count: rows * outputWidth, repeating: E(rounding: 0), placement: placement)
            try check(ParallelLoop.run(count: base.count, chunk: 1 << 16, threads: threads, isCancelled: isCancelled) { range in
                for i in range { base[i] = E(rounding: values.uniform(.base, i)) }
            })
        }
        self.base = base

        let weightRows = workload.weightRows, weightColumns = workload.weightColumns
        var weights: [TensorBuffer<E>?] = [], layouts: [[WeightSlice]] = []
        for (slot, rank) in ranks.enumerated() {
            if isCancelled() { throw KernelRunCancelled() }
            guard rank > 0 else { weights.append(nil); layouts.append([]); continue }
            // The canonical W[slot][n][k] (docs/kernels.md §1), scaled so outputs stay near unit size.
            let (depth, slices) = Self.weightShape(workload, rank: rank)
            let scale = 1 / Float(depth).squareRoot()
            let real = workload.slotWeights[slot]
            @Sendable @inline(__always) func canonical(_ n: Int, _ k: Int) -> E {
                // An adapter file's weights are used as they are: the scale only keeps seeded ones near unit size.
                if let real { return E(rounding: real.value(n, k)) }
                return E(rounding: values.uniform(.weights, (slot * weightRows + n) * weightColumns + k) * scale)
            }
            var slotLayout: [WeightSlice] = [], count = 0
            for columns in slices {
                let panels = Self.panels(columns: columns, depth: depth)
                slotLayout.append(WeightSlice(firstColumn: columns.lowerBound, panels: panels, base: count))
                count += panels.count
            }
            let w = TensorBuffer<E>(count: count, repeating: E(rounding: 0), placement: placement)
            for slice in slotLayout {
                let panels = slice.panels
                try check(ParallelLoop.run(count: panels.columns, chunk: 16, threads: threads, isCancelled: isCancelled) { range in
                    for c in range {
                        for k in 0..<depth { w[slice.base + panels.index(column: c, k: k)] = canonical(slice.firstColumn + c, k) }
                    }
                })
            }
            weights.append(w)
            layouts.append(slotLayout)
        }
        self.weights = weights
        self.layouts = layouts
    }

    // MARK: Sizes: what `init` allocates, the one place `Workload.tensorBytes` reads them from.

    /// A slot's weight matrix as stored: the reduction depth (`K` for the shrink, `K_eff`
    /// for the expands) and the output columns of each slice (the shrink: `stack·r`).
    static func weightShape(_ workload: Workload, rank: Int) -> (depth: Int, slices: [Range<Int>]) {
        let dims = workload.launchDims
        let r = min(rank, dims.maxRank)
        if case .sgemmLoRAA(let stack) = workload.kernel { return (dims.hidden, [0 ..< stack * r]) }
        return (r, workload.kernel.outputSlices(dims))
    }

    static func panels(columns: Range<Int>, depth: Int) -> WeightPanels {
        WeightPanels(columns: columns.count, depth: depth, pairedDepth: E.pairsPanelRows)
    }

    /// Elements `init` allocates for `workload`, padding included.
    struct Sizes: Hashable, Sendable {
        /// x: `S` rows of `inputWidth + rowPadding`.
        var x: Int
        /// The base output, `S × outputWidth` (each strategy's output is a copy).
        var base: Int
        /// Every slot's panels, each slice's columns padded to 16 (bf16: the depth to a whole pair).
        var weights: Int
    }

    static func sizes(_ workload: Workload) -> Sizes {
        let rows = workload.batch.totalTokens
        var sizes = Sizes(x: rows * (workload.inputWidth + rowPadding), base: rows * workload.outputWidth,
                          weights: 0)
        for rank in workload.batch.slotRanks where rank > 0 {
            let (depth, slices) = weightShape(workload, rank: rank)
            sizes.weights += slices.reduce(0) { $0 + panels(columns: $1, depth: depth).count }
        }
        return sizes
    }

    /// `x[row][column]` in the canonical layout.
    @inline(__always)
    func input(row: Int, column: Int) -> E { x[row * xRowStride + column] }

    /// `W[slot][n][k]` in the canonical layout (0 where the adapter has no weight).
    @inline(__always)
    func weight(slot: Int, n: Int, k: Int) -> E {
        guard let w = weights[slot] else { return E(rounding: 0) }
        for slice in layouts[slot] {
            let c = n - slice.firstColumn
            guard c >= 0, c < slice.panels.columns else { continue }
            guard k < slice.panels.depth else { return E(rounding: 0) }
            return w[slice.base + slice.panels.index(column: c, k: k)]
        }
        return E(rounding: 0)
    }
}
