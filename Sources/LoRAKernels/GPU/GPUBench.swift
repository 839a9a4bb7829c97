import Foundation

/// What identifies a batch for `gpu-bench` results: a results file measured
/// on one batch is refused for any other (`lora-viz run --gpu-results`).
public struct GPUBenchFingerprint: Codable, Hashable, Sendable {
    public var kernel: String
    public var stack: Int
    public var dtype: String
    public var mode: String
    public var dims: [String: Int]
    public var slots: Int
    public var ranks: [Int]
    public var scalings: [Float]
    public var sequenceSlots: [Int]
    public var sequenceLengths: [Int]
    public var seed: UInt64
    /// `chunk`, `graph_segments` (0: the batch's sequences), `specialize` (0/1).
    public var options: [String: Int]

    public init(_ workload: Workload, options: StrategyOptions) {
        let b = workload.batch
        kernel = workload.kernel.name
        stack = workload.kernel.isShrink ? workload.kernel.stack : workload.kernel.sliceCount
        dtype = workload.dtype.rawValue
        mode = b.mode.rawValue
        let d = workload.launchDims
        dims = ["hidden": d.hidden, "out": d.out, "q": d.q, "kv": d.kv, "ffn": d.ffn, "max_rank": d.maxRank]
        slots = b.slotCount
        ranks = b.slotRanks
        scalings = b.slotScalings
        sequenceSlots = b.weightIndices
        sequenceLengths = b.sequenceLengths
        seed = workload.seed
        self.options = ["chunk": options.chunk, "graph_segments": options.graphSegments ?? 0,
                        "specialize": options.specializeActiveLoRAs ? 1 : 0]
    }

    enum CodingKeys: String, CodingKey {
        case kernel, stack, dtype, mode, dims, slots, ranks, scalings, seed, options
        case sequenceSlots = "sequence_slots", sequenceLengths = "sequence_lengths"
    }

    /// The first field where `other` (the batch being reported) differs, said
    /// as "FIELD: RESULTS in the results file, BATCH here"; nil when equal.
    public func difference(from other: GPUBenchFingerprint) -> String? {
        func show<T>(_ v: T) -> String {
            let s = "\(v)"
            return s.count > 60 ? String(s.prefix(57)) + "…" : s
        }
        func dict(_ d: [String: Int]) -> String { d.keys.sorted().map { "\($0)=\(d[$0]!)" }.joined(separator: " ") }
        let fields: [(String, String, String, Bool)] = [
            ("kernel", kernel, other.kernel, kernel == other.kernel),
            ("stack", "\(stack)", "\(other.stack)", stack == other.stack),
            ("dtype", dtype, other.dtype, dtype == other.dtype),
            ("mode", mode, other.mode, mode == other.mode),
            ("dims", dict(dims), dict(other.dims), dims == other.dims),
            ("slots", "\(slots)", "\(other.slots)", slots == other.slots),
            ("ranks", show(ranks), show(other.ranks), ranks == other.ranks),
            ("scalings", show(scalings), show(other.scalings), scalings == other.scalings),
            ("sequences", "\(sequenceSlots.count)", "\(other.sequenceSlots.count)", sequenceSlots.count == other.sequenceSlots.count),
            ("sequence_slots", show(sequenceSlots), show(other.sequenceSlots), sequenceSlots == other.sequenceSlots),
            ("sequence_lengths", show(sequenceLengths), show(other.sequenceLengths), sequenceLengths == other.sequenceLengths),
            ("seed", "\(seed)", "\(other.seed)", seed == other.seed),
            ("strategy options", dict(options), dict(other.options), options == other.options),
        ]
        guard let bad = fields.first(where: { !$0.3 }) else { return nil }
        return "\(bad.0) is \(bad.1) in the results file but \(bad.2) in this batch"
    }
}

/// `lora-viz gpu-bench`: the folder a GPU machine needs to run one batch on
/// the real kernels (the `--dump` files, `batch.json`, the script).
public enum GPUBenchExport {
    /// The script's file name in the exported folder.
    public static let scriptName = "lora_viz_gpu_bench.py"
    /// The results file the script writes by default.
    public static let resultsName = "gpu-results.json"

    /// Writes the run's dump, `batch.json` (the fingerprint, and per strategy
    /// the routing lora-viz planned and the CPU output to compare with) and
    /// the script into `directory`. The run must have kept its tensors.
    public static func write(_ result: KernelRunResult, to directory: String) throws {
        try result.writeDump(to: directory)
        try writeBatch(result.workload, options: result.strategyOptions,
                       strategies: result.routings.map { ($0.routing, $0.time.median) }, to: directory)
    }

    /// A timing-only case of `gpu-bench --sweep`: `batch.json` (with the
    /// tensors' shapes, from which the script makes seeded inputs) and the
    /// script, no `.npy` files and no CPU outputs to compare with.
    public static func writeTimingOnly(_ workload: Workload, options: StrategyOptions, strategies: [Strategy],
                                       to directory: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw DumpError(message: "cannot create \(directory): \(FileWriteError.reason(error))")
        }
        try writeBatch(workload, options: options, strategies: strategies.map { ($0, nil) }, to: directory)
    }

    /// `batch.json` and the script; `strategies` with the CPU's median ms when it ran.
    static func writeBatch(_ w: Workload, options: StrategyOptions, strategies: [(Strategy, Double?)],
                           to directory: String) throws {
        let fp = GPUBenchFingerprint(w, options: options)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        var root: [String: Any] = [:]
        let fpObject = try JSONSerialization.jsonObject(with: encoder.encode(fp)) as! [String: Any]
        for (k, v) in fpObject { root[k] = v }
        root["fingerprint"] = fpObject
        let slices = w.kernel.outputSlices(w.launchDims)
        root["output_column_offsets"] = slices.map(\.lowerBound) + [slices.last?.upperBound ?? 0]
        root["options"] = ["chunk": options.chunk,
                           "graph_segments": options.graphSegments.map { $0 as Any } ?? NSNull(),
                           "specialize": options.specializeActiveLoRAs]
        // The canonical tensors' shapes (the dump's), for a script that makes its own inputs.
        root["shapes"] = ["x": [w.batch.totalTokens, w.inputWidth], "weights": [w.batch.slotCount, w.weightRows, w.weightColumns],
                          "base": [w.batch.totalTokens, w.outputWidth]]
        root["strategies"] = strategies.map { strategy, cpuMs -> [String: Any] in
            let r = LaunchPlan(workload: w, strategy: strategy, options: options).routing
            return [
                "name": strategy.rawValue,
                "cpu_output": cpuMs == nil ? NSNull() : "output_\(strategy.rawValue.replacingOccurrences(of: "-", with: "_")).npy",
                "cpu_median_ms": cpuMs.map { $0 as Any } ?? NSNull(),
                "routing": [
                    "seg_lens": r.segmentLengths, "seg_indptr": r.segmentStarts, "weight_indices": r.weightIndices,
                    "permutation": r.permutation.map { $0 as Any } ?? NSNull(), "max_len": r.maxLength,
                ] as [String: Any],
            ]
        }
        root["generator"] = "lora-viz gpu-bench"
        let data = try JSONSerialization.data(withJSONObject: root, options: [.prettyPrinted, .sortedKeys])
        let path = (directory as NSString).appendingPathComponent("batch.json")
        do {
            try AtomicFile.write(data + Data("\n".utf8), to: path, force: true)
        } catch {
            throw DumpError(message: "cannot write \(path): \(error)")
        }
        try writeScript(to: directory)
    }

    /// The script, executable, into `directory`.
    public static func writeScript(to directory: String) throws {
        let script = (directory as NSString).appendingPathComponent(scriptName)
        do {
            try AtomicFile.write(GPUBenchScript.text.utf8, to: script, force: true, mode: 0o777)
        } catch {
            throw DumpError(message: "cannot write \(script): \(error)")
        }
    }
}

/// A results file of the exported script (`lora-viz gpu results v1`).
public struct GPUBenchResults: Hashable, Sendable {
    /// One strategy's line: its measured µs, or why there is none.
    public struct Entry: Hashable, Sendable {
        public var strategy: String
        public var measuredUs: Double?
        public var medianUs: Double?
        public var minUs: Double?
        /// "bit-identical", "within 1 ulp", "differ by up to N ulp".
        public var outputs: String?
        public var maxUlp: Int?
        public var routingEqual: Bool?
        /// Why it was not measured (skipped, an error).
        public var note: String?
    }

    public static let schema = "lora-viz gpu results v1"

    public var path: String
    public var gpu: String
    public var sms: Int
    public var torch: String
    public var triton: String
    public var method: String
    public var fingerprint: GPUBenchFingerprint
    public var entries: [Entry]

    public func entry(_ strategy: Strategy) -> Entry? { entries.first { $0.strategy == strategy.rawValue } }

    /// Reads and checks a results file; every failure names the file and why.
    public static func load(path: String) throws -> GPUBenchResults {
        do {
            return try parse(RegularFile.read(path, limit: RegularFile.jsonLimit, what: "a results file"), path: path)
        } catch let error as FileReadError {
            throw GPUBenchError(message: "\(path): \(error.reason)")
        }
    }

    public static func parse(_ data: Data, path: String) throws -> GPUBenchResults {
        func fail(_ why: String) -> GPUBenchError { GPUBenchError(message: "\(path): \(why)") }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data)
        } catch {
            let text = String(decoding: data, as: UTF8.self)
            if text.contains("NaN") || text.contains("Infinity") {
                throw fail("not valid JSON: it holds NaN or Infinity (a time the GPU did not measure)")
            }
            throw fail("not valid JSON (truncated or not a results file): \(data.count) bytes")
        }
        guard let root = object as? [String: Any] else { throw fail("not a JSON object") }
        guard let schema = root["schema"] as? String else {
            throw fail("no \"schema\": not a `lora-viz gpu-bench` results file (gpu/results/*.jsonl are calibration records: gpu-fit reads those)")
        }
        guard schema == Self.schema else { throw fail("schema is \"\(schema)\", expected \"\(Self.schema)\"") }
        if let mode = root["mode"] as? String, mode != "gpu" {
            throw fail("made in \(mode): it holds no GPU times")
        }
        guard let gpu = root["gpu"] as? String else { throw fail("no \"gpu\" name") }
        guard let sms = root["sms"] as? Int, sms > 0 else { throw fail("no SM count (\"sms\")") }
        guard let fpObject = root["fingerprint"] else { throw fail("no \"fingerprint\" of the batch") }
        let fingerprint: GPUBenchFingerprint
        do {
            fingerprint = try JSONDecoder().decode(GPUBenchFingerprint.self,
                                                   from: JSONSerialization.data(withJSONObject: fpObject))
        } catch {
            throw fail("\"fingerprint\" is not a batch fingerprint: \(error)")
        }
        guard let list = root["strategies"] as? [[String: Any]], !list.isEmpty else { throw fail("no \"strategies\"") }
        var entries: [Entry] = []
        for (i, s) in list.enumerated() {
            guard let name = s["strategy"] as? String else { throw fail("strategies[\(i)] has no \"strategy\"") }
            guard Strategy(name: name) != nil else { throw fail("strategies[\(i)]: unknown strategy \"\(name)\"") }
            var e = Entry(strategy: name)
            if let v = s["measured_us"] {
                guard let d = v as? Double, d.isFinite, d > 0 else {
                    throw fail("strategies[\(i)] (\(name)): measured_us is \(v), not a positive time")
                }
                e.measuredUs = d
            }
            e.medianUs = s["median_us"] as? Double
            e.minUs = s["min_us"] as? Double
            e.outputs = s["outputs"] as? String
            e.maxUlp = (s["comparison"] as? [String: Any])?["max_ulp"] as? Int
            e.routingEqual = s["routing_equal"] as? Bool
            e.note = (s["skipped"] as? String) ?? (s["error"] as? String)
            if e.measuredUs == nil && e.note == nil { e.note = "no measured_us" }
            entries.append(e)
        }
        guard entries.contains(where: { $0.measuredUs != nil }) else { throw fail("no strategy has a measured time") }
        return GPUBenchResults(path: path, gpu: gpu, sms: sms, torch: root["torch"] as? String ?? "?",
                               triton: root["triton"] as? String ?? "?", method: root["method"] as? String ?? "?",
                               fingerprint: fingerprint, entries: entries)
    }

    /// Refuses the results for a batch they were not measured on.
    public func check(matches workload: Workload, options: StrategyOptions) throws {
        if let why = fingerprint.difference(from: GPUBenchFingerprint(workload, options: options)) {
            throw GPUBenchError(message: "\(path): measured on another batch: \(why)")
        }
    }
}

/// A bad results file or export.
public struct GPUBenchError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}
