import Foundation
import LoRAKernels

/// The decoder dimensions of a Hugging Face model, read from its `config.json`.
///
///     let config = try ModelConfig.load(path: "examples/models/qwen2.5-7b-instruct")
///     config.q    // 3584 = 28 heads × 128
///     config.kv   // 512  = 4 kv heads × 128
///     let dims = config.dims(maxRank: 64)
///
/// Fields and their sources:
/// - `hidden`: `hidden_size`; `heads`: `num_attention_heads`;
///   `intermediate`: `intermediate_size` — required.
/// - `kvHeads`: `num_key_value_heads`; when absent it is `heads` (no
///   grouped-query attention), as in transformers' configs.
/// - `headDim`: `head_dim`; when absent or null it is `hidden / heads`, refused
///   when that does not divide.
/// - `layers`: `num_hidden_layers`; `torchDtype`: `dtype` (newer
///   transformers) or `torch_dtype` — optional.
///
/// Multimodal configs (gemma3, llava, qwen2_vl, mllama) nest the decoder under
/// `text_config`: a field the top level lacks is read from there, and the
/// error for a missing one names both places. `modelType` keeps the outer
/// `model_type` (what the user would recognise); `textModelType` records the
/// nested one.
///
/// transformers fills fields a saved config omits from its config class's
/// defaults, and some published configs rely on that: Google's
/// gemma-3-4b-it `text_config` has no head counts. For `gemma3_text` only,
/// the class defaults (8 heads, 4 kv heads, head_dim 256, from
/// `Gemma3TextConfig.__init__`) fill such gaps; `notes` says when.
public struct ModelConfig: Hashable, Sendable {
    /// `_name_or_path`'s last component when present, else the folder's name.
    public var name: String
    /// The outer `model_type` ("qwen2", "llama", "gemma3"), empty when absent.
    public var modelType: String
    /// `text_config.model_type` of a multimodal config ("gemma3_text").
    public var textModelType: String?
    public var hidden: Int
    public var heads: Int
    public var kvHeads: Int
    public var headDim: Int
    public var intermediate: Int
    public var layers: Int?
    public var torchDtype: String?
    /// Values that were not in the file but derived or defaulted, one line each.
    public var notes: [String]

    public init(
        name: String, modelType: String, textModelType: String? = nil,
        hidden: Int, heads: Int, kvHeads: Int, headDim: Int, intermediate: Int,
        layers: Int? = nil, torchDtype: String? = nil, notes: [String] = []
    ) {
        self.name = name
        self.modelType = modelType
        self.textModelType = textModelType
        self.hidden = hidden
        self.heads = heads
        self.kvHeads = kvHeads
        self.headDim = headDim
        self.intermediate = intermediate
        self.layers = layers
        self.torchDtype = torchDtype
        self.notes = notes
    }

    /// Width of the q projection's output: `heads × headDim`.
    public var q: Int { heads * headDim }
    /// Width of the k and v projections' outputs: `kvHeads × headDim`.
    public var kv: Int { kvHeads * headDim }

    /// The kernel dimensions of this model with a pool rank of `maxRank`
    /// (`out` is `hidden`: o_proj and down_proj write the hidden width).
    public func dims(maxRank: Int) -> ModelDims {
        ModelDims(hidden: hidden, out: hidden, q: q, kv: kv, ffn: intermediate, maxRank: maxRank)
    }

    /// The kernel dtype for `torchDtype` (bfloat16, float16, float32), or nil.
    public var dtype: DType? {
        switch torchDtype {
        case "bfloat16": return .bf16
        case "float16": return .fp16
        case "float32": return .fp32
        default: return nil
        }
    }
}
