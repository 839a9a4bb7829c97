import Foundation

/// The estimated time of one launch on one GPU, with the terms it adds up.
///
/// `totalUs = launchFloorUs + norm4(longest program, exitUs + computeUs, memoryUs)`:
/// exiting and working programs share the SMs' program slots, while the
/// memory traffic overlaps with them, so the largest term is paid, plus what
/// the others fail to hide when they come close to it: the three terms'
/// 4-norm, `(a⁴ + b⁴ + c⁴)^¼`, the largest alone when one dominates and
/// 1.19× it when two are equal (docs/gpu-model.md, "Why a 4-norm, not a max").
public struct GPUEstimate: Hashable, Sendable {
    /// Which term decides the launch's time.
    public enum Bound: String, Hashable, Sendable, Codable {
        /// Nothing works; the launch costs its floor.
        case floor
        /// Exiting programs cost more than the work.
        case exits
        /// The working programs' latency, wave after wave.
        case compute
        /// Bytes through L2 and DRAM.
        case memory
    }

    /// The profile's `name`.
    public var gpu: String
    /// Whether the profile was fitted on this GPU's own measurements.
    public var calibrated: Bool
    public var totalUs: Double
    public var launchFloorUs: Double
    /// The programs that exit at once, spread over the SMs.
    public var exitUs: Double
    /// Working programs: their summed latency over `smCount × residentPerSM` slots
    /// (the waves); the longest program alone is `programNs`.
    public var computeUs: Double
    /// `l2Us + dramUs`.
    public var memoryUs: Double
    public var l2Us: Double
    public var dramUs: Double
    public var exitingPrograms: Int
    public var workingPrograms: Int
    /// `cdiv(working, smCount × residentPerSM)`.
    public var waves: Int
    /// Programs one SM keeps in flight for this kernel.
    public var residentPerSM: Double
    /// Latency of the longest working program (ns).
    public var programNs: Double
    /// How long excess exits dispatched ahead of it hold the last working program back.
    public var delayUs: Double
    public var tileBytes: Int
    /// Bytes DRAM supplies after L2 reuse.
    public var dramBytes: Int
    public var bound: Bound

    /// The breakdown in a line, as the inspector and the text report print it.
    public var summary: String {
        let f = { (v: Double) in v < 10 ? String(format: "%.1f", v) : String(format: "%.0f", v) }
        let held = delayUs >= 0.05 ? " + held \(f(delayUs))" : ""
        return "floor \(f(launchFloorUs)) + norm4(longest \(f(programNs / 1000))\(held), exits \(f(exitUs)) + compute \(f(computeUs)), memory \(f(memoryUs))) µs; "
            + "\(waves) wave\(waves == 1 ? "" : "s") of \(workingPrograms) working, \(exitingPrograms) exiting; \(bound.rawValue)-bound"
    }
}

extension GPUEstimate {
    /// The breakdown in a short line for narrow panels, read under a heading
    /// that names the terms and their 4-norm: `3.2 + (1.0, 15 + 0.9, 0.2) µs, exits-bound`.
    public var compactSummary: String {
        let f = { (v: Double) in v < 10 ? String(format: "%.1f", v) : String(format: "%.0f", v) }
        let held = delayUs >= 0.05 ? "+\(f(delayUs))" : ""
        return "\(f(launchFloorUs)) + (\(f(programNs / 1000))\(held), \(f(exitUs)) + \(f(computeUs)), \(f(memoryUs))) µs, \(bound.rawValue)-bound"
    }
}

extension GPUProfile {
    /// The estimated time of a launch of `work` for `kernel` of a kernel
    /// family (`Strategy.kernelFamily`; pure; O(1)).
    public func estimate(_ work: GPUWork, kernel: Kernel, family: String = "triton") -> GPUEstimate {
        let cost = programCost(kernel, family: family)
        // Working programs hold one of an SM's `residentPerSM` slots for their
        // latency; each exiting program costs its SM a fixed time to dispatch
        // and retire. The launch lasts at least its longest program, and at
        // least the SM time of all programs spread over the SMs.
        let slots = Double(smCount) * cost.residentPerSM
        let exitUs = (Double(work.segmentExits) * cost.segmentExitNs + Double(work.excessExits) * cost.excessExitNs) / Double(smCount) / 1000
        let latency = cost.latency(permuted: work.permuted, aligned: work.alignedWidth)
        let longest = work.workingPrograms > 0 ? latency.startNs + Double(work.maxKSteps) * latency.stepNs : 0
        let throughput = wavesUseSortedVariant ? cost.latency(permuted: true) : latency
        let workingNs = Double(work.workingPrograms) * throughput.startNs + Double(work.kSteps) * throughput.stepNs
        let computeUs = workingNs / slots / 1000
        let unique = Double(work.uniqueBytes), l2 = Double(l2Bytes)
        let dramBytes = unique <= l2 ? unique * warmDRAMFraction : l2 * warmDRAMFraction + (unique - l2)
        let dramUs = work.workingPrograms > 0 ? dramBytes / (dramGBps * 1e3) : 0
        let l2Us = work.workingPrograms > 0 ? Double(work.tileBytes + work.overfetchBytes) / (l2GBps * 1e3) : 0
        let memoryUs = dramUs + l2Us
        let floorUs = launchFloorUs * Double(work.kernelLaunches)
        let occupancyUs = exitUs + computeUs
        // Excess exits ahead of working programs hold them back: each pair of a
        // working program and an exit dispatched before it, spread over the
        // SMs, by at most one program's latency in all.
        let held = exitDelayCountsPairs ? work.excessExitWorkPairs : work.excessExitsBeforeLastWork
        let delayUs = min(longest, Double(held) * cost.exitDelayNs / Double(smCount)) / 1000
        let latencyUs = longest / 1000 + delayUs
        let bodyUs = Self.overlap(latencyUs, occupancyUs, memoryUs)
        // The bound is the largest term, the one the others partly hide behind.
        let largest = max(latencyUs, occupancyUs, memoryUs)
        let bound: GPUEstimate.Bound
        if largest == 0 { bound = .floor }
        else if largest == memoryUs { bound = .memory }
        else if largest == latencyUs && delayUs > longest / 2000 { bound = .exits }
        else if largest == occupancyUs && exitUs > computeUs { bound = .exits }
        else { bound = .compute }
        return GPUEstimate(
            gpu: name, calibrated: calibrated,
            totalUs: floorUs + bodyUs,
            launchFloorUs: floorUs, exitUs: exitUs, computeUs: computeUs,
            memoryUs: memoryUs, l2Us: l2Us, dramUs: dramUs,
            exitingPrograms: work.segmentExits + work.excessExits, workingPrograms: work.workingPrograms,
            waves: cdiv(work.workingPrograms, max(1, Int(slots.rounded(.down)))), residentPerSM: cost.residentPerSM,
            programNs: longest, delayUs: delayUs, tileBytes: work.tileBytes, dramBytes: Int(dramBytes), bound: bound)
    }

    /// The exponent of the norm that combines the three terms of a launch's
    /// body. Chosen on the calibration records alone (`lora-viz gpu-fit`
    /// refitted at each): the speedup's direction agrees with the H200's in
    /// 85.2, 89.0, 90.0, 89.7 and 86.2 % of those cases at 2, 3, 4, 5 and 8,
    /// and 85.4 % with the plain max (gpu/RESULTS.md, "The 4-norm").
    public static let overlapNorm = 4.0

    /// The time the three overlapping terms take together: their
    /// `overlapNorm`-norm (the largest when one dominates, at most 3^¼ =
    /// 1.32× it when all three are equal).
    static func overlap(_ a: Double, _ b: Double, _ c: Double) -> Double {
        let m = max(a, b, c)
        guard m > 0 else { return 0 }
        // Scaled by the largest so the powers cannot overflow.
        let p = overlapNorm
        return m * pow(pow(a / m, p) + pow(b / m, p) + pow(c / m, p), 1 / p)
    }

    /// The estimated time of a launch plan.
    public func estimate(_ plan: LaunchPlan) -> GPUEstimate {
        estimate(plan.gpuWork, kernel: plan.kernel, family: plan.strategy.kernelFamily)
    }
}

extension LaunchPlan {
    /// The estimated time of this launch on `gpu`.
    public func gpuEstimate(on gpu: GPUProfile = .defaultProfile) -> GPUEstimate {
        gpu.estimate(self)
    }
}
