/// Where one output cell is computed in another launch of the same work:
/// "where did my work go?" when the TUI moves from one grid to the other.
extension LaunchPlan {
    /// The token rows and output columns a working program computes; `nil`
    /// for a program that exits or runs masked-out.
    public func cells(of p: GridPosition) -> (tokens: [Int], columns: Range<Int>)? {
        let t = tile(p)
        guard t.fate.runsKLoop, t.fate != .maskedOut, t.validRows > 0, t.validColumns > 0 else { return nil }
        let tokens = (0..<t.validRows).map { routing.physicalRow(segment: p.segment, row: t.rowStart + $0) }
        let c0 = t.outputColumnOffset + t.columnStart
        return (tokens, c0 ..< c0 + t.validColumns)
    }

    /// The working program of this launch that computes output cell
    /// (`token`, `column`), if one does: the segment holding the token is found
    /// through the routing (its permutation), then that segment's programs are
    /// searched (at most `pidCount × sliceCount` tiles; 14,336 for gate_up
    /// sorted at bs 512). For vLLM's split-K shrink, the first split.
    ///
    /// `column` is an output column of the expands' shared `(S, N)` layout; `nil`
    /// takes the token's first working program. The shrink passes `nil`: vLLM
    /// writes it as `(stack, S, R)`, SGLang packed as `stack·r` columns, so a
    /// column number means different cells in the two.
    public func program(computing token: Int, column: Int?) -> GridPosition? {
        for seg in segments.indices where segments[seg].length > 0 {
            guard let row = (0..<segments[seg].length).first(where: { routing.physicalRow(segment: seg, row: $0) == token })
            else { continue }
            for slice in 0..<sliceCount {
                for pid in 0..<pidCount {
                    let p = GridPosition(pid: pid, slice: slice, segment: seg)
                    let t = tile(p)
                    guard t.fate.runsKLoop, t.fate != .maskedOut else { continue }
                    let c0 = t.outputColumnOffset + t.columnStart
                    if (t.rowStart ..< t.rowStart + t.validRows).contains(row),
                       column.map({ (c0 ..< c0 + t.validColumns).contains($0) }) ?? true {
                        return p
                    }
                }
            }
        }
        return nil
    }
}
