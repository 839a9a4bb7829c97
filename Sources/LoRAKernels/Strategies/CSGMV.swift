/// SGLang's chunked SGMV backend (`csgmv`, the default LoRA backend since
/// late 2025; docs/strategies.md §csgmv).
///
/// Routing: tokens stably sorted by slot; each slot's run of `n` tokens, in
/// ascending slot order (rank-0 slots included, slots without tokens
/// skipped), cut into `cdiv(n, C)` segments of at most `C` rows. Every
/// program covers one whole segment (`BLOCK_M = C`), so eager csgmv has no
/// excess exit and no empty segment.
///
/// - Shrink: grid `(cdiv(stack·R, 16), segments)`, `BLOCK_N 16`, `BLOCK_K 256`.
///   No exit for an N tile past `stack·r`: it runs its K loop masked out.
/// - Expand: the flattened grid `(Σ_slices cdiv(width_i, 64), segments)`,
///   `BLOCK_N 64`, `BLOCK_K 16`: tiles counted per slice, none masked.
///
/// Exits, in the kernels' order: `pid_s ≥ num_segs` (never taken: the host
/// passes the grid's extent), an empty segment, a rank-0 slot.
enum CSGMVStrategy: StrategyDescriptor {
    static let name = "csgmv"
    static let title = "csgmv (chunked SGMV)"
    static let summary = "SGLang csgmv, eager: sorted tokens cut into chunks per slot, flattened expand grids"
    static let kernelFamily = "csgmv"

    static func layout(_ workload: Workload, _ options: StrategyOptions) -> StrategyLayout {
        let chunk = chunkSize(workload.batch, maximum: options.chunk)
        return layout(workload, routing: routing(workload.batch, chunk: chunk), chunk: chunk)
    }

    static func executionRouting(_ batch: Batch, _ options: StrategyOptions) -> Routing {
        routing(batch, chunk: chunkSize(batch, maximum: options.chunk))
    }

    /// `C`: 16 with the default maximum; with a larger one 128 / 32 / 16 for
    /// ≥ 256 / ≥ 64 / fewer tokens in the batch, capped by the maximum.
    static func chunkSize(_ batch: Batch, maximum: Int) -> Int {
        let s = batch.totalTokens
        let natural = s >= 256 ? 128 : s >= 64 ? 32 : 16
        return max(16, min(maximum, natural))
    }

    /// The chunked routing: segments of at most `chunk` sorted tokens per slot.
    static func routing(_ batch: Batch, chunk: Int) -> Routing {
        let sorted = Routing.sorted(batch)
        var lengths: [Int] = [], slots: [Int] = []
        for (slot, n) in sorted.segmentLengths.enumerated() where n > 0 {
            for start in stride(from: 0, to: n, by: chunk) {
                lengths.append(min(chunk, n - start))
                slots.append(slot)
            }
        }
        return Routing(kind: .csgmv, segmentLengths: lengths, segmentStarts: exclusivePrefixSum(lengths),
                       weightIndices: slots, maxLength: chunk, permutation: sorted.permutation,
                       isWhatIf: sorted.isWhatIf)
    }

    /// csgmv's grids over a chunked routing (padded or not).
    static func layout(_ workload: Workload, routing: Routing, chunk: Int) -> StrategyLayout {
        let dims = workload.launchDims, kernel = workload.kernel
        let ranks = workload.batch.slotRanks, scalings = workload.batch.slotScalings
        let widths = kernel.outputSlices(dims).map(\.count)
        let shrink = kernel.isShrink
        let blocks = shrink ? BlockSizes(m: chunk, n: 16, k: 256) : BlockSizes(m: chunk, n: 64, k: 16)
        let tiles = shrink ? cdiv(widths[0], blocks.n) : widths.reduce(0) { $0 + cdiv($1, blocks.n) }
        let segments = routing.weightIndices.enumerated().map { seg, slot in
            let rank = slot < ranks.count ? ranks[slot] : 0
            let length = routing.segmentLengths[seg]
            // The kernels test the segment's length before the slot's rank.
            let exit: ProgramFate? = length == 0 ? .emptyExit : rank == 0 ? .rank0Exit : nil
            let stack = kernel.isShrink ? widths[0] / max(1, dims.maxRank) : 1
            return SegmentPlan(
                segment: seg, slot: slot, rank: rank, scaling: slot < scalings.count ? scalings[slot] : 0,
                length: length, columnTiles: tiles,
                reduction: shrink ? dims.hidden : min(dims.maxRank, rank),
                sliceWidths: shrink ? [stack * min(dims.maxRank, rank)] : widths,
                segmentExit: exit, blockRows: chunk)
        }
        var starts: [Int] = [], next = 0
        for w in widths { starts.append(next); next += cdiv(w, blocks.n) }
        return StrategyLayout(
            routing: routing, blocks: blocks, segments: segments,
            pidCount: tiles, pidFactors: [tiles], sliceCount: 1, isThreeD: false,
            rowBlocks: 1, columnBlocks: tiles,
            map: shrink ? RowColumnGrid() as any ProgramMap : FlattenedSliceGrid(tileStarts: starts))
    }
}

/// csgmv under a captured CUDA graph: the segment axis is the graph's static
/// buffer (`graph_segments`, default the batch's sequence count: a decode
/// graph captured at `max_bs` = bs, one 16-token segment per request); the
/// padded segments have zero length and exit empty.
enum CSGMVGraphStrategy: StrategyDescriptor {
    static let name = "csgmv-graph"
    static let title = "csgmv under a CUDA graph"
    static let summary = "SGLang csgmv in a captured CUDA graph: a fixed segment buffer, padded segments exit empty"
    static let kernelFamily = "csgmv"

    static func layout(_ workload: Workload, _ options: StrategyOptions) -> StrategyLayout {
        let batch = workload.batch
        let chunk = CSGMVStrategy.chunkSize(batch, maximum: options.chunk)
        var routing = CSGMVStrategy.routing(batch, chunk: chunk)
        routing.kind = .csgmvGraph
        // The session refuses a buffer smaller than the live segments
        // (`StrategyOptions.validate`); a plan grows it rather than trap.
        let buffer = max(routing.segmentCount, options.graphSegments ?? batch.sequences.count)
        let padding = buffer - routing.segmentCount
        routing.segmentLengths += repeatElement(0, count: padding)
        routing.weightIndices += repeatElement(0, count: padding)
        routing.segmentStarts += repeatElement(routing.segmentStarts.last ?? 0, count: padding)
        return CSGMVStrategy.layout(workload, routing: routing, chunk: chunk)
    }

    static func executionRouting(_ batch: Batch, _ options: StrategyOptions) -> Routing {
        CSGMVStrategy.executionRouting(batch, options)
    }
}

/// csgmv's expand: axis 0 runs over every slice's column tiles in turn
/// (`tileStarts[i]` is slice `i`'s first), one row tile per segment.
struct FlattenedSliceGrid: ProgramMap {
    /// The first pid of each slice's tiles.
    let tileStarts: [Int]

    func slice(ofPid pid: Int) -> Int {
        var slice = 0
        while slice + 1 < tileStarts.count && tileStarts[slice + 1] <= pid { slice += 1 }
        return slice
    }

    func fate(_ p: GridPosition, in plan: LaunchPlan) -> ProgramFate {
        let seg = plan.segments[p.segment]
        if let exit = seg.segmentExit { return exit }
        return seg.length >= seg.blockRows ? .full : .partial
    }

    func tile(_ p: GridPosition, in plan: LaunchPlan) -> ProgramTile {
        let seg = plan.segments[p.segment]
        let fate = fate(p, in: plan)
        guard fate.runsKLoop else { return ProgramTile(exiting: p, fate: fate, plan: plan) }
        let slice = slice(ofPid: p.pid)
        let columnTile = p.pid - tileStarts[slice], columnStart = columnTile * plan.blocks.n
        return ProgramTile(
            position: p, fate: fate, rowBlock: 0, columnTile: columnTile, rowStart: 0,
            validRows: min(seg.blockRows, seg.length), columnStart: columnStart,
            validColumns: max(0, min(plan.blocks.n, seg.sliceWidths[slice] - columnStart)),
            outputColumnOffset: plan.sliceOffsets[slice], inputColumnOffset: slice * seg.rank,
            reduction: seg.reduction, slice: slice)
    }

    func fateCounts(segment: Int, slice: Int, pids: Range<Int>, in plan: LaunchPlan) -> FateCounts {
        // Every program of a csgmv segment shares its fate.
        var t = FateCounts()
        t[fate(GridPosition(pid: 0, segment: segment), in: plan)] = pids.count
        return t
    }

    func gpuWork(_ plan: LaunchPlan) -> GPUWork { plan.rowColumnGPUWork }
    func totals(_ plan: LaunchPlan) -> LaunchTotals { plan.rowColumnTotals }
}
