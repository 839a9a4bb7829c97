import LoRAKernels

/// The report of one `run`: both routings' launch plans, their estimated
/// times on the session's GPU and, when a kernel run of the current workload
/// exists, its timings and errors.
///
/// Its JSON (`json`) is the format `lora-viz run --format json` prints, one
/// object per line; the keys (`kernel`, `dtype`, `mode`, `batch`, `routings`,
/// `gpu`, `gpu_speedup`, `max_abs_diff_between_routings`, `bitwise_equal`, …)
/// are those `expect` paths name. Every plan figure comes from `LaunchPlan`,
/// every estimate from `GPUProfile`, every timing from `KernelRunResult`:
/// nothing is recomputed here.
public struct RunReport: Codable, Hashable, Sendable {
    public struct BatchSummary: Codable, Hashable, Sendable {
        /// Sequences.
        public var bs: Int
        /// Token rows `S`.
        public var tokens: Int
        /// `max_loras_per_batch`.
        public var slots: Int
        /// Slots with at least one sequence.
        public var slotsInUse: Int

        enum CodingKeys: String, CodingKey {
            case bs, tokens, slots
            case slotsInUse = "slots_in_use"
        }
    }

    /// Programs per fate, keyed as `ProgramFate`'s raw values: all nine, always.
    public struct Fates: Codable, Hashable, Sendable {
        /// Counts in `ProgramFate.allCases` order.
        public var counts: [Int]

        init(_ c: FateCounts) {
            counts = ProgramFate.allCases.map { c[$0] }
        }

        public subscript(fate: ProgramFate) -> Int { counts[fate.ordinal] }

        /// The counts in `ProgramFate` order.
        public var all: [(fate: ProgramFate, count: Int)] {
            ProgramFate.allCases.map { ($0, counts[$0.ordinal]) }
        }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: FateKey.self)
            counts = try ProgramFate.allCases.map { try c.decodeIfPresent(Int.self, forKey: FateKey($0)) ?? 0 }
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: FateKey.self)
            for (fate, n) in all { try c.encode(n, forKey: FateKey(fate)) }
        }

        struct FateKey: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(_ fate: ProgramFate) { stringValue = fate.rawValue }
            init?(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }
    }

    /// A strategy's block sizes (`BlockSizes`).
    public struct Blocks: Codable, Hashable, Sendable {
        public var m, n, k, splitK: Int

        init(_ b: BlockSizes) {
            m = b.m
            n = b.n
            k = b.k
            splitK = b.splitK
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case m, n, k, splitK = "split_k"
        }
    }

    /// Median, min and max over the timed repetitions, in milliseconds.
    public struct Timing: Codable, Hashable, Sendable {
        public var median, min, max: Double
    }

    /// The terms of one routing's GPU estimate (`GPUEstimate`), as the JSON
    /// report's `gpu_breakdown` holds them.
    public struct GPUBreakdown: Codable, Hashable, Sendable {
        public var launchFloorUs: Double
        /// The programs that exit at once, spread over the SMs.
        public var exitUs: Double
        /// The working programs' latency over their waves.
        public var computeUs: Double
        /// `l2Us + dramUs`.
        public var memoryUs: Double
        public var l2Us: Double
        public var dramUs: Double
        public var exitingPrograms: Int
        public var workingPrograms: Int
        public var waves: Int
        public var residentPerSM: Double
        /// Latency of the longest working program (ns).
        public var programNs: Double
        /// How long excess exits dispatched ahead of it hold the last working program back (µs).
        public var delayUs: Double
        public var tileBytes: Int
        /// Bytes DRAM supplies after L2 reuse.
        public var dramBytes: Int
        /// The term that decides: `floor`, `exits`, `compute` or `memory`.
        public var bound: String

        init(_ e: GPUEstimate) {
            launchFloorUs = e.launchFloorUs
            exitUs = e.exitUs
            computeUs = e.computeUs
            memoryUs = e.memoryUs
            l2Us = e.l2Us
            dramUs = e.dramUs
            exitingPrograms = e.exitingPrograms
            workingPrograms = e.workingPrograms
            waves = e.waves
            residentPerSM = e.residentPerSM
            programNs = e.programNs
            delayUs = e.delayUs
            tileBytes = e.tileBytes
            dramBytes = e.dramBytes
            bound = e.bound.rawValue
        }

        /// In report order; `expect` paths list them (`sorted.gpu_breakdown.bound`).
        enum CodingKeys: String, CodingKey, CaseIterable {
            case launchFloorUs = "launch_floor_us", exitUs = "exit_us", computeUs = "compute_us"
            case memoryUs = "memory_us", l2Us = "l2_us", dramUs = "dram_us"
            case exitingPrograms = "exiting_programs", workingPrograms = "working_programs", waves
            case residentPerSM = "resident_per_sm", programNs = "program_ns", delayUs = "delay_us", tileBytes = "tile_bytes"
            case dramBytes = "dram_bytes", bound
        }
    }

    /// One strategy's launch, its GPU estimate and, after a run, its measurements.
    public struct RoutingEntry: Codable, Hashable, Sendable {
        /// The strategy's name (`per-sequence`, `sorted`, `tight`, `csgmv`, …).
        public var routing: String
        /// The grid padded to `[x, y, z]`.
        public var grid: [Int]
        /// The block sizes it launches with.
        public var blocks: Blocks
        /// How many axes the grid is launched with (2 or 3; `grid` pads to three).
        public var axes: Int
        public var launched: Int
        public var fates: Fates
        /// Programs that run their K loop.
        public var working: Int
        public var validRows: Int
        /// Valid rows ÷ (16 × working programs).
        public var rowUtilisation: Double
        public var usefulMacs: Int
        public var issuedMacs: Int
        /// Useful ÷ issued MACs.
        public var macUtilisation: Double
        public var weightBytes: Int
        /// Whether this routing goes beyond SGLang (sorting an extend batch per token).
        public var whatIf: Bool
        /// The launch's estimated time on the report's GPU (µs).
        public var gpuEstimateUs: Double
        public var gpuBreakdown: GPUBreakdown
        /// The breakdown in a line (`GPUEstimate.summary`), as the text report prints it.
        public var gpuSummary: String
        /// Whether the estimate rests on measurements of this strategy's kernels.
        public var gpuCalibrated: Bool
        /// The first strategy's estimate ÷ this one's.
        public var gpuSpeedupVsFirst: Double?
        public var timeMs: Timing?
        public var maxAbsErrorVsReference: Double?
        public var gflops: Double?
        /// The first strategy's median CPU time ÷ this one's.
        public var speedupVsFirst: Double?
        /// Max over valid cells of `|out − out of the first strategy|`.
        public var maxAbsDiffVsFirst: Double?
        /// Whether every cell holds the first strategy's bits.
        public var bitwiseEqualToFirst: Bool?
        /// The real kernels' time on a GPU, from a `gpu-bench` results file of this batch (µs per call).
        public var gpuMeasuredUs: Double?
        /// The estimate's error against that measurement: estimate ÷ measured − 1.
        public var gpuEstimateError: Double?

        enum CodingKeys: String, CodingKey {
            case routing, grid, axes, blocks, launched, fates, working
            case gpuMeasuredUs = "gpu_measured_us", gpuEstimateError = "gpu_estimate_error"
            case validRows = "valid_rows", rowUtilisation = "row_utilisation"
            case usefulMacs = "useful_macs", issuedMacs = "issued_macs", macUtilisation = "mac_utilisation"
            case weightBytes = "weight_bytes", whatIf = "what_if"
            case gpuEstimateUs = "gpu_estimate_us", gpuBreakdown = "gpu_breakdown", gpuSummary = "gpu_summary"
            case gpuCalibrated = "gpu_calibrated", gpuSpeedupVsFirst = "gpu_speedup_vs_first"
            case timeMs = "time_ms"
            case maxAbsErrorVsReference = "max_abs_error_vs_reference", gflops
            case speedupVsFirst = "speedup_vs_first", maxAbsDiffVsFirst = "max_abs_diff_vs_first"
            case bitwiseEqualToFirst = "bitwise_equal_to_first"
        }
    }

    /// The kernel's name (`sgemm_lora_a`, …).
    public var kernel: String
    /// `stack_num` of the shrink; absent for the expands.
    public var stack: Int?
    public var dtype: String
    public var mode: String
    public var seed: UInt64
    /// Whether the sorted routing is a what-if beyond SGLang (extend mode).
    public var whatIf: Bool
    public var batch: BatchSummary
    /// One entry per chosen strategy, in the order chosen.
    public var routings: [RoutingEntry]
    /// The name of the GPU the estimates are for (`GPUProfile.name`: `h200`).
    public var gpu: String
    /// Whether that GPU's profile was fitted on its own measurements.
    public var gpuCalibrated: Bool
    /// Estimated per-sequence time ÷ estimated sorted time (`GPUComparison.speedup`),
    /// when both are chosen.
    public var gpuSpeedup: Double?
    /// How often held-out measurements had the estimated direction, for
    /// estimates as far from a band edge as `gpuSpeedup`
    /// (`GPUDirectionRecord`); when both are chosen and the profile has a record.
    public var gpuDirectionConfidence: Double?
    /// `direction: 1.32× is 20 % from the 1.1 edge; held-out H200 estimates …`
    /// (`GPUDirectionRecord.note`), with `gpuDirectionConfidence`.
    public var gpuDirectionNote: String?
    /// `H200 est. 352 µs → 55 µs, 6.4×` (`GPUComparison.headline`), or each
    /// strategy's estimate when per-sequence and sorted are not both chosen.
    public var gpuHeadline: String
    /// Why the CPU's measured speedup and the GPU estimate point different
    /// ways (`GPUComparison.disagreement`); only after a run, when they do.
    public var gpuDisagreement: String?
    public var maxAbsDiffBetweenRoutings: Double?
    public var bitwiseEqual: Bool?
    /// Per-sequence median time ÷ sorted median time.
    public var speedup: Double?
    public var threads: Int?
    /// Token rows checked against the fp64 reference: every row normally, a
    /// seeded sample on huge shapes (`ReferenceSample`); after a run.
    public var referenceRowsChecked: Int?
    /// Whether the reference checked a sample of the rows, not all of them.
    public var referenceIsSampled: Bool { referenceRowsChecked.map { $0 < batch.tokens } ?? false }
    /// Where the measured GPU times come from (`NVIDIA H200, 132 SMs: FILE`), when a results file of this batch is attached.
    public var gpuMeasured: String?
    /// The decoder layer's eight launches, while the layer table is shown (`layer`).
    public var layer: LayerReport? = nil
    /// The model config `model PATH` read: its name, type, layer count and path.
    public var model: ModelSummary? = nil
    /// The adapters read from PEFT folders, in batch order.
    public var adapterFiles: [AdapterFileSummary] = []
    /// What reading them for this launch padded, zeroed or left out.
    public var adapterNotes: [String] = []

    /// The `model` object of the JSON report.
    public struct ModelSummary: Hashable, Sendable {
        public var name: String
        public var modelType: String
        public var layers: Int?
        public var path: String
    }

    /// One entry of `adapter_files`: the adapter, its folder and what it reads as for this launch.
    public struct AdapterFileSummary: Hashable, Sendable {
        public var name: String
        public var path: String
        public var slot: Int
        public var rank: Int
        public var scaling: Double
        /// The decoder layer and module its weights come from.
        public var layer: Int
        public var module: String
    }

    enum CodingKeys: String, CodingKey {
        case gpuMeasured = "gpu_measured"
        case kernel, stack, dtype, mode, seed
        case whatIf = "what_if"
        case batch, routings
        case gpu, gpuCalibrated = "gpu_calibrated", gpuSpeedup = "gpu_speedup", gpuHeadline = "gpu_headline"
        case gpuDisagreement = "gpu_disagreement"
        case gpuDirectionConfidence = "gpu_direction_confidence", gpuDirectionNote = "gpu_direction_note"
        case maxAbsDiffBetweenRoutings = "max_abs_diff_between_routings"
        case bitwiseEqual = "bitwise_equal"
        case speedup, threads
        case referenceRowsChecked = "reference_rows_checked"
    }

    /// The report of a workload's per-sequence and sorted plans (tests, old callers).
    public init(workload: Workload, perSequence: LaunchPlan, sorted: LaunchPlan, run: KernelRunResult?,
                gpu profile: GPUProfile = .defaultProfile) {
        self.init(workload: workload, plans: [perSequence, sorted], run: run, gpu: profile)
    }

    /// The report of a workload's plans (one per chosen strategy, in order),
    /// their estimates on `gpu` and, if given, a run of those strategies.
    ///
    /// - Precondition: `run`, when given, ran `workload` with these strategies.
    public init(workload: Workload, plans: [LaunchPlan], run: KernelRunResult?, gpu profile: GPUProfile = .defaultProfile,
                measured gpuResults: GPUBenchResults? = nil) {
        kernel = workload.kernel.name
        if case .sgemmLoRAA(let s) = workload.kernel { stack = s } else { stack = nil }
        dtype = workload.dtype.rawValue
        mode = workload.batch.mode.rawValue
        seed = workload.seed
        whatIf = plans.contains { $0.routing.isWhatIf }
        batch = BatchSummary(bs: workload.batch.sequences.count, tokens: workload.batch.totalTokens,
                             slots: workload.batch.slotCount, slotsInUse: workload.batch.slotsInUse)
        let estimates = plans.map { profile.estimate($0) }
        let firstRun = run?.routings.first
        routings = plans.enumerated().map { i, plan in
            let counts = plan.fateCounts
            let measured = run?.run(plan.strategy)
            let estimate = estimates[i]
            return RoutingEntry(
                routing: plan.strategy.name, grid: plan.grid3, blocks: Blocks(plan.blocks), axes: plan.grid.count,
                launched: plan.launched,
                fates: Fates(counts), working: counts.working, validRows: plan.validRows,
                rowUtilisation: plan.rowUtilisation, usefulMacs: plan.usefulMACs, issuedMacs: plan.issuedMACs,
                macUtilisation: plan.issuedMACs == 0 ? 0 : Double(plan.usefulMACs) / Double(plan.issuedMACs),
                weightBytes: plan.weightBytes, whatIf: plan.routing.isWhatIf,
                gpuEstimateUs: estimate.totalUs, gpuBreakdown: GPUBreakdown(estimate),
                gpuSummary: estimate.summary, gpuCalibrated: profile.isCalibrated(for: plan.strategy),
                gpuSpeedupVsFirst: estimate.totalUs > 0 ? estimates[0].totalUs / estimate.totalUs : nil,
                timeMs: measured.map { Timing(median: $0.time.median, min: $0.time.min, max: $0.time.max) },
                maxAbsErrorVsReference: measured?.maxAbsErrorVsReference,
                gflops: measured?.gflops,
                speedupVsFirst: measured.flatMap { m in
                    firstRun.map { m.time.median > 0 ? $0.time.median / m.time.median : 0 }
                },
                maxAbsDiffVsFirst: measured?.maxAbsDiffVsFirst, bitwiseEqualToFirst: measured?.bitwiseEqualToFirst,
                gpuMeasuredUs: gpuResults?.entry(plan.strategy)?.measuredUs,
                gpuEstimateError: gpuResults?.entry(plan.strategy)?.measuredUs.map { estimate.totalUs / $0 - 1 })
        }
        gpuMeasured = gpuResults.map { "\($0.gpu), \($0.sms) SMs: \($0.path)" }
        gpu = profile.name
        gpuCalibrated = profile.calibrated
        let index = { (s: Strategy) in plans.firstIndex { $0.strategy == s } }
        if let a = index(.perSequence), let b = index(.sorted) {
            let comparison = GPUComparison(profile: profile, perSequence: estimates[a], sorted: estimates[b])
            gpuSpeedup = comparison.speedup
            gpuHeadline = comparison.headline
            gpuDisagreement = run.flatMap { comparison.disagreement(cpuSpeedup: $0.speedup) }
            gpuDirectionConfidence = profile.directionRecord?.bin(for: comparison.speedup).share
            gpuDirectionNote = profile.directionRecord?.note(for: comparison.speedup, gpu: profile.displayName)
        } else {
            gpuSpeedup = nil
            gpuHeadline = profile.estimateLabel + " " + zip(plans, estimates).map {
                "\($0.strategy.name) \(formatMicroseconds($1.totalUs))"
                    + (profile.calibrated && !profile.isCalibrated(for: $0.strategy) ? " (uncalibrated)" : "")
            }.joined(separator: " · ")
            gpuDisagreement = nil
            gpuDirectionConfidence = nil
            gpuDirectionNote = nil
        }
        maxAbsDiffBetweenRoutings = run?.maxAbsDiffBetweenRoutings
        bitwiseEqual = run.flatMap { $0.routings.count >= 2 ? $0.bitwiseEqual : nil }
        speedup = run.flatMap { $0.routings.count >= 2 ? $0.speedup : nil }
        threads = run?.threads
        referenceRowsChecked = run.map { $0.referenceRowsChecked > 0 ? $0.referenceRowsChecked : $0.workload.batch.totalTokens }
    }

    /// The entry of a strategy, if it was chosen.
    public func entry(_ strategy: Strategy) -> RoutingEntry? { routings.first { $0.routing == strategy.name } }

    /// The per-sequence entry (the first when per-sequence is not chosen).
    public var perSequence: RoutingEntry { entry(.perSequence) ?? routings[0] }
    /// The sorted entry (the last when sorted is not chosen).
    public var sorted: RoutingEntry { entry(.sorted) ?? routings[routings.count - 1] }

    /// Whether the report holds a run's timings.
    public var hasTimings: Bool { threads != nil }
}

extension Session {
    /// The report of the current state: every chosen strategy's plan and its estimate on
    /// `gpu` always, timings when `lastRun` ran the current workload.
    public func report() -> RunReport {
        var r = RunReport(workload: workload, plans: plans, run: freshRun, gpu: gpu, measured: measuredOnGPU)
        // `apply` checked every launch of the layer when the table was turned on or the batch changed.
        if showsLayer { r.layer = try? LayerReport(self, runs: lastLayerRun) }
        r.model = model.map {
            RunReport.ModelSummary(name: $0.config.name, modelType: $0.config.modelType, layers: $0.config.layers, path: $0.path)
        }
        r.adapterFiles = workload.batch.adapters.compactMap { a in
            adapterFiles[a.name].map {
                RunReport.AdapterFileSummary(name: a.name, path: $0.path, slot: a.slot, rank: a.rank, scaling: Double(a.scaling),
                                             layer: layerIndex, module: Self.weightModule(workload).rawValue)
            }
        }
        r.adapterNotes = adapterNotes
        return r
    }

    /// The attached `gpu-bench` results measured on the current batch, if any.
    public var measuredOnGPU: GPUBenchResults? {
        guard !gpuResults.isEmpty else { return nil }
        let fp = GPUBenchFingerprint(workload, options: strategyOptions)
        return gpuResults.first { $0.fingerprint == fp }
    }
}
