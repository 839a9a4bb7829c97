import Foundation
import LoRAKernels
@testable import LoRAScenario
import LoRAVizTestSupport
import Synchronization
import XCTest

/// Headless replay: virtual time, real kernels, expectations, files.
final class HeadlessReplayTests: TemporaryDirectoryTestCase {
    /// A replay on small dims with the real kernels, capturing its output.
    func replay(format: HeadlessReplay.Format = .text) -> (HeadlessReplay, () -> (out: String, err: String)) {
        final class Sink: Sendable { let out = Mutex(""), err = Mutex("") }
        let sink = Sink()
        var r = HeadlessReplay(
            execute: { w, options, _ in
                var options = options
                options.threads = 1
                // One timed launch: the replay checks what the run decides (bits, errors), not its speed.
                options.reps = 1
                return try KernelRunner.run(w, options: options)
            },
            renderScreen: { session, width, height in "screen \(width)x\(height): bs \(session.workload.batch.sequences.count)\n" })
        r.format = format
        r.standardOutput = { s in sink.out.withLock { $0 += s } }
        r.standardError = { s in sink.err.withLock { $0 += s } }
        return (r, { (sink.out.withLock { $0 }, sink.err.withLock { $0 }) })
    }


    var source: String {
        """
        title "Small"
        slots 2
        dims hidden=256 out=256 q=256 kv=64 ffn=256 rank=16
        adapter a rank=16
        adapter b rank=8 scaling=0.5
        seq a count=3
        seq b count=2
        narrate "two adapters"
        sleep 10s
        pause
        sleep 250ms
        run reps=2
        expect bitwise_equal == true
        expect sorted.launched < per-sequence.launched
        expect per-sequence.grid == [1, 5, 1]
        output \(path("screen.txt"))
        record \(path("rec.lora"))
        seq b
        stop
        """
    }

    func testReplayRunsOnVirtualTime() throws {
        let (replay, captured) = replay()
        let wall = Date()
        let summary = try replay.play(try Scenario.parse(source, file: "small.lora"))
        XCTAssertLessThan(Date().timeIntervalSince(wall), 5, "10.25 s of sleeps must not be slept")
        XCTAssertEqual(summary.virtualSeconds, 10.25, accuracy: 1e-9)
        XCTAssertEqual(summary.exitCode, 0)
        XCTAssertEqual(summary.runs, 1)
        XCTAssertEqual(summary.expectationsHeld, 3)
        let (out, err) = captured()
        XCTAssertEqual(err, "")
        XCTAssertTrue(out.hasPrefix("═══ Small ═══\n"), out)
        XCTAssertTrue(out.contains("│ two adapters\n"), out)
        XCTAssertTrue(out.contains("── run 1 at small.lora:12:1 (reps 2) ──\nsgemm_lora_b · bf16 · decode · bs 5"), out)
        XCTAssertTrue(out.contains("bitwise equal: yes"), out)
        XCTAssertTrue(out.contains("ok small.lora:13:1: expect bitwise_equal == true\n"), out)
        XCTAssertEqual(try String(contentsOfFile: path("screen.txt"), encoding: .utf8), "screen 120x40: bs 5\n")
        // The recording replays to the state at `stop`.
        let rebuilt = try Session(replaying: Scenario.load(path: path("rec.lora")))
        XCTAssertEqual(rebuilt.workload.batch.sequences.count, 6)
        XCTAssertEqual(summary.recordingsWritten, [path("rec.lora")])
    }

    /// With the TUI's pacing the virtual clock measures how long the TUI
    /// replay would take: the same engine steps both.
    func testARunWithTheLayerShownTimesItsEightLaunches() throws {
        var (replay, captured) = replay(format: .json)
        final class Count: Sendable { let kernels = Mutex<[String]>([]) }
        let count = Count()
        replay.executeLayerLaunch = { w, options in
            count.kernels.withLock { $0.append(w.kernel.name) }
            var options = options
            options.threads = 1
            return try KernelRunner.run(w, options: options)
        }
        let text = """
            dims hidden=128 out=128 q=64 kv=32 ffn=256 rank=8
            adapter a rank=8
            seq a count=3
            layer
            run reps=1
            expect layer.down_shrink.k == 256
            expect layer.totals.sorted.cpu_ms > 0
            expect layer.o_shrink.sorted.cpu_ms > 0

            """
        let summary = try replay.play(try Scenario.parse(text, file: "layer.lora"))
        XCTAssertEqual(summary.exitCode, 0, captured().err)
        XCTAssertEqual(summary.expectationsHeld, 3)
        XCTAssertEqual(count.kernels.withLock { $0 }, LayerModule.layerLaunches.map { $0.module.kernel(shrink: $0.shrink).name })
        let json = captured().out
        XCTAssertTrue(json.contains("\"cpu_ms\":"), json)
    }

    func testReadingPaceOnTheVirtualClockIsTheTUIsDuration() throws {
        var (replay, _) = replay()
        replay.pacing = .reading
        replay.speed = 2
        let scenario = try Scenario.parse("""
            title "Two words"
            narrate "one two three four five six seven eight nine"
            sleep 1s
            seed 1
            """, file: "pace.lora")
        // title 2 s (the minimum) + narration 9 words / 3 per s + sleep 1 s, at 2x; the last step ends it.
        XCTAssertEqual(try replay.play(scenario).virtualSeconds, 3, accuracy: 1e-9)
    }

    func testJSONFormatPrintsOnlyReportsOnStandardOutput() throws {
        let (replay, captured) = replay(format: .json)
        _ = try replay.play(try Scenario.parse(source, file: "small.lora"))
        let (out, err) = captured()
        let lines = out.split(separator: "\n")
        XCTAssertEqual(lines.count, 1)
        let report = try JSONDecoder().decode(RunReport.self, from: Data(lines[0].utf8))
        XCTAssertEqual(report.bitwiseEqual, true)
        XCTAssertEqual(report.routings.map(\.timeMs?.min).count, 2)
        XCTAssertNotNil(report.perSequence.timeMs)
        XCTAssertTrue(err.contains("│ two adapters"), err)
    }

    func testFailedExpectNamesLineExpectedAndActual() throws {
        let (replay, captured) = replay()
        let scenario = try Scenario.parse("""
            adapter a rank=16
            adapter b rank=16
            seq a count=20
            seq b count=4
            expect sorted.fates.excess_exit == 56
            expect speedup > 1
            expect sorted.launched < per-sequence.launched
            """, file: "fail.lora")
        let summary = try replay.play(scenario)
        XCTAssertEqual(summary.exitCode, 1)
        XCTAssertEqual(summary.expectationFailures, [
            "fail.lora:5:1: error: expect sorted.fates.excess_exit == 56 failed: expected sorted.fates.excess_exit == 56, actual 16",
            "fail.lora:6:1: error: expect speedup > 1 failed: speedup has no value yet (it needs a `run` after the last change of the batch)",
        ])
        XCTAssertEqual(summary.expectationsHeld, 1)
        XCTAssertTrue(captured().err.hasPrefix("fail.lora:5:1: error: expect sorted.fates.excess_exit == 56"))
    }

    func testBadInputIsFoundBeforeAnythingRuns() throws {
        struct Unexpected: Error {}
        var ran = false
        var replay = HeadlessReplay(execute: { _, _, _ in ran = true; throw Unexpected() },
                                    renderScreen: { _, _, _ in "" })
        replay.standardOutput = { (_: String) in }
        let scenario = try Scenario.parse("adapter a rank=4\nseq a\nrun\nseq b\n", file: "bad.lora")
        XCTAssertThrowsError(try replay.play(scenario)) {
            XCTAssertEqual("\($0)", "bad.lora:4:5: error: unknown adapter 'b'; did you mean 'a'? (adapters: a)")
        }
        XCTAssertFalse(ran)
    }

    func testRecordRefusesToOverwriteWithoutForce() throws {
        let (replay, _) = replay()
        try "keep me\n".write(toFile: path("exists.lora"), atomically: true, encoding: .utf8)
        let scenario = try Scenario.parse("record \(path("exists.lora"))\nslots 4\nstop", file: "r.lora")
        XCTAssertThrowsError(try replay.play(scenario)) {
            XCTAssertEqual("\($0)", "r.lora:1:1: error: \(path("exists.lora")) exists; record \(path("exists.lora")) force=true overwrites it")
        }
        XCTAssertEqual(try String(contentsOfFile: path("exists.lora"), encoding: .utf8), "keep me\n")
        let forced = try Scenario.parse("record \(path("exists.lora")) force=true\nslots 4\nstop", file: "r.lora")
        _ = try replay.play(forced)
        let written = try String(contentsOfFile: path("exists.lora"), encoding: .utf8)
        XCTAssertTrue(written.hasPrefix("# Recorded by lora-viz.") && written.hasSuffix("\nslots 4\n"), written)
        XCTAssertEqual(try Session(replaying: Scenario.parse(written, file: "exists.lora")).workload.batch.slotCount, 4)
    }

    func testStopWithoutRecordIsBadInput() throws {
        XCTAssertThrowsError(try Scenario.parse("slots 4\nstop", file: "s.lora").validate()) {
            XCTAssertEqual("\($0)", "s.lora:2:1: error: stop without a record before it")
        }
    }

    /// Every demo replays headless with the real kernels (optimised even in
    /// debug builds) and all its expectations hold, timings included. One
    /// test per demo, so `swift test --parallel` spreads them over the cores.
    func replayDemo(_ number: Int) throws {
        let paths = try DemoScenarioTests.demoPaths()
        guard let path = paths.first(where: { ($0 as NSString).lastPathComponent.hasPrefix(String(format: "%02d-", number)) }) else {
            return XCTFail("no demo \(number) under scenarios/")
        }
        let (replay, captured) = replay()
        let summary = try replay.play(try Scenario.load(path: path))
        XCTAssertEqual(summary.exitCode, 0, "\(path): \(captured().err)")
        XCTAssertGreaterThan(summary.expectationsHeld, 0, path)
    }

    func testEveryDemoHasAReplayTest() throws {
        XCTAssertEqual(try DemoScenarioTests.demoPaths().count, 14, "a new demo needs its testDemoNNReplaysHeadless below")
    }
    func testDemo01ReplaysHeadless() throws { try replayDemo(1) }
    func testDemo02ReplaysHeadless() throws { try replayDemo(2) }
    func testDemo03ReplaysHeadless() throws { try replayDemo(3) }
    func testDemo04ReplaysHeadless() throws { try replayDemo(4) }
    func testDemo05ReplaysHeadless() throws { try replayDemo(5) }
    func testDemo06ReplaysHeadless() throws { try replayDemo(6) }
    func testDemo07ReplaysHeadless() throws { try replayDemo(7) }
    func testDemo08ReplaysHeadless() throws { try replayDemo(8) }
    func testDemo09ReplaysHeadless() throws { try replayDemo(9) }
    func testDemo10ReplaysHeadless() throws { try replayDemo(10) }
    func testDemo11ReplaysHeadless() throws { try replayDemo(11) }
    func testDemo12ReplaysHeadless() throws { try replayDemo(12) }
    func testDemo13ReplaysHeadless() throws { try replayDemo(13) }
    func testDemo14ReplaysHeadless() throws { try replayDemo(14) }
}
