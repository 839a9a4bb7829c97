/// Which way a speedup points: the bar's three bands (> 1.1, < 0.9, between).
public enum SpeedupDirection: String, Hashable, Sendable {
    case faster, slower, even

    public init(_ speedup: Double) {
        self = speedup > Self.fasterAbove ? .faster : speedup < Self.slowerBelow ? .slower : .even
    }
}

/// The estimated per-sequence and sorted launches of one workload on one GPU.
public struct GPUComparison: Hashable, Sendable {
    public var profile: GPUProfile
    public var perSequence: GPUEstimate
    public var sorted: GPUEstimate

    public init(profile: GPUProfile, perSequence: GPUEstimate, sorted: GPUEstimate) {
        self.profile = profile
        self.perSequence = perSequence
        self.sorted = sorted
    }

    /// Estimated per-sequence time ÷ sorted time.
    public var speedup: Double { perSequence.totalUs / sorted.totalUs }

    /// `H200 est. 352 µs → 55 µs, 6.4×`.
    public var headline: String {
        "\(profile.estimateLabel) \(formatMicroseconds(perSequence.totalUs)) → \(formatMicroseconds(sorted.totalUs)), \(formatRatio(speedup))"
    }

    /// The headline for narrow panels: `H200 est. 6.4×: 352→55 µs`.
    public var compactHeadline: String {
        let a = formatMicroseconds(perSequence.totalUs), b = formatMicroseconds(sorted.totalUs)
        // One unit for both when they share it: `352→55 µs`, else `2.35 ms→55 µs`.
        let first = a.hasSuffix(" µs") && b.hasSuffix(" µs") ? String(a.dropLast(3)) : a
        return "\(profile.estimateLabel) \(formatRatio(speedup)): \(first)→\(b)"
    }

    /// One line saying why the CPU's ratio and the GPU estimate point different
    /// ways, or nil when they agree in direction.
    ///
    /// On the CPU an exiting program costs nothing (the executor never visits
    /// it); on a GPU each holds an SM slot for its loads (~70 ns of SM time on
    /// an H200), and the per-sequence launch pays a whole program's latency
    /// for each one-row tile.
    public func disagreement(cpuSpeedup: Double) -> String? {
        explanation(cpuSpeedup: cpuSpeedup).map {
            "CPU \(formatRatio(cpuSpeedup)), \(profile.displayName) est. \(formatRatio(speedup)): " + $0
        }
    }

    /// `disagreement` without the two ratios in front, for a panel that shows
    /// them already: "on the CPU exits are free; on an H200 28k exiting programs cost ~16 µs".
    public func explanation(cpuSpeedup: Double) -> String? {
        let cpu = SpeedupDirection(cpuSpeedup), gpu = SpeedupDirection(speedup)
        guard cpu != gpu else { return nil }
        let name = profile.displayName
        let extraExits = sorted.exitingPrograms - perSequence.exitingPrograms
        if gpu == .slower || (gpu == .even && cpu == .faster), extraExits > 0, sorted.exitUs > 0.5 {
            return "on the CPU exits are free; on an \(name) \(formatCount(sorted.exitingPrograms)) exiting programs cost ~\(formatMicroseconds(sorted.exitUs))"
        }
        if gpu == .faster {
            return "on the GPU each per-sequence program pays a full program's latency for one row; "
                + "\(formatCount(perSequence.workingPrograms)) of them take \(perSequence.waves) wave\(perSequence.waves == 1 ? "" : "s") against \(sorted.waves)"
        }
        return "the CPU does the same arithmetic either way; on the GPU the launch is \(sorted.bound.rawValue)-bound at \(formatMicroseconds(sorted.totalUs))"
    }
}

extension GPUProfile {
    /// Both routings of a workload, estimated on this GPU.
    public func compare(perSequence: LaunchPlan, sorted: LaunchPlan) -> GPUComparison {
        GPUComparison(profile: self, perSequence: estimate(perSequence), sorted: estimate(sorted))
    }
}

/// `3.3 µs`, `18.7 µs`, `352 µs`, `2.35 ms`.
public func formatMicroseconds(_ us: Double) -> String {
    if us >= 1000 { return String(format: "%.2f ms", us / 1000) }
    if us >= 100 { return String(format: "%.0f µs", us) }
    return String(format: "%.1f µs", us)
}

/// `6.4×`, `0.18×`.
public func formatRatio(_ r: Double) -> String {
    String(format: r >= 10 ? "%.1f×" : "%.2f×", r)
}

/// `448`, `28k`, `1.2M`.
public func formatCount(_ n: Int) -> String {
    if n >= 1_000_000 { return String(format: "%.1fM", Double(n) / 1e6) }
    if n >= 10_000 { return "\(n / 1000)k" }
    return "\(n)"
}
