/// How one program of a launch ends (docs/kernels.md §3 and
/// docs/strategies.md, "Fates"): exactly one of nine.
///
/// The first six leave without running the K loop; the last three run it.
public enum ProgramFate: String, CaseIterable, Hashable, Sendable, Codable {
    /// The segment's slot has rank 0 (base model or unused slot).
    case rank0Exit = "rank0_exit"
    /// vLLM: the group's LoRA id is -1 (base-model tokens, or an unused group).
    case noLoRAExit = "no_lora_exit"
    /// The segment holds no tokens (sorted routing's unused slot, a graph's padding).
    case emptyExit = "empty_exit"
    /// The row tile starts past the segment's tokens: the grid was sized for more rows.
    case excessExit = "excess_exit"
    /// vLLM expand: the column tile starts past this slice's width; returns before the K loop.
    case columnExit = "column_exit"
    /// vLLM split-K: the split's K range starts past K; it skips the loop but
    /// still adds a zero tile to the output.
    case splitIdle = "split_idle"
    /// Runs its K loop, but every column of its tile is invalid.
    case maskedOut = "masked_out"
    /// Works with some of its rows invalid.
    case partial
    /// Works with all its rows valid.
    case full

    /// Whether the program passes the early exits and runs its K loop.
    public var runsKLoop: Bool {
        switch self {
        case .maskedOut, .partial, .full: return true
        default: return false
        }
    }

    /// What happens to such a program, in a sentence (the TUI's glossary).
    public var explanation: String {
        switch self {
        case .rank0Exit: return "the segment's slot has rank 0 (a base-model sequence, or an unused slot): returns at once"
        case .noLoRAExit: return "vLLM: the group's LoRA id is -1 (base-model tokens): returns at once"
        case .emptyExit: return "the segment holds no tokens (sorted's idle slot, a graph's padding): returns at once"
        case .excessExit: return "the row tile starts past the segment's tokens (the grid is sized for the longest): returns at once"
        case .columnExit: return "vLLM expand: the column tile starts past this slice's width: returns before the K loop"
        case .splitIdle: return "vLLM split-K: the split's K range starts past K: skips the loop, still adds a zero tile"
        case .maskedOut: return "runs its K loop, but every column of its tile is past the output's width: work for nothing"
        case .partial: return "runs its K loop with some of its BLOCK_M rows empty (decode: one token in 16 rows)"
        case .full: return "runs its K loop with every row valid"
        }
    }

    /// A short human label.
    public var label: String {
        switch self {
        case .rank0Exit: return "rank-0 exit"
        case .noLoRAExit: return "no-LoRA exit"
        case .emptyExit: return "empty-segment exit"
        case .excessExit: return "excess exit"
        case .columnExit: return "column exit"
        case .splitIdle: return "idle split"
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
        case .noLoRAExit: return 1
        case .emptyExit: return 2
        case .excessExit: return 3
        case .columnExit: return 4
        case .splitIdle: return 5
        case .maskedOut: return 6
        case .partial: return 7
        case .full: return 8
        }
    }
}

/// Programs per fate, over a whole launch or any rectangle of its grid.
///
/// Kept in one SIMD vector because the zoomed grid views add up thousands of
/// blocks per frame.
public struct FateCounts: Hashable, Sendable {
    @usableFromInline var counts = SIMD16<Int>()

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

    /// Programs that leave without a K loop (every exit and idle split).
    public var exiting: Int { total - working }

    /// The fate with the most programs (ties go to the later, working fates).
    public var dominant: ProgramFate {
        var best = 0
        for i in 1..<ProgramFate.allCases.count where counts[i] >= counts[best] { best = i }
        return ProgramFate.allCases[best]
    }

    /// The only fate present, if exactly one is.
    public var single: ProgramFate? {
        var found: Int?
        for i in 0..<ProgramFate.allCases.count where counts[i] > 0 {
            if found != nil { return nil }
            found = i
        }
        return found.map { ProgramFate.allCases[$0] }
    }

    @inlinable
    public static func += (lhs: inout FateCounts, rhs: FateCounts) { lhs.counts &+= rhs.counts }
}
