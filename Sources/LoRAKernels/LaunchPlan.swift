/// Where a program sits in its launch grid.
///
/// `pid` is axis 0; `slice` is axis 1 of the 3-D grids (`qkv_lora_b`,
/// `gate_up_lora_b`) and 0 otherwise; `segment` is the last axis.
public struct GridPosition: Hashable, Sendable {
    public var pid: Int
    public var slice: Int
    public var segment: Int

    public init(pid: Int, slice: Int = 0, segment: Int) {
        self.pid = pid
        self.slice = slice
        self.segment = segment
    }
}

/// What one segment of a routing means to one kernel: the values every
/// program of that segment computes in steps 1–4 of docs/kernels.md §3.
///
/// For vLLM a "segment" is one LoRA group of the z axis; for csgmv one chunk.
public struct SegmentPlan: Hashable, Sendable {
    /// The segment's index (`seg`, vLLM's group index).
    public var segment: Int
    /// `w = weight_indices[seg]`; -1 for vLLM's no-LoRA group.
    public var slot: Int
    /// `r = rank[w]`, the adapter's own rank (vLLM pads the weights to `R`).
    public var rank: Int
    /// `scaling[w]`.
    public var scaling: Float
    /// `len = seg_lens[seg]`.
    public var length: Int
    /// Column tiles per row block (the triton shrink's depends on `r`).
    public var columnTiles: Int
    /// The K loop's length: `K` for the shrinks, `K_eff = min(R, r)` for the
    /// expands (vLLM: `R`).
    public var reduction: Int
    /// Output columns of each slice the programs compute: `N_eff` for the
    /// triton shrink, `N`, or the slice widths.
    public var sliceWidths: [Int]
    /// The fate shared by every program of the segment when it leaves before
    /// its row tiles (rank 0, empty, no LoRA), in the strategy's exit order.
    public var segmentExit: ProgramFate?
    /// `BLOCK_M`: rows per program.
    public var blockRows: Int

    public init(segment: Int, slot: Int, rank: Int, scaling: Float, length: Int, columnTiles: Int,
                reduction: Int, sliceWidths: [Int], segmentExit: ProgramFate?, blockRows: Int = LaunchPlan.blockRows) {
        self.segment = segment
        self.slot = slot
        self.rank = rank
        self.scaling = scaling
        self.length = length
        self.columnTiles = columnTiles
        self.reduction = reduction
        self.sliceWidths = sliceWidths
        self.segmentExit = segmentExit
        self.blockRows = blockRows
    }

    /// Row blocks that hold valid rows: `cdiv(len, BLOCK_M)`.
    public var rowBlocks: Int { cdiv(length, blockRows) }

    /// Programs along axis 0 that pass the excess exit in a row-by-column
    /// grid: a prefix `0 ..< workingPids`.
    public var workingPids: Int { segmentExit == nil ? rowBlocks * columnTiles : 0 }
}

/// The tile one program covers and the offsets it reads and writes through.
public struct ProgramTile: Hashable, Sendable {
    public var position: GridPosition
    public var fate: ProgramFate
    /// The row tile (`pid_s`, vLLM's `pid_m`) and column tile (`pid_n`); 0 for
    /// programs that exit before computing them.
    public var rowBlock: Int
    public var columnTile: Int
    /// First logical row of the segment the tile covers, and how many of its `BLOCK_M` are valid.
    public var rowStart: Int
    public var validRows: Int
    /// First column within the slice, and how many of the tile's `BLOCK_N` are valid.
    public var columnStart: Int
    public var validColumns: Int
    /// Column of the output tensor where the slice starts (`n_offs[q]`, `g·Nout`).
    public var outputColumnOffset: Int
    /// Column of x where the slice's input starts (`q·r`, `g·r`).
    public var inputColumnOffset: Int
    /// Length of the K loop.
    public var reduction: Int
    /// The output slice the tile writes (csgmv's flattened expand decodes it from the pid).
    public var slice: Int
    /// vLLM split-K: the split, and the K offsets it covers (`start`, then every `stride`, `BLOCK_K` at a time).
    public var split: Int = 0
    public var splitStart: Int = 0
    public var splitStride: Int = 0

    public init(position: GridPosition, fate: ProgramFate, rowBlock: Int, columnTile: Int, rowStart: Int,
                validRows: Int, columnStart: Int, validColumns: Int, outputColumnOffset: Int,
                inputColumnOffset: Int, reduction: Int, slice: Int? = nil) {
        self.position = position
        self.fate = fate
        self.rowBlock = rowBlock
        self.columnTile = columnTile
        self.rowStart = rowStart
        self.validRows = validRows
        self.columnStart = columnStart
        self.validColumns = validColumns
        self.outputColumnOffset = outputColumnOffset
        self.inputColumnOffset = inputColumnOffset
        self.reduction = reduction
        self.slice = slice ?? position.slice
    }

    /// The tile of a program that exits before computing one.
    init(exiting p: GridPosition, fate: ProgramFate, plan: LaunchPlan) {
        self.init(position: p, fate: fate, rowBlock: 0, columnTile: 0, rowStart: 0, validRows: 0, columnStart: 0,
                  validColumns: 0, outputColumnOffset: p.slice < plan.sliceOffsets.count ? plan.sliceOffsets[p.slice] : 0,
                  inputColumnOffset: 0, reduction: 0)
    }
}

/// The launch of one kernel by one strategy: the grid and the fate and tile
/// of every program, computed once and read by the views, the counts, the
/// report, the cost model and the SIMD executor.
///
/// Programs are not stored: `bs 4096` on `mlpb 512` launches tens of millions.
/// Everything is derived from the per-segment values in O(1) per program, and
/// the counts in closed form per segment; the strategy's `ProgramMap`
/// (`Strategies/`) says how.
public struct LaunchPlan: Hashable, Sendable {
    /// `BLOCK_S`: token rows per program of SGLang's `triton` kernels, and of
    /// the CPU executor's microkernel passes.
    public static let blockRows = 16

    public let strategy: Strategy
    public let kernel: Kernel
    public let routing: Routing
    public let dtype: DType
    /// `R`: the weight buffers' largest rank, the row length of the expands' B weights.
    public let maxRank: Int
    /// Segments (vLLM: LoRA groups) in the order of the grid's last axis.
    public let segments: [SegmentPlan]
    /// Row tiles of axis 0 (`cdiv(max_len, 16)`; csgmv 1; vLLM m tiles).
    public let rowBlocks: Int
    /// Column tiles of axis 0 (`cdiv(stack·R, 16)`, `cdiv(N, 256)`, …).
    public let columnBlocks: Int
    /// Output column offset of every slice of the kernel.
    public let sliceOffsets: [Int]
    /// Output columns of every slice of the kernel (the shrink's `stack·R`).
    public let outputWidths: [Int]
    /// The block sizes the strategy launches this kernel with.
    public let blocks: BlockSizes
    /// Axis 0's extent.
    public let pidCount: Int
    /// Axis 0's factors, for titles: `[row blocks, column tiles]`, vLLM's `[splits, m tiles, n tiles]`.
    public let pidFactors: [Int]
    /// Axis 1 of the 3-D grids; 1 for the 2-D ones.
    public let sliceCount: Int
    private let isThreeD: Bool
    let map: any ProgramMap
    /// Programs per fate over the whole launch.
    ///
    /// Kept, as `totals`, when the plan is made: a report, a TUI frame and a
    /// GPU estimate each read them several times, and each sum walks every
    /// segment (512 at bs 512 per-sequence).
    public private(set) var fateCounts = FateCounts()
    /// The working programs' valid rows, issued MACs and weight bytes.
    private(set) var totals = LaunchTotals()
    /// For the executor: the shrink's split-K as vLLM orders its fp32 sums
    /// (`execution(workload:strategy:)` sets it for vLLM's shrink; nil: one K chain per cell).
    public internal(set) var splitK: SplitKOrder?

    /// The plan of `strategy` for a workload.
    public init(workload: Workload, strategy: Strategy, options: StrategyOptions = StrategyOptions()) {
        self.init(workload: workload, strategy: strategy, layout: strategy.descriptor.layout(workload, options))
    }

    /// The plan of a strategy with its default options.
    public init(workload: Workload, routing strategy: Strategy) {
        self.init(workload: workload, strategy: strategy)
    }

    /// The plan the CPU executor runs for `strategy`: SGLang `triton`'s
    /// 16-row programs over the strategy's own segments (its chunks, its
    /// groups), which hold exactly the rows, slots and cells its working
    /// programs compute. Column tiling and split-K do not change which cells
    /// a program writes; the executor's blocks choose their own columns.
    public static func execution(workload: Workload, strategy: Strategy,
                                 options: StrategyOptions = StrategyOptions()) -> LaunchPlan {
        var plan = LaunchPlan(workload: workload, routing: strategy.descriptor.executionRouting(workload.batch, options))
        plan.splitK = strategy == .vllm && workload.kernel.isShrink
            ? VLLMStrategy.splitK(workload) : nil
        return plan
    }

    /// Whether the CPU executor can run this plan: 16-row blocks in
    /// SGLang `triton`'s row-by-column grid (`execution(workload:strategy:)`).
    public var isExecutable: Bool { map is RowColumnGrid && blocks.m == Self.blockRows }

    /// SGLang `triton`'s grid over any routing (the CPU executor's plans, the calibration's).
    public init(workload: Workload, routing: Routing) {
        self.init(workload: workload, strategy: routing.kind, layout: TritonGrid.layout(workload, routing: routing))
    }

    private init(workload: Workload, strategy: Strategy, layout: StrategyLayout) {
        self.strategy = strategy
        kernel = workload.kernel
        routing = layout.routing
        dtype = workload.dtype
        maxRank = workload.dims.maxRank
        segments = layout.segments
        rowBlocks = layout.rowBlocks
        columnBlocks = layout.columnBlocks
        sliceOffsets = workload.kernel.outputSlices(workload.launchDims).map(\.lowerBound)
        outputWidths = workload.kernel.outputSlices(workload.launchDims).map(\.count)
        blocks = layout.blocks
        pidCount = layout.pidCount
        pidFactors = layout.pidFactors
        sliceCount = layout.sliceCount
        isThreeD = layout.isThreeD
        map = layout.map
        fateCounts = countFates()
        totals = map.totals(self)
    }

    public static func == (a: LaunchPlan, b: LaunchPlan) -> Bool {
        a.strategy == b.strategy && a.kernel == b.kernel && a.dtype == b.dtype && a.maxRank == b.maxRank
            && a.routing == b.routing && a.segments == b.segments && a.blocks == b.blocks
            && a.pidCount == b.pidCount && a.sliceCount == b.sliceCount && a.isThreeD == b.isThreeD
            && a.splitK == b.splitK
    }

    public func hash(into h: inout Hasher) {
        h.combine(strategy)
        h.combine(kernel)
        h.combine(routing)
        h.combine(pidCount)
    }

    // MARK: Grid

    /// The grid's axes as launched: two for the triton shrink, `sgemm_lora_b`
    /// and csgmv; three for the fused triton expands and vLLM (`[0, 0, 0]`
    /// when vLLM has no LoRA token to launch).
    public var grid: [Int] {
        if segments.isEmpty && !isThreeD { return [pidCount, 0] }
        if segments.isEmpty { return [0, 0, 0] }
        return isThreeD ? [pidCount, sliceCount, segments.count] : [pidCount, segments.count]
    }

    /// The grid padded to three axes (`[x, y, z]`), as the JSON report writes it.
    public var grid3: [Int] {
        let g = grid
        return g + Array(repeating: 1, count: 3 - g.count)
    }

    /// The product of the grid's axes.
    public var launched: Int { pidCount * sliceCount * segments.count }

    // MARK: Grid axes: the one place a grid position meets (pid, slice, segment)

    /// What each axis of `grid` counts: `pid, segment`, or `pid, slice, segment`.
    public var axisNames: [String] { grid.count == 3 ? ["pid", "slice", "segment"] : ["pid", "segment"] }

    /// The program at grid coordinates `axes` (as `grid` orders them: x, y[, z]),
    /// or nil when they are not `grid.count` values inside the grid.
    public func position(axes: [Int]) -> GridPosition? {
        guard axes.count == grid.count, zip(axes, grid).allSatisfy({ (0..<$1).contains($0) }) else { return nil }
        return axes.count == 3
            ? GridPosition(pid: axes[0], slice: axes[1], segment: axes[2])
            : GridPosition(pid: axes[0], slice: 0, segment: axes[1])
    }

    /// A program's grid coordinates, as `grid` orders its axes (the inverse of `position(axes:)`).
    public func axes(of p: GridPosition) -> [Int] {
        grid.count == 3 ? [p.pid, p.slice, p.segment] : [p.pid, p.segment]
    }

    /// Whether `p` names a program of this launch.
    public func contains(_ p: GridPosition) -> Bool {
        (0..<pidCount).contains(p.pid) && (0..<sliceCount).contains(p.slice) && segments.indices.contains(p.segment)
    }

    // MARK: Programs

    /// The fate of one program.
    public func fate(_ p: GridPosition) -> ProgramFate { map.fate(p, in: self) }

    /// The tile a program covers, with its fate.
    public func tile(_ p: GridPosition) -> ProgramTile { map.tile(p, in: self) }

    /// Calls `body` with the tile of every program that computes something
    /// (partial or full), segment by segment, slice by slice, pid by pid.
    public func forEachComputingTile(_ body: (ProgramTile) throws -> Void) rethrows {
        for seg in segments where seg.segmentExit == nil {
            for slice in 0..<sliceCount {
                // A row-by-column grid's working programs are a prefix of axis 0.
                for pid in 0..<(map is RowColumnGrid ? seg.workingPids : pidCount) {
                    let t = tile(GridPosition(pid: pid, slice: slice, segment: seg.segment))
                    if t.fate == .partial || t.fate == .full { try body(t) }
                }
            }
        }
    }

    /// Every computing tile, in the order `forEachComputingTile` visits them (for tests).
    @_spi(Testing) public var computingTiles: [ProgramTile] {
        var tiles: [ProgramTile] = []
        forEachComputingTile { tiles.append($0) }
        return tiles
    }
}
