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

    /// Programs per fate, keyed as `ProgramFate`'s raw values.
    public struct Fates: Codable, Hashable, Sendable {
        public var rank0Exit, emptyExit, excessExit, maskedOut, partial, full: Int

        init(_ c: FateCounts) {
            rank0Exit = c[.rank0Exit]
            emptyExit = c[.emptyExit]
            excessExit = c[.excessExit]
            maskedOut = c[.maskedOut]
            partial = c[.partial]
            full = c[.full]
        }

        enum CodingKeys: String, CodingKey {
            case rank0Exit = "rank0_exit", emptyExit = "empty_exit", excessExit = "excess_exit"
            case maskedOut = "masked_out", partial, full
        }

        /// The counts in `ProgramFate` order.
        public var all: [(fate: ProgramFate, count: Int)] {
            [(.rank0Exit, rank0Exit), (.emptyExit, emptyExit), (.excessExit, excessExit),
             (.maskedOut, maskedOut), (.partial, partial), (.full, full)]
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

    /// One routing's launch, its GPU estimate and, after a run, its measurements.
    public struct RoutingEntry: Codable, Hashable, Sendable {
        /// `per-sequence` or `sorted`.
        public var routing: String
        /// The grid padded to `[x, y, z]`.
        public var grid: [Int]
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
        public var timeMs: Timing?
        public var maxAbsErrorVsReference: Double?
        public var gflops: Double?

        enum CodingKeys: String, CodingKey {
            case routing, grid, launched, fates, working
            case validRows = "valid_rows", rowUtilisation = "row_utilisation"
            case usefulMacs = "useful_macs", issuedMacs = "issued_macs", macUtilisation = "mac_utilisation"
            case weightBytes = "weight_bytes", whatIf = "what_if"
            case gpuEstimateUs = "gpu_estimate_us", gpuBreakdown = "gpu_breakdown", gpuSummary = "gpu_summary"
            case timeMs = "time_ms"
            case maxAbsErrorVsReference = "max_abs_error_vs_reference", gflops
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
    /// Per-sequence first, then sorted.
    public var routings: [RoutingEntry]
    /// The name of the GPU the estimates are for (`GPUProfile.name`: `h200`).
    public var gpu: String
    /// Whether that GPU's profile was fitted on its own measurements.
    public var gpuCalibrated: Bool
    /// Estimated per-sequence time ÷ estimated sorted time (`GPUComparison.speedup`).
    public var gpuSpeedup: Double
    /// `H200 est. 352 µs → 55 µs, 6.4×` (`GPUComparison.headline`).
    public var gpuHeadline: String
    /// Why the CPU's measured speedup and the GPU estimate point different
    /// ways (`GPUComparison.disagreement`); only after a run, when they do.
    public var gpuDisagreement: String?
    public var maxAbsDiffBetweenRoutings: Double?
    public var bitwiseEqual: Bool?
    /// Per-sequence median time ÷ sorted median time.
    public var speedup: Double?
    public var threads: Int?

    enum CodingKeys: String, CodingKey {
        case kernel, stack, dtype, mode, seed
        case whatIf = "what_if"
        case batch, routings
        case gpu, gpuCalibrated = "gpu_calibrated", gpuSpeedup = "gpu_speedup", gpuHeadline = "gpu_headline"
        case gpuDisagreement = "gpu_disagreement"
        case maxAbsDiffBetweenRoutings = "max_abs_diff_between_routings"
        case bitwiseEqual = "bitwise_equal"
        case speedup, threads
    }

    /// The report of a workload's two plans, their estimates on `gpu` and,
    /// if given, a run of that workload.
    ///
    /// - Precondition: `run`, when given, ran `workload`.
    public init(workload: Workload, perSequence: LaunchPlan, sorted: LaunchPlan, run: KernelRunResult?,
                gpu profile: GPUProfile = .defaultProfile) {
        kernel = workload.kernel.name
        if case .sgemmLoRAA(let s) = workload.kernel { stack = s } else { stack = nil }
        dtype = workload.dtype.rawValue
        mode = workload.batch.mode.rawValue
        seed = workload.seed
        whatIf = sorted.routing.isWhatIf
        batch = BatchSummary(bs: workload.batch.sequences.count, tokens: workload.batch.totalTokens,
                             slots: workload.batch.slotCount, slotsInUse: workload.batch.slotsInUse)
        let runs = run.map { [$0.perSequence, $0.sorted] }
        let comparison = profile.compare(perSequence: perSequence, sorted: sorted)
        let estimates = [comparison.perSequence, comparison.sorted]
        routings = [perSequence, sorted].enumerated().map { i, plan in
            let counts = plan.fateCounts
            let measured = runs?[i]
            return RoutingEntry(
                routing: plan.routing.kind.rawValue, grid: plan.grid3, launched: plan.launched,
                fates: Fates(counts), working: counts.working, validRows: plan.validRows,
                rowUtilisation: plan.rowUtilisation, usefulMacs: plan.usefulMACs, issuedMacs: plan.issuedMACs,
                macUtilisation: plan.issuedMACs == 0 ? 0 : Double(plan.usefulMACs) / Double(plan.issuedMACs),
                weightBytes: plan.weightBytes, whatIf: plan.routing.isWhatIf,
                gpuEstimateUs: estimates[i].totalUs, gpuBreakdown: GPUBreakdown(estimates[i]),
                gpuSummary: estimates[i].summary,
                timeMs: measured.map { Timing(median: $0.time.median, min: $0.time.min, max: $0.time.max) },
                maxAbsErrorVsReference: measured?.maxAbsErrorVsReference,
                gflops: measured?.gflops)
        }
        gpu = profile.name
        gpuCalibrated = profile.calibrated
        gpuSpeedup = comparison.speedup
        gpuHeadline = comparison.headline
        gpuDisagreement = run.flatMap { comparison.disagreement(cpuSpeedup: $0.speedup) }
        maxAbsDiffBetweenRoutings = run?.maxAbsDiffBetweenRoutings
        bitwiseEqual = run?.bitwiseEqual
        speedup = run?.speedup
        threads = run?.threads
    }

    /// The per-sequence routing's entry.
    public var perSequence: RoutingEntry { routings[0] }
    /// The sorted routing's entry.
    public var sorted: RoutingEntry { routings[1] }

    /// Whether the report holds a run's timings.
    public var hasTimings: Bool { speedup != nil }
}

extension Session {
    /// The report of the current state: both plans and their estimates on
    /// `gpu` always, timings when `lastRun` ran the current workload.
    public func report() -> RunReport {
        RunReport(workload: workload, perSequence: plan(.perSequence), sorted: plan(.sorted), run: freshRun, gpu: gpu)
    }
}
