import Foundation
import LoRAKernels
@testable import LoRAScenario
import LoRAVizTestSupport
import XCTest

/// The report: JSON shape and values against the plans, paths, text.
final class RunReportTests: XCTestCase {
    func defaultSession() throws -> Session {
        var s = try Session(replaying: Scenario.parse(Scenario.defaultSource, file: "default"))
        return s
    }

    func testJSONHasTheIssueKeysAndThePlansValues() throws {
        let s = try defaultSession()
        let report = s.report()
        let object = try JSONSerialization.jsonObject(with: Data(report.json.utf8)) as! [String: Any]
        XCTAssertEqual(Set(object.keys), ["kernel", "dtype", "mode", "seed", "what_if", "batch", "routings",
                                          "gpu", "gpu_calibrated", "gpu_speedup", "gpu_headline",
                                          "gpu_direction_confidence", "gpu_direction_note"])
        // The default batch's 1.32× is 19 % from the 1.1 edge: the record's 10–20 % bin.
        XCTAssertEqual(object["gpu_direction_confidence"] as? Double, GPUDirectionRecord.h200.bins[2].share)
        XCTAssertEqual(object["gpu_direction_note"] as? String, report.gpuDirectionNote)
        XCTAssertTrue(report.text.contains("\n\(report.gpuDirectionNote!)\n"), report.text)
        XCTAssertEqual(object["kernel"] as? String, "sgemm_lora_b")
        XCTAssertEqual(object["dtype"] as? String, "bf16")
        XCTAssertEqual(object["mode"] as? String, "decode")
        let batch = object["batch"] as! [String: Int]
        XCTAssertEqual(batch, ["bs": 26, "tokens": 26, "slots": 8, "slots_in_use": 4])
        let routings = object["routings"] as! [[String: Any]]
        XCTAssertEqual(routings.map { $0["routing"] as! String }, ["per-sequence", "sorted"])
        for (entry, kind) in zip(routings, Strategy.allCases) {
            let plan = s.plan(kind)
            XCTAssertEqual(entry["grid"] as? [Int], plan.grid3)
            XCTAssertEqual(entry["launched"] as? Int, plan.launched)
            let fates = entry["fates"] as! [String: Int]
            XCTAssertEqual(Set(fates.keys), Set(ProgramFate.allCases.map(\.rawValue)))
            for fate in ProgramFate.allCases { XCTAssertEqual(fates[fate.rawValue], plan.fateCounts[fate], "\(kind) \(fate)") }
            XCTAssertEqual(entry["valid_rows"] as? Int, plan.validRows)
            XCTAssertEqual(entry["useful_macs"] as? Int, plan.usefulMACs)
            XCTAssertEqual(entry["issued_macs"] as? Int, plan.issuedMACs)
            XCTAssertEqual(entry["weight_bytes"] as? Int, plan.weightBytes)
            XCTAssertNil(entry["time_ms"], "no timings without a run")
        }
        // Key order as the issue lists it.
        XCTAssertTrue(report.json.hasPrefix("{\"kernel\":\"sgemm_lora_b\",\"dtype\":\"bf16\",\"mode\":\"decode\","), report.json)
        // Codable reads the printed JSON back into the same report.
        XCTAssertEqual(try JSONDecoder().decode(RunReport.self, from: Data(report.json.utf8)), report)
    }

    func testValueAtPaths() throws {
        let s = try defaultSession()
        let r = s.report()
        let sorted = s.plan(.sorted), perSequence = s.plan(.perSequence)
        XCTAssertEqual(r.value(at: "sorted.fates.excess_exit"), .number(Double(sorted.fateCounts[.excessExit])))
        XCTAssertEqual(r.value(at: "per-sequence.launched"), .number(Double(perSequence.launched)))
        XCTAssertEqual(r.value(at: "per-sequence.grid.y"), .number(26))
        XCTAssertEqual(r.value(at: "sorted.grid.y"), .number(8))
        XCTAssertEqual(r.value(at: "sorted.grid.z"), .number(1))
        XCTAssertEqual(r.value(at: "batch.bs"), .number(26))
        XCTAssertEqual(r.value(at: "kernel"), .string("sgemm_lora_b"))
        XCTAssertEqual(r.value(at: "what_if"), .bool(false))
        XCTAssertNil(r.value(at: "speedup"), "no run yet")
        XCTAssertNil(r.value(at: "sorted.time_ms.median"))
        XCTAssertNil(r.value(at: "sorted.nonsense"))
        // Every path the language accepts resolves on a report (timings aside).
        let timed: Set<String> = ["max_abs_diff_between_routings", "bitwise_equal", "speedup", "threads"]
        // (gpu_measured_us and gpu_estimate_error need a `--gpu-results` file of the batch: GPUResultsTests.)
        let timedFields = ["max_abs_error_vs_reference", "gflops", "speedup_vs_first", "max_abs_diff_vs_first",
                           "bitwise_equal_to_first", "gpu_measured_us", "gpu_estimate_error"]
        let unchosen = Strategy.allCases.filter { !s.strategies.contains($0) }.map { $0.name + "." }
        for (path, kind) in ReportPath.all where !timed.contains(path) && !path.contains("time_ms")
            && !timedFields.contains(where: path.hasSuffix) && !unchosen.contains(where: path.hasPrefix)
            && !path.hasPrefix("layer.") { // the layer table's paths: LayerReportTests
            let v = r.value(at: path)
            XCTAssertNotNil(v, path)
            XCTAssertEqual(v?.kind, kind, path)
        }
    }

    func testExpectationsEvaluate() throws {
        let r = try defaultSession().report()
        let excess = r.sorted.fates[.excessExit]
        let held = Expectation(path: "sorted.fates.excess_exit", comparison: .equal, expected: .value(.number(Double(excess))))
        XCTAssertTrue(held.evaluate(in: r).held)
        let failed = Expectation(path: "sorted.fates.excess_exit", comparison: .equal, expected: .value(.number(56)))
        let outcome = failed.evaluate(in: r)
        XCTAssertFalse(outcome.held)
        XCTAssertEqual(outcome.message, "expect sorted.fates.excess_exit == 56 failed: expected sorted.fates.excess_exit == 56, actual \(excess)")
        let paths = Expectation(path: "sorted.launched", comparison: .greater, expected: .path("per-sequence.launched"))
        XCTAssertEqual(paths.evaluate(in: r).message,
                       "expect sorted.launched > per-sequence.launched failed: sorted.launched is \(r.sorted.launched), per-sequence.launched is \(r.perSequence.launched)")
        let timing = Expectation(path: "speedup", comparison: .greater, expected: .value(.number(1)))
        XCTAssertEqual(timing.evaluate(in: r).message,
                       "expect speedup > 1 failed: speedup has no value yet (it needs a `run` after the last change of the batch)")
    }

    func testTextReportOfTheDefaultBatch() throws {
        assertGolden(try defaultSession().report().text, named: "testTextReportOfTheDefaultBatch.txt")
    }

    func testTextReportOfAnExtendWhatIf() throws {
        var s = try defaultSession()
        try s.execute("mode extend")
        try s.execute("kernel qkv_lora_b")
        try s.execute("set seq 0 tokens=100")
        assertGolden(s.report().text, named: "testTextReportOfAnExtendWhatIf.txt")
    }
}
