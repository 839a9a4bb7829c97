import LoRAKernels

/// One decoder layer's eight LoRA launches (docs/layer.md): each module's
/// shrink and expand with the shape the layer runs it at, per chosen
/// strategy the programs launched and working, the GPU estimate and, after a
/// run, the CPU time; then the layer's totals, the model's (× its layers) and
/// the sorted routing's build, added once per forward pass.
///
/// Every figure comes from the launches' `LaunchPlan`s, `GPUProfile` and
/// `KernelRunResult`s; nothing is recomputed here.
public struct LayerReport: Hashable, Sendable {
    /// One strategy's figures for one launch, or summed over launches.
    public struct Figures: Hashable, Sendable {
        public var strategy: String
        public var launched: Int
        public var working: Int
        /// Estimated µs on the report's GPU (an estimate, never a measurement).
        public var gpuEstimateUs: Double
        public var gpuCalibrated: Bool
        /// Median CPU ms of the SIMD kernels, after a run of this launch.
        public var cpuMs: Double?

        static func sum(_ parts: [Figures]) -> Figures {
            Figures(strategy: parts[0].strategy, launched: parts.reduce(0) { $0 + $1.launched },
                    working: parts.reduce(0) { $0 + $1.working },
                    gpuEstimateUs: parts.reduce(0) { $0 + $1.gpuEstimateUs },
                    gpuCalibrated: parts.allSatisfy(\.gpuCalibrated),
                    cpuMs: parts.allSatisfy { $0.cpuMs != nil } ? parts.reduce(0) { $0 + $1.cpuMs! } : nil)
        }
    }

    /// One of the layer's launches.
    public struct Launch: Hashable, Sendable {
        public var module: LayerModule
        public var shrink: Bool
        /// `sgemm_lora_a`, …; `stack` for the shrink.
        public var kernel: String
        public var stack: Int?
        /// `S`, the token rows.
        public var tokens: Int
        /// The reduction length: the projection's input width (shrink) or `R` per slice (expand).
        public var k: Int
        /// Output columns: `stack·R` (shrink) or the projection's output width (expand).
        public var n: Int
        public var figures: [Figures]

        /// `qkv shrink`, `down expand`.
        public var name: String { module.launchName(shrink: shrink) }
    }

    /// The decoder layer shown (0-based).
    public var layer: Int
    /// `num_hidden_layers` of the loaded model, `nil` without one.
    public var layers: Int?
    /// The GPU profile the estimates are for.
    public var gpu: String
    public var launches: [Launch]
    /// Per strategy, summed over the eight launches.
    public var totals: [Figures]
    /// The sorted routing's build per forward pass (µs, the H200's measured
    /// figure) when sorted is chosen.
    public var routingBuildUs: Double?

    /// The layer of `session`'s batch: its eight launch workloads planned with
    /// the chosen strategies, `runs` (one per launch, in order) when given.
    ///
    /// - Throws: what `Session.layerWorkloads` throws (an adapter file that
    ///   does not fit a launch).
    public init(_ session: Session, runs: [KernelRunResult]?) throws {
        let workloads = try session.layerWorkloads()
        layer = session.layerIndex
        layers = session.modelLayers
        gpu = session.gpu.name
        let launches = zip(LayerModule.layerLaunches, workloads).enumerated().map { i, pair in
            let ((module, shrink), w) = pair
            let run = runs.flatMap { i < $0.count && $0[i].workload == w ? $0[i] : nil }
            let figures = session.strategies.map { s -> Figures in
                let plan = LaunchPlan(workload: w, strategy: s, options: session.strategyOptions)
                return Figures(strategy: s.name, launched: plan.launched, working: plan.fateCounts.working,
                               gpuEstimateUs: session.gpu.estimate(plan).totalUs,
                               gpuCalibrated: session.gpu.isCalibrated(for: s),
                               cpuMs: run?.run(s)?.time.median)
            }
            return Launch(module: module, shrink: shrink, kernel: w.kernel.name, stack: shrink ? w.kernel.stack : nil,
                          tokens: w.batch.totalTokens, k: shrink ? w.inputWidth : w.launchDims.maxRank,
                          n: w.outputWidth, figures: figures)
        }
        self.launches = launches
        totals = session.strategies.indices.map { j in Figures.sum(launches.map { $0.figures[j] }) }
        routingBuildUs = session.strategies.contains(.sorted)
            ? SortedRoutingBuild.graphUs(tokens: session.workload.batch.totalTokens) : nil
    }

    /// A strategy's estimate for a forward pass: the layer total × the model's
    /// layers, plus the routing build once (sorted); `nil` without a model.
    public func forwardPassUs(_ figures: Figures) -> Double? {
        guard let layers else { return nil }
        let build = figures.strategy == Strategy.sorted.name ? (routingBuildUs ?? 0) : 0
        return figures.gpuEstimateUs * Double(layers) + build
    }
}

extension Session {
    /// `num_hidden_layers` of the loaded model, if any.
    public var modelLayers: Int? { model?.config.layers }

    /// The workload of one of the layer's launches: the current batch, dims,
    /// dtype and seed with the module's kernel and shape, and the adapter
    /// files' ranks, scalings and weights for that module.
    public func launchWorkload(_ module: LayerModule, shrink: Bool) throws -> Workload {
        var s = self
        s.workload.kernel = module.kernel(shrink: shrink)
        s.workload.module = module
        try s.refreshAdapterFiles()
        return s.workload
    }

    /// The eight launch workloads of the layer, in `LayerModule.layerLaunches` order.
    public func layerWorkloads() throws -> [Workload] {
        try LayerModule.layerLaunches.map { try launchWorkload($0.module, shrink: $0.shrink) }
    }
}
