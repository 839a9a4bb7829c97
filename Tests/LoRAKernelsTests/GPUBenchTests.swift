import Foundation
@testable import LoRAKernels
import XCTest

/// `gpu-bench`'s export, its results files and `calibrate`, on the H200
/// fixtures of gpu/results/gpu-bench/ (gpu/RESULTS.md says how they were made).
final class GPUBenchTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("gpu/results/gpu-bench")
    static let fixtureNames = ["h200-gpu-estimate-bs1.json", "h200-decode-bs256-8ad-run-1.json",
                               "h200-decode-bs256-8ad-run-2.json", "h200-decode-bs256-8ad-run-3.json"]

    static func fixture(_ name: String) throws -> GPUBenchResults {
        try GPUBenchResults.load(path: fixtures.appendingPathComponent(name).path)
    }

    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("lora-viz-gpubench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    /// A small fp16 extend batch on all six strategies (the self-check's kind of batch).
    func smallWorkload() -> Workload {
        let batch = Batch(slotCount: 4, adapters: [Adapter(name: "a", rank: 16, scaling: 2, slot: 0),
                                                   Adapter(name: "b", rank: 8, slot: 1), Adapter(name: "z", rank: 0, slot: 2)],
                          sequences: [BatchSequence(adapter: "a", tokens: 5), BatchSequence(adapter: "b", tokens: 3),
                                      BatchSequence(adapter: "z", tokens: 2), BatchSequence(adapter: "a", tokens: 20)],
                          mode: .extend)
        return Workload(batch: batch, dims: ModelDims(hidden: 64, out: 48, q: 32, kv: 16, ffn: 40, maxRank: 16),
                        dtype: .fp16, kernel: .qkvLoRAB)
    }

    func testExportWritesTheBatchRoutingsAndAScriptThatCompiles() throws {
        let w = smallWorkload()
        let result = try KernelRunner.run(w, options: KernelRunOptions(reps: 1, threads: 1, keepTensors: true,
                                                                       strategies: Strategy.allCases))
        try GPUBenchExport.write(result, to: directory.path)
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        for name in ["batch.json", "manifest.json", "x.npy", "weights.npy", "base_output.npy", GPUBenchExport.scriptName,
                     "output_csgmv.npy", "output_csgmv_graph.npy", "output_vllm.npy"] {
            XCTAssertTrue(files.contains(name), name)
        }
        let batch = try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("batch.json"))) as! [String: Any]
        let fp = try JSONDecoder().decode(GPUBenchFingerprint.self,
                                          from: JSONSerialization.data(withJSONObject: batch["fingerprint"]!))
        XCTAssertEqual(fp, GPUBenchFingerprint(w, options: StrategyOptions()))
        let strategies = batch["strategies"] as! [[String: Any]]
        XCTAssertEqual(strategies.map { $0["name"] as! String }, Strategy.names)
        // The routing each strategy plans (csgmv-graph: padded to bs segments; vllm: slots + 1 groups).
        let graph = strategies[4]["routing"] as! [String: Any], vllm = strategies[5]["routing"] as! [String: Any]
        XCTAssertEqual((graph["seg_lens"] as! [Int]).count, 4)
        XCTAssertEqual((vllm["seg_lens"] as! [Int]).count, 5)
        XCTAssertEqual(try String(contentsOf: directory.appendingPathComponent(GPUBenchExport.scriptName), encoding: .utf8),
                       GPUBenchScript.text)

        // CI has no torch: compile the script when a python3 is there.
        let python = ["/usr/bin/python3", "/usr/local/bin/python3"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let python else { throw XCTSkip("no python3: the script was written but not compiled") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = ["-m", "py_compile", directory.appendingPathComponent(GPUBenchExport.scriptName).path]
        p.environment = ["PYTHONPYCACHEPREFIX": directory.appendingPathComponent("pycache").path]
        let err = Pipe()
        p.standardError = err
        try p.run()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
    }

    /// The script's own CPU mode under Triton's interpreter, opt-in (CI has no torch; ~6 s):
    /// LORA_VIZ_TORCH_PYTHON=/path/to/python-with-torch-triton-numpy, LORA_VIZ_SGLANG=wheel or folder,
    /// LORA_VIZ_VLLM_OPS=folder (optional).
    func testScriptSelfCheckUnderTheTritonInterpreter() throws {
        let env = ProcessInfo.processInfo.environment
        guard let python = env["LORA_VIZ_TORCH_PYTHON"], let sglang = env["LORA_VIZ_SGLANG"] else {
            throw XCTSkip("set LORA_VIZ_TORCH_PYTHON and LORA_VIZ_SGLANG to run the script's --self-check")
        }
        let result = try KernelRunner.run(smallWorkload(), options: KernelRunOptions(reps: 1, threads: 1, keepTensors: true,
                                                                                     strategies: Strategy.allCases))
        try GPUBenchExport.write(result, to: directory.path)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = [directory.appendingPathComponent(GPUBenchExport.scriptName).path, "--self-check", "--sglang", sglang,
                       "--vllm-ops", env["LORA_VIZ_VLLM_OPS"] ?? "-"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, text)
        for s in Strategy.allCases where s != .vllm || env["LORA_VIZ_VLLM_OPS"] != nil {
            XCTAssertTrue(text.contains(s.name.padding(toLength: 13, withPad: " ", startingAt: 0) + " routing equal  outputs bit-identical"), text)
        }
    }

    func testFixturesLoadWithEveryStrategyMeasuredAndRebuildTheirBatch() throws {
        for name in Self.fixtureNames {
            let r = try Self.fixture(name)
            XCTAssertEqual(r.gpu, "NVIDIA H200")
            XCTAssertEqual(r.sms, 132)
            XCTAssertEqual(r.entries.map(\.strategy), Strategy.names, name)
            XCTAssertTrue(r.entries.allSatisfy { ($0.measuredUs ?? 0) > 0 && $0.routingEqual == true }, name)
            let (w, options) = try r.fingerprint.workload()
            XCTAssertEqual(GPUBenchFingerprint(w, options: options), r.fingerprint, name)
            XCTAssertNoThrow(try r.check(matches: w, options: options))
        }
        let bs1 = try Self.fixture(Self.fixtureNames[0])
        XCTAssertEqual(bs1.entry(.perSequence)?.measuredUs ?? 0, 3.25, accuracy: 0.01)
        XCTAssertEqual(bs1.entry(.sorted)?.measuredUs ?? 0, 18.46, accuracy: 0.01)
        XCTAssertEqual(bs1.entry(.perSequence)?.outputs, "bit-identical")
    }

    func testAnotherBatchIsRefusedNamingTheField() throws {
        let bs1 = try Self.fixture(Self.fixtureNames[0])
        var (w, options) = try bs1.fingerprint.workload()
        w.seed = 7
        XCTAssertThrowsError(try bs1.check(matches: w, options: options)) { e in
            XCTAssertTrue("\(e)".contains("measured on another batch: seed is 42 in the results file but 7 in this batch"), "\(e)")
        }
        w.seed = 42
        w.kernel = .sgemmLoRAB
        XCTAssertThrowsError(try bs1.check(matches: w, options: options)) { e in
            XCTAssertTrue("\(e)".contains("kernel is gate_up_lora_b in the results file but sgemm_lora_b"), "\(e)")
        }
        w.kernel = .gateUpLoRAB
        options.chunk = 32
        XCTAssertThrowsError(try bs1.check(matches: w, options: options)) { e in
            XCTAssertTrue("\(e)".contains("strategy options"), "\(e)")
        }
    }

    func testBadResultsFilesGetClearErrors() throws {
        let good = try Data(contentsOf: Self.fixtures.appendingPathComponent(Self.fixtureNames[0]))
        let text = String(decoding: good, as: UTF8.self)
        func error(_ data: Data) -> String {
            do {
                _ = try GPUBenchResults.parse(data, path: "r.json")
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        XCTAssertTrue(error(good.prefix(good.count / 2)).hasPrefix("r.json: not valid JSON (truncated"), error(good.prefix(good.count / 2)))
        let nan = text.replacingOccurrences(of: #""measured_us": 3.2"#, with: #""measured_us": NaN, "x": 3.2"#)
        XCTAssertNotEqual(nan, text)
        XCTAssertTrue(error(Data(nan.utf8)).contains("NaN"), error(Data(nan.utf8)))
        let negative = text.replacingOccurrences(of: #""measured_us": 3.2"#, with: #""measured_us": -3.2"#)
        XCTAssertTrue(error(Data(negative.utf8)).contains("measured_us is -3.2"), error(Data(negative.utf8)))
        let schema = text.replacingOccurrences(of: "lora-viz gpu results v1", with: "lora-viz gpu results v9")
        XCTAssertTrue(error(Data(schema.utf8)).contains(#"schema is "lora-viz gpu results v9""#), error(Data(schema.utf8)))
        let jsonl = #"{"type": "meta", "gpu": "NVIDIA H200"}"#
        XCTAssertTrue(error(Data(jsonl.utf8)).contains("calibration records"), error(Data(jsonl.utf8)))
        let selfCheck = text.replacingOccurrences(of: #""mode": "gpu""#, with: #""mode": "self-check (Triton interpreter, CPU, untimed)""#)
        XCTAssertTrue(error(Data(selfCheck.utf8)).contains("holds no GPU times"), error(Data(selfCheck.utf8)))
    }

    func testCalibrationOnTheFixtureFitsAndWritesAProfileThatLoads() throws {
        let results = try Self.fixtureNames.map(Self.fixture)
        let points = try GPUBenchCalibration.points(results)
        XCTAssertEqual(points.count, 24)
        let split = GPUBenchCalibration.split(points)
        XCTAssertEqual(split.heldOut.count, 8)
        XCTAssertEqual(Set(split.heldOut.map(\.strategy)).count, 6, "every strategy is held out in some file")
        let base = GPUProfile.h200
        let fitted = GPUBenchCalibration.fit(base, to: points, evaluations: 400)
        let before = GPUBenchCalibration.Errors(base, points), after = GPUBenchCalibration.Errors(fitted, points)
        XCTAssertLessThan(after.median, before.median)
        XCTAssertEqual(after.within20, 24)

        let path = directory.appendingPathComponent("my-h200.json").path
        var named = fitted
        named.source = "test"
        try named.fileData().write(to: URL(fileURLWithPath: path))
        let loaded = try GPUProfile.load(path: path)
        XCTAssertEqual(loaded.name, path)
        XCTAssertTrue(loaded.calibrated)
        for p in points { XCTAssertEqual(p.estimate(loaded), p.estimate(fitted), accuracy: 1e-9 * p.estimate(fitted)) }
        XCTAssertThrowsError(try GPUProfile.load(path: Self.fixtures.appendingPathComponent(Self.fixtureNames[0]).path)) { e in
            XCTAssertTrue("\(e)".contains("is not a GPU profile file"), "\(e)")
        }
        // The shrink's unaligned variant keeps the base's ratio to the per-sequence costs.
        let shrink = try XCTUnwrap(loaded.programs["sgemm_lora_a"]), baseShrink = try XCTUnwrap(base.programs["sgemm_lora_a"])
        XCTAssertEqual(shrink.unalignedStepNs / shrink.stepNs, baseShrink.unalignedStepNs / baseShrink.stepNs, accuracy: 1e-9)
    }

    /// A profile written before the unaligned variant existed (no
    /// `unaligned_*` keys) still loads: that variant then costs what the
    /// per-sequence one does.
    func testProfileFilesWithoutTheUnalignedVariantStillLoad() throws {
        let path = directory.appendingPathComponent("old.json").path
        var object = try XCTUnwrap(JSONSerialization.jsonObject(with: GPUProfile.h200.fileData()) as? [String: Any])
        var programs = try XCTUnwrap(object["programs"] as? [String: [String: Any]])
        XCTAssertNotNil(programs["sgemm_lora_a"]?["unaligned_step_ns"], "written today")
        for key in programs.keys {
            programs[key]?["unaligned_start_ns"] = nil
            programs[key]?["unaligned_step_ns"] = nil
        }
        object["programs"] = programs
        XCTAssertEqual(object["exit_delay_per"] as? String, "pair")
        object["exit_delay_per"] = nil
        XCTAssertEqual(object["waves_variant"] as? String, "sorted")
        object["waves_variant"] = nil
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: path))
        let old = try GPUProfile.load(path: path)
        let shrink = try XCTUnwrap(old.programs["sgemm_lora_a"])
        XCTAssertEqual(shrink.unalignedStartNs, shrink.startNs)
        XCTAssertEqual(shrink.unalignedStepNs, shrink.stepNs)
        XCTAssertEqual(shrink.stepNs, GPUProfile.h200.programs["sgemm_lora_a"]!.stepNs)
        // Its exit delay keeps its old meaning: per exit ahead of the last working program.
        XCTAssertFalse(old.exitDelayCountsPairs)
        let batch = Batch(slotCount: 64, adapters: (0..<64).map { Adapter(name: "a\($0)", rank: 16, slot: $0) },
                          sequences: (0..<128).map { BatchSequence(adapter: "a\($0 % 64)") })
        let work = LaunchPlan(workload: Workload(batch: batch, dims: ModelDims(maxRank: 16), kernel: .sgemmLoRAA(stack: 1)),
                              routing: .sorted(batch)).gpuWork
        var byExits = work
        byExits.excessExitWorkPairs = work.excessExitsBeforeLastWork
        XCTAssertEqual(old.estimate(work, kernel: .sgemmLoRAA(stack: 1)).totalUs,
                       GPUProfile.h200.estimate(byExits, kernel: .sgemmLoRAA(stack: 1)).totalUs, accuracy: 1e-9)
        XCTAssertGreaterThan(work.excessExitWorkPairs, work.excessExitsBeforeLastWork)
        // Its waves keep each launch's own variant: a per-sequence launch of
        // 384 working programs is priced as before the waves took the sorted one.
        XCTAssertFalse(old.wavesUseSortedVariant)
        let perSequence = LaunchPlan(workload: Workload(batch: batch, dims: ModelDims(maxRank: 16), kernel: .sgemmLoRAA(stack: 3)),
                                     routing: .perSequence(batch)).gpuWork
        var ownWaves = GPUProfile.h200
        ownWaves.exitDelayCountsPairs = false
        ownWaves.wavesUseSortedVariant = false
        XCTAssertEqual(old.estimate(perSequence, kernel: .sgemmLoRAA(stack: 3)).computeUs,
                       ownWaves.estimate(perSequence, kernel: .sgemmLoRAA(stack: 3)).computeUs, accuracy: 1e-9)
        XCTAssertGreaterThan(old.estimate(perSequence, kernel: .sgemmLoRAA(stack: 3)).computeUs,
                             GPUProfile.h200.estimate(perSequence, kernel: .sgemmLoRAA(stack: 3)).computeUs)
    }

    /// A profile file whose `exit_delay_per` or `waves_variant` is neither of
    /// its two meanings is refused, naming the file, the key and the choices.
    func testProfileFilesWithAnUnknownModelKeyAreRefused() throws {
        for (key, value, choices) in [("exit_delay_per", "cell", "\"pair\" or \"exit\""), ("waves_variant", "fast", "\"sorted\" or \"own\"")] {
            let path = directory.appendingPathComponent("\(key).json").path
            var object = try XCTUnwrap(JSONSerialization.jsonObject(with: GPUProfile.h200.fileData()) as? [String: Any])
            object[key] = value
            try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: path))
            XCTAssertThrowsError(try GPUProfile.load(path: path)) { error in
                XCTAssertEqual("\(error)", "\(path): \(key) is \"\(value)\", expected \(choices)")
            }
        }
    }
}
