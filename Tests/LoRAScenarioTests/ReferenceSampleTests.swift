import Foundation
@testable import LoRAKernels
@testable import LoRAScenario
import XCTest

/// Issue 14 item 12: huge shapes check a seeded sample of rows against the fp64
/// reference, say so in the report and the JSON, and are estimated up front.
final class ReferenceSampleTests: XCTestCase {
    func session(_ text: String) throws -> Session {
        let s = try Session(replaying: Scenario.parse(text, file: "t.lora"))
        return s
    }

    /// The issue's six lines: 8.5 minutes, almost all of it the reference.
    let huge = "kernel sgemm_lora_a stack=3\ndims hidden=65536 rank=1024\nadapter a rank=1024\nseq a count=512\nrun reps=1\n"

    func testTheIssuesShapeIsSampledAndNormalShapesAreNot() throws {
        let w = try session(huge).workload
        XCTAssertGreaterThan(ReferenceSample.macs(w), 100_000_000_000, "10¹¹ reference multiply-adds")
        let mask = try XCTUnwrap(ReferenceSample.rows(for: w))
        let checked = mask.filter { $0 }.count
        XCTAssertEqual(checked, ReferenceSample.minimumRows, "3072 × 65536 per row: the floor of 64 rows")
        XCTAssertEqual(ReferenceSample.rows(for: w), mask, "seeded: the same rows every time")
        var other = w
        other.seed = 7
        XCTAssertNotEqual(ReferenceSample.rows(for: other), mask, "another seed, other rows")
        let planned = try Scenario.parse(huge, file: "t.lora").plannedRuns()
        XCTAssertEqual(planned.count, 1)
        XCTAssertLessThanOrEqual(planned[0].referenceMACs, ReferenceSample.fullCheckMACs + ReferenceSample.macsPerRow(w) * 64)
        XCTAssertGreaterThan(planned[0].kernelMACs, 1 << 34, "large enough for the up-front estimate")
        // The demo scenarios and every test shape are checked in full.
        let normal = try session("adapter a rank=64\nseq a count=512\n").workload
        XCTAssertNil(ReferenceSample.rows(for: normal))
    }

    func testASampledRunChecksThoseRowsAndSaysSo() throws {
        var s = try session("dims hidden=256 out=512 rank=16\nadapter a rank=16\nadapter b rank=8\nseq a count=150\nseq b count=50\n")
        var options = s.runOptions(reps: 1)
        options.referenceCheckMACs = 1000  // far below this shape's 200 × 512 × 16
        let sampled = try KernelRunner.run(s.workload, options: options)
        XCTAssertEqual(sampled.referenceRowsChecked, ReferenceSample.minimumRows)
        XCTAssertTrue(sampled.referenceIsSampled)
        XCTAssertGreaterThan(sampled.routings[0].maxAbsErrorVsReference, 0, "the sampled rows were compared")
        XCTAssertTrue(sampled.bitwiseEqual, "the strategies are still compared on every row")
        let full = try KernelRunner.run(s.workload, options: s.runOptions(reps: 1))
        XCTAssertEqual(full.referenceRowsChecked, 200)
        XCTAssertFalse(full.referenceIsSampled)
        XCTAssertLessThanOrEqual(sampled.routings[0].maxAbsErrorVsReference, full.routings[0].maxAbsErrorVsReference)
        s.apply(run: sampled)
        let report = s.report()
        let object = try JSONSerialization.jsonObject(with: Data(report.json.utf8)) as! [String: Any]
        XCTAssertEqual(object["reference_rows_checked"] as? Int, 64)
        XCTAssertTrue(report.text.contains("fp64 reference: a seeded sample of 64 of 200 rows"), report.text)
        s.apply(run: full)
        let fullObject = try JSONSerialization.jsonObject(with: Data(s.report().json.utf8)) as! [String: Any]
        XCTAssertEqual(fullObject["reference_rows_checked"] as? Int, 200)
        XCTAssertFalse(s.report().text.contains("seeded sample"))
    }
}
