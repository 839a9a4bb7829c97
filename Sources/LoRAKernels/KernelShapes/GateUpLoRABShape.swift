/// `gate_up_lora_b`, the fused gate/up expand: two slices of width `ffn`.
enum GateUpLoRABShape: KernelShape {
    static let name = "gate_up_lora_b"
    static let sliceNames = ["g", "u"]
    static func outputSlices(_ dims: ModelDims, stack: Int) -> [Range<Int>] { [0 ..< dims.ffn, dims.ffn ..< 2 * dims.ffn] }
    static let blocks = BlockSizes(m: 16, n: 64, k: 16)
}
