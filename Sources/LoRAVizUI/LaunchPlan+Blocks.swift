import LoRAKernels

/// Programs per fate over a block of a grid, in `ProgramFate.allCases` order.
///
/// A lighter `FateCounts` for the zoomed grid views, which tally thousands of
/// blocks per frame.
public struct FateTally: Hashable, Sendable {
    var counts = SIMD8<Int>()

    public init() {}

    public subscript(fate: ProgramFate) -> Int {
        get { counts[fate.ordinal] }
        set { counts[fate.ordinal] = newValue }
    }

    /// All programs tallied.
    public var total: Int { counts.wrappedSum() }

    /// Programs that run their K loop (masked-out, partial, full), as `FateCounts.working`.
    public var working: Int { counts[3] + counts[4] + counts[5] }

    /// The fate with the most programs (ties go to the later, working fates).
    public var dominant: ProgramFate {
        var best = 0
        for i in 1..<6 where counts[i] >= counts[best] { best = i }
        return ProgramFate.allCases[best]
    }

    /// The only fate present, if exactly one is.
    public var single: ProgramFate? {
        var found: Int?
        for i in 0..<6 where counts[i] > 0 {
            if found != nil { return nil }
            found = i
        }
        return found.map { ProgramFate.allCases[$0] }
    }

    static func += (lhs: inout FateTally, rhs: FateTally) { lhs.counts &+= rhs.counts }
}

/// One row of a grid view: a segment, and for the 3-D grids one slice of it.
public struct GridRow: Hashable, Sendable {
    public var segment: Int
    public var slice: Int

    public init(segment: Int, slice: Int) {
        self.segment = segment
        self.slice = slice
    }
}

extension LaunchPlan {
    /// Rows a grid view draws: one per (segment, slice), segment-major.
    public var viewRowCount: Int { segments.count * sliceCount }

    /// The segment and slice of view row `row`.
    @inlinable
    public func viewRow(_ row: Int) -> GridRow {
        GridRow(segment: row / sliceCount, slice: row % sliceCount)
    }

    /// The view row of a program.
    public func viewRow(of p: GridPosition) -> Int {
        p.segment * sliceCount + p.slice
    }

    /// Programs per fate among pids `pids` of one (segment, slice) row, in O(1).
    ///
    /// Derived from the segment's plan exactly as `fate(_:)` decides one
    /// program: the segment exits, then the excess exit past `workingPids`,
    /// then masked-out column tiles past the slice's width, then full row
    /// blocks before `len / 16`. Tests hold it against `fate(_:)` program by program.
    public func tally(segment: Int, slice: Int, pids: Range<Int>) -> FateTally {
        var t = FateTally()
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

    /// Programs per fate over view rows `rows` × pids `pids`: O(rows).
    public func tally(rows: Range<Int>, pids: Range<Int>) -> FateTally {
        var t = FateTally()
        for row in max(0, rows.lowerBound)..<min(viewRowCount, rows.upperBound) {
            t += tally(segment: row / sliceCount, slice: row % sliceCount, pids: pids)
        }
        return t
    }
}
