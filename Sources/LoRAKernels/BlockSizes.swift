/// The tile of one program, as Triton's `BLOCK_*` constants name it: `m × n`
/// output cells, stepping K by `k`. The kernels' own sizes (`Kernel.blocks`)
/// and the sizes a strategy launches with (`LaunchPlan.blocks`, the JSON
/// report's `blocks`) are both of this type.
public struct BlockSizes: Hashable, Sendable {
    /// `BLOCK_M` / `BLOCK_S`: token rows per program.
    public var m: Int
    /// `BLOCK_N`: output columns per program.
    public var n: Int
    /// `BLOCK_K`: the K loop's step.
    public var k: Int
    /// Programs that share one (m, n) tile's K range (vLLM's shrink; 1 elsewhere).
    public var splitK: Int

    public init(m: Int, n: Int, k: Int, splitK: Int = 1) {
        self.m = m
        self.n = n
        self.k = k
        self.splitK = splitK
    }
}
