/// What a strategy gives a plan: its routing, grid and program map.
struct StrategyLayout: Sendable {
    var routing: Routing
    var blocks: BlockSizes
    /// Segment plans in grid order (the last axis).
    var segments: [SegmentPlan]
    /// Axis 0's extent, and its factors for titles (`3×16`, `64×2×1`).
    var pidCount: Int
    var pidFactors: [Int]
    /// Axis 1's extent (1 when the grid is 2-D).
    var sliceCount: Int
    var isThreeD: Bool
    /// Row and column tiles of axis 0, as the views and the cost model read them.
    var rowBlocks: Int
    var columnBlocks: Int
    var map: any ProgramMap
}

/// One strategy: its name, its routing, its grid and its programs.
protocol StrategyDescriptor: Sendable {
    static var name: String { get }
    static var title: String { get }
    static var summary: String { get }
    /// Whose kernels it launches: `triton` (SGLang's four), `csgmv` or `vllm`:
    /// the cost model fits one set of program costs per family and kernel.
    static var kernelFamily: String { get }
    /// The routing, grid and program map for a workload.
    static func layout(_ workload: Workload, _ options: StrategyOptions) -> StrategyLayout
    /// The routing whose segments the CPU executor runs in 16-row passes:
    /// the same rows, slots and cells as the strategy's working programs.
    static func executionRouting(_ batch: Batch, _ options: StrategyOptions) -> Routing
}

extension StrategyDescriptor {
    static var kernelFamily: String { "triton" }
}

/// How a strategy's grid positions map to fates and tiles, and the fate
/// counts of any run of programs in closed form.
protocol ProgramMap: Sendable {
    func fate(_ p: GridPosition, in plan: LaunchPlan) -> ProgramFate
    func tile(_ p: GridPosition, in plan: LaunchPlan) -> ProgramTile
    /// Programs per fate among pids `pids` of one (segment, slice): a
    /// non-empty range inside the grid, of a segment that does not exit whole
    /// (`LaunchPlan.fateCounts(segment:slice:pids:)` settles those); tests
    /// hold it against `fate` program by program.
    func fateCounts(segment: Int, slice: Int, pids: Range<Int>, in plan: LaunchPlan) -> FateCounts
    /// The launch in the cost model's terms.
    func gpuWork(_ plan: LaunchPlan) -> GPUWork
    /// Valid rows, issued MACs and weight bytes of the working programs.
    func totals(_ plan: LaunchPlan) -> LaunchTotals
}

/// `#{p ∈ 0..<n : p % fast ∈ fastRange, p / fast ∈ slowRange}`: counts over
/// a grid axis that interleaves two indices, the first fastest.
@inline(__always)
func interleavedCount(below n: Int, fast: Int, fastRange: Range<Int>, slowRange: Range<Int>) -> Int {
    guard n > 0, fast > 0 else { return 0 }
    let (rows, rem) = n.quotientAndRemainder(dividingBy: fast)
    func overlap(_ a: Range<Int>, _ b: Range<Int>) -> Int { max(0, min(a.upperBound, b.upperBound) - max(a.lowerBound, b.lowerBound)) }
    let fastWidth = overlap(fastRange, 0..<fast)
    var count = overlap(slowRange, 0..<rows) * fastWidth
    if slowRange.contains(rows) { count += overlap(fastRange, 0..<rem) }
    return count
}

/// `interleavedCount` over `lo ..< hi`.
@inline(__always)
func interleavedCount(_ pids: Range<Int>, fast: Int, fastRange: Range<Int>, slowRange: Range<Int>) -> Int {
    interleavedCount(below: pids.upperBound, fast: fast, fastRange: fastRange, slowRange: slowRange)
        - interleavedCount(below: pids.lowerBound, fast: fast, fastRange: fastRange, slowRange: slowRange)
}
