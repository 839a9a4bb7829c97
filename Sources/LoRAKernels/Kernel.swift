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

    /// The kernel's description (`KernelShapes/`), one file per kernel.
    var shape: any KernelShape.Type {
        switch self {
        case .sgemmLoRAA: return SGemmLoRAAShape.self
        case .sgemmLoRAB: return SGemmLoRABShape.self
        case .qkvLoRAB: return QKVLoRABShape.self
        case .gateUpLoRAB: return GateUpLoRABShape.self
        }
    }

    /// Every kernel with its default stack, in the order the language lists them.
    static let all: [Kernel] = [.sgemmLoRAA(stack: 1), .sgemmLoRAB, .qkvLoRAB, .gateUpLoRAB]

    /// Every kernel, the shrink stacking `stack` projections (1…3), in the language's order.
    public static func all(stack: Int) -> [Kernel] {
        all.map { $0.stack == stack || !$0.isShrink ? $0 : .sgemmLoRAA(stack: stack) }
    }

    /// `stack_num` of the shrink (1, 2 or 3); 1 for the expands.
    public var stack: Int {
        if case .sgemmLoRAA(let stack) = self { return stack }
        return 1
    }

    /// The kernel's name as SGLang and the command language spell it.
    public var name: String { shape.name }

    /// Every kernel name the command language accepts.
    public static let names = all.map(\.name)

    /// The kernel for a name, with `stack` applied to the shrink.
    public init?(name: String, stack: Int = 1) {
        guard let k = Self.all.first(where: { $0.name == name }) else { return nil }
        self = k.isShrink ? .sgemmLoRAA(stack: stack) : k
    }

    /// Whether this is the shrink (no scaling, no add in the epilogue).
    public var isShrink: Bool {
        if case .sgemmLoRAA = self { return true }
        return false
    }

    /// Slices on the grids' axis 1: 1 for the shrink and `sgemm_lora_b`, 3 and 2 for the fused expands.
    public var sliceCount: Int { shape.sliceCount(stack: stack) }

    /// The short name of a slice (`q`, `k`, `v`; `g`, `u`), empty for one-slice kernels.
    public func sliceName(_ slice: Int) -> String {
        let names = shape.sliceNames
        return slice < names.count ? names[slice] : ""
    }

    /// The output columns of each slice (`n_offs`, docs/kernels.md §3): the shrink's
    /// `stack·R` (an adapter of rank `r` uses the first `stack·r`), `N`, q/k/v,
    /// gate/up. Slice `i` reads x columns from `i · r`.
    public func outputSlices(_ dims: ModelDims) -> [Range<Int>] { shape.outputSlices(dims, stack: stack) }

    /// `K`: the width of an x row (before rank clamping).
    public func inputWidth(_ dims: ModelDims) -> Int { shape.inputWidth(dims, stack: stack) }

    /// Columns of each slot's weight matrix (`K` of W): hidden for the shrink, `R` for the expands.
    public func weightColumns(_ dims: ModelDims) -> Int { shape.weightColumns(dims) }

    /// The block sizes SGLang's `triton` backend launches it with (docs/kernels.md §3).
    public var blocks: BlockSizes { shape.blocks }

    /// What one output cell holds, as the dump's manifest states it.
    public var math: String { shape.math }
}

/// `⌈a / b⌉` for non-negative `a` and positive `b`.
@inlinable
public func cdiv(_ a: Int, _ b: Int) -> Int { (a + b - 1) / b }
