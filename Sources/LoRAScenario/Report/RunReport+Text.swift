import LoRAKernels

extension RunReport {
    /// The report as a readable table, one column per routing.
    ///
    ///     sgemm_lora_b · bf16 · decode · bs 26 · 26 tokens · 8 slots (4 in use) · seed 42
    ///                            per-sequence           sorted
    ///     grid                   [16, 26]               [16, 8]
    ///     launched               416                    128
    ///     …
    ///     H200 est. 8.9 µs → 7.1 µs, 1.25×
    ///       per-sequence: floor 3.2 + norm4(longest 3.0, exits 0.3 + compute 5.0, memory 1.1) µs; …
    ///       sorted:       floor 3.2 + norm4(…) µs; …
    ///     speedup (per-sequence ÷ sorted median): 2.31×
    public var text: String {
        var lines: [String] = []
        let kernelName = stack.map { "\(kernel) stack=\($0)" } ?? kernel
        lines.append("\(kernelName) · \(dtype) · \(mode) · bs \(batch.bs) · \(batch.tokens) tokens · "
                     + "\(batch.slots) slots (\(batch.slotsInUse) in use) · seed \(seed)")
        if let m = model {
            lines.append("model \(m.name) (\(m.modelType)\(m.layers.map { ", \($0) layers" } ?? "")) from \(m.path)")
        }
        for a in adapterFiles {
            lines.append("adapter \(a.name) from \(a.path): slot \(a.slot), rank \(a.rank), scaling \(Self.fixed(a.scaling, 4)), "
                         + "layer \(a.layer) \(a.module) weights")
        }
        for n in adapterNotes { lines.append("note: \(n)") }
        if whatIf {
            lines.append("note: sorting an extend batch per token is a what-if; SGLang sorts decode batches only")
        }
        let labelWidth = 26
        let columnWidth = 26
        func row(_ label: String, _ values: [String]) {
            var line = label._padded(to: labelWidth)
            for (i, v) in values.enumerated() {
                line += i == values.count - 1 ? v : v._padded(to: columnWidth)
            }
            lines.append(line)
        }
        row("", routings.map { $0.routing + ($0.whatIf ? " (what-if)" : "") })
        // Every row comes from `entryFields`: the plan's, then the estimate's lines, then the run's.
        func rows(timed: Bool) {
            for f in Self.entryFields where f.timed == timed {
                guard let r = f.row, r.shown(self) else { continue }
                row(r.label(self), routings.map(r.cell))
            }
        }
        rows(timed: false)
        // The estimate needs no run; its label says which GPU and whether calibrated.
        lines.append(gpuHeadline)
        for r in routings { lines.append(("  " + r.routing + ":")._padded(to: 16) + r.gpuSummary) }
        if let gpuDirectionNote { lines.append(gpuDirectionNote) }
        if let gpuMeasured { lines.append("measured on \(gpuMeasured) (the real kernels, a CUDA graph of 20 calls)") }
        if hasTimings {
            rows(timed: true)
        if let speedup {
            // The pair `speedup` compares: per-sequence and sorted when both ran, else the first two.
            let pair = entry(.perSequence) != nil && entry(.sorted) != nil ? ("per-sequence", "sorted")
                : (routings[0].routing, routings[min(1, routings.count - 1)].routing)
            lines.append("speedup (\(pair.0) ÷ \(pair.1) median): \(Self.fixed(speedup, 2))×")
        }
            if let gpuDisagreement { lines.append(gpuDisagreement) }
            if let d = maxAbsDiffBetweenRoutings, let b = bitwiseEqual {
                lines.append("max |Δ| between routings: \(Self.scientific(d)) · bitwise equal: \(b ? "yes" : "no")")
            }
            if let threads { lines.append("threads: \(threads)") }
            if referenceIsSampled, let r = referenceRowsChecked {
                lines.append("fp64 reference: a seeded sample of \(r) of \(batch.tokens) rows (above 2^32 reference multiply-adds); max |Δ| vs fp64 is over those rows")
            }
        } else {
            lines.append(routings.count == 2 ? "(no timings: run to measure both routings)" : "(no timings: run to measure the strategies)")
        }
        if let layer { lines.append(""); lines.append(layer.text) }
        return lines.joined(separator: "\n") + "\n"
    }

    static func percent(_ x: Double) -> String { fixed(x * 100, 1) + "%" }

    static func fixed(_ x: Double, _ digits: Int) -> String { NumberFormat.fixed(x, digits) }

    /// Milliseconds with three significant decimals where it matters.
    static func ms(_ x: Double) -> String { x >= 100 ? fixed(x, 1) : x >= 1 ? fixed(x, 3) : fixed(x, 4) }

    static func scientific(_ x: Double) -> String { NumberFormat.scientific(x) }

    /// `1 234 567`: thin groups of three for big counts.
    static func grouped(_ n: Int) -> String {
        let digits = Array(String(abs(n)))
        var out = ""
        for (i, d) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { out += " " }
            out.append(d)
        }
        return (n < 0 ? "-" : "") + out
    }
}

extension String {
    func _padded(to n: Int) -> String {
        let c = count
        return c >= n ? self + " " : self + String(repeating: " ", count: n - c)
    }
}
