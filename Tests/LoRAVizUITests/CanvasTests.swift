@testable import LoRAVizUI
@testable import LoRAScenario
import XCTest

final class CanvasTests: XCTestCase {
    func testWritesAreClippedAndTextTrimsTrailingSpaces() {
        var canvas = Canvas(width: 6, height: 2)
        canvas.put("hello world", x: 2, y: 0)
        canvas.put("x", x: -1, y: 1)
        canvas.put("y", x: 9, y: 1)
        canvas.put("z", x: 0, y: 5)
        XCTAssertEqual(canvas.text, "  hell\n\n")
        canvas.box(Rect(x: 0, y: 0, width: 6, height: 2), glyphs: .ascii)
        XCTAssertEqual(canvas.text, "+----+\n+----+\n")
    }

    func testWrapKeepsWordsAndCutsLongOnes() {
        XCTAssertEqual(Format.wrap("the sorted grid exits early", width: 10), ["the sorted", "grid exits", "early"])
        XCTAssertEqual(Format.wrap("abcdefghijkl x", width: 5), ["abcde", "fghij", "kl x"])
    }

    func testNumberFormats() {
        // The reports' formats (NumberFormat), so a value reads the same on screen and in a report.
        XCTAssertEqual(Format.bytes(8192), "8 KiB")
        XCTAssertEqual(Format.bytes(3_407_872), "3.3 MiB")
        XCTAssertEqual(Format.bytes(816), "816 B")
        XCTAssertEqual(Format.fixed(0.0625, 3), "0.063")
        XCTAssertEqual(Format.fixed(-0.125, 2), "-0.13")
        XCTAssertEqual(Format.scientific(0.00312), "3.12e-3")
        XCTAssertEqual(Format.scientific(0.0099999), "1.00e-2")
        XCTAssertEqual(Format.scientific(0), "0")
        XCTAssertEqual(Format.count(2_097_152), "2.10M")
        XCTAssertEqual(Format.bytes(8192), Session.formatBytes(8192))
        XCTAssertEqual(Format.scientific(0.00312), RunReport.scientific(0.00312))
    }

    /// Panel text wraps on words; when rows run short the least important
    /// lines give way (the rest keep their order) and "~" (ASCII "…") marks it.
    func testPanelTextWrapsAndGivesWayByImportance() {
        let text = PanelText(lines: [
            PanelText.Line("who: program 3", rank: 2),
            PanelText.Line("verdict: partial, eight of sixteen rows empty", rank: 0),
            PanelText.Line("rows 0..15", rank: 1),
        ])
        var canvas = Canvas(width: 25, height: 5)
        text.render(in: Rect(x: 0, y: 0, width: 25, height: 5), glyphs: .ascii, into: &canvas)
        XCTAssertEqual(canvas.text, " who: program 3\n verdict: partial, eight\n of sixteen rows empty\n rows 0..15\n\n")
        canvas = Canvas(width: 25, height: 3)
        text.render(in: Rect(x: 0, y: 0, width: 25, height: 3), glyphs: .ascii, into: &canvas)
        XCTAssertEqual(canvas.text, " verdict: partial, eight\n of sixteen rows empty\n rows 0..15             ~\n",
                       "the lowest-ranked line gave way, marked")
    }
}
