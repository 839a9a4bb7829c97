/// vLLM's `lora_shrink` / `lora_expand` (docs/strategies.md §vllm).
///
/// Routing: each token's LoRA id is its slot, or -1 on a rank-0 slot (no
/// LoRA). Tokens are stably sorted by id; the distinct ids (ascending, so -1
/// first) with their counts fill the z axis's groups, `slots + 1` of them
/// (the rest id -1, no tokens), or with `specialize` the smallest power of
/// two ≥ the groups (at most `slots + 1`). Every adapter is zero-padded to
/// the largest rank `R`: no rank exit, and a rank-r adapter computes `R`
/// columns. With no LoRA token the host launches nothing.
///
/// - Shrink: `M` = the batch's tokens, `N = R`, `K` = hidden, one slice per
///   stacked projection: grid `(SPLIT_K · cdiv(M, BLOCK_M) · cdiv(R, BLOCK_N),
///   stack, groups)`; `BLOCK_M 32, BLOCK_N 16` and `BLOCK_K 256, SPLIT_K 64`
///   when `M < 128`, `BLOCK_K 32, SPLIT_K 8` otherwise. Axis 0: split fastest,
///   then (m, n) in groups of 8 m tiles, m fastest within a group. Exits: id
///   -1; `pid_m · BLOCK_M ≥` the group's tokens; a split starting past K
///   skips its loop but still adds its zero tile.
/// - Expand: `K = R`: grid `(cdiv(M, 64) · cdiv(max width, BLOCK_N), slices,
///   groups)`, m fastest; `BLOCK_N` 128 (64 with several slices), `BLOCK_K 32`.
///   Exits: id -1; the m tile past the group's tokens; the n tile past this
///   slice's width.
enum VLLMStrategy: StrategyDescriptor {
    static let name = "vllm"
    static let title = "vLLM lora_shrink/expand"
    static let summary = "vLLM: stable sort by LoRA id, max_loras + 1 groups on z, adapters padded to R, split-K shrink"
    static let kernelFamily = "vllm"

    /// `GROUP_SIZE_M`: m tiles per group of the shrink's axis-0 order.
    static let groupSizeM = 8

    /// The shrink's block sizes: `BLOCK_K 256, SPLIT_K 64` below 128 tokens, `BLOCK_K 32, SPLIT_K 8` from 128.
    static func shrinkBlocks(tokens m: Int) -> BlockSizes {
        m < 128 ? BlockSizes(m: 32, n: 16, k: 256, splitK: 64) : BlockSizes(m: 32, n: 16, k: 32, splitK: 8)
    }

    /// How the shrink's split-K orders each cell's fp32 sum.
    static func splitK(_ workload: Workload) -> SplitKOrder {
        let b = shrinkBlocks(tokens: workload.batch.totalTokens)
        return SplitKOrder(blockK: b.k, splits: b.splitK)
    }

    /// The routing: every token sorted by LoRA id, one segment per group of the z axis.
    static func routing(_ batch: Batch, specialize: Bool) -> Routing {
        let ranks = batch.slotRanks
        let ids = Routing.tokenSlots(batch).map { ranks[$0] > 0 ? $0 : -1 }
        // A stable sort on small integer keys (-1 first).
        var counts: [Int: Int] = [:]
        for id in ids { counts[id, default: 0] += 1 }
        let present = counts.keys.sorted()
        var next: [Int: Int] = [:], offset = 0
        for id in present { next[id] = offset; offset += counts[id]! }
        var permutation = [Int](repeating: 0, count: ids.count)
        for (row, id) in ids.enumerated() {
            permutation[next[id]!] = row
            next[id]! += 1
        }
        let slotsPlusOne = batch.slotCount + 1
        var z = slotsPlusOne
        if specialize {
            var p = 1
            while p < present.count { p *= 2 }
            z = min(p, slotsPlusOne)
        }
        let live = present.filter { $0 >= 0 }
        if live.isEmpty { z = 0 }  // no LoRA token: nothing is launched
        var lengths = present.map { counts[$0]! }, indices = present
        if z == 0 { lengths = []; indices = [] }
        lengths += repeatElement(0, count: max(0, z - lengths.count))
        indices += repeatElement(-1, count: max(0, z - indices.count))
        var starts = [Int](), start = 0
        for l in lengths { starts.append(start); start += l }
        starts.append(start)
        return Routing(kind: .vllm, segmentLengths: lengths, segmentStarts: starts, weightIndices: indices,
                       maxLength: ids.count, permutation: permutation, isWhatIf: false)
    }

    static func layout(_ workload: Workload, _ options: StrategyOptions) -> StrategyLayout {
        let batch = workload.batch, dims = workload.launchDims, kernel = workload.kernel
        let routing = routing(batch, specialize: options.specializeActiveLoRAs)
        let m = batch.totalTokens, maxRank = dims.maxRank
        let scalings = batch.slotScalings, ranks = batch.slotRanks
        let widths: [Int], blocks: BlockSizes, slices: Int
        if case .sgemmLoRAA(let stack) = kernel {
            slices = stack
            widths = Array(repeating: maxRank, count: stack)
            blocks = shrinkBlocks(tokens: m)
        } else {
            widths = kernel.outputSlices(dims).map(\.count)
            slices = widths.count
            blocks = BlockSizes(m: 64, n: slices > 1 ? 64 : 128, k: 32)
        }
        let mTiles = cdiv(m, blocks.m), nTiles = cdiv(widths.max() ?? 0, blocks.n)
        let segments = routing.weightIndices.enumerated().map { g, id in
            SegmentPlan(
                segment: g, slot: id, rank: id >= 0 ? ranks[id] : 0, scaling: id >= 0 ? scalings[id] : 0,
                length: routing.segmentLengths[g], columnTiles: nTiles,
                reduction: kernel.isShrink ? dims.hidden : maxRank, sliceWidths: widths,
                segmentExit: id < 0 ? .noLoRAExit : nil, blockRows: blocks.m)
        }
        let pidCount = blocks.splitK * mTiles * nTiles
        let map: any ProgramMap = kernel.isShrink
            ? VLLMShrinkGrid(mTiles: mTiles, nTiles: nTiles, splitK: blocks.splitK,
                             workingSplits: min(blocks.splitK, cdiv(dims.hidden, blocks.k)))
            : VLLMExpandGrid(mTiles: mTiles)
        return StrategyLayout(
            routing: routing, blocks: blocks, segments: segments,
            pidCount: segments.isEmpty ? 0 : pidCount,
            pidFactors: kernel.isShrink ? [blocks.splitK, mTiles, nTiles] : [mTiles, nTiles],
            sliceCount: segments.isEmpty ? 0 : slices, isThreeD: true,
            rowBlocks: mTiles, columnBlocks: nTiles, map: map)
    }

    /// The CPU runs the LoRA tokens' groups in the same sorted order: the
    /// sorted routing's segments (rank-0 slots exit there as -1 groups do here).
    static func executionRouting(_ batch: Batch, _ options: StrategyOptions) -> Routing {
        var routing = Routing.sorted(batch)
        routing.kind = .vllm
        return routing
    }
}

/// vLLM's shrink axis 0: `pid = q · SPLIT_K + split`, `q` walking (m, n) in
/// groups of 8 m tiles, m fastest within a group.
struct VLLMShrinkGrid: ProgramMap {
    let mTiles: Int
    let nTiles: Int
    let splitK: Int
    /// Splits whose K range starts before K: `min(SPLIT_K, cdiv(K, BLOCK_K))`.
    let workingSplits: Int

    /// `(split, pid_m, pid_n)` of a program.
    func decode(_ pid: Int) -> (split: Int, m: Int, n: Int) {
        let (q, split) = pid.quotientAndRemainder(dividingBy: splitK)
        let (m, n) = tile(ofQ: q)
        return (split, m, n)
    }

    func tile(ofQ q: Int) -> (m: Int, n: Int) {
        let perGroup = VLLMStrategy.groupSizeM * nTiles
        let first = (q / perGroup) * VLLMStrategy.groupSizeM
        let size = min(mTiles - first, VLLMStrategy.groupSizeM)
        let local = q % perGroup
        return (first + local % size, local / size)
    }

    func fate(_ p: GridPosition, in plan: LaunchPlan) -> ProgramFate {
        let seg = plan.segments[p.segment]
        if let exit = seg.segmentExit { return exit }
        let (split, m, _) = decode(p.pid)
        let rowStart = m * seg.blockRows
        if rowStart >= seg.length { return .excessExit }
        if split >= workingSplits { return .splitIdle }
        return rowStart + seg.blockRows <= seg.length ? .full : .partial
    }

    func tile(_ p: GridPosition, in plan: LaunchPlan) -> ProgramTile {
        let seg = plan.segments[p.segment]
        let fate = fate(p, in: plan)
        let (split, m, n) = decode(p.pid)
        guard fate.runsKLoop else {
            // Past the group's exit the program has decoded its tile: say which.
            var t = ProgramTile(exiting: p, fate: fate, plan: plan)
            if fate != .noLoRAExit { (t.rowBlock, t.columnTile, t.split) = (m, n, split) }
            return t
        }
        let rowStart = m * seg.blockRows, columnStart = n * plan.blocks.n
        var t = ProgramTile(
            position: p, fate: fate, rowBlock: m, columnTile: n, rowStart: rowStart,
            validRows: min(seg.blockRows, seg.length - rowStart), columnStart: columnStart,
            validColumns: max(0, min(plan.blocks.n, seg.sliceWidths[p.slice] - columnStart)),
            outputColumnOffset: p.slice * plan.maxRank, inputColumnOffset: 0, reduction: seg.reduction)
        t.split = split
        t.splitStart = split * plan.blocks.k
        t.splitStride = plan.blocks.k * splitK
        // The K elements this split covers: its blocks s, s + SPLIT_K, … below K.
        var covered = 0, k = t.splitStart
        while k < seg.reduction { covered += min(plan.blocks.k, seg.reduction - k); k += t.splitStride }
        t.reduction = covered
        return t
    }

    /// The (m, n) tiles `q ∈ qs` whose m lies in `ms`: per group of 8 m
    /// tiles, an interleaved count (m fastest), O(groups).
    func tileCount(_ qs: Range<Int>, ms: Range<Int>) -> Int {
        let perGroup = VLLMStrategy.groupSizeM * nTiles
        guard !qs.isEmpty, perGroup > 0 else { return 0 }
        var count = 0
        for group in (qs.lowerBound / perGroup)...((qs.upperBound - 1) / perGroup) {
            let first = group * VLLMStrategy.groupSizeM
            let size = min(mTiles - first, VLLMStrategy.groupSizeM)
            let base = group * perGroup
            let local = max(qs.lowerBound, base) - base ..< min(qs.upperBound, base + perGroup) - base
            let upper = max(0, min(size, ms.upperBound - first))
            let localMs = min(upper, max(0, ms.lowerBound - first)) ..< upper
            count += interleavedCount(local, fast: size, fastRange: localMs, slowRange: 0 ..< Int.max)
        }
        return count
    }

    func fateCounts(segment: Int, slice: Int, pids: Range<Int>, in plan: LaunchPlan) -> FateCounts {
        var t = FateCounts()
        let lo = pids.lowerBound, hi = pids.upperBound
        let seg = plan.segments[segment]
        let mWork = cdiv(seg.length, seg.blockRows), mFull = seg.length / seg.blockRows
        // The (m, n) tiles at both ends are cut; count their splits one by one.
        let qLo = lo / splitK, qHi = (hi - 1) / splitK
        func edge(_ q: Int, _ splits: Range<Int>) {
            for split in splits { t[fate(GridPosition(pid: q * splitK + split, slice: slice, segment: segment), in: plan)] += 1 }
        }
        if qLo == qHi {
            edge(qLo, lo - qLo * splitK ..< hi - qLo * splitK)
            return t
        }
        edge(qLo, lo - qLo * splitK ..< splitK)
        edge(qHi, 0 ..< hi - qHi * splitK)
        let middle = qLo + 1 ..< qHi
        let full = tileCount(middle, ms: 0 ..< mFull), partial = tileCount(middle, ms: mFull ..< mWork)
        t[.excessExit] += (middle.count - full - partial) * splitK
        t[.full] += full * workingSplits
        t[.partial] += partial * workingSplits
        t[.splitIdle] += (full + partial) * (splitK - workingSplits)
        return t
    }

    func totals(_ plan: LaunchPlan) -> LaunchTotals { plan.vllmTotals(workingSplits: workingSplits) }

    func gpuWork(_ plan: LaunchPlan) -> GPUWork { plan.vllmGPUWork(workingSplits: workingSplits, splitK: splitK) }
}

/// vLLM's expand axis 0: `pid = pid_n · cdiv(M, BLOCK_M) + pid_m` (m fastest).
struct VLLMExpandGrid: ProgramMap {
    let mTiles: Int

    func fate(_ p: GridPosition, in plan: LaunchPlan) -> ProgramFate {
        let seg = plan.segments[p.segment]
        if let exit = seg.segmentExit { return exit }
        let (n, m) = p.pid.quotientAndRemainder(dividingBy: mTiles)
        let rowStart = m * seg.blockRows
        if rowStart >= seg.length { return .excessExit }
        if n * plan.blocks.n >= seg.sliceWidths[p.slice] { return .columnExit }
        return rowStart + seg.blockRows <= seg.length ? .full : .partial
    }

    func tile(_ p: GridPosition, in plan: LaunchPlan) -> ProgramTile {
        let seg = plan.segments[p.segment]
        let fate = fate(p, in: plan)
        let (n, m) = p.pid.quotientAndRemainder(dividingBy: mTiles)
        guard fate.runsKLoop else {
            var t = ProgramTile(exiting: p, fate: fate, plan: plan)
            if fate != .noLoRAExit { (t.rowBlock, t.columnTile) = (m, n) }
            return t
        }
        let rowStart = m * seg.blockRows, columnStart = n * plan.blocks.n
        return ProgramTile(
            position: p, fate: fate, rowBlock: m, columnTile: n, rowStart: rowStart,
            validRows: min(seg.blockRows, seg.length - rowStart), columnStart: columnStart,
            validColumns: max(0, min(plan.blocks.n, seg.sliceWidths[p.slice] - columnStart)),
            outputColumnOffset: plan.sliceOffsets[p.slice], inputColumnOffset: p.slice * plan.maxRank,
            reduction: seg.reduction)
    }

    func fateCounts(segment: Int, slice: Int, pids: Range<Int>, in plan: LaunchPlan) -> FateCounts {
        var t = FateCounts()
        let lo = pids.lowerBound, hi = pids.upperBound
        let seg = plan.segments[segment]
        let mWork = min(mTiles, cdiv(seg.length, seg.blockRows)), mFull = seg.length / seg.blockRows
        let nValid = cdiv(seg.sliceWidths[slice], plan.blocks.n)
        let all = 0 ..< Int.max
        func count(_ ms: Range<Int>, _ ns: Range<Int>) -> Int {
            interleavedCount(lo ..< hi, fast: mTiles, fastRange: ms, slowRange: ns)
        }
        t[.excessExit] = count(mWork ..< mTiles, all)
        t[.columnExit] = count(0 ..< mWork, nValid ..< Int.max)
        t[.full] = count(0 ..< mFull, 0 ..< nValid)
        t[.partial] = count(mFull ..< mWork, 0 ..< nValid)
        return t
    }

    func totals(_ plan: LaunchPlan) -> LaunchTotals { plan.vllmTotals(workingSplits: 1) }

    func gpuWork(_ plan: LaunchPlan) -> GPUWork { plan.vllmGPUWork(workingSplits: 1, splitK: 1) }
}

extension LaunchPlan {
    /// vLLM's totals: per live group and slice, each of its rows once per
    /// working split of each valid n tile; the splits' K steps and weight
    /// loads cover K once per live (m, n) tile.
    func vllmTotals(workingSplits: Int) -> LaunchTotals {
        var t = LaunchTotals()
        let b = blocks
        for seg in segments where seg.segmentExit == nil {
            let mWork = cdiv(seg.length, b.m)
            for width in seg.sliceWidths {
                let nValid = cdiv(width, b.n)
                t.validRows += seg.length * nValid * workingSplits
                t.issuedMACs += mWork * nValid * b.m * b.n * cdiv(seg.reduction, b.k) * b.k
                t.weightBytes += mWork * width * seg.reduction * dtype.byteCount
            }
        }
        return t
    }

    /// vLLM's launch in the cost model's terms: -1 groups are segment exits;
    /// excess m tiles and column tiles past a slice are excess exits; idle
    /// splits count as working programs with no K step (they still store).
    func vllmGPUWork(workingSplits: Int, splitK: Int) -> GPUWork {
        let bytes = dtype.byteCount, b = blocks
        let outputPasses = kernel.isShrink ? 1 : 2
        var counts = FateCounts()
        var kSteps = 0, maxKSteps = 0, tileBytes = 0, streamBytes = 0, excessBeforeLastWork = 0, excessSoFar = 0, pairs = 0
        var weightsOfSlot: [Int: Int] = [:]
        let blocksK = cdiv(segments.first?.reduction ?? 0, b.k)
        for seg in segments {
            var c = FateCounts()
            for slice in 0..<sliceCount { c += fateCounts(segment: seg.segment, slice: slice, pids: 0..<pidCount) }
            counts += c
            let live = c.working > 0
            if live { excessBeforeLastWork = excessSoFar }
            // Counted per group: a group's working programs behind the exits of the
            // groups before it, its idle splits among them (they hold a slot for the
            // program's start like any working program, as `workingPrograms` counts them).
            pairs += (c.working + c[.splitIdle]) * excessSoFar
            excessSoFar += c[.excessExit] + c[.columnExit]
            guard seg.segmentExit == nil, live else { continue }
            // Every live (m, n) tile covers K once over its splits.
            let liveTiles = (c[.partial] + c[.full]) / max(1, workingSplits)
            kSteps += liveTiles * blocksK
            maxKSteps = max(maxKSteps, cdiv(blocksK, splitK))
            let width = seg.sliceWidths.reduce(0, +)
            let mWork = cdiv(seg.length, b.m)
            tileBytes += seg.length * liveTiles / max(1, mWork) * seg.reduction * bytes
            tileBytes += mWork * width * seg.reduction * bytes
            // Split-K adds fp32 partial tiles, one per split, idle ones included.
            tileBytes += seg.length * width * (kernel.isShrink ? 4 * splitK : bytes * outputPasses)
            streamBytes += seg.length * (seg.reduction * sliceCount + width * outputPasses) * bytes
            weightsOfSlot[seg.slot] = width * seg.reduction * bytes
        }
        var work = GPUWork(
            segmentExits: counts[.noLoRAExit] + counts[.rank0Exit] + counts[.emptyExit],
            excessExits: counts[.excessExit] + counts[.columnExit],
            workingPrograms: counts.working + counts[.splitIdle],
            kSteps: kSteps, maxKSteps: maxKSteps, permuted: true,
            tileBytes: tileBytes, overfetchBytes: 0,
            uniqueBytes: weightsOfSlot.values.reduce(0, +) + streamBytes,
            excessExitsBeforeLastWork: excessBeforeLastWork, excessExitWorkPairs: pairs)
        work.kernelLaunches = segments.isEmpty ? 0 : kernel.isShrink ? 2 : 1
        return work
    }
}

/// The order vLLM's split-K shrink sums each output cell in: split `s` runs
/// one fp32 chain over K blocks `s, s + splits, s + 2·splits, …` of
/// `blockK` elements, and the partial sums are added into the output in
/// split order, starting from 0. (On the GPU the adds are atomic, so their
/// order is the splits' arrival; lora-viz fixes it at split order to stay
/// deterministic.)
public struct SplitKOrder: Hashable, Sendable {
    public var blockK: Int
    public var splits: Int
}
