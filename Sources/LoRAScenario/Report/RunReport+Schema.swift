import LoRAKernels

/// The one place each value of a strategy's report entry is written down: its
/// JSON key path, its kind, its value and its row in the text report. The
/// JSON entry (`RunReport+JSON.swift`), the `expect` paths (`ReportPath`) and
/// the text report's rows (`RunReport+Text.swift`) are all made from
/// `RunReport.entryFields`; adding a field is adding a line here.
extension RunReport {
    /// One value of a strategy's entry.
    struct EntryField: Sendable {
        /// JSON keys from the entry down, joined by `.`: the `expect` path after `STRATEGY.`.
        var path: String
        var kind: ReportPath.Kind
        /// Present only after a run of the current workload.
        var timed = false
        var value: @Sendable (RoutingEntry) -> JSONTree?
        /// Its row in the text report, if it has one.
        var row: TextRow?
    }

    /// A row of the text report: a label and one cell per strategy.
    struct TextRow: Sendable {
        var label: @Sendable (RunReport) -> String
        var cell: @Sendable (RoutingEntry) -> String
        /// Whether the report prints the row (default: always).
        var shown: @Sendable (RunReport) -> Bool = { _ in true }

        init(_ label: String, shown: @escaping @Sendable (RunReport) -> Bool = { _ in true },
             _ cell: @escaping @Sendable (RoutingEntry) -> String) {
            self.label = { _ in label }
            self.cell = cell
            self.shown = shown
        }

        init(label: @escaping @Sendable (RunReport) -> String, shown: @escaping @Sendable (RunReport) -> Bool,
             _ cell: @escaping @Sendable (RoutingEntry) -> String) {
            self.label = label
            self.cell = cell
            self.shown = shown
        }
    }

    /// Every value of a strategy's entry, in the order the JSON writes them.
    static let entryFields: [EntryField] = {
        func number(_ path: String, timed: Bool = false, row: TextRow? = nil,
                    _ v: @escaping @Sendable (RoutingEntry) -> Double?) -> EntryField {
            EntryField(path: path, kind: .number, timed: timed, value: { v($0).map { .double($0) } }, row: row)
        }
        func count(_ path: String, row: TextRow? = nil, _ v: @escaping @Sendable (RoutingEntry) -> Int) -> EntryField {
            EntryField(path: path, kind: .number, value: { .int(v($0)) }, row: row)
        }
        // The six fates SGLang's triton kernels give are rows always; the others when a program has them.
        let tritonFates: Set<ProgramFate> = [.rank0Exit, .emptyExit, .excessExit, .maskedOut, .partial, .full]
        // Comparisons with the first strategy are rows when they add to the per-sequence ÷ sorted lines.
        let compared: @Sendable (RunReport) -> Bool = { r in r.routings.count > 2 || (r.gpuSpeedup == nil && r.routings.count > 1) }
        let nonTriton = Set(Strategy.allCases.filter { !$0.isTriton }.map(\.name))

        var fields: [EntryField] = [
            EntryField(path: "routing", kind: .string, value: { .string($0.routing) }),
            EntryField(path: "grid", kind: .list, value: { .array($0.grid.map { .int($0) }) },
                       row: TextRow("grid") { "[" + $0.grid.prefix($0.axes).map(String.init).joined(separator: ", ") + "]" }),
            count("axes") { $0.axes },
            count("blocks.m", row: TextRow("blocks m×n×k", shown: { $0.routings.contains { nonTriton.contains($0.routing) } }) { e in
                "\(e.blocks.m)×\(e.blocks.n)×\(e.blocks.k)" + (e.blocks.splitK > 1 ? " split \(e.blocks.splitK)" : "")
            }) { $0.blocks.m },
            count("blocks.n") { $0.blocks.n },
            count("blocks.k") { $0.blocks.k },
            count("blocks.split_k") { $0.blocks.splitK },
            count("launched", row: TextRow("launched") { "\($0.launched)" }) { $0.launched },
        ]
        for fate in ProgramFate.allCases {
            let row = TextRow("  " + fate.rawValue,
                              shown: { r in tritonFates.contains(fate) || r.routings.contains { $0.fates[fate] > 0 } }) { e in
                let n = e.fates[fate]
                return "\(n)" + (e.launched > 0 && n > 0 ? " (\(percent(Double(n) / Double(e.launched))))" : "")
            }
            fields.append(count("fates." + fate.rawValue, row: row) { $0.fates[fate] })
        }
        fields += [
            count("working", row: TextRow("working programs") { "\($0.working)" }) { $0.working },
            count("valid_rows") { $0.validRows },
            number("row_utilisation", row: TextRow("row utilisation") { percent($0.rowUtilisation) }) { $0.rowUtilisation },
            count("useful_macs", row: TextRow("useful MACs") { grouped($0.usefulMacs) }) { $0.usefulMacs },
            count("issued_macs", row: TextRow("issued MACs") { grouped($0.issuedMacs) }) { $0.issuedMacs },
            number("mac_utilisation", row: TextRow("MAC utilisation") { percent($0.macUtilisation) }) { $0.macUtilisation },
            count("weight_bytes", row: TextRow("weight bytes loaded") { Session.formatBytes($0.weightBytes) }) { $0.weightBytes },
            EntryField(path: "what_if", kind: .bool, value: { .bool($0.whatIf) }),
            number("gpu_estimate_us", row: TextRow(label: { "\($0.gpu) est." }, shown: { $0.gpuMeasured != nil }) {
                formatMicroseconds($0.gpuEstimateUs)
            }) { $0.gpuEstimateUs },
            // Measured on a GPU (`--gpu-results`): present only when a results file of this batch is attached.
            number("gpu_measured_us", row: TextRow(label: { r in
                let name = r.gpuMeasured?.split(separator: ",").first.map(String.init) ?? "GPU"
                return "measured " + (name.hasPrefix("NVIDIA ") ? String(name.dropFirst(7)) : name)
            }, shown: { $0.gpuMeasured != nil }) { e in
                e.gpuMeasuredUs.map { formatMicroseconds($0) } ?? "–"
            }) { $0.gpuMeasuredUs },
            number("gpu_estimate_error", row: TextRow(label: { _ in "est. error vs measured" },
                                                      shown: { $0.gpuMeasured != nil }) { e in
                e.gpuEstimateError.map { ($0 >= 0 ? "+" : "−") + percent(abs($0)) } ?? "–"
            }) { $0.gpuEstimateError },
        ]
        fields += GPUBreakdown.CodingKeys.allCases.map { key in
            EntryField(path: "gpu_breakdown." + key.rawValue, kind: key == .bound ? .string : .number,
                       value: { $0.gpuBreakdown.tree(key) })
        }
        fields += [
            EntryField(path: "gpu_summary", kind: .string, value: { .string($0.gpuSummary) }),
            EntryField(path: "gpu_calibrated", kind: .bool, value: { .bool($0.gpuCalibrated) }),
            number("gpu_speedup_vs_first", row: TextRow(label: { "GPU est. vs \($0.routings[0].routing)" }, shown: compared) { e in
                e.gpuSpeedupVsFirst.map { fixed($0, 2) + "×" + (e.gpuCalibrated ? "" : " (uncalibrated)") } ?? "nothing launched"
            }) { $0.gpuSpeedupVsFirst },
            number("time_ms.median", timed: true, row: TextRow("time ms, median [min–max]") { e in
                e.timeMs.map { "\(ms($0.median)) [\(ms($0.min))–\(ms($0.max))]" } ?? "–"
            }) { $0.timeMs?.median },
            number("time_ms.min", timed: true) { $0.timeMs?.min },
            number("time_ms.max", timed: true) { $0.timeMs?.max },
            number("max_abs_error_vs_reference", timed: true, row: TextRow("max |Δ| vs fp64") {
                $0.maxAbsErrorVsReference.map(scientific) ?? "–"
            }) { $0.maxAbsErrorVsReference },
            number("gflops", timed: true, row: TextRow("GFLOP/s") { $0.gflops.map { fixed($0, 1) } ?? "–" }) { $0.gflops },
            number("speedup_vs_first", timed: true, row: TextRow(label: { "CPU time vs \($0.routings[0].routing)" }, shown: compared) {
                $0.speedupVsFirst.map { fixed($0, 2) + "×" } ?? "–"
            }) { $0.speedupVsFirst },
            number("max_abs_diff_vs_first", timed: true, row: TextRow(label: { "max |Δ| vs \($0.routings[0].routing)" }, shown: compared) { e in
                e.maxAbsDiffVsFirst.map { scientific($0) + (e.bitwiseEqualToFirst == true ? " (bitwise)" : "") } ?? "–"
            }) { $0.maxAbsDiffVsFirst },
            EntryField(path: "bitwise_equal_to_first", kind: .bool, timed: true, value: { $0.bitwiseEqualToFirst.map { .bool($0) } }),
        ]
        return fields
    }()

    /// A strategy's entry as the JSON writes it: `entryFields` nested at their dots.
    static func entryTree(_ entry: RoutingEntry) -> JSONTree {
        nested(entryFields.compactMap { f in f.value(entry).map { (f.path.split(separator: ".").map(String.init), $0) } })
    }

    /// Objects nested by key path, first appearance deciding the order.
    static func nested(_ leaves: [([String], JSONTree)]) -> JSONTree {
        var order: [String] = []
        var groups: [String: [([String], JSONTree)]] = [:]
        var values: [String: JSONTree] = [:]
        for (keys, value) in leaves {
            let head = keys[0]
            if groups[head] == nil && values[head] == nil { order.append(head) }
            if keys.count == 1 { values[head] = value } else { groups[head, default: []].append((Array(keys.dropFirst()), value)) }
        }
        return .object(order.map { ($0, values[$0] ?? nested(groups[$0]!)) })
    }
}
