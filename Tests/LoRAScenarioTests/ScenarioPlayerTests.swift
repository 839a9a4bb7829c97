import Foundation
import LoRAKernels
@testable import LoRAScenario
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
        events = try player.advance(now: 100)
        guard case .expect(let e)? = events.first?.effect else { return XCTFail("expect event") }
        XCTAssertTrue(e.evaluate(in: player.session.report()).held)
        XCTAssertTrue(player.isFinished)
        XCTAssertEqual(player.currentStepIndex, 9)
    }

    func testSpeedScalesSleepsAndStepIntervals() throws {
        var player = ScenarioPlayer(try Scenario.parse("sleep 2s\nseed 1\nseed 2", file: "s.lora"), stepInterval: 0.5)
        player.speed = 4
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

    func testTogglePause() throws {
        var player = ScenarioPlayer(try Scenario.parse("seed 1\nseed 2", file: "t.lora"))
        player.togglePause(now: 0)
        XCTAssertEqual(try player.advance(now: 5).count, 0)
        player.togglePause(now: 5)
        XCTAssertEqual(try player.advance(now: 5).count, 2)
    }
}
