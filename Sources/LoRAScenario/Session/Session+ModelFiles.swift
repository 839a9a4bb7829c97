import LoRAKernels
import LoRAModels

extension Session {
    /// `model PATH`: the config's dims (out = hidden, R kept unless an adapter
    /// needs more), its dtype when `torch_dtype` names one, its layer count.
    mutating func loadModel(_ source: ModelSource) throws {
        let config = source.config
        let dims = config.dims(maxRank: workload.dims.maxRank)
        for (name, limit) in [("hidden_size", dims.hidden), ("q width", dims.q), ("kv width", dims.kv),
                              ("intermediate_size", dims.ffn)] where !ModelDims.dimensionLimit.contains(limit) {
            throw ApplyFailure("\(source.path): \(name) \(limit) is outside the dims limit "
                               + "\(ModelDims.dimensionLimit.lowerBound)…\(ModelDims.dimensionLimit.upperBound)", at: .positional(0))
        }
        if let layers = config.layers, layerIndex >= layers {
            throw ApplyFailure("\(source.path): the model has \(layers) layers (0…\(layers - 1)); layer is \(layerIndex): "
                               + "choose one first with layer N", at: .positional(0))
        }
        workload.dims = dims
        if let dtype = config.dtype { workload.dtype = dtype }
        model = source
    }

    /// `adapter NAME from=PATH [slot=N]`: a new adapter, or one that was typed
    /// before, now read from files; its rank and scaling come from the refresh.
    mutating func loadAdapter(name: String, source: AdapterSource, slot: Int?) throws {
        var batch = workload.batch
        if let slot { try Self.checkSlot(slot, for: name, in: batch) }
        if let index = batch.adapters.firstIndex(where: { $0.name == name }) {
            if let slot { batch.adapters[index].slot = slot }
        } else {
            guard let free = slot ?? batch.firstFreeSlot else {
                throw ApplyFailure(
                    "all \(batch.slotCount) slots are taken; raise slots or remove an adapter", at: .positional(0))
            }
            batch.adapters.append(Adapter(name: name, rank: 0, scaling: 1, slot: free))
        }
        workload.batch = batch
        adapterFiles[name] = source
    }

    /// The module whose weights a launch reads from adapter files: the
    /// launch's (`launch …`), the kernel's own (qkv, gate_up), else `o`.
    static func weightModule(_ w: Workload) -> LayerModule {
        w.module ?? LayerModule.implied(by: w.kernel) ?? .o
    }

    /// Re-reads every file-backed adapter for the current launch: its rank and
    /// scaling at this layer and module, and its weights in the kernel's layout
    /// (`Workload.slotWeights`). A bare stack-1 shrink or `sgemm_lora_b` is
    /// taken as the `o` launch, which the files say how to size.
    ///
    /// - Throws: `ApplyFailure` naming the file and tensor when the adapter
    ///   does not fit the dims, the layer or R.
    mutating func refreshAdapterFiles() throws {
        let fileBacked = workload.batch.adapters.filter { adapterFiles[$0.name] != nil }
        guard !fileBacked.isEmpty else {
            workload.slotWeights = [:]
            adapterNotes = []
            return
        }
        if workload.module == nil, LayerModule.implied(by: workload.kernel) == nil { workload.module = .o }
        let module = Self.weightModule(workload)
        var weights: [Int: SlotWeights] = [:], notes: [String] = []
        for (i, a) in workload.batch.adapters.enumerated() {
            guard let source = adapterFiles[a.name] else { continue }
            let w: KernelAdapterWeights
            do {
                w = try source.adapter.kernelWeights(module: module, layer: layerIndex, shrink: workload.kernel.isShrink,
                                                     dims: workload.dims)
            } catch let e as ModelFileError {
                throw ApplyFailure("adapter '\(a.name)': \(e)")
            }
            workload.batch.adapters[i].rank = w.rank
            workload.batch.adapters[i].scaling = Float(w.scaling)
            if w.rank > 0 {
                weights[a.slot] = SlotWeights(rows: w.rows, columns: w.columns, values: w.values, source: w.source)
            }
            notes += w.notes.map { "\(a.name): \($0)" }
        }
        workload.slotWeights = weights
        adapterNotes = notes
    }
}
