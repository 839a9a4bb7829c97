/// The four LoRA'd projection groups of a decoder layer, as the kernels
/// launch them (docs/layer.md): each is one shrink and one expand.
///
/// | module    | projections          | shrink                    | expand            |
/// |-----------|----------------------|---------------------------|-------------------|
/// | `qkv`     | q, k, v              | stack 3, K = hidden       | `qkv_lora_b`      |
/// | `o`       | o                    | stack 1, K = q width      | `sgemm_lora_b`, N = hidden |
/// | `gate_up` | gate, up             | stack 2, K = hidden       | `gate_up_lora_b`  |
/// | `down`    | down                 | stack 1, K = ffn          | `sgemm_lora_b`, N = hidden |
public enum LayerModule: String, CaseIterable, Hashable, Sendable {
    case qkv, o, gateUp = "gate_up", down

    /// The Hugging Face projection names the group stacks, in slice order.
    public var projections: [String] {
        switch self {
        case .qkv: return ["q_proj", "k_proj", "v_proj"]
        case .o: return ["o_proj"]
        case .gateUp: return ["gate_proj", "up_proj"]
        case .down: return ["down_proj"]
        }
    }

    /// The module's shrink or expand kernel.
    public func kernel(shrink: Bool) -> Kernel {
        switch (self, shrink) {
        case (_, true): return .sgemmLoRAA(stack: projections.count)
        case (.qkv, false): return .qkvLoRAB
        case (.gateUp, false): return .gateUpLoRAB
        case (.o, false), (.down, false): return .sgemmLoRAB
        }
    }

    /// The dims the module's launch sees: the shrink's `K` is the
    /// projection's input width (q width for `o`, ffn for `down`), and the
    /// plain expand's `N` is the hidden size its projection writes.
    public func launchDims(_ model: ModelDims, shrink: Bool) -> ModelDims {
        var d = model
        switch (self, shrink) {
        case (.o, true): d.hidden = model.q
        case (.down, true): d.hidden = model.ffn
        case (.o, false), (.down, false): d.out = model.hidden
        default: break
        }
        return d
    }

    /// The module a kernel belongs to when only one does (`qkv`, `gate_up`);
    /// `nil` for the stack-1 shrink and `sgemm_lora_b`, which `o` and `down` share.
    public static func implied(by kernel: Kernel) -> LayerModule? {
        switch kernel {
        case .qkvLoRAB, .sgemmLoRAA(stack: 3): return .qkv
        case .gateUpLoRAB, .sgemmLoRAA(stack: 2): return .gateUp
        default: return nil
        }
    }

    /// The launch's name in the layer table: `qkv shrink`, `down expand`.
    public func launchName(shrink: Bool) -> String { "\(rawValue) \(shrink ? "shrink" : "expand")" }

    /// The eight launches of a decoder layer in execution order: each module's shrink, then its expand.
    public static let layerLaunches: [(module: LayerModule, shrink: Bool)] =
        allCases.flatMap { [($0, true), ($0, false)] }
}
