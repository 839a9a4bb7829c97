import LoRAKernels

/// Why `apply` refused a command, and which argument to point at.
struct ApplyFailure: Error {
    enum Argument {
        /// The i-th positional argument after the verb (`seq NAME` → 0).
        case positional(Int)
        /// The value of `key=`.
        case key(String)
        /// Just past the line's last argument: something is missing.
        case end
    }

    var message: String
    var argument: Argument?

    init(_ message: String, at argument: Argument? = nil) {
        self.message = message
        self.argument = argument
    }

    /// The error at the argument's column when the line's tokens are known, else at `location`.
    func located(at location: SourceLocation, tokens: [Token]?) -> ScenarioError {
        var column = location.column
        if let tokens, let verb = tokens.first {
            column = verb.column
            switch argument {
            case .positional(let i)?:
                let positionals = tokens.dropFirst().filter { $0.kind != .pair }
                if i < positionals.count { column = positionals[positionals.startIndex + i].column }
            case .key(let k)?:
                if let t = tokens.first(where: { $0.kind == .pair && $0.key == k }) { column = t.valueColumn }
            case .end?:
                column = tokens.last?.endColumn ?? column
            case nil:
                break
            }
        }
        return ScenarioError(location: location.at(column: column), message: message)
    }
}

extension Session {
    /// Applies one command: validates it against the state, changes the
    /// state, and returns what the driver should do.
    ///
    /// - Parameter location: where the command came from, for the error;
    ///   the error points at the line's first column.
    /// - Throws: `ScenarioError`; the session is unchanged.
    @discardableResult
    public mutating func apply(_ command: Command, at location: SourceLocation? = nil) throws -> SessionEffect {
        do {
            return try applyChecked(command)
        } catch let failure as ApplyFailure {
            throw failure.located(at: location ?? SourceLocation(file: "<command>", line: 1), tokens: nil)
        }
    }

    /// A fresh session with every step of `scenario` applied: the batch a
    /// command file builds. Effects (`run`, `expect`, `pause`, …) are left to
    /// the driver that replays it; every "load this file" and "replay this
    /// recording" path goes through here.
    public init(replaying scenario: Scenario) throws {
        self.init()
        for step in scenario.steps { _ = try apply(step) }
    }

    /// Applies a step of a scenario; an error points at the offending argument.
    @discardableResult
    public mutating func apply(_ step: ScenarioStep) throws -> SessionEffect {
        do {
            return try applyChecked(step.command)
        } catch let failure as ApplyFailure {
            let tokens = try? Lexer.tokens(in: step.text, at: step.location)
            throw failure.located(at: step.location, tokens: tokens)
        }
    }

    /// Parses and applies one line, as the TUI's `:` prompt does.
    ///
    /// - Returns: the effect, `.none` for a blank line or a comment.
    @discardableResult
    public mutating func execute(_ line: String, file: String = "<prompt>", line number: Int = 1) throws -> SessionEffect {
        let location = SourceLocation(file: file, line: number)
        guard let (command, tokens) = try Command.parseLocated(line, at: location) else { return .none }
        do {
            return try applyChecked(command)
        } catch let failure as ApplyFailure {
            throw failure.located(at: location, tokens: tokens)
        }
    }

    /// Works on a copy and commits it only when every check passed.
    private mutating func applyChecked(_ command: Command) throws -> SessionEffect {
        var next = self
        let effect = try next.perform(command)
        do {
            try next.refreshAdapterFiles()
        } catch var failure as ApplyFailure {
            // The folder just read is what does not fit: point at it.
            if case .adapterFile = command { failure.argument = .key("from") }
            throw failure
        }
        if next.showsLayer, next.workload != workload || next.layerIndex != layerIndex || !showsLayer
            || next.strategies.count > strategies.count {
            // Every launch of the table must read its adapter files too, and fit the memory cap:
            // a run runs all eight (the down shrink reads K = ffn, gate_up writes 2·ffn columns).
            for (w, launch) in zip(try next.layerWorkloads(), LayerModule.layerLaunches) {
                let bytes = w.tensorBytes(strategies: next.strategies.count)
                if bytes > Workload.memoryCap {
                    throw ApplyFailure("the layer's \(launch.module.launchName(shrink: launch.shrink)) launch would take \(Self.formatBytes(bytes)); the memory cap is \(Self.formatBytes(Workload.memoryCap))")
                }
            }
        }
        if next.workload != workload || next.strategies != strategies || next.strategyOptions != strategyOptions {
            do {
                try next.strategyOptions.validate(next.strategies, for: next.workload.batch)
            } catch let e as StrategyError {
                throw ApplyFailure(e.message)
            }
        }
        if next.strategies != strategies || next.strategyOptions != strategyOptions {
            if let s = next.selection, !next.fits(s) { next.selection = nil }
        }
        if next.workload != workload || next.strategies.count > strategies.count {
            try Self.checkLimits(next.workload, strategies: next.strategies.count)
        }
        if next.workload != workload {
            if let s = next.selection, !next.fits(s) { next.selection = nil }
        }
        self = next
        return effect
    }

    // MARK: Commands

    private mutating func perform(_ command: Command) throws -> SessionEffect {
        switch command {
        case .slots(let n):
            if let a = workload.batch.adapters.filter({ $0.slot >= n }).min(by: { $0.slot < $1.slot }) {
                throw ApplyFailure(
                    "adapter '\(a.name)' sits in slot \(a.slot); slots \(n) keeps only slots 0…\(n - 1) (move it with adapter \(a.name) slot=N or remove it first)",
                    at: .positional(0))
            }
            workload.batch.slotCount = n

        case .dims(let change):
            let dims = change.applied(to: workload.dims)
            if let a = workload.batch.adapters.filter({ $0.rank > dims.maxRank }).max(by: { $0.rank < $1.rank }) {
                throw ApplyFailure(
                    "adapter '\(a.name)' has rank \(a.rank), over rank=\(dims.maxRank); lower its rank first",
                    at: .key("rank"))
            }
            workload.dims = dims

        case .dtype(let d):
            workload.dtype = d

        case .mode(let m):
            workload.batch.mode = m

        case .seed(let s):
            workload.seed = s

        case .gpu(let p):
            gpu = p

        case .model(let source):
            try loadModel(source)

        case .gpuResults(let results):
            let here = GPUBenchFingerprint(workload, options: strategyOptions)
            guard results.fingerprint == here else {
                throw ApplyFailure("\(results.path) was measured on another batch: "
                                   + (results.fingerprint.difference(from: here) ?? "its fingerprint differs"), at: .positional(0))
            }
            gpuResults.removeAll { $0.path == results.path }
            gpuResults.append(results)

        case let .adapter(name, rank, scaling, slot):
            if let file = adapterFiles[name], rank != nil || scaling != nil {
                throw ApplyFailure("adapter '\(name)' is read from \(file.path): its rank and scaling come from its adapter_config.json",
                                   at: .key(rank != nil ? "rank" : "scaling"))
            }
            try defineAdapter(name: name, rank: rank, scaling: scaling, slot: slot)

        case let .adapterFile(name, source, slot):
            try loadAdapter(name: name, source: source, slot: slot)

        case let .seq(name, tokens, count):
            _ = try adapter(named: name, at: .positional(0))
            let n = count ?? 1
            let total = workload.batch.sequences.count + n
            guard Batch.Limits.sequences.contains(total) else {
                throw ApplyFailure(
                    "the batch would hold \(total) sequences; the limit is \(Batch.Limits.sequences.upperBound)",
                    at: count == nil ? .positional(0) : .key("count"))
            }
            workload.batch.sequences += Array(repeating: BatchSequence(adapter: name, tokens: tokens ?? 1), count: n)

        case let .setSeq(index, name, tokens):
            try checkSequence(index)
            if let name { _ = try adapter(named: name, at: .key("adapter")) }
            if let name { workload.batch.sequences[index].adapter = name }
            if let tokens { workload.batch.sequences[index].tokens = tokens }

        case .removeSeq(let index):
            try checkSequence(index)
            workload.batch.sequences.remove(at: index)

        case .removeAdapter(let name):
            _ = try adapter(named: name, at: .positional(1))
            // The adapter's sequences go with it: a batch never points at a missing adapter.
            workload.batch.adapters.removeAll { $0.name == name }
            workload.batch.sequences.removeAll { $0.adapter == name }
            adapterFiles[name] = nil

        case .clear:
            adapterFiles = [:]
            workload.batch.adapters = []
            workload.batch.sequences = []
            selection = nil

        case .kernel(let k):
            workload.kernel = k
            workload.module = nil

        case let .launch(module, shrink):
            workload.kernel = module.kernel(shrink: shrink)
            workload.module = module

        case .layer(.show(let index)):
            if let index, let layers = modelLayers, index >= layers {
                throw ApplyFailure("layer \(index) does not exist: \(model!.config.name) has \(layers) layers (0…\(layers - 1))",
                                   at: .positional(0))
            }
            if let index { layerIndex = index }
            showsLayer = true

        case .layer(.hide):
            showsLayer = false

        case .strategies(let choice):
            strategies = choice.strategies
            strategyOptions = choice.applied(to: strategyOptions)
            if let s = selection, !strategies.contains(s.routing) { selection = nil }

        case .run(let reps):
            guard !workload.batch.sequences.isEmpty else {
                throw ApplyFailure("the batch is empty: add sequences with seq NAME before run")
            }
            return .run(reps: reps ?? CommandLimits.defaultReps)

        case .title(let t):
            title = t
        case .narrate(let t):
            // `narrate ""` closes the narration panel.
            narration = t.isEmpty ? nil : t
        case .pause:
            return .pause
        case .sleep(let s):
            return .sleep(seconds: s)

        case let .select(routing, x, y, z):
            selection = try select(routing: routing, x: x, y: y, z: z)

        case .expect(let e):
            return .expect(e)
        case let .output(path, force):
            return .output(path: path, force: force)
        case let .record(path, force):
            return .record(path: path, force: force)
        case .stop:
            return .stopRecording
        }
        return .none
    }

    private mutating func defineAdapter(name: String, rank: Int?, scaling: Float?, slot: Int?) throws {
        var batch = workload.batch
        let R = workload.dims.maxRank
        if let rank, rank > R {
            throw ApplyFailure(
                "rank=\(rank) is over the model's max rank R=\(R); raise it first with dims rank=\(rank)",
                at: .key("rank"))
        }
        if let slot { try Self.checkSlot(slot, for: name, in: batch) }
        if let index = batch.adapters.firstIndex(where: { $0.name == name }) {
            if let rank { batch.adapters[index].rank = rank }
            if let scaling { batch.adapters[index].scaling = scaling }
            if let slot { batch.adapters[index].slot = slot }
        } else {
            guard let rank else {
                throw ApplyFailure("adapter '\(name)' is new: it needs rank=N (0…\(R))", at: .positional(0))
            }
            guard let free = slot ?? batch.firstFreeSlot else {
                throw ApplyFailure(
                    "all \(batch.slotCount) slots are taken; raise slots or remove an adapter", at: .positional(0))
            }
            batch.adapters.append(Adapter(name: name, rank: rank, scaling: scaling ?? 1, slot: free))
        }
        workload.batch = batch
    }

    /// `slot=` of adapter `name`: a slot of the batch, not held by another adapter.
    static func checkSlot(_ slot: Int, for name: String, in batch: Batch) throws {
        guard slot < batch.slotCount else {
            throw ApplyFailure(
                "slot=\(slot) does not exist: slots is \(batch.slotCount), so slots are 0…\(batch.slotCount - 1)",
                at: .key("slot"))
        }
        if let holder = batch.adapter(inSlot: slot), holder.name != name {
            throw ApplyFailure("slot \(slot) already holds adapter '\(holder.name)'", at: .key("slot"))
        }
    }

    private func adapter(named name: String, at argument: ApplyFailure.Argument) throws -> Adapter {
        if let a = workload.batch.adapter(named: name) { return a }
        let names = workload.batch.adapters.map(\.name)
        guard !names.isEmpty else {
            throw ApplyFailure("unknown adapter '\(name)': no adapter is defined yet (adapter NAME rank=N)", at: argument)
        }
        var message = "unknown adapter '\(name)'"
        if let near = Suggestion.nearest(to: name, in: names) { message += "; did you mean '\(near)'?" }
        throw ApplyFailure(message + " (adapters: \(names.joined(separator: ", ")))", at: argument)
    }

    private func checkSequence(_ index: Int) throws {
        let count = workload.batch.sequences.count
        guard index < count else {
            let held = count == 0 ? "the batch is empty" : "the batch holds \(count) (0-based: 0…\(count - 1))"
            throw ApplyFailure("sequence \(index) does not exist: \(held)", at: .positional(1))
        }
    }

    private func select(routing: Strategy, x: Int, y: Int, z: Int?) throws -> ProgramSelection {
        guard strategies.contains(routing) else {
            throw ApplyFailure(
                "\(routing.name) is not among the chosen strategies (\(strategies.map(\.name).joined(separator: " "))); "
                    + "strategies … \(routing.name) adds it", at: .positional(0))
        }
        let plan = plan(routing)
        let grid = plan.grid
        let axisNames = plan.axisNames
        if grid.count == 2, z != nil {
            throw ApplyFailure(
                "\(routing.name)'s \(plan.kernel.name) grid has 2 axes (pid, segment): select \(routing.rawValue) X Y",
                at: .positional(3))
        }
        if grid.count == 3, z == nil {
            throw ApplyFailure(
                "\(routing.name)'s \(plan.kernel.name) grid has 3 axes (pid, slice, segment): select \(routing.rawValue) X Y Z",
                at: .end)
        }
        let values = [x, y] + (z.map { [$0] } ?? [])
        for (axis, value) in values.enumerated() where value >= grid[axis] {
            let range = grid[axis] == 0 ? "the axis is empty" : "0…\(grid[axis] - 1)"
            throw ApplyFailure(
                "\(["X", "Y", "Z"][axis])=\(value) is outside the \(routing.rawValue) grid's \(axisNames[axis]) axis (\(range))",
                at: .positional(axis + 1))
        }
        guard let position = plan.position(axes: values) else {
            preconditionFailure("select \(values) passed the axis checks but is outside \(grid)")
        }
        return ProgramSelection(routing: routing, position: position)
    }

    private func fits(_ s: ProgramSelection) -> Bool {
        guard strategies.contains(s.routing) else { return false }
        return plan(s.routing).contains(s.position)
    }

    /// Limits that hold for every workload a session can reach.
    /// `strategies`: how many outputs a run allocates (one per strategy).
    static func checkLimits(_ w: Workload, strategies: Int = Strategy.defaults.count) throws {
        let tokens = w.batch.totalTokens
        if tokens > Batch.Limits.totalTokens.upperBound {
            throw ApplyFailure(
                "the batch would hold \(tokens) tokens; the limit is \(Batch.Limits.totalTokens.upperBound)")
        }
        let bytes = w.tensorBytes(strategies: strategies)
        if bytes > Workload.memoryCap {
            throw ApplyFailure(
                "the workload's tensors would take \(formatBytes(bytes)); the memory cap is \(formatBytes(Workload.memoryCap))")
        }
    }

    public static func formatBytes(_ bytes: Int) -> String { NumberFormat.bytes(bytes) }
}
