/// SplitMix64 as a `RandomNumberGenerator`: small, fast and seedable, so
/// random batches in sweeps and fuzz-like tests reproduce from their seed.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        defer { state &+= 0x9E37_79B9_7F4A_7C15 }
        return SeededValues.mix(state)
    }
}
