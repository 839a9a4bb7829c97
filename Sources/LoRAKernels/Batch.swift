/// One LoRA adapter occupying an adapter slot.
///
/// A rank of 0 means "no LoRA": base-model sequences point at such a slot.
public struct Adapter: Hashable, Sendable {
    /// The name sequences use to refer to the adapter.
    public var name: String
    /// The LoRA rank `r` (0 ..< `ModelDims.maxRank` + 1).
    public var rank: Int
    /// `alpha / rank`, applied in the expand kernels' epilogue.
    public var scaling: Float
    /// The slot (weight index) that holds the adapter's weights.
    public var slot: Int

    public init(name: String, rank: Int, scaling: Float = 1, slot: Int) {
        self.name = name
        self.rank = rank
        self.scaling = scaling
        self.slot = slot
    }
}

/// One sequence of the batch: the adapter it is served with and its length.
public struct BatchSequence: Hashable, Sendable {
    /// The name of the adapter this sequence uses.
    public var adapter: String
    /// Token count; always 1 in decode mode.
    public var tokens: Int

    public init(adapter: String, tokens: Int = 1) {
        self.adapter = adapter
        self.tokens = tokens
    }
}

/// The batch a launch serves: adapter slots and the sequences on them.
///
/// Slots that hold no adapter are unused and behave as rank 0.
public struct Batch: Hashable, Sendable {
    /// Limits the command language enforces.
    public enum Limits {
        public static let slots = 1...512
        public static let sequences = 1...4096
        public static let tokensPerSequence = 1...65_536
        /// Total token rows of one batch.
        public static let totalTokens = 1...262_144
    }

    /// `max_loras_per_batch`: the number of adapter slots.
    public var slotCount: Int
    /// The adapters, each in a distinct slot below `slotCount`.
    public var adapters: [Adapter]
    /// The sequences in batch order.
    public var sequences: [BatchSequence]
    /// Decode (every sequence one token) or extend.
    public var mode: Mode

    public init(slotCount: Int = 8, adapters: [Adapter] = [], sequences: [BatchSequence] = [], mode: Mode = .decode) {
        self.slotCount = slotCount
        self.adapters = adapters
        self.sequences = sequences
        self.mode = mode
    }

    /// The adapter with the given name, if defined.
    public func adapter(named name: String) -> Adapter? {
        adapters.first { $0.name == name }
    }

    /// The adapter held by a slot, or `nil` for an unused slot.
    public func adapter(inSlot slot: Int) -> Adapter? {
        adapters.first { $0.slot == slot }
    }

    /// The first slot no adapter occupies, if any.
    public var firstFreeSlot: Int? {
        let used = Set(adapters.map(\.slot))
        return (0..<slotCount).first { !used.contains($0) }
    }

    /// `rank[w]` for every slot (0 for unused slots).
    public var slotRanks: [Int] {
        var ranks = [Int](repeating: 0, count: slotCount)
        for a in adapters where a.slot < slotCount { ranks[a.slot] = a.rank }
        return ranks
    }

    /// `scaling[w]` for every slot (0 for unused slots).
    public var slotScalings: [Float] {
        var scalings = [Float](repeating: 0, count: slotCount)
        for a in adapters where a.slot < slotCount { scalings[a.slot] = a.scaling }
        return scalings
    }

    /// `wi[i]`: the slot of every sequence.
    public var weightIndices: [Int] {
        let slotOf = Dictionary(adapters.map { ($0.name, $0.slot) }, uniquingKeysWith: { a, _ in a })
        return sequences.map { slotOf[$0.adapter] ?? 0 }
    }

    /// `len[i]`: tokens of every sequence (1 in decode mode).
    public var sequenceLengths: [Int] {
        sequences.map { mode == .decode ? 1 : $0.tokens }
    }

    /// `S`: the total number of token rows.
    public var totalTokens: Int {
        mode == .decode ? sequences.count : sequences.reduce(0) { $0 + $1.tokens }
    }

    /// Slots whose adapter has at least one sequence.
    public var slotsInUse: Int {
        Set(weightIndices).count
    }
}
