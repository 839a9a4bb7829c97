/// How one program of a launch ends (KERNELS.md §3, "The fate of every program").
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

/// A count per fate.
public struct FateCounts: Hashable, Sendable {
    public private(set) var counts: [Int] = Array(repeating: 0, count: ProgramFate.allCases.count)

    public init() {}

    public subscript(fate: ProgramFate) -> Int {
        get { counts[ProgramFate.allCases.firstIndex(of: fate)!] }
        set { counts[ProgramFate.allCases.firstIndex(of: fate)!] = newValue }
    }

    /// All programs counted.
    public var total: Int { counts.reduce(0, +) }

    /// Programs that run their K loop (masked-out, partial, full).
    public var working: Int { self[.maskedOut] + self[.partial] + self[.full] }
}
