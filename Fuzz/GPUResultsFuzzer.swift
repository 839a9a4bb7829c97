// The GPU results file target: see Fuzz/README.md.
import Foundation
import LoRAKernels
@testable import LoRAScenario

/// One input read as each of the three GPU files lora-viz reads: a
/// `gpu-bench` results file (`run --gpu-results`), JSON lines of
/// `gpu/measure_*.py` (`gpu-fit`, `gpu-check`) and a `calibrate` profile
/// (`gpu PATH`). Each is refused with an error naming the file (and, for
/// JSON lines, a line that exists), or gives values the rest of lora-viz can
/// use: a results file has a strategy with a positive finite time and
/// attaches to a session whose report's JSON parses; every measured record
/// has positive finite times and is priced as `gpu-fit` prices it (launch
/// plans of its batch); a profile's costs are positive and finite and it
/// estimates a launch.
func fuzzGPUResults(_ data: Data) {
    let path = "fuzz/gpu-results.json"
    do {
        let r = try GPUBenchResults.parse(data, path: path)
        guard r.entries.contains(where: { ($0.measuredUs ?? 0) > 0 && $0.measuredUs!.isFinite }) else {
            violated("results without a positive measured time")
        }
        if r.sms <= 0 { violated("\(r.sms) SMs") }
        var session = Session()
        session.gpuResults = [r]
        let json = session.report().json
        if (try? JSONSerialization.jsonObject(with: Data(json.utf8))) == nil { violated("the report's JSON does not parse") }
    } catch let e as GPUBenchError {
        if !e.message.hasPrefix(path + ": ") { violated("an error without the file: \(e)") }
    } catch {
        violated("GPUBenchResults.parse threw \(type(of: error)): \(error)")
    }

    let text = String(decoding: data, as: UTF8.self)
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).count
    func checkLocated(_ error: Error, _ what: String) {
        guard let e = error as? GPUMeasurementError else { violated("\(what) threw \(type(of: error)): \(error)") }
        let parts = e.location.split(separator: ":")
        guard e.location.hasPrefix("fuzz.jsonl:"), parts.count == 2, let line = Int(parts[1]), (1...lines).contains(line) else {
            violated("\(what): an error not at a line of the file: \(e)")
        }
    }
    do {
        for m in try GPUMeasurement.parse(jsonl: text, source: "fuzz.jsonl", defaultSplit: .calib) {
            let times = [m.perSequenceUs, m.sortedUs] + (m.tightUs.map { [$0] } ?? [])
            if !times.allSatisfy({ $0.isFinite && $0 > 0 }) { violated("a record with times \(times)") }
            let c = GPUCalibration.Case(m)
            _ = GPUCalibration.estimatedSpeedup(.defaultProfile, c)
        }
    } catch {
        checkLocated(error, "GPUMeasurement.parse")
    }
    do {
        for m in try StrategyMeasurement.parse(jsonl: text, source: "fuzz.jsonl", defaultSplit: .calib) {
            if !m.times.values.allSatisfy({ $0.isFinite && $0 > 0 }) { violated("strategy times \(m.times)") }
            _ = GPUCalibration.samples(m, sortedUs: 10)
        }
    } catch {
        checkLocated(error, "StrategyMeasurement.parse")
    }

    let profilePath = modelScratch + "/profile.json"
    guard FileManager.default.createFile(atPath: profilePath, contents: data) else { violated("cannot write \(profilePath)") }
    do {
        let p = try GPUProfile.load(path: profilePath)
        _ = p.estimate(LaunchPlan(workload: Workload(), strategy: .sorted, options: StrategyOptions()))
    } catch let e as GPUBenchError {
        if !e.message.contains(profilePath) { violated("a profile error without the file: \(e)") }
    } catch {
        violated("GPUProfile.load threw \(type(of: error)): \(error)")
    }
}
