import LoRAKernels

/// A problem with a model or adapter file, naming the file and, where one is
/// involved, the tensor.
///
///     path/adapter_model.safetensors: tensor 'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight': data_offsets [0, 100] need 96 bytes for BF16 [8, 6]
///
/// Every reader in this module throws only this error, so a caller can print
/// `description` as it is.
public struct ModelFileError: Error, CustomStringConvertible, Hashable, Sendable {
    /// The file (or folder) the problem is in, as the caller named it.
    public var file: String
    /// The tensor the problem is about, when there is one.
    public var tensor: String?
    /// What is wrong, without the file and tensor.
    public var message: String

    public init(file: String, tensor: String? = nil, message: String) {
        self.file = file
        // A tensor name or a value from a file can hold any scalar: shown as <U+XXXX>, never sent raw.
        self.tensor = tensor.map(TerminalText.visible)
        self.message = TerminalText.visible(message)
    }

    public var description: String {
        if let tensor {
            return "\(file): tensor '\(tensor)': \(message)"
        }
        return "\(file): \(message)"
    }
}
