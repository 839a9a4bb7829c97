import Foundation
import LoRAScenario
import LoRAVizTestSupport
import Synchronization
import XCTest

/// `lora-viz run` and `lora-viz replay --headless`, end to end through the built binary.
final class CLITests: TemporaryDirectoryTestCase {
    let small = """
        title "Small"
        slots 4
        dims hidden=256 out=512 q=256 kv=64 ffn=256 rank=16
        adapter a rank=16
        adapter b rank=8 scaling=0.5
        seq a count=5
        seq b count=3
        narrate "eight sequences on two adapters"
        sleep 30s
        run reps=2
        expect bitwise_equal == true
        expect sorted.launched < per-sequence.launched
        kernel qkv_lora_b
        run reps=1
        expect sorted.fates.masked_out > 0

        """

    func testRunPrintsOneJSONObjectPerRunWithTheIssueKeys() throws {
        try write("small.lora", small)
        let r = try LoRAVizBinary.run(["run", "small.lora", "--format", "json", "--threads", "1"], in: directory)
        XCTAssertEqual(r.status, 0, r.err)
        let lines = r.out.split(separator: "\n")
        XCTAssertEqual(lines.count, 2)
        for (line, kernel) in zip(lines, ["sgemm_lora_b", "qkv_lora_b"]) {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            XCTAssertEqual(object["kernel"] as? String, kernel)
            for key in ["kernel", "dtype", "mode", "batch", "routings", "max_abs_diff_between_routings", "bitwise_equal"] {
                XCTAssertNotNil(object[key], key)
            }
            XCTAssertEqual(object["batch"] as? [String: Int], ["bs": 8, "tokens": 8, "slots": 4, "slots_in_use": 2])
            for routing in object["routings"] as! [[String: Any]] {
                for key in ["routing", "grid", "launched", "fates", "valid_rows", "useful_macs", "issued_macs",
                            "weight_bytes", "time_ms", "max_abs_error_vs_reference"] {
                    XCTAssertNotNil(routing[key], "\(kernel) \(key)")
                }
                XCTAssertEqual(Set((routing["time_ms"] as! [String: Double]).keys), ["median", "min", "max"])
            }
            XCTAssertEqual(object["bitwise_equal"] as? Bool, true)
        }
        XCTAssertFalse(r.out.contains("eight sequences"), "run does not narrate")
    }

    func testRunTextReportsAndTheDump() throws {
        try write("small.lora", small)
        let r = try LoRAVizBinary.run(["run", "small.lora", "--dump", "dump"], in: directory)
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.contains("── run 1 at small.lora:10:1 (reps 2) ──"), r.out)
        XCTAssertTrue(r.out.contains("GFLOP/s"), r.out)
        XCTAssertTrue(r.out.contains("bitwise equal: yes"), r.out)
        for run in ["run-1", "run-2"] {
            let manifest = directory.appendingPathComponent("dump/\(run)/manifest.json").path
            XCTAssertTrue(FileManager.default.fileExists(atPath: manifest), manifest)
        }
    }

    func testAFailedExpectExitsOne() throws {
        try write("fail.lora", "adapter a rank=4\nseq a count=3\nexpect per-sequence.launched == 1\n")
        let r = try LoRAVizBinary.run(["run", "fail.lora"], in: directory)
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.err, """
            fail.lora:3:1: error: expect per-sequence.launched == 1 failed: expected per-sequence.launched == 1, actual 48
            note: fail.lora has no `run` command; nothing was measured
            1 of 1 expectations failed

            """)
    }

    func testBadInputExitsTwoWithTheLocatedError() throws {
        try write("bad.lora", "adapter a rank=4\nseq b\n")
        let r = try LoRAVizBinary.run(["run", "bad.lora"], in: directory)
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(r.err, "bad.lora:2:5: error: unknown adapter 'b'; did you mean 'a'? (adapters: a)\n")
        XCTAssertEqual(r.out, "")
    }

    func testEveryBadLineIsReported() throws {
        try write("typos.lora", "slots 8\nadaptor a rank=4\nseq a count=x\n# fine\nrun reps=0\n")
        let r = try LoRAVizBinary.run(["run", "typos.lora"], in: directory)
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(r.err, """
            typos.lora:2:1: error: unknown verb 'adaptor'; did you mean 'adapter'?
            typos.lora:3:13: error: bad number 'x' for count=: expected a whole number
            typos.lora:5:10: error: reps=0 is out of range 1…1000
            3 errors

            """)
        XCTAssertEqual(r.out, "")
    }

    func testStandardInputIsDash() throws {
        let r = try LoRAVizBinary.run(["run", "-"], in: directory, input: "adapter a rank=4\nseq a count=2\nseq q\n")
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(r.err, "<stdin>:3:5: error: unknown adapter 'q'; did you mean 'a'? (adapters: a)\n")
        let ok = try LoRAVizBinary.run(["replay", "-", "--headless"], in: directory, input: "narrate \"hi\"\n")
        XCTAssertEqual(ok.status, 0, ok.err)
        XCTAssertEqual(ok.out, "│ hi\n")
        let tui = try LoRAVizBinary.run(["replay", "-"], in: directory, input: "narrate \"hi\"\n")
        XCTAssertEqual(tui.status, 2, tui.err)
        XCTAssertTrue(tui.err.contains("needs --headless"), tui.err)
    }

    /// `run -` on an endless standard input stops at the 16 MiB file limit
    /// and says so (exit 2); `run FIFO` is refused at once, not waited on.
    func testEndlessStandardInputAndAFIFOAreRefused() throws {
        func runBounded(_ arguments: [String], input: FileHandle) throws -> (status: Int32, err: String, seconds: Double) {
            let process = Process()
            process.executableURL = try LoRAVizBinary.url()
            process.arguments = arguments
            process.currentDirectoryURL = directory
            process.standardInput = input
            process.standardOutput = FileHandle.nullDevice
            let err = Pipe()
            process.standardError = err
            let start = Date()
            try process.run()
            // A process that never stops is killed, so the test fails instead of hanging.
            let watchdog = DispatchWorkItem { if process.isRunning { process.terminate() } }
            DispatchQueue.global().asyncAfter(deadline: .now() + 10, execute: watchdog)
            let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            watchdog.cancel()
            return (process.terminationStatus, text, Date().timeIntervalSince(start))
        }
        let zero = try XCTUnwrap(FileHandle(forReadingAtPath: "/dev/zero"))
        let endless = try runBounded(["run", "-"], input: zero)
        XCTAssertEqual(endless.status, 2, endless.err)
        XCTAssertEqual(endless.err, "<stdin>: error: standard input is over 16 MiB; stopped reading there (a scenario is a short text file)\n")
        XCTAssertLessThan(endless.seconds, 5)
        XCTAssertEqual(mkfifo(directory.appendingPathComponent("pipe.lora").path, 0o600), 0)
        for arguments in [["run", "pipe.lora"], ["replay", "pipe.lora", "--headless"]] {
            let fifo = try runBounded(arguments, input: FileHandle.nullDevice)
            XCTAssertEqual(fifo.status, 2, "\(arguments): \(fifo.err)")
            XCTAssertTrue(fifo.err.contains("pipe.lora: error: is a FIFO (named pipe), not a regular file"), fifo.err)
        }
    }

    /// `output` onto a FIFO (or through a symlink to a device) is refused with exit 2, before any run.
    func testOutputOntoANonRegularFileExitsTwo() throws {
        XCTAssertEqual(mkfifo(directory.appendingPathComponent("screen.fifo").path, 0o600), 0)
        try write("fifo.lora", "adapter a rank=4\nseq a count=2\nrun\noutput screen.fifo force=true\n")
        let r = try LoRAVizBinary.run(["run", "fifo.lora"], in: directory)
        XCTAssertEqual(r.status, 2, r.err)
        XCTAssertEqual(r.err, "fifo.lora:4:1: error: cannot write screen.fifo: it is a FIFO (named pipe), not a regular file; only regular files are written\n")
        XCTAssertEqual(r.out, "", "nothing ran")
        var info = stat()
        XCTAssertEqual(lstat(directory.appendingPathComponent("screen.fifo").path, &info), 0)
        XCTAssertEqual(info.st_mode & S_IFMT, S_IFIFO)
    }

    func testHeadlessReplayNarratesAndDoesNotSleep() throws {
        try write("small.lora", small)
        let start = Date()
        let r = try LoRAVizBinary.run(["replay", "small.lora", "--headless", "--size", "100x30", "--threads", "1"], in: directory)
        XCTAssertLessThan(Date().timeIntervalSince(start), 25, "a 30 s sleep is virtual")
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.contains("│ eight sequences on two adapters\n"), r.out)
        XCTAssertTrue(r.out.contains("ok small.lora:11:1: expect bitwise_equal == true"), r.out)
    }

    func testOutputWritesTheScreenAtTheGivenSize() throws {
        try write("screen.lora", "adapter a rank=4\nseq a count=3\noutput screen.txt\n")
        let r = try LoRAVizBinary.run(["replay", "screen.lora", "--headless", "--size", "100x30"], in: directory)
        XCTAssertEqual(r.status, 0, r.err)
        let screen = try String(contentsOf: directory.appendingPathComponent("screen.txt"), encoding: .utf8)
        var lines = screen.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last == "" { lines.removeLast() }
        XCTAssertEqual(lines.count, 30, screen)
        XCTAssertTrue(screen.contains("per-sequence grid"), screen)
        XCTAssertLessThanOrEqual(lines.map(\.count).max() ?? 0, 100)
    }

    func testReplayOptionsAreValidated() throws {
        try write("small.lora", small)
        // Without a terminal the TUI replay explains itself and exits 2.
        let interactive = try LoRAVizBinary.run(["replay", "small.lora"], in: directory)
        XCTAssertEqual(interactive.status, 2)
        XCTAssertTrue(interactive.err.contains("needs a terminal"), interactive.err)
        // Bad input is reported before any terminal is needed.
        try write("bad.lora", "seq nobody\n")
        let bad = try LoRAVizBinary.run(["replay", "bad.lora"], in: directory)
        XCTAssertEqual(bad.status, 2)
        XCTAssertEqual(bad.err, "bad.lora:1:5: error: unknown adapter 'nobody': no adapter is defined yet (adapter NAME rank=N)\n")
        let size = try LoRAVizBinary.run(["replay", "small.lora", "--headless", "--size", "wide"], in: directory)
        XCTAssertEqual(size.status, 2, size.err)
        XCTAssertTrue(size.err.contains("--size takes <columns>x<rows>, like 120x40; got 'wide'"), size.err)
        let threads = try LoRAVizBinary.run(["run", "small.lora", "--threads", "0"], in: directory)
        XCTAssertEqual(threads.status, 2, threads.err)
        XCTAssertTrue(threads.err.contains("--threads must be at least 1, got 0"), threads.err)
        let palette = try LoRAVizBinary.run(["--palette", "rainbow"], in: directory)
        XCTAssertEqual(palette.status, 2, palette.err)
        XCTAssertTrue(palette.err.contains("standard") && palette.err.contains("colorblind"), palette.err)
        let speed = try LoRAVizBinary.run(["replay", "small.lora", "--headless", "--speed", "100"], in: directory)
        XCTAssertEqual(speed.status, 2, speed.err)
        XCTAssertTrue(speed.err.contains("--speed must be within"), speed.err)
        // --record, like the interactive command's: an existing file needs --force.
        let exists = try LoRAVizBinary.run(["replay", "small.lora", "--record", "small.lora"], in: directory)
        XCTAssertEqual(exists.status, 2, "bad input")
        XCTAssertTrue(exists.err.contains("--record small.lora: the file exists; add --force to replace it"), exists.err)
        let forced = try LoRAVizBinary.run(["replay", "small.lora", "--record", "small.lora", "--force", "--no-color", "--ascii"],
                                  in: directory)
        XCTAssertTrue(forced.err.contains("needs a terminal"), "options accepted, then the terminal check: \(forced.err)")
        let headless = try LoRAVizBinary.run(["replay", "small.lora", "--headless", "--record", "new.lora"], in: directory)
        XCTAssertEqual(headless.status, 2, headless.err)
        XCTAssertTrue(headless.err.contains("a headless replay records with the `record FILE` command"), headless.err)
    }

    /// `sweep`'s chart: the style follows the locale or `--chart`, `--format svg` writes
    /// the SVG, `--chart-rank` picks the rank; bad values exit 2 naming the flag.
    func testSweepChartFlags() throws {
        try write("t.lora", "slots 4\ndims hidden=256 out=512 q=256 kv=64 ffn=256 rank=16\nadapter a rank=16\nseq a\n")
        let sweep = ["sweep", "t.lora", "--bs", "1,8,64", "--adapters", "1,4"]
        func lines(_ text: String) -> [Substring] { text.split(separator: "\n", omittingEmptySubsequences: false) }

        let utf8 = try LoRAVizBinary.run(sweep, in: directory, environment: ["LANG": "en_US.UTF-8"])
        XCTAssertEqual(utf8.status, 0, utf8.err)
        XCTAssertTrue(utf8.out.contains("1× — sorting pays above this line"), utf8.out)
        XCTAssertTrue(utf8.out.contains("H200 est. = estimates from the GPU profile, not measured"), utf8.out)
        XCTAssertTrue(utf8.out.contains("o 1 adapter (GPU est.)   x 4 adapters (GPU est.)"), utf8.out)
        XCTAssertTrue(utf8.out.unicodeScalars.contains { (0x2800...0x28FF).contains($0.value) }, "braille in a UTF-8 locale")
        XCTAssertFalse(lines(utf8.out).contains { $0.hasSuffix(" ") }, "no trailing blanks")
        let c = try LoRAVizBinary.run(sweep, in: directory, environment: ["LANG": "C"])
        XCTAssertEqual(c.status, 0, c.err)
        XCTAssertFalse(c.out.unicodeScalars.contains { (0x2500...0x28FF).contains($0.value) }, "ASCII lines and frame without UTF-8")
        let block = try LoRAVizBinary.run(sweep + ["--chart", "block"], in: directory, environment: ["LANG": "C"])
        XCTAssertTrue(block.out.contains("└") && block.out.contains(where: { "▀▄█".contains($0) }), block.out)
        let ascii = try LoRAVizBinary.run(sweep + ["--chart", "ascii"], in: directory, environment: ["LC_ALL": "C.UTF-8"])
        XCTAssertEqual(ascii.out, c.out, "--chart ascii in a UTF-8 locale is the C locale's chart")

        // --format svg, to a file under the -o/--force rules.
        let svg = try LoRAVizBinary.run(sweep + ["--format", "svg", "-o", "chart.svg"], in: directory)
        XCTAssertEqual(svg.status, 0, svg.err)
        XCTAssertEqual(svg.out, "")
        let document = try String(contentsOf: directory.appendingPathComponent("chart.svg"), encoding: .utf8)
        XCTAssertEqual(try XMLCount(document).polylines, 2)
        XCTAssertTrue(document.contains("H200 est. = estimates"))
        let again = try LoRAVizBinary.run(sweep + ["--format", "svg", "-o", "chart.svg"], in: directory)
        XCTAssertEqual(again.status, 2)
        XCTAssertTrue(again.err.contains("error: -o chart.svg: exists (--force replaces it)"), again.err)
        let stdout = try LoRAVizBinary.run(sweep + ["--format", "svg"], in: directory)
        XCTAssertEqual(stdout.out, document)

        // --chart-rank among several --ranks.
        let ranks = try LoRAVizBinary.run(sweep + ["--ranks", "16,4", "--chart-rank", "4", "--chart", "ascii"], in: directory)
        XCTAssertEqual(ranks.status, 0, ranks.err)
        XCTAssertTrue(ranks.out.contains("against bs, rank 4"), ranks.out)

        // JSON is what it was: one `Sweep.jsonLine` per point.
        let json = try LoRAVizBinary.run(sweep + ["--format", "json"], in: directory)
        let s = try Sweep(template: Sweep.template(Scenario.parse(String(contentsOf: directory.appendingPathComponent("t.lora"), encoding: .utf8), file: "t.lora")),
                          bs: [1, 8, 64], adapters: [1, 4])
        XCTAssertEqual(json.out, s.points.map { Sweep.jsonLine($0, s.report($0)) + "\n" }.joined())

        // Bad values exit 2 and name the flag.
        for (arguments, flag) in [(["--chart-rank", "8"], "error: --chart-rank: 8 is not among --ranks (16)"),
                                  (["--ranks", "4,16", "--chart-rank", "2"], "error: --chart-rank: 2 is not among --ranks (4,16)"),
                                  (["--chart-rank", "x"], "--chart-rank"),
                                  (["--chart", "fancy"], "--chart"),
                                  (["--chart", "block", "--format", "json"], "--chart draws the text chart; it needs --format text"),
                                  (["--chart-rank", "16", "--format", "csv"], "--chart-rank picks the chart's rank; it needs --format text or svg"),
                                  (["--format", "png"], "--format"),
                                  (["--format", "svg", "--strategies", "csgmv"], "error: --format svg: the chart is of the speedup per-sequence ÷ sorted")] {
            let r = try LoRAVizBinary.run(sweep + arguments, in: directory)
            XCTAssertEqual(r.status, 2, "\(arguments): \(r.err)")
            XCTAssertTrue(r.err.contains(flag), "\(arguments): \(r.err)")
            XCTAssertEqual(r.out, "", "\(arguments): nothing written")
        }
        // Text without a per-sequence/sorted pair: the tables, then one line saying why there is no chart.
        let noPair = try LoRAVizBinary.run(sweep + ["--strategies", "csgmv,tight"], in: directory)
        XCTAssertEqual(noPair.status, 0, noPair.err)
        XCTAssertTrue(noPair.out.hasSuffix("\nno chart: the speedup needs per-sequence and sorted (--strategies)\n"), noPair.out)
    }
}
