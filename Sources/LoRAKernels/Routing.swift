/// The "batch info" a kernel launch receives (docs/kernels.md §2).
public struct Routing: Hashable, Sendable {
    public internal(set) var kind: Strategy
    /// `seg_lens`: token rows of every segment.
    public internal(set) var segmentLengths: [Int]
    /// `seg_indptr`: exclusive prefix sum of `seg_lens`, `numSegments + 1` long.
    public internal(set) var segmentStarts: [Int]
    /// `weight_indices`: the slot of every segment.
    public internal(set) var weightIndices: [Int]
    /// `max_len`: what the grid's row axis is sized for.
    public internal(set) var maxLength: Int
    /// `permutation`: logical row → physical token row (sorted routing only).
    public internal(set) var permutation: [Int]?
    /// Whether this routing goes beyond SGLang (sorting extend batches per token).
    public internal(set) var isWhatIf: Bool

    /// `num_segments`.
    public var segmentCount: Int { segmentLengths.count }

    /// The physical token row of logical row `row` of segment `segment`.
    @inlinable
    public func physicalRow(segment: Int, row: Int) -> Int {
        let logical = segmentStarts[segment] + row
        return permutation.map { $0[logical] } ?? logical
    }

    /// One segment per sequence: `seg_lens = len`, `weight_indices = wi`, `max_len = max(len)`.
    public static func perSequence(_ batch: Batch) -> Routing {
        let lengths = batch.sequenceLengths
        return Routing(
            kind: .perSequence,
            segmentLengths: lengths,
            segmentStarts: exclusivePrefixSum(lengths),
            weightIndices: batch.weightIndices,
            maxLength: lengths.max() ?? 0,
            permutation: nil,
            isWhatIf: false)
    }

    /// One segment per slot over tokens stably sorted by slot, `max_len = S`.
    ///
    /// In decode a token is a sequence, exactly as SGLang does it. In extend
    /// every token carries its sequence's slot and the sort runs over tokens:
    /// a what-if SGLang does not do.
    public static func sorted(_ batch: Batch) -> Routing {
        let tokenSlots = tokenSlots(batch)
        // A counting sort is a stable argsort on small integer keys.
        var lengths = [Int](repeating: 0, count: batch.slotCount)
        for slot in tokenSlots { lengths[slot] += 1 }
        let starts = exclusivePrefixSum(lengths)
        var next = Array(starts.dropLast())
        var permutation = [Int](repeating: 0, count: tokenSlots.count)
        for (row, slot) in tokenSlots.enumerated() {
            permutation[next[slot]] = row
            next[slot] += 1
        }
        return Routing(
            kind: .sorted,
            segmentLengths: lengths,
            segmentStarts: starts,
            weightIndices: Array(0..<batch.slotCount),
            maxLength: tokenSlots.count,
            permutation: permutation,
            isWhatIf: batch.mode == .extend)
    }

    /// The sorted routing with `max_len` = the longest segment instead of `S`
    /// ("tight"): the same segments and exits, far fewer excess exits. The
    /// host must know that length before the launch, which a captured CUDA
    /// graph cannot; the calibration data times it, so the cost model prices it.
    public static func tight(_ batch: Batch) -> Routing {
        var routing = sorted(batch)
        routing.kind = .tight
        routing.maxLength = routing.segmentLengths.max() ?? 0
        return routing
    }

    /// Every token's slot, in batch order.
    static func tokenSlots(_ batch: Batch) -> [Int] {
        var tokenSlots: [Int] = []
        tokenSlots.reserveCapacity(batch.totalTokens)
        for (slot, length) in zip(batch.weightIndices, batch.sequenceLengths) {
            tokenSlots.append(contentsOf: repeatElement(slot, count: length))
        }
        return tokenSlots
    }
}

/// `[0, a0, a0+a1, …]`, one longer than `values`.
func exclusivePrefixSum(_ values: [Int]) -> [Int] {
    var sums = [0]
    sums.reserveCapacity(values.count + 1)
    for v in values { sums.append(sums.last! + v) }
    return sums
}
