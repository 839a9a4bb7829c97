import LoRAKernels

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

    /// Programs per fate over view rows `rows` × pids `pids`: O(rows).
    public func tally(rows: Range<Int>, pids: Range<Int>) -> FateCounts {
        var t = FateCounts()
        for row in max(0, rows.lowerBound)..<min(viewRowCount, rows.upperBound) {
            t += fateCounts(segment: row / sliceCount, slice: row % sliceCount, pids: pids)
        }
        return t
    }
}
