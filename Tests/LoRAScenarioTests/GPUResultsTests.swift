import Foundation
import LoRAKernels
@testable import LoRAScenario
import LoRAVizTestSupport
import XCTest

/// `lora-viz run --gpu-results`, `gpu-bench`, `calibrate` and `gpu PROFILE.json`, on the H200 fixtures.
final class GPUResultsTests: TemporaryDirectoryTestCase {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static func path(_ p: String) -> String { root.appendingPathComponent(p).path }
    static let bs1 = "gpu/bench/gpu-estimate-bs1.lora"
    static let bs1Results = "gpu/results/gpu-bench/h200-gpu-estimate-bs1.json"

    func save(_ name: String, _ text: String) throws {
        try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }

    /// `gpu-check --csv` writes one row per measured launch, whose work terms
    /// and program order add up to the launch, and whose estimate is the one
    /// the scores use.
    func testGPUCheckWritesEveryLaunchAsCSV() throws {
        // The first 40 cases of the sweep (a debug build enumerates every program of each launch).
        let sweep = try String(contentsOfFile: Self.path("gpu/results/h200-sweep.jsonl"), encoding: .utf8)
        try save("part.jsonl", sweep.split(separator: "\n").prefix(41).joined(separator: "\n") + "\n")
        let (status, out, err) = try LoRAVizBinary.run(["gpu-check", "part.jsonl", "--csv", "launches.csv"], in: directory)
        XCTAssertEqual(status, 0, err)
        XCTAssertTrue(out.contains("calibration: ") && out.contains("held-out: "), out)
        let text = try String(contentsOf: directory.appendingPathComponent("launches.csv"), encoding: .utf8)
        let lines = text.split(separator: "\n").map(String.init)
        let header = lines[0].split(separator: ",").map(String.init)
        XCTAssertEqual(header.first, "id")
        XCTAssertEqual(lines.count - 1, 40 * 3, "per-sequence, sorted and tight of each case")
        let column = Dictionary(uniqueKeysWithValues: header.enumerated().map { ($1, $0) })
        var routings = Set<String>()
        for line in lines.dropFirst() {
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            XCTAssertEqual(f.count, header.count, line)
            routings.insert(f[column["routing"]!])
            XCTAssertGreaterThan(Double(f[column["measured_us"]!]) ?? 0, 0, line)
            XCTAssertGreaterThan(Double(f[column["estimate_us"]!]) ?? 0, 0, line)
            // The run-length program order counts every program of the launch once.
            let launched = ["segment_exits", "excess_exits", "working"].map { Int(f[column[$0]!])! }.reduce(0, +)
            let order = f[column["order"]!]
            guard !order.isEmpty else { continue }
            let programs = order.split(separator: " ").map { Int($0.split(separator: "*")[1])! }.reduce(0, +)
            XCTAssertEqual(programs, launched, line)
            let working = order.split(separator: " ").filter { $0.hasPrefix("W") }.map { Int($0.split(separator: "*")[1])! }.reduce(0, +)
            XCTAssertEqual(working, Int(f[column["working"]!]), line)
        }
        XCTAssertEqual(routings, ["per-sequence", "sorted", "tight"])
    }

    func testTheReportShowsMeasuredTimesBesideTheEstimate() throws {
        let scenario = try Scenario.load(path: Self.path(Self.bs1))
        let results = try GPUBenchResults.load(path: Self.path(Self.bs1Results))
        XCTAssertNoThrow(try scenario.checkGPUResults([results]))
        var session = Session()
        session.gpuResults = [results]
        for step in scenario.steps { _ = try session.apply(step) }
        let report = session.report()
        let ps = try XCTUnwrap(report.entry(.perSequence)), sorted = try XCTUnwrap(report.entry(.sorted))
        XCTAssertEqual(ps.gpuMeasuredUs ?? 0, 3.25, accuracy: 0.01)
        XCTAssertEqual(sorted.gpuMeasuredUs ?? 0, 18.46, accuracy: 0.01)
        XCTAssertEqual(ps.gpuEstimateError ?? 0, ps.gpuEstimateUs / ps.gpuMeasuredUs! - 1, accuracy: 1e-12)
        XCTAssertTrue(report.json.contains(#""gpu_measured_us":3.2"#), report.json)
        XCTAssertTrue(report.json.contains(#""gpu_estimate_error":"#))
        XCTAssertTrue(report.text.contains("measured H200"), report.text)
        XCTAssertTrue(report.text.contains("est. error vs measured"))
        XCTAssertEqual(ReportPath.kind(of: "vllm.gpu_measured_us"), .number)
        // Another batch: nothing attached, nothing shown.
        _ = try session.apply(Scenario.parse("seed 7", file: "t").steps[0])
        XCTAssertNil(session.report().entry(.perSequence)?.gpuMeasuredUs)
        XCTAssertFalse(session.report().text.contains("measured H200"))
    }

    /// `gpu-results FILE` (the TUI's `:` prompt, or a command file): attached when
    /// measured on the batch on screen, refused with the differing field otherwise.
    func testGPUResultsCommandAttachesAFileOfThisBatch() throws {
        var session = try Session(replaying: Scenario.load(path: Self.path(Self.bs1)))
        let line = "gpu-results \(Self.path(Self.bs1Results))"
        let command = try XCTUnwrap(try Command.parse(line))
        XCTAssertEqual(command.description, line)
        try session.execute(line)
        XCTAssertEqual(session.report().entry(.sorted)?.gpuMeasuredUs ?? 0, 18.46, accuracy: 0.01)
        try session.execute(line)
        XCTAssertEqual(session.gpuResults.count, 1, "the same file twice is attached once")
        try session.execute("seed 7")
        XCTAssertThrowsError(try session.execute(line, file: "t.lora", line: 4)) {
            XCTAssertEqual("\($0)", "t.lora:4:13: error: \(Self.path(Self.bs1Results)) was measured on another batch: seed is 42 in the results file but 7 in this batch")
        }
        XCTAssertThrowsError(try Command.parse("gpu-results /nonexistent.json")) {
            XCTAssertTrue("\($0)".contains("/nonexistent.json"), "\($0)")
        }
    }

    func testResultsOfAnotherBatchAreRefusedAtTheRun() throws {
        let scenario = try Scenario.load(path: Self.path("gpu/bench/decode-bs256-8ad.lora"))
        let results = try GPUBenchResults.load(path: Self.path(Self.bs1Results))
        XCTAssertThrowsError(try scenario.checkGPUResults([results])) { e in
            let error = e as! ScenarioError
            XCTAssertEqual(error.location.line, 24)
            XCTAssertTrue(error.message.contains("measured on another batch than any of the 3 runs"), error.message)
            XCTAssertTrue(error.message.contains("kernel is gate_up_lora_b in the results file but sgemm_lora_a"), error.message)
        }
        let run2 = try GPUBenchResults.load(path: Self.path("gpu/results/gpu-bench/h200-decode-bs256-8ad-run-2.json"))
        XCTAssertNoThrow(try scenario.checkGPUResults([run2]))
    }

    func testGPUProfileFileCommandLoadsAndPrintsBack() throws {
        let results = try GPUBenchResults.load(path: Self.path(Self.bs1Results))
        let points = try GPUBenchCalibration.points([results])
        let fitted = GPUBenchCalibration.fit(.h200, to: points, evaluations: 200)
        let file = directory.appendingPathComponent("mine.json").path
        try fitted.fileData().write(to: URL(fileURLWithPath: file))
        let scenario = try Scenario.parse("gpu \(file)\n", file: "t")
        var session = Session()
        _ = try session.apply(scenario.steps[0])
        XCTAssertEqual(session.gpu.name, file)
        XCTAssertEqual(session.report().gpu, file)
        XCTAssertTrue(session.stateSource.contains("gpu \(file)"), session.stateSource)
        XCTAssertThrowsError(try Scenario.parse("gpu \(directory.path)/missing.json\n", file: "t")) { e in
            XCTAssertTrue("\(e)".contains("t:1:5: error: cannot read the GPU profile"), "\(e)")
        }
        XCTAssertThrowsError(try Scenario.parse("gpu h2000\n", file: "t")) { e in
            XCTAssertTrue("\(e)".contains("unknown GPU 'h2000'; did you mean 'h200'?"), "\(e)")
        }
    }

    func testCLIRunWithGPUResultsAndItsErrors() throws {
        let ok = try LoRAVizBinary.run(["run", Self.path(Self.bs1), "--format", "json", "--gpu-results", Self.path(Self.bs1Results),
                                   "--threads", "1"], in: directory)
        XCTAssertEqual(ok.status, 0, ok.err)
        XCTAssertTrue(ok.out.contains(#""gpu_measured_us":18.4"#), ok.out)
        let other = try LoRAVizBinary.run(["run", Self.path("gpu/bench/decode-bs256-8ad.lora"), "--gpu-results", Self.path(Self.bs1Results)],
                                     in: directory)
        XCTAssertEqual(other.status, 2)
        XCTAssertTrue(other.err.contains("decode-bs256-8ad.lora:24:1: error: --gpu-results"), other.err)
        XCTAssertEqual(other.out, "", "nothing ran")
        try save("bad.json", "{\"schema\": \"lora-viz gpu results v1\", \"gpu\": ")
        let bad = try LoRAVizBinary.run(["run", Self.path(Self.bs1), "--gpu-results", "bad.json"], in: directory)
        XCTAssertEqual(bad.status, 2)
        XCTAssertTrue(bad.err.contains("error: --gpu-results bad.json: not valid JSON (truncated"), bad.err)
    }

    /// `gpu-bench --sweep`: one timing-only case per point (batch.json with the
    /// tensors' shapes, no .npy), the script at the top; the H200 ran the
    /// three templates of gpu/bench/sweep (gpu/results/gpu-bench/sweep-h200).
    func testGPUBenchSweepExportsTimingOnlyCases() throws {
        try save("t.lora", "slots 2\ndims hidden=256 out=256 rank=16\nlaunch o expand\nadapter a rank=16\nstrategies per-sequence sorted csgmv\n")
        let r = try LoRAVizBinary.run(["gpu-bench", "t.lora", "--sweep", "--bs", "1,8", "--adapters", "1,4", "-o", "sw"], in: directory)
        XCTAssertEqual(r.status, 0, r.err)
        let cases = try FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("sw").path).sorted()
        XCTAssertEqual(cases, ["bs1-a1-r16", "bs1-a4-r16", "bs8-a1-r16", "bs8-a4-r16", GPUBenchExport.scriptName])
        let folder = directory.appendingPathComponent("sw/bs8-a4-r16")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted(), ["batch.json", GPUBenchExport.scriptName],
                       "no .npy files: the script makes seeded inputs of batch.json's shapes")
        let batch = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("batch.json"))) as! [String: Any]
        let shapes = batch["shapes"] as! [String: [Int]]
        XCTAssertEqual(shapes["x"], [8, 16])
        XCTAssertEqual(shapes["weights"], [4, 256, 16], "slots raised to the 4 adapters")
        XCTAssertEqual((batch["strategies"] as! [[String: Any]]).map { $0["name"] as! String }, ["per-sequence", "sorted", "csgmv"])
        XCTAssertTrue(r.out.contains("lora-viz calibrate sw/*/gpu-results.json"), r.out)
        let bad = try LoRAVizBinary.run(["gpu-bench", "t.lora", "--sweep", "--bs", "0"], in: directory)
        XCTAssertEqual(bad.status, 2)
        XCTAssertTrue(bad.err.contains("--bs"), bad.err)
    }

    /// Calibrating on a GPU's own sweep beats the base profile on the launches it did not see.
    func testCalibrationOnTheH200SweepImprovesHeldOutLaunchesAndSpeedups() throws {
        let root = Self.path("gpu/results/gpu-bench/sweep-h200")
        var files: [String] = []
        for t in try FileManager.default.contentsOfDirectory(atPath: root).sorted() where !t.hasSuffix(".log") {
            files += try FileManager.default.contentsOfDirectory(atPath: root + "/" + t).sorted().map { "\(root)/\(t)/\($0)" }
        }
        XCTAssertEqual(files.count, 45)
        let points = try GPUBenchCalibration.points(files.map { try GPUBenchResults.load(path: $0) })
        XCTAssertEqual(points.count, 270)
        var base = GPUProfile.h200
        base.calibrated = true
        let split = GPUBenchCalibration.split(points)
        let trained = GPUBenchCalibration.fit(base, to: split.train)
        let before = GPUBenchCalibration.Errors(base, split.heldOut), after = GPUBenchCalibration.Errors(trained, split.heldOut)
        XCTAssertLessThan(after.median, before.median)
        // 72 of 90 within 20 % both: the base, fitted on 1,442 cases, already has them (gpu/RESULTS.md).
        XCTAssertGreaterThanOrEqual(after.within20, before.within20)
        let sBefore = GPUBenchCalibration.SpeedupErrors(base, points, only: split.heldOut)
        let sAfter = GPUBenchCalibration.SpeedupErrors(trained, points, only: split.heldOut)
        XCTAssertGreaterThan(sAfter.within25, sBefore.within25)
        // (Directions: 88.1 % before, 90.4 % after, gpu/RESULTS.md.)
        XCTAssertEqual(sBefore.pairs, 135)
    }

    func testCLIGPUBenchAndCalibrate() throws {
        try save("b.lora", """
            slots 4
            dims hidden=64 out=48 q=32 kv=16 ffn=40 rank=16
            dtype fp16
            adapter a rank=16
            seq a count=3
            kernel sgemm_lora_b
            run reps=1
            """)
        let bench = try LoRAVizBinary.run(["gpu-bench", "b.lora", "-o", "out", "--strategies", "sorted,csgmv,vllm"], in: directory)
        XCTAssertEqual(bench.status, 0, bench.err)
        let batch = try String(contentsOf: directory.appendingPathComponent("out/batch.json"), encoding: .utf8)
        XCTAssertTrue(batch.contains(#""name" : "csgmv""#), batch)
        XCTAssertFalse(batch.contains(#""name" : "per-sequence""#))
        let bad = try LoRAVizBinary.run(["gpu-bench", "b.lora", "--strategies", "sorted,fast"], in: directory)
        XCTAssertEqual(bad.status, 2)
        XCTAssertTrue(bad.err.contains("unknown strategy 'fast'"), bad.err)

        let files = GPUBenchTestsFixtures.names.map { Self.path("gpu/results/gpu-bench/" + $0) }
        let cal = try LoRAVizBinary.run(["calibrate"] + files + ["-o", "p.json"], in: directory)
        XCTAssertEqual(cal.status, 0, cal.err)
        XCTAssertTrue(cal.out.contains("held out (a third of each file's launches, 8)"), cal.out)
        XCTAssertTrue(cal.out.contains("wrote p.json"), cal.out)
        try save("use.lora", "gpu p.json\nexpect gpu_calibrated == true\n")
        let use = try LoRAVizBinary.run(["run", "use.lora"], in: directory)
        XCTAssertEqual(use.status, 0, use.err)
        let again = try LoRAVizBinary.run(["calibrate", files[0], "-o", "p.json"], in: directory)
        XCTAssertEqual(again.status, 2)
        XCTAssertTrue(again.err.contains("p.json exists"), again.err)
    }
}

enum GPUBenchTestsFixtures {
    static let names = ["h200-gpu-estimate-bs1.json", "h200-decode-bs256-8ad-run-1.json",
                        "h200-decode-bs256-8ad-run-2.json", "h200-decode-bs256-8ad-run-3.json"]
}
