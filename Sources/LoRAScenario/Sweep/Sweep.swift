import Foundation
import LoRAKernels

/// A bad sweep argument: names the flag (`--bs`, `--ranks`, …) and why.
public struct SweepError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "error: \(message)" }
}

/// `lora-viz sweep`: the batch a command file builds, used as a template and
/// varied over batch size, adapter count and rank.
///
/// For every point the template's kernel, dims, dtype, mode, seed, GPU,
/// strategies and strategy options are kept; its adapters and sequences are
/// replaced by `adapters` adapters `a0…` (each with the point's rank and the
/// template's first adapter's scaling, in slots 0…; the slot count is the
/// template's, raised to the adapter count when smaller) and `bs` sequences
/// assigned to them round-robin (`i mod adapters`), each with the template's
/// first sequence's token count in extend mode (one token in decode).
public struct Sweep: Sendable {
    /// One point of the sweep.
    public struct Point: Hashable, Sendable {
        public var bs: Int
        public var adapters: Int
        public var rank: Int
        public init(bs: Int, adapters: Int, rank: Int) {
            self.bs = bs
            self.adapters = adapters
            self.rank = rank
        }
    }

    /// The session after the file's commands (its `run` steps not executed).
    public var template: Session
    public var bs: [Int]
    public var adapters: [Int]
    public var ranks: [Int]
    /// Every point's report carries its decoder layer's eight launches (`--layer`).
    public var layer = false

    /// The template's first adapter's rank, or 16 (at most the dims' R) when it has none.
    public static func defaultRank(_ s: Session) -> Int {
        s.workload.batch.adapters.first?.rank ?? min(16, s.workload.dims.maxRank)
    }

    /// Applies every step of `scenario` to a fresh session; effects (`run`, `expect`, …) are ignored.
    public static func template(_ scenario: Scenario) throws -> Session {
        try Session(replaying: scenario)
    }

    /// Checks the axes against the language's limits and the template's dims.
    public init(template: Session, bs: [Int], adapters: [Int], ranks: [Int]? = nil, strategies: [Strategy]? = nil) throws {
        var template = template
        if let strategies, !strategies.isEmpty { template.strategies = strategies }
        self.template = template
        self.bs = bs
        self.adapters = adapters
        self.ranks = ranks ?? [Self.defaultRank(template)]
        let R = template.workload.dims.maxRank
        for r in self.ranks where r < 0 || r > R {
            throw SweepError(ranks == nil
                ? "the template's rank \(r) is outside 0…\(R) (the file's dims rank=)"
                : "--ranks: \(r) is outside 0…\(R) (the file's dims rank=)")
        }
        for b in bs where !Batch.Limits.sequences.contains(b) {
            throw SweepError("--bs: \(b) is outside \(Batch.Limits.sequences.lowerBound)…\(Batch.Limits.sequences.upperBound)")
        }
        for a in adapters where !Batch.Limits.slots.contains(a) {
            throw SweepError("--adapters: \(a) is outside \(Batch.Limits.slots.lowerBound)…\(Batch.Limits.slots.upperBound) (one slot each)")
        }
        for p in points {
            let w = workload(p)
            if w.batch.totalTokens > Batch.Limits.totalTokens.upperBound {
                throw SweepError("--bs: bs=\(p.bs) makes \(w.batch.totalTokens) tokens; the limit is \(Batch.Limits.totalTokens.upperBound)")
            }
            let bytes = w.tensorBytes(strategies: template.strategies.count)
            if bytes > Workload.memoryCap {
                throw SweepError("bs=\(p.bs) adapters=\(p.adapters): the tensors would take \(Session.formatBytes(bytes)); the memory cap is \(Session.formatBytes(Workload.memoryCap))")
            }
        }
    }

    /// Parses `1,8,32`: positive integers (0 allowed where `allowZero`), no duplicates.
    public static func parseList(_ text: String, flag: String, allowZero: Bool = false) throws -> [Int] {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard !parts.isEmpty, !text.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw SweepError("\(flag): expected a comma-separated list of integers, got an empty value")
        }
        var values: [Int] = []
        for p in parts {
            guard let v = Int(p), v >= (allowZero ? 0 : 1) else {
                throw SweepError("\(flag): '\(p)' is not a \(allowZero ? "non-negative" : "positive") integer (expected e.g. 1,8,32)")
            }
            if values.contains(v) { throw SweepError("\(flag): \(v) is listed twice") }
            values.append(v)
        }
        return values
    }

    /// Every point: rank outermost, then adapters, then bs.
    public var points: [Point] {
        ranks.flatMap { r in adapters.flatMap { a in bs.map { Point(bs: $0, adapters: a, rank: r) } } }
    }

    /// The point's workload: the template's with the point's batch.
    public func workload(_ p: Point) -> Workload {
        var w = template.workload
        // The point's adapters are new, seeded ones: no file's weights carry over.
        w.slotWeights = [:]
        let t = w.batch
        let scaling = t.adapters.first?.scaling ?? 1
        let tokens = t.mode == .decode ? 1 : (t.sequences.first?.tokens ?? 1)
        w.batch = Batch(
            slotCount: max(t.slotCount, p.adapters),
            adapters: (0..<p.adapters).map { Adapter(name: "a\($0)", rank: p.rank, scaling: scaling, slot: $0) },
            sequences: (0..<p.bs).map { BatchSequence(adapter: "a\($0 % p.adapters)", tokens: tokens) },
            mode: t.mode)
        return w
    }

    /// The point's session: the template with the point's workload.
    public func session(_ p: Point) -> Session {
        var s = template
        s.workload = workload(p)
        s.apply(run: nil)
        s.selection = nil
        if layer { s.showsLayer = true }
        return s
    }

    /// The point's report: every chosen strategy's plan and estimate, and `run`'s timings if given.
    public func report(_ p: Point, run: KernelRunResult? = nil) -> RunReport {
        var s = session(p)
        s.apply(run: run)
        return s.report()
    }

    // MARK: Output

    /// The per-point columns before the strategy's (`RunReport.entryFields`).
    static let pointColumns = ["bs", "adapters", "rank", "tokens", "slots", "kernel", "mode", "gpu", "gpu_speedup", "cpu_speedup"]

    /// The CSV header: the point's columns, then every `RunReport.entryFields` path.
    public static var csvHeader: String {
        (pointColumns + RunReport.entryFields.map(\.path)).joined(separator: ",")
    }

    /// One CSV row per strategy of the point (empty cells for values the report lacks).
    public static func csvRows(_ p: Point, _ r: RunReport) -> [String] {
        let head: [String] = [
            "\(p.bs)", "\(p.adapters)", "\(p.rank)", "\(r.batch.tokens)", "\(r.batch.slots)", r.kernel, r.mode, r.gpu,
            r.gpuSpeedup.map { csvNumber($0) } ?? "", r.speedup.map { csvNumber($0) } ?? "",
        ]
        return r.routings.map { e in
            (head + RunReport.entryFields.map { f in f.value(e).map(csvCell) ?? "" }).map(csvQuote).joined(separator: ",")
        }
    }

    /// One JSON object for the point: `bs`, `adapters`, `rank`, then the run report's keys.
    public static func jsonLine(_ p: Point, _ r: RunReport) -> String {
        guard case .object(let members) = r.tree else { return r.json }
        return JSONTree.object([("bs", .int(p.bs)), ("adapters", .int(p.adapters)), ("rank", .int(p.rank))] + members).serialized
    }

    static func csvNumber(_ x: Double) -> String { JSONTree.double(x).serialized }

    static func csvCell(_ t: JSONTree) -> String {
        switch t {
        case .string(let s): return s
        case .array(let items): return items.map(csvCell).joined(separator: " ")
        case .null: return ""
        default: return t.serialized
        }
    }

    static func csvQuote(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// Text tables, one per strategy: a row per point with launched, working,
    /// every fate, the GPU estimate and, after runs, CPU time; then the
    /// speedup chart (`SweepChart`) of `chartRank` (the first rank when nil),
    /// `chartWidth` × `chartHeight` cells in `chartStyle`, or the one line
    /// saying why there is none.
    public static func textTables(_ rows: [(Point, RunReport)], chartStyle: ChartStyle = .ascii, chartRank: Int? = nil,
                                  layerChart: Bool = false,
                                  chartWidth: Int = 80, chartHeight: Int = 24) -> String {
        guard let first = rows.first?.1 else { return "no points\n" }
        var out = ""
        let label = first.gpu + " est. µs" + (first.gpuCalibrated ? "" : " (uncalibrated)")
        for (i, e0) in first.routings.enumerated() {
            out += "\(e0.routing)\(e0.gpuCalibrated ? "" : " (GPU estimate uncalibrated)")\n"
            var header = ["bs", "adapters", "rank", "launched", "working"] + ProgramFate.allCases.map(\.rawValue) + [label]
            let timed = rows.contains { $0.1.hasTimings }
            let both = first.gpuSpeedup != nil
            if both { header.append("est. speedup") }
            if timed { header += ["CPU ms (median)", "CPU speedup"] }
            var table = [header]
            for (p, r) in rows {
                let e = r.routings[i]
                var row = ["\(p.bs)", "\(p.adapters)", "\(p.rank)", "\(e.launched)", "\(e.working)"]
                row += ProgramFate.allCases.map { "\(e.fates[$0])" }
                row.append(String(format: "%.1f", e.gpuEstimateUs))
                if both { row.append(r.gpuSpeedup.map { String(format: "%.2f×", $0) } ?? "–") }
                if timed {
                    row.append(e.timeMs.map { String(format: "%.3f", $0.median) } ?? "–")
                    row.append(r.speedup.map { String(format: "%.2f×", $0) } ?? "–")
                }
                table.append(row)
            }
            out += rightAligned(table) + "\n"
        }
        let chart = SweepChart(rows: rows, rank: chartRank, measure: rows.contains { $0.1.layer != nil } && layerChart ? .layer : .launch)
        if layerChart { out += layerTable(rows) }
        for line in chart.lines(width: chartWidth, height: chartHeight, style: chartStyle) {
            // Each row is padded to the width; a file or terminal needs no trailing blanks.
            out += String(line.reversed().drop { $0 == " " }.reversed()) + "\n"
        }
        return out
    }

    /// With `--layer`: a row per point with each strategy's layer total (estimated µs), the
    /// forward pass's when the model's layer count is known, and the layer speedup.
    static func layerTable(_ rows: [(Point, RunReport)]) -> String {
        guard let first = rows.first?.1.layer else { return "" }
        let names = first.totals.map(\.strategy)
        var header = ["bs", "adapters", "rank"] + names.map { "\($0) layer µs" }
        if first.layers != nil { header += names.map { "\($0) pass µs" } }
        header.append("layer speedup")
        var table = [header]
        for (p, r) in rows {
            guard let l = r.layer else { continue }
            var row = ["\(p.bs)", "\(p.adapters)", "\(p.rank)"] + l.totals.map { String(format: "%.1f", $0.gpuEstimateUs) }
            if l.layers != nil { row += l.totals.map { l.forwardPassUs($0).map { String(format: "%.1f", $0) } ?? "–" } }
            row.append(SweepChart.layerSpeedup(r).map { String(format: "%.2f×", $0) } ?? "–")
            table.append(row)
        }
        return "decoder layer (\(first.gpu) estimates\(first.layers.map { "; pass = \($0) layers + the sorted routing build once" } ?? ""))\n"
            + rightAligned(table) + "\n"
    }

    /// Rows of cells, each column right-aligned to its widest, two spaces apart; a newline after each row.
    static func rightAligned(_ table: [[String]]) -> String {
        guard let columns = table.first?.count else { return "" }
        let widths = (0..<columns).map { c in table.map { $0[c].count }.max()! }
        return table.map { row in
            row.enumerated().map { c, cell in String(repeating: " ", count: widths[c] - cell.count) + cell }
                .joined(separator: "  ") + "\n"
        }.joined()
    }
}
