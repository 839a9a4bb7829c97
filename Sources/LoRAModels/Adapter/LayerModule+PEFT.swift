import LoRAKernels

/// How PEFT names and sizes the projections of each of a layer's modules
/// (`LayerModule` itself, with the kernels it launches, is LoRAKernels').
extension LayerModule {
    /// The submodule of the decoder layer that holds the projections.
    var parent: String {
        switch self {
        case .qkv, .o: return "self_attn"
        case .gateUp, .down: return "mlp"
        }
    }

    /// `K`: the projections' `in_features`, and what a message calls it.
    func inFeatures(_ dims: ModelDims) -> (width: Int, name: String) {
        switch self {
        case .qkv, .gateUp: return (dims.hidden, "hidden")
        case .o: return (dims.q, "q width (heads × head_dim)")
        case .down: return (dims.ffn, "ffn (intermediate_size)")
        }
    }

    /// Each projection's `out_features`, in slice order, and what a message calls it.
    func outFeatures(_ dims: ModelDims) -> [(width: Int, name: String)] {
        switch self {
        case .qkv:
            return [(dims.q, "q width (heads × head_dim)"), (dims.kv, "kv width (kv heads × head_dim)"),
                    (dims.kv, "kv width (kv heads × head_dim)")]
        case .o, .down: return [(dims.hidden, "hidden")]
        case .gateUp: return [(dims.ffn, "ffn (intermediate_size)"), (dims.ffn, "ffn (intermediate_size)")]
        }
    }

    /// The group a PEFT projection name belongs to.
    static func containing(_ projection: String) -> LayerModule? {
        allCases.first { $0.projections.contains(projection) }
    }
}

/// One adapter's weights for one kernel launch, in the kernel's canonical layout.
///
/// Shrink (`sgemm_lora_a`): `rows` = stack · `rank`, `columns` = `K`; rows
/// `p·rank ..< (p+1)·rank` hold projection `p`'s `lora_A` rows, zero where
/// that projection's rank is smaller or it is not targeted. Expand: `rows` =
/// `N`, the sum of the group's output widths, `columns` = `rank`; projection
/// `p`'s row block holds its `lora_B`, zero-padded to `rank` columns.
public struct KernelAdapterWeights: Hashable, Sendable {
    /// The slot's rank for this launch: the largest rank of the group's
    /// targeted projections (0 when none is targeted).
    public var rank: Int
    /// The scaling of the group's first targeted projection (0 when none).
    public var scaling: Double
    public var rows: Int
    public var columns: Int
    /// Row-major `rows × columns`; empty when `rank` is 0.
    public var values: [Float]
    /// What was padded, zeroed, folded or ignored, one sentence each.
    public var notes: [String]
    /// "folder:layer L:module".
    public var source: String

    public init(rank: Int, scaling: Double, rows: Int, columns: Int, values: [Float], notes: [String], source: String) {
        self.rank = rank
        self.scaling = scaling
        self.rows = rows
        self.columns = columns
        self.values = values
        self.notes = notes
        self.source = source
    }
}
