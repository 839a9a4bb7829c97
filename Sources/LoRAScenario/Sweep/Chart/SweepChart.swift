import Foundation
import LoRAKernels

/// Where sorting starts to pay: a sweep's speedup per-sequence ÷ sorted against bs.
///
///     let chart = SweepChart(rows: rows)                 // the first rank's series
///     chart.lines(width: 80, height: 24, style: .braille) // text, one String per row
///     chart.svg()                                         // a standalone SVG document
///
/// One series per adapter count, for one rank. The GPU series are **estimates**
/// from the sweep's GPU profile (`RunReport.gpuSpeedup`); when the rows were
/// run, a CPU series per adapter count follows (`RunReport.speedup`, median
/// times of the SIMD CPU kernels), drawn dashed. x is bs on a log2 axis, y the
/// speedup on a log axis whose 1× line is always shown.
///
/// A value type with no I/O: the renderers return text or cells and never
/// write anywhere, so the TUI can draw the same chart into its canvas.
public struct SweepChart: Hashable, Sendable {
    /// Where a series' figures come from.
    public enum Source: Hashable, Sendable {
        /// `RunReport.gpuSpeedup`: the GPU profile's estimate, not a measurement.
        case gpuEstimate
        /// `RunReport.speedup`: median per-sequence ÷ sorted time of the CPU kernels (`--run`).
        case cpu
    }

    /// One point of a series: a batch size and its speedup (> 0).
    public struct Sample: Hashable, Sendable {
        public let bs: Int
        public let speedup: Double
    }

    /// One line of the chart: an adapter count's speedups, bs ascending.
    public struct Series: Hashable, Sendable {
        public let adapters: Int
        public let source: Source
        public let samples: [Sample]
        /// The glyph at every sample, in every style, and beside the label in the legend.
        public let mark: Character

        /// `4 adapters (GPU est.)` or `4 adapters (CPU run)`.
        public var label: String {
            "\(adapters) adapter\(adapters == 1 ? "" : "s") (\(source == .cpu ? "CPU run" : "GPU est."))"
        }

        /// CPU series are drawn dashed, GPU estimates solid.
        public var isDashed: Bool { source == .cpu }
    }

    /// The rank whose series are drawn (nil when the rows are empty).
    public let rank: Int?
    /// Every rank among the rows, in order of appearance.
    public let ranks: [Int]
    /// The GPU profile's name (`h200`).
    public let gpu: String
    /// `H200 est.` or `L40S est. (uncalibrated)` (`GPUProfile.estimateLabel`).
    public let estimateLabel: String
    /// GPU series (adapter counts ascending), then CPU series (the same order).
    public let series: [Series]
    /// Every bs of the drawn series, ascending: the x ticks.
    public let bsValues: [Int]
    /// Why there is nothing to draw, when `series` is empty.
    public let unavailable: String?

    /// Marks of the GPU series, by adapter count; a CPU series takes the same index of `_cpuMarks`.
    static let _gpuMarks: [Character] = ["o", "x", "+", "*", "%", "@", "&", "$"]
    static let _cpuMarks: [Character] = ["O", "X", "#", "=", "~", "^", "?", "!"]

    /// The chart of `rows` for `rank` (the first row's rank when nil).
    ///
    /// - Parameters:
    ///   - rows: a sweep's points and their reports, as `lora-viz sweep` collects them.
    ///   - rank: the rank whose series are drawn; a rank absent from the rows leaves the chart empty.
    /// What a sample's speedup is of.
    public enum Measure: Hashable, Sendable {
        /// The one launch the template's kernel is (`gpu_speedup`, and the CPU's `speedup`).
        case launch
        /// A decoder layer's eight launches (the report's `layer` totals): per a
        /// forward pass with the routing build added once when the model's
        /// layer count is known, else per layer. GPU estimates only.
        case layer
    }

    /// What the samples measure.
    public let measure: Measure
    /// With `.layer`: the model's layer count the forward pass is summed over, when known.
    public let layers: Int?

    /// The layer's estimated speedup per-sequence ÷ sorted: over a forward pass (the
    /// sorted routing built once) when the layer count is known, else over one layer.
    static func layerSpeedup(_ r: RunReport) -> Double? {
        guard let l = r.layer, let ps = l.totals.first(where: { $0.strategy == Strategy.perSequence.name }),
              let so = l.totals.first(where: { $0.strategy == Strategy.sorted.name }) else { return nil }
        let a = l.forwardPassUs(ps) ?? ps.gpuEstimateUs, b = l.forwardPassUs(so) ?? so.gpuEstimateUs
        return b > 0 ? a / b : nil
    }

    public init(rows: [(Sweep.Point, RunReport)], rank: Int? = nil, measure: Measure = .launch) {
        self.measure = measure
        layers = measure == .layer ? rows.first?.1.layer?.layers : nil
        var ranks: [Int] = []
        for (p, _) in rows where !ranks.contains(p.rank) { ranks.append(p.rank) }
        self.ranks = ranks
        let rank = rank ?? ranks.first
        self.rank = rank
        let first = rows.first?.1
        gpu = first?.gpu ?? GPUProfile.defaultProfile.name
        estimateLabel = first.flatMap { GPUProfile.named($0.gpu)?.estimateLabel } ?? GPUProfile.defaultProfile.estimateLabel
        let picked = rows.filter { $0.0.rank == rank }
        let adapterCounts = Array(Set(picked.map(\.0.adapters))).sorted()

        func make(_ source: Source, _ value: (RunReport) -> Double?) -> [Series] {
            adapterCounts.enumerated().compactMap { i, a in
                var byBS: [Int: Double] = [:]
                for (p, r) in picked where p.adapters == a {
                    if let v = value(r), v > 0, v.isFinite { byBS[p.bs] = v }
                }
                guard !byBS.isEmpty else { return nil }
                let marks = source == .cpu ? Self._cpuMarks : Self._gpuMarks
                return Series(adapters: a, source: source,
                              samples: byBS.keys.sorted().map { Sample(bs: $0, speedup: byBS[$0]!) },
                              mark: marks[i % marks.count])
            }
        }
        series = measure == .layer ? make(.gpuEstimate, Self.layerSpeedup)
            : make(.gpuEstimate, \.gpuSpeedup) + make(.cpu, \.speedup)
        bsValues = Array(Set(series.flatMap { $0.samples.map(\.bs) })).sorted()

        if rows.isEmpty {
            unavailable = "no chart: the sweep has no points"
        } else if picked.isEmpty, let rank {
            unavailable = "no chart: rank \(rank) is not among the swept ranks (\(ranks.map(String.init).joined(separator: ", ")))"
        } else if series.isEmpty {
            unavailable = picked.allSatisfy { $0.1.gpuSpeedup == nil && $0.1.speedup == nil }
                ? "no chart: the speedup needs per-sequence and sorted (--strategies)"
                : "no chart: no point has a positive, finite speedup"
        } else {
            unavailable = nil
        }
    }

    /// Whether any series is a CPU run.
    public var hasCPUSeries: Bool { series.contains { $0.source == .cpu } }

    /// `Sorting speedup (per-sequence ÷ sorted) against bs, rank 16`; `rank 4 of 16,4` when several ranks were swept.
    public var title: String {
        (measure == .layer
            ? "Layer speedup (per-seq ÷ sorted" + (layers.map { ", \($0) layers + routing build" } ?? ", one layer") + ")"
            : "Sorting speedup (per-sequence ÷ sorted) against bs")
            + (rank.map { ", rank \($0)" + (ranks.count > 1 ? " of " + ranks.map(String.init).joined(separator: ",") : "") } ?? "")
    }

    /// `H200 est. = estimates from the GPU profile, not measured`, and what the dashed CPU series are when present.
    public var subtitle: String {
        "\(estimateLabel) = estimates from the GPU profile, not measured"
            + (hasCPUSeries ? " · dashed = CPU run" : "")
    }

    /// The y axis's name.
    static let _yAxisLabel = "speedup, log scale"
    /// The x axis's name.
    static let _xAxisLabel = "bs (sequences in the batch), log2 scale"

    // MARK: Axes (log2 units)

    /// The x domain in log2(bs): the data's, or an octave either side of a single bs.
    var _xDomain: (lo: Double, hi: Double) {
        guard let lo = bsValues.first, let hi = bsValues.last else { return (0, 1) }
        return lo == hi ? (log2(Double(lo)) - 1, log2(Double(lo)) + 1) : (log2(Double(lo)), log2(Double(hi)))
    }

    /// The y domain in log2(speedup) and its ticks (log2 values, ascending, 0 among them),
    /// the densest tick set whose neighbours lie `minGap` apart on an axis `length` long.
    ///
    /// The domain always contains 1× and is widened to the ticks on either side of
    /// the data; spans up to 256× tick at powers of 2, wider ones at 1-2-5 or powers of 10.
    func _yAxis(length: Double, minGap: Double) -> (lo: Double, hi: Double, ticks: [Double]) {
        let values = series.flatMap { $0.samples.map { log2($0.speedup) } }
        var lo = min(values.min() ?? 0, 0), hi = max(values.max() ?? 0, 0)
        if hi - lo < 1e-9 { lo -= 1; hi += 1 }
        let log2of10 = log2(10.0)
        var candidates: [[Double]] = []
        func powersOfTwo(_ step: Double) -> [Double] {
            let a = (lo / step - 1e-9).rounded(.down), b = (hi / step + 1e-9).rounded(.up)
            return stride(from: a, through: b, by: 1).map { $0 * step }
        }
        func decades(_ mantissas: [Double], every: Int) -> [Double] {
            let a = Int((lo / log2of10 - 1e-9).rounded(.down)) - every, b = Int((hi / log2of10 + 1e-9).rounded(.up)) + every
            let all = (a...b).filter { $0 % every == 0 }.flatMap { d in mantissas.map { log2($0) + Double(d) * log2of10 } }
            // Keep the ticks inside [lo, hi] and the nearest one beyond each end.
            let below = all.filter { $0 <= lo + 1e-9 }.max() ?? lo, above = all.filter { $0 >= hi - 1e-9 }.min() ?? hi
            return all.filter { $0 >= below - 1e-9 && $0 <= above + 1e-9 }
        }
        if hi - lo <= 8 + 1e-9 { candidates += [1, 2, 4].map(powersOfTwo) }
        candidates += [decades([1, 2, 5], every: 1), decades([1], every: 1), decades([1], every: 2), decades([1], every: 3)]
        if hi - lo > 8 + 1e-9 { candidates += [powersOfTwo(8), powersOfTwo(16)] }
        func fits(_ ticks: [Double]) -> Bool {
            guard let a = ticks.first, let b = ticks.last, b > a else { return false }
            let scale = length / (b - a)
            return zip(ticks, ticks.dropFirst()).allSatisfy { ($1 - $0) * scale >= minGap - 1e-9 }
        }
        guard let ticks = candidates.first(where: fits) ?? candidates.last, ticks.count >= 2 else { return (lo, hi, [0]) }
        return (ticks.first!, ticks.last!, ticks)
    }

    /// `0.5×`, `1×`, `4×`, `0.01×`, `100×`: a tick's speedup with at most three significant digits.
    static func _tickLabel(_ log2Value: Double) -> String {
        let v = pow(2, log2Value)
        if v >= 1, abs(v - v.rounded()) < 1e-6 * v { return "\(Int(v.rounded()))×" }
        var s = String(format: "%.3g", v)
        if s.contains("e") { s = String(format: "%.1e", v) }
        return s + "×"
    }
}
