/// A way of launching one LoRA kernel over a batch: which routing it builds,
/// the grid it launches, its block sizes, the order of its exits and how a
/// program id maps to a tile (docs/strategies.md).
///
/// A strategy is a name; everything else lives in its descriptor, one file
/// per strategy under `Strategies/`. `Strategy.table` lists them in the
/// order they are offered: adding a strategy is adding its file and its line
/// there.
public struct Strategy: Hashable, Sendable, CustomStringConvertible, Comparable {
    /// The name the command language and the JSON report use.
    public let name: String

    private init(_ name: String) { self.name = name }

    /// The strategy of a name, if one is defined.
    public init?(name: String) {
        guard Self.table.contains(where: { $0.name == name }) else { return nil }
        self.init(name)
    }

    /// SGLang `triton`, one segment per sequence (before PR 22386).
    public static let perSequence = Strategy(PerSequenceStrategy.name)
    /// SGLang `triton` after PR 22386: tokens sorted by slot, `max_len = S`.
    public static let sorted = Strategy(SortedStrategy.name)
    /// `sorted` with `max_len` = the longest segment.
    public static let tight = Strategy(TightStrategy.name)
    /// SGLang's chunked SGMV backend, eager.
    public static let csgmv = Strategy(CSGMVStrategy.name)
    /// SGLang's chunked SGMV under a CUDA graph (a fixed segment buffer).
    public static let csgmvGraph = Strategy(CSGMVGraphStrategy.name)
    /// vLLM's `lora_shrink` / `lora_expand`.
    public static let vllm = Strategy(VLLMStrategy.name)

    /// Every strategy, one descriptor each, in the order they are offered.
    static let table: [any StrategyDescriptor.Type] = [
        PerSequenceStrategy.self, SortedStrategy.self, TightStrategy.self,
        CSGMVStrategy.self, CSGMVGraphStrategy.self, VLLMStrategy.self,
    ]

    /// Every strategy, in `table` order.
    public static let allCases: [Strategy] = table.map { Strategy($0.name) }

    /// The strategies planned when a file names none: SGLang `triton`'s two routings.
    public static let defaults: [Strategy] = [.perSequence, .sorted]

    /// Every name the command language accepts.
    public static var names: [String] { table.map { $0.name } }

    var descriptor: any StrategyDescriptor.Type {
        Self.table.first { $0.name == name }!
    }

    /// `name`, as the language spells it.
    public var rawValue: String { name }
    public var description: String { name }

    /// A short title for the grid views.
    public var title: String { descriptor.title }

    /// One line: what it launches and whose kernel it is.
    public var summary: String { descriptor.summary }

    /// Whose kernels it launches (`triton`, `csgmv`, `vllm`): strategies of
    /// one family share their kernels' program costs.
    public var kernelFamily: String { descriptor.kernelFamily }

    /// Whether the strategy's row tiles are SGLang `triton`'s 16-row blocks
    /// over segments of its routing (per-sequence, sorted, tight).
    public var isTriton: Bool { kernelFamily == "triton" }

    /// Order in `table`.
    public static func < (a: Strategy, b: Strategy) -> Bool {
        (allCases.firstIndex(of: a) ?? 0) < (allCases.firstIndex(of: b) ?? 0)
    }
}
