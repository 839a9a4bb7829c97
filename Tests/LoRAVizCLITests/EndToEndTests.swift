import Foundation
import LoRAScenario
import LoRAVizTestSupport
import XCTest

/// The real binary in a real terminal (tmux), driven like a person would:
/// start, add a sequence, type a command at `:`, run the kernels and read
/// the timings off the screen, resize below the minimum and back, quit; then
/// check that the terminal was restored (alternate screen left, stty modes
/// as before). Skipped only when tmux is not installed.
final class EndToEndTests: XCTestCase {
    var session = ""
    var scratch: URL!

    /// The `lora-viz` built beside this test bundle (`swift build` builds it).
    var binary: URL { (try? LoRAVizBinary.url()) ?? URL(fileURLWithPath: "lora-viz-not-built") }

    /// Runs `tmux ARGS`, returning its standard output.
    ///
    /// posix_spawn + waitpid rather than Foundation's Process: `new-session` may
    /// start the tmux server, and Process was seen to hang waiting for such a
    /// client. Output goes through a file, which no daemon can hold open.
    @discardableResult
    func tmux(_ args: [String]) throws -> String {
        let outPath = scratch.appendingPathComponent("tmux-out").path
        var fileActions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fileActions)
        defer { posix_spawn_file_actions_destroy(&fileActions) }
        posix_spawn_file_actions_addopen(&fileActions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&fileActions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&fileActions, 2, "/dev/null", O_WRONLY, 0)
        let argv = (["tmux", "-S", scratch.appendingPathComponent("tmux.sock").path] + args).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawnp(&pid, "tmux", &fileActions, nil, argv, environ)
        guard rc == 0 else { throw XCTSkip("cannot start tmux: \(String(cString: strerror(rc)))") }
        // Bounded: a tmux client seen stuck once must fail this test, not hang CI.
        var status: Int32 = 0
        let deadline = Date().addingTimeInterval(15)
        while true {
            let done = waitpid(pid, &status, WNOHANG)
            if done == pid || (done < 0 && errno != EINTR) { break }
            if Date() > deadline {
                kill(pid, SIGKILL)
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                XCTFail("tmux \(args.joined(separator: " ")) did not finish within 15 s")
                break
            }
            usleep(10_000)
        }
        return (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
    }

    func screen() throws -> String { try tmux(["capture-pane", "-p", "-t", session]) }

    /// Waits until the screen shows `text` (or `timeout` passes), returning the screen.
    @discardableResult
    func waitFor(_ text: String, timeout: Double = 20, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        var last = ""
        while Date() < deadline {
            last = try screen()
            if last.contains(text) {
                // A capture can land in the middle of a frame's writes: return one the app has finished.
                for _ in 0..<10 {
                    Thread.sleep(forTimeInterval: 0.05)
                    let again = try screen()
                    if again == last { break }
                    last = again
                }
                if last.contains(text) { return last }
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        XCTFail("timed out waiting for \"\(text)\"; the screen was:\n\(last)", file: file, line: line)
        throw XCTSkip("stopping after a timeout")
    }

    func keys(_ keys: String...) throws { try tmux(["send-keys", "-t", session] + keys) }
    func literal(_ text: String) throws { try tmux(["send-keys", "-t", session, "-l", text]) }
    /// Types `text` at the `:` prompt and submits it.
    func command(_ text: String) throws {
        try keys(":")
        try literal(text)
        try keys("Enter")
    }

    override func setUpWithError() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux")
              || FileManager.default.isExecutableFile(atPath: "/usr/local/bin/tmux") else {
            throw XCTSkip("tmux is not installed: the end-to-end terminal test needs it (apt-get install tmux)")
        }
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: binary.path),
                      "no lora-viz binary at \(binary.path): run `swift build` first")
        session = "lora-viz-e2e-\(ProcessInfo.processInfo.processIdentifier)"
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent(session)
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        _ = try? tmux(["kill-server"])
        if let scratch { try? FileManager.default.removeItem(at: scratch) }
    }

    func testInteractiveSessionInTmux() throws {
        let before = scratch.appendingPathComponent("stty-before").path
        let after = scratch.appendingPathComponent("stty-after").path
        let recording = scratch.appendingPathComponent("session.lora").path
        try tmux(["new-session", "-d", "-s", session, "-x", "120", "-y", "40",
                  "env TERM=xterm-256color LANG=C.UTF-8 bash --norc --noprofile"])
        try literal("stty -g > \(before); \(binary.path) --record \(recording); echo EXIT=$?; stty -g > \(after); echo END-$((6*7))")
        try keys("Enter")
        var text = try waitFor("per-sequence grid [16, 26, 1]")
        XCTAssertEqual(try tmux(["display", "-p", "-t", session, "#{alternate_on}"]).trimmingCharacters(in: .whitespacesAndNewlines), "1")
        XCTAssertTrue(text.contains("bs 26 tokens 26"))
        // The GPU estimate is on screen before any run: beside each grid and as the run panel's headline.
        XCTAssertEqual(text.components(separatedBy: "H200 est. ").count - 1, 3, text)
        let headline = text.split(separator: "\n").first { $0.contains("┌ run · H200 est. ") }
        XCTAssertTrue(headline.map { $0.contains(" µs → ") && $0.contains("×") } ?? false, text)
        // Both launches' breakdowns under the heading that names their terms.
        XCTAssertTrue(text.contains("│ µs: floor+norm4(longest+held, exits+compute, mem.)"), text)
        XCTAssertTrue(text.contains("│ per-seq ") && text.contains("│ sorted  "), text)
        XCTAssertTrue(text.contains("no run yet"), text)
        // The first screen points a newcomer at the demos; D lists them.
        XCTAssertTrue(text.contains("new here? D lists the"), text)
        try keys("D")
        text = try waitFor("demos · j/k choose · Enter plays · Esc closes")
        XCTAssertTrue(text.contains("Should I sort? A whole layer of Qwen2.5-7B"), text)
        try keys("Escape")
        // A key within 50 ms after Esc would read as Alt-key (KeyDecoder): wait for the menu to close.
        usleep(300_000)
        // Add a sequence with a key.
        try keys("a")
        try waitFor("bs 27 tokens 27")
        // The bytes of an unknown escape sequence change nothing (ESC [ 9 9 ~ once halved a rank);
        // the message log (M) shows what the last key did, and nothing since.
        try keys("Escape", "[", "9", "9", "~")
        try keys("M")
        text = try waitFor("messages (")
        XCTAssertTrue(text.contains("added a sequence on chat: bs 26 → 27"), text)
        XCTAssertFalse(text.contains("rank of"), text)
        try keys("Escape")
        text = try waitFor("sorted  grid [")
        XCTAssertTrue(text.contains("bs 27 tokens 27") && text.contains("undo 1"), text)
        // A command at the prompt: a smaller hidden size keeps the debug-build kernels quick.
        try keys(":")
        try literal("kernel sgemm_lora_a")
        try waitFor(":kernel sgemm_lora_a")
        try keys("Enter")
        try waitFor("sgemm_lora_a bf16 decode")
        try command("dims hidden=512")
        try waitFor(" h512 ")
        // Home and End at the prompt whatever the TERM/tmux mismatch (tmux sends ESC [ 1 ~, xterm's terminfo
        // says ESC O H): they move the cursor and run nothing.
        try keys(":")
        try literal("lots 8")
        try keys("Home")
        try literal("s")
        try keys("End")
        try literal("0")
        try waitFor(":slots 80")
        try keys("BSpace", "Enter")
        try waitFor("ok: slots 8")
        // Another GPU: every estimate says it is uncalibrated; then back to the H200.
        try command("gpu l40s")
        text = try waitFor("L40S est. (uncalibrated)")
        XCTAssertFalse(text.contains("H200 est."), text)
        try command("gpu h200")
        try waitFor("H200 est.")
        // Two lines pasted at the prompt (bracketed paste): one command a line, never keys.
        try tmux(["set-buffer", "slots 9\nslots 8"])
        try keys(":")
        try tmux(["paste-buffer", "-p", "-t", session])
        try waitFor("pasted 2 commands: ran each")
        // A bad command: an error with its column, the state unchanged.
        try command("slots 0")
        text = try waitFor("<prompt>:1:7: error")
        XCTAssertTrue(text.contains("slots 8"))
        // Run the kernels and read the timings from the screen.
        try keys("r")
        text = try waitFor("bitwise equal", timeout: 180)
        let lines = text.split(separator: "\n").map(String.init)
        if let compact = lines.first(where: { $0.contains("│ CPU per-seq ") }) {
            // The CPU and the GPU estimate disagree: the panel says why and the timings take one line.
            XCTAssertTrue(text.contains("H200 est."), text)
            XCTAssertTrue(compact.contains(" ms, sorted "), compact)
        } else {
            for routing in ["per-seq ", "sorted "] {
                guard let line = lines.first(where: { $0.contains("│ \(routing)") }) else {
                    return XCTFail("no \(routing) timing line:\n\(text)")
                }
                let fields = line.components(separatedBy: routing)[1].split(separator: " ")
                let ms = Double(fields[0]) ?? -1
                XCTAssertGreaterThan(ms, 0, line)
            }
            XCTAssertTrue(text.contains("median ms"), "the timings' heading names the unit:\n\(text)")
        }
        XCTAssertTrue(text.contains("speedup"))
        XCTAssertTrue(text.contains("bitwise equal: yes"), text)
        // Resize below the minimum, then back.
        try tmux(["resize-window", "-t", session, "-x", "70", "-y", "20"])
        try waitFor("terminal too small: 70×20")
        try tmux(["resize-window", "-t", session, "-x", "120", "-y", "40"])
        try waitFor("sorted  grid [")
        // The screen as a text file; a second recording writes the first, and one that would overwrite a file is refused.
        let screenFile = scratch.appendingPathComponent("screen.txt").path
        try command("output \(screenFile)")
        try waitFor("wrote screen to")
        let saved = try String(contentsOfFile: screenFile, encoding: .utf8)
        XCTAssertTrue(saved.contains("per-sequence grid [4, 27, 1]"), saved)
        try command("record \(screenFile)")
        try waitFor("exists; record")
        XCTAssertEqual(try String(contentsOfFile: screenFile, encoding: .utf8), saved, "not overwritten")
        // :output, like record, replaces a file only with force=true.
        try keys("a")
        try waitFor("bs 28 tokens 28")
        try command("output \(screenFile)")
        try waitFor("exists; output")
        XCTAssertEqual(try String(contentsOfFile: screenFile, encoding: .utf8), saved, "not overwritten")
        try command("output \(screenFile) force=true")
        try waitFor("wrote screen to")
        XCTAssertTrue(try String(contentsOfFile: screenFile, encoding: .utf8).contains("bs 28 tokens 28"))
        try keys("u")
        try waitFor("bs 27 tokens 27")
        // Help overlay opens and closes.
        try keys("?")
        try waitFor("Build the batch")
        try keys("Escape")
        // Wait for what the help covered: a key right after Esc would be read as Alt-key and dropped.
        try waitFor("sorted  grid [")
        // Other strategies side by side: the panes show the first two chosen, each titled with its
        // grid and blocks; with only two chosen, s has nothing else to show and says so.
        try command("strategies sorted vllm")
        text = try waitFor("vllm grid [256, 1, 9]")
        XCTAssertTrue(text.contains("sorted → vllm: launched "), text)
        XCTAssertTrue(text.contains(" blocks 32×16×256 split 64"), text)
        try keys("s")
        try waitFor("every chosen strategy is shown (sorted vllm)")
        // A third: Tab focuses the right pane, s shows csgmv there and vLLM goes to the strip.
        try command("strategies sorted vllm csgmv")
        try waitFor("also chosen (s shows): csgmv ")
        XCTAssertTrue(try screen().contains("s strategy"), "the hint appears once s can cycle")
        // Tab follows the work: to the vLLM program computing what sorted's cursor program computes.
        try keys("Tab")
        try waitFor("vllm pid 0 seg 1 computes what sorted pid 0 does: token 1 (sequence 1), column 0")
        try keys("s")
        text = try waitFor("▶ csgmv")
        XCTAssertTrue(text.contains("sorted → csgmv: launched "), text)
        XCTAssertTrue(text.contains("also chosen (s shows): vllm "), text)
        XCTAssertTrue(text.contains("csgmv pid 0 seg 0 → chunk 0 of slot 0"), text)
        // A real model's config and a PEFT adapter at the prompt, then the layer table.
        let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("examples").path
        try command("model \(examples)/models/tiny-llama")
        try waitFor("tiny-llama │")
        try command("adapter peft from=\(examples)/adapters/tiny-chat-fp32")
        text = try waitFor("note: peft: the adapter does not target o_proj")
        try keys("L")
        text = try waitFor("layer total")
        XCTAssertTrue(text.contains("layer 0 of 2"), text)
        XCTAssertTrue(text.contains("down shrink"), text)
        XCTAssertTrue(text.contains("layer total est. sorted "), text)
        // The bare stack-1 shrink reads as the o shrink; j moves to the next launch.
        XCTAssertTrue(text.contains("o shrink (sgemm_lora_a)"), text)
        try keys("j")
        try waitFor("o expand (sgemm_lora_b)")
        try keys("Enter")
        text = try waitFor("sorted grid [2, 8, 1]")
        XCTAssertFalse(text.contains("layer total"), text)
        // Quit: the terminal comes back as it was.
        try keys("q")
        text = try waitFor("END-42")
        XCTAssertTrue(text.contains("EXIT=0"), text)
        XCTAssertEqual(try tmux(["display", "-p", "-t", session, "#{alternate_on}"]).trimmingCharacters(in: .whitespacesAndNewlines), "0")
        XCTAssertEqual(try String(contentsOfFile: before, encoding: .utf8), try String(contentsOfFile: after, encoding: .utf8),
                       "stty modes restored")
        // --record wrote a scenario that rebuilds the session.
        let recorded = try String(contentsOfFile: recording, encoding: .utf8)
        XCTAssertTrue(recorded.contains("kernel sgemm_lora_a"), recorded)
        XCTAssertTrue(recorded.contains("dims hidden=512"), recorded)
        XCTAssertTrue(recorded.contains("gpu l40s"), recorded)
        XCTAssertTrue(recorded.contains("run"), recorded)
    }

    /// SIGTERM, SIGHUP, SIGQUIT (no backtrace over the screen), SIGUSR1, SIGALRM
    /// and SIGPIPE end the loop cleanly (SIGUSR2, SIGXCPU, SIGXFSZ, SIGVTALRM
    /// and SIGPROF share their handler); a crash (SIGSEGV) goes through the
    /// fatal-signal handler. Each time the shell gets its terminal back. Then
    /// `TERM=dumb` is refused before the screen is touched.
    func testSignalsRestoreTheTerminal() throws {
        try tmux(["new-session", "-d", "-s", session, "-x", "100", "-y", "30",
                  "env TERM=xterm-256color LANG=C.UTF-8 bash --norc --noprofile"])
        for (signal, status) in [(SIGTERM, 143), (SIGHUP, 129), (SIGQUIT, 131), (SIGUSR1, 138), (SIGALRM, 142),
                                 (SIGPIPE, 141), (SIGSEGV, 139)] {
            let before = scratch.appendingPathComponent("stty-before-\(signal)").path
            let after = scratch.appendingPathComponent("stty-after-\(signal)").path
            let pidFile = scratch.appendingPathComponent("pid-\(signal)").path
            try literal("clear; ulimit -c 0; stty -g > \(before); \(binary.path) --no-color --ascii & echo $! > \(pidFile); fg;"
                        + " echo EXIT=$?; stty -g > \(after); echo END-$((6*\(signal)))")
            try keys("Enter")
            try waitFor("per-sequence grid [16, 26, 1]")
            let pid = Int32(try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))!
            XCTAssertEqual(kill(pid, signal), 0)
            let text = try waitFor("END-\(6 * signal)")
            XCTAssertTrue(text.contains("EXIT=\(status)"), "signal \(signal):\n\(text)")
            XCTAssertEqual(try tmux(["display", "-p", "-t", session, "#{alternate_on}"]).trimmingCharacters(in: .whitespacesAndNewlines), "0")
            XCTAssertEqual(try String(contentsOfFile: before, encoding: .utf8), try String(contentsOfFile: after, encoding: .utf8),
                           "stty modes after signal \(signal)")
            XCTAssertFalse(text.contains("Crash") || text.contains("Backtrace"), "signal \(signal):\n\(text)")
        }
        try literal("clear; TERM=dumb \(binary.path); echo DUMB=$?")
        try keys("Enter")
        let text = try waitFor("DUMB=")
        XCTAssertTrue(text.contains("DUMB=2"), text)
        XCTAssertTrue(text.contains("TERM=dumb cannot") && text.contains("lora-viz run"), text)
    }

    /// Ctrl-Z gives the shell its terminal back (alternate screen left) and
    /// `fg` brings the screen back in raw mode, as does `kill -TSTP`; the
    /// colour-blind-safe palette (`--palette colorblind`, `P`) draws excess
    /// exits orange and full programs blue instead of red and green.
    func testCtrlZSuspendsAndFgRedrawsInThePaletteChosen() throws {
        // Colours on: `swift test` sets NO_COLOR for the tests it runs, and tmux would pass it on.
        try tmux(["new-session", "-d", "-s", session, "-x", "100", "-y", "30",
                  "env -u NO_COLOR TERM=xterm-256color LANG=C.UTF-8 bash --norc --noprofile"])
        let before = scratch.appendingPathComponent("stty-before-z").path
        let after = scratch.appendingPathComponent("stty-after-z").path
        let pidFile = scratch.appendingPathComponent("pid-z").path
        try literal("clear; stty -g > \(before); \(binary.path) --palette colorblind & echo $! > \(pidFile); fg")
        try keys("Enter")
        try waitFor("grid [16, 26, 1]")
        func colours() throws -> String { try tmux(["capture-pane", "-p", "-e", "-t", session]) }
        // Excess exits (×) in Okabe-Ito orange (xterm 214), not the standard red (167).
        var sgr = try colours()
        XCTAssertTrue(sgr.contains("38;5;214m×"), sgr)
        XCTAssertFalse(sgr.contains("38;5;167m"), sgr)
        try keys("P")
        try waitFor("the standard palette")
        sgr = try colours()
        XCTAssertTrue(sgr.contains("38;5;167m×"), sgr)
        // Ctrl-Z: the shell's prompt on the normal screen, the process stopped.
        try keys("C-z")
        var text = try waitFor("Stopped")
        XCTAssertEqual(try tmux(["display", "-p", "-t", session, "#{alternate_on}"]).trimmingCharacters(in: .whitespacesAndNewlines), "0")
        try literal("stty -g > \(after); fg")
        try keys("Enter")
        try waitFor("grid [16, 26, 1]")
        XCTAssertEqual(try tmux(["display", "-p", "-t", session, "#{alternate_on}"]).trimmingCharacters(in: .whitespacesAndNewlines), "1")
        XCTAssertEqual(try String(contentsOfFile: before, encoding: .utf8), try String(contentsOfFile: after, encoding: .utf8),
                       "the shell got its own stty modes while stopped")
        // Raw mode again: a key acts without Enter.
        try keys("a")
        try waitFor("bs 27 tokens 27")
        // A SIGTSTP from outside suspends the same way.
        let pid = Int32(try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))!
        XCTAssertEqual(kill(pid, SIGTSTP), 0)
        text = try waitFor("Stopped")
        try literal("clear; fg; echo EXIT=$?")
        try keys("Enter")
        text = try waitFor("bs 27 tokens 27")
        XCTAssertTrue(text.contains("grid [16, 26, 1]") || text.contains("grid [16, 27, 1]"), text)
        try keys("q")
        text = try waitFor("EXIT=")
        XCTAssertTrue(text.contains("EXIT=0"), text)
    }

    /// A recording is on disk as it goes: `kill -9` (which no handler sees) loses none of it.
    func testARecordingSurvivesKillNine() throws {
        try tmux(["new-session", "-d", "-s", session, "-x", "100", "-y", "30",
                  "env TERM=xterm-256color LANG=C.UTF-8 bash --norc --noprofile"])
        let recording = scratch.appendingPathComponent("kept.lora").path
        let pidFile = scratch.appendingPathComponent("pid-kill").path
        try literal("clear; \(binary.path) --no-color --ascii --record \(recording) & echo $! > \(pidFile); fg; echo KILLED=$?")
        try keys("Enter")
        try waitFor("per-sequence grid [16, 26, 1]")
        try keys("a")
        try waitFor("bs 27 tokens 27")
        try keys("a")
        try waitFor("bs 28 tokens 28")
        let pid = Int32(try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))!
        XCTAssertEqual(kill(pid, SIGKILL), 0)
        let text = try waitFor("KILLED=")
        XCTAssertTrue(text.contains("KILLED=137"), text)
        try? tmux(["send-keys", "-t", session, "reset", "Enter"])
        let rebuilt = try Session(replaying: Scenario.load(path: recording))
        XCTAssertEqual(rebuilt.workload.batch.sequences.count, 28, "both sequences added before kill -9 are in the file")
    }

    func testNotATerminalPointsAtRun() throws {
        let p = Process()
        p.executableURL = binary
        p.standardInput = Pipe()
        p.standardOutput = Pipe()
        let err = Pipe()
        p.standardError = err
        try p.run()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 2, message)
        XCTAssertTrue(message.contains("needs a terminal"), message)
        XCTAssertTrue(message.contains("lora-viz run"), message)
        // --version on the root command.
        let v = Process()
        v.executableURL = binary
        v.arguments = ["--version"]
        let out = Pipe()
        v.standardOutput = out
        try v.run()
        let version = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        v.waitUntilExit()
        XCTAssertEqual(v.terminationStatus, 0)
        XCTAssertTrue(version.hasPrefix("lora-viz "), version)
    }
}
