@testable import LoRAVizUI
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
        XCTAssertEqual(Format.bytes(8192), "8.00 KiB")
        XCTAssertEqual(Format.bytes(3_407_872), "3.25 MiB")
        XCTAssertEqual(Format.fixed(0.0625, 3), "0.063")
        XCTAssertEqual(Format.scientific(0.00312), "3.1e-03")
        XCTAssertEqual(Format.count(2_097_152), "2.10M")
    }
}
