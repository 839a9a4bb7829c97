import LoRAKernels
import LoRAScenario

/// The sweep chart in place of the grids (`w`): the current batch as a
/// `lora-viz sweep` template over bs 1…512 and 1…64 adapters, the estimated
/// speedup per-sequence ÷ sorted against bs, one line per adapter count.
///
/// Plans and estimates only (no kernel runs): 20 points × 2 strategies of
/// closed-form counts, a few ms for the default batch, computed once per change.
enum SweepPanel {
    /// The axes the panel sweeps: what `docs/sweep.md`'s example uses.
    static let batchSizes = [1, 8, 32, 128, 512]
    static let adapterCounts = [1, 4, 16, 64]

    /// The chart of `session`'s batch, or why there is none.
    static func chart(_ session: Session) -> Result<SweepChart, SweepError> {
        var template = session
        // The layer table is not part of a point's figures here.
        template.showsLayer = false
        do {
            let sweep = try Sweep(template: template, bs: batchSizes, adapters: adapterCounts,
                                  strategies: [.perSequence, .sorted])
            return .success(SweepChart(rows: sweep.points.map { ($0, sweep.report($0)) }))
        } catch let e as SweepError {
            return .failure(e)
        } catch {
            return .failure(SweepError("\(error)"))
        }
    }

    /// Draws the chart into `area`, each series in its colour, the 1× line accented.
    static func render(_ chart: Result<SweepChart, SweepError>, glyphs g: Glyphs, area: Rect, into canvas: inout Canvas) {
        let header = "sweep of this batch\(g.separator)bs \(batchSizes.map(String.init).joined(separator: ",")) × adapters "
            + "\(adapterCounts.map(String.init).joined(separator: ","))\(g.separator)w closes"
        canvas.put(header, x: area.x, y: area.y, style: .title, maxWidth: area.width)
        let body = Rect(x: area.x, y: area.y + 1, width: area.width, height: area.height - 1)
        switch chart {
        case .failure(let e):
            canvas.put("no chart: \(e.message)", x: body.x, y: body.y, style: .error, maxWidth: body.width)
        case .success(let chart):
            let palette: [ColorRole] = [.good, .accent, .warning, .partial, .full, .columnExit, .excessExit, .title]
            let rows = chart.cells(width: body.width, height: body.height, style: g.isASCII ? .ascii : .braille)
            for (dy, row) in rows.enumerated() where dy < body.height {
                for (dx, cell) in row.enumerated() where dx < body.width {
                    guard let scalar = cell.character.unicodeScalars.first else { continue }
                    let role: ColorRole
                    switch cell.role {
                    case .line, .mark: role = cell.series.map { palette[$0 % palette.count] } ?? .normal
                    case .unity: role = .accent
                    case .axis, .grid: role = .dim
                    case .text, .blank: role = .normal
                    }
                    canvas[body.x + dx, body.y + dy] = Cell(scalar, CellStyle(role, bold: cell.role == .mark))
                }
            }
        }
    }
}
