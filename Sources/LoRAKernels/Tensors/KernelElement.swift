/// An element type the kernels store tensors in: bf16, fp16 or fp32.
///
/// Kernels accumulate in fp32 whatever the storage; these hooks widen 16
/// elements into a `SIMD16<Float>` and round a vector back. They are written
/// as lane loops over bit patterns so they inline and vectorize (the stdlib
/// SIMD conversion initialisers did not, and ran 4–10× slower).
public protocol KernelElement: Sendable {
    /// The dtype this storage implements.
    static var dtype: DType { get }
    /// The element nearest to `value` (round to nearest even).
    init(rounding value: Float)
    /// The exact `Float` value of the element.
    var widened: Float { get }
    /// Widens `p[0..<16]`.
    static func load16(_ p: UnsafePointer<Self>) -> SIMD16<Float>
    /// Rounds every lane and stores it to `p[0..<16]`.
    static func store16(_ v: SIMD16<Float>, to p: UnsafeMutablePointer<Self>)
    /// Every lane rounded to this dtype and widened back (identity for fp32).
    static func round16(_ v: SIMD16<Float>) -> SIMD16<Float>
    /// The expands' epilogue on 16 lanes: `p[i] = round(round(v[i]) + p[i])`.
    static func addRounded16(_ v: SIMD16<Float>, to p: UnsafeMutablePointer<Self>)
    /// Whether weight panels of this dtype interleave their rows in K pairs
    /// (`WeightPanels.pairedDepth`), and the tiles add each cell's products in
    /// pair order (`MicroTile`).
    static var pairsPanelRows: Bool { get }
    /// One 16-column vector of a pair row at `p` (`pairsPanelRows`), widened:
    /// the even row's values and the odd row's.
    static func panelPair(_ p: UnsafePointer<Self>) -> (even: SIMD16<Float>, odd: SIMD16<Float>)
}

extension KernelElement {
    public static var pairsPanelRows: Bool { false }

    /// Unpaired storage: the 16 elements at `p` as both (never called: no such panels exist).
    @inline(__always)
    public static func panelPair(_ p: UnsafePointer<Self>) -> (even: SIMD16<Float>, odd: SIMD16<Float>) {
        (load16(p), load16(p))
    }

    @inline(__always)
    public static func addRounded16(_ v: SIMD16<Float>, to p: UnsafeMutablePointer<Self>) {
        store16(round16(v) + load16(p), to: p)
    }

    /// `value` rounded to this dtype, as a `Float`.
    @inline(__always)
    static func rounded(_ value: Float) -> Float { Self(rounding: value).widened }
}

extension Float: KernelElement {
    public static var dtype: DType { .fp32 }
    @inline(__always) public init(rounding value: Float) { self = value }
    @inline(__always) public var widened: Float { self }
    @inline(__always)
    public static func load16(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
    }
    @inline(__always)
    public static func store16(_ v: SIMD16<Float>, to p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self)
    }
    @inline(__always) public static func round16(_ v: SIMD16<Float>) -> SIMD16<Float> { v }
}

extension Float16: KernelElement {
    public static var dtype: DType { .fp16 }
    @inline(__always) public init(rounding value: Float) { self.init(value) }
    @inline(__always) public var widened: Float { Float(self) }
    @inline(__always)
    public static func load16(_ p: UnsafePointer<Float16>) -> SIMD16<Float> {
        var v = SIMD16<Float>()
        for i in 0..<16 { v[i] = Float(p[i]) }
        return v
    }
    @inline(__always)
    public static func store16(_ v: SIMD16<Float>, to p: UnsafeMutablePointer<Float16>) {
        for i in 0..<16 { p[i] = Float16(v[i]) }
    }
    @inline(__always)
    public static func round16(_ v: SIMD16<Float>) -> SIMD16<Float> {
        var r = SIMD16<Float>()
        for i in 0..<16 { r[i] = Float(Float16(v[i])) }
        return r
    }
}

extension BFloat16: KernelElement {
    public static var dtype: DType { .bf16 }
    @inline(__always) public init(rounding value: Float) { self.init(value) }
    @inline(__always) public var widened: Float { float }
    @inline(__always)
    public static func load16(_ p: UnsafePointer<BFloat16>) -> SIMD16<Float> {
        let raw = UnsafeRawPointer(p).assumingMemoryBound(to: UInt16.self)
        var bits = SIMD16<UInt32>()
        for i in 0..<16 { bits[i] = UInt32(raw[i]) &<< 16 }
        return unsafeBitCast(bits, to: SIMD16<Float>.self)
    }
    @inline(__always)
    public static func store16(_ v: SIMD16<Float>, to p: UnsafeMutablePointer<BFloat16>) {
        let bits = unsafeBitCast(v.roundedToBFloat16, to: SIMD16<UInt32>.self)
        let raw = UnsafeMutableRawPointer(p).assumingMemoryBound(to: UInt16.self)
        for i in 0..<16 { raw[i] = UInt16(truncatingIfNeeded: bits[i] &>> 16) }
    }
    @inline(__always)
    public static func round16(_ v: SIMD16<Float>) -> SIMD16<Float> { v.roundedToBFloat16 }
    public static var pairsPanelRows: Bool { true }

    /// One 64-byte load of 16 words widens into both rows with one op each.
    @inline(__always)
    public static func panelPair(_ p: UnsafePointer<BFloat16>) -> (even: SIMD16<Float>, odd: SIMD16<Float>) {
        let words = UnsafeRawPointer(p).loadUnaligned(as: SIMD16<UInt32>.self)
        return (unsafeBitCast(words &<< 16, to: SIMD16<Float>.self), unsafeBitCast(words & 0xFFFF_0000, to: SIMD16<Float>.self))
    }

    /// Both roundings without the NaN fix-up (see `roundedToBFloat16ForBF16Operands`):
    /// the epilogue's cost at rank 16 is of the order of its 16 FMAs per vector.
    @inline(__always)
    public static func addRounded16(_ v: SIMD16<Float>, to p: UnsafeMutablePointer<BFloat16>) {
        let sum = v.roundedToBFloat16ForBF16Operands + load16(p)
        let bits = unsafeBitCast(sum.roundedToBFloat16ForBF16Operands, to: SIMD16<UInt32>.self)
        let raw = UnsafeMutableRawPointer(p).assumingMemoryBound(to: UInt16.self)
        for i in 0..<16 { raw[i] = UInt16(truncatingIfNeeded: bits[i] &>> 16) }
    }
}
