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
        // Both launches' breakdowns, term by term, under a heading that names the terms.
        XCTAssertTrue(text.contains("µs: floor+norm4(longest+held, exits+compute, mem.)"), text)
        let lines = text.split(separator: "\n").map(String.init)
        for (name, e) in [("per-seq ", c.perSequence), ("sorted  ", c.sorted)] {
            let line = lines.first { $0.contains("│ " + name + e.compactSummary.prefix(20)) }
            XCTAssertNotNil(line, "no \(name)breakdown:\n\(text)")
            XCTAssertTrue(line?.contains(" \(e.bound.rawValue)") ?? false, line ?? text)
        }
    }

    /// Where a routing's terms do not fit the run panel on one row (80×24), one
    /// line says what bounds each launch; nothing wraps into a half-read formula.
    func testBreakdownDegradesToTheBoundsOnANarrowPanel() throws {
        let session = try Self.gateUpBS1()
        let c = GPUProfile.h200.compare(perSequence: session.plan(.perSequence), sorted: session.plan(.sorted))
        let text = screen(session, 80, 24)
        XCTAssertTrue(text.contains("bound: \(c.perSequence.bound.rawValue) → \(c.sorted.bound.rawValue)"), text)
        XCTAssertFalse(text.contains("max("), text)
        XCTAssertTrue(text.contains(c.compactHeadline), text)
        // ASCII (the golden files): the same line with ASCII stand-ins, µs as us.
        let ascii = Screen.render(AppState(session: session, width: 120, height: 40, glyphs: .ascii)).text
        XCTAssertTrue(ascii.contains("us: floor+norm4(longest+held, exits+compute, mem.)"), ascii)
        XCTAssertTrue(ascii.unicodeScalars.allSatisfy(\.isASCII), ascii)
    }

    func testSmallScreensKeepTheHeadlineAndEveryEstimateFits() throws {
        let sessions = [try Self.gateUpBS1(), try ScreenSnapshotTests.defaultSession, try ScreenSnapshotTests.bigSession,
                        try ScreenSnapshotTests.qkvSession]
        for session in sessions {
            let c = GPUProfile.h200.compare(perSequence: session.plan(.perSequence), sorted: session.plan(.sorted))
            for (w, h) in [(80, 24), (100, 30), (120, 40), (200, 60)] {
                let text = screen(session, w, h)
                XCTAssertTrue(text.contains("H200 est. "), "\(w)×\(h):\n\(text)")
                XCTAssertEqual(text.split(separator: "\n", omittingEmptySubsequences: false).count - (text.hasSuffix("\n") ? 1 : 0), h)
                for line in text.split(separator: "\n") { XCTAssertLessThanOrEqual(Format.width(String(line)), w) }
                // Both grids keep their own estimate, whole (not cut at the pane's edge), and the
                // run panel its headline, in full from 120 columns.
                for e in [c.perSequence, c.sorted] {
                    let figure = "H200 est. \(formatMicroseconds(e.totalUs))"
                    XCTAssertTrue(text.contains(figure + " ") || text.contains(figure + "\n") || text.contains(figure + "│"),
                                  "\(w)×\(h): \(figure) whole:\n\(text)")
                }
                XCTAssertTrue(text.contains(w >= 120 ? c.headline : c.compactHeadline) || text.contains(c.headline), "\(w)×\(h):\n\(text)")
                XCTAssertGreaterThanOrEqual(text.components(separatedBy: "H200 est. ").count - 1, 3, "\(w)×\(h):\n\(text)")
            }
        }
    }

    /// The run panel says how far to trust the estimated direction: the
    /// held-out record at this estimate's distance from a band edge; a
    /// profile never scored on held-out data (an uncalibrated one) says nothing.
    func testRunPanelQuotesTheHeldOutDirectionRecord() throws {
        let session = try Self.gateUpBS1()
        let speedup = GPUProfile.h200.compare(perSequence: session.plan(.perSequence), sorted: session.plan(.sorted)).speedup
        let bin = GPUDirectionRecord.h200.bin(for: speedup)
        XCTAssertEqual(bin, GPUDirectionRecord.h200.bins.last, "0.17× is far from both edges")
        // 200×60: a run panel tall enough for it (at 80×24 it gives way to the run's lines).
        let text = screen(session, 200, 60)
        XCTAssertTrue(text.contains(String(format: "held-out direction %.1f %%", 100 * bin.share)), text)
        let other = screen(try Self.gateUpBS1("gpu l40s\n"), 200, 60)
        XCTAssertFalse(other.contains("held-out direction"), other)
        // Near an edge the record is weaker, and the panel says so.
        let near = GPUDirectionRecord.h200.compactNotes(for: 1.12)
        XCTAssertEqual(near[1], String(format: "held-out direction %.1f %% (within 5 %% of an edge)", 100 * GPUDirectionRecord.h200.bins[0].share))
    }

    func testAnotherGPUIsLabelledUncalibratedEverywhere() throws {
        let text = screen(try Self.gateUpBS1("gpu l40s\n"), 120, 40)
        XCTAssertFalse(text.contains("H200"), text)
        XCTAssertEqual(text.components(separatedBy: "L40S est. (uncalibrated)").count - 1, 3, text)
    }

    /// A CPU run at ~1× where the H200 estimate is ~0.2×: the panel says why.
    func testDisagreementLineAfterARun() throws {
        var session = try Self.gateUpBS1()
        let run = { (kind: Strategy, ms: [Double]) in
            RoutingRun(routing: kind, time: TimingSummary(samples: ms), maxAbsErrorVsReference: 7e-3, gflops: 0.6)
        }
        session.apply(run: KernelRunResult(
            workload: session.workload, perSequence: run(.perSequence, [1.56, 1.53, 1.67]),
            sorted: run(.sorted, [1.59, 1.58, 1.61]), maxAbsDiffBetweenRoutings: 0, bitwiseEqual: true, threads: 2))
        let text = screen(session, 120, 40)
        XCTAssertTrue(text.contains("on the CPU exits are"), text)
        XCTAssertTrue(text.contains("on an H200 28k exiting") && text.contains("programs cost ~"), text)
        XCTAssertTrue(text.contains("CPU per-seq 1.56 ms, sorted 1.59 ms"), text)
        XCTAssertTrue(text.contains("speedup 0.98×"), text)
        // Where the two agree there is no such line and the full table shows.
        var agreeing = try Self.gateUpBS1()
        agreeing.apply(run: KernelRunResult(
            workload: agreeing.workload, perSequence: run(.perSequence, [1.0]), sorted: run(.sorted, [5.0]),
            maxAbsDiffBetweenRoutings: 0, bitwiseEqual: true, threads: 2))
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
        XCTAssertEqual(state.plans.profile.name, "b200")
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
