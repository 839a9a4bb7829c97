import LoRAKernels
import LoRAScenario

/// What a key does when it is not a command of the language.
public enum UIAction: Hashable, Sendable {
    case quit
    case help
    case openPrompt
    case closeOverlay
    case undo
    case redo
    case switchGrid
    /// The focused pane shows the next chosen strategy the other pane does not.
    case cycleStrategy
    case zoomIn
    case zoomOut
    case zoomFit
    /// Show or hide the sweep chart of the current batch.
    case toggleSweep
    /// The message log: every status message of the session, in full.
    case messageLog
    /// List the shipped demos; Enter plays one.
    case demoMenu
    /// Give the terminal back to the shell until `fg` (Ctrl-Z).
    case suspend
    /// The inspector and run panel grow to show every line (the grids give way), or back.
    case expandPanels
    /// The colour-blind-safe palette, or back to the default one.
    case togglePalette
    case replayToggle
    case replayNext
    case replayFaster
    case replaySlower
}

/// One entry of the key table that drives both the dispatch and the help
/// overlay, so the two cannot disagree.
public struct KeyBinding: Sendable {
    /// Where the help overlay lists a binding.
    public enum Group: String, CaseIterable, Sendable {
        case move = "Move and inspect"
        case batch = "Build the batch"
        case run = "Run and history"
        case view = "View"
        case replay = "Replay"
    }

    /// What pressing the key does.
    public enum Effect: Sendable {
        /// A command of the language, built from the state (nil: not possible now; `why` says so).
        case command(@Sendable (AppState, Key) -> Result<Command, KeyRefusal>)
        case ui(UIAction)
        /// A pair of opposite UI actions on one line of the help (`z`/`Z`, `+`/`-`): the key picks.
        case uiPair(UIAction, UIAction)
    }

    public var keys: [Key]
    public var group: Group
    /// What the help overlay says.
    public var summary: String
    /// The command's shape as the help overlay shows it (`remove seq I`), for command keys:
    /// built by `VerbSpec.shape`, so a verb or key renamed in the language renames it here.
    public var commandShape: String?
    /// A short label for the hint line (nil: not in the hint line).
    public var hint: String?
    public var effect: Effect
    /// Whether the key acts only while a scenario replays.
    public var replayOnly = false
    /// Whether the hint is worth its room now (nil: always): a key that can do nothing stays out of the line.
    public var hintApplies: (@Sendable (AppState) -> Bool)?
}

/// Why a key has no command to give right now (shown in the status line).
public struct KeyRefusal: Error, Hashable, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
}

extension KeyBinding {
    /// The table: every key the app knows.
    public static let table: [KeyBinding] = [
        // Move and inspect.
        move([.left, .char("h")], "cursor left (one cell)", hint: "hjkl move", dx: -1, dy: 0),
        move([.right, .char("l")], "cursor right", dx: 1, dy: 0),
        move([.up, .char("k"), .wheelUp], "cursor up", dx: 0, dy: -1),
        move([.down, .char("j"), .wheelDown], "cursor down", dx: 0, dy: 1),
        // Opposite pairs share a line of the help (it must fit 80×24).
        KeyBinding(keys: [.pageUp, .pageDown], group: .move, summary: "cursor up / down a page",
                   commandShape: VerbSpec.select.shape(),
                   effect: .command { s, k in s.moveCommand(dx: 0, dy: (k == .pageUp ? -1 : 1) * (Int.max / 4)) }),
        KeyBinding(keys: [.home, .end], group: .move, summary: "first / last of the row",
                   commandShape: VerbSpec.select.shape(),
                   effect: .command { s, k in s.moveCommand(dx: (k == .home ? -1 : 1) * (Int.max / 4), dy: 0) }),
        KeyBinding(keys: [.tab, .backTab], group: .move, summary: "other grid, same work", hint: "Tab grid",
                   effect: .ui(.switchGrid), hintApplies: { $0.panes.count > 1 }),
        KeyBinding(keys: [.char("s")], group: .move, summary: "next chosen strategy", hint: "s strategy",
                   effect: .ui(.cycleStrategy), hintApplies: { $0.nextPaneStrategy != nil }),
        // Build the batch.
        KeyBinding(keys: [.char("a")], group: .batch, summary: "add seq, same adapter",
                   commandShape: VerbSpec.seq.shape(), hint: "a add seq", effect: .command { s, _ in s.addSequenceCommand() }),
        KeyBinding(keys: [.char("x"), .delete], group: .batch, summary: "remove selected sequence",
                   commandShape: VerbSpec.remove.shape(form: 0), hint: "x del seq", effect: .command { s, _ in s.removeSequenceCommand() }),
        KeyBinding(keys: [.char("c")], group: .batch, summary: "sequence to next adapter",
                   commandShape: VerbSpec.set.shape(keys: ["adapter": nil]), hint: "c adapter", effect: .command { s, _ in s.cycleAdapterCommand() }),
        KeyBinding(keys: [.char(","), .char(".")], group: .batch, summary: "tokens /2 *2 (extend)",
                   commandShape: VerbSpec.set.shape(keys: ["tokens": nil]), effect: .command { s, k in s.tokensCommand(halve: k == .char(",")) }),
        KeyBinding(keys: [.char("A")], group: .batch, summary: "add adapter (rank 16)",
                   commandShape: VerbSpec.adapter.shape(keys: ["rank": "16", "slot": "S"]), effect: .command { s, _ in s.addAdapterCommand() }),
        KeyBinding(keys: [.char("X")], group: .batch, summary: "remove selected adapter",
                   commandShape: VerbSpec.remove.shape(form: 1), effect: .command { s, _ in s.removeAdapterCommand() }),
        KeyBinding(keys: [.char("["), .char("]")], group: .batch, summary: "adapter rank /2 *2",
                   commandShape: VerbSpec.adapter.shape(keys: ["rank": nil]), effect: .command { s, k in s.rankCommand(halve: k == .char("[")) }),
        KeyBinding(keys: [.char("{"), .char("}")], group: .batch, summary: "adapter scaling /2 *2",
                   commandShape: VerbSpec.adapter.shape(keys: ["scaling": nil]), effect: .command { s, k in s.scalingCommand(halve: k == .char("{")) }),
        KeyBinding(keys: [.char("<"), .char(">")], group: .batch, summary: "slots -1 / +1 (mlpb)",
                   commandShape: VerbSpec.slots.shape(), effect: .command { s, k in s.slotsCommand(delta: k == .char("<") ? -1 : 1) }),
        KeyBinding(keys: [.char("t")], group: .batch, summary: "next kernel", commandShape: VerbSpec.kernel.shape(),
                   hint: "t kernel", effect: .command { s, _ in s.nextKernelCommand() }),
        KeyBinding(keys: [.char("T")], group: .batch, summary: "shrink stack 1, 2, 3",
                   commandShape: VerbSpec.kernel.shape(values: [Kernel.sgemmLoRAA(stack: 1).name], keys: ["stack": "N"]), effect: .command { s, _ in s.nextStackCommand() }),
        KeyBinding(keys: [.char("L")], group: .view, summary: "layer table: 8 launches",
                   commandShape: VerbSpec.layer.shape(positionals: 0) + " | " + VerbSpec.layer.shape(form: 1), hint: "L layer",
                   effect: .command { s, _ in .success(.layer(s.session.showsLayer ? .hide : .show(index: nil))) }),
        KeyBinding(keys: [.enter], group: .view, summary: "layer table: its grids",
                   commandShape: VerbSpec.layer.shape(form: 1), effect: .command { s, _ in
                       s.session.showsLayer ? .success(.layer(.hide)) : .failure(KeyRefusal("Enter acts in the layer table (L opens it)"))
                   }, hintApplies: { $0.session.showsLayer }),
        KeyBinding(keys: [.char("y")], group: .batch, summary: "cycle bf16 / fp16 / fp32", commandShape: VerbSpec.dtype.shape(),
                   effect: .command { s, _ in s.nextDTypeCommand() }),
        KeyBinding(keys: [.char("m")], group: .batch, summary: "toggle decode / extend", commandShape: VerbSpec.mode.shape(),
                   effect: .command { s, _ in s.toggleModeCommand() }),
        KeyBinding(keys: [.char("g")], group: .batch, summary: "next GPU for the estimates", commandShape: VerbSpec.gpu.shape(),
                   effect: .command { s, _ in s.nextGPUCommand() }),
        // Run and history.
        KeyBinding(keys: [.char("r")], group: .run, summary: "run kernels, every strategy",
                   commandShape: VerbSpec.run.shape(), hint: "r run",
                   effect: .command { s, _ in s.run == nil ? .success(.run(reps: nil)) : .failure(KeyRefusal(s.runInProgressMessage)) }),
        KeyBinding(keys: [.char("u"), .ctrl("r")], group: .run, summary: "undo / redo the last change", hint: "u undo",
                   effect: .uiPair(.undo, .redo)),
        KeyBinding(keys: [.char(":")], group: .run, summary: "type a command (↑↓ history)",
                   hint: ": command", effect: .ui(.openPrompt)),
        // View.
        KeyBinding(keys: [.char("z"), .char("Z")], group: .view, summary: "zoom in / out, focused grid", hint: "z/Z zoom",
                   effect: .uiPair(.zoomIn, .zoomOut)),
        KeyBinding(keys: [.char("D")], group: .replay, summary: "the demos: pick one, play",
                   effect: .ui(.demoMenu)),
        KeyBinding(keys: [.char("w")], group: .view, summary: "sweep chart: speedup vs bs",
                   effect: .ui(.toggleSweep)),
        KeyBinding(keys: [.char("M")], group: .view, summary: "message log (in full)",
                   hint: "M log", effect: .ui(.messageLog), hintApplies: { !$0.messageLog.isEmpty }),
        KeyBinding(keys: [.char("=")], group: .view, summary: "fit each grid to its pane", effect: .ui(.zoomFit)),
        KeyBinding(keys: [.char("i")], group: .view, summary: "all lines: inspector, run",
                   effect: .ui(.expandPanels)),
        KeyBinding(keys: [.char("P")], group: .view, summary: "colour-blind-safe palette",
                   effect: .ui(.togglePalette)),
        KeyBinding(keys: [.char("?"), .f1], group: .view, summary: "this help", hint: "? help", effect: .ui(.help)),
        KeyBinding(keys: [.escape], group: .view, summary: "close overlay, narration, run", effect: .ui(.closeOverlay)),
        KeyBinding(keys: [.char("q"), .ctrl("c")], group: .view, summary: "quit (saves a recording)",
                   hint: "q quit", effect: .ui(.quit)),
        KeyBinding(keys: [.ctrl("z")], group: .view, summary: "suspend (fg resumes)", effect: .ui(.suspend)),
        // Replay.
        KeyBinding(keys: [.char(" ")], group: .replay, summary: "pause / resume the replay", hint: "space pause",
                   effect: .ui(.replayToggle), replayOnly: true),
        KeyBinding(keys: [.char("n")], group: .replay, summary: "next step now", hint: "n step",
                   effect: .ui(.replayNext), replayOnly: true),
        KeyBinding(keys: [.char("+"), .char("-")], group: .replay, summary: "faster / slower", hint: "+/- speed",
                   effect: .uiPair(.replayFaster, .replaySlower), replayOnly: true),
    ]

    static func move(_ keys: [Key], _ summary: String, hint: String? = nil, dx: Int, dy: Int) -> KeyBinding {
        KeyBinding(keys: keys, group: .move, summary: summary, commandShape: VerbSpec.select.shape(), hint: hint,
                   effect: .command { s, _ in s.moveCommand(dx: dx, dy: dy) })
    }

    /// The binding a key triggers, in or out of replay.
    public static func binding(for key: Key, replaying: Bool) -> KeyBinding? {
        table.first { $0.keys.contains(key) && (replaying || !$0.replayOnly) }
    }
}

// MARK: Commands built from the state

extension AppState {
    /// The sequence under the cursor of the per-sequence grid, if it is focused.
    var selectedSequence: Int? {
        guard focus == .perSequence, let p = cursor(.perSequence),
              p.segment < session.workload.batch.sequences.count else { return nil }
        return p.segment
    }

    /// The adapter of the focused program: the sequence's adapter, or the slot
    /// (vLLM: the LoRA id) of its segment; the first adapter where the segment
    /// has none (a graph's padding, vLLM's -1 group).
    var selectedAdapter: Adapter? {
        let batch = session.workload.batch
        if let i = selectedSequence { return batch.adapter(named: batch.sequences[i].adapter) }
        if focus != .perSequence, let p = cursor(focus) {
            let seg = plans[focus].segments[p.segment]
            let padding = seg.length == 0 && focus == .csgmvGraph
            if seg.slot >= 0, !padding, let a = batch.adapter(inSlot: seg.slot) { return a }
        }
        return batch.adapters.sorted { $0.slot < $1.slot }.first
    }

    /// Why a sequence key cannot act, and how to reach the per-sequence grid.
    var sequenceRefusal: KeyRefusal {
        let reach = panes.contains(.perSequence) ? "Tab switches grids"
            : plans.strategies.contains(.perSequence) ? "s shows it"
            : "strategies per-sequence \(plans.strategies.map(\.name).joined(separator: " ")) adds it"
        return KeyRefusal("select a sequence in the per-sequence grid first (\(reach))")
    }

    func addSequenceCommand() -> Result<Command, KeyRefusal> {
        guard let adapter = selectedAdapter ?? session.workload.batch.adapters.first else {
            return .failure(KeyRefusal("no adapter yet: add one with A or :adapter NAME rank=N"))
        }
        return .success(.seq(adapter: adapter.name, tokens: nil, count: nil))
    }

    func removeSequenceCommand() -> Result<Command, KeyRefusal> {
        guard let i = selectedSequence else { return .failure(sequenceRefusal) }
        return .success(.removeSeq(index: i))
    }

    func cycleAdapterCommand() -> Result<Command, KeyRefusal> {
        guard let i = selectedSequence else { return .failure(sequenceRefusal) }
        let adapters = session.workload.batch.adapters.sorted { $0.slot < $1.slot }
        guard adapters.count > 1 else { return .failure(KeyRefusal("only one adapter: add another with A")) }
        let current = session.workload.batch.sequences[i].adapter
        let index = adapters.firstIndex { $0.name == current } ?? -1
        return .success(.setSeq(index: i, adapter: adapters[(index + 1) % adapters.count].name, tokens: nil))
    }

    func tokensCommand(halve: Bool) -> Result<Command, KeyRefusal> {
        guard session.workload.batch.mode == .extend else {
            return .failure(KeyRefusal("tokens matter in extend mode only (m toggles the mode)"))
        }
        guard let i = selectedSequence else { return .failure(sequenceRefusal) }
        let tokens = session.workload.batch.sequences[i].tokens
        let next = halve ? max(1, tokens / 2) : tokens * 2
        return .success(.setSeq(index: i, adapter: nil, tokens: next))
    }

    func addAdapterCommand() -> Result<Command, KeyRefusal> {
        let batch = session.workload.batch
        guard let slot = batch.firstFreeSlot else {
            return .failure(KeyRefusal("all \(batch.slotCount) slots are taken: > adds a slot"))
        }
        var n = batch.adapters.count
        while batch.adapter(named: "lora\(n)") != nil { n += 1 }
        let rank = min(16, session.workload.dims.maxRank)
        return .success(.adapter(name: "lora\(n)", rank: rank, scaling: nil, slot: slot))
    }

    func removeAdapterCommand() -> Result<Command, KeyRefusal> {
        guard let a = selectedAdapter else { return .failure(KeyRefusal("no adapter selected")) }
        return .success(.removeAdapter(name: a.name))
    }

    func rankCommand(halve: Bool) -> Result<Command, KeyRefusal> {
        guard let a = selectedAdapter else { return .failure(KeyRefusal("no adapter selected")) }
        if let file = session.adapterFiles[a.name] {
            return .failure(KeyRefusal("adapter \(a.name) is read from \(file.path): its rank comes from its adapter_config.json"))
        }
        // A base-model slot stays one, and a LoRA stays a LoRA: rank 0 is not a step of [ and ].
        guard a.rank > 0 else {
            return .failure(KeyRefusal("adapter \(a.name) is the base model (rank 0): [ and ] leave it so; :adapter \(a.name) rank=N gives it a LoRA"))
        }
        let maxRank = session.workload.dims.maxRank
        let next = halve ? max(1, a.rank / 2) : min(maxRank, a.rank * 2)
        guard next != a.rank else { return .failure(KeyRefusal("rank \(a.rank) is already at its \(halve ? "minimum" : "maximum R")")) }
        return .success(.adapter(name: a.name, rank: next, scaling: nil, slot: nil))
    }

    func scalingCommand(halve: Bool) -> Result<Command, KeyRefusal> {
        guard let a = selectedAdapter else { return .failure(KeyRefusal("no adapter selected")) }
        return .success(.adapter(name: a.name, rank: nil, scaling: halve ? a.scaling / 2 : a.scaling * 2, slot: nil))
    }

    func slotsCommand(delta: Int) -> Result<Command, KeyRefusal> {
        let n = session.workload.batch.slotCount + delta
        guard Batch.Limits.slots.contains(n) else { return .failure(KeyRefusal("slots stay within \(Batch.Limits.slots.lowerBound)…\(Batch.Limits.slots.upperBound)")) }
        return .success(.slots(n))
    }

    func nextKernelCommand() -> Result<Command, KeyRefusal> {
        let kernels: [Kernel] = [.sgemmLoRAA(stack: 1), .sgemmLoRAB, .qkvLoRAB, .gateUpLoRAB]
        let current = session.workload.kernel
        let index = kernels.firstIndex { $0.name == current.name } ?? 0
        return .success(.kernel(kernels[(index + 1) % kernels.count]))
    }

    func nextGPUCommand() -> Result<Command, KeyRefusal> {
        let all = GPUProfile.all
        let index = all.firstIndex { $0.name == session.gpu.name } ?? 0
        return .success(.gpu(all[(index + 1) % all.count]))
    }

    func nextStackCommand() -> Result<Command, KeyRefusal> {
        if case .sgemmLoRAA(let stack) = session.workload.kernel {
            return .success(.kernel(.sgemmLoRAA(stack: stack % 3 + 1)))
        }
        return .success(.kernel(.sgemmLoRAA(stack: 1)))
    }

    func nextDTypeCommand() -> Result<Command, KeyRefusal> {
        let all = DType.allCases
        let index = all.firstIndex(of: session.workload.dtype) ?? 0
        return .success(.dtype(all[(index + 1) % all.count]))
    }

    func toggleModeCommand() -> Result<Command, KeyRefusal> {
        .success(.mode(session.workload.batch.mode == .decode ? .extend : .decode))
    }

    /// A `select` that moves the cursor of the focused grid by cells (clamped to the grid).
    /// The layer table's row of the launch the grids show, if the kernel is one of the layer's.
    var currentLayerRow: Int? {
        let w = session.workload
        let module = w.module ?? LayerModule.implied(by: w.kernel)
        return LayerModule.layerLaunches.firstIndex { $0.module == module && $0.shrink == w.kernel.isShrink }
    }

    func moveCommand(dx: Int, dy: Int) -> Result<Command, KeyRefusal> {
        if session.showsLayer {
            // In the layer table the vertical keys choose a launch: `launch M shrink|expand`.
            guard dy != 0 else { return .failure(KeyRefusal("the layer table: j/k choose a launch, Enter shows its grids")) }
            let launches = LayerModule.layerLaunches
            let row = currentLayerRow.map { min(max(0, $0 + dy.signum() * (abs(dy) > 1_000_000 ? launches.count : 1)), launches.count - 1) } ?? 0
            return .success(.launch(launches[row].module, shrink: launches[row].shrink))
        }
        let plan = plans[focus]
        guard let p = cursor(focus) else { return .failure(KeyRefusal("the grid is empty: add a sequence with a")) }
        let layout = ScreenLayout(self)
        let scale = layout.scale(focus)
        let page = max(1, layout.pane(focus)?.cells.height ?? layout.gridRows)
        let stepX = dx == 0 ? 0 : (abs(dx) > 1_000_000 ? dx.signum() * plan.pidCount : dx * scale.x)
        let stepY = dy == 0 ? 0 : (abs(dy) > 1_000_000 ? dy.signum() * page * scale.y : dy * scale.y)
        let pid = min(max(0, p.pid + stepX), plan.pidCount - 1)
        let row = min(max(0, plan.viewRow(of: p) + stepY), plan.viewRowCount - 1)
        return .success(Self.selectCommand(plan, pid: pid, row: row))
    }

    /// `select STRATEGY X Y [Z]` for a program given by pid and view row: Z
    /// whenever the grid has three axes (vLLM's always has, one slice or not).
    static func selectCommand(_ plan: LaunchPlan, pid: Int, row: Int) -> Command {
        let r = plan.viewRow(row)
        let axes = plan.axes(of: GridPosition(pid: pid, slice: r.slice, segment: r.segment))
        return .select(routing: plan.strategy, x: axes[0], y: axes[1], z: axes.count == 3 ? axes[2] : nil)
    }
}
