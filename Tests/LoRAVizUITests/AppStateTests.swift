import Foundation
import LoRAKernels
import LoRAScenario
@testable import LoRAVizUI
import XCTest

/// The update function: keys → commands of the language, the prompt, undo/redo,
/// runs, recording, zoom, resize, replay on a virtual clock.
final class AppStateTests: XCTestCase {
    func state(_ source: String? = nil, width: Int = 120, height: Int = 40) throws -> AppState {
        let session = try source.map { try ScreenSnapshotTests.session($0) } ?? AppState.defaultSession()
        return AppState(session: session, width: width, height: height, glyphs: .ascii)
    }

    /// The command a key's binding gives in a state.
    func command(_ key: Key, _ state: AppState) -> Command? {
        guard let b = KeyBinding.binding(for: key, replaying: false), case .command(let make) = b.effect else { return nil }
        return try? make(state, key).get()
    }

    // MARK: Key table

    func testEveryKeyHasOneBindingAndTheHelpListsThemAll() {
        for replaying in [false, true] {
            var seen: Set<Key> = []
            for b in KeyBinding.table where replaying || !b.replayOnly {
                for key in b.keys {
                    XCTAssertFalse(seen.contains(key), "\(key) is bound twice")
                    seen.insert(key)
                }
            }
        }
        // What the overlay lays out: every entry, keys then summary.
        let help = HelpOverlay.entries(glyphs: .ascii, withCommands: true).map { $0.keys + "  " + $0.summary }.joined(separator: "\n")
        for b in KeyBinding.table {
            XCTAssertTrue(help.contains(b.summary), "help misses \(b.summary)")
            for key in b.keys { XCTAssertTrue(help.contains(key.asciiDescription), "help misses key \(key)") }
        }
        // Every hint names a key the table binds.
        // Every hint opens with the key it names ("u undo", "z/Z zoom", or "hjkl move" for the four
        // bindings of one group), and the key is one the table binds.
        let bound = Set(KeyBinding.table.flatMap { $0.keys.map(\.asciiDescription) })
        for b in KeyBinding.table {
            guard let hint = b.hint else { continue }
            let label = String(hint.split(separator: " ").first ?? "")
            let own = Set(b.keys.map(\.asciiDescription))
            let names = label.split(separator: "/").map(String.init)
            let namesOwnKeys = names.contains { own.contains($0) } && names.allSatisfy { bound.contains($0) }
            let spellsGroupKeys = label.count > 1 && label.allSatisfy { bound.contains(String($0)) }
                && own.contains { label.contains($0) }
            XCTAssertTrue(namesOwnKeys || spellsGroupKeys, "hint '\(hint)' does not open with a key of '\(b.summary)'")
        }
    }

    /// Tab links the grids: from a per-sequence program to the sorted program
    /// computing the same token and column (through the permutation), and back.
    func testTabFollowsTheWorkToTheOtherGridAndBack() throws {
        var s = try state()
        // Sequence 2's program ("code", per-sequence pid 0, segment 2).
        _ = s.handle(.key(.char("j"))); _ = s.handle(.key(.char("j")))
        let start = try XCTUnwrap(s.session.selection)
        XCTAssertEqual(start.routing, .perSequence)
        let ps = s.plans[.perSequence], so = s.plans[.sorted]
        let token = try XCTUnwrap(ps.cells(of: start.position)).tokens[0]
        XCTAssertEqual(token, 2)
        XCTAssertEqual(s.counterpart?.strategy, .sorted, "the other pane marks the counterpart before Tab")
        _ = s.handle(.key(.tab))
        let there = try XCTUnwrap(s.session.selection)
        XCTAssertEqual(there.routing, .sorted)
        XCTAssertEqual(there.position.segment, s.session.workload.batch.weightIndices[2], "the segment of sequence 2's slot")
        XCTAssertTrue(try XCTUnwrap(so.cells(of: there.position)).tokens.contains(2), "the sorted program computes token 2")
        XCTAssertTrue(s.status?.text.contains("token 2 (sequence 2)") ?? false, s.status?.text ?? "")
        // Tab comes back to the program it left.
        _ = s.handle(.key(.tab))
        XCTAssertEqual(s.session.selection, start)
        // A program that exits computes nothing: Tab keeps the other grid's cursor.
        let exits = GridPosition(pid: 0, slice: 0, segment: 7)
        XCTAssertNil(so.cells(of: exits), "slot 7 is unused: rank-0 exit")
    }

    /// `D` lists the shipped demos; Enter plays the chosen one from an empty session, undoable.
    func testTheDemoMenuPlaysAShippedDemo() throws {
        var s = try state()
        let before = s.session.workload
        _ = s.handle(.key(.char("D")))
        XCTAssertEqual(s.status?.isError, true, "no demos known: said so")
        XCTAssertNil(s.demoChoice)
        s.demos = try DemoScenarioTests_paths().map { Demo(path: $0, scenario: try Scenario.load(path: $0)) }
        XCTAssertGreaterThanOrEqual(s.demos.count, 14)
        _ = s.handle(.key(.char("D")))
        XCTAssertEqual(s.demoChoice, 0)
        var screen = Screen.render(s).text
        XCTAssertTrue(screen.contains("demos - j/k choose - Enter plays - Esc closes"), screen)
        XCTAssertTrue(screen.contains(">  1  Decode basics"), screen)
        _ = s.handle(.key(.char("j")))
        _ = s.handle(.key(.char("j")))
        _ = s.handle(.key(.enter))
        XCTAssertNil(s.demoChoice)
        XCTAssertEqual(s.replay?.scenario.title, s.demos[2].title)
        XCTAssertEqual(s.session.workload.batch.sequences.count, 0, "from an empty session")
        screen = Screen.render(s).text
        XCTAssertTrue(screen.contains("replay "), screen)
        _ = s.handle(.key(.char("u")))
        XCTAssertEqual(s.session.workload, before, "u goes back to the session before the demo")
    }

    /// At 80×24 a demo title too long for the menu ends at a whole word with `…` (ASCII `~`), never mid-word.
    func testTheDemoMenuCutsLongTitlesAtAWord() throws {
        var s = try state(width: 80, height: 24)
        s.demos = try DemoScenarioTests_paths().map { Demo(path: $0, scenario: try Scenario.load(path: $0)) }
        _ = s.handle(.key(.char("D")))
        let screen = Screen.render(s).text
        var cut = 0
        for demo in s.demos.prefix(12) {
            if screen.contains(demo.title) { continue }
            let words = demo.title.split(separator: " ").map(String.init)
            let whole = (1..<words.count).contains { screen.contains(words.prefix($0).joined(separator: " ") + "~") }
            XCTAssertTrue(whole, "'\(demo.title)' is cut mid-word:\n\(screen)")
            cut += 1
        }
        XCTAssertGreaterThan(cut, 0, "some titles are too long for 80 columns")
    }

    /// The shipped demos' paths (scenarios/*.lora of this checkout).
    func DemoScenarioTests_paths() throws -> [String] {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scenarios")
        return try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".lora") }.sorted()
            .map { dir.appendingPathComponent($0).path }
    }

    /// `[` and `]` keep a base-model adapter at rank 0 and a LoRA above it, and say why.
    func testRankKeysNeverTurnABaseModelSlotIntoALoRA() throws {
        var s = try state("slots 2\nadapter base rank=0\nadapter one rank=1\nseq base\nseq one\n")
        XCTAssertEqual(s.session.workload.batch.sequences[0].adapter, "base")
        XCTAssertNil(command(.char("]"), s), "rank 0 stays 0")
        _ = s.handle(.key(.char("]")))
        XCTAssertTrue(s.status?.text.contains("is the base model (rank 0)") ?? false, s.status?.text ?? "")
        XCTAssertEqual(s.session.workload.batch.adapter(named: "base")?.rank, 0)
        _ = s.handle(.key(.char("j")))
        XCTAssertNil(command(.char("["), s), "rank 1 is the least a LoRA has")
        XCTAssertEqual(command(.char("]"), s), .adapter(name: "one", rank: 2, scaling: nil, slot: nil))
    }

    func testBatchKeysMapToTheCommandsOfTheLanguage() throws {
        let s = try state()
        // The cursor starts on sequence 0 ("chat", slot 1) of the per-sequence grid.
        XCTAssertEqual(command(.char("a"), s), .seq(adapter: "chat", tokens: nil, count: nil))
        XCTAssertEqual(command(.char("x"), s), .removeSeq(index: 0))
        XCTAssertEqual(command(.delete, s), .removeSeq(index: 0))
        XCTAssertEqual(command(.char("c"), s), .setSeq(index: 0, adapter: "code", tokens: nil))
        XCTAssertEqual(command(.char("X"), s), .removeAdapter(name: "chat"))
        XCTAssertEqual(command(.char("["), s), .adapter(name: "chat", rank: 32, scaling: nil, slot: nil))
        XCTAssertNil(command(.char("]"), s), "rank 64 is already R")
        XCTAssertEqual(command(.char("}"), s), .adapter(name: "chat", rank: nil, scaling: 1, slot: nil))
        XCTAssertEqual(command(.char("<"), s), .slots(7))
        XCTAssertEqual(command(.char(">"), s), .slots(9))
        XCTAssertEqual(command(.char("t"), s), .kernel(.qkvLoRAB))
        XCTAssertEqual(command(.char("T"), s), .kernel(.sgemmLoRAA(stack: 1)))
        XCTAssertEqual(command(.char("y"), s), .dtype(.fp16))
        XCTAssertEqual(command(.char("m"), s), .mode(.extend))
        XCTAssertEqual(command(.char("A"), s), .adapter(name: "lora4", rank: 16, scaling: nil, slot: 4))
        XCTAssertEqual(command(.char("r"), s), .run(reps: nil))
        XCTAssertEqual(command(.char("j"), s), .select(routing: .perSequence, x: 0, y: 1, z: nil))
        XCTAssertEqual(command(.char("l"), s), .select(routing: .perSequence, x: 1, y: 0, z: nil))
        XCTAssertEqual(command(.end, s), .select(routing: .perSequence, x: 15, y: 0, z: nil))
        XCTAssertNil(command(.char(","), s), "tokens change only in extend mode")
    }

    func testPressingKeysChangesTheSessionThroughApply() throws {
        var s = try state(width: 200, height: 60)
        let before = s.session.workload.batch.sequences.count
        _ = s.handle(.key(.char("a")))
        XCTAssertEqual(s.session.workload.batch.sequences.count, before + 1)
        XCTAssertEqual(s.session.workload.batch.sequences.last?.adapter, "chat")
        _ = s.handle(.key(.tab))
        XCTAssertEqual(s.focus, .sorted)
        XCTAssertEqual(s.session.selection?.routing, .sorted)
        // Tab followed the work: sequence 0 ("chat") is in slot 1's segment of the sorted grid.
        XCTAssertEqual(s.session.selection?.position.segment, 1)
        // In the sorted grid the adapter keys act on the slot's adapter (slot 1: chat).
        _ = s.handle(.key(.char("[")))
        XCTAssertEqual(s.session.workload.batch.adapter(named: "chat")?.rank, 32)
        // x needs a sequence: refused with a message, nothing changes.
        let workload = s.session.workload
        _ = s.handle(.key(.char("x")))
        XCTAssertEqual(s.session.workload, workload)
        XCTAssertEqual(s.status?.isError, true)
    }

    func testTheLayerTableReplacesTheGridsAndItsRowsChooseTheLaunch() throws {
        var s = try state()
        XCTAssertEqual(command(.char("L"), s), .layer(.show(index: nil)))
        XCTAssertNil(command(.enter, s), "Enter acts in the layer table only")
        _ = s.handle(.key(.char("L")))
        XCTAssertTrue(s.session.showsLayer)
        var screen = Screen.render(s).text
        XCTAssertTrue(screen.contains(" layer 0 | h200 estimates | j/k launch, Enter grids"), screen)
        XCTAssertTrue(screen.contains("down shrink"), screen)
        XCTAssertFalse(screen.contains("rank-0 exit"), "the legend gives way to the table: \(screen)")
        // j/k walk the launches, each a `launch` command (undoable, recorded).
        _ = s.handle(.key(.char("j")))
        XCTAssertEqual(s.session.workload.kernel, .sgemmLoRAA(stack: 3))
        XCTAssertEqual(s.currentLayerRow, 0)
        _ = s.handle(.key(.char("j")))
        _ = s.handle(.key(.char("j")))
        XCTAssertEqual(s.session.workload.module, .o)
        XCTAssertEqual(s.session.workload.kernel, .sgemmLoRAA(stack: 1))
        _ = s.handle(.key(.char("u")))
        XCTAssertEqual(s.session.workload.kernel, .qkvLoRAB)
        _ = s.handle(.key(.char("j")))
        // Enter shows that launch's grids.
        _ = s.handle(.key(.enter))
        XCTAssertFalse(s.session.showsLayer)
        screen = Screen.render(s).text
        XCTAssertFalse(screen.contains("layer total"), screen)
        XCTAssertTrue(screen.hasPrefix(" o shrink (sgemm_lora_a)"), screen)
    }

    func testTheSweepChartFollowsTheBatchAndCloses() throws {
        var s = try state()
        _ = s.handle(.key(.char("w")))
        guard case .success(let chart)? = s.sweepChart else { return XCTFail("no chart: \(String(describing: s.sweepChart))") }
        XCTAssertEqual(chart.series.map(\.adapters), [1, 4, 16, 64])
        XCTAssertTrue(Screen.render(s).text.contains("1x - sorting pays above this line"), Screen.render(s).text)
        // A change of the workload redraws it: the next kernel.
        _ = s.handle(.key(.char("t")))
        guard case .success(let after)? = s.sweepChart else { return XCTFail() }
        XCTAssertNotEqual(after, chart)
        _ = s.handle(.key(.char("u")))
        guard case .success(let undone)? = s.sweepChart else { return XCTFail() }
        XCTAssertEqual(undone, chart)
        _ = s.handle(.key(.char("w")))
        XCTAssertNil(s.sweepChart)
        XCTAssertTrue(Screen.render(s).text.contains("per-sequence grid"))
    }

    // MARK: Panes

    /// The hint line (the last row) of a state's screen.
    func hintLine(_ s: AppState) -> String {
        Screen.render(s).text.split(separator: "\n").first { $0.hasPrefix("hjkl move") }.map(String.init) ?? ""
    }

    func testSKeyCyclesTheFocusedPaneThroughTheChosenStrategiesNotInTheOtherPane() throws {
        var s = try state()
        XCTAssertEqual(s.panes, [.perSequence, .sorted], "the default session shows SGLang triton's two routings")
        XCTAssertFalse(hintLine(s).contains("s strategy"), "with two strategies both are shown: no hint")
        _ = s.handle(.key(.char("s")))
        XCTAssertEqual(s.status?.isError, true, "nothing to cycle to")
        XCTAssertEqual(s.panes, [.perSequence, .sorted])
        _ = s.submit("strategies sorted csgmv vllm")
        XCTAssertEqual(s.panes, [.sorted, .csgmv], "the first two chosen")
        XCTAssertEqual(s.focus, .sorted)
        XCTAssertTrue(hintLine(s).contains("s strategy"), hintLine(s))
        XCTAssertTrue(HelpOverlay.entries(glyphs: .ascii, withCommands: false)
            .contains { $0.keys == "s" && $0.summary.contains("next chosen strategy") })
        // The focused (left) pane steps over csgmv, which the right pane shows.
        _ = s.handle(.key(.char("s")))
        XCTAssertEqual(s.panes, [.vllm, .csgmv])
        XCTAssertEqual(s.focus, .vllm)
        XCTAssertEqual(s.session.selection?.routing, .vllm, "the cursor moved by a select command")
        XCTAssertEqual(s.session.selection?.position, GridPosition(pid: 0, slice: 0, segment: 0))
        _ = s.handle(.key(.char("s")))
        XCTAssertEqual(s.panes, [.sorted, .csgmv], "and round again")
        // Tab, then the right pane cycles.
        _ = s.handle(.key(.tab))
        XCTAssertEqual(s.focus, .csgmv)
        _ = s.handle(.key(.char("s")))
        XCTAssertEqual(s.panes, [.sorted, .vllm])
        XCTAssertEqual(s.focus, .vllm)
        // vLLM's grid is 3-D even for sgemm_lora_b: its select names all three axes.
        XCTAssertEqual(command(.char("j"), s), .select(routing: .vllm, x: 0, y: 0, z: 1))
        _ = s.handle(.key(.char("j")))
        XCTAssertEqual(s.session.selection, ProgramSelection(routing: .vllm, position: GridPosition(pid: 0, slice: 0, segment: 1)))
        // The choice survives changes of the workload.
        _ = s.handle(.key(.char("a")))
        _ = s.submit("kernel qkv_lora_b")
        XCTAssertEqual(s.panes, [.sorted, .vllm])
        XCTAssertEqual(s.focus, .vllm)
        let screen = Screen.render(s).text
        XCTAssertTrue(screen.contains("  sorted  grid [128, 3, 8]"), screen)
        XCTAssertTrue(screen.contains("> vllm grid [64, 3, 9]"), screen)
        XCTAssertTrue(screen.contains("sorted -> vllm: launched"), "the ratios name both, left to right:\n\(screen)")
        XCTAssertTrue(screen.contains("also chosen (s shows): csgmv launched "), screen)
    }

    func testStrategiesCommandRefitsThePanesAndUndoes() throws {
        var s = try state()
        _ = s.submit("strategies sorted csgmv vllm")
        XCTAssertEqual(s.panes, [.sorted, .csgmv])
        _ = s.handle(.key(.tab))
        _ = s.handle(.key(.char("s")))
        XCTAssertEqual(s.panes, [.sorted, .vllm], "chosen by hand")
        // A pane whose strategy is still chosen keeps it; the others take the first chosen not shown.
        _ = s.submit("strategies tight sorted vllm")
        XCTAssertEqual(s.panes, [.sorted, .vllm])
        _ = s.submit("strategies tight csgmv vllm")
        XCTAssertEqual(s.panes, [.tight, .vllm])
        XCTAssertEqual(s.focus, .vllm)
        _ = s.submit("strategies csgmv-graph csgmv")
        XCTAssertEqual(s.panes, [.csgmvGraph, .csgmv])
        XCTAssertTrue(s.panes.contains(s.focus))
        // Panes left as they opened follow the new order.
        _ = s.submit("strategies vllm sorted per-sequence")
        XCTAssertEqual(s.panes, [.vllm, .sorted])
        // One strategy: one pane, the whole width; Tab has no other pane.
        _ = s.submit("strategies csgmv")
        XCTAssertEqual(s.panes, [.csgmv])
        XCTAssertEqual(s.focus, .csgmv)
        let layout = ScreenLayout(s)
        XCTAssertEqual(layout.panes.count, 1)
        XCTAssertEqual(layout.panes[0].frame.width, s.width)
        XCTAssertNil(layout.separatorColumn)
        _ = s.handle(.key(.tab))
        XCTAssertEqual(s.status?.isError, true)
        XCTAssertTrue(Screen.render(s).text.contains("csgmv: launched "), Screen.render(s).text)
        // `strategies` is a step of undo: back to two panes.
        _ = s.handle(.key(.char("u")))
        XCTAssertEqual(s.session.strategies, [.vllm, .sorted, .perSequence])
        XCTAssertEqual(s.panes, [.vllm, .sorted])
        // A select of a strategy no pane shows brings it into the right pane.
        _ = s.submit("select per-sequence 3 4")
        XCTAssertEqual(s.panes, [.vllm, .perSequence])
        XCTAssertEqual(s.focus, .perSequence)
        XCTAssertEqual(s.plans.strategies, s.session.strategies, "one plan per chosen strategy")
        for kind in s.session.strategies { XCTAssertEqual(s.plans[kind], s.session.plan(kind)) }
    }

    func testRecordingAfterCyclingReplaysTheSelectedStrategy() throws {
        var s = try state()
        _ = s.submit("strategies sorted csgmv vllm")
        _ = s.submit("record /tmp/never-written-panes.lora")
        _ = s.handle(.key(.char("s")))
        _ = s.handle(.key(.char("l")))
        let actions = s.submit("stop")
        guard case .saveRecording(_, let text, _)? = actions.first else { return XCTFail("\(actions)") }
        XCTAssertTrue(text.contains("strategies sorted csgmv vllm"), text)
        XCTAssertTrue(text.contains("select vllm 1 0 0"), text)
        var replayed = AppState(session: Session(), width: 120, height: 40, glyphs: .ascii)
        for step in try Scenario.parse(text, file: "rec.lora").steps { _ = replayed.submit(step.text) }
        XCTAssertEqual(replayed.session.selection, s.session.selection)
        XCTAssertEqual(replayed.focus, .vllm)
        XCTAssertTrue(replayed.panes.contains(.vllm), "the recording shows the strategy it selected")
    }

    /// `r` (or `:run`) during a run does not start another one (issue 14): the
    /// status line says a run is in progress and how it is cancelled.
    func testRunDuringARunIsRefusedWithTheReason() throws {
        var s = try state("dims hidden=64 out=64 q=64 kv=16 ffn=64 rank=16\nadapter a rank=8\nseq a count=3")
        let first = s.handle(.key(.char("r")))
        XCTAssertTrue(first.contains { if case .startRun = $0 { return true }; return false }, "\(first)")
        _ = s.handle(.runProgress(0.5))
        for again in [s.handle(.key(.char("r"))), s.submit("run"), s.submit("run reps=3")] {
            XCTAssertFalse(again.contains { if case .startRun = $0 { return true }; return false }, "\(again)")
            XCTAssertFalse(again.contains { if case .cancelRun = $0 { return true }; return false }, "\(again)")
            XCTAssertEqual(s.status?.isError, true)
            XCTAssertTrue(s.status?.text.contains("a run is in progress (50%)") == true, s.status?.text ?? "no status")
            XCTAssertTrue(s.status?.text.contains("Esc cancels it") == true, s.status?.text ?? "")
            XCTAssertEqual(s.run?.fraction, 0.5, "the first run goes on")
        }
        // Once it finished, r runs again.
        _ = s.handle(.runFailed("stopped"))
        let next = s.handle(.key(.char("r")))
        XCTAssertTrue(next.contains { if case .startRun = $0 { return true }; return false }, "\(next)")
    }

    func testRunOfOtherStrategiesIsStaleAndAChangeCancelsIt() throws {
        var s = try state("dims hidden=64 out=64 q=64 kv=16 ffn=64 rank=16\nadapter a rank=8\nseq a count=3\nstrategies sorted vllm")
        let actions = s.handle(.key(.char("r")))
        guard case .startRun(let workload, let options, _)? = actions.first else { return XCTFail("\(actions)") }
        XCTAssertEqual(options.strategies, [.sorted, .vllm])
        let cancelled = s.submit("strategies sorted csgmv")
        XCTAssertTrue(cancelled.contains { if case .cancelRun = $0 { return true }; return false })
        XCTAssertNil(s.run)
        _ = s.handle(.runFinished(try KernelRunner.run(workload, options: options)))
        XCTAssertTrue(Screen.render(s).text.contains("stale"), "a run of other strategies is stale")
        _ = s.submit("strategies sorted csgmv vllm")
        _ = s.handle(.key(.char("r")))
        _ = s.handle(.runFinished(try KernelRunner.run(s.session.workload, options: s.session.runOptions(reps: 1, threads: 1))))
        let text = Screen.render(s).text
        XCTAssertFalse(text.contains("stale"), text)
        for name in ["sorted ", "csgmv ", "vllm "] { XCTAssertTrue(text.contains("| \(name)"), "\(name)in the timings:\n\(text)") }
        XCTAssertTrue(text.contains("|d| vs sorted"), text)
        XCTAssertTrue(text.contains("sorted->csgmv "), text)
    }

    // MARK: Prompt

    func testPromptAppliesAnyCommandAndShowsErrorsWithTheColumn() throws {
        var s = try state()
        _ = s.handle(.key(.char(":")))
        for c in "slots 12" { _ = s.handle(.key(.char(c))) }
        _ = s.handle(.key(.enter))
        XCTAssertNil(s.prompt)
        XCTAssertEqual(s.session.workload.batch.slotCount, 12)
        let workload = s.session.workload
        _ = s.handle(.key(.char(":")))
        for c in "seq nosuch" { _ = s.handle(.key(.char(c))) }
        _ = s.handle(.key(.enter))
        XCTAssertEqual(s.session.workload, workload, "a bad command leaves the state unchanged")
        XCTAssertEqual(s.status?.isError, true)
        XCTAssertTrue(s.status!.text.contains("<prompt>:1:5"), s.status!.text)
        XCTAssertTrue(s.status!.text.contains("nosuch"), s.status!.text)
        // History: up recalls the last line; Esc cancels without applying.
        _ = s.handle(.key(.char(":")))
        _ = s.handle(.key(.up))
        XCTAssertEqual(s.prompt?.text, "seq nosuch")
        _ = s.handle(.key(.up))
        XCTAssertEqual(s.prompt?.text, "slots 12")
        _ = s.handle(.key(.escape))
        XCTAssertNil(s.prompt)
        XCTAssertEqual(s.session.workload, workload)
        // The screen shows the error line.
        XCTAssertTrue(Screen.render(s).text.contains("<prompt>:1:5"))
    }

    func testExpectTypedAtThePromptSaysWhetherItHolds() throws {
        var s = try state()
        _ = s.submit("expect sorted.launched == 256")
        XCTAssertEqual(s.status, StatusMessage(text: "expect sorted.launched == 256 held", isError: false))
        _ = s.submit("expect sorted.launched < 100")
        XCTAssertEqual(s.status?.isError, true)
        XCTAssertTrue(s.status!.text.contains("256"), s.status!.text)
    }

    // MARK: Undo

    func testUndoAndRedoWalkSessionValues() throws {
        var s = try state()
        let w0 = s.session.workload
        _ = s.handle(.key(.char("a")))
        let w1 = s.session.workload
        _ = s.handle(.key(.char("t")))
        let w2 = s.session.workload
        _ = s.handle(.key(.char("j")))  // a selection is not a step of undo
        XCTAssertEqual(s.undoStack.count, 2)
        _ = s.handle(.key(.char("u")))
        XCTAssertEqual(s.session.workload, w1)
        _ = s.handle(.key(.char("u")))
        XCTAssertEqual(s.session.workload, w0)
        _ = s.handle(.key(.char("u")))
        XCTAssertEqual(s.status?.isError, true, "nothing left to undo")
        _ = s.handle(.key(.ctrl("r")))
        XCTAssertEqual(s.session.workload, w1)
        _ = s.handle(.key(.ctrl("r")))
        XCTAssertEqual(s.session.workload, w2)
        // A new change clears the redo stack.
        _ = s.handle(.key(.char("u")))
        _ = s.handle(.key(.char("y")))
        XCTAssertFalse(s.canRedo)
        XCTAssertEqual(s.plans.workload, s.session.workload, "plans follow every change")
    }

    // MARK: Runs

    func testRunStartsInTheBackgroundAndABatchChangeCancelsIt() throws {
        var s = try state("dims hidden=64 out=64 q=64 kv=16 ffn=64 rank=16\nadapter a rank=8\nseq a count=3")
        let actions = s.handle(.key(.char("r")))
        guard case .startRun(let workload, let options, _)? = actions.first else { return XCTFail("no run started: \(actions)") }
        XCTAssertEqual(workload, s.session.workload)
        XCTAssertEqual(options.reps, 5)
        XCTAssertEqual(options.strategies, s.session.strategies)
        _ = s.handle(.runProgress(0.5))
        XCTAssertTrue(Screen.render(s).text.contains("50.0%"))
        // Keys keep working; a change of batch cancels the run.
        let after = s.handle(.key(.char("a")))
        XCTAssertTrue(after.contains { if case .cancelRun = $0 { return true }; return false })
        XCTAssertNil(s.run)
        // A result for an older batch is kept but marked stale.
        let result = try KernelRunner.run(workload, options: KernelRunOptions(reps: 1, threads: 1))
        _ = s.handle(.runFinished(result))
        XCTAssertTrue(s.session.runIsStale)
        XCTAssertTrue(Screen.render(s).text.contains("stale"))
        // A fresh run shows timings, speedup and bitwise equality.
        _ = s.handle(.key(.char("r")))
        let fresh = try KernelRunner.run(s.session.workload, options: KernelRunOptions(reps: 1, threads: 1))
        _ = s.handle(.runFinished(fresh))
        XCTAssertFalse(s.session.runIsStale)
        let text = Screen.render(s).text
        XCTAssertTrue(text.contains("per-seq "), text)
        // The full table, or one line of CPU times when the panel explains a CPU/GPU disagreement.
        XCTAssertTrue(text.contains("GFLOP/s") || text.contains("CPU per-seq "), text)
        XCTAssertTrue(text.contains("speedup"))
        XCTAssertTrue(text.contains("bitwise equal: \(fresh.bitwiseEqual ? "yes" : "NO")"))
    }

    // MARK: Recording

    func testRecordingReplaysToTheSameState() throws {
        var s = try state()
        _ = s.submit("record /tmp/never-written.lora")
        _ = s.handle(.key(.char("a")))
        _ = s.handle(.key(.char("j")))
        _ = s.handle(.key(.char("j")))
        _ = s.handle(.key(.char("t")))
        _ = s.handle(.key(.char("y")))
        _ = s.handle(.key(.char("u")))  // undone steps leave the recording too
        let actions = s.submit("stop")
        guard case .saveRecording(let path, let text, let force)? = actions.first else { return XCTFail("\(actions)") }
        XCTAssertEqual(path, "/tmp/never-written.lora")
        XCTAssertFalse(force)
        XCTAssertFalse(text.contains("dtype"), "the undone dtype change is not recorded")
        XCTAssertEqual(text.components(separatedBy: "select ").count - 1, 1, "cursor moves collapse into one select")
        let replayed = try Session(replaying: Scenario.parse(text, file: path))
        XCTAssertEqual(replayed.workload, s.session.workload)
        XCTAssertEqual(replayed.selection, s.session.selection)
        // A second :record writes the first recording before starting the next.
        _ = s.submit("record /tmp/a.lora")
        let switched = s.submit("record /tmp/b.lora")
        XCTAssertEqual(switched.count, 2)
        if case .saveRecording(let first, _, _)? = switched.first { XCTAssertEqual(first, "/tmp/a.lora") } else { XCTFail("\(switched)") }
        if case .checkRecordingTarget(let next, _)? = switched.last { XCTAssertEqual(next, "/tmp/b.lora") } else { XCTFail("\(switched)") }
        // Quitting saves the recording in progress.
        let quit = s.handle(.key(.char("q")))
        XCTAssertTrue(quit.contains { if case .saveRecording("/tmp/b.lora", _, false) = $0 { return true }; return false })
    }

    /// `record` means one thing: the same commands typed at the TUI's prompt
    /// and played by a headless replay write the same file, byte for byte.
    func testTheTUIAndAHeadlessReplayRecordTheSameFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rec-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("both.lora").path
        let before = ["slots 4", "adapter a rank=8", "seq a count=2"]
        let during = ["adapter b rank=16 scaling=0.5", "seq b count=3", "select sorted 0 0", "select sorted 1 0",
                      "narrate \"two adapters\"", "expect sorted.launched > 0", "dtype fp32"]
        var tui = AppState(session: try Session(replaying: Scenario.parse(before.joined(separator: "\n"), file: "b.lora")),
                           width: 120, height: 40, glyphs: .unicode)
        _ = tui.submit("record \(path)")
        for line in during { _ = tui.submit(line) }
        guard case .saveRecording(_, let typed, _)? = tui.submit("stop").first else { return XCTFail("no recording") }

        let scenario = try Scenario.parse((before + ["record \(path)"] + during + ["stop"]).joined(separator: "\n"),
                                          file: "h.lora")
        var replay = HeadlessReplay(execute: { w, o, _ in try KernelRunner.run(w, options: o) },
                                    renderScreen: { _, _, _ in "" })
        replay.standardOutput = { _ in }
        _ = try replay.play(scenario)
        let played = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertEqual(played, typed)
        // The file holds the steps, not only the end state: the adapter added while recording and one select.
        XCTAssertTrue(played.contains("adapter b rank=16 scaling=0.5\nseq b count=3\nselect sorted 1 0\n"), played)
        XCTAssertFalse(played.contains("expect"), played)
    }

    // MARK: Zoom and size

    static let hugeSource: String = {
        var lines = ["slots 512"]
        for i in 0..<512 { lines.append("adapter l\(i) rank=\([8, 16, 32, 64][i % 4])") }
        lines.append(contentsOf: (0..<4096).map { "seq l\(($0 * 13) % 512)" })
        return lines.joined(separator: "\n")
    }()

    func testHugeBatchZoomsOutToFitAndZoomKeysPan() throws {
        var s = try state(Self.hugeSource, width: 200, height: 60)
        let layout = ScreenLayout(s)
        let sorted = layout.scale(.sorted)
        // Per-sequence: 16 pids fit at one a column, its 4096 rows zoom; sorted: 4096 pids zoom across.
        XCTAssertEqual(layout.scale(.perSequence).x, 1)
        XCTAssertGreaterThan(layout.scale(.perSequence).y, 1)
        XCTAssertGreaterThan(sorted.x, 1)
        XCTAssertGreaterThan(sorted.y, 1)
        for pane in layout.panes {
            let cells = pane.scale.cells(s.plans[pane.routing])
            XCTAssertLessThanOrEqual(cells.columns, pane.cells.width)
            XCTAssertLessThanOrEqual(cells.rows, pane.cells.height)
        }
        let text = Screen.render(s).text
        for pane in layout.panes {
            XCTAssertTrue(text.contains("1:\(pane.scale.x)x\(pane.scale.y)"), "each pane's zoom shown: \(pane.scale)")
        }
        XCTAssertTrue(text.contains("grid [4096, 512, 1]"))
        XCTAssertTrue(text.contains("launched 2.10M"), "sorted launch 256*16*512")
        // Zoom in: finer scale, the grid no longer fits, the view pans with the cursor.
        _ = s.handle(.key(.tab))
        _ = s.handle(.key(.char("z")))
        _ = s.handle(.key(.char("z")))
        let zoomed = ScreenLayout(s).scale(.sorted)
        XCTAssertEqual(zoomed, GridScale(x: sorted.x / 4, y: sorted.y / 4))
        XCTAssertEqual(ScreenLayout(s).scale(.perSequence), layout.scale(.perSequence), "the other pane keeps its zoom")
        for _ in 0..<200 { _ = s.handle(.key(.char("l"))) }
        XCTAssertGreaterThan(ScreenLayout(s).panes[1].origin.column, 0, "panned right to follow the cursor")
        let cursor = s.cursor(.sorted)!
        XCTAssertEqual(cursor.pid, 200 * zoomed.x)
        _ = s.handle(.key(.char("=")))
        XCTAssertEqual(ScreenLayout(s).scale(.sorted), sorted)
    }

    func testEachPaneHasItsOwnZoom() throws {
        // Demo 02 at 120x40: the per-sequence grid zooms its rows, the sorted grid keeps one row per slot.
        var s = AppState(session: try ScreenSnapshotTests.demo("02-excess-exit.lora", before: "Programs that exit at once"),
                         width: 120, height: 40, glyphs: .ascii)
        var layout = ScreenLayout(s)
        let sortedPlan = s.plans[.sorted]
        XCTAssertGreaterThan(layout.scale(.perSequence).y, 1)
        XCTAssertEqual(layout.scale(.sorted).y, 1, "one row per slot")
        XCTAssertLessThanOrEqual(sortedPlan.viewRowCount, layout.pane(.sorted)!.cells.height)
        // z zooms the focused pane alone.
        let perSeq = layout.scale(.perSequence)
        _ = s.handle(.key(.char("z")))
        layout = ScreenLayout(s)
        XCTAssertEqual(layout.scale(.perSequence), GridScale(x: perSeq.x / 2, y: perSeq.y / 2))
        XCTAssertEqual(layout.scale(.sorted).y, 1)
        XCTAssertEqual(s.zoomSetting(.sorted), .fit)
        // Cursor movement steps by the focused pane's own scale: one slot a row in the sorted grid.
        _ = s.handle(.key(.tab))
        XCTAssertEqual(s.focus, .sorted)
        let before = s.cursor(.sorted)!
        _ = s.handle(.key(.char("j")))
        let after = s.cursor(.sorted)!
        XCTAssertEqual(sortedPlan.viewRow(of: after), min(sortedPlan.viewRowCount - 1, sortedPlan.viewRow(of: before) + 1))
        // In the per-sequence grid a step down moves by its own zoom's rows.
        _ = s.handle(.key(.tab))
        let p0 = s.cursor(.perSequence)!
        _ = s.handle(.key(.char("j")))
        let p1 = s.cursor(.perSequence)!
        let plan = s.plans[.perSequence]
        XCTAssertEqual(plan.viewRow(of: p1) - plan.viewRow(of: p0), ScreenLayout(s).scale(.perSequence).y)
        // A click in the sorted pane selects through the sorted pane's scale.
        let pane = ScreenLayout(s).pane(.sorted)!
        _ = s.handle(.mouse(x: pane.cells.x, y: pane.cells.y + 2))
        XCTAssertEqual(s.focus, .sorted)
        XCTAssertEqual(sortedPlan.viewRow(of: s.cursor(.sorted)!), 2 * pane.scale.y)
        // = fits both again.
        _ = s.handle(.key(.char("=")))
        XCTAssertEqual(ScreenLayout(s).scale(.perSequence), perSeq)
    }

    func testScrolledGridMarksRowsAboveAndBelowInTheirOwnRow() throws {
        var s = try state(Self.hugeSource, width: 120, height: 40)
        _ = s.handle(.key(.char("=")))
        s.zoom = .fixed(GridScale(x: 64, y: 1))
        for _ in 0..<30 { _ = s.handle(.key(.char("j"))) }
        let layout = ScreenLayout(s)
        let pane = layout.pane(.perSequence)!
        XCTAssertNotNil(pane.moreRow)
        XCTAssertGreaterThan(pane.origin.row, 0)
        let canvas = Screen.render(s)
        let lines = canvas.text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let more = String(lines[pane.moreRow!].prefix(pane.frame.width))
        XCTAssertTrue(more.hasPrefix("^ \(pane.origin.row) more  v "), more)
        // The last cell row keeps its label.
        let last = String(lines[pane.moreRow! - 1].prefix(pane.labelWidth - 1))
        XCTAssertEqual(last.trimmingCharacters(in: .whitespaces), GridView.rowLabel(s.plans[.perSequence], batch: s.session.workload.batch, row: pane.origin.row + pane.cells.height - 1).prefix(pane.labelWidth - 1).trimmingCharacters(in: .whitespaces))
    }

    func testResizeBelowTheMinimumShowsAMessageAndKeepsWorking() throws {
        var s = try state()
        _ = s.handle(.resize(width: 60, height: 20))
        let text = Screen.render(s).text
        XCTAssertTrue(text.contains("terminal too small: 60x20"), text)
        XCTAssertTrue(text.contains("at least 80x24"))
        // Behind the message nothing changes unseen: `a` does not add a sequence.
        let before = s.session.workload
        XCTAssertTrue(s.handle(.key(.char("a"))).isEmpty)
        XCTAssertTrue(s.handle(.key(.char("X"))).isEmpty)
        XCTAssertEqual(s.session.workload, before)
        _ = s.handle(.resize(width: 0, height: 0))
        XCTAssertEqual(Screen.render(s).text, "")
        _ = s.handle(.resize(width: 80, height: 24))
        XCTAssertTrue(Screen.render(s).text.contains("tokens 26"), Screen.render(s).text)
        _ = s.handle(.resize(width: 30, height: 8))
        let quit = s.handle(.key(.char("q")))
        XCTAssertTrue(quit.contains { if case .quit = $0 { return true }; return false }, "q still quits there")
    }

    /// Zooming out stops when the focused grid is one cell (issue 13 item 6).
    func testZoomOutStopsAtOneCell() throws {
        var s = try state()
        var last = ScreenLayout(s).scale(s.focus)
        for _ in 0..<40 { _ = s.handle(.key(.char("Z"))) }
        let plan = s.plans[s.focus]
        last = ScreenLayout(s).scale(s.focus)
        XCTAssertGreaterThanOrEqual(last.x, plan.pidCount)
        XCTAssertGreaterThanOrEqual(last.y, plan.viewRowCount)
        XCTAssertLessThan(last.x, 2 * plan.pidCount, "no step past one cell")
        XCTAssertLessThan(last.y, 2 * max(1, plan.viewRowCount))
        XCTAssertTrue(s.status?.text.contains("the whole grid is one cell") == true, s.status?.text ?? "")
    }

    /// The two panes' footers show the same fields in the same order (issue 13 item 7).
    func testFootersShowTheSameFields() throws {
        for (width, height) in [(80, 24), (120, 40), (200, 60)] {
            let s = try state(width: width, height: height)
            let layout = ScreenLayout(s)
            let lines = Screen.render(s).text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            let row = lines[layout.panes[0].statsRow]
            let cut = row.index(row.startIndex, offsetBy: try XCTUnwrap(layout.separatorColumn))
            // Field names, not values or their units (one pane may hold MiB where the other holds KiB).
            let units: Set<String> = ["B", "KiB", "MiB", "GiB", "TiB"]
            func fields(_ t: Substring) -> [String] {
                t.split(separator: " ").map(String.init).filter { $0.first?.isLetter == true && !units.contains($0) }
            }
            let left = fields(row[..<cut]), right = fields(row[row.index(after: cut)...])
            XCTAssertEqual(left, right, "\(width)x\(height): \(row)")
            XCTAssertTrue(left.contains("launched"), row)
        }
    }

    /// The header and the too-small message keep whole words at any width.
    func testNoWordIsCutAtTheEdge() throws {
        var s = try state(width: 80, height: 24)
        let header = String(Screen.render(s).text.split(separator: "\n")[0]).trimmingCharacters(in: .whitespaces)
        let d = s.session.workload.dims
        let fields = ["h\(d.hidden)", "o\(d.out)", "q\(d.q)", "kv\(d.kv)", "f\(d.ffn)", "R\(d.maxRank)"]
        let last = String(header.split(separator: " ").last!)
        XCTAssertTrue(fields.contains(last) || header.hasSuffix("adapters \(s.session.workload.batch.adapters.count)"), header)
        _ = s.handle(.resize(width: 30, height: 8))
        let small = Screen.render(s).text
        XCTAssertTrue(small.contains("q to") && small.contains("quit"), small)
        for line in small.split(separator: "\n") { XCTAssertFalse(line.hasSuffix("qu"), small) }
    }

    /// `? help` and `q quit` are on the hint line at every width the TUI runs at, strategies and replays included.
    func testTheHintLineAlwaysOffersHelpAndQuit() throws {
        for (width, height) in [(80, 24), (120, 40)] {
            var s = try state(width: width, height: height)
            _ = s.perform(try XCTUnwrap(Command.parse("strategies sorted csgmv vllm")))
            let last = Screen.render(s).text.split(separator: "\n", omittingEmptySubsequences: false).last { !$0.isEmpty }!
            XCTAssertTrue(last.contains("? help") && last.contains("q quit"), "\(width)x\(height): \(last)")
        }
    }

    /// The help says "any key closes": q and Esc close it too; only Ctrl-C quits from it.
    func testQAndEscCloseTheHelpWithoutQuitting() throws {
        var s = try state()
        for key in [Key.char("q"), .escape] {
            _ = s.handle(.key(.char("?")))
            XCTAssertTrue(s.showHelp)
            let actions = s.handle(.key(key))
            XCTAssertFalse(s.showHelp, "\(key) closes the help")
            XCTAssertFalse(actions.contains { if case .quit = $0 { return true }; return false }, "\(key) does not quit")
        }
        _ = s.handle(.key(.char("?")))
        XCTAssertTrue(s.handle(.key(.ctrl("c"))).contains { if case .quit = $0 { return true }; return false })
    }

    func testClickSelectsTheProgramUnderTheMouse() throws {
        var s = try state(width: 100, height: 40)
        let pane = ScreenLayout(s).panes[1]
        XCTAssertEqual(pane.cellWidth, 1, "64 sorted programs do not fit twice as wide in 100 columns")
        _ = s.handle(.mouse(x: pane.cells.x + 20, y: pane.cells.y + 2))
        XCTAssertEqual(s.session.selection, ProgramSelection(routing: .sorted, position: GridPosition(pid: 20, segment: 2)))
        XCTAssertEqual(s.focus, .sorted)
        // With room each program is drawn two columns wide; a click on either column picks it.
        var wide = try state(width: 120, height: 40)
        let left = ScreenLayout(wide).panes[0]
        XCTAssertEqual(left.cellWidth, 2)
        _ = wide.handle(.mouse(x: left.cells.x + 2 * 5 + 1, y: left.cells.y + 3))
        XCTAssertEqual(wide.session.selection, ProgramSelection(routing: .perSequence, position: GridPosition(pid: 5, segment: 3)))
    }

    // MARK: Replay

    /// What a user sees of a replay, on a virtual clock: the step counter, the
    /// current line, the narration, pause, speed, expect results and a run.
    func testReplayStepsOnTheVirtualClockWithPauseSpeedAndExpect() throws {
        let source = """
            title "t"
            adapter a rank=8
            seq a count=3
            narrate "three sequences on one adapter"
            pause
            expect per-sequence.launched == 48
            expect sorted.launched == 1
            dims hidden=256 out=256 q=256 kv=64 ffn=256 rank=16
            run reps=1
            slots 2
            """
        var s = AppState(session: Session(), width: 120, height: 40, glyphs: .ascii)
        s.startReplay(try Scenario.parse(source, file: "demo.lora"))
        var t = 0.0
        var actions: [AppAction] = []
        func tick(_ dt: Double) { t += dt; actions = s.handle(.tick(now: t)) }
        func key(_ c: Character) { actions = s.handle(.key(.char(c))) }
        func titleRow() -> String {
            Screen.render(s).text.split(separator: "\n").first { $0.contains("replay demo.lora") }.map(String.init) ?? ""
        }
        tick(0)
        XCTAssertEqual(s.replay?.stepsApplied, 1, "the first step applies at once")
        XCTAssertTrue(titleRow().contains("step 1/10 - 1x - playing"), titleRow())
        tick(1.9)
        XCTAssertEqual(s.replay?.stepsApplied, 1, "the title stays 2 s")
        tick(0.1); tick(0.6); tick(0.6)
        XCTAssertEqual(s.session.narration, "three sequences on one adapter")
        let screen = Screen.render(s).text
        XCTAssertTrue(screen.contains("step 4/10"), screen)
        XCTAssertTrue(screen.contains("4: narrate \"three sequences on one adapter\""), "the current line of the file")
        XCTAssertTrue(screen.contains("| three sequences on one adapter"), "the narration")
        tick(1.9)
        XCTAssertEqual(s.replay?.stepsApplied, 4, "5 words stay the minimum 2 s")
        tick(0.11)
        XCTAssertTrue(titleRow().contains("step 5/10 - 1x - waiting: space"), "pause waits for a key: \(titleRow())")
        tick(10)
        XCTAssertEqual(s.replay?.stepsApplied, 5)
        key("+")
        XCTAssertTrue(titleRow().contains("- 2x -"), titleRow())
        key(" ")
        tick(0.01)
        XCTAssertEqual(s.replay?.stepsApplied, 6)
        XCTAssertEqual(s.status?.text, "expect per-sequence.launched == 48 held")
        key("n")
        XCTAssertEqual(s.replay?.failures.count, 1, "sorted.launched is not 1")
        let failure = s.replay!.failures[0]
        XCTAssertTrue(failure.hasPrefix("demo.lora:7:1: error: expect sorted.launched == 1 failed: "), failure)
        XCTAssertEqual(failure.components(separatedBy: "failed").count, 2, "says failed once: \(failure)")
        XCTAssertEqual(s.status?.text, failure)
        key(" ")
        XCTAssertTrue(titleRow().contains("- paused"), titleRow())
        tick(100)
        XCTAssertEqual(s.replay?.stepsApplied, 7, "paused: time alone does not step")
        key("n")
        XCTAssertEqual(s.replay?.stepsApplied, 8, "n steps once")
        XCTAssertEqual(s.replay?.player.isPaused, true, "and the replay stays paused")
        key(" ")
        tick(0.01)
        guard case .startRun(let workload, let options, _)? = actions.first, options.reps == 1 else { return XCTFail("run starts the kernels: \(actions)") }
        XCTAssertTrue(titleRow().contains("running kernels"), titleRow())
        tick(100)
        XCTAssertEqual(s.replay?.stepsApplied, 9, "the replay waits for the kernels")
        _ = s.handle(.runFinished(try KernelRunner.run(workload, options: KernelRunOptions(reps: 1, threads: 1))))
        XCTAssertTrue(Screen.render(s).text.contains("bitwise equal"), "the run result is shown")
        tick(0.9)
        XCTAssertEqual(s.replay?.stepsApplied, 9, "the result stays 2 s / 2x on screen")
        tick(0.1)
        XCTAssertTrue(s.replay!.isFinished)
        XCTAssertEqual(s.session.workload.batch.slotCount, 2)
        XCTAssertEqual(s.status?.text, "replay finished: 10 steps, 2 expects, 1 failed · q quits")
    }

    // MARK: Inspector

    func testInspectorTellsTheProgramsStoryThroughThePermutation() throws {
        let s = try state()
        let plan = s.plans.sorted
        // Slot 0 ("sql") holds sequences 1, 4, 14, 15, … in batch order: the permutation gathers them.
        let sqlRows = s.session.workload.batch.sequences.enumerated().filter { $0.element.adapter == "sql" }.map(\.offset)
        let story = InspectorPanel.story(plan, batch: s.session.workload.batch, dims: s.session.workload.dims,
                                         position: GridPosition(pid: 3, segment: 0), zoomedCell: nil, glyphs: .ascii)
        XCTAssertTrue(story[0].contains("slot 0 \"sql\" rank 16 scaling 2"), story[0])
        XCTAssertTrue(story[1].hasPrefix("partial: computes \(sqlRows.count)x256"), story[1])
        XCTAssertTrue(story[2].contains("via perm " + sqlRows.map(String.init).joined(separator: ",")), story[2])
        XCTAssertTrue(story[3].contains("out cols 768..1023"), story[3])
        let excess = InspectorPanel.story(plan, batch: s.session.workload.batch, dims: s.session.workload.dims,
                                          position: GridPosition(pid: 16, segment: 0), zoomedCell: nil, glyphs: .ascii)
        XCTAssertTrue(excess[1].hasPrefix("excess exit: pid_sx16 = 16 >= len"), excess[1])
        XCTAssertTrue(excess[1].contains(">= len \(sqlRows.count) (pid_s = pid 16 / 16 tiles)"), excess[1])
        let unused = InspectorPanel.story(plan, batch: s.session.workload.batch, dims: s.session.workload.dims,
                                          position: GridPosition(pid: 0, segment: 6), zoomedCell: nil, glyphs: .ascii)
        XCTAssertTrue(unused[1].hasPrefix("rank-0 exit: slot 6 holds no adapter"), unused[1])
    }

    /// Each strategy's story in its own terms, on the default batch with 60 more "sql" sequences.
    func testInspectorTellsEachStrategysStoryInItsOwnTerms() throws {
        let session = try ScreenSnapshotTests.session(Scenario.defaultSource + "\nseq sql count=60\nkernel sgemm_lora_a\n"
            + "strategies tight csgmv csgmv-graph vllm chunk=32\n")
        let batch = session.workload.batch, dims = session.workload.dims
        func story(_ kind: Strategy, _ p: GridPosition) -> [String] {
            InspectorPanel.story(session.plan(kind), batch: batch, dims: dims, position: p, zoomedCell: nil, glyphs: .ascii)
        }
        // csgmv: 68 "sql" tokens in chunks of 32 (chunk=32, 64 or more tokens in the batch); the third holds four.
        let chunk = story(.csgmv, GridPosition(pid: 0, segment: 2))
        XCTAssertTrue(chunk[0].contains("seg 2 -> chunk 2 of slot 0 \"sql\""), chunk[0])
        XCTAssertTrue(chunk[2].hasPrefix("chunk 2 of slot 0: sorted tokens 64..67 · BLOCK_M = chunk 32"), chunk[2])
        // csgmv-graph: segments past the live ones are the graph's padding.
        let graph = session.plan(.csgmvGraph)
        let pad = story(.csgmvGraph, GridPosition(pid: 0, segment: graph.segments.count - 1))
        XCTAssertTrue(pad[0].hasSuffix("graph padding (no tokens)"), pad[0])
        XCTAssertTrue(pad[1].hasPrefix("graph padding: seg_lens[\(graph.segments.count - 1)] = 0"), pad[1])
        // tight: max_len is the longest segment.
        let tight = story(.tight, GridPosition(pid: 0, segment: 0))
        XCTAssertTrue(tight.last!.contains("max_len 68 = the longest segment"), tight.last!)
        // vLLM's shrink: group 0 is the base model (-1); a working split covers one BLOCK_K of K and adds atomically.
        XCTAssertTrue(story(.vllm, GridPosition(pid: 0, segment: 0))[0].hasSuffix("group 0 -> lora_id -1 (no LoRA)"))
        let split = story(.vllm, GridPosition(pid: 3, segment: 1))
        XCTAssertTrue(split[0].contains("group 1 -> lora_id 0 \"sql\" rank 16"), split[0])
        XCTAssertTrue(split[2].hasPrefix("pid 3 -> (split 3, pid_m 0, pid_n 0) · K 768..1023 of 4096"), split[2])
        XCTAssertTrue(split[4].contains("added atomically"), split[4])
        let idle = story(.vllm, GridPosition(pid: 20, segment: 1))
        XCTAssertTrue(idle[1].hasPrefix("idle split: pid 20 -> (split 20, pid_m 0, pid_n 0)"), idle[1])
    }

    /// Every vLLM program past its group's exit carries its decoded tile, and
    /// the decoding is a bijection of axis 0 onto (split, pid_m, pid_n): the
    /// inspector reads excess and column exits from the tile.
    func testVLLMTilesCarryTheirDecodedPid() throws {
        for kernel in ["sgemm_lora_a stack=3", "qkv_lora_b"] {
            let session = try ScreenSnapshotTests.session(Scenario.defaultSource + "\nseq sql count=300\nkernel \(kernel)\nstrategies vllm\n")
            let plan = session.plan(.vllm)
            for seg in 0..<plan.segments.count where plan.segments[seg].segmentExit == nil {
                var seen = Set<[Int]>()
                for pid in 0..<plan.pidCount {
                    let t = plan.tile(GridPosition(pid: pid, slice: 0, segment: seg))
                    XCTAssertTrue(seen.insert([t.split, t.rowBlock, t.columnTile]).inserted, "\(kernel) pid \(pid) repeats a tile")
                    if t.fate == .excessExit {
                        XCTAssertGreaterThanOrEqual(t.rowBlock * plan.blocks.m, plan.segments[seg].length, "\(kernel) pid \(pid)")
                    }
                }
                XCTAssertEqual(seen.count, plan.pidCount)
            }
        }
    }
}
