/// SGLang's `triton` LoRA backend (docs/kernels.md): one 16-row block per
/// program, pid = `pid_s · num_pid_n + pid_n` on axis 0, the slices of the
/// fused expands on axis 1, segments last. Exits in order: rank 0, empty
/// segment, excess row block; column tiles past a slice's width run masked.
///
/// Its three routings share the grid and the program map; they differ only
/// in the segments and `max_len` they hand the kernels.
enum TritonGrid {
    /// The layout of SGLang's `triton` kernels over `routing`.
    static func layout(_ workload: Workload, routing: Routing) -> StrategyLayout {
        let dims = workload.launchDims
        let kernel = workload.kernel
        let blocks = kernel.blocks
        let widths = kernel.outputSlices(dims).map(\.count)
        let columnBlocks = cdiv(widths.max() ?? 0, blocks.n)
        let ranks = workload.batch.slotRanks, scalings = workload.batch.slotScalings
        let segments = routing.weightIndices.enumerated().map { seg, slot in
            let rank = slot < ranks.count ? ranks[slot] : 0
            let length = routing.segmentLengths[seg]
            let plan: (tiles: Int, reduction: Int, widths: [Int])
            if case .sgemmLoRAA(let stack) = kernel {
                let nEff = min(stack * dims.maxRank, stack * rank)
                plan = (cdiv(nEff, blocks.n), dims.hidden, [nEff])
            } else {
                plan = (columnBlocks, min(dims.maxRank, rank), widths)
            }
            // Step 1 tests the rank, step 2 the segment's length (docs/kernels.md §3).
            let exit: ProgramFate? = rank == 0 ? .rank0Exit : length == 0 ? .emptyExit : nil
            return SegmentPlan(
                segment: seg, slot: slot, rank: rank, scaling: slot < scalings.count ? scalings[slot] : 0,
                length: length, columnTiles: plan.tiles, reduction: plan.reduction, sliceWidths: plan.widths,
                segmentExit: exit, blockRows: blocks.m)
        }
        let rowBlocks = cdiv(routing.maxLength, blocks.m)
        return StrategyLayout(
            routing: routing, blocks: blocks, segments: segments,
            pidCount: rowBlocks * columnBlocks, pidFactors: [rowBlocks, columnBlocks],
            sliceCount: kernel.sliceCount, isThreeD: kernel.sliceCount > 1,
            rowBlocks: rowBlocks, columnBlocks: columnBlocks, map: RowColumnGrid())
    }
}

/// SGLang `triton`, one segment per sequence: the grid grows with the batch.
enum PerSequenceStrategy: StrategyDescriptor {
    static let name = "per-sequence"
    static let title = "per-sequence"
    static let summary = "SGLang triton: one segment per sequence, max_len = the longest sequence"
    static func layout(_ workload: Workload, _ options: StrategyOptions) -> StrategyLayout {
        TritonGrid.layout(workload, routing: .perSequence(workload.batch))
    }
    static func executionRouting(_ batch: Batch, _ options: StrategyOptions) -> Routing { .perSequence(batch) }
}

/// SGLang `triton` after PR 22386: one segment per slot, `max_len = S`.
enum SortedStrategy: StrategyDescriptor {
    static let name = "sorted"
    static let title = "per-adapter (sorted)"
    static let summary = "SGLang triton after PR 22386: tokens sorted by slot, one segment per slot, max_len = S"
    static func layout(_ workload: Workload, _ options: StrategyOptions) -> StrategyLayout {
        TritonGrid.layout(workload, routing: .sorted(workload.batch))
    }
    static func executionRouting(_ batch: Batch, _ options: StrategyOptions) -> Routing { .sorted(batch) }
}

/// The sorted routing with `max_len` = the longest segment: the host must
/// know it before the launch, which a captured CUDA graph cannot.
enum TightStrategy: StrategyDescriptor {
    static let name = "tight"
    static let title = "sorted, tight grid"
    static let summary = "sorted with max_len = the longest segment (needs the host to know it: no CUDA graph)"
    static func layout(_ workload: Workload, _ options: StrategyOptions) -> StrategyLayout {
        TritonGrid.layout(workload, routing: .tight(workload.batch))
    }
    static func executionRouting(_ batch: Batch, _ options: StrategyOptions) -> Routing { .tight(batch) }
}

/// pid = `row block · columnTiles + column tile` (column fastest), slices on
/// axis 1: SGLang `triton`'s grid, and csgmv's shrink (one row block of
/// `BLOCK_M` = the chunk per segment, every column tile of `stack·R`).
struct RowColumnGrid: ProgramMap {
    func fate(_ p: GridPosition, in plan: LaunchPlan) -> ProgramFate {
        let seg = plan.segments[p.segment]
        if let exit = seg.segmentExit { return exit }
        let rowStart = (p.pid / seg.columnTiles) * seg.blockRows
        if rowStart >= seg.length { return .excessExit }
        if (p.pid % seg.columnTiles) * plan.blocks.n >= seg.sliceWidths[p.slice] { return .maskedOut }
        return rowStart + seg.blockRows <= seg.length ? .full : .partial
    }

    func tile(_ p: GridPosition, in plan: LaunchPlan) -> ProgramTile {
        let seg = plan.segments[p.segment]
        let fate = fate(p, in: plan)
        guard fate.runsKLoop else { return ProgramTile(exiting: p, fate: fate, plan: plan) }
        let blockN = plan.blocks.n
        let rowBlock = p.pid / seg.columnTiles, columnTile = p.pid % seg.columnTiles
        let rowStart = rowBlock * seg.blockRows, columnStart = columnTile * blockN
        return ProgramTile(
            position: p, fate: fate, rowBlock: rowBlock, columnTile: columnTile,
            rowStart: rowStart, validRows: min(seg.blockRows, seg.length - rowStart),
            columnStart: columnStart,
            validColumns: max(0, min(blockN, seg.sliceWidths[p.slice] - columnStart)),
            outputColumnOffset: plan.sliceOffsets[p.slice],
            inputColumnOffset: p.slice * seg.rank,
            reduction: seg.reduction)
    }

    /// Decided exactly as `fate` decides one program: the segment's exit,
    /// then the excess exit past `workingPids`, then masked-out column tiles
    /// past the slice's width, then full row blocks before `len / BLOCK_M`.
    func fateCounts(segment: Int, slice: Int, pids: Range<Int>, in plan: LaunchPlan) -> FateCounts {
        var t = FateCounts()
        let lo = pids.lowerBound, hi = pids.upperBound
        let seg = plan.segments[segment]
        let working = seg.workingPids
        t[.excessExit] = max(0, hi - max(lo, working))
        let end = min(hi, working)
        guard lo < end else { return t }
        let tiles = seg.columnTiles
        let validTiles = min(tiles, cdiv(seg.sliceWidths[slice], plan.blocks.n))
        let everyRow = 0 ..< Int.max
        t[.maskedOut] = interleavedCount(lo ..< end, fast: tiles, fastRange: validTiles ..< tiles, slowRange: everyRow)
        let fullRows = 0 ..< seg.length / seg.blockRows
        t[.full] = interleavedCount(lo ..< end, fast: tiles, fastRange: 0 ..< validTiles, slowRange: fullRows)
        t[.partial] = interleavedCount(lo ..< end, fast: tiles, fastRange: 0 ..< validTiles, slowRange: fullRows.upperBound ..< Int.max)
        return t
    }

    func gpuWork(_ plan: LaunchPlan) -> GPUWork { plan.rowColumnGPUWork }
    func totals(_ plan: LaunchPlan) -> LaunchTotals { plan.rowColumnTotals }
}
