import LoRAKernels
import LoRAModels

/// One change of state, or one script action: a line of the command language.
///
/// Every way lora-viz changes state goes through a `Command`: a key press in
/// the TUI maps to one, the `:` prompt parses one, a scenario file is a list
/// of them, and a recording writes them back. `description` is the canonical
/// line the printer writes; `Command.parse(c.description) == c`.
///
///     slots 8
///     adapter sql rank=16 scaling=2
///     seq sql count=4
///     run reps=5
public enum Command: Hashable, Sendable {
    // MARK: Settings
    /// `slots N`: `max_loras_per_batch`.
    case slots(Int)
    /// `dims hidden=… out=… q=… kv=… ffn=… rank=…` (any non-empty subset).
    case dims(DimsChange)
    /// `dtype bf16|fp16|fp32`.
    case dtype(DType)
    /// `mode decode|extend`.
    case mode(Mode)
    /// `seed N`.
    case seed(UInt64)
    /// `gpu h200|h100|a100|l40s|b200` (`GPUProfile.names`, any case): the GPU
    /// whose estimated time the report and the TUI show beside every launch.
    case gpu(GPUProfile)

    /// `gpu-results FILE`: a `gpu-bench` results file measured on the current
    /// batch, shown beside the estimate (`lora-viz run --gpu-results` in a command).
    case gpuResults(GPUBenchResults)
    /// `model PATH`: a Hugging Face `config.json` (or its folder) sets the dims,
    /// the dtype (`torch_dtype`), the layer count and the model's name.
    case model(ModelSource)

    // MARK: Batch
    /// `adapter NAME from=PATH [slot=N]`: an adapter read from a PEFT folder; its
    /// rank, scaling and weights for the current launch come from the files.
    case adapterFile(name: String, source: AdapterSource, slot: Int?)
    /// `adapter NAME [rank=N] [scaling=F] [slot=N]`: define an adapter or change one.
    ///
    /// A new adapter needs `rank=`; a change keeps what it does not name.
    case adapter(name: String, rank: Int?, scaling: Float?, slot: Int?)
    /// `seq NAME [tokens=N] [count=N]`: append `count` sequences on adapter NAME.
    case seq(adapter: String, tokens: Int?, count: Int?)
    /// `set seq I [adapter=NAME] [tokens=N]`: change sequence `I` (0-based).
    case setSeq(index: Int, adapter: String?, tokens: Int?)
    /// `remove seq I` (0-based).
    case removeSeq(index: Int)
    /// `remove adapter NAME`: the adapter and every sequence on it.
    case removeAdapter(name: String)
    /// `clear`: remove every sequence and adapter; keep the settings.
    case clear
    /// `kernel sgemm_lora_a|sgemm_lora_b|qkv_lora_b|gate_up_lora_b [stack=1|2|3]`.
    case kernel(Kernel)
    /// `launch qkv|o|gate_up|down shrink|expand`: one of a decoder layer's eight
    /// launches, sized as the layer runs it (docs/layer.md: the `o` shrink reads
    /// `K` = q, the `down` shrink `K` = ffn, their expands write `N` = hidden).
    case launch(LayerModule, shrink: Bool)
    /// `layer [N]` shows decoder layer N's eight launches (and reads layer N of
    /// every adapter file); `layer off` hides the table.
    case layer(LayerChoice)
    /// `strategies NAME… [chunk=16|32|64|128] [graph_segments=N] [specialize=true|false]`:
    /// which strategies are planned, drawn, run and reported, in that order
    /// (default `per-sequence sorted`). A key not given keeps its value.
    case strategies(StrategyChoice)
    /// `run [reps=N]`: time the chosen strategies on the SIMD kernels.
    case run(reps: Int?)

    // MARK: Script
    /// `title "…"`.
    case title(String)
    /// `narrate "…"`.
    case narrate(String)
    /// `pause`: wait for a key in the TUI; nothing headless.
    case pause
    /// `sleep 1.5s` / `sleep 200ms`.
    case sleep(seconds: Double)
    /// `select STRATEGY X Y [Z]`: move the inspector to a program of a chosen strategy.
    ///
    /// The grid's axes in order: 2-D grids `X`=pid `Y`=segment; 3-D grids
    /// `X`=pid `Y`=slice `Z`=segment. The session checks them against the plan.
    case select(routing: Strategy, x: Int, y: Int, z: Int?)
    /// `expect PATH OP VALUE`.
    case expect(Expectation)
    /// `output FILE [force=true]`: write the current screen as text (an existing file needs `force`).
    case output(path: String, force: Bool = false)
    /// `record FILE [force=true]`: start recording the session's commands.
    case record(path: String, force: Bool)
    /// `stop`: stop recording and write the file.
    case stop
}

extension Command {
    /// Every verb of the language, in the order the help lists them (`VerbSpec.table`).
    public static var verbs: [String] { VerbSpec.names }

    /// The verb that starts the command's line.
    public var verb: String { spec.name }

    /// The spec of the command's verb.
    var spec: VerbSpec {
        switch self {
        case .slots: return .slots
        case .dims: return .dims
        case .dtype: return .dtype
        case .mode: return .mode
        case .seed: return .seed
        case .gpu: return .gpu
        case .model: return .model
        case .gpuResults: return .gpuResults
        case .adapter, .adapterFile: return .adapter
        case .seq: return .seq
        case .setSeq: return .set
        case .removeSeq, .removeAdapter: return .remove
        case .clear: return .clear
        case .kernel: return .kernel
        case .launch: return .launch
        case .layer: return .layer
        case .strategies: return .strategies
        case .run: return .run
        case .title: return .title
        case .narrate: return .narrate
        case .pause: return .pause
        case .sleep: return .sleep
        case .select: return .select
        case .expect: return .expect
        case .output: return .output
        case .record: return .record
        case .stop: return .stop
        }
    }
}
