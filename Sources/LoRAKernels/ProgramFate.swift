/// How one program of a launch ends (docs/kernels.md §3, "The fate of every program").
///
/// The first three leave before touching memory; the last three run the K loop.
public enum ProgramFate: String, CaseIterable, Hashable, Sendable, Codable {
    /// The segment's slot has rank 0 (base model or unused slot).
    case rank0Exit = "rank0_exit"
    /// The segment holds no tokens (sorted routing, unused slot).
    case emptyExit = "empty_exit"
    /// `pid_s · 16 ≥ len`: the grid was sized for `max_len`, the segment is shorter.
    case excessExit = "excess_exit"
    /// Runs its K loop, but every column of its tile is invalid (qkv k/v tiles past `Nkv`).
    case maskedOut = "masked_out"
    /// Works with some of its 16 rows invalid.
    case partial
    /// Works with all 16 rows valid.
    case full

    /// Whether the program passes the early exits and runs its K loop.
    public var runsKLoop: Bool {
        switch self {
        case .rank0Exit, .emptyExit, .excessExit: return false
        case .maskedOut, .partial, .full: return true
        }
    }

    /// A short human label.
    public var label: String {
        switch self {
        case .rank0Exit: return "rank-0 exit"
        case .emptyExit: return "empty-segment exit"
        case .excessExit: return "excess exit"
        case .maskedOut: return "masked-out"
        case .partial: return "partial"
        case .full: return "full"
        }
    }
}

extension ProgramFate {
    /// The fate's index in `allCases`: exits first, then the working fates.
    @inlinable
    public var ordinal: Int {
        switch self {
        case .rank0Exit: return 0
        case .emptyExit: return 1
        case .excessExit: return 2
        case .maskedOut: return 3
        case .partial: return 4
        case .full: return 5
        }
    }
}

/// Programs per fate, over a whole launch or any block of its grid.
///
/// Kept in one SIMD vector because the zoomed grid views add up thousands of
/// blocks per frame.
public struct FateCounts: Hashable, Sendable {
    @usableFromInline var counts = SIMD8<Int>()

    public init() {}

    @inlinable
    public subscript(fate: ProgramFate) -> Int {
        get { counts[fate.ordinal] }
        set { counts[fate.ordinal] = newValue }
    }

    /// All programs counted.
    public var total: Int { counts.wrappedSum() }

    /// Programs that run their K loop (masked-out, partial, full).
    public var working: Int { self[.maskedOut] + self[.partial] + self[.full] }

    /// The fate with the most programs (ties go to the later, working fates).
    public var dominant: ProgramFate {
        var best = 0
        for i in 1..<6 where counts[i] >= counts[best] { best = i }
        return ProgramFate.allCases[best]
    }

    /// The only fate present, if exactly one is.
    public var single: ProgramFate? {
        var found: Int?
        for i in 0..<6 where counts[i] > 0 {
            if found != nil { return nil }
            found = i
        }
        return found.map { ProgramFate.allCases[$0] }
    }

    @inlinable
    public static func += (lhs: inout FateCounts, rhs: FateCounts) { lhs.counts &+= rhs.counts }
}
