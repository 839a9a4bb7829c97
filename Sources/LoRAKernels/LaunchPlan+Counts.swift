/// Closed-form counts and costs of a launch, per segment in O(slices).
extension LaunchPlan {
    /// Programs per fate.
    public var fateCounts: FateCounts {
        var c = FateCounts()
        let perSegment = pidCount * sliceCount
        for seg in segments {
            if let exit = seg.segmentExit {
                c[exit] += perSegment
                continue
            }
            let working = seg.workingPids
            c[.excessExit] += (pidCount - working) * sliceCount
            let fullBlocks = seg.length / Self.blockRows
            let partialBlocks = seg.rowBlocks - fullBlocks
            for width in seg.sliceWidths {
                let validTiles = min(seg.columnTiles, cdiv(width, kernel.blocks.n))
                let maskedTiles = seg.columnTiles - validTiles
                c[.maskedOut] += seg.rowBlocks * maskedTiles
                c[.full] += fullBlocks * validTiles
                c[.partial] += partialBlocks * validTiles
            }
        }
        return c
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
