import LoRAKernels

extension LayerReport {
    /// The `layer` object of the JSON report: `index`, `layers`, `gpu`,
    /// `launches` (one per launch: `launch`, `module`, `kernel`, `stack`,
    /// `tokens`, `k`, `n`, `strategies`), `totals` (per strategy, with
    /// `forward_pass_gpu_estimate_us` when the model's layers are known) and
    /// `routing_build` (when sorted is chosen).
    var tree: JSONTree {
        func figures(_ f: Figures, total: Bool) -> JSONTree {
            var m: [(String, JSONTree)] = [
                ("routing", .string(f.strategy)), ("launched", .int(f.launched)), ("working", .int(f.working)),
                ("gpu_estimate_us", .double(f.gpuEstimateUs)), ("gpu_calibrated", .bool(f.gpuCalibrated)),
            ]
            if let ms = f.cpuMs { m.append(("cpu_ms", .double(ms))) }
            if total, let layers {
                m.append(("model_gpu_estimate_us", .double(f.gpuEstimateUs * Double(layers))))
                if let pass = forwardPassUs(f) { m.append(("forward_pass_gpu_estimate_us", .double(pass))) }
            }
            return .object(m)
        }
        var members: [(String, JSONTree)] = [("index", .int(layer))]
        if let layers { members.append(("layers", .int(layers))) }
        members.append(("gpu", .string(gpu)))
        members.append(("launches", .array(launches.map { l in
            var m: [(String, JSONTree)] = [("launch", .string(l.name)), ("module", .string(l.module.rawValue)),
                                           ("kernel", .string(l.kernel))]
            if let s = l.stack { m.append(("stack", .int(s))) }
            m += [("tokens", .int(l.tokens)), ("k", .int(l.k)), ("n", .int(l.n)),
                  ("strategies", .array(l.figures.map { figures($0, total: false) }))]
            return .object(m)
        })))
        members.append(("totals", .array(totals.map { figures($0, total: true) })))
        if let b = routingBuildUs {
            members.append(("routing_build", .object([
                ("routing", .string(Strategy.sorted.name)), ("us", .double(b)), ("per", .string("forward pass")),
                ("source", .string(SortedRoutingBuild.source)),
            ])))
        }
        return .object(members)
    }

    /// The layer as a table: a row per launch, a column group per strategy
    /// (launched, working, estimated µs and, after a run, CPU ms), then the
    /// totals, the model's and the routing build.
    ///
    ///     layer 0 of 28 · h200 est. µs (estimates)   per-sequence               sorted
    ///     launch        kernel            K → N          launched  working  est. µs  …
    ///     qkv shrink    sgemm_lora_a ×3   3584 → 192     …
    public var text: String {
        let timed = totals.contains { $0.cpuMs != nil }
        let perStrategy = timed ? 4 : 3
        var header = ["launch", "kernel", "K → N", "S"]
        for f in totals {
            header += ["\(f.strategy) launched", "working", "est. µs"] + (timed ? ["CPU ms"] : [])
        }
        func cells(_ f: Figures) -> [String] {
            ["\(f.launched)", "\(f.working)", RunReport.fixed(f.gpuEstimateUs, 1)]
                + (timed ? [f.cpuMs.map(RunReport.ms) ?? "–"] : [])
        }
        var table: [[String]] = [header]
        for l in launches {
            table.append([l.name, l.kernel + (l.stack.map { $0 > 1 ? " ×\($0)" : "" } ?? ""), "\(l.k) → \(l.n)", "\(l.tokens)"]
                         + l.figures.flatMap(cells))
        }
        table.append(["layer total", "", "", ""] + totals.flatMap(cells))
        let widths = header.indices.map { c in table.map { $0[c].count }.max()! }
        let groupGap = "   "
        func line(_ row: [String]) -> String {
            var out = ""
            for (c, cell) in row.enumerated() {
                let pad = String(repeating: " ", count: widths[c] - cell.count)
                if c < 4 { out += cell + pad + "  " } else {
                    if (c - 4) % perStrategy == 0 { out += groupGap }
                    out += pad + cell + "  "
                }
            }
            return String(out.reversed().drop { $0 == " " }.reversed())
        }
        var lines = ["layer \(layer)\(layers.map { " of \($0)" } ?? "") · \(gpu) estimates (µs), the launch plans' program counts"
                     + (timed ? ", CPU medians of the SIMD kernels" : "")]
        lines += table.map(line)
        for f in totals {
            var s = "  \(f.strategy): layer \(RunReport.fixed(f.gpuEstimateUs, 1)) µs est."
            if let layers {
                s += " · \(layers) layers \(RunReport.fixed(f.gpuEstimateUs * Double(layers), 1)) µs"
                if let pass = forwardPassUs(f), pass != f.gpuEstimateUs * Double(layers) {
                    s += " · forward pass with the routing build \(RunReport.fixed(pass, 1)) µs"
                }
            } else {
                s += " (model PATH gives the layer count for the model's total)"
            }
            lines.append(s)
        }
        if let b = routingBuildUs {
            lines.append("  sorted routing build: \(RunReport.fixed(b, 1)) µs once per forward pass (\(SortedRoutingBuild.source); "
                         + "\(Int(SortedRoutingBuild.eagerRangeUs.lowerBound))–\(Int(SortedRoutingBuild.eagerRangeUs.upperBound)) µs eager)")
        }
        if totals.contains(where: { $0.strategy != Strategy.sorted.name && $0.strategy != Strategy.perSequence.name && $0.strategy != Strategy.tight.name }) {
            lines.append("  csgmv and vLLM build their own per-batch mappings; those were not measured and are not added")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

extension LayerReport {
    /// A launch's key in `expect` paths: `qkv_shrink`, `down_expand`.
    static func pathKey(_ module: LayerModule, shrink: Bool) -> String {
        "\(module.rawValue)_\(shrink ? "shrink" : "expand")"
    }

    /// The fields of one strategy's figures that paths reach.
    static let figureFields: [(String, ReportPath.Kind)] = [
        ("launched", .number), ("working", .number), ("gpu_estimate_us", .number), ("gpu_calibrated", .bool), ("cpu_ms", .number),
    ]
    /// Fields only the totals have.
    static let totalFields: [(String, ReportPath.Kind)] = [
        ("model_gpu_estimate_us", .number), ("forward_pass_gpu_estimate_us", .number),
    ]

    /// Every `layer.…` path `expect` accepts, with its kind.
    static var paths: [(String, ReportPath.Kind)] {
        var paths: [(String, ReportPath.Kind)] = [("layer.index", .number), ("layer.layers", .number),
                                                  ("layer.routing_build.us", .number)]
        for (module, shrink) in LayerModule.layerLaunches {
            let key = "layer." + pathKey(module, shrink: shrink)
            paths += [("\(key).k", .number), ("\(key).n", .number), ("\(key).tokens", .number)]
            for s in Strategy.names { paths += figureFields.map { ("\(key).\(s).\($0.0)", $0.1) } }
        }
        for s in Strategy.names { paths += (figureFields + totalFields).map { ("layer.totals.\(s).\($0.0)", $0.1) } }
        return paths
    }

    /// The value at a path below `layer.` (`totals.sorted.gpu_estimate_us`,
    /// `down_shrink.k`, `qkv_expand.csgmv.launched`), `nil` when absent.
    func value(at parts: ArraySlice<String>) -> ReportValue? {
        guard let head = parts.first else { return nil }
        let rest = parts.dropFirst()
        func number(_ d: Double?) -> ReportValue? { d.map(ReportValue.number) }
        func field(_ f: Figures?, _ name: String?, total: Bool) -> ReportValue? {
            guard let f, let name else { return nil }
            switch name {
            case "launched": return .number(Double(f.launched))
            case "working": return .number(Double(f.working))
            case "gpu_estimate_us": return .number(f.gpuEstimateUs)
            case "gpu_calibrated": return .bool(f.gpuCalibrated)
            case "cpu_ms": return number(f.cpuMs)
            case "model_gpu_estimate_us" where total: return number(layers.map { f.gpuEstimateUs * Double($0) })
            case "forward_pass_gpu_estimate_us" where total: return number(forwardPassUs(f))
            default: return nil
            }
        }
        switch head {
        case "index": return rest.isEmpty ? .number(Double(layer)) : nil
        case "layers": return rest.isEmpty ? number(layers.map(Double.init)) : nil
        case "routing_build": return rest.elementsEqual(["us"]) ? number(routingBuildUs) : nil
        case "totals":
            guard rest.count == 2 else { return nil }
            return field(totals.first { $0.strategy == rest.first }, rest.last, total: true)
        default:
            guard let launch = launches.first(where: { Self.pathKey($0.module, shrink: $0.shrink) == head }) else { return nil }
            if rest.count == 1 {
                switch rest.first! {
                case "k": return .number(Double(launch.k))
                case "n": return .number(Double(launch.n))
                case "tokens": return .number(Double(launch.tokens))
                default: return nil
                }
            }
            guard rest.count == 2 else { return nil }
            return field(launch.figures.first { $0.strategy == rest.first }, rest.last, total: false)
        }
    }
}
