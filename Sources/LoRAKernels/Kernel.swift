/// One of the four multi-LoRA segmented GEMM kernels (docs/kernels.md §3).
public enum Kernel: Hashable, Sendable {
    /// The shrink `x · Aᵀ`; `stack` is 1 (plain), 2 (gate_up) or 3 (qkv).
    case sgemmLoRAA(stack: Int)
    /// The expand `out += scaling · x · Bᵀ` over `N = dims.out` columns.
    case sgemmLoRAB
    /// The fused q/k/v expand: three slices, widths `Nq`, `Nkv`, `Nkv`.
    case qkvLoRAB
    /// The fused gate/up expand: two slices of width `Nout`.
    case gateUpLoRAB

    /// The kernel's name as SGLang and the command language spell it.
    public var name: String {
        switch self {
        case .sgemmLoRAA: return "sgemm_lora_a"
        case .sgemmLoRAB: return "sgemm_lora_b"
        case .qkvLoRAB: return "qkv_lora_b"
        case .gateUpLoRAB: return "gate_up_lora_b"
        }
    }

    /// Every kernel name the command language accepts.
    public static let names = ["sgemm_lora_a", "sgemm_lora_b", "qkv_lora_b", "gate_up_lora_b"]

    /// The kernel for a name, with `stack` applied to the shrink.
    public init?(name: String, stack: Int = 1) {
        switch name {
        case "sgemm_lora_a": self = .sgemmLoRAA(stack: stack)
        case "sgemm_lora_b": self = .sgemmLoRAB
        case "qkv_lora_b": self = .qkvLoRAB
        case "gate_up_lora_b": self = .gateUpLoRAB
        default: return nil
        }
    }

    /// Whether this is the shrink (no scaling, no add in the epilogue).
    public var isShrink: Bool {
        if case .sgemmLoRAA = self { return true }
        return false
    }

    /// `stack_num` for the shrink; the number of slices for the expands.
    public var sliceCount: Int {
        switch self {
        case .sgemmLoRAA: return 1
        case .sgemmLoRAB: return 1
        case .qkvLoRAB: return 3
        case .gateUpLoRAB: return 2
        }
    }

    /// The output columns of each slice (`n_offs`, docs/kernels.md §3): the shrink's
    /// `stack·R` (an adapter of rank `r` uses the first `stack·r`), `N`, q/k/v,
    /// gate/up. Slice `i` reads x columns from `i · r`.
    public func outputSlices(_ dims: ModelDims) -> [Range<Int>] {
        switch self {
        case .sgemmLoRAA(let stack): return [0 ..< stack * dims.maxRank]
        case .sgemmLoRAB: return [0 ..< dims.out]
        case .qkvLoRAB: return [0 ..< dims.q, dims.q ..< dims.q + dims.kv, dims.q + dims.kv ..< dims.q + 2 * dims.kv]
        case .gateUpLoRAB: return [0 ..< dims.ffn, dims.ffn ..< 2 * dims.ffn]
        }
    }

    /// Block sizes, one table for all four kernels (docs/kernels.md §3).
    public var blocks: BlockSizes {
        switch self {
        case .sgemmLoRAA: return BlockSizes(s: 16, n: 16, k: 256)
        case .sgemmLoRAB: return BlockSizes(s: 16, n: 256, k: 16)
        case .qkvLoRAB: return BlockSizes(s: 16, n: 64, k: 16)
        case .gateUpLoRAB: return BlockSizes(s: 16, n: 64, k: 16)
        }
    }
}

/// The tile shape of one program: `BLOCK_S × BLOCK_N`, stepping K by `BLOCK_K`.
public struct BlockSizes: Hashable, Sendable {
    public var s: Int
    public var n: Int
    public var k: Int
}

/// `⌈a / b⌉` for non-negative `a` and positive `b`.
@inlinable
public func cdiv(_ a: Int, _ b: Int) -> Int { (a + b - 1) / b }
