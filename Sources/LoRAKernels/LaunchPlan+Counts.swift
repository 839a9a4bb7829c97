/// Closed-form counts and costs of a launch, per segment in O(slices).
extension LaunchPlan {
    /// Programs per fate over the whole launch.
    public var fateCounts: FateCounts {
        var c = FateCounts()
        for segment in segments.indices {
            for slice in 0..<sliceCount {
                c += fateCounts(segment: segment, slice: slice, pids: 0..<pidCount)
            }
        }
        return c
    }

    /// Programs per fate among pids `pids` of one (segment, slice), in O(1).
    ///
    /// Decided exactly as `fate(_:)` decides one program: the segment's exit,
    /// then the excess exit past `workingPids`, then masked-out column tiles
    /// past the slice's width, then full row blocks before `len / 16`. Tests
    /// hold it against `fate(_:)` program by program.
    public func fateCounts(segment: Int, slice: Int, pids: Range<Int>) -> FateCounts {
        var t = FateCounts()
        let lo = max(0, pids.lowerBound), hi = min(pidCount, pids.upperBound)
        guard lo < hi else { return t }
        let seg = segments[segment]
        if let exit = seg.segmentExit {
            t[exit] = hi - lo
            return t
        }
        let working = seg.workingPids
        t[.excessExit] = max(0, hi - max(lo, working))
        let end = min(hi, working)
        guard lo < end else { return t }
        let tiles = seg.columnTiles
        let validTiles = min(tiles, cdiv(seg.sliceWidths[slice], kernel.blocks.n))
        // Masked pids below n: those whose column tile is at or past validTiles.
        func masked(_ n: Int) -> Int { (n / tiles) * (tiles - validTiles) + max(0, n % tiles - validTiles) }
        func unmasked(_ a: Int, _ b: Int) -> Int { a < b ? (b - a) - (masked(b) - masked(a)) : 0 }
        t[.maskedOut] = masked(end) - masked(lo)
        let fullEnd = min(end, max(lo, (seg.length / Self.blockRows) * tiles))
        t[.full] = unmasked(lo, fullEnd)
        t[.partial] = unmasked(fullEnd, end)
        return t
    }

    /// Valid rows summed over the programs that run their K loop.
    ///
    /// Utilisation is this over `16 × working programs`.
    public var validRows: Int {
        segments.reduce(0) { sum, seg in
            seg.segmentExit == nil ? sum + seg.length * seg.columnTiles * sliceCount : sum
        }
    }

    /// `valid rows ÷ (16 × working programs)`, 0 when nothing works.
    public var rowUtilisation: Double {
        let working = fateCounts.working
        return working == 0 ? 0 : Double(validRows) / Double(Self.blockRows * working)
    }

    /// Multiply-adds that land in a valid output cell: `len × width × K_eff` per slice.
    public var usefulMACs: Int {
        segments.reduce(0) { sum, seg in
            guard seg.segmentExit == nil else { return sum }
            return sum + seg.sliceWidths.reduce(0) { $0 + seg.length * $1 * seg.reduction }
        }
    }

    /// Multiply-adds the working programs issue: `16 × BLOCK_N × K loop` each,
    /// the K loop rounded up to `BLOCK_K`.
    public var issuedMACs: Int {
        let b = kernel.blocks
        return segments.reduce(0) { sum, seg in
            guard seg.segmentExit == nil else { return sum }
            let perProgram = b.s * b.n * cdiv(seg.reduction, b.k) * b.k
            return sum + seg.rowBlocks * seg.columnTiles * sliceCount * perProgram
        }
    }

    /// Weight bytes the working programs load: each loads the valid columns of
    /// its `BLOCK_N × K_eff` weight tile (masked lanes fetch nothing), so an
    /// adapter's weights are read once per row block of its segment.
    public var weightBytes: Int {
        segments.reduce(0) { sum, seg in
            guard seg.segmentExit == nil else { return sum }
            let perRowBlock = seg.sliceWidths.reduce(0) { $0 + $1 * seg.reduction }
            return sum + seg.rowBlocks * perRowBlock * dtype.byteCount
        }
    }

    /// The fate counts found by visiting every program; for tests of the closed form.
    public func enumeratedFateCounts() -> FateCounts {
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
