/// A GPU as the cost model sees it: datasheet figures plus the per-program
/// costs fitted to measurements (docs/gpu-model.md says where each comes from).
///
/// `h200` is calibrated on the real SGLang kernels timed on an H200
/// (`gpu/results/`); the others are the H200's program costs rescaled by
/// datasheet ratios (clock, SMs, bandwidth, L2) and say `calibrated == false`
/// wherever they are shown.
public struct GPUProfile: Hashable, Sendable {
    /// What one working program of a kernel costs.
    ///
    /// The kernel is compiled twice, with and without the permutation
    /// (`SORTED_BY_ADAPTER`), and the two differ: on the H200 a lone shrink
    /// program is 1.10–1.26× as slow per-sequence as sorted (29.2 against
    /// 23.2 µs at K 14336, 10.0 against 8.4 at K 4096), growing with K, so
    /// the step differs and the start does not. Triton also compiles a third
    /// kernel when the shrink's N argument (stack × max rank) is not a
    /// multiple of 16; its per-sequence program is then 0.94–1.06× the
    /// sorted one's (gpu/results/variants/, docs/gpu-model.md).
    public struct ProgramCost: Hashable, Sendable {
        /// Latency before and after the K loop: index loads, the epilogue's store (ns).
        public var startNs: Double
        /// Latency of one K-loop step: one x tile and one W tile load, one tile product (ns).
        public var stepNs: Double
        /// `startNs` of the variant that loads rows through the permutation.
        public var sortedStartNs: Double
        /// `stepNs` of the variant that loads rows through the permutation.
        public var sortedStepNs: Double
        /// `startNs` of the per-sequence variant compiled when the shrink's N
        /// (stack × max rank) is not a multiple of 16; `startNs` for the expands.
        public var unalignedStartNs: Double
        /// `stepNs` of that variant.
        public var unalignedStepNs: Double
        /// Programs of this kernel one SM keeps in flight at once.
        public var residentPerSM: Double
        /// SM time of a program taking a rank-0 or empty-segment exit (ns):
        /// dispatch, two dependent loads, retire.
        public var segmentExitNs: Double
        /// SM time of a program taking the excess exit (ns). On the H200 the
        /// shrink's cost far more than its rank-0 exits: at bs 512 on one
        /// adapter 2,016 rank-0 exits leave the launch at its 9.8 µs floor,
        /// while at bs 128 on 64 adapters 448 excess exits lift it from 10.9 to 16.5 µs.
        public var excessExitNs: Double

        /// How long each excess exit dispatched ahead of a working program
        /// holds that program back (ns per pair, `GPUWork.excessExitWorkPairs`,
        /// spread over the SMs; at most one program's latency in all). On the
        /// H200 a sorted shrink over 64 rank-16 adapters at bs 128 takes
        /// 16.3 µs, and 8.5 µs with a tight grid that has no excess exits; the
        /// permutation itself costs nothing (gpu/results/h200-probe-sorted-shrink.jsonl).
        /// Pairs, not the exits ahead of the last working program: a few
        /// working programs behind many exits are barely held back. Held-out
        /// case 36 (33 working programs, 712 exits ahead of the last) takes
        /// 12.3 µs sorted; counting those exits priced it at 17.0, the pairs at 14.4.
        public var exitDelayNs: Double

        /// The unaligned variant's costs default to the per-sequence ones
        /// (no third variant: the expands, csgmv, vLLM).
        public init(startNs: Double, stepNs: Double, sortedStartNs: Double, sortedStepNs: Double, residentPerSM: Double,
                    segmentExitNs: Double, excessExitNs: Double, exitDelayNs: Double,
                    unalignedStartNs: Double? = nil, unalignedStepNs: Double? = nil) {
            self.exitDelayNs = exitDelayNs
            self.unalignedStartNs = unalignedStartNs ?? startNs
            self.unalignedStepNs = unalignedStepNs ?? stepNs
            self.startNs = startNs
            self.stepNs = stepNs
            self.sortedStartNs = sortedStartNs
            self.sortedStepNs = sortedStepNs
            self.residentPerSM = residentPerSM
            self.segmentExitNs = segmentExitNs
            self.excessExitNs = excessExitNs
        }

        /// Start and step latency of the variant a launch runs: sorted when
        /// rows load through the permutation, else per-sequence, or its
        /// unaligned build when the shrink's N is not a multiple of 16.
        public func latency(permuted: Bool, aligned: Bool = true) -> (startNs: Double, stepNs: Double) {
            permuted ? (sortedStartNs, sortedStepNs) : aligned ? (startNs, stepNs) : (unalignedStartNs, unalignedStepNs)
        }

        func scaled(_ t: Double) -> ProgramCost {
            ProgramCost(startNs: startNs * t, stepNs: stepNs * t, sortedStartNs: sortedStartNs * t,
                        sortedStepNs: sortedStepNs * t, residentPerSM: residentPerSM,
                        segmentExitNs: segmentExitNs * t, excessExitNs: excessExitNs * t, exitDelayNs: exitDelayNs * t,
                        unalignedStartNs: unalignedStartNs * t, unalignedStepNs: unalignedStepNs * t)
        }
    }

    /// The name `gpu NAME` takes (`h200`).
    public var name: String
    /// The name shown on screen (`H200`).
    public var displayName: String
    /// Whether the program costs were fitted on this GPU's own measurements.
    public var calibrated: Bool
    /// Where the figures come from, in a line.
    public var source: String
    public var smCount: Int
    /// Boost clock the latencies scale with.
    public var clockGHz: Double
    /// DRAM bandwidth, reads plus writes (measured by a device-to-device copy on the H200).
    public var dramGBps: Double
    public var l2Bytes: Int
    /// Bandwidth between L2 and the SMs.
    public var l2GBps: Double
    /// The fraction of a launch's distinct bytes that still come from DRAM
    /// when they fit in L2 (back-to-back calls find most of them there).
    public var warmDRAMFraction: Double
    /// What a launch costs with no program at all: the kernel's start and drain.
    public var launchFloorUs: Double
    /// Working-program costs, by kernel name (`Kernel.name`).
    public var programs: [String: ProgramCost]
    /// Whether `exitDelayNs` is paid per exit-work pair (`GPUWork.excessExitWorkPairs`),
    /// or, as in profile files `lora-viz calibrate` wrote before pairs were
    /// modelled (no `exit_delay_per` key), per excess exit ahead of the last
    /// working program: such a file keeps pricing launches as it did.
    public var exitDelayCountsPairs = true
    /// Whether the waves (`computeUs`) price every working program at the
    /// sorted variant's start and step, whatever the launch's variant: above
    /// 132 working programs a second program on each SM hides the slower
    /// per-sequence variant (per-sequence ÷ ident 1.10–1.26 below, about 1.00
    /// above; gpu/RESULTS.md), so only the longest program pays it. Profile
    /// files written before (no `waves_variant` key) price each launch's waves
    /// with its own variant, as they were fitted.
    public var wavesUseSortedVariant = true
    /// How often this profile's estimated direction held on measurements it
    /// was not fitted on, by distance from a band edge; only a profile
    /// scored so has one (`h200`). A rescaled or refitted profile drops it.
    public var directionRecord: GPUDirectionRecord? = nil

    public init(name: String, displayName: String, calibrated: Bool, source: String, smCount: Int,
                clockGHz: Double, dramGBps: Double, l2Bytes: Int, l2GBps: Double, warmDRAMFraction: Double,
                launchFloorUs: Double,
                programs: [String: ProgramCost]) {
        self.name = name
        self.displayName = displayName
        self.calibrated = calibrated
        self.source = source
        self.smCount = smCount
        self.clockGHz = clockGHz
        self.dramGBps = dramGBps
        self.l2Bytes = l2Bytes
        self.l2GBps = l2GBps
        self.warmDRAMFraction = warmDRAMFraction
        self.launchFloorUs = launchFloorUs
        self.programs = programs
    }

    /// The cost of one working program of `kernel`.
    public func programCost(_ kernel: Kernel, family: String = "triton") -> ProgramCost {
        // Every profile holds every family's four kernels (GPUModelTests checks each).
        let key = Self.costKey(family: family, kernel: kernel.name)
        guard let cost = programs[key] else { preconditionFailure("\(name) has no costs for \(key)") }
        return cost
    }

    /// The key of a family's kernel in `programs`: `sgemm_lora_a` for SGLang
    /// `triton`'s, `csgmv/sgemm_lora_a`, `vllm/qkv_lora_b`.
    public static func costKey(family: String, kernel: String) -> String {
        family == "triton" ? kernel : family + "/" + kernel
    }

    /// Every key `programs` holds, in the order the fitted source lists them.
    public static let costKeys: [String] = ["triton", "csgmv", "vllm"].flatMap { family in
        Kernel.names.map { costKey(family: family, kernel: $0) }
    }

    /// The label shown beside every estimate: `H200 est.` or `L40S est. (uncalibrated)`.
    public var estimateLabel: String {
        calibrated ? "\(displayName) est." : "\(displayName) est. (uncalibrated)"
    }

    /// The strategies whose kernels the calibration data timed on the H200:
    /// SGLang `triton`'s (per-sequence, sorted and tight routings), SGLang's
    /// csgmv (eager and in a graph) and vLLM's (gpu/results/).
    public static let measuredStrategies: Set<Strategy> = Set(Strategy.allCases)

    /// Whether this profile's estimate of `strategy` rests on measurements of its kernels.
    public func isCalibrated(for strategy: Strategy) -> Bool {
        calibrated && Self.measuredStrategies.contains(strategy)
    }

    /// `estimateLabel` for one strategy: `H200 est. (uncalibrated for vllm)`.
    public func estimateLabel(for strategy: Strategy) -> String {
        calibrated && !isCalibrated(for: strategy) ? "\(displayName) est. (uncalibrated for \(strategy.name))" : estimateLabel
    }
}

// MARK: - The profiles

extension GPUProfile {
    /// Every profile `gpu NAME` accepts, the default first.
    public static let all: [GPUProfile] = [.h200, .h100, .a100, .l40s, .b200]

    /// The profile used until a `gpu` command picks another.
    public static let defaultProfile = GPUProfile.h200

    /// Every name `gpu NAME` accepts.
    public static var names: [String] { all.map(\.name) }

    /// The profile of a name (case-insensitive), if there is one.
    public static func named(_ name: String) -> GPUProfile? {
        all.first { $0.name == name.lowercased() }
    }

    /// Another GPU from its datasheet: the H200's fitted program costs with
    /// latencies scaled by the clock ratio and L2 bandwidth by SMs × clock.
    static func rescaled(_ base: GPUProfile, name: String, displayName: String, source: String,
                         smCount: Int, clockGHz: Double, dramGBps: Double, l2Bytes: Int) -> GPUProfile {
        let t = base.clockGHz / clockGHz
        var p = base
        p.name = name
        p.displayName = displayName
        p.calibrated = false
        p.directionRecord = nil
        p.source = source
        p.smCount = smCount
        p.clockGHz = clockGHz
        p.dramGBps = dramGBps
        p.l2Bytes = l2Bytes
        p.l2GBps = base.l2GBps * Double(smCount) / Double(base.smCount) / t
        p.launchFloorUs *= t
        p.programs = base.programs.mapValues { $0.scaled(t) }
        return p
    }

    /// H100 SXM: 132 SMs, 1.98 GHz, 3.35 TB/s HBM3, 50 MB L2 (NVIDIA datasheet).
    public static let h100 = rescaled(
        .h200, name: "h100", displayName: "H100",
        source: "datasheet (H100 SXM: 132 SMs, 1.98 GHz, 3.35 TB/s, 50 MB L2) over the H200's fitted costs",
        smCount: 132, clockGHz: 1.98, dramGBps: 3350 * h200CopyEfficiency, l2Bytes: 50 << 20)

    /// A100 SXM 80 GB: 108 SMs, 1.41 GHz, 2.04 TB/s HBM2e, 40 MB L2 (NVIDIA datasheet).
    public static let a100 = rescaled(
        .h200, name: "a100", displayName: "A100",
        source: "datasheet (A100 SXM 80GB: 108 SMs, 1.41 GHz, 2.04 TB/s, 40 MB L2) over the H200's fitted costs",
        smCount: 108, clockGHz: 1.41, dramGBps: 2039 * h200CopyEfficiency, l2Bytes: 40 << 20)

    /// L40S: 142 SMs, 2.52 GHz, 864 GB/s GDDR6, 96 MB L2 (NVIDIA datasheet).
    public static let l40s = rescaled(
        .h200, name: "l40s", displayName: "L40S",
        source: "datasheet (L40S: 142 SMs, 2.52 GHz, 864 GB/s, 96 MB L2) over the H200's fitted costs",
        smCount: 142, clockGHz: 2.52, dramGBps: 864 * h200CopyEfficiency, l2Bytes: 96 << 20)

    /// B200: 148 SMs, ~1.97 GHz, 8 TB/s HBM3e, 126 MB L2 (NVIDIA datasheet and Blackwell brief).
    public static let b200 = rescaled(
        .h200, name: "b200", displayName: "B200",
        source: "datasheet (B200: 148 SMs, ~1.97 GHz, 8 TB/s, 126 MB L2) over the H200's fitted costs",
        smCount: 148, clockGHz: 1.97, dramGBps: 8000 * h200CopyEfficiency, l2Bytes: 126 << 20)

    /// A device-to-device copy on the H200 moves 4.27 of its datasheet 4.8 TB/s
    /// (gpu/results/h200-sweep.jsonl, meta line);
    /// the other datasheet figures get the same ratio.
    static let h200CopyEfficiency = 4267.0 / 4800.0
}
