import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import LoRAKernels
@testable import LoRAScenario
import LoRAVizTestSupport
import XCTest

/// `SweepChart`: the speedup against bs, as text in three styles and as SVG.
final class SweepChartTests: XCTestCase {
    static let source = """
        slots 4
        dims hidden=256 out=512 q=256 kv=64 ffn=256 rank=16
        adapter sql rank=16
        seq sql count=2
        strategies per-sequence sorted
        """

    /// A small fixed sweep: bs 1…128, 1 and 4 adapters, estimates only.
    static func fixedRows(ranks: [Int]? = nil) throws -> [(Sweep.Point, RunReport)] {
        let sweep = try Sweep(template: Sweep.template(Scenario.parse(source, file: "t.lora")),
                              bs: [1, 8, 32, 128], adapters: [1, 4], ranks: ranks)
        return sweep.points.map { ($0, sweep.report($0)) }
    }

    /// Rows with the given speedups (GPU estimate, and CPU when given), on one real report's other fields.
    static func rows(_ values: [(bs: Int, adapters: Int, gpu: Double?, cpu: Double?)], rank: Int = 16) throws -> [(Sweep.Point, RunReport)] {
        let base = try fixedRows()[0].1
        return values.map { v in
            var r = base
            r.gpuSpeedup = v.gpu
            r.speedup = v.cpu
            return (Sweep.Point(bs: v.bs, adapters: v.adapters, rank: rank), r)
        }
    }

    /// The (column, row) of every mark of `series` in the plot, left to right.
    func marks(_ cells: [[ChartCell]], series: Int) -> [(column: Int, row: Int)] {
        // The legend's marks sit below the x axis (the one row of many axis cells); the plot's above it.
        let axisRow = cells.firstIndex { $0.filter { $0.role == .axis }.count > 3 }!
        var out: [(Int, Int)] = []
        for (r, row) in cells.prefix(axisRow).enumerated() {
            for (c, cell) in row.enumerated() where cell.role == .mark && cell.series == series { out.append((c, r)) }
        }
        return out.sorted { $0.0 < $1.0 }
    }

    /// The y tick label a chart row starts with ("" for none).
    func tick(_ line: String) -> String {
        String(line.prefix { !"┤┼│|+".contains($0) }).trimmingCharacters(in: .whitespaces)
    }

    // MARK: Goldens

    func testBrailleChartOfASmallSweep() throws {
        let text = SweepChart(rows: try Self.fixedRows()).lines(width: 72, height: 20, style: .braille).joined(separator: "\n") + "\n"
        assertGolden(text, named: "testBrailleChartOfASmallSweep.txt")
    }

    func testBlockChartOfASmallSweep() throws {
        let text = SweepChart(rows: try Self.fixedRows()).lines(width: 72, height: 20, style: .block).joined(separator: "\n") + "\n"
        assertGolden(text, named: "testBlockChartOfASmallSweep.txt")
    }

    func testASCIIChartOfASmallSweep() throws {
        let text = SweepChart(rows: try Self.fixedRows()).lines(width: 72, height: 20, style: .ascii).joined(separator: "\n") + "\n"
        XCTAssertTrue(text.unicodeScalars.allSatisfy(\.isASCII), "nothing but ASCII, labels included")
        XCTAssertTrue(text.contains("1x - sorting pays above this line"), text)
        assertGolden(text, named: "testASCIIChartOfASmallSweep.txt")
    }

    func testSVGOfASmallSweep() throws {
        assertGolden(SweepChart(rows: try Self.fixedRows()).svg(), named: "testSVGOfASmallSweep.svg")
    }

    // MARK: What a reader sees

    func testEveryLineHasTheRequestedWidth() throws {
        let charts = [
            SweepChart(rows: try Self.fixedRows()),
            SweepChart(rows: try Self.rows([(1, 1, 0.01, 100), (4096, 1, 100, 0.01), (8, 3, 1, nil)])),
            SweepChart(rows: try Self.rows([(8, 1, 2, nil)])),
            SweepChart(rows: []),
        ]
        for chart in charts {
            for style in ChartStyle.allCases {
                for width in [1, 20, 32, 40, 57, 80, 133] {
                    for height in [1, 5, 9, 10, 17, 24, 50] {
                        let lines = chart.lines(width: width, height: height, style: style)
                        XCTAssertTrue(lines.count == height || lines.count == 1, "\(style) \(width)×\(height): \(lines.count) rows")
                        for line in lines { XCTAssertEqual(line.count, width, "\(style) \(width)×\(height): '\(line)'") }
                        XCTAssertEqual(chart.cells(width: width, height: height, style: style).map(\.count), lines.map(\.count))
                    }
                }
            }
        }
    }

    func testTheUnityLineLiesOnTheRowWhereYIsOne() throws {
        // 4 adapters sit exactly at 1× at bs 32.
        let chart = SweepChart(rows: try Self.rows([(1, 1, 0.25, nil), (32, 1, 4, nil), (1, 4, 0.5, nil), (32, 4, 1, nil), (128, 4, 2, nil)]))
        for style in ChartStyle.allCases {
            let cells = chart.cells(width: 70, height: 22, style: style)
            let lines = cells.map { String($0.map(\.character)) }
            let times = style == .ascii ? "x" : "×", dash = style == .ascii ? "-" : "—"
            let unity = try XCTUnwrap(lines.firstIndex { tick($0) == "1" + times }, "\(style)\n" + lines.joined(separator: "\n"))
            let unityCells = cells[unity].filter { $0.role == .unity }.count
            XCTAssertGreaterThan(unityCells, 30, "\(style): the 1× line runs across the plot")
            XCTAssertTrue(lines.contains { $0.contains("1\(times) \(dash) sorting pays above this line") }, style.rawValue)
            XCTAssertTrue(marks(cells, series: 1).contains { $0.row == unity }, "\(style): the 1× sample is on the 1× row")
            XCTAssertTrue(marks(cells, series: 0).allSatisfy { $0.row != unity })
            let quarter = try XCTUnwrap(lines.firstIndex { tick($0) == "0.25" + times })
            XCTAssertGreaterThan(quarter, unity, "below 1× is further down")
        }
    }

    func testARisingSeriesIsDrawnRisingAndAFallingOneFalling() throws {
        let chart = SweepChart(rows: try Self.rows([(1, 1, 0.5, nil), (8, 1, 1.5, nil), (64, 1, 3, nil), (512, 1, 9, nil),
                                                    (1, 2, 6, nil), (8, 2, 2, nil), (64, 2, 0.7, nil), (512, 2, 0.2, nil)]))
        for style in ChartStyle.allCases {
            let cells = chart.cells(width: 80, height: 24, style: style)
            let rising = marks(cells, series: 0), falling = marks(cells, series: 1)
            XCTAssertEqual(rising.count, 4, style.rawValue)
            XCTAssertEqual(falling.count, 4, style.rawValue)
            // Rows count down the screen: rising means the row number falls.
            XCTAssertEqual(rising.map(\.row), rising.map(\.row).sorted(by: >), "\(style): \(rising)")
            XCTAssertEqual(Set(rising.map(\.row)).count, 4)
            XCTAssertEqual(falling.map(\.row), falling.map(\.row).sorted(), "\(style): \(falling)")
            // Lines join the marks: the series has line cells between its first and last mark
            // (where the two lines cross, a cell of both may name the other).
            let lineColumns = Set(cells.flatMap { row in row.enumerated().filter { $0.element.role == .line }.map(\.offset) })
            XCTAssertTrue((rising[0].column + 1..<rising[3].column).allSatisfy { lineColumns.contains($0) || rising.map(\.column).contains($0) },
                          "\(style): a line in every column between the marks")
        }
    }

    func testTheLegendListsEveryAdapterCountAndTheTitleSaysEstimate() throws {
        let chart = SweepChart(rows: try Self.rows([(1, 1, 1, nil), (1, 4, 1, nil), (1, 16, 2, nil), (1, 64, 3, nil), (8, 64, 4, nil)]))
        XCTAssertEqual(chart.series.map(\.adapters), [1, 4, 16, 64])
        let text = chart.lines(width: 80, height: 24, style: .braille).joined(separator: "\n")
        for label in ["o 1 adapter (GPU est.)", "x 4 adapters (GPU est.)", "+ 16 adapters (GPU est.)", "* 64 adapters (GPU est.)"] {
            XCTAssertTrue(text.contains(label), label + "\n" + text)
        }
        XCTAssertTrue(text.contains("H200 est. = estimates from the GPU profile, not measured"), text)
        XCTAssertTrue(text.contains("rank 16"))
        XCTAssertTrue(text.contains("speedup, log scale") && text.contains("bs (sequences in the batch), log2 scale"))
        XCTAssertFalse(text.contains("CPU"))
        // A narrow chart wraps the legend instead of losing entries.
        let narrow = chart.lines(width: 40, height: 24, style: .ascii).joined(separator: "\n")
        for n in [1, 4, 16, 64] { XCTAssertTrue(narrow.contains(" \(n) adapter"), "\(n)\n" + narrow) }
    }

    func testCPUSeriesAppearOnlyWithRunData() throws {
        let estimates = SweepChart(rows: try Self.fixedRows())
        XCTAssertFalse(estimates.hasCPUSeries)
        XCTAssertEqual(estimates.series.map(\.source), [.gpuEstimate, .gpuEstimate])
        XCTAssertFalse(estimates.svg().contains("CPU"))
        XCTAssertFalse(estimates.svg().contains("stroke-dasharray"))

        var run = try Self.fixedRows()
        for i in run.indices { run[i].1.speedup = 0.9 + Double(run[i].0.bs) / 100 }
        let measured = SweepChart(rows: run)
        XCTAssertEqual(measured.series.map(\.source), [.gpuEstimate, .gpuEstimate, .cpu, .cpu])
        XCTAssertEqual(measured.series.map(\.label), ["1 adapter (GPU est.)", "4 adapters (GPU est.)", "1 adapter (CPU run)", "4 adapters (CPU run)"])
        XCTAssertEqual(measured.series.map(\.isDashed), [false, false, true, true])
        XCTAssertEqual(Set(measured.series.map(\.mark)).count, 4, "every series its own mark")
        let text = measured.lines(width: 80, height: 24, style: .braille).joined(separator: "\n")
        XCTAssertTrue(text.contains("O 1 adapter (CPU run)") && text.contains("X 4 adapters (CPU run)"), text)
        XCTAssertTrue(text.contains("dashed = CPU run"))
        XCTAssertEqual(measured.svg().components(separatedBy: "stroke-dasharray").count - 1, 2 * 2, "two dashed polylines, two legend samples")
    }

    func testChartRankPicksTheRanksSeries() throws {
        let rows = try Self.fixedRows(ranks: [16, 4])
        XCTAssertEqual(SweepChart(rows: rows).rank, 16)
        let four = SweepChart(rows: rows, rank: 4)
        XCTAssertEqual(four.ranks, [16, 4])
        XCTAssertEqual(four.series.count, 2)
        let expected = rows.filter { $0.0.rank == 4 && $0.0.adapters == 4 }.map { $0.1.gpuSpeedup! }
        XCTAssertEqual(four.series[1].samples.map(\.speedup), expected)
        XCTAssertTrue(four.title.hasSuffix("rank 4 of 16,4"), four.title)
        let missing = SweepChart(rows: rows, rank: 8)
        XCTAssertEqual(missing.unavailable, "no chart: rank 8 is not among the swept ranks (16, 4)")
    }

    func testAnUncalibratedProfileSaysSo() throws {
        let sweep = try Sweep(template: Sweep.template(Scenario.parse(Self.source + "\ngpu l40s\n", file: "t.lora")), bs: [1, 8], adapters: [1])
        let chart = SweepChart(rows: sweep.points.map { ($0, sweep.report($0)) })
        XCTAssertEqual(chart.gpu, "l40s")
        XCTAssertEqual(chart.subtitle, "L40S est. (uncalibrated) = estimates from the GPU profile, not measured")
        XCTAssertTrue(chart.svg().contains("L40S est. (uncalibrated)"))
    }

    // MARK: Degenerate inputs

    func testDegenerateInputs() throws {
        func text(_ chart: SweepChart, _ style: ChartStyle = .braille) -> [String] { chart.lines(width: 60, height: 20, style: style) }

        // One bs value: the samples sit mid-axis, the tick under them.
        let oneBS = SweepChart(rows: try Self.rows([(32, 1, 2, nil), (32, 4, 3, nil)]))
        XCTAssertEqual(oneBS.bsValues, [32])
        for style in ChartStyle.allCases {
            let cells = oneBS.cells(width: 60, height: 20, style: style)
            let m = marks(cells, series: 0)
            XCTAssertEqual(m.count, 1)
            XCTAssertTrue(abs(m[0].column - 33) <= 2, "\(style): \(m)")
        }
        XCTAssertTrue(text(oneBS).contains { $0.contains("32") && !$0.contains("×") })

        // One point.
        let onePoint = SweepChart(rows: try Self.rows([(8, 1, 0.5, nil)]))
        XCTAssertEqual(onePoint.series.count, 1)
        XCTAssertTrue(text(onePoint).contains { tick($0) == "0.5×" })
        XCTAssertTrue(text(onePoint).contains { tick($0) == "1×" })
        XCTAssertEqual(try XMLCount(onePoint.svg()).polylines, 1)

        // All speedups equal (and equal to 1): the axis still spans 0.5×…2×.
        let flat = SweepChart(rows: try Self.rows([(1, 1, 1, nil), (8, 1, 1, nil), (64, 1, 1, nil)]))
        let flatText = text(flat)
        XCTAssertTrue(flatText.contains { tick($0) == "0.5×" } && flatText.contains { tick($0) == "2×" }, flatText.joined(separator: "\n"))
        XCTAssertEqual(Set(marks(flat.cells(width: 60, height: 20, style: .ascii), series: 0).map(\.row)).count, 1)

        // No per-sequence/sorted pair: one line saying why.
        let t = try Sweep.template(Scenario.parse(Self.source + "\nstrategies csgmv tight\n", file: "t.lora"))
        let sweep = try Sweep(template: t, bs: [1, 8], adapters: [1])
        let none = SweepChart(rows: sweep.points.map { ($0, sweep.report($0)) })
        XCTAssertTrue(none.series.isEmpty)
        let message = none.lines(width: 100, height: 20, style: .braille)
        XCTAssertEqual(message.count, 1)
        XCTAssertEqual(message[0].trimmingCharacters(in: .whitespaces),
                       "no chart: the speedup needs per-sequence and sorted (--strategies)")
        XCTAssertEqual(SweepChart(rows: []).lines(width: 40, height: 10, style: .ascii), ["no chart: the sweep has no points".padding(toLength: 40, withPad: " ", startingAt: 0)])
        XCTAssertNoThrow(try XMLCount(none.svg()))

        // Too small: one line saying so.
        let small = SweepChart(rows: try Self.fixedRows()).lines(width: 50, height: 6, style: .braille)
        XCTAssertEqual(small.count, 1)
        XCTAssertTrue(small[0].hasPrefix("chart: 50×6 is too small"), small[0])

        // 0.01× to 100×: decade ticks, both ends labelled.
        let wide = SweepChart(rows: try Self.rows([(1, 1, 0.01, nil), (16, 1, 1, nil), (256, 1, 100, nil)]))
        let wideText = text(wide)
        for label in ["0.01×", "0.1×", "1×", "10×", "100×"] {
            XCTAssertTrue(wideText.contains { tick($0) == label }, label + "\n" + wideText.joined(separator: "\n"))
        }
        let wideMarks = marks(wide.cells(width: 60, height: 20, style: .braille), series: 0)
        XCTAssertEqual(wideMarks.count, 3)
        XCTAssertEqual(wideMarks.map(\.row), wideMarks.map(\.row).sorted(by: >))

        // Non-positive or infinite speedups are left out, not drawn at -∞.
        let bad = SweepChart(rows: try Self.rows([(1, 1, 0, nil), (8, 1, .infinity, nil), (64, 1, 2, nil)]))
        XCTAssertEqual(bad.series.first?.samples.map(\.bs), [64])
        XCTAssertEqual(SweepChart(rows: try Self.rows([(1, 1, 0, nil)])).unavailable, "no chart: no point has a positive, finite speedup")
    }

    func testTickLabels() {
        XCTAssertEqual([-1.0, 0, 2, -2, 10].map(SweepChart._tickLabel), ["0.5×", "1×", "4×", "0.25×", "1024×"])
        XCTAssertEqual(SweepChart._tickLabel(log2(0.01)), "0.01×")
        XCTAssertEqual(SweepChart._tickLabel(log2(5)), "5×")
    }

    // MARK: SVG

    func testTheSVGParsesAndHasOnePolylinePerSeries() throws {
        var run = try Self.fixedRows()
        for i in run.indices { run[i].1.speedup = 1.2 }
        for chart in [SweepChart(rows: try Self.fixedRows()), SweepChart(rows: run)] {
            let svg = chart.svg()
            let count = try XMLCount(svg)
            XCTAssertEqual(count.root, "svg")
            XCTAssertEqual(count.rootAttributes["xmlns"], "http://www.w3.org/2000/svg")
            XCTAssertEqual(count.rootAttributes["viewBox"], "0 0 720 420")
            XCTAssertEqual(count.rootAttributes["version"], "1.1")
            XCTAssertEqual(count.polylines, chart.series.count)
            XCTAssertFalse(svg.contains("<script") || svg.contains("href"), "standalone: no scripts, no links")
            for s in chart.series { XCTAssertTrue(count.texts.contains(s.label), s.label) }
            XCTAssertTrue(count.texts.contains("1× — sorting pays above this line"))
            XCTAssertTrue(count.texts.contains { $0.hasPrefix("H200 est. = estimates") })
            XCTAssertTrue(count.texts.contains(chart.title))
            for tick in ["1", "8", "32", "128", "1×"] { XCTAssertTrue(count.texts.contains(tick), tick) }
        }
        let odd = try XMLCount(SweepChart(rows: try Self.fixedRows()).svg(width: 300, height: 100))
        XCTAssertEqual(odd.rootAttributes["viewBox"], "0 0 360 240", "at least 360×240")
    }

    func testXMLEscaping() throws {
        XCTAssertEqual(SweepChart._xml("a & b < c > d \"e\" 'f'"), "a &amp; b &lt; c &gt; d &quot;e&quot; &apos;f&apos;")
        let parsed = try XMLCount("<text a=\"\(SweepChart._xml("<&\"'>"))\">\(SweepChart._xml("x<y&z"))</text>")
        XCTAssertEqual(parsed.rootAttributes["a"], "<&\"'>")
        XCTAssertEqual(parsed.texts, ["x<y&z"])
    }

    // MARK: Locale

    func testPreferredStyleFollowsTheLocale() {
        XCTAssertEqual(ChartStyle.preferred(environment: [:]), .ascii)
        XCTAssertEqual(ChartStyle.preferred(environment: ["LANG": "en_US.UTF-8"]), .braille)
        XCTAssertEqual(ChartStyle.preferred(environment: ["LANG": "C.utf8"]), .braille)
        XCTAssertEqual(ChartStyle.preferred(environment: ["LANG": "C"]), .ascii)
        XCTAssertEqual(ChartStyle.preferred(environment: ["LANG": "en_US.UTF-8", "LC_ALL": "C"]), .ascii, "LC_ALL first")
        XCTAssertEqual(ChartStyle.preferred(environment: ["LANG": "C", "LC_CTYPE": "de_DE.Utf-8"]), .braille)
        XCTAssertEqual(ChartStyle.preferred(environment: ["LC_ALL": "", "LANG": "en_US.UTF-8"]), .braille, "an empty LC_ALL is unset")
    }
}
