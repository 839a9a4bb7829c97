import LoRAKernels
import LoRAScenario
@testable import LoRAVizUI
import XCTest

/// Every screen the keys can reach renders: empty batches, every kernel and
/// mode, tiny and odd sizes, and a long deterministic run of random keys.
final class RobustnessTests: XCTestCase {
    func testEmptyBatchRendersAtEverySize() throws {
        var vllm = Session()
        _ = try vllm.execute("strategies vllm csgmv-graph tight")
        for (w, h) in [(80, 24), (81, 25), (120, 40), (200, 60), (79, 24), (1, 1)] {
            for session in [Session(), vllm] {
                let state = AppState(session: session, width: w, height: h, glyphs: .ascii)
                let text = Screen.render(state).text
                XCTAssertEqual(text.split(separator: "\n", omittingEmptySubsequences: false).count, h + 1)
                if w >= 80 && h >= 24 {
                    XCTAssertTrue(text.contains("the batch is empty"), text)
                    XCTAssertTrue(text.contains("no program to inspect"), text)
                }
            }
        }
    }

    func testEveryKernelAndModeRendersAndKeepsTheCursorInTheGrid() throws {
        let base = try AppState.defaultSession()
        for kernel in ["sgemm_lora_a", "sgemm_lora_a stack=3", "sgemm_lora_b", "qkv_lora_b", "gate_up_lora_b"] {
            for mode in ["decode", "extend"] {
                var s = AppState(session: base, width: 120, height: 40, glyphs: .ascii)
                _ = s.submit("kernel \(kernel)")
                _ = s.submit("mode \(mode)")
                _ = s.submit("set seq 3 tokens=40")
                for key in [Key.end, .pageDown, .tab, .end, .pageDown, .char("z"), .char("l"), .char("Z"), .char("Z")] {
                    _ = s.handle(.key(key))
                    for kind in s.panes {
                        let p = s.cursor(kind)!
                        let plan = s.plans[kind]
                        XCTAssertLessThan(p.pid, plan.pidCount)
                        XCTAssertLessThan(p.segment, plan.segments.count)
                        XCTAssertLessThan(p.slice, plan.sliceCount)
                    }
                    let text = Screen.render(s).text
                    XCTAssertTrue(text.unicodeScalars.allSatisfy(\.isASCII))
                }
                XCTAssertTrue(Screen.render(s).text.contains(kernel.split(separator: " ")[0]), "\(kernel) \(mode)")
            }
        }
    }

    func testThousandsOfRandomKeysNeverBreakTheStateOfTwoStrategies() throws {
        try walkRandomKeys(strategies: "per-sequence sorted")
    }

    func testThousandsOfRandomKeysNeverBreakTheStateOfFiveStrategies() throws {
        try walkRandomKeys(strategies: "sorted csgmv vllm csgmv-graph tight")
    }

    /// 3000 random keys from one seed, a resize every 97, the state checked and the screen drawn after each.
    /// Two tests, one per strategy set, so the two walks (seconds each in a debug build) run in parallel.
    private func walkRandomKeys(strategies: String) throws {
        // M (the message log) stays out of this walk so it is the walk it always was (its cost is the sweep
        // chart's, open for much of it); the next test walks the log, paste and the prompt's editing keys.
        var keys = KeyBinding.table.flatMap(\.keys).filter { $0 != .char("q") && $0 != .ctrl("c") && $0 != .char("r") && $0 != .char("M") }
        keys += [.char(":"), .escape, .enter, .char("s"), .char("1"), .backspace]
        var rng = SplitMix64(seed: 42)
        var session = try AppState.defaultSession()
        _ = try session.execute("strategies \(strategies)")
        var s = AppState(session: session, width: 100, height: 30, glyphs: .unicode)
        for i in 0..<3000 {
            let key = keys[Int(rng.next() % UInt64(keys.count))]
            let actions = s.handle(.key(key))
            for action in actions {
                if case .quit = action { XCTFail("quit without q") }
            }
            if i % 97 == 0 { _ = s.handle(.resize(width: 60 + Int(rng.next() % 160), height: 15 + Int(rng.next() % 50))) }
            XCTAssertEqual(s.plans.workload, s.session.workload)
            // The panes show distinct chosen strategies, the focus one of them.
            XCTAssertEqual(s.panes.count, min(2, s.session.strategies.count))
            XCTAssertEqual(Set(s.panes).count, s.panes.count)
            XCTAssertTrue(s.panes.allSatisfy(s.session.strategies.contains) && s.panes.contains(s.focus), "\(s.panes) \(s.focus)")
            _ = Screen.render(s)
        }
    }

    /// A shorter walk with the message log, pastes and the prompt's editing keys among the keys.
    func testRandomKeysWithTheLogPasteAndPromptEditing() throws {
        var keys = KeyBinding.table.flatMap(\.keys).filter { $0 != .char("q") && $0 != .ctrl("c") && $0 != .char("r") && $0 != .char("w") }
        keys += [.char(":"), .char(":"), .escape, .enter, .char("1"), .backspace, .tab, .ctrl("a"), .ctrl("e"), .ctrl("w"),
                 .ctrl("k"), .ctrl("u"), .char("M"), .char("M"), .char("G")]
        let pastes = ["slots 9", "slots 9\nq\nslots 10", "\u{1B}[99~", "seq chat count=2\nremove seq 0\n"]
        var rng = SplitMix64(seed: 7)
        var s = AppState(session: try AppState.defaultSession(), width: 100, height: 30, glyphs: .unicode)
        for i in 0..<600 {
            let event: AppEvent = i % 41 == 0 ? .paste(pastes[Int(rng.next() % UInt64(pastes.count))])
                : .key(keys[Int(rng.next() % UInt64(keys.count))])
            for action in s.handle(event) { if case .quit = action { XCTFail("quit without q") } }
            XCTAssertEqual(s.plans.workload, s.session.workload)
            if let p = s.prompt { XCTAssertTrue((0...p.text.count).contains(p.cursor), "\(p)") }
            _ = Screen.render(s)
        }
    }
}
