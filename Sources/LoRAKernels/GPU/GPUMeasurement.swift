import Foundation

/// One batch timed on a real GPU: the launch and the measured time of each
/// routing, as a line of a results file (`gpu/results/*.jsonl`, the format
/// `gpu/measure_sglang.py` writes and the shipped H200 data uses).
///
/// Times are `g20_*`: µs per call from a CUDA graph of 20 back-to-back calls.
public struct GPUMeasurement: Hashable, Sendable {
    /// Which part of the data the record belongs to: the fit may use `calib` only.
    public enum Split: String, Hashable, Sendable { case calib, holdout }

    public var id: String
    public var split: Split
    public var workload: Workload
    /// Measured µs per call: per-sequence, sorted, and (when timed) the tight grid.
    public var perSequenceUs: Double
    public var sortedUs: Double
    public var tightUs: Double?

    /// Measured per-sequence ÷ sorted.
    public var speedup: Double { perSequenceUs / sortedUs }

    /// Parses the case lines of a results file; other lines (`schema`, `meta`,
    /// `route`, errors) are skipped. `defaultSplit` applies to records with no `set`.
    ///
    /// - Throws: `GPUMeasurementError` naming the line and the field.
    public static func parse(jsonl text: String, source: String, defaultSplit: Split) throws -> [GPUMeasurement] {
        var records: [GPUMeasurement] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty else { continue }
            let where_ = "\(source):\(index + 1)"
            guard let object = try? JSONSerialization.jsonObject(with: Data(trimmed.utf8)) as? [String: Any] else {
                throw GPUMeasurementError(location: where_, reason: "not a JSON object")
            }
            if let type = object["type"] as? String, type != "case" { continue }
            if object["error"] != nil || object["kernel"] == nil { continue }
            // Lines of gpu/measure_strategies.py (csgmv, vLLM): `StrategyMeasurement` reads them.
            if object["g20_perseq"] == nil && StrategyMeasurement.keys.contains(where: { object[$0.key] != nil }) { continue }
            records.append(try record(object, location: where_, defaultSplit: defaultSplit))
        }
        return records
    }

    static func record(_ o: [String: Any], location: String, defaultSplit: Split) throws -> GPUMeasurement {
        func fail(_ why: String) -> GPUMeasurementError { GPUMeasurementError(location: location, reason: why) }
        func double(_ key: String) throws -> Double {
            guard let v = o[key] as? NSNumber, v.doubleValue > 0 else { throw fail("`\(key)` is missing or not a positive number") }
            return v.doubleValue
        }
        let (id, split, workload) = try header(o, location: location, defaultSplit: defaultSplit)
        return GPUMeasurement(
            id: id, split: split, workload: workload,
            perSequenceUs: try double("g20_perseq"), sortedUs: try double("g20_sorted"),
            tightUs: (o["g20_tight"] as? NSNumber)?.doubleValue)
    }

    /// The id, split and workload of a results line: the fields every measuring script writes.
    static func header(_ o: [String: Any], location: String, defaultSplit: Split) throws -> (String, Split, Workload) {
        func fail(_ why: String) -> GPUMeasurementError { GPUMeasurementError(location: location, reason: why) }
        func int(_ key: String, in d: [String: Any]) throws -> Int {
            guard let v = d[key] as? NSNumber else { throw fail("`\(key)` is missing or not a number") }
            return v.intValue
        }
        func ints(_ key: String) throws -> [Int] {
            guard let v = o[key] as? [NSNumber] else { throw fail("`\(key)` is missing or not a list of numbers") }
            return v.map(\.intValue)
        }
        guard let name = o["kernel"] as? String else { throw fail("`kernel` is not a string") }
        let stack = (o["stack"] as? NSNumber)?.intValue ?? 1
        guard let kernel = Kernel(name: name, stack: max(1, stack)) else { throw fail("unknown kernel `\(name)`") }
        guard let d = o["dims"] as? [String: Any] else { throw fail("`dims` is missing") }
        let hidden = try int("hidden", in: d)
        let R = try int("R", in: o)
        // The shipped H200 data has no `out`: there `hidden` is sgemm_lora_b's N too.
        let dims = ModelDims(hidden: hidden, out: (d["out"] as? NSNumber)?.intValue ?? hidden,
                             q: try int("q", in: d), kv: try int("kv", in: d), ffn: try int("ffn", in: d), maxRank: R)
        let mlpb = try int("mlpb", in: o)
        let ranks = try ints("ranks")
        guard ranks.count == mlpb else { throw fail("`ranks` has \(ranks.count) entries for \(mlpb) slots") }
        let scalings = (o["scalings"] as? [NSNumber])?.map(\.floatValue) ?? ranks.map { _ in 1 }
        let wi = try ints("wi")
        if let bad = wi.first(where: { !(0..<mlpb).contains($0) }) {
            throw fail("`wi` names slot \(bad), outside 0..<\(mlpb)")
        }
        let mode: Mode = (o["mode"] as? String) == "extend" ? .extend : .decode
        let lengths = mode == .extend ? try ints("seqlens") : wi.map { _ in 1 }
        guard lengths.count == wi.count else { throw fail("`seqlens` and `wi` differ in length") }
        // One adapter per loaded slot, and a rank-0 one per base-model slot in use.
        let used = Set(wi)
        let adapters = (0..<mlpb).filter { ranks[$0] > 0 || used.contains($0) }.map {
            Adapter(name: "s\($0)", rank: ranks[$0], scaling: $0 < scalings.count ? scalings[$0] : 1, slot: $0)
        }
        let sequences = zip(wi, lengths).map { BatchSequence(adapter: "s\($0.0)", tokens: $0.1) }
        let batch = Batch(slotCount: mlpb, adapters: adapters, sequences: sequences, mode: mode)
        let id = (o["id"] as? NSNumber).map { "\($0)" } ?? location
        let split = (o["set"] as? String).flatMap(Split.init(rawValue:)) ?? defaultSplit
        return (id, split, Workload(batch: batch, dims: dims, dtype: .bf16, kernel: kernel))
    }
}

/// One batch timed on a real GPU under SGLang's csgmv and vLLM's kernels (a
/// line of `gpu/measure_strategies.py`'s output, same case fields and method
/// as `GPUMeasurement`).
public struct StrategyMeasurement: Hashable, Sendable {
    public var id: String
    public var split: GPUMeasurement.Split
    public var workload: Workload
    /// Measured µs per call of each strategy timed.
    public var times: [Strategy: Double]

    /// The time keys, with the output check that must hold for a time to count.
    static let keys: [(key: String, strategy: Strategy, check: String)] = [
        ("g20_csgmv", .csgmv, "maxdiff_csgmv"), ("g20_csgmv_graph", .csgmvGraph, "maxdiff_csgmv_graph"),
        ("g20_vllm", .vllm, "maxdiff_vllm"),
    ]

    /// A launch whose output is further than this from the float32 reference
    /// did not compute the batch (outputs are O(1); bf16 rounding gives < 0.04
    /// in gpu/results/h200-strategies*.jsonl): its time is not counted.
    public static let outputTolerance = 0.1

    /// Parses the strategy lines of a results file; other lines are skipped.
    ///
    /// - Throws: `GPUMeasurementError` naming the line and the field.
    public static func parse(jsonl text: String, source: String, defaultSplit: GPUMeasurement.Split) throws -> [StrategyMeasurement] {
        var records: [StrategyMeasurement] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty else { continue }
            let location = "\(source):\(index + 1)"
            guard let o = try? JSONSerialization.jsonObject(with: Data(trimmed.utf8)) as? [String: Any] else {
                throw GPUMeasurementError(location: location, reason: "not a JSON object")
            }
            if let type = o["type"] as? String, type != "case" { continue }
            guard o["error"] == nil, o["kernel"] != nil, keys.contains(where: { o[$0.key] != nil }) else { continue }
            let (id, split, workload) = try GPUMeasurement.header(o, location: location, defaultSplit: defaultSplit)
            var times: [Strategy: Double] = [:]
            for k in keys {
                guard let v = o[k.key] else { continue }
                guard let us = (v as? NSNumber)?.doubleValue, us > 0 else {
                    throw GPUMeasurementError(location: location, reason: "`\(k.key)` is not a positive number")
                }
                if let d = (o[k.check] as? NSNumber)?.doubleValue, !(d <= outputTolerance) { continue }
                times[k.strategy] = us
            }
            records.append(StrategyMeasurement(id: id, split: split, workload: workload, times: times))
        }
        return records
    }
}

/// A results file line that cannot be read, with where and why.
public struct GPUMeasurementError: Error, CustomStringConvertible, Hashable, Sendable {
    public var location: String
    public var reason: String
    public var description: String { "\(location): \(reason)" }
}

extension GPUMeasurement {
    /// A results file whose cases repeat an earlier file's (the same `id` and
    /// batch): `h200-sweep-repeat.jsonl` times `h200-sweep.jsonl`'s 420 cases
    /// again, so scoring `gpu/results/*.jsonl` counts those cases twice.
    public struct Repeat: Hashable, Sendable {
        public var file: String
        public var earlierFile: String
        public var cases: Int
        /// The first repeated case's id.
        public var example: String
    }

    /// For each file after the first, the earlier files it repeats cases of, in order.
    public static func repeats(_ files: [(file: String, cases: [GPUMeasurement])]) -> [Repeat] {
        var found: [Repeat] = []
        for (i, later) in files.enumerated() {
            for earlier in files[..<i] {
                let known = Set(earlier.cases.map { RepeatKey(id: $0.id, workload: $0.workload) })
                let repeated = later.cases.filter { known.contains(RepeatKey(id: $0.id, workload: $0.workload)) }
                if let first = repeated.first {
                    found.append(Repeat(file: later.file, earlierFile: earlier.file, cases: repeated.count, example: first.id))
                }
            }
        }
        return found
    }

    private struct RepeatKey: Hashable {
        var id: String
        var workload: Workload
    }
}
