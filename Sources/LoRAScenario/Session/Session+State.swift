import LoRAKernels

extension Session {
    /// Commands that rebuild this state when applied to `Session()`, in an
    /// order every intermediate state of which is valid: settings (the GPU among them), adapters
    /// (in definition order, with their slots), sequences (runs of equal ones as `count=`), then
    /// title, narration and selection. What a recording writes.
    public var stateCommands: [Command] {
        let defaults = Session()
        var commands: [Command] = []
        let w = workload
        if w.batch.slotCount != defaults.workload.batch.slotCount { commands.append(.slots(w.batch.slotCount)) }
        // A model sets the dims and dtype; what differs from it follows as dims/dtype.
        var base = defaults
        if let model {
            commands.append(.model(model))
            try? base.loadModel(model)
        }
        let d = w.dims, d0 = base.workload.dims
        let change = DimsChange(
            hidden: d.hidden != d0.hidden ? d.hidden : nil, out: d.out != d0.out ? d.out : nil,
            q: d.q != d0.q ? d.q : nil, kv: d.kv != d0.kv ? d.kv : nil, ffn: d.ffn != d0.ffn ? d.ffn : nil,
            maxRank: d.maxRank != d0.maxRank ? d.maxRank : nil)
        if change != DimsChange() { commands.append(.dims(change)) }
        if w.dtype != base.workload.dtype { commands.append(.dtype(w.dtype)) }
        if w.batch.mode != defaults.workload.batch.mode { commands.append(.mode(w.batch.mode)) }
        if w.seed != defaults.workload.seed { commands.append(.seed(w.seed)) }
        if gpu.name != defaults.gpu.name { commands.append(.gpu(gpu)) }
        if let m = w.module {
            commands.append(.launch(m, shrink: w.kernel.isShrink))
        } else if w.kernel != defaults.workload.kernel {
            commands.append(.kernel(w.kernel))
        }
        if strategies != defaults.strategies || strategyOptions != defaults.strategyOptions {
            let o = strategyOptions, d = defaults.strategyOptions
            commands.append(.strategies(StrategyChoice(
                strategies, chunk: o.chunk != d.chunk ? o.chunk : nil, graphSegments: o.graphSegments,
                specialize: o.specializeActiveLoRAs != d.specializeActiveLoRAs ? o.specializeActiveLoRAs : nil)))
        }
        // The layer before the adapters: files are read at it.
        if showsLayer {
            commands.append(.layer(.show(index: layerIndex == 0 ? nil : layerIndex)))
        } else if layerIndex != 0 {
            commands.append(.layer(.show(index: layerIndex)))
            commands.append(.layer(.hide))
        }
        for a in w.batch.adapters {
            if let file = adapterFiles[a.name] {
                commands.append(.adapterFile(name: a.name, source: file, slot: a.slot))
                continue
            }
            commands.append(.adapter(name: a.name, rank: a.rank, scaling: a.scaling == 1 ? nil : a.scaling, slot: a.slot))
        }
        var i = 0
        let seqs = w.batch.sequences
        while i < seqs.count {
            var j = i + 1
            while j < seqs.count, seqs[j] == seqs[i] { j += 1 }
            commands.append(.seq(adapter: seqs[i].adapter, tokens: seqs[i].tokens == 1 ? nil : seqs[i].tokens,
                                 count: j - i == 1 ? nil : j - i))
            i = j
        }
        if let title { commands.append(.title(title)) }
        if let narration { commands.append(.narrate(narration)) }
        if let s = selection {
            let axes = plan(s.routing).axes(of: s.position)
            commands.append(.select(routing: s.routing, x: axes[0], y: axes[1], z: axes.count == 3 ? axes[2] : nil))
        }
        return commands
    }

    /// `stateCommands` as a scenario file's text, one command per line.
    public var stateSource: String {
        stateCommands.map { "\($0)\n" }.joined()
    }
}
