import LoRAKernels

// TEMPORARY, deleted when the `kernels` branch (which defines these in
// LoRAKernels, see /work/notes/API.md) is merged into `lang`: the shapes
// below copy that contract so Session and RunReport compile meanwhile.
// Nothing here runs a kernel.

public struct TimingSummary: Hashable, Sendable, Codable {
    public var median, min, max: Double
    public var samples: [Double]
    public init(samples: [Double]) {
        let s = samples.sorted()
        self.samples = samples
        self.median = s.isEmpty ? 0 : s[s.count / 2]
        self.min = s.first ?? 0
        self.max = s.last ?? 0
    }
}

public struct RoutingRun: Sendable {
    public var routing: RoutingKind
    public var time: TimingSummary
    public var maxAbsErrorVsReference: Double
    public var gflops: Double
    public init(routing: RoutingKind, time: TimingSummary, maxAbsErrorVsReference: Double, gflops: Double) {
        self.routing = routing
        self.time = time
        self.maxAbsErrorVsReference = maxAbsErrorVsReference
        self.gflops = gflops
    }
}

public struct KernelRunResult: Sendable {
    public var workload: Workload
    public var perSequence: RoutingRun
    public var sorted: RoutingRun
    public var routings: [RoutingRun] { [perSequence, sorted] }
    public var maxAbsDiffBetweenRoutings: Double
    public var bitwiseEqual: Bool
    public var speedup: Double
    public var threads: Int
    public init(workload: Workload, perSequence: RoutingRun, sorted: RoutingRun, maxAbsDiffBetweenRoutings: Double,
                bitwiseEqual: Bool, speedup: Double, threads: Int) {
        self.workload = workload
        self.perSequence = perSequence
        self.sorted = sorted
        self.maxAbsDiffBetweenRoutings = maxAbsDiffBetweenRoutings
        self.bitwiseEqual = bitwiseEqual
        self.speedup = speedup
        self.threads = threads
    }
}
