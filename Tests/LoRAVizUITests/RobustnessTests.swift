import LoRAKernels
import LoRAScenario
@testable import LoRAVizUI
import XCTest

/// Every screen the keys can reach renders: empty batches, every kernel and
/// mode, tiny and odd sizes, and a long deterministic run of random keys.
final class RobustnessTests: XCTestCase {
    func testEmptyBatchRendersAtEverySize() {
        for (w, h) in [(80, 24), (81, 25), (120, 40), (200, 60), (79, 24), (1, 1)] {
            let state = AppState(session: Session(), width: w, height: h, glyphs: .ascii)
            let text = Screen.render(state).text
            XCTAssertEqual(text.split(separator: "\n", omittingEmptySubsequences: false).count, h + 1)
            if w >= 80 && h >= 24 {
                XCTAssertTrue(text.contains("the batch is empty"), text)
                XCTAssertTrue(text.contains("no program to inspect"), text)
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
                    for kind in Strategy.allCases {
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

    func testThousandsOfRandomKeysNeverBreakTheState() throws {
        var rng = SplitMix64(seed: 42)
        var keys = KeyBinding.table.flatMap(\.keys).filter { $0 != .char("q") && $0 != .ctrl("c") && $0 != .char("r") }
        keys += [.char(":"), .escape, .enter, .char("s"), .char("1"), .backspace]
        var s = AppState(session: try AppState.defaultSession(), width: 100, height: 30, glyphs: .unicode)
        for i in 0..<3000 {
            let key = keys[Int(rng.next() % UInt64(keys.count))]
            let actions = s.handle(.key(key))
            for action in actions {
                if case .quit = action { XCTFail("quit without q") }
            }
            if i % 97 == 0 { _ = s.handle(.resize(width: 60 + Int(rng.next() % 160), height: 15 + Int(rng.next() % 50))) }
            XCTAssertEqual(s.plans.workload, s.session.workload)
            _ = Screen.render(s)
        }
    }
}

