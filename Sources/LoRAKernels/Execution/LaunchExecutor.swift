/// A rectangle of one segment's working programs in one slice: the unit of
/// work the executor hands a worker. Programs write disjoint cells, so running
/// a rectangle's programs interleaved changes no bit.
struct ProgramTask: Hashable, Sendable {
    var segment: Int
    var slice: Int
    /// `pid_s` values.
    var rowBlocks: Range<Int>
    /// `pid_n` values.
    var columnTiles: Range<Int>
    /// When not empty: the task is row block 0 of each of these segments of
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

/// The working programs of a launch cut into `ProgramTask`s and numbered
/// densely, so that workers can split them without materialising millions of
/// tiles.
///
/// Order: segment by segment, slice by slice, column group by column group,
/// row group by row group. Each task spans up to `rowBlocksPerTask` row
/// blocks and `columnTilesPerTask` column tiles (0: all of the segment's).
struct ProgramTasks {
    let plan: LaunchPlan
    let rowBlocksPerTask: Int
    let columnTilesPerTask: Int
    /// A segment's tasks, or one task of lone rows of consecutive working segments.
    private enum Entry {
        case segment(Int)
        case loneRows([Int])
    }
    /// Entries in order, and the number of the first task of each.
    private let entries: [Entry]
    private let starts: [Int]
    /// Tasks in all.
    let count: Int
    /// Segments of one row packed per lone-row task (`packLoneRows`).
    static let loneRowsPerTask = 4

    /// - Parameter packLoneRows: run up to four consecutive working segments of
    ///   one row each with the same column tiles as one task (the shrink's
    ///   per-sequence decode; `columnTilesPerTask` must be 0).
    init(_ plan: LaunchPlan, rowBlocksPerTask: Int, columnTilesPerTask: Int, packLoneRows: Bool = false) {
        precondition(rowBlocksPerTask > 0 && columnTilesPerTask >= 0)
        precondition(!packLoneRows || (columnTilesPerTask == 0 && plan.sliceCount == 1))
        self.plan = plan
        self.rowBlocksPerTask = rowBlocksPerTask
        self.columnTilesPerTask = columnTilesPerTask
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
                if pack.count == Self.loneRowsPerTask { flush() }
                continue
            }
            flush()
            entries.append(.segment(seg.segment))
            starts.append(total)
            let (rows, columns) = Self.groups(seg, rowBlocksPerTask, columnTilesPerTask)
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

    /// Calls `body` with tasks `range`.
    @inline(__always)
    func forEach(in range: Range<Int>, _ body: (ProgramTask) -> Void) {
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
                body(ProgramTask(segment: seg.segment, slice: 0, rowBlocks: 0 ..< 1, columnTiles: 0 ..< seg.columnTiles,
                                  loneRowSegments: segments))
                i += 1
            case .segment(let segment):
                let seg = plan.segments[segment]
                let (rowGroups, columnGroups) = Self.groups(seg, rowBlocksPerTask, columnTilesPerTask)
                let columnsPer = columnTilesPerTask == 0 ? seg.columnTiles : columnTilesPerTask
                let end = min(range.upperBound, starts[e] + rowGroups * columnGroups * plan.sliceCount)
                while i < end {
                    let (slice, q) = (i - starts[e]).quotientAndRemainder(dividingBy: rowGroups * columnGroups)
                    let (columnGroup, rowGroup) = q.quotientAndRemainder(dividingBy: rowGroups)
                    let rb = rowGroup * rowBlocksPerTask, ct = columnGroup * columnsPer
                    body(ProgramTask(segment: seg.segment, slice: slice,
                                      rowBlocks: rb ..< min(seg.rowBlocks, rb + rowBlocksPerTask),
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

    /// The tasks a kernel's programs run in.
    ///
    /// - The shrink: one row block with all its column tiles (`SGemmLoRAA.rowBlock`);
    ///   segments of one row four at a time (`SGemmLoRAA.loneRows`).
    /// - The expands: up to 16 row blocks (256 rows) × 1024 columns (16 `Bᵀ`
    ///   panels; 16 tiles of 64 or 4 of 256), run as `ExpandProgram.run`
    ///   describes. Measured in a probe of the same loops, fp32, one core,
    ///   bs 256, 1 adapter: 1024 columns beat 256 and 4096 on all three expands
    ///   (gate_up rank 64: 172 GFLOP/s panel by panel over all rows, 222 in
    ///   1024-column groups).
    static func tasks<E: KernelElement>(_ launch: Launch<E>, threads: Int = 1) -> ProgramTasks {
        let kernel = launch.plan.kernel
        if kernel.isShrink {
            return ProgramTasks(launch.plan, rowBlocksPerTask: 1, columnTilesPerTask: 0, packLoneRows: true)
        }
        let columnTiles = max(1, 1024 / launch.plan.blocks.n)
        let tasks = ProgramTasks(launch.plan, rowBlocksPerTask: 16, columnTilesPerTask: columnTiles)
        // Too few tasks to balance the workers (sgemm_lora_b at bs 256 on one
        // adapter makes 4): tasks of 4 row blocks instead.
        guard threads > 1 && tasks.count < 8 * threads else { return tasks }
        return ProgramTasks(launch.plan, rowBlocksPerTask: 4, columnTilesPerTask: columnTiles)
    }

    /// Executes the launch; false when `isCancelled` stopped it part-way.
    /// - Parameters:
    ///   - tasks: the tasks to run instead of `tasks(launch)` (tests).
    ///   - scratchPlacement: where the workers' scratch lies (tests: guard pages, `MemoryPlacement`).
    static func execute<E: KernelElement>(_ launch: Launch<E>, threads: Int, serialBelow: Int = serialMACs,
                                          tasks: ProgramTasks? = nil, scratchPlacement: MemoryPlacement = .heap,
                                          isCancelled: @Sendable () -> Bool = { false }) -> Bool {
        let plan = launch.plan
        precondition(plan.isExecutable, "the executor runs LaunchPlan.execution plans, not \(plan.strategy)'s grid")
        // Every tile shape's metadata exists before a second worker can ask for it (`MicroTileMetadata`).
        _ = MicroTileMetadata.instantiated
        let kernel = plan.kernel
        let tasks = tasks ?? Self.tasks(launch, threads: threads)
        // Enough chunks for the workers to balance, few enough to keep the lock cold.
        let chunk = max(1, tasks.count / max(1, threads * 16))
        // Waking a second worker costs microseconds: launches with less work
        // than that (bs 1–4 decode) run on the calling thread, as BLAS does.
        let workers = plan.usefulMACs < serialBelow ? 1 : threads
        let scratchCount = ParallelLoop.workers(count: tasks.count, chunk: chunk, threads: workers)
        return ProgramScratch.with(for: plan, workers: scratchCount, placement: scratchPlacement) { scratches in
            ParallelLoop.run(count: tasks.count, chunk: chunk, threads: workers, isCancelled: isCancelled) { worker, range in
                let scratch = scratches[worker]
                tasks.forEach(in: range) { task in
                    switch kernel {
                    case .sgemmLoRAA where !task.loneRowSegments.isEmpty:
                        SGemmLoRAA.loneRows(task.loneRowSegments, launch, scratch)
                    case .sgemmLoRAA:
                        let tile = plan.tile(GridPosition(pid: task.rowBlocks.lowerBound * plan.segments[task.segment].columnTiles
                                                               + task.columnTiles.lowerBound, segment: task.segment))
                        SGemmLoRAA.rowBlock(tile, launch, scratch)
                    case .sgemmLoRAB: SGemmLoRAB.programs(task, launch, scratch)
                    case .qkvLoRAB: QKVLoRAB.programs(task, launch, scratch)
                    case .gateUpLoRAB: GateUpLoRAB.programs(task, launch, scratch)
                    }
                }
            }
        }
    }
}
