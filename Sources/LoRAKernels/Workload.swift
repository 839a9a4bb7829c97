/// Everything one kernel launch needs: the batch, the model, the dtype, the
/// kernel and the seed its inputs come from.
public struct Workload: Hashable, Sendable {
    public var batch: Batch
    public var dims: ModelDims
    public var dtype: DType
    public var kernel: Kernel
    /// Seeds x, the A/B weights and the base output, so a batch is reproducible.
    public var seed: UInt64

    public init(batch: Batch = Batch(), dims: ModelDims = ModelDims(), dtype: DType = .bf16,
                kernel: Kernel = .sgemmLoRAB, seed: UInt64 = 42) {
        self.batch = batch
        self.dims = dims
        self.dtype = dtype
        self.kernel = kernel
        self.seed = seed
    }

    /// `K`: the reduction length of the kernel's x rows (before rank clamping).
    public var inputWidth: Int { kernel.inputWidth(dims) }

    /// Columns of the output tensor.
    public var outputWidth: Int { kernel.outputSlices(dims).last?.upperBound ?? 0 }

    /// Rows of each slot's weight matrix (`N` of W): the output's columns.
    public var weightRows: Int { outputWidth }

    /// Columns of each slot's weight matrix (`K` of W).
    public var weightColumns: Int { kernel.weightColumns(dims) }

    /// Bytes of every tensor the kernels read and write, in the dtype, plus
    /// the fp64 reference: what the memory cap is checked against.
    public var tensorBytes: Int {
        let s = batch.totalTokens
        let elements = s * inputWidth + batch.slotCount * weightRows * weightColumns + 3 * s * outputWidth
        return elements * dtype.byteCount + s * outputWidth * 8
    }

    /// The most memory a workload's tensors may take (2 GiB).
    public static let memoryCap = 2 << 30
}
