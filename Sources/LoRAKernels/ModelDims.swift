/// The model's dimensions that size the LoRA kernels.
///
/// Defaults describe a 7–8B model (Llama-3-8B-like).
public struct ModelDims: Hashable, Sendable {
    /// `K` of the shrink: the hidden size.
    public var hidden: Int
    /// `N` of `sgemm_lora_b`.
    public var out: Int
    /// `Nq` of `qkv_lora_b`.
    public var q: Int
    /// `Nkv` of `qkv_lora_b`.
    public var kv: Int
    /// `Nout` of `gate_up_lora_b` (the FFN intermediate size).
    public var ffn: Int
    /// `R`: the largest rank in the adapter pool.
    public var maxRank: Int

    /// Limits the command language enforces on every dimension.
    public static let dimensionLimit = 1...65_536
    /// Limits on `R`.
    public static let rankLimit = 1...1024

    public init(hidden: Int = 4096, out: Int = 4096, q: Int = 4096, kv: Int = 1024, ffn: Int = 14336, maxRank: Int = 64) {
        self.hidden = hidden
        self.out = out
        self.q = q
        self.kv = kv
        self.ffn = ffn
        self.maxRank = maxRank
    }
}
