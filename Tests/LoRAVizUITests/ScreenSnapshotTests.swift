import Foundation
import LoRAKernels
import LoRAScenario
@testable import LoRAVizUI
import LoRAVizTestSupport
import XCTest

/// Golden screens of the text backend (ASCII glyphs, no colour) at three sizes.
final class ScreenSnapshotTests: XCTestCase {
    static func session(_ source: String) throws -> Session {
        let session = try Session(replaying: Scenario.parse(source, file: "<test>"))
        return session
    }

    static var defaultSession: Session { get throws { try session(Scenario.defaultSource) } }

    /// A shipped demo (`scenarios/NAME`) played up to the narration that contains `before` (to its end without).
    static func demo(_ name: String, before: String? = nil, file: String = #filePath) throws -> Session {
        let root = file.split(separator: "/", omittingEmptySubsequences: false).dropLast(3).joined(separator: "/")
        let path = root + "/scenarios/" + name
        let source = try String(contentsOfFile: path, encoding: .utf8)
        var session = Session()
        for step in try Scenario.parse(source, file: path).steps {
            if let before, case .narrate(let text) = step.command, text.contains(before) { break }
            try session.apply(step)
        }
        return session
    }

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

    /// The default batch on three strategies: sorted and csgmv in the panes, vLLM in the strip.
    static var strategiesSession: Session {
        get throws { try session(Scenario.defaultSource + "\nstrategies sorted csgmv vllm\n") }
    }

    /// `strategiesSession` after Tab and `s`: sorted beside vLLM, the cursor on vLLM's group 1 (slot 0).
    func strategiesText(_ w: Int, _ h: Int, keys: [Key]) throws -> String {
        var state = AppState(session: try Self.strategiesSession, width: w, height: h, glyphs: .ascii)
        for key in keys { _ = state.handle(.key(key)) }
        return Screen.render(state).text
    }

    func text(_ session: Session, _ w: Int, _ h: Int, help: Bool = false) -> String {
        var state = AppState(session: session, width: w, height: h, glyphs: .ascii)
        state.showHelp = help
        return Screen.render(state).text
    }

    /// A replay of the default batch in the middle of its story: a run's
    /// timings on screen (fixed figures of the size a debug build measures),
    /// a long narration, the cursor on a partial program of the sorted grid.
    func replayText(_ w: Int, _ h: Int) throws -> String {
        var session = try Self.defaultSession
        let run = { (kind: Strategy, ms: [Double], gflops: Double) in
            RoutingRun(routing: kind, time: TimingSummary(samples: ms), maxAbsErrorVsReference: 1.4e-5, gflops: gflops)
        }
        session.apply(run: KernelRunResult(
            workload: session.workload, perSequence: run(.perSequence, [79.4, 75.0, 85.4], 0.0924),
            sorted: run(.sorted, [52.3, 50.9, 61.0], 0.140), maxAbsDiffBetweenRoutings: 0, bitwiseEqual: true,
            threads: 2))
        var state = AppState(session: session, width: w, height: h, glyphs: .ascii)
        let scenario = try Scenario.parse("""
            select sorted 3 0
            narrate "The sorted grid launches one segment per adapter slot: 8 segments of 2 row blocks instead of 26 segments of 1. Its partial programs each compute one adapter's rows, gathered through the permutation."
            pause
            seed 7
            """, file: "scenarios/story.lora")
        state.startReplay(scenario)
        for t in [0.0, 1, 20] { _ = state.handle(.tick(now: t)) }
        return Screen.render(state).text
    }

    func testReplay80x24() throws { assertSnapshot(try replayText(80, 24)) }
    func testReplay120x40() throws { assertSnapshot(try replayText(120, 40)) }
    func testReplay200x60() throws { assertSnapshot(try replayText(200, 60)) }

    func testDefault80x24() throws { assertSnapshot(text(try Self.defaultSession, 80, 24)) }
    func testDefault120x40() throws { assertSnapshot(text(try Self.defaultSession, 120, 40)) }
    func testDefault200x60() throws { assertSnapshot(text(try Self.defaultSession, 200, 60)) }
    func testBig80x24() throws { assertSnapshot(text(try Self.bigSession, 80, 24)) }
    func testBig120x40() throws { assertSnapshot(text(try Self.bigSession, 120, 40)) }
    func testBig200x60() throws { assertSnapshot(text(try Self.bigSession, 200, 60)) }
    func testQKV80x24() throws { assertSnapshot(text(try Self.qkvSession, 80, 24)) }
    func testQKV120x40() throws { assertSnapshot(text(try Self.qkvSession, 120, 40)) }
    func testQKV200x60() throws { assertSnapshot(text(try Self.qkvSession, 200, 60)) }
    func testStrategies80x24() throws { assertSnapshot(text(try Self.strategiesSession, 80, 24)) }
    func testStrategies120x40() throws { assertSnapshot(text(try Self.strategiesSession, 120, 40)) }
    func testStrategiesVLLM120x40() throws { assertSnapshot(try strategiesText(120, 40, keys: [.tab, .char("s"), .char("j")])) }
    func testStrategiesVLLM200x60() throws { assertSnapshot(try strategiesText(200, 60, keys: [.tab, .char("s"), .char("j")])) }
    func testOneStrategy80x24() throws {
        assertSnapshot(text(try Self.session(Scenario.defaultSource + "\nstrategies vllm\nkernel qkv_lora_b\n"), 80, 24))
    }
    /// Demo 02 with every token on slot a: the sorted grid shows one row per slot, three of them empty exits.
    func testDemo02Sorted120x40() throws {
        assertSnapshot(text(try Self.demo("02-excess-exit.lora", before: "Programs that exit at once"), 120, 40))
    }
    /// Demo 05 (qkv with GQA): the sorted grid one row per slot and slice, the masked-out k/v tiles visible.
    func testDemo05QKV120x40() throws {
        assertSnapshot(text(try Self.demo("05-qkv-gqa.lora", before: "Each slice reads"), 120, 40))
    }
    /// Demo 05's first steps at 80×24 (one adapter's 32 tokens): zoomed 3-D rows keep their slices,
    /// and a row inside one segment with no room for the adapter's name reads `s0 q-k` (not `s0… q-k`).
    func testQKVOneAdapter80x24() throws {
        let source = "slots 4\ndims q=4096 kv=1024 rank=64\nadapter a rank=64\nadapter b rank=64\nkernel qkv_lora_b\nseq a count=32\n"
        let screen = text(try Self.session(source), 80, 24)
        XCTAssertTrue(screen.contains("|s0 q-k "), screen)
        assertSnapshot(screen)
    }
    /// `a` once on the default batch: the sorted grid keeps one row per slot (no `s0-1 ... s6-7`).
    func testDefaultAfterAdd120x40() throws {
        var state = AppState(session: try Self.defaultSession, width: 120, height: 40, glyphs: .ascii)
        _ = state.handle(.key(.char("a")))
        state.status = nil
        assertSnapshot(Screen.render(state).text)
    }
    /// The layer table (L) of demo 14: eight launches, the current one highlighted, the totals.
    func testLayerTable80x24() throws { assertSnapshot(try layerText(80, 24)) }
    func testLayerTable120x40() throws { assertSnapshot(try layerText(120, 40)) }
    func layerText(_ width: Int, _ height: Int) throws -> String {
        var s = try Self.demo("14-real-adapters.lora", before: "The down shrink reads")
        s.narration = nil
        try s.execute("layer")
        return text(s, width, height)
    }
    /// The sweep chart (w) of the default batch, ASCII: lines per adapter count, the 1x line, the legend.
    func testSweepChart120x40() throws {
        var state = AppState(session: try Self.defaultSession, width: 120, height: 40, glyphs: .ascii)
        _ = state.handle(.key(.char("w")))
        state.status = nil
        assertSnapshot(Screen.render(state).text)
    }
    /// `?` twice: the glossary (every fate with its glyph, then the notation).
    func testGlossary120x40() throws {
        var state = AppState(session: try Self.defaultSession, width: 120, height: 40, glyphs: .ascii)
        _ = state.handle(.key(.char("?")))
        _ = state.handle(.key(.char("?")))
        let text = Screen.render(state).text
        for fate in ProgramFate.allCases { XCTAssertTrue(text.contains(fate.label), "\(fate) in the glossary") }
        XCTAssertTrue(text.contains("[128, 26, 1]"), "the grid's two notations side by side")
        assertSnapshot(text)
        _ = state.handle(.key(.char("x")))
        XCTAssertFalse(state.showHelp, "any other key closes it")
        XCTAssertEqual(state.session.workload.batch.sequences.count, 26, "and does not act")
    }
    func testHelp80x24() throws { assertSnapshot(text(try Self.defaultSession, 80, 24, help: true)) }
    func testHelp120x40() throws { assertSnapshot(text(try Self.defaultSession, 120, 40, help: true)) }
    func testHelp200x60() throws { assertSnapshot(text(try Self.defaultSession, 200, 60, help: true)) }

    /// The help overlay lists every binding's summary in full (wrapped, not cut) even at the minimum size.
    func testHelpListsEveryKeyAtTheMinimumSize() throws {
        let screen = text(try Self.defaultSession, 80, 24, help: true)
        let words = Set(screen.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init))
        for binding in KeyBinding.table {
            // (Non-ASCII words are drawn in ASCII stand-ins: ↑↓ as ^v.)
            for word in binding.summary.split(separator: " ") where word.unicodeScalars.allSatisfy(\.isASCII) {
                XCTAssertTrue(words.contains(String(word)), "help at 80x24 lacks '\(word)' of \(binding.summary)")
            }
        }
        XCTAssertFalse(screen.contains("~"), "nothing is marked cut")
    }

    func testGoldenScreensAreASCII() throws {
        for w in [80, 120, 200] {
            let t = text(try Self.bigSession, w, 40)
            XCTAssertTrue(t.unicodeScalars.allSatisfy { $0.isASCII }, "non-ASCII glyph at \(w) columns")
        }
    }
}
