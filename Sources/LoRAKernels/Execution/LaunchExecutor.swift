/// The programs of a launch that run their K loop, numbered densely so that
/// workers can split them without materialising millions of tiles.
///
/// Order: segment by segment, slice by slice, pid by pid, the order of
/// `LaunchPlan.forEachComputingTile`. With `byRowBlock` (single-slice
/// kernels) a unit is a row block, the `num_pid_n` consecutive pids sharing
/// `pid_s`, and `forEach` gives the position of its first program.
struct WorkingPrograms {
    let plan: LaunchPlan
    let byRowBlock: Bool
    /// Row blocks whose programs run column tile by column tile (1: pid order).
    let rowBlocksPerPass: Int
    /// Segments with working programs, and the number of the first program of each.
    private let segments: [Int]
    private let starts: [Int]
    /// Programs that pass the early exits (masked-out ones included).
    let count: Int

    init(_ plan: LaunchPlan, byRowBlock: Bool = false, rowBlocksPerPass: Int = 1) {
        precondition(!byRowBlock || plan.sliceCount == 1, "row-block units need a single-slice kernel")
        precondition(!byRowBlock || rowBlocksPerPass == 1, "row-block units are whole row blocks")
        self.plan = plan
        self.byRowBlock = byRowBlock
        self.rowBlocksPerPass = rowBlocksPerPass
        var segments: [Int] = [], starts: [Int] = []
        var total = 0
        for seg in plan.segments where seg.workingPids > 0 {
            segments.append(seg.segment)
            starts.append(total)
            total += (byRowBlock ? seg.rowBlocks : seg.workingPids) * plan.sliceCount
        }
        self.segments = segments
        self.starts = starts
        count = total
    }

    /// Calls `body` with the grid position of programs `range`.
    @inline(__always)
    func forEach(in range: Range<Int>, _ body: (GridPosition) -> Void) {
        guard !range.isEmpty else { return }
        // Last segment starting at or before the range.
        var lo = 0, hi = starts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if starts[mid] <= range.lowerBound { lo = mid } else { hi = mid - 1 }
        }
        var s = lo
        var i = range.lowerBound
        while i < range.upperBound {
            let segment = segments[s]
            let seg = plan.segments[segment]
            let pids = byRowBlock ? seg.rowBlocks : seg.workingPids
            let pidStep = byRowBlock ? seg.columnTiles : 1
            let end = min(range.upperBound, starts[s] + pids * plan.sliceCount)
            while i < end {
                let (slice, p) = (i - starts[s]).quotientAndRemainder(dividingBy: pids)
                var pid = p * pidStep
                if rowBlocksPerPass > 1 {
                    // Pass `g` covers row blocks g·G ..< g·G + rows, column tile outer.
                    let n = seg.columnTiles
                    let (g, q) = p.quotientAndRemainder(dividingBy: rowBlocksPerPass * n)
                    let rows = min(rowBlocksPerPass, seg.rowBlocks - g * rowBlocksPerPass)
                    let (columnTile, row) = q.quotientAndRemainder(dividingBy: rows)
                    pid = (g * rowBlocksPerPass + row) * n + columnTile
                }
                body(GridPosition(pid: pid, slice: slice, segment: segment))
                i += 1
            }
            s += 1
        }
    }
}

/// Runs one launch: every working program of the plan, spread over threads.
enum LaunchExecutor {
    /// Launches with fewer useful MACs than this (about 10 µs of work) run on one thread.
    static let serialMACs = 1 << 21
    /// Row blocks per pass for an expand: gate_up and sgemm_lora_b run up to
    /// 16 row blocks (256 rows) of a segment column tile by column tile: a
    /// program's Bᵀ tile is `K_eff` rows of 64–256 columns a whole output row
    /// apart (16–64 separate line streams), too scattered
    /// for the prefetchers to fetch ahead, so it is worth reusing from L1 over
    /// many row blocks instead of refetching it for every 16 rows. Programs
    /// write disjoint cells, so the order changes no bit. Measured, fp32 one
    /// core, bs 256 sorted: gate_up 68–85 → 100–104 GFLOP/s (rank 16, 1 adapter),
    /// 122–147 → 180–186 (rank 64); sgemm_lora_b mostly gains too.
    /// qkv stays in pid order: with passes its 4- and 16-adapter bs-256 shapes
    /// measured slower (rank 16: 58–112 → 45–77; rank 64: 120–134 → 103–125).
    static func expandRowBlocksPerPass(_ kernel: Kernel) -> Int {
        if case .qkvLoRAB = kernel { return 1 }
        return 16
    }

    /// Executes the launch; false when `isCancelled` stopped it part-way.
    static func execute<E: KernelElement>(_ launch: Launch<E>, threads: Int, serialBelow: Int = serialMACs,
                                          isCancelled: () -> Bool = { false }) -> Bool {
        let kernel = launch.plan.kernel
        // The shrink runs a row block's column tiles together (same per-cell
        // arithmetic, better cache reuse: `SGemmLoRAA.rowBlock`); the opt-in
        // C microkernels keep one program at a time.
        let byRowBlock = kernel.isShrink && !(launch.bf16Dot && E.dtype == .bf16)
        let programs = WorkingPrograms(launch.plan, byRowBlock: byRowBlock,
                                       rowBlocksPerPass: byRowBlock ? 1 : expandRowBlocksPerPass(kernel))
        // Staged x rows: K_eff for the expands (the shrink reads x in place).
        let rowCapacity = kernel.isShrink ? 16 : max(16, launch.plan.segments.map(\.reduction).max() ?? 0)
        let accumulatorCapacity = byRowBlock ? LaunchPlan.blockRows * launch.plan.columnBlocks * 16 : 0
        // Enough chunks for the workers to balance, few enough to keep the lock cold.
        let chunk = max(1, programs.count / max(1, threads * 16))
        // Waking a second worker costs microseconds: launches with less work
        // than that (bs 1–4 decode) run on the calling thread, as BLAS does.
        let workers = launch.plan.usefulMACs < serialBelow ? 1 : threads
        return ParallelLoop.run(count: programs.count, chunk: chunk, threads: workers, isCancelled: isCancelled) { range in
            ProgramScratch.with(rowCapacity: rowCapacity, accumulatorCapacity: accumulatorCapacity) { scratch in
                programs.forEach(in: range) { position in
                    let tile = launch.plan.tile(position)
                    if byRowBlock {
                        let columnTiles = launch.plan.segments[position.segment].columnTiles
                        SGemmLoRAA.rowBlock(tile, columnTiles: columnTiles, launch, scratch)
                        return
                    }
                    guard tile.validColumns > 0 else { return }  // masked out: nothing to store
                    switch kernel {
                    case .sgemmLoRAA: SGemmLoRAA.program(tile, launch, scratch)
                    case .sgemmLoRAB: SGemmLoRAB.program(tile, launch, scratch)
                    case .qkvLoRAB: QKVLoRAB.program(tile, launch, scratch)
                    case .gateUpLoRAB: GateUpLoRAB.program(tile, launch, scratch)
                    }
                }
            }
        }
    }
}
