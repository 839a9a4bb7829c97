import Foundation
import LoRAKernels
@testable import LoRAScenario
import XCTest

/// `gpu NAME` and the GPU estimate in the reports: parsing, errors,
/// recording, the JSON keys, `expect` on them, the text report.
///
/// The profiles' constants are re-fitted from time to time, so these tests
/// assert relations and counts, never microseconds.
final class GPUReportTests: XCTestCase {
    func session(_ source: String) throws -> Session {
        let s = try Session(replaying: Scenario.parse(source, file: "gpu.lora"))
        return s
    }

    /// gate_up_lora_b in decode, bs 1 on one rank-16 adapter, 64 slots: the
    /// H200 measured 3.3 µs per-sequence against 18.7 µs sorted.
    func gateUpBS1() throws -> Session {
        try session("slots 64\ndims rank=16\nkernel gate_up_lora_b\nadapter one rank=16\nseq one\n")
    }

    /// sgemm_lora_b at rank 64, bs 512 on one adapter, 64 slots: the H200
    /// measured 352.3 µs per-sequence against 55.1 µs sorted (6.39×).
    func sgemmBS512() throws -> Session {
        try session("slots 64\nkernel sgemm_lora_b\nadapter one rank=64\nseq one count=512\n")
    }

    func object(_ report: RunReport) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(report.json.utf8)) as! [String: Any]
    }

    /// A run of the session's workload with the given median times (ms), so a
    /// test picks the CPU's speedup.
    func fakeRun(of s: Session, perSequenceMs: Double, sortedMs: Double) -> KernelRunResult {
        func routing(_ kind: Strategy, _ ms: Double) -> RoutingRun {
            RoutingRun(routing: kind, time: TimingSummary(samples: [ms]), maxAbsErrorVsReference: 0, gflops: 1)
        }
        return KernelRunResult(workload: s.workload, perSequence: routing(.perSequence, perSequenceMs),
                               sorted: routing(.sorted, sortedMs), maxAbsDiffBetweenRoutings: 0, bitwiseEqual: true,
                               threads: 1)
    }

    // MARK: The command

    func testGPUParsesInAnyCaseAndPrintsTheCanonicalName() throws {
        for profile in GPUProfile.all {
            for spelling in [profile.name, profile.name.uppercased(), profile.displayName] {
                XCTAssertEqual(try Command.parse("gpu \(spelling)"), .gpu(profile), spelling)
            }
            XCTAssertEqual(Command.gpu(profile).description, "gpu \(profile.name)")
            XCTAssertEqual(try Command.parse(Command.gpu(profile).description), .gpu(profile))
        }
        XCTAssertEqual(try Command.parse("  gpu   b200   # the newest"), .gpu(.b200))
        XCTAssertEqual(Command.gpu(.h100).verb, "gpu")
        XCTAssertTrue(Command.verbs.contains("gpu"))
        XCTAssertEqual(Command.usage(of: "gpu"), "gpu " + GPUProfile.names.joined(separator: "|"))
    }

    func testABadGPUNameIsLocatedAndListsTheNames() {
        func assertError(_ line: String, _ expected: String, file: StaticString = #filePath, line testLine: UInt = #line) {
            XCTAssertThrowsError(try Command.parse(line, file: "t.lora", line: 3), file: file, line: testLine) { error in
                XCTAssertEqual("\(error)", expected, file: file, line: testLine)
            }
        }
        let names = GPUProfile.names.joined(separator: ", ")
        assertError("gpu  h300", "t.lora:3:6: error: unknown GPU 'h300'; did you mean 'h200'? (GPUs: \(names))")
        assertError("gpu rtx4090", "t.lora:3:5: error: unknown GPU 'rtx4090' (GPUs: \(names))")
        assertError("gpu \"h200\"", "t.lora:3:5: error: expected a GPU name, found a string; usage: gpu h200|h100|a100|l40s|b200")
        assertError("gpu", "t.lora:3:4: error: missing a GPU name; usage: gpu h200|h100|a100|l40s|b200")
        assertError("gpu h200 h100", "t.lora:3:10: error: unexpected argument 'h100'; usage: gpu h200|h100|a100|l40s|b200")
        assertError("gpu h200 sms=132", "t.lora:3:10: error: gpu takes no key=value arguments, found 'sms='; usage: gpu h200|h100|a100|l40s|b200")
        assertError("gpx h200", "t.lora:3:1: error: unknown verb 'gpx'; did you mean 'gpu'?")
    }

    func testABadGPUNameLeavesTheSessionUnchanged() throws {
        var s = try gateUpBS1()
        try s.execute("gpu l40s")
        XCTAssertEqual(s.gpu, .l40s)
        XCTAssertThrowsError(try s.execute("gpu h900", file: "<prompt>")) { error in
            XCTAssertTrue("\(error)".hasPrefix("<prompt>:1:5: error: unknown GPU 'h900'"), "\(error)")
        }
        XCTAssertEqual(s.gpu, .l40s)
        // In a file the error names the line.
        XCTAssertThrowsError(try Scenario.parse("slots 4\n\ngpu a10\n", file: "f.lora")) { error in
            XCTAssertTrue("\(error)".hasPrefix("f.lora:3:5: error: unknown GPU 'a10'"), "\(error)")
        }
    }

    func testGPUDoesNotMakeARunStale() throws {
        var s = try gateUpBS1()
        s.apply(run: fakeRun(of: s, perSequenceMs: 2, sortedMs: 2))
        try s.execute("gpu a100")
        XCTAssertFalse(s.runIsStale)
        XCTAssertNotNil(s.freshRun)
        XCTAssertTrue(s.report().hasTimings)
        XCTAssertEqual(s.report().gpu, "a100")
    }

    func testRecordingWritesTheGPUBack() throws {
        XCTAssertFalse(Session().stateCommands.contains { $0.verb == "gpu" }, "the default GPU is not written")
        let s = try session(Scenario.defaultSource + "gpu B200\n")
        XCTAssertTrue(s.stateCommands.contains(.gpu(.b200)))
        XCTAssertTrue(s.stateSource.split(separator: "\n").contains("gpu b200"), s.stateSource)
        var rebuilt = Session()
        for c in s.stateCommands { try rebuilt.apply(c) }
        XCTAssertEqual(rebuilt.gpu, .b200)
        XCTAssertEqual(rebuilt.workload, s.workload)
        XCTAssertEqual(try session(s.stateSource).gpu, .b200)
    }

    // MARK: The JSON report

    func testJSONHoldsTheEstimateOfEveryRouting() throws {
        let s = try gateUpBS1()
        let report = s.report()
        let object = try object(report)
        XCTAssertEqual(object["gpu"] as? String, "h200")
        XCTAssertEqual(object["gpu_calibrated"] as? Bool, true)
        XCTAssertNotNil(object["gpu_headline"] as? String)
        XCTAssertNil(object["gpu_disagreement"], "no run: nothing to disagree with")
        let routings = object["routings"] as! [[String: Any]]
        let breakdownKeys: Set<String> = [
            "launch_floor_us", "exit_us", "compute_us", "memory_us", "l2_us", "dram_us", "exiting_programs",
            "working_programs", "waves", "resident_per_sm", "program_ns", "delay_us", "tile_bytes", "dram_bytes", "bound",
        ]
        var estimates: [Double] = []
        for (entry, kind) in zip(routings, Strategy.allCases) {
            let estimate = s.gpuEstimate(kind)
            let us = try XCTUnwrap(entry["gpu_estimate_us"] as? Double, "\(kind)")
            XCTAssertEqual(us, estimate.totalUs, accuracy: estimate.totalUs * 1e-12, "the report prints the model's estimate (JSON keeps ~16 digits)")
            estimates.append(us)
            let b = try XCTUnwrap(entry["gpu_breakdown"] as? [String: Any], "\(kind)")
            XCTAssertEqual(Set(b.keys), breakdownKeys)
            XCTAssertEqual(b["bound"] as? String, estimate.bound.rawValue)
            XCTAssertEqual(entry["gpu_summary"] as? String, estimate.summary)
            // Sane values: positive terms that add up as the model says.
            let floor = b["launch_floor_us"] as! Double, exit = b["exit_us"] as! Double
            let compute = b["compute_us"] as! Double, memory = b["memory_us"] as! Double
            XCTAssertGreaterThan(floor, 0)
            XCTAssertEqual(memory, (b["l2_us"] as! Double) + (b["dram_us"] as! Double), accuracy: 1e-9)
            // docs/gpu-model.md: floor + norm4(longest + delay, exits + compute, memory).
            let longest = (b["program_ns"] as! Double) / 1000 + (b["delay_us"] as! Double)
            let body = pow(pow(longest, 4) + pow(exit + compute, 4) + pow(memory, 4), 0.25)
            XCTAssertEqual(us, floor + body, accuracy: 1e-9 * us)
            XCTAssertGreaterThanOrEqual(us - floor, max(longest, exit + compute, memory), "never less than the largest term")
            let plan = s.plan(kind)
            XCTAssertEqual(b["working_programs"] as? Int, plan.fateCounts.working)
            XCTAssertEqual((b["exiting_programs"] as! Int) + (b["working_programs"] as! Int), plan.launched)
            XCTAssertGreaterThanOrEqual(b["waves"] as! Int, 1)
            XCTAssertGreaterThan(b["resident_per_sm"] as! Double, 0)
            XCTAssertGreaterThan(b["program_ns"] as! Double, 0)
            XCTAssertGreaterThan(b["tile_bytes"] as! Int, 0)
            XCTAssertGreaterThan(b["dram_bytes"] as! Int, 0)
        }
        // Sorted launches 28,672 programs, of which 28,224 exit at once: on the GPU they cost.
        XCTAssertEqual(report.sorted.launched, 28672)
        XCTAssertEqual(report.sorted.gpuBreakdown.exitingPrograms, 28224)
        XCTAssertEqual(report.perSequence.gpuBreakdown.exitingPrograms, 0)
        XCTAssertGreaterThan(estimates[1], estimates[0])
        XCTAssertEqual(report.sorted.gpuBreakdown.bound, "exits")
        let speedup = try XCTUnwrap(object["gpu_speedup"] as? Double)
        XCTAssertEqual(speedup, estimates[0] / estimates[1], accuracy: 1e-12)
        XCTAssertLessThan(speedup, 1)
        // Codable reads the printed JSON back into the same report.
        XCTAssertEqual(try JSONDecoder().decode(RunReport.self, from: Data(report.json.utf8)), report)
    }

    func testSortingWinsOnTheGPUAtBS512() throws {
        let report = try sgemmBS512().report()
        XCTAssertEqual(report.perSequence.launched, 8192)
        XCTAssertEqual(report.sorted.fates[.full], 512)
        XCTAssertGreaterThan(try XCTUnwrap(report.gpuSpeedup), 2)
        XCTAssertLessThan(report.sorted.gpuEstimateUs, report.perSequence.gpuEstimateUs)
        XCTAssertLessThan(report.sorted.gpuBreakdown.waves, report.perSequence.gpuBreakdown.waves)
    }

    func testTheGPUKeysComeBeforeTheTimingsAndExistingKeysStay() throws {
        var s = try gateUpBS1()
        s.apply(run: fakeRun(of: s, perSequenceMs: 2, sortedMs: 2))
        let json = s.report().json
        XCTAssertTrue(json.hasPrefix("{\"kernel\":\"gate_up_lora_b\",\"dtype\":\"bf16\",\"mode\":\"decode\","), json)
        let order = ["\"routings\":", "\"gpu\":\"h200\",\"gpu_calibrated\":", "\"gpu_speedup\":", "\"gpu_headline\":",
                     "\"gpu_disagreement\":", "\"max_abs_diff_between_routings\":", "\"bitwise_equal\":", "\"speedup\":",
                     "\"threads\":"]
        let positions = try order.map { try XCTUnwrap(json.range(of: $0), $0).lowerBound }
        XCTAssertEqual(positions, positions.sorted(), json)
        let entryOrder = ["\"what_if\":false,\"gpu_estimate_us\":", "\"gpu_breakdown\":{\"launch_floor_us\":",
                          "\"gpu_summary\":", "\"time_ms\":"]
        let entry = try entryOrder.map { try XCTUnwrap(json.range(of: $0), $0).lowerBound }
        XCTAssertEqual(entry, entry.sorted(), json)
        let object = try object(s.report())
        for key in ["kernel", "dtype", "mode", "seed", "what_if", "batch", "routings",
                    "max_abs_diff_between_routings", "bitwise_equal", "speedup", "threads"] {
            XCTAssertNotNil(object[key], key)
        }
    }

    func testSwitchingToAnUncalibratedGPU() throws {
        var s = try gateUpBS1()
        let h200 = s.report()
        try s.execute("gpu l40s")
        let l40s = s.report()
        XCTAssertEqual(l40s.gpu, "l40s")
        XCTAssertFalse(l40s.gpuCalibrated)
        XCTAssertTrue(l40s.gpuHeadline.hasPrefix("L40S est. (uncalibrated) "), l40s.gpuHeadline)
        XCTAssertTrue(l40s.text.contains("(uncalibrated)"), l40s.text)
        XCTAssertEqual(l40s.value(at: "gpu"), .string("l40s"))
        XCTAssertEqual(l40s.value(at: "gpu_calibrated"), .bool(false))
        XCTAssertNotEqual(l40s.sorted.gpuEstimateUs, h200.sorted.gpuEstimateUs)
        // The plans do not change with the GPU.
        XCTAssertEqual(l40s.routings.map(\.launched), h200.routings.map(\.launched))
        XCTAssertEqual(h200.gpu, "h200")
        XCTAssertTrue(h200.gpuCalibrated)
        XCTAssertFalse(h200.gpuHeadline.contains("uncalibrated"), h200.gpuHeadline)
    }

    // MARK: expect

    func testExpectReachesTheGPUPaths() throws {
        var s = try gateUpBS1()
        func holds(_ line: String) throws -> Bool {
            guard case .expect(let e)? = try Command.parse(line) else { XCTFail(line); return false }
            return e.evaluate(in: s.report()).held
        }
        XCTAssertTrue(try holds("expect gpu == \"h200\""))
        XCTAssertTrue(try holds("expect gpu == h200"))
        XCTAssertFalse(try holds("expect gpu != h200"))
        XCTAssertTrue(try holds("expect gpu_calibrated == true"))
        XCTAssertTrue(try holds("expect gpu_speedup < 0.5"))
        XCTAssertFalse(try holds("expect gpu_speedup > 3"))
        XCTAssertTrue(try holds("expect sorted.gpu_breakdown.bound == \"exits\""))
        XCTAssertFalse(try holds("expect per-sequence.gpu_breakdown.bound == \"exits\""))
        XCTAssertTrue(try holds("expect sorted.gpu_breakdown.exiting_programs == 28224"))
        XCTAssertTrue(try holds("expect sorted.gpu_estimate_us > per-sequence.gpu_estimate_us"))
        XCTAssertTrue(try holds("expect sorted.gpu_breakdown.waves == per-sequence.gpu_breakdown.waves"))
        try s.execute("gpu l40s")
        XCTAssertTrue(try holds("expect gpu == \"l40s\""))
        XCTAssertTrue(try holds("expect gpu_calibrated == false"))
        // An uncalibrated profile has no held-out record: the failure says why.
        guard case .expect(let unscored)? = try Command.parse("expect gpu_direction_confidence > 0.5") else { return XCTFail() }
        XCTAssertEqual(unscored.evaluate(in: s.report()).message,
                       "expect gpu_direction_confidence > 0.5 failed: gpu_direction_confidence needs a profile scored on held-out measurements (h200); l40s has none")
        try s.execute("gpu h200")
        XCTAssertTrue(try holds("expect gpu_direction_confidence > 0.5"))
        try s.execute("gpu l40s")
        s = try sgemmBS512()
        XCTAssertTrue(try holds("expect gpu_speedup > 3"))
        XCTAssertFalse(try holds("expect gpu_speedup < 0.5"))

        // A failure names both values.
        guard case .expect(let e)? = try Command.parse("expect sorted.gpu_breakdown.bound == \"floor\"") else { return XCTFail() }
        let outcome = e.evaluate(in: s.report())
        XCTAssertFalse(outcome.held)
        XCTAssertEqual(outcome.message,
                       "expect sorted.gpu_breakdown.bound == \"floor\" failed: expected sorted.gpu_breakdown.bound == \"floor\", actual \(ReportValue.string(s.report().sorted.gpuBreakdown.bound))")
    }

    func testExpectOnGPUPathsChecksKinds() {
        func assertError(_ line: String, _ expected: String, file: StaticString = #filePath, line testLine: UInt = #line) {
            XCTAssertThrowsError(try Command.parse(line, file: "t.lora", line: 1), file: file, line: testLine) { error in
                XCTAssertEqual("\(error)", expected, file: file, line: testLine)
            }
        }
        assertError("expect gpu_speedup == \"fast\"", "t.lora:1:23: error: gpu_speedup holds a number, but \"fast\" is a string")
        assertError("expect gpu > 1", "t.lora:1:14: error: gpu holds a string, but 1 is a number")
        assertError("expect sorted.gpu_breakdown.bound < \"exits\"",
                    "t.lora:1:35: error: < compares numbers; sorted.gpu_breakdown.bound is a string: use == or !=")
        assertError("expect gpu_calibrated == 1", "t.lora:1:26: error: gpu_calibrated holds a boolean (true or false), but 1 is a number")
        XCTAssertThrowsError(try Command.parse("expect sorted.gpu_breakdown.bund == \"exits\"")) { error in
            XCTAssertTrue("\(error)".contains("did you mean 'sorted.gpu_breakdown.bound'?"), "\(error)")
        }
    }

    func testEveryBreakdownPathIsAKeyOfTheJSON() throws {
        let report = try gateUpBS1().report()
        let object = try object(report)
        let entry = (object["routings"] as! [[String: Any]])[1]
        let jsonKeys = Set((entry["gpu_breakdown"] as! [String: Any]).keys)
        let pathKeys = Set(ReportPath.all.map(\.path).filter { $0.hasPrefix("sorted.gpu_breakdown.") }
            .map { String($0.dropFirst("sorted.gpu_breakdown.".count)) })
        XCTAssertEqual(pathKeys, jsonKeys)
        let unchosen = Strategy.allCases.filter { !Strategy.defaults.contains($0) }.map { $0.name + "." }
        // gpu_measured_us and gpu_estimate_error need a `--gpu-results` file of the batch (GPUResultsTests).
        let measured = ["gpu_measured_us", "gpu_estimate_error"]
        // `layer.…` paths need the layer table shown (LayerReportTests).
        for path in ReportPath.all.map(\.path) where path.contains("gpu") && !unchosen.contains(where: path.hasPrefix)
            && !measured.contains(where: path.hasSuffix) && !path.hasPrefix("layer.") {
            XCTAssertNotNil(report.value(at: path), "\(path) needs no run")
        }
    }

    // MARK: The text report

    func testTextPrintsTheHeadlineAndEachRoutingsSummary() throws {
        let s = try gateUpBS1()
        let report = s.report()
        let text = report.text
        let comparison = s.gpu.compare(perSequence: s.plan(.perSequence), sorted: s.plan(.sorted))
        XCTAssertTrue(comparison.headline.hasPrefix("H200 est. "), comparison.headline)
        XCTAssertTrue(text.contains("\n\(comparison.headline)\n"), text)
        XCTAssertTrue(text.contains("  per-sequence: \(comparison.perSequence.summary)\n"), text)
        XCTAssertTrue(text.contains("  sorted:       \(comparison.sorted.summary)\n"), text)
        XCTAssertTrue(text.contains("(no timings: run to measure both routings)"), "the estimate needs no run")
    }

    func testTextPrintsTheDisagreementAfterARun() throws {
        var s = try gateUpBS1()
        let comparison = s.gpu.compare(perSequence: s.plan(.perSequence), sorted: s.plan(.sorted))
        // The CPU at 1× (exits are free there) against an estimate well below 1×.
        s.apply(run: fakeRun(of: s, perSequenceMs: 2, sortedMs: 2))
        let line = try XCTUnwrap(comparison.disagreement(cpuSpeedup: 1))
        XCTAssertTrue(line.hasPrefix("CPU 1.00×, H200 est. "), line)
        let report = s.report()
        XCTAssertEqual(report.gpuDisagreement, line)
        XCTAssertTrue(report.text.contains("speedup (per-sequence ÷ sorted median): 1.00×\n\(line)\n"), report.text)
        XCTAssertEqual(try object(report)["gpu_disagreement"] as? String, line)
        XCTAssertEqual(try JSONDecoder().decode(RunReport.self, from: Data(report.json.utf8)), report)
        // A CPU that agrees in direction: no line.
        s.apply(run: fakeRun(of: s, perSequenceMs: 1, sortedMs: 4))
        XCTAssertNil(comparison.disagreement(cpuSpeedup: 0.25))
        XCTAssertNil(s.report().gpuDisagreement)
        XCTAssertFalse(s.report().text.contains("CPU 0.25×"), s.report().text)
    }
}
