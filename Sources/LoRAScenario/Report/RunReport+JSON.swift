/// A JSON value that keeps its keys in the order written, so the report
/// reads `kernel, dtype, mode, batch, routings, …` and paths resolve on the
/// same tree the JSON is printed from.
enum JSONTree: Hashable, Sendable {
    case object([(String, JSONTree)])
    case array([JSONTree])
    case int(Int)
    case uint(UInt64)
    case double(Double)
    case bool(Bool)
    case string(String)
    case null

    static func == (a: JSONTree, b: JSONTree) -> Bool { a.serialized == b.serialized }
    func hash(into h: inout Hasher) { h.combine(serialized) }

    /// Compact JSON on one line. Non-finite numbers, which JSON cannot hold, become `null`.
    var serialized: String {
        var out = ""
        write(into: &out)
        return out
    }

    func write(into out: inout String) {
        switch self {
        case .object(let members):
            out += "{"
            for (i, (k, v)) in members.enumerated() {
                if i > 0 { out += "," }
                JSONTree.string(k).write(into: &out)
                out += ":"
                v.write(into: &out)
            }
            out += "}"
        case .array(let items):
            out += "["
            for (i, v) in items.enumerated() {
                if i > 0 { out += "," }
                v.write(into: &out)
            }
            out += "]"
        case .int(let n): out += String(n)
        case .uint(let n): out += String(n)
        case .double(let d): out += d.isFinite ? "\(d)" : "null"
        case .bool(let b): out += b ? "true" : "false"
        case .null: out += "null"
        case .string(let s):
            out += "\""
            for c in s.unicodeScalars {
                switch c {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "\r": out += "\\r"
                case "\t": out += "\\t"
                default:
                    if c.value < 0x20 {
                        let h = String(c.value, radix: 16)
                        out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
                    } else {
                        out.unicodeScalars.append(c)
                    }
                }
            }
            out += "\""
        }
    }

    subscript(key: String) -> JSONTree? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.0 == key }?.1
    }
}

extension RunReport {
    var tree: JSONTree {
        var members: [(String, JSONTree)] = [("kernel", .string(kernel))]
        if let stack { members.append(("stack", .int(stack))) }
        members += [
            ("dtype", .string(dtype)),
            ("mode", .string(mode)),
            ("seed", .uint(seed)),
            ("what_if", .bool(whatIf)),
            ("batch", .object([("bs", .int(batch.bs)), ("tokens", .int(batch.tokens)), ("slots", .int(batch.slots)),
                               ("slots_in_use", .int(batch.slotsInUse))])),
        ]
        if let m = model {
            var o: [(String, JSONTree)] = [("name", .string(m.name)), ("model_type", .string(m.modelType))]
            if let l = m.layers { o.append(("layers", .int(l))) }
            o.append(("path", .string(m.path)))
            members.append(("model", .object(o)))
        }
        if !adapterFiles.isEmpty {
            members.append(("adapter_files", .array(adapterFiles.map { a in
                .object([("name", .string(a.name)), ("path", .string(a.path)), ("slot", .int(a.slot)), ("rank", .int(a.rank)),
                         ("scaling", .double(a.scaling)), ("layer", .int(a.layer)), ("module", .string(a.module))])
            })))
            members.append(("adapter_notes", .array(adapterNotes.map(JSONTree.string))))
        }
        members += [
            ("routings", .array(routings.map(Self.entryTree))),
            ("gpu", .string(gpu)),
            ("gpu_calibrated", .bool(gpuCalibrated)),
        ]
        if let g = gpuSpeedup { members.append(("gpu_speedup", .double(g))) }
        if let c = gpuDirectionConfidence { members.append(("gpu_direction_confidence", .double(c))) }
        if let n = gpuDirectionNote { members.append(("gpu_direction_note", .string(n))) }
        members.append(("gpu_headline", .string(gpuHeadline)))
        if let d = gpuDisagreement { members.append(("gpu_disagreement", .string(d))) }
        if let m = gpuMeasured { members.append(("gpu_measured", .string(m))) }
        if let d = maxAbsDiffBetweenRoutings { members.append(("max_abs_diff_between_routings", .double(d))) }
        if let b = bitwiseEqual { members.append(("bitwise_equal", .bool(b))) }
        if let s = speedup { members.append(("speedup", .double(s))) }
        if let t = threads { members.append(("threads", .int(t))) }
        if let r = referenceRowsChecked { members.append(("reference_rows_checked", .int(r))) }
        if let layer { members.append(("layer", layer.tree)) }
        return .object(members)
    }

    /// The report as one line of JSON, keys in report order.
    ///
    /// The GPU estimate's keys (`gpu_estimate_us`, `gpu_breakdown`,
    /// `gpu_summary`, `gpu_calibrated`, `gpu_speedup_vs_first` per strategy;
    /// `gpu`, `gpu_calibrated`, `gpu_headline`) are always present;
    /// `gpu_speedup` when per-sequence and sorted are both chosen, and then
    /// `gpu_direction_confidence` and `gpu_direction_note` when the profile
    /// has a held-out record (`h200`). Timing keys (`time_ms`,
    /// `max_abs_error_vs_reference`, `gflops`, `speedup_vs_first`,
    /// `max_abs_diff_vs_first`, `bitwise_equal_to_first`, `gpu_disagreement`,
    /// `max_abs_diff_between_routings`, `bitwise_equal`, `speedup`,
    /// `threads`, `reference_rows_checked`) are present only after a run of the current workload
    /// (`gpu_disagreement` only when the CPU and the estimate disagree).
    public var json: String { tree.serialized }

    /// The value at an `expect` path (`sorted.fates.excess_exit`,
    /// `per-sequence.grid.x`, `bitwise_equal`, …).
    ///
    /// - Returns: `nil` for a path the report does not hold: unknown (see
    ///   `ReportPath.all`), or a timing before any run.
    public func value(at path: String) -> ReportValue? {
        var parts = path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard !parts.isEmpty else { return nil }
        if parts[0] == "layer" { return layer?.value(at: parts.dropFirst()) }
        var node = tree
        if Strategy(name: parts[0]) != nil {
            guard case .array(let entries)? = node["routings"],
                  let entry = entries.first(where: { $0["routing"] == .string(parts[0]) }) else { return nil }
            node = entry
            parts.removeFirst()
            if parts.count == 2, parts[0] == "grid", let axis = ["x", "y", "z"].firstIndex(of: parts[1]) {
                guard case .array(let g)? = node["grid"], axis < g.count, case .int(let n) = g[axis] else { return nil }
                return .number(Double(n))
            }
        }
        for part in parts {
            guard let child = node[part] else { return nil }
            node = child
        }
        switch node {
        case .int(let n): return .number(Double(n))
        case .double(let d): return .number(d)
        case .bool(let b): return .bool(b)
        case .uint(let n): return .number(Double(n))
        case .string(let s): return .string(s)
        case .array(let items):
            var numbers: [Double] = []
            for item in items {
                switch item {
                case .int(let n): numbers.append(Double(n))
                case .double(let d): numbers.append(d)
                default: return nil
                }
            }
            return .list(numbers)
        case .object, .null: return nil
        }
    }
}

extension RunReport.GPUBreakdown {
    /// The value of one key as the JSON tree holds it; the keys and their
    /// order are `CodingKeys`'s.
    func tree(_ key: CodingKeys) -> JSONTree {
        switch key {
        case .launchFloorUs: return .double(launchFloorUs)
        case .exitUs: return .double(exitUs)
        case .computeUs: return .double(computeUs)
        case .memoryUs: return .double(memoryUs)
        case .l2Us: return .double(l2Us)
        case .dramUs: return .double(dramUs)
        case .exitingPrograms: return .int(exitingPrograms)
        case .workingPrograms: return .int(workingPrograms)
        case .waves: return .int(waves)
        case .residentPerSM: return .double(residentPerSM)
        case .programNs: return .double(programNs)
        case .delayUs: return .double(delayUs)
        case .tileBytes: return .int(tileBytes)
        case .dramBytes: return .int(dramBytes)
        case .bound: return .string(bound)
        }
    }
}

import LoRAKernels
