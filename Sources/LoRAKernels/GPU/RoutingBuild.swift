import Foundation

/// What building the sorted routing costs once per forward pass, measured on
/// an H200 (docs/gpu-anchor.md): SGLang's own function, captured in a CUDA
/// graph, at bs 1, 64 and 512 (20, 27, 42 µs); 125–285 µs when run eagerly.
///
/// Every layer and LoRA module of a forward pass shares one build, so the
/// layer view adds it once per pass, never per launch. csgmv and vLLM build
/// their own per-batch mappings too; those were not measured, so nothing is
/// added for them (the layer view says so).
public enum SortedRoutingBuild {
    /// `(tokens, µs)` measured in a CUDA graph.
    public static let measuredInGraph: [(tokens: Int, us: Double)] = [(1, 20), (64, 27), (512, 42)]
    /// The eager (host-bound) range over bs 1–512, µs.
    public static let eagerRangeUs: ClosedRange<Double> = 125...285
    /// Where the figures come from, as the layer view prints it.
    public static let source = "H200, SGLang's sorted-routing build in a CUDA graph, measured at bs 1/64/512 (docs/gpu-anchor.md)"

    /// The build's time for `tokens` rows: the measurements interpolated
    /// linearly in log2(tokens), held at the ends.
    public static func graphUs(tokens: Int) -> Double {
        let points = measuredInGraph
        let x = log2(Double(max(1, tokens)))
        guard let first = points.first, let last = points.last else { return 0 }
        if tokens <= first.tokens { return first.us }
        if tokens >= last.tokens { return last.us }
        for (a, b) in zip(points, points.dropFirst()) where tokens <= b.tokens {
            let xa = log2(Double(a.tokens)), xb = log2(Double(b.tokens))
            return a.us + (b.us - a.us) * (x - xa) / (xb - xa)
        }
        return last.us
    }
}
