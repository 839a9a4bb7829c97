/// A way of launching one LoRA kernel over a batch: which routing it builds,
/// the grid it launches, its block sizes, the order of its exits and how a
/// program id maps to a tile (docs/strategies.md).
///
/// A strategy is a name; everything else lives in its descriptor, one file
/// per strategy under `Strategies/`. `Strategy.table` lists them in the
/// order they are offered: adding a strategy is adding its file and its line
/// there.
public struct Strategy: Hashable, Sendable, CustomStringConvertible, Comparable {
    /// The name the command language and the JSON report use.
    public let name: String

    private init(_ name: String) { self.name = name }

    /// The strategy of a name, if one is defined.
    public init?(name: String) {
        guard Self.table.contains(where: { $0.name == name }) else { return nil }
        self.init(name)
    }

    /// SGLang `triton`, one segment per sequence (before PR 22386).
    public static let perSequence = Strategy(PerSequenceStrategy.name)
    /// SGLang `triton` after PR 22386: tokens sorted by slot, `max_len = S`.
    public static let sorted = Strategy(SortedStrategy.name)
    /// `sorted` with `max_len` = the longest segment.
    public static let tight = Strategy(TightStrategy.name)
    /// SGLang's chunked SGMV backend, eager.
    public static let csgmv = Strategy(CSGMVStrategy.name)
    /// SGLang's chunked SGMV under a CUDA graph (a fixed segment buffer).
    public static let csgmvGraph = Strategy(CSGMVGraphStrategy.name)
    /// vLLM's `lora_shrink` / `lora_expand`.
    public static let vllm = Strategy(VLLMStrategy.name)

    /// Every strategy, one descriptor each, in the order they are offered.
    static let table: [any StrategyDescriptor.Type] = [
        PerSequenceStrategy.self, SortedStrategy.self, TightStrategy.self,
        CSGMVStrategy.self, CSGMVGraphStrategy.self, VLLMStrategy.self,
    ]

    /// Every strategy, in `table` order.
    public static let allCases: [Strategy] = table.map { Strategy($0.name) }

    /// The strategies planned when a file names none: SGLang `triton`'s two routings.
    public static let defaults: [Strategy] = [.perSequence, .sorted]

    /// Every name the command language accepts.
    public static var names: [String] { table.map { $0.name } }

    var descriptor: any StrategyDescriptor.Type {
        Self.table.first { $0.name == name }!
    }

    /// `name`, as the language spells it.
    public var rawValue: String { name }
    public var description: String { name }

    /// A short title for the grid views.
    public var title: String { descriptor.title }

    /// One line: what it launches and whose kernel it is.
    public var summary: String { descriptor.summary }

    /// Whose kernels it launches (`triton`, `csgmv`, `vllm`): strategies of
    /// one family share their kernels' program costs.
    public var kernelFamily: String { descriptor.kernelFamily }

    /// Whether the strategy's row tiles are SGLang `triton`'s 16-row blocks
    /// over segments of its routing (per-sequence, sorted, tight).
    public var isTriton: Bool { kernelFamily == "triton" }

    /// Order in `table`.
    public static func < (a: Strategy, b: Strategy) -> Bool {
        (allCases.firstIndex(of: a) ?? 0) < (allCases.firstIndex(of: b) ?? 0)
    }
}

/// The settings the strategies other than `triton`'s read
/// (`strategies … chunk=N graph_segments=N specialize=BOOL`).
public struct StrategyOptions: Hashable, Sendable {
    /// csgmv's `max_lora_chunk_size`: one of `chunks`.
    public var chunk: Int
    /// csgmv-graph's segment buffer; `nil`: the batch's sequence count (a
    /// decode graph captured at `max_bs` = bs).
    public var graphSegments: Int?
    /// vLLM's `specialize_active_lora`: size the z axis by the active groups.
    public var specializeActiveLoRAs: Bool

    /// The chunk sizes SGLang's csgmv backend accepts.
    public static let chunks = [16, 32, 64, 128]
    /// The largest segment buffer a graph may be captured with.
    public static let graphSegmentLimit = 1 << 20

    public init(chunk: Int = 16, graphSegments: Int? = nil, specializeActiveLoRAs: Bool = false) {
        self.chunk = chunk
        self.graphSegments = graphSegments
        self.specializeActiveLoRAs = specializeActiveLoRAs
    }
}

/// Why a strategy cannot launch a batch.
public struct StrategyError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

extension StrategyOptions {
    /// Checks that every strategy of `strategies` can launch `batch`: today
    /// only a csgmv-graph buffer smaller than the live segments cannot.
    public func validate(_ strategies: [Strategy], for batch: Batch) throws {
        guard strategies.contains(.csgmvGraph) else { return }
        let live = CSGMVStrategy.routing(batch, chunk: CSGMVStrategy.chunkSize(batch, maximum: chunk)).segmentCount
        let buffer = graphSegments ?? batch.sequences.count
        if buffer < live {
            throw StrategyError(message: "csgmv-graph's segment buffer holds \(buffer) segments but this batch has \(live) "
                + "(graph_segments=\(live) or more fits it)")
        }
    }
}

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

/// What a strategy gives a plan: its routing, grid and program map.
struct StrategyLayout: Sendable {
    var routing: Routing
    var blocks: LaunchBlocks
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
