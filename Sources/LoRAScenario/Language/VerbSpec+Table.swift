import LoRAKernels
import LoRAModels

extension VerbSpec {
    /// Every verb, in the order the help, the "unknown verb" error and the docs list them.
    public static let table: [VerbSpec] = [
        slots, dims, dtype, mode, seed, gpu, gpuResults, model, adapter, seq, set, remove, clear, kernel,
        launch, layer, strategies, run, title, narrate, pause, sleep, select, expect, output, record, stop,
    ]

    // MARK: Settings

    public static let slots = VerbSpec("slots", [
        Form([.positional(Positional("N", Batch.Limits.slots, label: "slots"))],
             "`max_loras_per_batch`, \(span(Batch.Limits.slots)); refused while an adapter sits in a slot ≥ N"),
    ]) { try $0.slots() }

    public static let dims = VerbSpec("dims", [
        Form([Key.hidden, .out, .q, .kv, .ffn, .maxRank].map { .key($0, optional: true) },
             "any non-empty subset, \(span(ModelDims.dimensionLimit)) (`rank` = R, \(span(ModelDims.rankLimit))); "
                + "refused when an adapter's rank > R"),
    ]) { try $0.dims() }

    public static let dtype = VerbSpec("dtype", [
        Form([.positional(Positional("T", choices: DType.allCases.map(\.rawValue)))],
             "the element type of the kernels' tensors: x, the weights, the base and the outputs (the reference stays fp64)"),
    ]) { try $0.dtype() }

    public static let mode = VerbSpec("mode", [
        Form([.positional(Positional("M", choices: Mode.allCases.map(\.rawValue)))],
             "decode (one token per sequence) or extend (`tokens=` per sequence)"),
    ]) { try $0.mode() }

    public static let seed = VerbSpec("seed", [
        Form([.positional(Positional("N"))], "the seed of the inputs and of the weights not read from files"),
    ]) { try $0.seed() }

    public static let gpu = VerbSpec("gpu", [
        Form([.positional(Positional("NAME", choices: GPUProfile.names))],
             "the GPU whose **estimated** time the report and the TUI show beside every launch (any case: `gpu H100`); "
                + "default `h200`, the one profile calibrated on measurements ([`gpu-model.md`](gpu-model.md)); the others are "
                + "labelled `(uncalibrated)` wherever shown. Changes no workload: a run stays fresh. `gpu PROFILE.json` (a word "
                + "with a `/` or ending `.json`, relative to the working directory) loads a profile `lora-viz calibrate` wrote; "
                + "the report's `gpu` is then that path, and a recording writes it back as `gpu PATH`"),
    ]) { try $0.gpu() }

    public static let gpuResults = VerbSpec("gpu-results", [
        Form([.positional(Positional("FILE", completion: .path))],
             "attaches a `gpu-bench` results file measured on the current batch: its measured µs show beside the estimate "
                + "(as `lora-viz run --gpu-results`); a file of another batch is refused, naming the field that differs "
                + "([`gpu-model.md`](gpu-model.md))"),
    ], note: "a gpu-results.json of lora-viz gpu-bench's script, measured on this batch") { try $0.gpuResults() }

    public static let model = VerbSpec("model", [
        Form([.positional(Positional("PATH", completion: .path))],
             "reads a Hugging Face `config.json` (or its folder): the dims, the dtype, the layer count and the model's name "
                + "([`models.md`](models.md))"),
    ], note: "a config.json or its folder") { try $0.model() }

    // MARK: Batch

    private static let adapterName = Word.positional(Positional("NAME", completion: .adapter))

    /// Two forms: `rank=` defines or changes an adapter, `from=` reads one from files.
    public static let adapter = VerbSpec("adapter", [
        Form([adapterName, .key(.rank, optional: false), .key(.scaling, optional: true), .key(.slot, optional: true)],
             "defines an adapter (first free slot unless `slot=`; scaling 1 by default) or changes one (keeps what it does "
                + "not name). `rank=0` is a base-model slot. rank ≤ R, scaling \(span(CommandLimits.scaling))"),
        Form([adapterName, .key(.from, optional: false), .key(.slot, optional: true)],
             "an adapter read from a PEFT folder: rank, scaling and, for the current launch and layer, the kernels' weights "
                + "come from its files; `rank=`/`scaling=` are refused beside `from=` ([`models.md`](models.md))"),
    ]) { try $0.adapter() }

    public static let seq = VerbSpec("seq", [
        Form([adapterName, .key(.tokens, optional: true), .key(.count, optional: true)],
             "appends `count` (default 1) sequences on adapter NAME. In decode every sequence is one token; `tokens=` is "
                + "kept for `mode extend` (default 1)"),
    ]) { try $0.seq() }

    /// A sequence, 0-based, below the sequence limit.
    private static let sequenceIndex = Word.positional(
        Positional("I", 0...(Batch.Limits.sequences.upperBound - 1), label: "sequence index"))

    public static let set = VerbSpec("set", [
        Form([.literal("seq"), sequenceIndex, .key(.adapter, optional: true), .key(.tokens, optional: true)],
             "changes sequence I (0-based)"),
    ]) { try $0.set() }

    public static let remove = VerbSpec("remove", [
        Form([.literal("seq"), sequenceIndex], "removes sequence I (0-based)"),
        Form([.literal("adapter"), adapterName], "removes the adapter **and every sequence on it**"),
    ]) { try $0.remove() }

    public static let clear = VerbSpec("clear", [
        Form([], "removes all sequences and adapters; keeps slots, dims, dtype, mode, seed, kernel, gpu and the chosen "
                + "strategies with their options"),
    ]) { try $0.clear() }

    public static let kernel = VerbSpec("kernel", [
        Form([.positional(Positional("NAME", choices: Kernel.names)), .key(.stack, optional: true)],
             "`stack` only for the shrink; the bare kernel reads `dims` as given (the shrink's K = hidden, "
                + "`sgemm_lora_b`'s N = out)"),
    ]) { try $0.kernel() }

    public static let launch = VerbSpec("launch", [
        Form([.positional(Positional("MODULE", choices: LayerModule.allCases.map(\.rawValue))),
              .positional(Positional("HALF", choices: ["shrink", "expand"]))],
             "one of a decoder layer's eight launches, sized as the layer runs it: the `o` shrink reads K = q, the `down` "
                + "shrink K = ffn, their expands write N = hidden ([`layer.md`](layer.md))"),
    ]) { try $0.launch() }

    public static let layer = VerbSpec("layer", [
        Form([.optional(Positional("N", CommandLimits.layer, label: "layer"))],
             "shows decoder layer N's eight launches (0-based, default the current one, 0 at first): the TUI draws the "
                + "layer table in place of the grids, and every report carries a `layer` object; while it is shown, every "
                + "`run` also times the eight launches ([`layer.md`](layer.md))"),
        Form([.literal("off")], "hides the layer table (the layer stays chosen)"),
    ]) { try $0.layer() }

    public static let strategies = VerbSpec("strategies", [
        // The docs list the strategies under "Choosing strategies".
        Form([.repeated(Positional("NAME", choices: Strategy.names, spelledInDocs: false)),
              .key(.chunk, optional: true), .key(.graphSegments, optional: true), .key(.specialize, optional: true)],
             "which launch strategies are planned, drawn, estimated, run and reported, in the order named (default "
                + "`per-sequence sorted`); below"),
    ]) { try $0.strategies() }

    public static let run = VerbSpec("run", [
        Form([.key(.reps, optional: true)],
             "times the chosen strategies on the SIMD kernels (reps \(span(CommandLimits.reps)), default \(CommandLimits.defaultReps))"),
    ]) { try $0.run() }

    // MARK: Script

    private static let text = Word.positional(Positional("\"TEXT\""))

    public static let title = VerbSpec("title", [
        Form([text], "shown by the TUI; printed by headless replay"),
    ]) { try $0.text(Command.title) }

    public static let narrate = VerbSpec("narrate", [
        Form([text], "shown by the TUI; printed by headless replay; `narrate \"\"` closes the narration panel"),
    ]) { try $0.text(Command.narrate) }

    public static let pause = VerbSpec("pause", [
        Form([], "waits for a key in the TUI; headless replay goes on"),
    ]) { try $0.pause() }

    public static let sleep = VerbSpec("sleep", [
        Form([.positional(Positional("DURATION"))],
             "waits (\(Printer.number(CommandLimits.sleepSeconds.lowerBound))–\(Printer.number(CommandLimits.sleepSeconds.upperBound)) s, "
                + "like `1.5s` or `200ms`); headless: virtual time"),
    ], note: "1.5s, 200ms") { try $0.sleep() }

    /// A grid axis as `select` takes it: what a launch's grid can hold; the session checks the plan's.
    private static let axis = 0...Int(Int32.max)

    public static let select = VerbSpec("select", [
        Form([.positional(Positional("STRATEGY", choices: Strategy.names, spelledInDocs: false)),
              .positional(Positional("X", axis)), .positional(Positional("Y", axis)), .optional(Positional("Z", axis))],
             "inspector on a program of a chosen strategy; 2-D grids X=pid Y=segment, 3-D grids X=pid Y=slice Z=segment "
                + "(vLLM: Z is the LoRA group); checked against that strategy's grid"),
    ]) { try $0.select() }

    public static let expect = VerbSpec("expect", [
        // The usage line spells the operators out; Tab after a path offers none, and the docs say them in the effect.
        Form([.positional(Positional("PATH")),
              .positional(Positional("OP", choices: Expectation.Comparison.allCases.map(\.rawValue), completion: Completion.none,
                                     spelledInDocs: false)),
              .positional(Positional("VALUE"))],
             "OP `== != < <= > >=`; VALUE a number, `true`/`false`, a `\"string\"`, a list `[16, 26, 1]` or another PATH"),
    ]) { try $0.expect() }

    public static let output = VerbSpec("output", [
        Form([.positional(Positional("FILE", completion: .path)), .key(.force, optional: true)],
             "writes the current screen as text (see [Files written](#files-written))"),
    ]) { try $0.output() }

    public static let record = VerbSpec("record", [
        Form([.positional(Positional("FILE", completion: .path)), .key(.force, optional: true)],
             "records the state at `record` as commands, then every command applied until `stop` (consecutive `select`s as the last; `output`, `expect`, `pause`, `sleep` left out): the TUI and a headless replay write the same file (see [Files written](#files-written))"),
    ]) { try $0.record() }

    public static let stop = VerbSpec("stop", [
        Form([], "stops recording and writes the file (see [Files written](#files-written))"),
    ]) { try $0.stop() }

    /// `−1024…1024`, as the docs write a range of decimals.
    static func span(_ range: ClosedRange<Float>) -> String {
        [range.lowerBound, range.upperBound].map { Printer.number($0).replacingOccurrences(of: "-", with: "−") }.joined(separator: "…")
    }
}

// MARK: - Keys

extension VerbSpec.Key {
    static let hidden = Self("hidden", .int(ModelDims.dimensionLimit))
    static let out = Self("out", .int(ModelDims.dimensionLimit))
    static let q = Self("q", .int(ModelDims.dimensionLimit))
    static let kv = Self("kv", .int(ModelDims.dimensionLimit))
    static let ffn = Self("ffn", .int(ModelDims.dimensionLimit))
    /// `dims rank=`: the model's max rank R.
    static let maxRank = Self("rank", .int(ModelDims.rankLimit))
    /// `adapter rank=`: 0 is a base-model slot.
    static let rank = Self("rank", .int(CommandLimits.rank))
    static let scaling = Self("scaling", .float(CommandLimits.scaling))
    static let slot = Self("slot", .int(0...(Batch.Limits.slots.upperBound - 1)))
    static let from = Self("from", .path)
    static let tokens = Self("tokens", .int(Batch.Limits.tokensPerSequence))
    static let count = Self("count", .int(Batch.Limits.sequences))
    static let adapter = Self("adapter", .name)
    static let stack = Self("stack", .int(CommandLimits.stack), choices: CommandLimits.stack.map(String.init))
    static let chunk = Self("chunk", .int(StrategyOptions.chunks.first!...StrategyOptions.chunks.last!),
                            choices: StrategyOptions.chunks.map(String.init))
    static let graphSegments = Self("graph_segments", .int(1...StrategyOptions.graphSegmentLimit))
    static let specialize = Self("specialize", .bool)
    static let reps = Self("reps", .int(CommandLimits.reps))
    /// Shown `force=true`: `false` is what leaving it out means.
    static let force = Self("force", .bool, placeholder: "true")
}

// MARK: - One parse function per verb

extension ArgumentReader {
    mutating func slots() throws -> Command {
        try expect(form: 0)
        return .slots(try int(positional: 0))
    }

    mutating func dims() throws -> Command {
        try expect(form: 0)
        guard hasKeys else {
            let keys = spec.forms[0].keys.map { "\($0.name)=" }.joined(separator: ", ")
            throw error(at: nil, "dims needs at least one of \(keys); \(usage)")
        }
        var change = DimsChange()
        change.hidden = try int(.hidden)
        change.out = try int(.out)
        change.q = try int(.q)
        change.kv = try int(.kv)
        change.ffn = try int(.ffn)
        change.maxRank = try int(.maxRank)
        return .dims(change)
    }

    mutating func dtype() throws -> Command { .dtype(try oneCase("dtype")) }

    mutating func mode() throws -> Command { .mode(try oneCase("mode")) }

    /// The one positional of `dtype` and `mode`: a case of `T` by its name.
    private mutating func oneCase<T: CaseIterable & RawRepresentable>(_ what: String) throws -> T where T.RawValue == String {
        try expect(form: 0)
        let t = try positional(0, "a \(what)")
        guard let value = T(rawValue: t.value), t.kind == .word else {
            let names = T.allCases.map(\.rawValue)
            throw error(at: t, "unknown \(what) '\(t.value)'; expected \(names.dropLast().joined(separator: ", ")) or \(names.last!)")
        }
        return value
    }

    mutating func seed() throws -> Command {
        try expect(form: 0)
        let t = try positional(0, "N")
        // `+8` is accepted as every other whole number is.
        guard Numbers.isInteger(t.value), let seed = UInt64(t.value) else {
            throw error(at: t, "bad number '\(t.value)' for seed: expected a whole number 0…\(UInt64.max)")
        }
        return .seed(seed)
    }

    mutating func gpu() throws -> Command {
        try expect(form: 0)
        let t = try positional(0, "a GPU name")
        // A path (a `/`, or ending .json): a profile file of `lora-viz calibrate`.
        if t.value.contains("/") || t.value.lowercased().hasSuffix(".json") {
            do {
                return .gpu(try GPUProfile.load(path: t.value))
            } catch let e as GPUBenchError {
                throw error(at: t, e.message)
            }
        }
        guard t.kind == .word else { throw error(at: t, "expected a GPU name, found a string; \(usage)") }
        guard let profile = GPUProfile.named(t.value) else {
            var message = "unknown GPU '\(t.value)'"
            if let near = Suggestion.nearest(to: t.value, in: GPUProfile.names) { message += "; did you mean '\(near)'?" }
            throw error(at: t, message + " (GPUs: \(GPUProfile.names.joined(separator: ", ")))")
        }
        return .gpu(profile)
    }

    mutating func gpuResults() throws -> Command {
        try expect(form: 0)
        let t = try positional(0, "FILE")
        do {
            return .gpuResults(try GPUBenchResults.load(path: try path(t)))
        } catch let e as GPUBenchError {
            throw error(at: t, e.message)
        }
    }

    mutating func model() throws -> Command {
        try expect(form: 0)
        let t = try positional(0, "PATH")
        let file = try path(t)
        do {
            return .model(ModelSource(path: file, config: try ModelConfig.load(path: file)))
        } catch let e as ModelFileError {
            throw error(at: t, "\(e)")
        }
    }

    /// `from=` picks the form read from files; without it, `rank=` and `scaling=`.
    mutating func adapter() throws -> Command {
        guard let from = key(VerbSpec.Key.from.name) else {
            try expect(form: 0)
            let name = try self.name(positional(0, "NAME"))
            return .adapter(name: name, rank: try int(.rank), scaling: try float(.scaling), slot: try int(.slot))
        }
        try expect(form: 1, refusing: [
            "rank": "an adapter read from files takes its rank from adapter_config.json",
            "scaling": "an adapter read from files takes its scaling from adapter_config.json (lora_alpha, use_rslora)",
        ])
        let name = try self.name(positional(0, "NAME"))
        let folder = try path(from)
        let slot = try int(.slot)
        do {
            return .adapterFile(name: name, source: AdapterSource(path: folder, adapter: try PEFTAdapter.load(folder: folder)), slot: slot)
        } catch let e as ModelFileError {
            throw error(at: from, "\(e)", value: true)
        }
    }

    mutating func seq() throws -> Command {
        try expect(form: 0)
        let name = try self.name(positional(0, "NAME"))
        return .seq(adapter: name, tokens: try int(.tokens), count: try int(.count))
    }

    mutating func set() throws -> Command {
        let what = try positional(0, "'seq'")
        guard what.kind == .word, what.value == "seq" else {
            throw error(at: what, "'set' changes a sequence: expected 'seq', found '\(what.spelling)'; \(usage)")
        }
        try expect(form: 0)
        let index = try int(positional: 1)
        let adapter = try name(.adapter)
        let tokens = try int(.tokens)
        if adapter == nil, tokens == nil {
            throw error(at: nil, "set seq needs adapter= or tokens=; \(usage)")
        }
        return .setSeq(index: index, adapter: adapter, tokens: tokens)
    }

    mutating func remove() throws -> Command {
        let what = try positional(0, "'seq' or 'adapter'")
        switch (what.kind, what.value) {
        case (.word, "seq"):
            try expect(form: 0)
            return .removeSeq(index: try int(positional: 1))
        case (.word, "adapter"):
            try expect(form: 1)
            return .removeAdapter(name: try name(positional(1, "NAME")))
        default:
            throw error(at: what, "'remove' takes 'seq I' or 'adapter NAME', found '\(what.spelling)'")
        }
    }

    mutating func clear() throws -> Command {
        try expect(form: 0)
        return .clear
    }

    mutating func kernel() throws -> Command {
        try expect(form: 0)
        let t = try positional(0, "a kernel name")
        guard t.kind == .word, Kernel.names.contains(t.value) else {
            var message = "unknown kernel '\(t.value)'"
            if let near = Suggestion.nearest(to: t.value, in: Kernel.names) { message += "; did you mean '\(near)'?" }
            throw error(at: t, message + " (kernels: \(Kernel.names.joined(separator: ", ")))")
        }
        let shrink = Kernel.sgemmLoRAA(stack: 1).name
        if let s = key(VerbSpec.Key.stack.name), t.value != shrink {
            throw error(at: s, "stack= applies only to \(shrink) (the shrink), not \(t.value)")
        }
        return .kernel(Kernel(name: t.value, stack: try int(.stack) ?? 1)!)
    }

    mutating func launch() throws -> Command {
        try expect(form: 0)
        let t = try positional(0, "a module")
        let names = LayerModule.allCases.map(\.rawValue)
        guard t.kind == .word, let module = LayerModule(rawValue: t.value) else {
            var message = "unknown module '\(t.value)'"
            if let near = Suggestion.nearest(to: t.value, in: names) { message += "; did you mean '\(near)'?" }
            throw error(at: t, message + " (modules: \(names.joined(separator: ", ")))")
        }
        let half = try positional(1, "shrink or expand")
        guard half.kind == .word, half.value == "shrink" || half.value == "expand" else {
            throw error(at: half, "expected shrink or expand, found '\(half.spelling)'; \(usage)")
        }
        return .launch(module, shrink: half.value == "shrink")
    }

    /// `layer`, `layer N` or `layer off`: both forms take one positional at most.
    mutating func layer() throws -> Command {
        try expect(form: 0)
        guard let t = positionals.first else { return .layer(.show(index: nil)) }
        if t.kind == .word, t.value == "off" { return .layer(.hide) }
        return .layer(.show(index: try int(positional: 0)))
    }

    mutating func strategies() throws -> Command {
        try expect(form: 0)
        guard !positionals.isEmpty else { throw error(at: nil, "missing a strategy name; \(usage)") }
        var chosen: [Strategy] = []
        for t in positionals {
            let strategy = try strategy(t)
            if chosen.contains(strategy) { throw error(at: t, "'\(t.value)' is named twice") }
            chosen.append(strategy)
        }
        var choice = StrategyChoice(chosen)
        if let t = key(VerbSpec.Key.chunk.name) {
            let c = try int(.chunk)!
            guard StrategyOptions.chunks.contains(c) else {
                throw error(at: t, "chunk=\(c) is not a csgmv chunk size (\(StrategyOptions.chunks.map(String.init).joined(separator: ", ")))", value: true)
            }
            choice.chunk = c
        }
        choice.graphSegments = try int(.graphSegments)
        choice.specialize = try bool(.specialize)
        return .strategies(choice)
    }

    mutating func run() throws -> Command {
        try expect(form: 0)
        return .run(reps: try int(.reps))
    }

    /// `title` and `narrate`: one string.
    mutating func text(_ command: (String) -> Command) throws -> Command {
        try expect(form: 0)
        return command(try positional(0, "\"TEXT\"").value)
    }

    mutating func pause() throws -> Command {
        try expect(form: 0)
        return .pause
    }

    mutating func sleep() throws -> Command {
        try expect(form: 0)
        return .sleep(seconds: try duration(positional(0, "a duration")))
    }

    mutating func select() throws -> Command {
        let routing = try strategy(positional(0, "a strategy name"))
        try expect(form: 0)
        let x = try int(positional: 1)
        let y = try int(positional: 2)
        let z = positionals.count > 3 ? try int(positional: 3) : nil
        return .select(routing: routing, x: x, y: y, z: z)
    }

    mutating func expect() throws -> Command {
        try joinList()
        try expect(positions: spec.forms[0].positionalLimit)
        return .expect(try expectation())
    }

    mutating func output() throws -> Command {
        try expect(form: 0)
        return .output(path: try path(positional(0, "FILE")), force: try bool(.force) ?? false)
    }

    mutating func record() throws -> Command {
        try expect(form: 0)
        return .record(path: try path(positional(0, "FILE")), force: try bool(.force) ?? false)
    }

    mutating func stop() throws -> Command {
        try expect(form: 0)
        return .stop
    }
}
