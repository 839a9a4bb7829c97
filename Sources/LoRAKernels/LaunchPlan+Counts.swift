/// Closed-form counts and costs of a launch, per segment in O(slices).
extension LaunchPlan {
    /// Programs per fate over the whole launch, summed per segment (`init` keeps it as `fateCounts`).
    func countFates() -> FateCounts {
        var c = FateCounts()
        for segment in segments.indices {
            for slice in 0..<sliceCount {
                c += fateCounts(segment: segment, slice: slice, pids: 0..<pidCount)
            }
        }
        return c
    }

    /// Programs per fate among pids `pids` of one (segment, slice), in closed
    /// form (the strategy's `ProgramMap`; tests hold it against `fate(_:)`
    /// program by program).
    public func fateCounts(segment: Int, slice: Int, pids: Range<Int>) -> FateCounts {
        let inGrid = pids.clamped(to: 0..<pidCount)
        guard !inGrid.isEmpty else { return FateCounts() }
        if let exit = segments[segment].segmentExit {
            // Every program of a segment that exits whole exits with it, whatever the strategy.
            var t = FateCounts()
            t[exit] = inGrid.count
            return t
        }
        return map.fateCounts(segment: segment, slice: slice, pids: inGrid, in: self)
    }

    /// Valid rows summed over the programs that run their K loop.
    ///
    /// Utilisation is this over `BLOCK_M × working programs`.
    public var validRows: Int { totals.validRows }

    /// `valid rows ÷ (BLOCK_M × working programs)`, 0 when nothing works.
    public var rowUtilisation: Double {
        let working = fateCounts.working
        return working == 0 ? 0 : Double(validRows) / Double(blocks.m * working)
    }

    /// Multiply-adds that land in a valid output cell of the adapter's own
    /// rank: `len × width × K_eff` per slice; the same for every strategy.
    public var usefulMACs: Int {
        segments.reduce(0) { sum, seg in
            guard seg.segmentExit == nil else { return sum }
            if case .sgemmLoRAA(let stack) = kernel {
                return sum + seg.length * stack * min(maxRank, seg.rank) * seg.reduction
            }
            return sum + seg.length * outputWidths.reduce(0, +) * min(maxRank, seg.rank)
        }
    }

    /// Multiply-adds the working programs issue: `BLOCK_M × BLOCK_N × K loop`
    /// each, the K loop rounded up to `BLOCK_K`.
    public var issuedMACs: Int { totals.issuedMACs }

    /// Weight bytes the working programs load: the valid columns of each
    /// weight tile (masked lanes fetch nothing), so an adapter's weights are
    /// read once per row tile of its segment.
    public var weightBytes: Int { totals.weightBytes }

    /// The fate counts found by visiting every program; for tests of the closed form.
    @_spi(Testing) public func enumeratedFateCounts() -> FateCounts {
        var c = FateCounts()
        for segment in segments.indices {
            for slice in 0..<sliceCount {
                for pid in 0..<pidCount {
                    c[fate(GridPosition(pid: pid, slice: slice, segment: segment))] += 1
                }
            }
        }
        return c
    }
}

/// Sums over a launch's working programs that the report prints.
struct LaunchTotals: Hashable, Sendable {
    var validRows = 0
    var issuedMACs = 0
    var weightBytes = 0
}

extension LaunchPlan {
    /// The totals of a grid whose working programs of a segment are its row
    /// blocks × column tiles (triton, csgmv): rows once per column tile,
    /// weights once per row block.
    var rowColumnTotals: LaunchTotals {
        var t = LaunchTotals()
        for seg in segments where seg.segmentExit == nil {
            t.validRows += seg.length * seg.columnTiles * sliceCount
            let perProgram = seg.blockRows * blocks.n * cdiv(seg.reduction, blocks.k) * blocks.k
            t.issuedMACs += seg.rowBlocks * seg.columnTiles * sliceCount * perProgram
            t.weightBytes += seg.rowBlocks * seg.sliceWidths.reduce(0) { $0 + $1 * seg.reduction } * dtype.byteCount
        }
        return t
    }
}
