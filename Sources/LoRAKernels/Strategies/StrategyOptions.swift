/// The settings the strategies other than `triton`'s read
/// (`strategies … chunk=N graph_segments=N specialize=BOOL`).
public struct StrategyOptions: Hashable, Sendable {
    /// csgmv's `max_lora_chunk_size`: one of `chunks`.
    public var chunk: Int
    /// csgmv-graph's segment buffer; `nil`: the batch's sequence count (a
    /// decode graph captured at `max_bs` = bs).
    public var graphSegments: Int?
    /// vLLM's `specialize_active_lora`: size the z axis by the active groups.
    public var specializeActiveLoRAs: Bool

    /// The chunk sizes SGLang's csgmv backend accepts.
    public static let chunks = [16, 32, 64, 128]
    /// The largest segment buffer a graph may be captured with.
    public static let graphSegmentLimit = 1 << 20

    public init(chunk: Int = 16, graphSegments: Int? = nil, specializeActiveLoRAs: Bool = false) {
        self.chunk = chunk
        self.graphSegments = graphSegments
        self.specializeActiveLoRAs = specializeActiveLoRAs
    }
}

/// Why a strategy cannot launch a batch.
public struct StrategyError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

extension StrategyOptions {
    /// Checks that every strategy of `strategies` can launch `batch`: today
    /// only a csgmv-graph buffer smaller than the live segments cannot.
    public func validate(_ strategies: [Strategy], for batch: Batch) throws {
        guard strategies.contains(.csgmvGraph) else { return }
        let live = CSGMVStrategy.routing(batch, chunk: CSGMVStrategy.chunkSize(batch, maximum: chunk)).segmentCount
        let buffer = graphSegments ?? batch.sequences.count
        if buffer < live {
            throw StrategyError(message: "csgmv-graph's segment buffer holds \(buffer) segments but this batch has \(live) "
                + "(graph_segments=\(live) or more fits it)")
        }
    }
}
