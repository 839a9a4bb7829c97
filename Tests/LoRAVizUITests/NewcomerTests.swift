import Foundation
import LoRAKernels
import LoRAScenario
@testable import LoRAVizUI
import LoRAVizTestSupport
import XCTest

/// What a newcomer meets (issue 13): panels that show every line on `i`, one
/// grid notation, a glossary reachable at 80×24, a narration that closes, a
/// colour-blind-safe palette, Ctrl-Z, and a too-small screen that always says
/// how to quit.
final class NewcomerTests: XCTestCase {
    func state(_ width: Int, _ height: Int, _ extra: String = "") throws -> AppState {
        let session = try ScreenSnapshotTests.session(Scenario.defaultSource + "\n" + extra)
        return AppState(session: session, width: width, height: height, glyphs: .ascii)
    }

    func lines(_ s: AppState) -> [String] {
        Screen.render(s).text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    /// The inspector's rows, inside its box.
    func inspectorText(_ s: AppState) -> String {
        let area = ScreenLayout(s).inspector
        return lines(s)[area.y..<area.maxY].map { String($0.prefix(area.maxX)) }.joined(separator: "\n")
    }

    /// Item 8: at 120×40 the inspector's last line showed only at 200×60; `i` shows it, the grids giving way.
    func testIShowsEveryLineOfTheInspectorAndTheRunPanel() throws {
        for (w, h) in [(80, 24), (120, 40)] {
            var s = try state(w, h)
            var text = inspectorText(s)
            XCTAssertFalse(text.contains("seg_indptr 0"), "\(w)x\(h): the last line does not fit yet:\n\(text)")
            XCTAssertTrue(text.contains("i: all lines"), "the box's edge says what shows the rest:\n\(text)")
            let rows = ScreenLayout(s).gridRows
            _ = s.handle(.key(.char("i")))
            text = inspectorText(s)
            XCTAssertTrue(text.contains("seg_indptr 0"), "\(w)x\(h):\n\(text)")
            XCTAssertTrue(text.contains("i: fewer lines"), text)
            XCTAssertFalse(text.contains("~"), "nothing left out:\n\(text)")
            XCTAssertLessThan(ScreenLayout(s).gridRows, rows, "the grids gave the rows")
            XCTAssertGreaterThanOrEqual(ScreenLayout(s).gridRows, 3, "and keep some")
            _ = s.handle(.key(.char("i")))
            XCTAssertEqual(ScreenLayout(s).gridRows, rows, "i again gives them back")
        }
        // The run panel after a run: its last line (threads, reps) shows on i at 120×40 (80×24 keeps
        // three rows of grid, and the run panel's last line gives way there).
        var s = try state(120, 40)
        let run = { (kind: Strategy) in
            RoutingRun(routing: kind, time: TimingSummary(samples: [5, 6, 7]), maxAbsErrorVsReference: 1e-5, gflops: 1)
        }
        s.session.apply(run: KernelRunResult(workload: s.session.workload, perSequence: run(.perSequence), sorted: run(.sorted),
                                            maxAbsDiffBetweenRoutings: 0, bitwiseEqual: true, threads: 2))
        XCTAssertFalse(lines(s).joined().contains("2 threads"))
        _ = s.handle(.key(.char("i")))
        XCTAssertTrue(lines(s).joined().contains("2 threads"), lines(s).joined(separator: "\n"))
    }

    /// Item 5: the panes write the grid as the report's JSON and `expect` do.
    func testPaneTitlesWriteTheGridAsExpectDoes() throws {
        let s = try state(120, 40)
        let screen = lines(s)[1]
        for kind in s.panes {
            let grid = s.plans[kind].grid3
            XCTAssertTrue(screen.contains("grid [" + grid.map(String.init).joined(separator: ", ") + "]"), screen)
        }
        XCTAssertFalse(screen.contains("grid ("), screen)
        // The sorted pane's pids factor into row tiles × column tiles where the title has room.
        XCTAssertTrue(screen.contains("pids 2x16"), screen)
    }

    /// Item 5: the glossary scrolls, so at 80×24 every fate, the notation, zoom, util and W are reachable.
    func testTheGlossaryReachesEveryTermAtTheMinimumSize() throws {
        var s = try state(80, 24)
        _ = s.handle(.key(.char("?")))
        _ = s.handle(.key(.char("?")))
        var seen = lines(s).joined(separator: "\n")
        XCTAssertTrue(seen.contains("j/k scroll"), seen)
        var last = -1
        while s.glossaryScroll != last {
            last = s.glossaryScroll
            _ = s.handle(.key(.char("j")))
            seen += "\n" + lines(s).joined(separator: "\n")
        }
        XCTAssertTrue(s.showHelp, "j scrolls, it does not close")
        for fate in ProgramFate.allCases { XCTAssertTrue(seen.contains(fate.label), "\(fate.label)") }
        for term in ["grid [128, 26, 1]", "pids 8x16", "zoom 1:7x19", "util ", "W ", "blocks 16x256x16", "H200 est."] {
            XCTAssertTrue(seen.contains(term), "glossary lacks \(term)")
        }
        let end = lines(s)
        XCTAssertTrue(end.contains { $0.contains("docs/kernels.md and docs/strategies.md") }, "the end says where the rest is")
        XCTAssertTrue(end[1].contains("^ more"), "scrolled: the top says so")
        assertSnapshot(end.joined(separator: "\n"))
        _ = s.handle(.key(.char("k")))
        XCTAssertEqual(s.glossaryScroll, last - 1)
        _ = s.handle(.key(.char("x")))
        XCTAssertFalse(s.showHelp, "another key closes")
        XCTAssertEqual(s.session.workload.batch.sequences.count, 26, "without acting")
    }

    /// Item 18: a narration opened with `:narrate` closes with Esc (undoable); `narrate ""` closes it too.
    func testEscClosesTheNarrationAndUBringsItBack() throws {
        var s = try state(80, 24)
        _ = s.submit("narrate \"hello there\"")
        XCTAssertNotNil(ScreenLayout(s).narration)
        _ = s.handle(.key(.escape))
        XCTAssertNil(s.session.narration)
        XCTAssertNil(ScreenLayout(s).narration, "the panel is gone")
        XCTAssertEqual(s.status?.text, "narration closed · u undoes")
        _ = s.handle(.key(.char("u")))
        XCTAssertEqual(s.session.narration, "hello there")
        _ = s.submit("narrate \"\"")
        XCTAssertNil(s.session.narration)
        // Esc with nothing open still only clears the message.
        _ = s.handle(.key(.escape))
        XCTAssertNil(s.status)
    }

    /// A narration too long for its panel (80×24) says where it is in full: the message log.
    func testALongNarrationIsInTheMessageLog() throws {
        var s = try state(80, 24)
        let text = String(repeating: "The sorted grid launches one segment per adapter slot. ", count: 8)
        _ = s.handle(.key(.char(":")))
        for c in "narrate \"\(text)\"" { _ = s.handle(.key(.char(c))) }
        _ = s.handle(.key(.enter))
        let area = try XCTUnwrap(ScreenLayout(s).narration)
        XCTAssertTrue(lines(s)[area.maxY - 1].contains("M: all"), lines(s).joined(separator: "\n"))
        XCTAssertTrue(s.messageLog.contains { $0.message.text == "narration: " + text })
    }

    /// The replay panel's source line, too long for 80 columns, ends at a whole word with `…` (was `per slo…`).
    func testTheReplaysSourceLineEndsAtAWord() throws {
        var s = AppState(session: Session(), width: 80, height: 24, glyphs: .ascii)
        let words = "Sorted: four row blocks times sixteen column tiles of the stacked columns makes sixty-four programs per slot"
        s.startReplay(try Scenario.parse("slots 4\nnarrate \"\(words)\"\n", file: "long.lora"))
        for t in [0.0, 1, 2] { _ = s.handle(.tick(now: t)) }
        let row = try XCTUnwrap(lines(s).first { $0.contains("2: narrate") })
        let shown = row.dropFirst(2).prefix { $0 != "~" }
        XCTAssertTrue(row.contains("~"), row)
        XCTAssertTrue(("2: narrate \"" + words).hasPrefix(shown) && (words + " ").contains(shown.split(separator: " ").last! + " "), row)
    }

    /// The colour-blind-safe palette: P switches, full and excess exit are blue and orange (never green against red).
    func testTheColourBlindPaletteNeverPairsGreenWithRed() throws {
        var s = try state(80, 24)
        XCTAssertEqual(s.palette, .standard)
        let before = Screen.render(s).text
        _ = s.handle(.key(.char("P")))
        XCTAssertEqual(s.palette, .colorBlind)
        XCTAssertTrue(s.status?.text.contains("colour-blind-safe") == true, s.status?.text ?? "")
        XCTAssertEqual(lines(s).dropLast(3), before.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).dropLast(3),
                       "the glyphs carry the meaning: the screen's text is the same")
        let p = Palette.colorBlind
        // xterm 256: Okabe-Ito blue and orange; 8 colours: blue and yellow.
        XCTAssertEqual(p.color256(.full), 25)
        XCTAssertEqual(p.color256(.excessExit), 214)
        XCTAssertEqual(p.color8(.full), 4)
        XCTAssertEqual(p.color8(.excessExit), 3)
        let red: Set<Int16> = [1, 9, 160, 167, 196, 203], green: Set<Int16> = [2, 10, 28, 34, 40, 46, 71, 78]
        for role in ColorRole.allCases {
            for c in [p.color256(role), p.color8(role)].compactMap({ $0 }) {
                XCTAssertFalse(red.contains(c) || green.contains(c), "\(role) is drawn red or green (\(c))")
            }
        }
        // The working fates and the exits stay apart from each other.
        let fates = ProgramFate.allCases.map { ColorRole($0) }
        let working: [ColorRole] = [.full, .partial, .maskedOut]
        for w in working { for f in fates where !working.contains(f) { XCTAssertNotEqual(p.color256(w), p.color256(f), "\(w) vs \(f)") } }
        _ = s.handle(.key(.char("P")))
        XCTAssertEqual(s.palette, .standard)
    }

    /// Ctrl-Z asks the host to suspend (it restores the terminal, stops, redraws on fg: the tmux test).
    func testCtrlZSuspends() throws {
        var s = try state(80, 24)
        let actions = s.handle(.key(.ctrl("z")))
        XCTAssertTrue(actions.contains { if case .suspend = $0 { return true }; return false })
        XCTAssertEqual(s.session.workload.batch.sequences.count, 26)
        // From the prompt and the help too, which stay as they were.
        _ = s.handle(.key(.char(":")))
        _ = s.handle(.key(.char("s")))
        XCTAssertTrue(s.handle(.key(.ctrl("z"))).contains { if case .suspend = $0 { return true }; return false })
        XCTAssertEqual(s.prompt?.text, "s")
        _ = s.handle(.key(.escape))
        _ = s.handle(.key(.char("?")))
        XCTAssertTrue(s.handle(.key(.ctrl("z"))).contains { if case .suspend = $0 { return true }; return false })
        XCTAssertTrue(s.showHelp)
    }

    /// Item 3: an adapter name too long for its row label ends in `…` (ASCII `~`), at every size.
    func testLongAdapterNamesEndInAnEllipsis() throws {
        let name = "a_really_long_adapter_name_for_chat"
        let source = "slots 4\nadapter \(name) rank=16\nadapter sql rank=8\nseq \(name) count=3\nseq sql\n"
        for (w, h) in [(80, 24), (120, 40), (200, 60)] {
            let s = AppState(session: try ScreenSnapshotTests.session(source), width: w, height: h, glyphs: .ascii)
            let rows = lines(s)
            for pane in ScreenLayout(s).panes {
                let label = String(rows[pane.body.y].dropFirst(pane.frame.x).prefix(pane.labelWidth))
                XCTAssertTrue(label.contains(name) || (label.contains("a_really") && label.contains("~")), "\(w)x\(h): '\(label)'")
            }
        }
    }

    /// Item 3: the too-small screen says how to quit at every size, in whole words.
    func testTheTooSmallScreenAlwaysSaysHowToQuit() throws {
        var s = try state(80, 24)
        for (w, h) in [(30, 8), (20, 5), (79, 23), (40, 4)] {
            _ = s.handle(.resize(width: w, height: h))
            let text = Screen.render(s).text
            XCTAssertTrue(text.contains("quit") || text.contains("q quits"), "\(w)x\(h):\n\(text)")
            XCTAssertTrue(text.contains("\(w)x\(h)"), text)
            for line in text.split(separator: "\n") { XCTAssertLessThanOrEqual(line.count, w) }
        }
    }
}
