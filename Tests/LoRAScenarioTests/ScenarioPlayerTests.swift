import Foundation
import LoRAKernels
@_spi(Testing) @testable import LoRAScenario
import XCTest

/// The player keeps time by an injected clock and hands effects to its driver.
final class ScenarioPlayerTests: XCTestCase {
    let source = """
        title "Player"
        adapter a rank=8
        seq a count=3
        narrate "first"
        sleep 2s
        slots 4
        pause
        narrate "second"
        run reps=2
        expect sorted.grid.y == 4
        """

    func testStepsWaitForSleepsAndPauses() throws {
        var player = ScenarioPlayer(try Scenario.parse(source, file: "p.lora"))
        XCTAssertEqual(player.stepCount, 10)
        XCTAssertEqual(player.title, "Player", "the scenario's title before any step")

        // t = 0: steps up to the sleep (the first effect) apply at once.
        var events = try player.advance(now: 0)
        XCTAssertEqual(events.map(\.index), [0, 1, 2, 3, 4])
        XCTAssertEqual(events.last?.effect, .sleep(seconds: 2))
        XCTAssertEqual(player.narration, "first")
        XCTAssertEqual(player.currentLineText, "sleep 2s")
        XCTAssertEqual(player.nextDeadline, 2)

        // Before the sleep ends nothing happens.
        XCTAssertEqual(try player.advance(now: 1.99).count, 0)
        // At t = 2 the next steps run up to the pause, which waits for resume.
        events = try player.advance(now: 2)
        XCTAssertEqual(events.map(\.index), [5, 6])
        XCTAssertTrue(player.isPaused)
        XCTAssertNil(player.nextDeadline)
        XCTAssertEqual(try player.advance(now: 100).count, 0, "paused: time alone does not move it")
        XCTAssertEqual(player.session.workload.batch.slotCount, 4)

        player.resume(now: 100)
        events = try player.advance(now: 100)
        XCTAssertEqual(events.map(\.effect), [.none, .run(reps: 2)], "stops after run so the driver runs it first")
        XCTAssertEqual(player.narration, "second")
        XCTAssertTrue(player.isAwaitingRun)
        XCTAssertEqual(try player.advance(now: 500).count, 0, "nothing steps while the kernels run")
        player.runFinished(now: 500)
        events = try player.advance(now: 500)
        guard case .expect(let e)? = events.first?.effect else { return XCTFail("expect event") }
        XCTAssertTrue(e.evaluate(in: player.session.report()).held)
        XCTAssertTrue(player.isFinished)
        XCTAssertEqual(player.currentStepIndex, 9)
    }

    func testSpeedScalesSleepsAndStepIntervals() throws {
        let pacing = PlaybackPacing(stepDelay: 0.5, wordsPerSecond: 0, minimumDwell: 0, afterRun: 0)
        var player = ScenarioPlayer(try Scenario.parse("sleep 2s\nseed 1\nseed 2", file: "s.lora"), pacing: pacing, speed: 4)
        _ = try player.advance(now: 10)
        XCTAssertEqual(player.nextDeadline, 10.5, "2 s at 4×")
        _ = try player.advance(now: 10.5)
        XCTAssertEqual(player.nextDeadline, 10.625, "0.5 s step interval at 4×")
        player.speed = 1000
        XCTAssertEqual(player.speed, 64, "clamped")
    }

    func testNextStepIgnoresTimeAndErrorsKeepThePlace() throws {
        var player = ScenarioPlayer(try Scenario.parse("sleep 60s\nseq nobody\nseed 3", file: "e.lora"))
        _ = try player.step(now: 0)
        XCTAssertThrowsError(try player.step(now: 0)) {
            XCTAssertEqual("\($0)", "e.lora:2:5: error: unknown adapter 'nobody': no adapter is defined yet (adapter NAME rank=N)")
        }
        XCTAssertEqual(player.nextStepIndex, 1, "stays on the failing step")
        XCTAssertEqual(player.currentStepIndex, 0)
    }

    /// The TUI's pace: a dwell for titles and narration in proportion to
    /// their words, `sleep` as written, a moment after a run, all divided by the speed.
    func testReadingPaceDwellsOnTextAndScalesWithSpeed() throws {
        let source = """
            title "Why sort"
            narrate "one two three four five six seven eight nine ten eleven twelve"
            seed 1
            sleep 5s
            adapter a rank=8
            seq a
            run
            seed 2
            """
        var player = ScenarioPlayer(try Scenario.parse(source, file: "r.lora"), pacing: .reading)
        XCTAssertEqual(try player.advance(now: 0).map(\.index), [0])
        XCTAssertEqual(player.nextDeadline, 2, "a short title stays the minimum 2 s")
        XCTAssertEqual(try player.advance(now: 2).map(\.index), [1])
        XCTAssertEqual(player.nextDeadline, 6, "12 words at 3 words/s")
        player.setSpeed(2, now: 4)
        XCTAssertEqual(player.nextDeadline, 5, "the 2 s left of the dwell take 1 s at 2x")
        _ = try player.advance(now: 5)
        XCTAssertEqual(player.nextDeadline, 5.3, "0.6 s step delay at 2x")
        _ = try player.advance(now: 5.3)
        XCTAssertEqual(player.currentLineText, "sleep 5s")
        XCTAssertEqual(player.nextDeadline, 7.8, "5 s as written, at 2x")
        player.slower(now: 7.8)
        XCTAssertEqual(player.speed, 1)
        // `adapter` then `seq` only build the batch: the first takes no time, the screen lingers after the second.
        XCTAssertEqual(try player.advance(now: 7.8).map(\.index), [4, 5])
        XCTAssertEqual(player.nextDeadline ?? 0, 8.4, accuracy: 1e-9)
        XCTAssertEqual(try player.advance(now: 8.4).map(\.effect), [.run(reps: 5)])
        XCTAssertNil(player.nextDeadline, "a run waits for the kernels, however long")
        player.runFinished(now: 60)
        XCTAssertEqual(player.nextDeadline, 62, "the result stays 2 s on screen")
        player.faster(now: 60)
        XCTAssertEqual(player.nextDeadline, 61)
        XCTAssertEqual(try player.advance(now: 61).map(\.index), [7])
        XCTAssertTrue(player.isFinished)
    }

    /// `n` (step) ends a `pause` step's wait but keeps the user's own pause.
    func testStepEndsAPauseStepButNotTheUsersPause() throws {
        var player = ScenarioPlayer(try Scenario.parse("pause\nseed 1\nseed 2\nseed 3", file: "n.lora"), pacing: .reading)
        _ = try player.advance(now: 0)
        XCTAssertTrue(player.isWaitingForKey)
        _ = try player.step(now: 1)
        XCTAssertFalse(player.isPaused, "after n at a pause the replay plays on")
        XCTAssertEqual(player.nextDeadline, 1.6)
        player.pause()
        _ = try player.step(now: 2)
        XCTAssertTrue(player.isPaused, "n while paused by the user steps once and stays paused")
        XCTAssertEqual(player.nextStepIndex, 3)
        XCTAssertEqual(try player.advance(now: 100).count, 0)
    }

    func testTogglePause() throws {
        var player = ScenarioPlayer(try Scenario.parse("seed 1\nseed 2", file: "t.lora"))
        player.togglePause(now: 0)
        XCTAssertEqual(try player.advance(now: 5).count, 0)
        player.togglePause(now: 5)
        XCTAssertEqual(try player.advance(now: 5).count, 2)
    }

    /// Demo 08 builds its batch with 512 `seq` lines: at reading pace its first narration comes at once, not after 5 minutes.
    func testABatchBuildingRunPlaysWithoutDwell() throws {
        let steps = try Scenario.load(path: DemoScenarioTests.scenariosDirectory.appendingPathComponent("08-large-batch.lora").path).steps
        let first = try XCTUnwrap(steps.firstIndex { if case .narrate = $0.command { return true } else { return false } })
        XCTAssertGreaterThan(first, 500)
        let wait = (0..<first).reduce(0.0) { $0 + PlaybackPacing.reading.delay(after: steps[$1], effect: .none, next: steps[$1 + 1]) }
        XCTAssertLessThan(wait, 10, "seconds of dwell before the first narration (the title, the settings, then the batch at once; 5 minutes before)")
    }
}
