/// `qkv_lora_b`, the fused q/k/v expand: three slices of widths `q`, `kv`, `kv`.
enum QKVLoRABShape: KernelShape {
    static let name = "qkv_lora_b"
    static let sliceNames = ["q", "k", "v"]
    static func outputSlices(_ dims: ModelDims, stack: Int) -> [Range<Int>] {
        [0 ..< dims.q, dims.q ..< dims.q + dims.kv, dims.q + dims.kv ..< dims.q + 2 * dims.kv]
    }
    static let blocks = BlockSizes(m: 16, n: 64, k: 16)
}
