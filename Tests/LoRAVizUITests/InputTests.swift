import Foundation
import LoRAKernels
import LoRAScenario
@testable import LoRAVizUI
import LoRAVizTestSupport
import XCTest

/// Input that cannot destroy work (issue 13): escape sequences decoded as a
/// pure function of bytes and times, bracketed paste, what each key says,
/// the message log, Esc on a run, and the `:` prompt as a line editor.
final class InputTests: XCTestCase {
    func state(_ source: String? = nil, width: Int = 120, height: Int = 40) throws -> AppState {
        let session = try source.map { try ScreenSnapshotTests.session($0) } ?? AppState.defaultSession()
        return AppState(session: session, width: width, height: height, glyphs: .ascii)
    }

    /// Bytes given at once (1 ms apart), as a terminal sends a sequence.
    func together(_ s: String, from t: Double = 0) -> [(KeyDecoder.Input, Double)] {
        s.unicodeScalars.enumerated().map { (.char($0.element.value), t + Double($0.offset) * 0.001) }
    }

    func keys(_ decoded: [DecodedInput]) -> [Key] {
        decoded.compactMap { if case .key(let k) = $0 { return k }; return nil }
    }

    // MARK: Escape sequences

    func testUnknownSequencesAreDroppedWhole() {
        XCTAssertEqual(KeyDecoder.decode(together("\u{1B}[99~")), [], "ESC [ 9 9 ~ is nothing (it halved a rank)")
        XCTAssertEqual(KeyDecoder.decode(together("\u{1B}[99~a")), [.key(.char("a"))], "the key after it still acts")
        XCTAssertEqual(KeyDecoder.decode(together("\u{1B}[?1;2c")), [], "a terminal's reply is not keys")
        XCTAssertEqual(KeyDecoder.decode(together("\u{1B}Ox")), [], "an unknown SS3")
        XCTAssertEqual(KeyDecoder.decode(together("\u{1B}X")), [], "Alt-X is not X (remove adapter)")
        XCTAssertEqual(KeyDecoder.decode(together("\u{1B}[")), [], "a sequence cut short never becomes [")
        XCTAssertEqual(KeyDecoder.decode(together("\u{1B}[M aX")), [], "an X10 mouse report's bytes are not keys")
        XCTAssertEqual(KeyDecoder.decode(together("\u{1B}[<0;10;5M")), [], "nor an SGR one's")
    }

    func testKnownSequencesAreKeysWhateverTheTerminfo() {
        // With a mismatched TERM ncurses hands these over raw: Home/End/arrows of xterm, vt220 and rxvt.
        let cases: [(String, Key)] = [
            ("\u{1B}[A", .up), ("\u{1B}OA", .up), ("\u{1B}[1;5A", .up), ("\u{1B}[D", .left),
            ("\u{1B}[H", .home), ("\u{1B}OH", .home), ("\u{1B}[1~", .home), ("\u{1B}[7~", .home),
            ("\u{1B}[F", .end), ("\u{1B}OF", .end), ("\u{1B}[4~", .end), ("\u{1B}[8~", .end),
            ("\u{1B}[3~", .delete), ("\u{1B}[5~", .pageUp), ("\u{1B}[6~", .pageDown), ("\u{1B}[Z", .backTab),
            ("\u{1B}OP", .f1),
        ]
        for (bytes, key) in cases {
            XCTAssertEqual(KeyDecoder.decode(together(bytes)), [.key(key)], bytes.debugDescription)
        }
    }

    func testALoneEscIsEscAfterItsWait() {
        var d = KeyDecoder()
        XCTAssertEqual(d.feed(.char(27), at: 0), [])
        XCTAssertTrue(d.isPending)
        XCTAssertEqual(d.expire(at: KeyDecoder.escapeWait / 2), [], "still waiting for the rest")
        XCTAssertEqual(d.expire(at: KeyDecoder.escapeWait), [.key(.escape)])
        XCTAssertFalse(d.isPending)
        XCTAssertEqual(d.feed(.char(UInt32(Character("q").asciiValue!)), at: 2), [.key(.char("q"))], "long after, q is q")
    }

    func testSequencesSplitBySlowLinksAreStillSequences() {
        // An Up arrow whose bytes arrive 100 ms apart: Esc (it timed out), then Up; never `[` nor `A`.
        let up: [(KeyDecoder.Input, Double)] = [(.char(27), 0), (.char(0x5B), 0.1), (.char(0x41), 0.2)]
        XCTAssertEqual(KeyDecoder.decode(up), [.key(.escape), .key(.up)])
        // ESC [ 9 9 ~ a byte every 100 ms: only the Esc.
        let slow = "\u{1B}[99~".unicodeScalars.enumerated().map { (KeyDecoder.Input.char($0.element.value), Double($0.offset) * 0.1) }
        XCTAssertEqual(KeyDecoder.decode(slow), [.key(.escape)])
        // A key ncurses decoded ends a pending half sequence.
        XCTAssertEqual(KeyDecoder.decode([(.char(27), 0), (.char(0x5B), 0.001), (.key(.down), 0.002)]), [.key(.down)])
    }

    func testDecodedBytesNeverEditTheBatch() throws {
        for bytes in ["\u{1B}[99~", "\u{1B}[1~", "\u{1B}[4~", "\u{1B}OH", "\u{1B}X", "\u{1B}[200~q\u{1B}[201~"] {
            var s = try state()
            let before = s.session
            s.prompt = nil
            for input in KeyDecoder.decode(together(bytes)) {
                switch input {
                case .key(let k): _ = s.handle(.key(k))
                case .paste(let text): _ = s.handle(.paste(text))
                }
            }
            XCTAssertEqual(s.session.workload, before.workload, bytes.debugDescription)
            XCTAssertFalse(s.isQuitting, bytes.debugDescription)
            XCTAssertFalse(s.canUndo, bytes.debugDescription)
        }
    }

    // MARK: Bracketed paste

    func testPasteIsTextNeverKeys() {
        let pasted = KeyDecoder.decode(together("\u{1B}[200~slots 9\rq\u{1B}[201~"))
        XCTAssertEqual(pasted, [.paste("slots 9\nq")])
    }

    func testPastedLinesRunOneCommandEachAndStopAtAnError() throws {
        var s = try state()
        _ = s.handle(.key(.char(":")))
        _ = s.handle(.paste("slots 9\nslots 10\n"))
        XCTAssertEqual(s.session.workload.batch.slotCount, 10)
        XCTAssertNil(s.prompt)
        XCTAssertTrue(s.status!.text.contains("pasted 2 commands: ran each"), s.status!.text)
        XCTAssertEqual(s.undoStack.count, 2, "each line undoes on its own")
        // A failing line stops the rest; `q` in a paste is a (bad) command, never the quit key.
        _ = s.handle(.key(.char(":")))
        _ = s.handle(.paste("slots 11\nq\nslots 12"))
        XCTAssertFalse(s.isQuitting)
        XCTAssertEqual(s.session.workload.batch.slotCount, 11)
        XCTAssertEqual(s.status?.isError, true)
        XCTAssertTrue(s.status!.text.contains("ran 1, line 2 failed"), s.status!.text)
        // One line stays in the prompt, at the cursor, to be edited.
        _ = s.handle(.key(.char(":")))
        for c in "slots " { _ = s.handle(.key(.char(c))) }
        _ = s.handle(.paste("13"))
        XCTAssertEqual(s.prompt?.text, "slots 13")
        XCTAssertEqual(s.session.workload.batch.slotCount, 11, "nothing ran yet")
    }

    func testPasteOutsideThePromptRunsNoKeys() throws {
        var tiny = try state(width: 30, height: 8)
        _ = tiny.handle(.paste("slots 9"))
        XCTAssertNil(tiny.prompt, "nothing opens behind the too-small screen")
        var s = try state()
        s.showHelp = true
        _ = s.handle(.paste("slots 9\nslots 10"))
        XCTAssertFalse(s.showHelp, "a paste closes the help")
        _ = s.handle(.paste("XXq"))
        XCTAssertEqual(s.prompt?.text, "XXq", "one line opens the prompt with it")
        XCTAssertFalse(s.isQuitting)
        _ = s.handle(.key(.escape))
        let before = s.session.workload
        _ = s.handle(.paste("slots 9\nq"))
        XCTAssertNil(s.prompt)
        XCTAssertEqual(s.session.workload, before)
        XCTAssertEqual(s.status?.isError, true)
        XCTAssertTrue(s.status!.text.contains("outside the prompt: nothing ran"), s.status!.text)
    }

    // MARK: What keys say

    func testEveryKeyActionSaysWhatItDid() throws {
        var s = try state()
        _ = s.handle(.key(.char("X")))
        XCTAssertEqual(s.status, StatusMessage(text: "removed adapter chat and its 8 sequences · u undoes", isError: false))
        _ = s.handle(.key(.char("u")))
        XCTAssertEqual(s.status?.text, "undid remove adapter chat · Ctrl-R redoes")
        _ = s.handle(.key(.char("[")))
        XCTAssertEqual(s.status?.text, "rank of chat 64 → 32")
        _ = s.handle(.key(.char("a")))
        XCTAssertEqual(s.status?.text, "added a sequence on chat: bs 26 → 27")
        _ = s.handle(.key(.char("x")))
        XCTAssertTrue(s.status!.text.hasPrefix("removed sequence 0 (chat, 1 token): bs 27 → 26"), s.status!.text)
        _ = s.handle(.key(.char(">")))
        XCTAssertEqual(s.status?.text, "slots 8 → 9")
        _ = s.handle(.key(.char("y")))
        XCTAssertEqual(s.status?.text, "dtype bf16 → fp16")
        _ = s.handle(.key(.char("m")))
        XCTAssertEqual(s.status?.text, "mode decode → extend")
        // T on an expand kernel says it went to the shrink.
        _ = s.handle(.key(.char("t")))
        XCTAssertTrue(s.status!.text.hasPrefix("kernel sgemm_lora_b → qkv_lora_b") || s.status!.text.hasPrefix("kernel "), s.status!.text)
        _ = s.handle(.key(.char("T")))
        XCTAssertTrue(s.status!.text.contains("→ sgemm_lora_a") && s.status!.text.contains("only it stacks projections"), s.status!.text)
    }

    func testARefusalGoesOnceAKeyWorks() throws {
        var s = try state()
        _ = s.handle(.key(.char("]")))
        XCTAssertEqual(s.status?.isError, true, "rank 64 is R already")
        _ = s.handle(.key(.char("j")))
        XCTAssertNil(s.status, "a cursor move clears the refusal")
        _ = s.handle(.key(.char("]")))
        _ = s.handle(.key(.char(">")))
        XCTAssertEqual(s.status, StatusMessage(text: "slots 8 → 9", isError: false))
    }

    // MARK: The message log

    func testTheMessageLogHoldsEveryMessageInFull() throws {
        var s = try state(width: 80, height: 24)
        _ = s.handle(.key(.char(":")))
        for c in "adapter zz rank=8 slot=1" { _ = s.handle(.key(.char(c))) }
        _ = s.handle(.key(.enter))
        let long = s.status!.text
        _ = s.handle(.key(.char("X")))
        XCTAssertTrue(long.hasPrefix("<prompt>:1:"), "typed commands keep their location: \(long)")
        XCTAssertGreaterThan(long.count, 40)
        // The status line cuts it and points at the log.
        s.status = StatusMessage(text: long + " " + String(repeating: "and more words ", count: 6), isError: true)
        XCTAssertTrue(Screen.render(s).line(s.height - 2).contains(" and~ (M: all)"), Screen.render(s).line(s.height - 2))
        s.status = StatusMessage(text: long, isError: true)
        _ = s.handle(.key(.char("M")))
        XCTAssertNotNil(s.logScroll)
        let screen = Screen.render(s).text
        XCTAssertTrue(screen.contains("removed adapter chat and its 8 sequences"), screen)
        // The long error wrapped, every word of it on screen.
        let words = Set(screen.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "|" }).map(String.init))
        for word in long.split(separator: " ") { XCTAssertTrue(words.contains(String(word)), "the log lost \(word):\n\(screen)") }
        XCTAssertEqual(s.messageLog.map(\.message.text).suffix(2), [long, "removed adapter chat and its 8 sequences · u undoes"], "newest last")
        // Many messages: the newest at the bottom, PgUp and Home reach the oldest, End the newest.
        _ = s.handle(.key(.escape))
        for _ in 0..<30 { _ = s.handle(.key(.char(">"))); _ = s.handle(.key(.char("<"))) }
        _ = s.handle(.key(.char("M")))
        var screen2 = Screen.render(s).text
        XCTAssertTrue(screen2.contains("slots 9 > 8") && screen2.contains("older"), screen2)
        XCTAssertFalse(screen2.contains("removed adapter chat"), screen2)
        _ = s.handle(.key(.home))
        screen2 = Screen.render(s).text
        XCTAssertTrue(screen2.contains("removed adapter chat") && screen2.contains("more (End: newest)"), screen2)
        _ = s.handle(.key(.end))
        XCTAssertEqual(s.logScroll, 0)
        let before = s.session.workload
        _ = s.handle(.key(.char("X")))
        XCTAssertNil(s.logScroll, "any other key closes it")
        XCTAssertEqual(s.session.workload, before, "without acting")
    }

    /// The log at the minimum size: the prompt's long error wrapped in full, then what X did.
    func testMessageLog80x24() throws {
        var s = try state(width: 80, height: 24)
        _ = s.handle(.tick(now: 1.5))
        _ = s.handle(.key(.char(":")))
        type(&s, "adapter zz rank=8 slot=1")
        _ = s.handle(.key(.enter))
        _ = s.handle(.tick(now: 3))
        _ = s.handle(.key(.char("X")))
        _ = s.handle(.key(.char("]")))
        _ = s.handle(.key(.char("M")))
        assertSnapshot(Screen.render(s).text)
    }

    /// A long line at the prompt, the cursor in its middle, the start scrolled out of view.
    func testPromptScrolled80x24() throws {
        var s = try state(width: 80, height: 24)
        _ = s.handle(.key(.char(":")))
        type(&s, "narrate \"" + String(repeating: "the sorted grid has one row per slot; ", count: 3) + "end\"")
        for _ in 0..<10 { _ = s.handle(.key(.left)) }
        assertSnapshot(Screen.render(s).text)
    }

    func testKeyErrorsCarryNoPseudoLocation() throws {
        // Three adapters in the default 8 slots; a key that the session refuses.
        var s = try state("dims hidden=64 out=64 q=64 kv=16 ffn=64 rank=16\nadapter a rank=8\nseq a count=3")
        _ = s.perform(.adapter(name: "b", rank: 8, scaling: nil, slot: 0))
        XCTAssertEqual(s.status?.isError, true)
        XCTAssertFalse(s.status!.text.contains("<command>"), s.status!.text)
        XCTAssertFalse(s.status!.text.contains(":1:1:"), s.status!.text)
    }

    // MARK: Esc and runs

    func testEscCancelsARunningMeasurementAndSaysSo() throws {
        var s = try state("dims hidden=64 out=64 q=64 kv=16 ffn=64 rank=16\nadapter a rank=8\nseq a count=3")
        _ = s.handle(.key(.char("r")))
        _ = s.handle(.runProgress(0.4))
        _ = s.handle(.key(.char("r")))
        XCTAssertTrue(s.status!.text.contains("r does not start another") && s.status!.text.contains("Esc cancels it"), s.status!.text)
        let actions = s.handle(.key(.escape))
        XCTAssertTrue(actions.contains { if case .cancelRun = $0 { return true }; return false }, "\(actions)")
        XCTAssertNil(s.run)
        XCTAssertTrue(s.status!.text.hasPrefix("run cancelled (Esc)"), s.status!.text)
        let again = s.handle(.key(.char("r")))
        XCTAssertTrue(again.contains { if case .startRun = $0 { return true }; return false }, "\(again)")
    }

    // MARK: The prompt as a line editor

    func type(_ s: inout AppState, _ text: String) { for c in text { _ = s.handle(.key(.char(c))) } }

    func testThePromptEditsAtTheCursor() throws {
        var s = try state()
        _ = s.handle(.key(.char(":")))
        type(&s, "slots 9")
        _ = s.handle(.key(.left))
        type(&s, "1")
        XCTAssertEqual(s.prompt?.text, "slots 19")
        _ = s.handle(.key(.home))
        _ = s.handle(.key(.delete))
        XCTAssertEqual(s.prompt?.text, "lots 19")
        _ = s.handle(.key(.char("s")))
        _ = s.handle(.key(.ctrl("e")))
        _ = s.handle(.key(.backspace))
        XCTAssertEqual(s.prompt?.text, "slots 1")
        _ = s.handle(.key(.ctrl("w")))
        XCTAssertEqual(s.prompt?.text, "slots ")
        type(&s, "12 extra")
        _ = s.handle(.key(.ctrl("a")))
        _ = s.handle(.key(.right))
        _ = s.handle(.key(.ctrl("k")))
        XCTAssertEqual(s.prompt?.text, "s")
        _ = s.handle(.key(.ctrl("u")))
        XCTAssertEqual(s.prompt?.text, "")
        XCTAssertEqual(s.prompt?.cursor, 0)
        type(&s, "slots 12")
        _ = s.handle(.key(.enter))
        XCTAssertEqual(s.session.workload.batch.slotCount, 12)
    }

    func testTabCompletesVerbsKeysNamesAndPaths() throws {
        var s = try state()
        func tab(_ typed: String) -> String {
            s.prompt = PromptState(text: typed)
            _ = s.handle(.key(.tab))
            return s.prompt!.text
        }
        XCTAssertEqual(tab("ker"), "kernel ")
        XCTAssertEqual(tab("kernel sg"), "kernel sgemm_lora_")
        XCTAssertTrue(s.status!.text.contains("sgemm_lora_a") && s.status!.text.contains("sgemm_lora_b"), s.status!.text)
        XCTAssertEqual(tab("kernel q"), "kernel qkv_lora_b ")
        XCTAssertEqual(tab("kernel qkv_lora_b st"), "kernel qkv_lora_b stack=")
        XCTAssertEqual(tab("strategies sorted vl"), "strategies sorted vllm ")
        XCTAssertEqual(tab("adapter ch"), "adapter chat ")
        XCTAssertEqual(tab("adapter chat ra"), "adapter chat rank=")
        XCTAssertEqual(tab("set seq 0 adapter=co"), "set seq 0 adapter=code ")
        XCTAssertEqual(tab("remove adapter co"), "remove adapter code ")
        XCTAssertEqual(tab("gpu l4"), "gpu l40s ")
        // Completion in the middle keeps what follows the cursor.
        s.prompt = PromptState(text: "ker x")
        s.prompt!.cursor = 3
        _ = s.handle(.key(.tab))
        XCTAssertEqual(s.prompt?.text, "kernel  x")
        // File paths for model, adapter … from=, gpu-results, output, record.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lora-viz-complete-\(getpid())")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("tiny-model"), withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: dir.appendingPathComponent("screen.txt").path, contents: Data())
        defer { try? FileManager.default.removeItem(at: dir) }
        XCTAssertEqual(tab("model \(dir.path)/ti"), "model \(dir.path)/tiny-model/")
        XCTAssertEqual(tab("adapter x from=\(dir.path)/ti"), "adapter x from=\(dir.path)/tiny-model/")
        XCTAssertEqual(tab("output \(dir.path)/sc"), "output \(dir.path)/screen.txt ")
        XCTAssertEqual(tab("record \(dir.path)/s"), "record \(dir.path)/screen.txt ")
        XCTAssertEqual(tab("zzz"), "zzz")
        XCTAssertEqual(s.status?.isError, true)
    }

    func testALongPromptScrollsAndShowsItsCursor() throws {
        var s = try state(width: 80, height: 24)
        _ = s.handle(.key(.char(":")))
        type(&s, "narrate \"" + String(repeating: "a long line of narration ", count: 5) + "end\"")
        var line = Screen.render(s).line(s.height - 2).trimmingCharacters(in: .whitespaces)
        XCTAssertTrue(line.hasSuffix("end\""), line)
        XCTAssertTrue(line.hasPrefix("~ long line"), "the start scrolled out of view, marked: \(line)")
        _ = s.handle(.key(.home))
        line = Screen.render(s).line(s.height - 2)
        XCTAssertTrue(line.hasPrefix(":narrate \"a long"), line)
        let canvas = Screen.render(s)
        XCTAssertTrue(canvas[1, s.height - 2].style.reverse, "the cursor on the first character")
    }
}
