import LoRAKernels

/// How many programs one screen cell stands for: `x` pids along axis 0 and
/// `y` view rows (segments, or segment × slice in the 3-D grids).
///
/// Each pane has its own scale (its title says which), so a grid of few rows
/// keeps one row per segment beside a grid of many.
public struct GridScale: Hashable, Sendable, CustomStringConvertible {
    public var x: Int
    public var y: Int

    public init(x: Int = 1, y: Int = 1) {
        self.x = max(1, x)
        self.y = max(1, y)
    }

    public static let one = GridScale()

    /// `1:1`, or `1:8×2` (8 pids by 2 rows per cell).
    public var description: String { text(times: "×") }

    /// The scale with a chosen multiplication sign (`x` in ASCII).
    public func text(times: String) -> String {
        x == 1 && y == 1 ? "1:1" : "1:\(x)\(times)\(y)"
    }

    /// Cells the plan takes at this scale.
    public func cells(_ plan: LaunchPlan) -> (columns: Int, rows: Int) {
        (cdiv(plan.pidCount, x), cdiv(plan.viewRowCount, y))
    }
}

/// A program cell of a grid view: the pid range and view-row range one cell covers.
public struct GridCell: Hashable, Sendable {
    public var column: Int
    public var row: Int

    public init(column: Int, row: Int) {
        self.column = column
        self.row = row
    }
}

/// The per-sequence or per-adapter grid of one launch plan, one cell per
/// program (or per rectangle of programs when zoomed out), rows labelled.
///
/// Reads everything from the `LaunchPlan`: the fate of a program at 1:1, the
/// per-row O(1) tally of a rectangle when zoomed out.
public struct GridView {
    public var plan: LaunchPlan
    public var batch: Batch
    public var scale: GridScale
    /// The first cell shown (top-left), in cells.
    public var origin: GridCell
    /// The cursor's cell, if this grid has the focus.
    public var cursor: GridCell?
    /// In the other pane: the cell of the program that computes what the
    /// focused grid's cursor computes (underlined).
    public var counterpart: GridCell?
    public var glyphs: Glyphs
    public var labelWidth: Int
    /// Terminal columns per cell (1 or 2).
    public var cellWidth: Int

    public init(plan: LaunchPlan, batch: Batch, scale: GridScale, origin: GridCell = GridCell(column: 0, row: 0),
                cursor: GridCell? = nil, glyphs: Glyphs, labelWidth: Int, cellWidth: Int = 1) {
        self.plan = plan
        self.batch = batch
        self.scale = scale
        self.origin = origin
        self.cursor = cursor
        self.glyphs = glyphs
        self.labelWidth = labelWidth
        self.cellWidth = max(1, cellWidth)
    }

    /// The grid as the report and `expect` write it: `grid [32, 8, 1]` (x the
    /// pids, y the slices of a fused expand, z the segments, padded to three
    /// axes), so a title can be checked with `expect sorted.grid == [32, 8, 1]`.
    public static func dimensionsTitle(_ plan: LaunchPlan, times: String) -> String {
        "grid [" + plan.grid3.map(String.init).joined(separator: ", ") + "]"
    }

    /// What the pids of axis x are: `pids 2×16` (row tiles × column tiles;
    /// vLLM's splits × row tiles × column tiles).
    public static func pidsTitle(_ plan: LaunchPlan, times: String) -> String {
        "pids " + plan.pidFactors.map(String.init).joined(separator: times)
    }

    /// The block sizes: `blocks 16×256×16` (BLOCK_M × BLOCK_N × BLOCK_K), with
    /// ` split 64` where programs split K (vLLM's shrink).
    public static func blocksTitle(_ plan: LaunchPlan, times: String) -> String {
        let b = plan.blocks
        return "blocks \(b.m)\(times)\(b.n)\(times)\(b.k)" + (b.splitK > 1 ? " split \(b.splitK)" : "")
    }

    /// How a strategy's segments are named in row labels: by sequence
    /// (`12 tulu`), by slot (`s3 tulu`), by chunk of a slot (`s3/1 tulu`,
    /// `pad` for a graph's padding) or by vLLM's LoRA group (`g2 tulu`, `g0 -1`).
    enum RowNaming {
        case sequence, slot, chunk, group
        init(_ strategy: Strategy) {
            switch strategy {
            case .perSequence: self = .sequence
            case .csgmv, .csgmvGraph: self = .chunk
            case .vllm: self = .group
            default: self = .slot
            }
        }
        /// The prefix of a zoomed label's segment range (`s0-3`).
        var prefix: String {
            switch self {
            case .sequence: return ""
            case .slot: return "s"
            case .chunk: return "c"
            case .group: return "g"
            }
        }
    }

    /// The label of one view row: `12 tulu` (per-sequence), `s3 tulu` (sorted), plus the slice.
    public static func rowLabel(_ plan: LaunchPlan, batch: Batch, row: Int) -> String {
        let r = plan.viewRow(row)
        let seg = plan.segments[r.segment]
        let slot = seg.slot
        let name = { batch.adapter(inSlot: slot)?.name ?? "-" }
        switch RowNaming(plan.strategy) {
        case .sequence:
            let name = r.segment < batch.sequences.count ? batch.sequences[r.segment].adapter : "?"
            return "\(r.segment) \(name)"
        case .slot:
            return "s\(slot) \(name())"
        case .chunk:
            if seg.length == 0 { return "pad" }
            return "s\(slot)/\(chunkIndex(plan, segment: r.segment)) \(name())"
        case .group:
            return slot < 0 ? "g\(r.segment) -1" : "g\(r.segment) \(name())"
        }
    }

    /// A csgmv segment's chunk index within its slot: a slot's chunks are consecutive segments.
    static func chunkIndex(_ plan: LaunchPlan, segment: Int) -> Int {
        let slot = plan.segments[segment].slot
        var chunk = 0
        while segment - chunk > 0 && plan.segments[segment - chunk - 1].slot == slot
                && plan.segments[segment - chunk - 1].length > 0 { chunk += 1 }
        return chunk
    }

    /// The natural label width: the longest row label, plus the slice name.
    public static func naturalLabelWidth(_ plan: LaunchPlan, batch: Batch) -> Int {
        let names = batch.adapters.reduce(2) { max($0, Format.width($1.name)) }
        let segments = String(max(0, plan.segments.count - 1)).count
        let longest: Int
        switch RowNaming(plan.strategy) {
        case .sequence:
            let digits = String(max(0, batch.sequences.count - 1)).count
            longest = digits + 1 + batch.sequences.reduce(0) { max($0, Format.width($1.adapter)) }
        case .slot:
            longest = 1 + segments + 1 + names
        case .chunk:
            let chunks = plan.segments.reduce(0) { max($0, $1.length > 0 ? 1 : 0) }
            longest = 1 + String(max(0, batch.slotCount - 1)).count + 1 + String(max(1, plan.segments.count - chunks)).count + 1 + names
        case .group:
            longest = 1 + segments + 1 + names
        }
        return longest + (plan.sliceCount > 1 ? 2 : 0) + 1
    }

    /// The label of the view rows one cell row covers.
    func label(cellRow: Int) -> String {
        let first = cellRow * scale.y
        let width = labelWidth - 1
        guard first < plan.viewRowCount else { return "" }
        let slice = plan.sliceCount > 1 ? " " + plan.kernel.sliceName(plan.viewRow(first).slice) : ""
        if scale.y == 1 {
            let base = Self.rowLabel(plan, batch: batch, row: first)
            return Format.pad(Format.fit(base, width - Format.width(slice), ellipsis: glyphs.ellipsis) + slice, width)
        }
        let last = min(plan.viewRowCount, first + scale.y) - 1
        let a = plan.viewRow(first), b = plan.viewRow(last)
        let prefix = RowNaming(plan.strategy).prefix
        let text: String
        if a.segment != b.segment {
            // A cell row that starts or ends inside a segment of a 3-D grid names the slice there (`2v-5q`).
            let from = a.slice == 0 ? "" : plan.kernel.sliceName(a.slice)
            let to = b.slice == plan.sliceCount - 1 ? "" : plan.kernel.sliceName(b.slice)
            text = "\(prefix)\(a.segment)\(from)-\(b.segment)\(to)"
        } else if a.slice == 0 && b.slice == plan.sliceCount - 1 {
            // Every slice of one segment: label it as the segment.
            text = Self.rowLabel(plan, batch: batch, row: first)
        } else {
            let names = plan.kernel.sliceName(a.slice) + "-" + plan.kernel.sliceName(b.slice)
            // Where the adapter's name has no room the segment alone (`s0 q-k`, not `s0… q-k`).
            let base = Self.rowLabel(plan, batch: batch, row: first)
            text = (Format.width(base) + 1 + names.count <= width ? base : "\(prefix)\(a.segment)") + " " + names
        }
        return Format.fit(text, width, ellipsis: glyphs.ellipsis)
    }

    /// The fate mix of one cell.
    public func tally(_ cell: GridCell) -> FateCounts {
        plan.tally(rows: cell.row * scale.y..<(cell.row + 1) * scale.y,
                   pids: cell.column * scale.x..<(cell.column + 1) * scale.x)
    }

    /// The glyph and style of one cell.
    func cellLook(_ cell: GridCell) -> Cell {
        if scale.x == 1 && scale.y == 1 {
            let r = plan.viewRow(cell.row)
            let fate = plan.fate(GridPosition(pid: cell.column, slice: r.slice, segment: r.segment))
            return Cell(glyphs.glyph(fate), CellStyle(ColorRole(fate)))
        }
        let t = tally(cell)
        if let fate = t.single { return Cell(glyphs.glyph(fate), CellStyle(ColorRole(fate))) }
        let working = t.working, total = t.total
        if working == 0 || working == total {
            let fate = t.dominant
            return Cell(glyphs.glyph(fate), CellStyle(ColorRole(fate)))
        }
        // Colour by the dominant working fate; the glyph tells the working share.
        var dominantWorking = ProgramFate.maskedOut
        for f in [ProgramFate.partial, .full] where t[f] >= t[dominantWorking] { dominantWorking = f }
        return Cell(glyphs.mixGlyph(working: working, total: total), CellStyle(ColorRole(dominantWorking)))
    }

    /// Draws the labelled cells into `area` (no title, no stats).
    ///
    /// A grid taller than the area gives the area's last row to marks saying
    /// that it goes on above (`↑ 3 more`) and below (`↓ 40 more`).
    public func render(into canvas: inout Canvas, area: Rect) {
        let (columns, rows) = scale.cells(plan)
        let visible = max(0, area.width - labelWidth - 1) / cellWidth
        let scrolls = rows > area.height && area.height > 1
        let height = scrolls ? area.height - 1 : area.height
        for j in 0..<height {
            let cellRow = origin.row + j
            guard cellRow < rows else { break }
            let y = area.y + j
            canvas.put(label(cellRow: cellRow), x: area.x, y: y, style: .dim, maxWidth: labelWidth - 1)
            for i in 0..<visible {
                let column = origin.column + i
                guard column < columns else { break }
                let cell = GridCell(column: column, row: cellRow)
                var look = cellLook(cell)
                if cell == cursor {
                    look.style.reverse = true
                    look.style.bold = true
                } else if cell == counterpart {
                    look.style.underline = true
                    look.style.bold = true
                }
                for k in 0..<cellWidth { canvas[area.x + labelWidth + i * cellWidth + k, y] = look }
            }
            // Marks that the grid continues past the area's edges.
            if origin.column + visible < columns {
                canvas[area.maxX - 1, y] = Cell(glyphs.isASCII ? ">" : "›", .dim)
            }
        }
        if scrolls {
            var marks: [String] = []
            if origin.row > 0 { marks.append((glyphs.isASCII ? "^ " : "↑ ") + "\(origin.row) more") }
            let below = rows - origin.row - height
            if below > 0 { marks.append((glyphs.isASCII ? "v " : "↓ ") + "\(below) more") }
            canvas.put(marks.joined(separator: "  "), x: area.x, y: area.maxY - 1, style: .dim, maxWidth: area.width - 1)
        }
    }
}
