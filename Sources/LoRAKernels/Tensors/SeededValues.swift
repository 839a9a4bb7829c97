/// Reproducible pseudo-random input values: a counter-based SplitMix64.
///
/// Every element's value is a pure function of `(seed, stream, index)`, so a
/// tensor can be generated in any order, in parallel, and in any memory
/// layout, and still hold the same values for the same seed.
struct SeededValues: Sendable {
    var seed: UInt64

    /// The tensors that draw from separate streams.
    enum Stream: UInt64 {
        case x = 1, weights = 2, base = 3
    }

    /// SplitMix64's output function applied to the counter `state`.
    @inline(__always)
    static func mix(_ state: UInt64) -> UInt64 {
        var z = state &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z &>> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z &>> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z &>> 31)
    }

    /// A value uniform in `[-1, 1)` for element `index` of `stream`.
    @inline(__always)
    func uniform(_ stream: Stream, _ index: Int) -> Float {
        let key = SeededValues.mix(seed ^ (stream.rawValue &* 0xD1B5_4A32_D192_ED03))
        let bits = SeededValues.mix(key &+ UInt64(truncatingIfNeeded: index) &* 0x9E37_79B9_7F4A_7C15)
        // 24 random bits → [0, 1) exactly representable, then to [-1, 1).
        return Float(bits &>> 40) * 0x1p-23 - 1
    }
}
