import LoRAKernels

// MARK: - Mapping to the kernels' weight layout

extension PEFTAdapter {
    /// This adapter's weights for one launch of `module` in decoder `layer`.
    ///
    ///     let a = try adapter.kernelWeights(module: .qkv, layer: 0, shrink: true, dims: dims)
    ///     // a.rows == 3 * a.rank, a.columns == dims.hidden
    ///
    /// The layout is `KernelAdapterWeights`'s (docs/kernels.md §1). `rank` is
    /// the largest rank among the group's targeted projections; smaller ranks
    /// are zero-padded and untargeted projections of a targeted group get
    /// zero rows (shrink) or zero blocks (expand). A group with no targeted
    /// projection comes back as rank 0 with no values.
    ///
    /// The kernel applies one scaling per slot, in the expand's epilogue, but
    /// PEFT may give the projections of a fused group different scalings
    /// (`rank_pattern`, `alpha_pattern`). The *expand* therefore multiplies
    /// projection `p`'s B by `scaling[p] / scaling[first]`, so that the
    /// slot's `scaling` (the first targeted projection's) gives each its own;
    /// the shrink's A is never rescaled (a note says so).
    ///
    /// - Parameters:
    ///   - shrink: the A side (`sgemm_lora_a`) when true, the B side otherwise.
    ///   - dims: the model's dimensions; every tensor's shape is checked
    ///     against them, and the rank against `dims.maxRank`.
    /// A layer the config leaves alone (`layers_to_transform`, or a regex
    /// `target_modules` that names only some layers) is rank 0 too.
    ///
    /// - Throws: `ModelFileError` naming the file and tensor for a layer the
    ///   config targets but the file lacks (listing the layers it has), a
    ///   targeted projection without its tensor, a shape that disagrees with
    ///   `dims` or with the config's rank, or a rank over `dims.maxRank`.
    public func kernelWeights(module: LayerModule, layer: Int, shrink: Bool, dims: ModelDims) throws -> KernelAdapterWeights {
        let source = "\(folder):layer \(layer):\(module.rawValue)"
        let (k, kName) = module.inFeatures(dims)
        let outs = module.outFeatures(dims)
        if !layers.contains(layer) && !targetsAnything(layer: layer) {
            // layers_to_transform (or a regex target) leaves this layer alone: no tensors are expected.
            return KernelAdapterWeights(
                rank: 0, scaling: 0, rows: shrink ? 0 : outs.reduce(0) { $0 + $1.width }, columns: shrink ? k : 0,
                values: [], notes: ["adapter_config.json targets nothing in layer \(layer): it runs as rank 0 on this launch"],
                source: source)
        }
        guard layers.contains(layer) else {
            let present = layers.isEmpty
                ? "it has no LoRA tensors named like layers.{L}.(self_attn|mlp).*_proj.lora_A.weight"
                : "it has layers \(Self.ranges(layers))"
            throw ModelFileError(file: weights.path, message: "no layer \(layer): \(present)")
        }
        var notes: [String] = []
        if config.fanInFanOut {
            notes.append("fan_in_fan_out only transposes B·A for Conv1D base layers: lora_A and lora_B are read as stored")
        }

        struct Part {
            var projection: String
            var targeted: Bool
            var rank = 0
            var scaling = 0.0
            var aKey = ""
            var bKey = ""
        }
        var parts: [Part] = []
        for projection in module.projections {
            let name = moduleName(layer: layer, projection: projection)
            var part = Part(projection: projection, targeted: config.targets(module: name))
            let aKey = tensorKeys[LoRATensorSlot(layer: layer, projection: projection, isA: true)]
            let bKey = tensorKeys[LoRATensorSlot(layer: layer, projection: projection, isA: false)]
            if part.targeted {
                part.rank = config.rank(module: name)
                part.scaling = config.scaling(module: name)
                guard let aKey else {
                    throw ModelFileError(
                        file: weights.path, tensor: expectedKey(layer: layer, projection: projection, a: true),
                        message: "missing, but adapter_config.json targets \(name)")
                }
                guard let bKey else {
                    throw ModelFileError(
                        file: weights.path, tensor: expectedKey(layer: layer, projection: projection, a: false),
                        message: "missing, but adapter_config.json targets \(name)")
                }
                part.aKey = aKey
                part.bKey = bKey
            } else if aKey != nil || bKey != nil {
                notes.append("the file has tensors for \(name) but adapter_config.json does not target it: they are ignored")
            }
            parts.append(part)
        }

        let targeted = parts.filter(\.targeted)
        guard let first = targeted.first else {
            let names = module.projections.joined(separator: ", ")
            notes.append("the adapter does not target \(names): it runs as rank 0 on this launch")
            return KernelAdapterWeights(
                rank: 0, scaling: 0, rows: shrink ? 0 : outs.reduce(0) { $0 + $1.width },
                columns: shrink ? k : 0, values: [], notes: notes, source: source)
        }
        let rank = targeted.map(\.rank).max()!
        if rank > dims.maxRank {
            let widest = targeted.first { $0.rank == rank }!
            throw ModelFileError(
                file: weights.path, tensor: widest.aKey,
                message: "rank \(rank) is over dims rank=\(dims.maxRank); raise it with `dims rank=\(rank)`")
        }

        for part in parts where !part.targeted {
            notes.append("\(part.projection) is not targeted: its \(shrink ? "rows" : "block") \(shrink ? "are" : "is") 0")
        }
        for part in targeted where part.rank < rank {
            notes.append("\(part.projection) has rank \(part.rank) < \(rank): zero-padded")
        }

        if shrink {
            var values = [Float](repeating: 0, count: parts.count * rank * k)
            for (slice, part) in parts.enumerated() where part.targeted {
                let a = try matrix(part.aKey, projection: part.projection, side: "lora_A",
                                   expected: (part.rank, k), names: ("rank", kName))
                for row in 0..<part.rank {
                    let target = (slice * rank + row) * k
                    values.replaceSubrange(target..<target + k, with: a[row * k..<(row + 1) * k])
                }
            }
            for part in targeted where part.scaling != first.scaling {
                notes.append(
                    "\(part.projection)'s scaling \(part.scaling) differs from \(first.projection)'s \(first.scaling): the expand folds it into its B")
            }
            return KernelAdapterWeights(
                rank: rank, scaling: first.scaling, rows: parts.count * rank, columns: k,
                values: values, notes: notes, source: source)
        }

        let n = outs.reduce(0) { $0 + $1.width }
        var values = [Float](repeating: 0, count: n * rank)
        var offset = 0
        for (slice, part) in parts.enumerated() {
            let out = outs[slice]
            defer { offset += out.width }
            guard part.targeted else { continue }
            let b = try matrix(part.bKey, projection: part.projection, side: "lora_B",
                               expected: (out.width, part.rank), names: (out.name, "rank"))
            var factor: Float = 1
            if part.scaling != first.scaling {
                let ratio = part.scaling / first.scaling
                factor = Float(ratio)
                notes.append(
                    "\(part.projection)'s scaling \(part.scaling) differs from \(first.projection)'s \(first.scaling): its B is multiplied by \(ratio) (the kernel applies one scaling per slot)")
            }
            for row in 0..<out.width {
                for column in 0..<part.rank {
                    values[(offset + row) * rank + column] = b[row * part.rank + column] * factor
                }
            }
        }
        return KernelAdapterWeights(
            rank: rank, scaling: first.scaling, rows: n, columns: rank, values: values, notes: notes, source: source)
    }

    /// Whether adapter_config.json targets any of the seven projections in `layer`.
    private func targetsAnything(layer: Int) -> Bool {
        LayerModule.allCases.contains { module in
            module.projections.contains { config.targets(module: moduleName(layer: layer, projection: $0)) }
        }
    }

    /// Reads a 2-D tensor after checking its shape is `expected`.
    private func matrix(
        _ key: String, projection: String, side: String, expected: (Int, Int), names: (String, String)
    ) throws -> [Float] {
        guard let info = weights.info(key) else {
            throw ModelFileError(file: weights.path, tensor: key, message: "no such tensor in the file")
        }
        let shape = info.shape
        func failure(_ message: String) -> ModelFileError {
            ModelFileError(file: weights.path, tensor: key, message: "\(projection).\(side) is \(shape) but \(message)")
        }
        guard shape.count == 2 else { throw failure("a LoRA weight is a matrix") }
        for (axis, (want, name)) in [(expected.0, names.0), (expected.1, names.1)].enumerated() where shape[axis] != want {
            if name == "rank" {
                throw failure("adapter_config.json gives \(projection) rank \(want)")
            }
            throw failure("the model's \(name) is \(want)")
        }
        return try weights.floats(key)
    }

    /// "0–3, 5" for [0, 1, 2, 3, 5].
    static func ranges(_ sorted: [Int]) -> String {
        var pieces: [String] = []
        var index = 0
        while index < sorted.count {
            var end = index
            while end + 1 < sorted.count, sorted[end + 1] == sorted[end] + 1 { end += 1 }
            pieces.append(end == index ? "\(sorted[index])" : "\(sorted[index])–\(sorted[end])")
            index = end + 1
        }
        return pieces.joined(separator: ", ")
    }
}
