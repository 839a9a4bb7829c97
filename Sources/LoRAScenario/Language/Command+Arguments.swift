import LoRAKernels
import LoRAModels

/// What a `layer` command asks for.
public enum LayerChoice: Hashable, Sendable {
    /// Show the layer table; `index` (0-based) changes the layer, `nil` keeps it.
    case show(index: Int?)
    /// Hide the layer table (the layer index stays).
    case hide
}

/// The dimensions a `dims` command sets; `nil` keeps the current value.
public struct DimsChange: Hashable, Sendable {
    public var hidden: Int?
    public var out: Int?
    public var q: Int?
    public var kv: Int?
    public var ffn: Int?
    /// `R`, spelled `rank=` in the language.
    public var maxRank: Int?

    public init(hidden: Int? = nil, out: Int? = nil, q: Int? = nil, kv: Int? = nil, ffn: Int? = nil, maxRank: Int? = nil) {
        self.hidden = hidden
        self.out = out
        self.q = q
        self.kv = kv
        self.ffn = ffn
        self.maxRank = maxRank
    }

    /// The keys in canonical order with their values.
    var fields: [(key: String, value: Int?)] {
        [("hidden", hidden), ("out", out), ("q", q), ("kv", kv), ("ffn", ffn), ("rank", maxRank)]
    }

    /// `dims` applied to this change.
    func applied(to dims: ModelDims) -> ModelDims {
        var d = dims
        if let v = hidden { d.hidden = v }
        if let v = out { d.out = v }
        if let v = q { d.q = v }
        if let v = kv { d.kv = v }
        if let v = ffn { d.ffn = v }
        if let v = maxRank { d.maxRank = v }
        return d
    }
}

/// What a `strategies` command sets; `nil` keeps the current option.
public struct StrategyChoice: Hashable, Sendable {
    public var strategies: [Strategy]
    public var chunk: Int?
    public var graphSegments: Int?
    public var specialize: Bool?

    public init(_ strategies: [Strategy], chunk: Int? = nil, graphSegments: Int? = nil, specialize: Bool? = nil) {
        self.strategies = strategies
        self.chunk = chunk
        self.graphSegments = graphSegments
        self.specialize = specialize
    }

    /// `options` with this choice's keys applied.
    func applied(to options: StrategyOptions) -> StrategyOptions {
        var o = options
        if let chunk { o.chunk = chunk }
        if let graphSegments { o.graphSegments = graphSegments }
        if let specialize { o.specializeActiveLoRAs = specialize }
        return o
    }
}
