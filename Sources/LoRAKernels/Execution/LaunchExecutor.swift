/// A rectangle of one segment's working programs in one slice: the unit of
/// work the executor hands a worker. Programs write disjoint cells, so running
/// a rectangle's programs interleaved changes no bit.
struct ProgramBlock: Hashable, Sendable {
    var segment: Int
    var slice: Int
    /// `pid_s` values.
    var rowBlocks: Range<Int>
    /// `pid_n` values.
    var columnTiles: Range<Int>
    /// When not empty: the block is row block 0 of each of these segments of
    /// one row (`segment` is the first), run side by side (`SGemmLoRAA.loneRows`).
    var loneRowSegments: [Int] = []

    /// The grid positions of its programs, row block by row block.
    func positions(columnTilesPerRowBlock n: Int) -> [GridPosition] {
        if !loneRowSegments.isEmpty {
            return loneRowSegments.flatMap { s in columnTiles.map { GridPosition(pid: $0, slice: slice, segment: s) } }
        }
        return rowBlocks.flatMap { rb in
            columnTiles.map { GridPosition(pid: rb * n + $0, slice: slice, segment: segment) }
        }
    }
}

/// The working programs of a launch cut into `ProgramBlock`s and numbered
/// densely, so that workers can split them without materialising millions of
/// tiles.
///
/// Order: segment by segment, slice by slice, column group by column group,
/// row group by row group. Each block spans up to `rowBlocksPerBlock` row
/// blocks and `columnTilesPerBlock` column tiles (0: all of the segment's).
struct ProgramBlocks {
    let plan: LaunchPlan
    let rowBlocksPerBlock: Int
    let columnTilesPerBlock: Int
    /// A segment's blocks, or one block of lone rows of consecutive working segments.
    private enum Entry {
        case segment(Int)
        case loneRows([Int])
    }
    /// Entries in order, and the number of the first block of each.
    private let entries: [Entry]
    private let starts: [Int]
    /// Blocks in all.
    let count: Int
    /// Segments of one row packed per lone-row block (`packLoneRows`).
    static let loneRowsPerBlock = 4

    /// - Parameter packLoneRows: run up to four consecutive working segments of
    ///   one row each with the same column tiles as one block (the shrink's
    ///   per-sequence decode; `columnTilesPerBlock` must be 0).
    init(_ plan: LaunchPlan, rowBlocksPerBlock: Int, columnTilesPerBlock: Int, packLoneRows: Bool = false) {
        precondition(rowBlocksPerBlock > 0 && columnTilesPerBlock >= 0)
        precondition(!packLoneRows || (columnTilesPerBlock == 0 && plan.sliceCount == 1))
        self.plan = plan
        self.rowBlocksPerBlock = rowBlocksPerBlock
        self.columnTilesPerBlock = columnTilesPerBlock
        var entries: [Entry] = [], starts: [Int] = []
        var total = 0
        var pack: [Int] = []
        func flush() {
            guard !pack.isEmpty else { return }
            entries.append(.loneRows(pack))
            starts.append(total)
            total += 1
            pack = []
        }
        for seg in plan.segments where seg.workingPids > 0 {
            if packLoneRows && seg.length == 1 {
                if let first = pack.first, plan.segments[first].sliceWidths != seg.sliceWidths { flush() }
                pack.append(seg.segment)
                if pack.count == Self.loneRowsPerBlock { flush() }
                continue
            }
            flush()
            entries.append(.segment(seg.segment))
            starts.append(total)
            let (rows, columns) = Self.groups(seg, rowBlocksPerBlock, columnTilesPerBlock)
            total += rows * columns * plan.sliceCount
        }
        flush()
        self.entries = entries
        self.starts = starts
        count = total
    }

    /// Row groups and column groups of a segment.
    private static func groups(_ seg: SegmentPlan, _ rowsPer: Int, _ columnsPer: Int) -> (Int, Int) {
        (cdiv(seg.rowBlocks, rowsPer), columnsPer == 0 ? 1 : cdiv(seg.columnTiles, columnsPer))
    }

    /// Calls `body` with blocks `range`.
    @inline(__always)
    func forEach(in range: Range<Int>, _ body: (ProgramBlock) -> Void) {
        guard !range.isEmpty else { return }
        // Last entry starting at or before the range.
        var lo = 0, hi = starts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if starts[mid] <= range.lowerBound { lo = mid } else { hi = mid - 1 }
        }
        var e = lo
        var i = range.lowerBound
        while i < range.upperBound {
            switch entries[e] {
            case .loneRows(let segments):
                let seg = plan.segments[segments[0]]
                body(ProgramBlock(segment: seg.segment, slice: 0, rowBlocks: 0 ..< 1, columnTiles: 0 ..< seg.columnTiles,
                                  loneRowSegments: segments))
                i += 1
            case .segment(let segment):
                let seg = plan.segments[segment]
                let (rowGroups, columnGroups) = Self.groups(seg, rowBlocksPerBlock, columnTilesPerBlock)
                let columnsPer = columnTilesPerBlock == 0 ? seg.columnTiles : columnTilesPerBlock
                let end = min(range.upperBound, starts[e] + rowGroups * columnGroups * plan.sliceCount)
                while i < end {
                    let (slice, q) = (i - starts[e]).quotientAndRemainder(dividingBy: rowGroups * columnGroups)
                    let (columnGroup, rowGroup) = q.quotientAndRemainder(dividingBy: rowGroups)
                    let rb = rowGroup * rowBlocksPerBlock, ct = columnGroup * columnsPer
                    body(ProgramBlock(segment: seg.segment, slice: slice,
                                      rowBlocks: rb ..< min(seg.rowBlocks, rb + rowBlocksPerBlock),
                                      columnTiles: ct ..< min(seg.columnTiles, ct + columnsPer)))
                    i += 1
                }
            }
            e += 1
        }
    }
}

/// Runs one launch: every working program of the plan, spread over threads.
enum LaunchExecutor {
    /// Launches with fewer useful MACs than this (about 10 µs of work) run on one thread.
    static let serialMACs = 1 << 21

    /// The blocks a kernel's programs run in.
    ///
    /// - The shrink: one row block with all its column tiles (`SGemmLoRAA.rowBlock`);
    ///   segments of one row four at a time (`SGemmLoRAA.loneRows`).
    /// - The expands: up to 16 row blocks (256 rows) × 1024 columns (16 `Bᵀ`
    ///   panels; 16 tiles of 64 or 4 of 256), run as `ExpandProgram.run`
    ///   describes. Measured in a probe of the same loops, fp32, one core,
    ///   bs 256, 1 adapter: 1024 columns beat 256 and 4096 on all three expands
    ///   (gate_up rank 64: 172 GFLOP/s panel by panel over all rows, 222 in
    ///   1024-column groups).
    static func blocks<E: KernelElement>(_ launch: Launch<E>, threads: Int = 1) -> ProgramBlocks {
        let kernel = launch.plan.kernel
        if kernel.isShrink {
            return ProgramBlocks(launch.plan, rowBlocksPerBlock: 1, columnTilesPerBlock: 0, packLoneRows: true)
        }
        let columnTiles = max(1, 1024 / kernel.blocks.n)
        let blocks = ProgramBlocks(launch.plan, rowBlocksPerBlock: 16, columnTilesPerBlock: columnTiles)
        // Too few blocks to balance the workers (sgemm_lora_b at bs 256 on one
        // adapter makes 4): blocks of 4 row blocks instead.
        guard threads > 1 && blocks.count < 8 * threads else { return blocks }
        return ProgramBlocks(launch.plan, rowBlocksPerBlock: 4, columnTilesPerBlock: columnTiles)
    }

    /// Executes the launch; false when `isCancelled` stopped it part-way.
    /// - Parameters:
    ///   - blocks: the blocks to run instead of `blocks(launch)` (tests).
    ///   - scratchPlacement: where the workers' scratch lies (tests: guard pages, `MemoryPlacement`).
    static func execute<E: KernelElement>(_ launch: Launch<E>, threads: Int, serialBelow: Int = serialMACs,
                                          blocks: ProgramBlocks? = nil, scratchPlacement: MemoryPlacement = .heap,
                                          isCancelled: @Sendable () -> Bool = { false }) -> Bool {
        let plan = launch.plan
        precondition(plan.isExecutable, "the executor runs LaunchPlan.execution plans, not \(plan.strategy)'s grid")
        // Every tile shape's metadata exists before a second worker can ask for it (`MicroTileMetadata`).
        _ = MicroTileMetadata.instantiated
        let kernel = plan.kernel
        let blocks = blocks ?? Self.blocks(launch, threads: threads)
        // Enough chunks for the workers to balance, few enough to keep the lock cold.
        let chunk = max(1, blocks.count / max(1, threads * 16))
        // Waking a second worker costs microseconds: launches with less work
        // than that (bs 1–4 decode) run on the calling thread, as BLAS does.
        let workers = plan.usefulMACs < serialBelow ? 1 : threads
        let scratchCount = ParallelLoop.workers(count: blocks.count, chunk: chunk, threads: workers)
        return ProgramScratch.with(for: plan, workers: scratchCount, placement: scratchPlacement) { scratches in
            ParallelLoop.run(count: blocks.count, chunk: chunk, threads: workers, isCancelled: isCancelled) { worker, range in
                let scratch = scratches[worker]
                blocks.forEach(in: range) { block in
                    switch kernel {
                    case .sgemmLoRAA where !block.loneRowSegments.isEmpty:
                        SGemmLoRAA.loneRows(block.loneRowSegments, launch, scratch)
                    case .sgemmLoRAA:
                        let tile = plan.tile(GridPosition(pid: block.rowBlocks.lowerBound * plan.segments[block.segment].columnTiles
                                                               + block.columnTiles.lowerBound, segment: block.segment))
                        SGemmLoRAA.rowBlock(tile, launch, scratch)
                    case .sgemmLoRAB: SGemmLoRAB.programs(block, launch, scratch)
                    case .qkvLoRAB: QKVLoRAB.programs(block, launch, scratch)
                    case .gateUpLoRAB: GateUpLoRAB.programs(block, launch, scratch)
                    }
                }
            }
        }
    }
}
