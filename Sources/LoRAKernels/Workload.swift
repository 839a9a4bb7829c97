/// Everything one kernel launch needs: the batch, the model, the dtype, the
/// kernel and the seed its inputs come from.
public struct Workload: Hashable, Sendable {
    public var batch: Batch
    public var dims: ModelDims
    public var dtype: DType
    public var kernel: Kernel
    /// Seeds x, the A/B weights and the base output, so a batch is reproducible.
    public var seed: UInt64
    /// The decoder-layer module this launch belongs to (`launch down shrink`), or
    /// `nil` for a bare kernel that reads `dims` as given. It sizes the launch
    /// (`launchDims`): the `o` shrink reads `K` = q width, the `down` shrink `K` = ffn.
    public var module: LayerModule?
    /// Weights read from adapter files, by slot; every other slot's weights are seeded.
    public var slotWeights: [Int: SlotWeights] = [:]

    public init(batch: Batch = Batch(), dims: ModelDims = ModelDims(), dtype: DType = .bf16,
                kernel: Kernel = .sgemmLoRAB, seed: UInt64 = 42) {
        self.batch = batch
        self.dims = dims
        self.dtype = dtype
        self.kernel = kernel
        self.seed = seed
    }

    /// The dims the kernel is sized by: `dims` as the module's launch sees them.
    public var launchDims: ModelDims { module.map { $0.launchDims(dims, shrink: kernel.isShrink) } ?? dims }

    /// `K`: the reduction length of the kernel's x rows (before rank clamping).
    public var inputWidth: Int { kernel.inputWidth(launchDims) }

    /// Columns of the output tensor.
    public var outputWidth: Int { kernel.outputSlices(launchDims).last?.upperBound ?? 0 }

    /// Rows of each slot's weight matrix (`N` of W): the output's columns.
    public var weightRows: Int { outputWidth }

    /// Columns of each slot's weight matrix (`K` of W).
    public var weightColumns: Int { kernel.weightColumns(launchDims) }

    /// Bytes a `KernelRunner.run` of the default strategies allocates for its
    /// tensors: what the memory cap is checked against (`tensorBytes(strategies:)`).
    public var tensorBytes: Int { tensorBytes(strategies: Strategy.defaults.count) }

    /// Bytes a `KernelRunner.run` allocates for its tensors, from the sizes
    /// `KernelInputs` allocates (one place): x with its row padding, the base
    /// output, every slot's weight panels padded to 16 columns, one output per
    /// strategy, and the fp64 reference `(S, outputWidth)` that `--dump` keeps
    /// (counted always, so a run that is dumped fits too). The plans' segment
    /// arrays and per-thread row buffers are not counted (kilobytes).
    public func tensorBytes(strategies: Int) -> Int {
        func bytes<E: KernelElement>(_: E.Type) -> Int {
            let sizes = KernelInputs<E>.sizes(self)
            let elements = sizes.x + sizes.base + sizes.weights + max(1, strategies) * sizes.base
            return elements * MemoryLayout<E>.stride + sizes.base * MemoryLayout<Double>.stride
        }
        switch dtype {
        case .bf16: return bytes(BFloat16.self)
        case .fp16: return bytes(Float16.self)
        case .fp32: return bytes(Float.self)
        }
    }

    /// The most memory a workload's tensors may take (2 GiB).
    public static let memoryCap = 2 << 30
}

/// One slot's weights from an adapter file, in the kernel's canonical layout
/// (docs/kernels.md §1): the shrink's `A` as `stack·r` rows of `K`, the
/// expand's `B` as `N` rows of `r`; row-major.
public struct SlotWeights: Hashable, Sendable {
    public var rows: Int
    public var columns: Int
    public var values: [Float]
    /// Where they come from (`examples/adapters/tiny-sql-bf16, layer 0, qkv`).
    public var source: String

    public init(rows: Int, columns: Int, values: [Float], source: String) {
        precondition(values.count == rows * columns, "SlotWeights: \(values.count) values for \(rows)×\(columns)")
        self.rows = rows
        self.columns = columns
        self.values = values
        self.source = source
    }

    /// `W[n][k]`, 0 outside the stored matrix.
    @inline(__always)
    func value(_ n: Int, _ k: Int) -> Float {
        n < rows && k < columns ? values[n * columns + k] : 0
    }

    // Hashing every value would cost a pass over up to millions of floats per
    // workload hash; equality still compares them.
    public func hash(into h: inout Hasher) {
        h.combine(rows)
        h.combine(columns)
        h.combine(source)
    }
}
