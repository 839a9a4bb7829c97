import LoRAKernels
import LoRAScenario
@testable import LoRAVizUI
import XCTest

/// Golden screens of the text backend (ASCII glyphs, no colour) at three sizes.
final class ScreenSnapshotTests: XCTestCase {
    static func session(_ source: String) throws -> Session {
        var session = Session()
        for step in try Scenario.parse(source, file: "<test>").steps { try session.apply(step) }
        return session
    }

    static var defaultSession: Session { get throws { try session(Scenario.defaultSource) } }

    /// bs 512 on mlpb 64: 64 adapters of mixed ranks, 8 sequences each.
    static var bigSession: Session {
        get throws {
            var lines = ["slots 64"]
            for i in 0..<64 { lines.append("adapter a\(i) rank=\([8, 16, 32, 64][i % 4])") }
            for i in 0..<512 { lines.append("seq a\((i * 7) % 64)") }
            return try session(lines.joined(separator: "\n"))
        }
    }

    /// qkv_lora_b with grouped-query attention on the default batch.
    static var qkvSession: Session {
        get throws { try session(Scenario.defaultSource + "\nkernel qkv_lora_b\n") }
    }

    func text(_ session: Session, _ w: Int, _ h: Int, help: Bool = false) -> String {
        var state = AppState(session: session, width: w, height: h, glyphs: .ascii)
        state.showHelp = help
        return Screen.render(state).text
    }

    func testDefault80x24() throws { assertSnapshot(text(try Self.defaultSession, 80, 24)) }
    func testDefault120x40() throws { assertSnapshot(text(try Self.defaultSession, 120, 40)) }
    func testDefault200x60() throws { assertSnapshot(text(try Self.defaultSession, 200, 60)) }
    func testBig80x24() throws { assertSnapshot(text(try Self.bigSession, 80, 24)) }
    func testBig120x40() throws { assertSnapshot(text(try Self.bigSession, 120, 40)) }
    func testBig200x60() throws { assertSnapshot(text(try Self.bigSession, 200, 60)) }
    func testQKV80x24() throws { assertSnapshot(text(try Self.qkvSession, 80, 24)) }
    func testQKV120x40() throws { assertSnapshot(text(try Self.qkvSession, 120, 40)) }
    func testQKV200x60() throws { assertSnapshot(text(try Self.qkvSession, 200, 60)) }
    func testHelp80x24() throws { assertSnapshot(text(try Self.defaultSession, 80, 24, help: true)) }
    func testHelp120x40() throws { assertSnapshot(text(try Self.defaultSession, 120, 40, help: true)) }
    func testHelp200x60() throws { assertSnapshot(text(try Self.defaultSession, 200, 60, help: true)) }

    func testGoldenScreensAreASCII() throws {
        for w in [80, 120, 200] {
            let t = text(try Self.bigSession, w, 40)
            XCTAssertTrue(t.unicodeScalars.allSatisfy { $0.isASCII }, "non-ASCII glyph at \(w) columns")
        }
    }
}
