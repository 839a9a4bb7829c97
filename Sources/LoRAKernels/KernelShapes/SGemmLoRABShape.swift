/// `sgemm_lora_b`, the plain expand: `out += scaling · x · Bᵀ` over `N = out` columns.
enum SGemmLoRABShape: KernelShape {
    static let name = "sgemm_lora_b"
    static func outputSlices(_ dims: ModelDims, stack: Int) -> [Range<Int>] { [0 ..< dims.out] }
    static let blocks = BlockSizes(m: 16, n: 256, k: 16)
}
