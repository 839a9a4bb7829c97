import LoRAKernels
import LoRAScenario
@testable import LoRAVizUI
import XCTest

/// The GPU estimate on screen: beside each grid and in the run panel from
/// the first frame, the GPU's name and calibration on every figure, and the
/// line that says why the CPU and the GPU disagree.
final class GPUScreenTests: XCTestCase {
    /// gate_up_lora_b at bs 1 on 64 slots: 448 programs per-sequence, 28,672 sorted.
    static func gateUpBS1(_ extra: String = "") throws -> Session {
        try ScreenSnapshotTests.session("slots 64\ndims rank=16\nkernel gate_up_lora_b\nadapter one rank=16\nseq one\n" + extra)
    }

    func screen(_ session: Session, _ w: Int, _ h: Int) -> String {
        Screen.render(AppState(session: session, width: w, height: h, glyphs: .unicode)).text
    }

    func testEstimatesShowBeforeAnyRun() throws {
        let session = try Self.gateUpBS1()
        let c = GPUProfile.h200.compare(perSequence: session.plan(.perSequence), sorted: session.plan(.sorted))
        let text = screen(session, 120, 40)
        XCTAssertTrue(text.contains(c.headline), text)
        XCTAssertTrue(text.contains("launched 448  util 6.3%  W 896 KiB  H200 est. \(formatMicroseconds(c.perSequence.totalUs))"), text)
        XCTAssertTrue(text.contains("launched 28672  util 6.3%  W 896 KiB  H200 est. \(formatMicroseconds(c.sorted.totalUs))"), text)
        // The focused grid's breakdown, term by term.
        XCTAssertTrue(text.contains("per-seq: " + c.perSequence.compactSummary.prefix(20)), text)
        XCTAssertTrue(text.contains("\(c.perSequence.bound.rawValue)-bound"), text)
    }

    func testSmallScreensKeepTheHeadlineAndEveryEstimateFits() throws {
        let session = try Self.gateUpBS1()
        for (w, h) in [(80, 24), (100, 30), (120, 40), (200, 60)] {
            let text = screen(session, w, h)
            XCTAssertTrue(text.contains("H200 est. "), "\(w)×\(h):\n\(text)")
            XCTAssertEqual(text.split(separator: "\n", omittingEmptySubsequences: false).count - (text.hasSuffix("\n") ? 1 : 0), h)
            for line in text.split(separator: "\n") { XCTAssertLessThanOrEqual(Format.width(String(line)), w) }
            // Both grids keep their own estimate.
            XCTAssertGreaterThanOrEqual(text.components(separatedBy: "H200 est. ").count - 1, 3, "\(w)×\(h):\n\(text)")
        }
    }

    func testAnotherGPUIsLabelledUncalibratedEverywhere() throws {
        let text = screen(try Self.gateUpBS1("gpu l40s\n"), 120, 40)
        XCTAssertFalse(text.contains("H200"), text)
        XCTAssertEqual(text.components(separatedBy: "L40S est. (uncalibrated)").count - 1, 3, text)
    }

    /// A CPU run at ~1× where the H200 estimate is ~0.2×: the panel says why.
    func testDisagreementLineAfterARun() throws {
        var session = try Self.gateUpBS1()
        let run = { (kind: RoutingKind, ms: [Double]) in
            RoutingRun(routing: kind, time: TimingSummary(samples: ms), maxAbsErrorVsReference: 7e-3, gflops: 0.6)
        }
        session.lastRun = KernelRunResult(
            workload: session.workload, perSequence: run(.perSequence, [1.56, 1.53, 1.67]),
            sorted: run(.sorted, [1.59, 1.58, 1.61]), maxAbsDiffBetweenRoutings: 0, bitwiseEqual: true, threads: 2)
        let text = screen(session, 120, 40)
        XCTAssertTrue(text.contains("on the CPU exits are"), text)
        XCTAssertTrue(text.contains("on an H200 28k exiting") && text.contains("programs cost ~"), text)
        XCTAssertTrue(text.contains("CPU per-seq 1.56 ms, sorted 1.59 ms"), text)
        XCTAssertTrue(text.contains("speedup 0.98×"), text)
        // Where the two agree there is no such line and the full table shows.
        var agreeing = try Self.gateUpBS1()
        agreeing.lastRun = KernelRunResult(
            workload: agreeing.workload, perSequence: run(.perSequence, [1.0]), sorted: run(.sorted, [5.0]),
            maxAbsDiffBetweenRoutings: 0, bitwiseEqual: true, threads: 2)
        let plain = screen(agreeing, 120, 40)
        XCTAssertFalse(plain.contains("exits are"), plain)
        XCTAssertTrue(plain.contains("median ms"), plain)
    }

    /// `gpu NAME` is a state change: it recomputes the estimates and undo returns to the H200.
    func testGPUCommandUpdatesTheScreenAndUndoes() throws {
        var state = AppState(session: try Self.gateUpBS1(), width: 120, height: 40, glyphs: .unicode)
        _ = state.handle(.key(.char(":")))
        for ch in "gpu b200" { _ = state.handle(.key(.char(ch))) }
        _ = state.handle(.key(.enter))
        XCTAssertEqual(state.session.gpu.name, "b200")
        XCTAssertEqual(state.plans.gpu.profile.name, "b200")
        XCTAssertTrue(Screen.render(state).text.contains("B200 est. (uncalibrated)"))
        _ = state.handle(.key(.char("u")))
        XCTAssertEqual(state.session.gpu.name, "h200")
        XCTAssertTrue(Screen.render(state).text.contains("H200 est. "))
        // g steps through every profile and back.
        var seen: [String] = []
        for _ in GPUProfile.all {
            _ = state.handle(.key(.char("g")))
            seen.append(state.session.gpu.name)
        }
        XCTAssertEqual(seen, GPUProfile.names.dropFirst() + ["h200"])
    }
}
