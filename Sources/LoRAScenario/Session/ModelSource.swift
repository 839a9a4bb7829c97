import LoRAKernels
import LoRAModels

/// A model config read by `model PATH`: the path as written and what it holds.
public struct ModelSource: Hashable, Sendable {
    /// The path as the command wrote it (relative to the working directory).
    public var path: String
    public var config: ModelConfig

    public init(path: String, config: ModelConfig) {
        self.path = path
        self.config = config
    }
}

/// A PEFT adapter folder read by `adapter NAME from=PATH`.
public struct AdapterSource: Hashable, Sendable {
    /// The path as the command wrote it (relative to the working directory).
    public var path: String
    public var adapter: PEFTAdapter

    public init(path: String, adapter: PEFTAdapter) {
        self.path = path
        self.adapter = adapter
    }

    // The mapped file is the same for the same path and config: compare those.
    public static func == (a: AdapterSource, b: AdapterSource) -> Bool {
        a.path == b.path && a.adapter.config == b.adapter.config && a.adapter.weights.path == b.adapter.weights.path
    }

    public func hash(into h: inout Hasher) { h.combine(path) }
}
