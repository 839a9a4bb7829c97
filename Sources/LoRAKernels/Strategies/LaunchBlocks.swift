/// The block sizes a strategy launches a kernel with, as the JSON reports them.
public struct LaunchBlocks: Hashable, Sendable {
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
