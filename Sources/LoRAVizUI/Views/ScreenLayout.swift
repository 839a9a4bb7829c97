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
        /// Terminal columns per grid cell (2 when the grid fits doubled at 1:1).
        public var cellWidth: Int
        /// This pane's zoom: each grid is fitted to its own pane (or zoomed by hand).
        public var scale: GridScale
        /// The row below the cells that says the grid goes on (`↑ more`, `↓ more`), when it is taller than the pane.
        public var moreRow: Int?

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
    /// Rows a pane's grid takes (cells, and the `more` row of a grid taller than that).
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
        if state.panelsExpanded {
            // `i`: every line of both panels, as far as the grids can give way (three rows of cells stay).
            let most = bottom - 2 - 1 - 3 - 3
            panelHeight = max(panelHeight, min(most, Self.panelRowsNeeded(state, inspectorWidth: width - runWidth, runWidth: runWidth) + 2))
        }
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
        let batch = state.session.workload.batch
        let kinds = state.panes
        let rows = gridRows
        // Each grid has its own zoom: rows first (a grid of few rows, like the sorted one, keeps one
        // row per segment whenever they fit), then labels (a zoomed row names a range), then columns.
        let fitY = kinds.map { cdiv(max(1, state.plans[$0].viewRowCount), rows) }
        let settings = kinds.map { state.zoomSetting($0) }
        let scaleY = kinds.indices.map { i -> Int in
            if case .fixed(let s) = settings[i] { return s.y }
            return fitY[i]
        }
        // Read once: a label's natural width walks the batch (4096 sequences), the width search below asks often.
        let naturals = kinds.map { GridView.naturalLabelWidth(state.plans[$0], batch: batch) }
        func labelWidth(_ i: Int, frameWidth: Int, scaleY: Int) -> Int {
            let plan = state.plans[kinds[i]]
            let natural = naturals[i]
            let digits = String(max(0, plan.segments.count - 1)).count
            let minimal = digits + 3 + (plan.sliceCount > 1 ? 2 : 0)
            let room = frameWidth - 1 - plan.pidCount
            // Shrinking the labels only pays when it saves zooming out.
            var width = room >= minimal ? max(minimal, min(natural, room)) : natural
            // Zoomed rows are labelled with a range of segments (`s52-63`).
            if scaleY > 1 { width = max(width, 2 * digits + 3 + (plan.sliceCount > 1 ? 2 : 0)) }
            // A zoomed 3-D row inside one segment names two slices (`0 chat q-k`): room for both where the pane has it.
            if scaleY > 1 && plan.sliceCount > 1 && scaleY % plan.sliceCount != 0 && room >= natural + 2 { width = max(width, natural + 2) }
            return min(frameWidth / 3, width)
        }
        func fitX(_ i: Int, frameWidth: Int) -> (scale: Int, cellWidth: Int) {
            let plan = state.plans[kinds[i]]
            let columns = max(1, frameWidth - labelWidth(i, frameWidth: frameWidth, scaleY: scaleY[i]) - 1)
            let pids = max(1, plan.pidCount)
            return (cdiv(pids, columns), 2 * pids <= columns ? 2 : 1)
        }
        var frames: [(Strategy, Rect)]
        if kinds.count == 1 {
            frames = [(kinds[0], Rect(x: 0, y: gridTop, width: width, height: paneHeight))]
        } else {
            // Grids that fit across side by side sit next to each other (the left one as wide as it
            // draws, room for its figures, the spare columns at the screen's edge). Grids that do not
            // take the widths that zoom them out least: the wider grid gets the columns it needs.
            let labels = (0..<2).map { i -> Int in
                let plan = state.plans[kinds[i]]
                let zoomed = 2 * String(max(0, plan.segments.count - 1)).count + 3 + (plan.sliceCount > 1 ? 2 : 0)
                return scaleY[i] > 1 ? max(naturals[i], zoomed) : naturals[i]
            }
            let pids = kinds.map { max(1, state.plans[$0].pidCount) }
            let room = width - 1
            let minimumPane = 36
            func needs(cell: Int) -> [Int] { (0..<2).map { max(minimumPane, labels[$0] + cell * pids[$0] + 1) } }
            var leftWidth = room / 2
            if let fit = [needs(cell: 2), needs(cell: 1)].first(where: { $0[0] + $0[1] <= room }) {
                leftWidth = max(fit[0], min(Self.figuresWidth, room - fit[1]))
            } else if room >= 2 * minimumPane {
                // (largest zoom, sum of zooms, distance from the middle): smallest wins.
                var best: (Int, Int, Int)?
                for left in minimumPane...(room - minimumPane) {
                    let a = fitX(0, frameWidth: left).scale, b = fitX(1, frameWidth: room - left).scale
                    let score = (max(a, b), a + b, abs(left - room / 2))
                    if best.map({ score < $0 }) ?? true {
                        best = score
                        leftWidth = left
                    }
                }
            }
            leftWidth = min(max(leftWidth, minimumPane), room - minimumPane)
            separatorColumn = leftWidth
            frames = [
                (kinds[0], Rect(x: 0, y: gridTop, width: leftWidth, height: paneHeight)),
                (kinds[1], Rect(x: leftWidth + 1, y: gridTop, width: width - leftWidth - 1, height: paneHeight)),
            ]
        }
        for (i, (kind, frame)) in frames.enumerated() {
            let plan = state.plans[kind]
            let label = labelWidth(i, frameWidth: frame.width, scaleY: scaleY[i])
            var scale: GridScale
            var cellWidth = 1
            switch settings[i] {
            case .fixed(let s):
                scale = s
            case .fit:
                let x = fitX(i, frameWidth: frame.width)
                scale = GridScale(x: x.scale, y: scaleY[i])
                // One program per column with room to spare: each gets two, squarer cells, easier to read and click.
                if x.scale == 1 { cellWidth = x.cellWidth }
            }
            if scale.x == 1 && 2 * plan.pidCount <= frame.width - label - 1 { cellWidth = 2 }
            let body = Rect(x: frame.x, y: frame.y + 1, width: frame.width, height: gridRows)
            let (columns, rowCount) = scale.cells(plan)
            // A grid taller than the pane gives its last row to the `↑ more` / `↓ more` marks.
            let scrolls = rowCount > gridRows && gridRows > 1
            let cellRows = scrolls ? gridRows - 1 : gridRows
            let cells = Rect(x: body.x + label, y: body.y, width: max(0, body.width - label - 1), height: cellRows)
            var origin = state.origin(kind)
            origin.column = max(0, min(origin.column, columns - cells.width / cellWidth))
            origin.row = max(0, min(origin.row, rowCount - cells.height))
            panes.append(Pane(routing: kind, frame: frame, titleRow: frame.y, body: body, cells: cells,
                              labelWidth: label, statsRow: frame.y + 1 + gridRows, origin: origin,
                              cellWidth: cellWidth, scale: scale, moreRow: scrolls ? body.y + cellRows : nil))
        }
    }

    /// Rows the inspector and the run panel need to show every line, the taller of the two.
    ///
    /// The inspector is counted as zoomed (a zoomed cell adds a line for its
    /// block): its zoom depends on the grids' rows, which depend on this.
    static func panelRowsNeeded(_ state: AppState, inspectorWidth: Int, runWidth: Int) -> Int {
        let zoomed: GridScale
        if case .fixed(let s) = state.zoomSetting(state.focus), s != .one { zoomed = s } else { zoomed = GridScale(x: 2, y: 2) }
        let inspector = Screen.inspectorContent(state, scale: zoomed, width: inspectorWidth).lines
        let run = RunPanel.content(state, width: runWidth).lines
        return max(PanelText(lines: inspector).rowsNeeded(width: inspectorWidth - 4),
                   PanelText(lines: run).rowsNeeded(width: runWidth - 4))
    }

    /// The pane showing `kind`, if one does.
    public func pane(_ kind: Strategy) -> Pane? { panes.first { $0.routing == kind } }

    /// The zoom of the pane showing `kind` (1:1 where no pane shows it).
    public func scale(_ kind: Strategy) -> GridScale { pane(kind)?.scale ?? .one }

    /// Whether any pane is zoomed out.
    public var isZoomed: Bool { panes.contains { $0.scale != .one } }
}
