import LoRAKernels
import LoRAScenario

/// Where everything goes on a screen of a given size: computed from the state
/// alone, so rendering and mouse hit-testing agree.
public struct ScreenLayout {
    /// The smallest screen the full layout needs.
    public static let minimumWidth = 80
    public static let minimumHeight = 24

    /// One grid pane: title row, labelled cells, two stats rows.
    public struct Pane {
        public var routing: Strategy
        public var frame: Rect
        public var titleRow: Int
        /// The labels and cells.
        public var body: Rect
        /// The cells alone (right of the labels).
        public var cells: Rect
        public var labelWidth: Int
        public var statsRow: Int
        public var origin: GridCell
        /// Terminal columns per grid cell (2 when both grids fit doubled at 1:1).
        public var cellWidth: Int

        /// Grid cells that fit across the pane.
        public var visibleColumns: Int { cells.width / cellWidth }
    }

    public var width: Int
    public var height: Int
    public var isTooSmall: Bool
    public var topRow = 0
    public var panes: [Pane] = []
    /// The column between two panes (nil with one).
    public var separatorColumn: Int?
    public var scale = GridScale.one
    /// Rows of cells a pane shows.
    public var gridRows = 0
    public var legendRow = 0
    public var ratioRow = 0
    /// The row of the strip naming the chosen strategies no pane shows, when
    /// there are some and the screen has a row to spare (nil otherwise).
    public var stripRow: Int?
    public var inspector = Rect(x: 0, y: 0, width: 0, height: 0)
    public var runPanel = Rect(x: 0, y: 0, width: 0, height: 0)
    public var narration: Rect?
    public var statusRow = 0
    public var hintRow = 0

    /// Columns a pane's figures take in full (`launched … · working … · util … · W …`).
    static let figuresWidth = 53

    public init(_ state: AppState) {
        width = state.width
        height = state.height
        isTooSmall = width < Self.minimumWidth || height < Self.minimumHeight
        guard !isTooSmall else { return }
        var narrationRows = 0
        hintRow = height - 1
        statusRow = height - 2
        var bottom = statusRow
        let narrationText = state.session.narration
        if narrationText != nil || state.replay != nil {
            let inner = width - 4
            let lines = narrationText.map { Format.wrap($0, width: inner).count } ?? 0
            // Narration is what a demo teaches: on short screens it takes rows from the
            // inspector and timings (whose least important lines give way) before the grids.
            let maxLines = height >= 40 ? 5 : 4
            let rows = max(1, min(maxLines, lines + (state.replay != nil ? 1 : 0))) + 2
            narration = Rect(x: 0, y: bottom - rows, width: width, height: rows)
            bottom -= rows
            narrationRows = rows - 2
        }
        // Four lines of inspector and timings below 44 rows, six above; three when a
        // long narration needs the room on a short screen.
        var panelHeight = height >= 44 ? 8 : (height < 30 && narrationRows > 2 ? 5 : 6)
        // Strategies chosen but in no pane: from 36 rows up the run panel gets a row for a third
        // timing and the strip a row of its own (from 30 up) — unless the grids would have to zoom
        // out for it (their rows fit without those rows, not with them).
        let hidden = state.plans.strategies.count > state.panes.count
        let rowsNeeded = state.panes.map { state.plans[$0].viewRowCount }.max() ?? 0
        // Grid rows left below the legend, ratios, top bar, title and two stats rows.
        let rowsLeft = bottom - panelHeight - 2 - 1 - 3
        let spare = { (taken: Int) in rowsLeft - taken >= rowsNeeded }
        let roomy = spare(2) || !spare(0)
        let extraPanelRow = state.plans.strategies.count > 2 && (36..<44).contains(height) && roomy
        if extraPanelRow { panelHeight += 1 }
        let runWidth = min(58, width * 9 / 20)
        inspector = Rect(x: 0, y: bottom - panelHeight, width: width - runWidth, height: panelHeight)
        runPanel = Rect(x: width - runWidth, y: bottom - panelHeight, width: runWidth, height: panelHeight)
        bottom -= panelHeight
        ratioRow = bottom - 1
        legendRow = bottom - 2
        if hidden && height >= 30 && (roomy || spare(1)) {
            stripRow = legendRow - 1
        }
        let gridTop = 1
        let paneHeight = (stripRow ?? legendRow) - gridTop
        gridRows = max(1, paneHeight - 3)
        // Grids that fit across side by side sit next to each other (the left one as wide as it
        // draws, room for its figures, the spare columns at the screen's edge); grids that do not
        // share the width in proportion to what they draw. Either way no empty band in the middle.
        // One chosen strategy takes the whole width.
        let batch = state.session.workload.batch
        let kinds = state.panes
        var frames: [(Strategy, Rect)]
        if kinds.count == 1 {
            frames = [(kinds[0], Rect(x: 0, y: gridTop, width: width, height: paneHeight))]
        } else {
            let rowsZoomed = kinds.contains { state.plans[$0].viewRowCount > gridRows }
            let labels = kinds.map { kind -> Int in
                let plan = state.plans[kind]
                let natural = GridView.naturalLabelWidth(plan, batch: batch)
                return rowsZoomed ? max(natural, 2 * String(max(0, plan.segments.count - 1)).count + 3) : natural
            }
            let pids = kinds.map { max(1, state.plans[$0].pidCount) }
            let room = width - 1
            let minimumPane = 36
            // The widths each grid draws at: two columns a program, one, then zoomed out further and further.
            func needs(cell: Int, zoom: Int) -> [Int] {
                (0..<2).map { max(minimumPane, labels[$0] + cell * cdiv(pids[$0], zoom) + 1) }
            }
            var candidates = [needs(cell: 2, zoom: 1)]
            var zoom = 1
            while zoom <= pids.max()! {
                candidates.append(needs(cell: 1, zoom: zoom))
                zoom += 1
            }
            var leftWidth = room / 2
            if let fit = candidates.first(where: { $0[0] + $0[1] <= room }) {
                leftWidth = max(fit[0], min(Self.figuresWidth, room - fit[1]))
            }
            leftWidth = min(max(leftWidth, minimumPane), room - minimumPane)
            separatorColumn = leftWidth
            frames = [
                (kinds[0], Rect(x: 0, y: gridTop, width: leftWidth, height: paneHeight)),
                (kinds[1], Rect(x: leftWidth + 1, y: gridTop, width: width - leftWidth - 1, height: paneHeight)),
            ]
        }
        // Labels shrink (never below the row number) before the grid has to zoom out.
        var labelWidths: [Int] = []
        for (kind, frame) in frames {
            let plan = state.plans[kind]
            let natural = GridView.naturalLabelWidth(plan, batch: batch)
            let minimal = String(max(0, plan.segments.count - 1)).count + 3 + (plan.sliceCount > 1 ? 2 : 0)
            let room = frame.width - 1 - plan.pidCount
            // Shrinking the labels only pays when it saves zooming out.
            let width = room >= minimal ? max(minimal, min(natural, room)) : natural
            labelWidths.append(min(frame.width / 3, width))
        }
        func fitScale() -> GridScale {
            var s = GridScale.one
            for (i, (kind, frame)) in frames.enumerated() {
                let plan = state.plans[kind]
                let columns = max(1, frame.width - labelWidths[i] - 1)
                s.x = max(s.x, cdiv(plan.pidCount, columns))
                s.y = max(s.y, cdiv(plan.viewRowCount, gridRows))
            }
            return s
        }
        switch state.zoom {
        case .fit: scale = fitScale()
        case .fixed(let s): scale = s
        }
        if scale.y > 1 {
            // Zoomed rows are labelled with a range of segments (`s52-63`): make room, then fit again.
            for (i, (kind, frame)) in frames.enumerated() {
                let digits = String(max(0, state.plans[kind].segments.count - 1)).count
                labelWidths[i] = min(frame.width / 3, max(labelWidths[i], 2 * digits + 3))
            }
            if state.zoom == .fit { scale = fitScale() }
        }
        // One program per column with room to spare: each gets two, squarer cells, easier to read and click.
        let doubled = scale.x == 1 && frames.enumerated().allSatisfy { i, entry in
            2 * state.plans[entry.0].pidCount <= entry.1.width - labelWidths[i] - 1
        }
        let cellWidth = doubled ? 2 : 1
        for (i, (kind, frame)) in frames.enumerated() {
            let plan = state.plans[kind]
            let body = Rect(x: frame.x, y: frame.y + 1, width: frame.width, height: gridRows)
            let label = labelWidths[i]
            let cells = Rect(x: body.x + label, y: body.y, width: max(0, body.width - label - 1), height: gridRows)
            let (columns, rows) = scale.cells(plan)
            var origin = state.origin(kind)
            origin.column = max(0, min(origin.column, columns - cells.width / cellWidth))
            origin.row = max(0, min(origin.row, rows - cells.height))
            panes.append(Pane(routing: kind, frame: frame, titleRow: frame.y, body: body, cells: cells,
                              labelWidth: label, statsRow: frame.y + 1 + gridRows, origin: origin,
                              cellWidth: cellWidth))
        }
    }
}
