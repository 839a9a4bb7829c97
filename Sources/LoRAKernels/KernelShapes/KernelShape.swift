/// What one kernel is, in one file per kernel (docs/kernels.md §3): its name,
/// its output slices and their names, the widths of its x rows and weights,
/// its block sizes in SGLang's `triton` backend and the math it computes.
/// `Kernel` answers every such question from its shape; the strategies
/// (`Strategies/`) decide how it is launched.
protocol KernelShape: Sendable {
    /// The name SGLang and the command language use.
    static var name: String { get }
    /// Slices of the output the grids lay on axis 1 (the shrink's `stack` is one slice of `stack·R`).
    static func sliceCount(stack: Int) -> Int
    /// The short name of each slice (`q`, `k`, `v`; `g`, `u`), empty for one slice.
    static var sliceNames: [String] { get }
    /// Output columns of each slice; slice `i` reads x columns from `i · r`.
    static func outputSlices(_ dims: ModelDims, stack: Int) -> [Range<Int>]
    /// `K`: the width of an x row (before rank clamping).
    static func inputWidth(_ dims: ModelDims, stack: Int) -> Int
    /// Columns of each slot's weight matrix (`K` of W).
    static func weightColumns(_ dims: ModelDims) -> Int
    /// `BLOCK_S × BLOCK_N`, stepping K by `BLOCK_K`, in SGLang's `triton` backend.
    static var blocks: BlockSizes { get }
    /// What one output cell holds, as the dump's manifest states it.
    static var math: String { get }
}

extension KernelShape {
    static func sliceCount(stack: Int) -> Int { sliceNames.isEmpty ? 1 : sliceNames.count }
    static var sliceNames: [String] { [] }
    static func weightColumns(_ dims: ModelDims) -> Int { dims.maxRank }
    static func inputWidth(_ dims: ModelDims, stack: Int) -> Int { dims.maxRank * sliceCount(stack: stack) }
    static var math: String {
        "out[t, n] = round(round(scaling[w] * sum_{k<rank[w]} x[t, q*rank[w] + k] * B[w, n, k]) + base[t, n]) for n in slice q"
    }
}
