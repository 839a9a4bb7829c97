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
public struct SegmentPlan: Hashable, Sendable {
    /// The segment's index (`seg`).
    public var segment: Int
    /// `w = weight_indices[seg]`.
    public var slot: Int
    /// `r = rank[w]`.
    public var rank: Int
    /// `scaling[w]`.
    public var scaling: Float
    /// `len = seg_lens[seg]`.
    public var length: Int
    /// `num_pid_n`: column tiles per row block (the shrink's depends on `r`).
    public var columnTiles: Int
    /// The K loop's length: `K` for the shrink, `K_eff = min(R, r)` for the expands.
    public var reduction: Int
    /// Valid output columns of each slice: `N_eff` for the shrink, `N`, or the slice widths.
    public var sliceWidths: [Int]

    /// The fate shared by every program of the segment, if it exits at steps 1–2.
    public var segmentExit: ProgramFate? {
        if rank == 0 { return .rank0Exit }
        if length == 0 { return .emptyExit }
        return nil
    }

    /// Row blocks that hold valid rows: `cdiv(len, 16)`.
    public var rowBlocks: Int { cdiv(length, LaunchPlan.blockRows) }

    /// Programs along axis 0 that pass the excess exit: a prefix `0 ..< workingPids`.
    public var workingPids: Int { segmentExit == nil ? rowBlocks * columnTiles : 0 }
}

/// The tile one program covers and the offsets it reads and writes through.
public struct ProgramTile: Hashable, Sendable {
    public var position: GridPosition
    public var fate: ProgramFate
    /// `pid_s`, `pid_n` (0 for programs that exit before computing them).
    public var rowBlock: Int
    public var columnTile: Int
    /// First logical row of the segment the tile covers, and how many of its 16 are valid.
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
}

/// The launch of one kernel over one routing: the grid and the fate and tile of
/// every program, computed once and read by the views, the counts, the report
/// and the SIMD executor.
///
/// Programs are not stored: `bs 4096` on `mlpb 512` launches tens of millions.
/// Everything is derived from the per-segment values in O(1) per program, and
/// the counts in closed form per segment.
public struct LaunchPlan: Hashable, Sendable {
    /// `BLOCK_S`: token rows per program, the same for all four kernels.
    public static let blockRows = 16

    public let kernel: Kernel
    public let routing: Routing
    public let dtype: DType
    /// `R`: the weight buffers' largest rank, the row length of the expands' B weights.
    public let maxRank: Int
    public let segments: [SegmentPlan]
    /// `cdiv(max_len, 16)`.
    public let rowBlocks: Int
    /// The grid's column tiles per row block (`cdiv(stack·R, 16)`, `cdiv(N, 256)`, …).
    public let columnBlocks: Int
    /// Output column offset of every slice.
    public let sliceOffsets: [Int]

    public init(workload: Workload, routing kind: RoutingKind) {
        self.init(workload: workload, routing: Routing.make(kind, for: workload.batch))
    }

    public init(workload: Workload, routing: Routing) {
        let dims = workload.dims
        let kernel = workload.kernel
        let ranks = workload.batch.slotRanks
        let scalings = workload.batch.slotScalings
        self.kernel = kernel
        self.routing = routing
        self.dtype = workload.dtype
        self.maxRank = dims.maxRank
        self.rowBlocks = cdiv(routing.maxLength, Self.blockRows)
        let blockN = kernel.blocks.n
        let slices = kernel.outputSlices(dims)
        let widths = slices.map(\.count)
        let columnBlocks = cdiv(widths.max() ?? 0, blockN)
        self.columnBlocks = columnBlocks
        sliceOffsets = slices.map(\.lowerBound)
        segments = routing.weightIndices.enumerated().map { seg, slot in
            let rank = slot < ranks.count ? ranks[slot] : 0
            let plan: (tiles: Int, reduction: Int, widths: [Int])
            if case .sgemmLoRAA(let stack) = kernel {
                let nEff = min(stack * dims.maxRank, stack * rank)
                plan = (cdiv(nEff, blockN), dims.hidden, [nEff])
            } else {
                plan = (columnBlocks, min(dims.maxRank, rank), widths)
            }
            return SegmentPlan(
                segment: seg, slot: slot, rank: rank,
                scaling: slot < scalings.count ? scalings[slot] : 0,
                length: routing.segmentLengths[seg],
                columnTiles: plan.tiles, reduction: plan.reduction, sliceWidths: plan.widths)
        }
    }

    // MARK: Grid

    /// Programs along axis 0: `cdiv(max_len, 16) · columnBlocks`.
    public var pidCount: Int { rowBlocks * columnBlocks }

    /// Slices along axis 1 of the 3-D grids; 1 for the 2-D ones.
    public var sliceCount: Int { kernel.sliceCount }

    /// The grid's axes as launched: two for the shrink and `sgemm_lora_b`, three otherwise.
    public var grid: [Int] {
        sliceCount > 1 ? [pidCount, sliceCount, segments.count] : [pidCount, segments.count]
    }

    /// The grid padded to three axes (`[x, y, z]`), as the JSON report writes it.
    public var grid3: [Int] {
        let g = grid
        return g + Array(repeating: 1, count: 3 - g.count)
    }

    /// The product of the grid's axes.
    public var launched: Int { pidCount * sliceCount * segments.count }

    // MARK: Programs

    /// The fate of one program.
    @inlinable
    public func fate(_ p: GridPosition) -> ProgramFate {
        let seg = segments[p.segment]
        if let exit = seg.segmentExit { return exit }
        let rowBlock = p.pid / seg.columnTiles
        let columnTile = p.pid % seg.columnTiles
        let rowStart = rowBlock * Self.blockRows
        if rowStart >= seg.length { return .excessExit }
        if columnTile * kernel.blocks.n >= seg.sliceWidths[p.slice] { return .maskedOut }
        return rowStart + Self.blockRows <= seg.length ? .full : .partial
    }

    /// The tile a program covers, with its fate.
    public func tile(_ p: GridPosition) -> ProgramTile {
        let seg = segments[p.segment]
        let fate = fate(p)
        let blockN = kernel.blocks.n
        guard fate.runsKLoop else {
            return ProgramTile(position: p, fate: fate, rowBlock: 0, columnTile: 0, rowStart: 0, validRows: 0,
                               columnStart: 0, validColumns: 0, outputColumnOffset: sliceOffsets[p.slice],
                               inputColumnOffset: 0, reduction: 0)
        }
        let rowBlock = p.pid / seg.columnTiles
        let columnTile = p.pid % seg.columnTiles
        let rowStart = rowBlock * Self.blockRows
        let columnStart = columnTile * blockN
        return ProgramTile(
            position: p, fate: fate, rowBlock: rowBlock, columnTile: columnTile,
            rowStart: rowStart, validRows: min(Self.blockRows, seg.length - rowStart),
            columnStart: columnStart,
            validColumns: max(0, min(blockN, seg.sliceWidths[p.slice] - columnStart)),
            outputColumnOffset: sliceOffsets[p.slice],
            inputColumnOffset: p.slice * seg.rank,
            reduction: seg.reduction)
    }

    /// Calls `body` with the tile of every program that computes something
    /// (partial or full), segment by segment, slice by slice, pid by pid.
    public func forEachComputingTile(_ body: (ProgramTile) throws -> Void) rethrows {
        for seg in segments where seg.segmentExit == nil {
            for slice in 0..<sliceCount {
                for pid in 0..<seg.workingPids {
                    let t = tile(GridPosition(pid: pid, slice: slice, segment: seg.segment))
                    if t.validColumns > 0 { try body(t) }
                }
            }
        }
    }

    /// Every computing tile, in the order `forEachComputingTile` visits them.
    public var computingTiles: [ProgramTile] {
        var tiles: [ProgramTile] = []
        forEachComputingTile { tiles.append($0) }
        return tiles
    }
}
