import Foundation

extension GPUBenchFingerprint {
    /// The batch again: one adapter per slot that has a rank, a scaling or a
    /// sequence (named `slotN`), the sequences in order. Its fingerprint is this one.
    public func workload() throws -> (workload: Workload, options: StrategyOptions) {
        func bad(_ why: String) -> GPUBenchError { GPUBenchError(message: "the fingerprint's \(why)") }
        guard let kernel = Kernel(name: kernel, stack: stack) else { throw bad("kernel \(self.kernel) is unknown") }
        guard let dtype = DType(rawValue: dtype) else { throw bad("dtype \(self.dtype) is unknown") }
        guard let mode = Mode(rawValue: mode) else { throw bad("mode \(self.mode) is unknown") }
        guard ranks.count == slots, scalings.count == slots, sequenceSlots.count == sequenceLengths.count,
              Batch.Limits.slots.contains(slots), sequenceSlots.allSatisfy({ (0..<slots).contains($0) }) else {
            throw bad("slots, ranks, scalings and sequences do not fit together")
        }
        let d = { (k: String) throws -> Int in
            guard let v = self.dims[k], v > 0 else { throw bad("dims lack \(k)") }
            return v
        }
        let dims = ModelDims(hidden: try d("hidden"), out: try d("out"), q: try d("q"), kv: try d("kv"),
                             ffn: try d("ffn"), maxRank: try d("max_rank"))
        let used = Set(sequenceSlots)
        let adapters = (0..<slots).filter { ranks[$0] > 0 || scalings[$0] != 0 || used.contains($0) }
            .map { Adapter(name: "slot\($0)", rank: ranks[$0], scaling: scalings[$0], slot: $0) }
        let sequences = zip(sequenceSlots, sequenceLengths).map { BatchSequence(adapter: "slot\($0)", tokens: $1) }
        let batch = Batch(slotCount: slots, adapters: adapters, sequences: sequences, mode: mode)
        let options = StrategyOptions(chunk: self.options["chunk"] ?? 16,
                                      graphSegments: (self.options["graph_segments"] ?? 0) > 0 ? self.options["graph_segments"] : nil,
                                      specializeActiveLoRAs: (self.options["specialize"] ?? 0) != 0)
        return (Workload(batch: batch, dims: dims, dtype: dtype, kernel: kernel, seed: seed), options)
    }
}

/// `lora-viz calibrate`: a profile fitted to a user's own `gpu-bench` results.
public enum GPUBenchCalibration {
    /// One measured launch: a strategy on one results file's batch.
    public struct Point: Hashable, Sendable {
        public var file: String
        public var strategy: Strategy
        public var kernel: Kernel
        public var work: GPUWork
        public var measuredUs: Double

        var costKey: String { GPUProfile.costKey(family: strategy.kernelFamily, kernel: kernel.name) }

        public func estimate(_ p: GPUProfile) -> Double {
            p.estimate(work, kernel: kernel, family: strategy.kernelFamily).totalUs
        }
    }

    /// Every measured strategy of every file, in file then strategy order.
    public static func points(_ results: [GPUBenchResults]) throws -> [Point] {
        var points: [Point] = []
        for r in results {
            let (workload, options) = try r.fingerprint.workload()
            for e in r.entries {
                guard let us = e.measuredUs, let s = Strategy(name: e.strategy) else { continue }
                let plan = LaunchPlan(workload: workload, strategy: s, options: options)
                guard plan.launched > 0 else { continue }  // nothing launched: nothing to price
                points.append(Point(file: r.path, strategy: s, kernel: workload.kernel, work: plan.gpuWork, measuredUs: us))
            }
        }
        return points
    }

    /// How far the prior (the base profile's values) holds each log-parameter:
    /// a residual `priorWeight · (log v − log v₀)` per parameter, so that costs
    /// the points do not determine stay at the base's values.
    public static let priorWeight = 0.3

    /// `base` with the launch floor and the program costs of every kernel the
    /// points measure fitted to them: Levenberg–Marquardt (`GPUCalibration`'s)
    /// over the log error of every launch, plus the prior above.
    public static func fit(_ base: GPUProfile, to points: [Point], evaluations: Int = 1500) -> GPUProfile {
        let keys = GPUProfile.costKeys.filter { k in points.contains { $0.costKey == k } }
        func vector(_ p: GPUProfile) -> [Double] {
            var v = [p.launchFloorUs]
            for k in keys {
                v += p.programs[k]!.fitParameters
            }
            return v.map { log(max($0, 1e-3)) }
        }
        func profile(_ x: [Double]) -> GPUProfile {
            let v = x.map { min(max(exp($0), 1e-3), 1e7) }
            var p = base
            // Refitted on other measurements: the held-out record no longer describes it.
            p.directionRecord = nil
            p.launchFloorUs = v[0]
            for (i, k) in keys.enumerated() {
                let o = 1 + GPUProfile.ProgramCost.fitCount * i
                var cost = GPUProfile.ProgramCost(fitParameters: v[o ..< o + GPUProfile.ProgramCost.fitCount])
                // The unaligned variant keeps the base's ratio to the per-sequence one:
                // a sweep rarely holds enough unaligned launches to fit it.
                let b = base.programs[k]!
                cost.unalignedStartNs = cost.startNs * b.unalignedStartNs / b.startNs
                cost.unalignedStepNs = cost.stepNs * b.unalignedStepNs / b.stepNs
                p.programs[k] = cost
            }
            return p
        }
        let x0 = vector(base)
        func residuals(_ x: [Double]) -> [Double] {
            let p = profile(x)
            return points.map { log($0.estimate(p) / $0.measuredUs) } + zip(x, x0).map { priorWeight * ($0 - $1) }
        }
        guard !points.isEmpty else { return base }
        return profile(GPUCalibration.descend(from: x0, evaluations: evaluations, residuals).0)
    }

    /// The fit's errors: |estimate ÷ measured − 1| over some points.
    public struct Errors: Hashable, Sendable, CustomStringConvertible {
        public var count: Int
        public var median: Double
        public var max: Double
        public var within20: Int

        public init(_ profile: GPUProfile, _ points: [Point]) {
            let e = points.map { abs($0.estimate(profile) / $0.measuredUs - 1) }.sorted()
            count = e.count
            median = e.isEmpty ? 0 : e.count % 2 == 1 ? e[e.count / 2] : (e[e.count / 2 - 1] + e[e.count / 2]) / 2
            max = e.last ?? 0
            within20 = e.filter { $0 <= 0.2 }.count
        }

        public var description: String {
            func pct(_ x: Double) -> String { String(format: "%.1f%%", x * 100) }
            return "\(count) launches: median error \(pct(median)), max \(pct(max)), \(within20) within 20%"
        }
    }

    /// How well a profile's estimates rank the strategies of one batch: for
    /// every file, each strategy's speedup over per-sequence (per-sequence's
    /// time ÷ its time), estimated against measured.
    public struct SpeedupErrors: Hashable, Sendable, CustomStringConvertible {
        public var pairs: Int
        /// Estimated within ±25 % of measured.
        public var within25: Int
        /// In the same `SpeedupDirection` (faster above 1.1×, slower below 0.9×, else even), as `gpu-check` counts it.
        public var sameDirection: Int

        /// - Parameter only: when given, only pairs with a launch in it (the held-out launches).
        public init(_ profile: GPUProfile, _ points: [Point], only: [Point]? = nil) {
            var pairs = 0, within = 0, same = 0
            let byFile = Dictionary(grouping: points, by: \.file)
            let held = only.map(Set.init)
            for (_, ps) in byFile.sorted(by: { $0.key < $1.key }) {
                guard let base = ps.first(where: { $0.strategy == .perSequence }) else { continue }
                for p in ps where p.strategy != .perSequence {
                    if let held, !held.contains(p) && !held.contains(base) { continue }
                    let measured = base.measuredUs / p.measuredUs
                    let estimated = base.estimate(profile) / p.estimate(profile)
                    pairs += 1
                    if abs(estimated / measured - 1) <= 0.25 { within += 1 }
                    if SpeedupDirection(estimated) == SpeedupDirection(measured) { same += 1 }
                }
            }
            self.pairs = pairs
            within25 = within
            sameDirection = same
        }

        public var description: String {
            func pct(_ n: Int) -> String { pairs == 0 ? "–" : String(format: "%.1f%%", Double(n) / Double(pairs) * 100) }
            return "speedups over per-sequence: \(pairs) pairs, \(pct(within25)) within ±25%, \(pct(sameDirection)) the same direction (faster > 1.1×, slower < 0.9×, else even)"
        }
    }

    /// The held-out split: a third of each file's launches, rotating with
    /// the file (file f holds out its launches j with (j + f) mod 3 = 2), so
    /// every strategy is held out in some file and fitted in others. The fit
    /// sees the rest. Deterministic.
    public static func split(_ points: [Point]) -> (train: [Point], heldOut: [Point]) {
        var train: [Point] = [], held: [Point] = []
        var files: [String] = [], inFile: [String: Int] = [:]
        for p in points {
            if inFile[p.file] == nil { files.append(p.file) }
            let j = inFile[p.file, default: 0]
            inFile[p.file] = j + 1
            if (j + files.firstIndex(of: p.file)!) % 3 == 2 { held.append(p) } else { train.append(p) }
        }
        return (train, held)
    }
}

// MARK: - Profile files

/// `lora-viz calibrate -o PROFILE.json` writes one; `gpu PROFILE.json` reads it.
struct GPUProfileFile: Codable {
    struct Cost: Codable {
        var startNs, stepNs, sortedStartNs, sortedStepNs, residentPerSM, segmentExitNs, excessExitNs, exitDelayNs: Double
        /// Absent from files written before the unaligned variant was modelled: then the per-sequence costs.
        var unalignedStartNs, unalignedStepNs: Double?
        enum CodingKeys: String, CodingKey {
            case startNs = "start_ns", stepNs = "step_ns", sortedStartNs = "sorted_start_ns", sortedStepNs = "sorted_step_ns"
            case residentPerSM = "resident_per_sm", segmentExitNs = "segment_exit_ns", excessExitNs = "excess_exit_ns"
            case exitDelayNs = "exit_delay_ns"
            case unalignedStartNs = "unaligned_start_ns", unalignedStepNs = "unaligned_step_ns"
        }
    }
    var schema = GPUProfile.fileSchema
    var displayName: String
    var source: String
    var smCount: Int
    var clockGHz: Double
    var dramGBps: Double
    var l2Bytes: Int
    var l2GBps: Double
    var warmDRAMFraction: Double
    var launchFloorUs: Double
    var programs: [String: Cost]
    /// `pair` (written since the exit delay counts exit-work pairs) or `exit`
    /// (each excess exit ahead of the last working program); absent in older files: `exit`.
    var exitDelayPer: String?
    /// `sorted` (written since the waves price every program at the sorted
    /// variant) or `own` (each launch's own variant); absent in older files: `own`.
    var wavesVariant: String?

    enum CodingKeys: String, CodingKey {
        case schema, source, programs
        case exitDelayPer = "exit_delay_per", wavesVariant = "waves_variant"
        case displayName = "display_name", smCount = "sm_count", clockGHz = "clock_ghz", dramGBps = "dram_gbps"
        case l2Bytes = "l2_bytes", l2GBps = "l2_gbps", warmDRAMFraction = "warm_dram_fraction"
        case launchFloorUs = "launch_floor_us"
    }
}

extension GPUProfile {
    static let fileSchema = "lora-viz gpu profile v1"

    /// The profile as `lora-viz calibrate` writes it (JSON).
    public func fileData() throws -> Data {
        let f = GPUProfileFile(
            displayName: displayName, source: source, smCount: smCount, clockGHz: clockGHz, dramGBps: dramGBps,
            l2Bytes: l2Bytes, l2GBps: l2GBps, warmDRAMFraction: warmDRAMFraction, launchFloorUs: launchFloorUs,
            programs: programs.mapValues {
                .init(startNs: $0.startNs, stepNs: $0.stepNs, sortedStartNs: $0.sortedStartNs, sortedStepNs: $0.sortedStepNs,
                      residentPerSM: $0.residentPerSM, segmentExitNs: $0.segmentExitNs, excessExitNs: $0.excessExitNs,
                      exitDelayNs: $0.exitDelayNs, unalignedStartNs: $0.unalignedStartNs, unalignedStepNs: $0.unalignedStepNs)
            },
            exitDelayPer: exitDelayCountsPairs ? "pair" : "exit",
            wavesVariant: wavesUseSortedVariant ? "sorted" : "own")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(f) + Data("\n".utf8)
    }

    /// A profile file; its `name` is `path` as given (what `gpu PATH` prints back).
    public static func load(path: String) throws -> GPUProfile {
        let data: Data
        do {
            data = try RegularFile.read(path, limit: RegularFile.jsonLimit, what: "a GPU profile")
        } catch let error as FileReadError {
            throw GPUBenchError(message: "cannot read the GPU profile \(path): \(error.reason)")
        }
        let f: GPUProfileFile
        do {
            f = try JSONDecoder().decode(GPUProfileFile.self, from: data)
        } catch {
            throw GPUBenchError(message: "\(path) is not a GPU profile file of `lora-viz calibrate` (\(Self.fileSchema))")
        }
        guard f.schema == fileSchema else {
            throw GPUBenchError(message: "\(path): schema is \"\(f.schema)\", expected \"\(fileSchema)\"")
        }
        var programs: [String: ProgramCost] = [:]
        for key in costKeys {
            guard let c = f.programs[key] else { throw GPUBenchError(message: "\(path) lacks the program costs of \(key)") }
            let all = [c.startNs, c.stepNs, c.sortedStartNs, c.sortedStepNs, c.residentPerSM, c.segmentExitNs, c.excessExitNs, c.exitDelayNs,
                       c.unalignedStartNs ?? c.startNs, c.unalignedStepNs ?? c.stepNs]
            guard all.allSatisfy({ $0.isFinite && $0 > 0 }) else {
                throw GPUBenchError(message: "\(path): the program costs of \(key) are not all positive numbers")
            }
            programs[key] = ProgramCost(startNs: c.startNs, stepNs: c.stepNs, sortedStartNs: c.sortedStartNs,
                                        sortedStepNs: c.sortedStepNs, residentPerSM: c.residentPerSM,
                                        segmentExitNs: c.segmentExitNs, excessExitNs: c.excessExitNs, exitDelayNs: c.exitDelayNs,
                                        unalignedStartNs: c.unalignedStartNs, unalignedStepNs: c.unalignedStepNs)
        }
        let shared = [f.clockGHz, f.dramGBps, f.l2GBps, f.warmDRAMFraction, f.launchFloorUs]
        guard f.smCount > 0, f.l2Bytes > 0, shared.allSatisfy({ $0.isFinite && $0 > 0 }) else {
            throw GPUBenchError(message: "\(path): sm_count, clock, bandwidths and launch floor must be positive numbers")
        }
        /// A model key of two meanings: `true` for the one written today, `false`
        /// for the older one or an absent key (files written before it).
        func meaning(_ value: String?, of key: String, today: String, before: String) throws -> Bool {
            guard let value else { return false }
            guard value == today || value == before else {
                throw GPUBenchError(message: "\(path): \(key) is \"\(value)\", expected \"\(today)\" or \"\(before)\"")
            }
            return value == today
        }
        let pairs = try meaning(f.exitDelayPer, of: "exit_delay_per", today: "pair", before: "exit")
        let sortedWaves = try meaning(f.wavesVariant, of: "waves_variant", today: "sorted", before: "own")
        var profile = GPUProfile(name: path, displayName: f.displayName, calibrated: true, source: f.source, smCount: f.smCount,
                                 clockGHz: f.clockGHz, dramGBps: f.dramGBps, l2Bytes: f.l2Bytes, l2GBps: f.l2GBps,
                                 warmDRAMFraction: f.warmDRAMFraction, launchFloorUs: f.launchFloorUs, programs: programs)
        profile.exitDelayCountsPairs = pairs
        profile.wavesUseSortedVariant = sortedWaves
        return profile
    }
}
