/// A bfloat16 value: the upper 16 bits of an IEEE binary32.
///
/// Rounding from `Float` is round-to-nearest-even (NaN stays a quiet NaN);
/// widening is exact: the bits shifted into the high half of a `Float`.
public struct BFloat16: Hashable, Sendable {
    public var bitPattern: UInt16


    public init(bitPattern: UInt16) { self.bitPattern = bitPattern }

    /// The bfloat16 nearest to `value` (ties to even).
    @inline(__always)
    public init(_ value: Float) {
        bitPattern = UInt16(truncatingIfNeeded: BFloat16.roundedBits(value.bitPattern) &>> 16)
    }

    /// The exact `Float` this value stands for.
    @inline(__always)
    public var float: Float { Float(bitPattern: UInt32(bitPattern) &<< 16) }

    /// The binary32 bits of `bits` rounded to bfloat16 (low half zero).
    @inline(__always)
    static func roundedBits(_ bits: UInt32) -> UInt32 {
        if bits & 0x7FFF_FFFF > 0x7F80_0000 { return (bits | 0x0040_0000) & 0xFFFF_0000 }  // quiet NaN
        let lsb = (bits &>> 16) & 1
        return (bits &+ 0x7FFF &+ lsb) & 0xFFFF_0000
    }
}

extension SIMD16 where Scalar == Float {
    /// Every lane rounded to bfloat16 (ties to even) and widened back, for
    /// lanes whose NaNs, if any, have zero low 16 bits: five vector integer
    /// ops instead of `roundedToBFloat16`'s nine. Adding `0x7FFF + lsb` to such
    /// a NaN carries nothing into its upper half, so it stays the same NaN.
    ///
    /// The expands' epilogue meets the condition: its operands are bf16
    /// values, a scaling and fp32 sums of their products, and x86 arithmetic
    /// makes NaNs only by propagating an operand's payload (quieted) or as the
    /// default NaN `0xFFC00000`; both have zero low bits here.
    @inline(__always)
    var roundedToBFloat16ForBF16Operands: SIMD16<Float> {
        let bits = unsafeBitCast(self, to: SIMD16<UInt32>.self)
        let lsb = (bits &>> 16) & 1
        return unsafeBitCast((bits &+ 0x7FFF &+ lsb) & 0xFFFF_0000, to: SIMD16<Float>.self)
    }

    /// Every lane rounded to bfloat16 (ties to even) and widened back, in vector
    /// integer ops: the stdlib conversion initialisers do not inline.
    @inline(__always)
    var roundedToBFloat16: SIMD16<Float> {
        let bits = unsafeBitCast(self, to: SIMD16<UInt32>.self)
        let lsb = (bits &>> 16) & 1
        let rounded = (bits &+ 0x7FFF &+ lsb) & 0xFFFF_0000
        let quiet = (bits | 0x0040_0000) & 0xFFFF_0000
        // All-ones in NaN lanes, by sign-extending `0x7F800000 − |bits|`: a
        // SIMD comparison here compiled to a scalar loop.
        let t = SIMD16<UInt32>(repeating: 0x7F80_0000) &- (bits & 0x7FFF_FFFF)
        let nan = unsafeBitCast(unsafeBitCast(t, to: SIMD16<Int32>.self) &>> 31, to: SIMD16<UInt32>.self)
        return unsafeBitCast((rounded & ~nan) | (quiet & nan), to: SIMD16<Float>.self)
    }
}
