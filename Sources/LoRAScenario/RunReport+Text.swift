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
    ///       per-sequence: floor 3.2 + max(exits 0.3 + compute 5.0, memory 1.1) µs; …
    ///       sorted:       floor 3.2 + max(…) µs; …
    ///     speedup (per-sequence ÷ sorted median): 2.31×
    public var text: String {
        var lines: [String] = []
        let kernelName = stack.map { "\(kernel) stack=\($0)" } ?? kernel
        lines.append("\(kernelName) · \(dtype) · \(mode) · bs \(batch.bs) · \(batch.tokens) tokens · "
                     + "\(batch.slots) slots (\(batch.slotsInUse) in use) · seed \(seed)")
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
        row("grid", routings.map { entry in
            "[" + entry.grid.prefix(entry.axes).map(String.init).joined(separator: ", ") + "]"
        })
        let triton = Set(Strategy.allCases.filter(\.isTriton).map(\.name))
        if routings.contains(where: { !triton.contains($0.routing) }) {
            row("blocks m×n×k", routings.map { b in
                "\(b.blocks.m)×\(b.blocks.n)×\(b.blocks.k)" + (b.blocks.splitK > 1 ? " split \(b.blocks.splitK)" : "")
            })
        }
        row("launched", routings.map { "\($0.launched)" })
        // The six fates of SGLang's triton kernels always; vLLM's own when any program has them.
        let tritonFates: Set<ProgramFate> = [.rank0Exit, .emptyExit, .excessExit, .maskedOut, .partial, .full]
        for (i, fate) in ProgramFate.allCases.enumerated()
        where tritonFates.contains(fate) || routings.contains(where: { $0.fates.all[i].count > 0 }) {
            row("  " + fate.rawValue, routings.map { entry in
                let n = entry.fates.all[i].count
                return "\(n)" + (entry.launched > 0 && n > 0 ? " (\(Self.percent(Double(n) / Double(entry.launched))))" : "")
            })
        }
        row("working programs", routings.map { "\($0.working)" })
        row("row utilisation", routings.map { Self.percent($0.rowUtilisation) })
        row("MAC utilisation", routings.map { Self.percent($0.macUtilisation) })
        row("useful MACs", routings.map { Self.grouped($0.usefulMacs) })
        row("issued MACs", routings.map { Self.grouped($0.issuedMacs) })
        row("weight bytes loaded", routings.map { Session.formatBytes($0.weightBytes) })
        // The estimate needs no run; its label says which GPU and whether calibrated.
        lines.append(gpuHeadline)
        for r in routings { lines.append(("  " + r.routing + ":")._padded(to: 16) + r.gpuSummary) }
        let compared = routings.count > 2 || gpuSpeedup == nil
        if compared && routings.count > 1 {
            row("GPU est. vs \(routings[0].routing)", routings.map {
                Self.fixed($0.gpuSpeedupVsFirst, 2) + "×" + ($0.gpuCalibrated || !gpuCalibrated ? "" : " (uncalibrated)")
            })
        }
        if hasTimings {
            row("time ms, median [min–max]", routings.map { r in
                r.timeMs.map { "\(Self.ms($0.median)) [\(Self.ms($0.min))–\(Self.ms($0.max))]" } ?? "–"
            })
            row("GFLOP/s", routings.map { $0.gflops.map { Self.fixed($0, 1) } ?? "–" })
            row("max |Δ| vs fp64", routings.map { $0.maxAbsErrorVsReference.map(Self.scientific) ?? "–" })
            if compared && routings.count > 1 {
                row("CPU time vs \(routings[0].routing)", routings.map { $0.speedupVsFirst.map { Self.fixed($0, 2) + "×" } ?? "–" })
                row("max |Δ| vs \(routings[0].routing)", routings.map { r in
                    r.maxAbsDiffVsFirst.map { Self.scientific($0) + (r.bitwiseEqualToFirst == true ? " (bitwise)" : "") } ?? "–"
                })
            }
            if let speedup { lines.append("speedup (per-sequence ÷ sorted median): \(Self.fixed(speedup, 2))×") }
            if let gpuDisagreement { lines.append(gpuDisagreement) }
            if let d = maxAbsDiffBetweenRoutings, let b = bitwiseEqual {
                lines.append("max |Δ| between routings: \(Self.scientific(d)) · bitwise equal: \(b ? "yes" : "no")")
            }
            if let threads { lines.append("threads: \(threads)") }
        } else {
            lines.append(routings.count == 2 ? "(no timings: run to measure both routings)" : "(no timings: run to measure the strategies)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func percent(_ x: Double) -> String { fixed(x * 100, 1) + "%" }

    static func fixed(_ x: Double, _ digits: Int) -> String {
        guard x.isFinite else { return "\(x)" }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let r = (x * scale).rounded() / scale
        var s = "\(r)"
        if s.contains("e") { return s }
        if !s.contains(".") { s += "." }
        let decimals = s.count - 1 - s.distance(from: s.startIndex, to: s.firstIndex(of: ".")!)
        return digits == 0 ? String(s.dropLast()) : s + String(repeating: "0", count: max(0, digits - decimals))
    }

    /// Milliseconds with three significant decimals where it matters.
    static func ms(_ x: Double) -> String { x >= 100 ? fixed(x, 1) : x >= 1 ? fixed(x, 3) : fixed(x, 4) }

    static func scientific(_ x: Double) -> String {
        guard x != 0 else { return "0" }
        guard x.isFinite else { return "\(x)" }
        var exponent = 0
        var m = abs(x)
        while m >= 10 { m /= 10; exponent += 1 }
        while m < 1 { m *= 10; exponent -= 1 }
        var mantissa = fixed(m, 2)
        if mantissa.hasPrefix("10.") { mantissa = "1.00"; exponent += 1 }
        return (x < 0 ? "-" : "") + mantissa + "e" + (exponent < 0 ? "-" : "+") + String(abs(exponent))
    }

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
