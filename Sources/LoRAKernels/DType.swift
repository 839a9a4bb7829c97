/// The element type of a kernel's inputs and outputs.
///
/// Accumulation is always fp32; the dtype decides how inputs are rounded and
/// how the epilogue rounds what it stores.
public enum DType: String, CaseIterable, Sendable, Codable {
    case bf16
    case fp16
    case fp32

    /// Bytes one element occupies in memory.
    public var byteCount: Int {
        switch self {
        case .bf16, .fp16: return 2
        case .fp32: return 4
        }
    }
}

/// Whether every sequence holds one token (decode) or many (extend/prefill).
public enum Mode: String, CaseIterable, Sendable, Codable {
    case decode
    case extend
}
