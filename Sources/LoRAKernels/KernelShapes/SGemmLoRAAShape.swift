/// `sgemm_lora_a`, the shrink: `x · Aᵀ` over `stack·r` columns of `stack·R`
/// (packed: slice q of a rank-r adapter at columns `q·r`), K = hidden.
enum SGemmLoRAAShape: KernelShape {
    static let name = "sgemm_lora_a"
    static func sliceCount(stack: Int) -> Int { 1 }
    static func outputSlices(_ dims: ModelDims, stack: Int) -> [Range<Int>] { [0 ..< stack * dims.maxRank] }
    static func inputWidth(_ dims: ModelDims, stack: Int) -> Int { dims.hidden }
    static func weightColumns(_ dims: ModelDims) -> Int { dims.hidden }
    static let blocks = BlockSizes(m: 16, n: 16, k: 256)
    static let math = "out[t, c] = round(sum_k x[t, k] * A[w, c, k]) for c < stack*rank[w], w the slot of token t; other cells never written"
}
