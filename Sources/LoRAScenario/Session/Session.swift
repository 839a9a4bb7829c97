import LoRAKernels
import LoRAModels

/// What a command asks of whoever drives the session, beyond changing state.
///
/// `apply` never performs I/O or runs kernels: it returns the effect and the
/// driver (TUI, headless replay, `lora-viz run`) carries it out.
public enum SessionEffect: Hashable, Sendable {
    case none
    /// Time the chosen strategies: `KernelRunner.run` with `session.runOptions(reps:)`, then set `lastRun`.
    case run(reps: Int)
    /// Wait for a key in the TUI; nothing headless.
    case pause
    case sleep(seconds: Double)
    /// Write the current screen as text.
    case output(path: String, force: Bool = false)
    /// Start recording the session's commands into `path`.
    case record(path: String, force: Bool)
    /// Stop recording; write the file.
    case stopRecording
    /// Evaluate against `session.report()`.
    case expect(Expectation)
}

/// The state lora-viz shows: the workload (batch, dims, dtype, kernel, seed),
/// the script's title and narration, the inspector's selection and the last
/// kernel run.
///
/// `apply(_:)` is the only place the state changes; it validates every
/// command and leaves the session unchanged on error.
///
///     var session = Session()
///     _ = try session.apply(.adapter(name: "sql", rank: 16, scaling: 2, slot: nil))
///     _ = try session.apply(.seq(adapter: "sql", tokens: nil, count: 12))
///     session.plan(.sorted).fateCounts[.excessExit]
public struct Session: Sendable {
    /// What the kernels launch: batch, dims, dtype, kernel, seed.
    public var workload: Workload
    /// The scenario's title (`title "…"`).
    public var title: String?
    /// The narration shown under the grids (`narrate "…"`).
    public var narration: String?
    /// The program the inspector shows (`select …`); cleared when a change of
    /// the batch moves it outside its grid.
    public var selection: ProgramSelection?
    /// The last kernel run; whoever executes `.run` hands it over with `apply(run:)`.
    public private(set) var lastRun: KernelRunResult?
    /// Whether there is a run and it is not of the current workload,
    /// strategies and options (derived, so a change and its undo leave the
    /// run fresh again: it did measure that batch).
    public var runIsStale: Bool { lastRun != nil && freshRun == nil }
    /// The GPU whose estimate is shown beside every launch (`gpu NAME`).
    public var gpu: GPUProfile
    /// The strategies planned, drawn, run and reported, in order (`strategies NAME…`).
    public var strategies: [Strategy]
    /// csgmv's chunk, csgmv-graph's buffer, vLLM's specialisation.
    public var strategyOptions: StrategyOptions
    /// Measured GPU times (`lora-viz run --gpu-results`, the TUI's `--gpu-results`): the
    /// report shows the file whose batch fingerprint is the current batch's beside the estimate.
    public var gpuResults: [GPUBenchResults] = []
    /// The model config `model PATH` read, if any.
    public var model: ModelSource?
    /// Adapters read from PEFT folders (`adapter NAME from=PATH`), by adapter name.
    public var adapterFiles: [String: AdapterSource] = [:]
    /// What reading the adapter files for the current launch padded, zeroed or
    /// left out (`adapter: note`), derived after every command.
    public internal(set) var adapterNotes: [String] = []
    /// The decoder layer the layer table shows and adapter files are read at (`layer N`, 0-based).
    public var layerIndex = 0
    /// Whether the layer table is shown (`layer` / `layer off`); while it is,
    /// every `run` also times the layer's eight launches.
    public var showsLayer = false
    /// The last run of the layer's eight launches, in `LayerModule.layerLaunches` order
    /// (`apply(layerRun:)`).
    public private(set) var lastLayerRun: [KernelRunResult]?

    /// The defaults: a 7–8B model (hidden 4096, out 4096, q 4096, kv 1024,
    /// ffn 14336, R 64), 8 slots, bf16, decode, seed 42, `sgemm_lora_b`, an
    /// empty batch.
    public init() {
        workload = Workload()
        title = nil
        narration = nil
        selection = nil
        lastRun = nil
        gpu = .defaultProfile
        strategies = Strategy.defaults
        strategyOptions = StrategyOptions()
    }

    /// Takes the result of a `.run` the driver carried out (or `nil`, to forget
    /// the last): the only way `lastRun` changes. A result of another batch or
    /// strategies is kept, and `runIsStale` says so.
    public mutating func apply(run result: KernelRunResult?) {
        lastRun = result
    }

    /// Takes the layer's eight launches timed beside a `.run` (`showsLayer`).
    public mutating func apply(layerRun results: [KernelRunResult]?) {
        lastLayerRun = results
    }

    /// The estimated GPU time of one routing's launch on the session's GPU.
    public func gpuEstimate(_ routing: Strategy) -> GPUEstimate {
        gpu.estimate(plan(routing))
    }

    /// The launch plan of one strategy for the current workload.
    public func plan(_ strategy: Strategy) -> LaunchPlan {
        LaunchPlan(workload: workload, strategy: strategy, options: strategyOptions)
    }

    /// The plans of the chosen strategies, in order.
    public var plans: [LaunchPlan] { strategies.map(plan) }

    /// How a driver runs `.run(reps:)`: the chosen strategies, on every core.
    public func runOptions(reps: Int, threads: Int? = nil, keepTensors: Bool = false) -> KernelRunOptions {
        KernelRunOptions(reps: reps, threads: threads, keepTensors: keepTensors,
                         strategies: strategies, strategyOptions: strategyOptions)
    }

    /// The last run, when it ran the current workload and strategies.
    public var freshRun: KernelRunResult? {
        guard let run = lastRun, run.workload == workload,
              run.routings.map(\.routing) == strategies, run.strategyOptions == strategyOptions else { return nil }
        return run
    }
}
