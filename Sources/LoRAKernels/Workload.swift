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
    public var inputWidth: Int {
        switch kernel {
        case .sgemmLoRAA: return dims.hidden
        case .sgemmLoRAB: return dims.maxRank
        case .qkvLoRAB: return 3 * dims.maxRank
        case .gateUpLoRAB: return 2 * dims.maxRank
        }
    }

    /// Columns of the output tensor.
    public var outputWidth: Int {
        switch kernel {
        case .sgemmLoRAA(let stack): return stack * dims.maxRank
        case .sgemmLoRAB: return dims.out
        case .qkvLoRAB: return dims.q + 2 * dims.kv
        case .gateUpLoRAB: return 2 * dims.ffn
        }
    }

    /// Rows of each slot's weight matrix (`N` of W).
    public var weightRows: Int {
        switch kernel {
        case .sgemmLoRAA(let stack): return stack * dims.maxRank
        default: return outputWidth
        }
    }

    /// Columns of each slot's weight matrix (`K` of W).
    public var weightColumns: Int {
        kernel.isShrink ? dims.hidden : dims.maxRank
    }

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
