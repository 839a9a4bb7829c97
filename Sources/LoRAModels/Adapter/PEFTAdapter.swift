import Foundation
import LoRAKernels

/// A PEFT LoRA adapter folder: `adapter_config.json` and the mapped
/// `adapter_model.safetensors`.
///
///     let adapter = try PEFTAdapter.load(folder: "examples/adapters/tiny-sql-bf16")
///     let a = try adapter.kernelWeights(module: .qkv, layer: 0, shrink: true, dims: dims)
///
/// Tensor names: PEFT saves `base_model.model.model.layers.{L}.self_attn.q_proj.lora_A.weight`
/// (the adapter name is dropped on save); multimodal models put the decoder
/// elsewhere (`…model.language_model.layers.{L}…`,
/// `…language_model.model.layers.{L}…`). So a key is recognised by its
/// *suffix*: `layers.{L}.(self_attn|mlp).{q,k,v,o,gate,up,down}_proj.lora_{A|B}[.default].weight`,
/// preceded by the start of the key or a dot. The `.default` infix (the
/// adapter name some exporters keep) is accepted. Other tensors (embeddings,
/// `lm_head`, vision towers) are left alone.
public struct PEFTAdapter: Sendable {
    /// The folder holding the adapter, as given (or the config file's folder).
    public let folder: String
    public let config: PEFTAdapterConfig
    public let weights: SafetensorsFile
    /// Decoder layers that have at least one LoRA tensor, ascending.
    public let layers: [Int]

    /// The recognised LoRA tensors by (layer, projection, A or B).
    let tensorKeys: [LoRATensorSlot: String]
    /// What precedes `layers.{L}` in the tensor keys ("base_model.model.model").
    let keyPrefix: String

    /// Reads an adapter folder, or the folder of an `adapter_config.json` path.
    ///
    /// - Throws: `ModelFileError` for a bad config, a missing or invalid
    ///   `adapter_model.safetensors` (a folder with only the pickle
    ///   `adapter_model.bin` is told how to convert it), or two tensors
    ///   claiming one slot.
    public static func load(folder path: String) throws -> PEFTAdapter {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ModelFileError(file: path, message: FileProblem.missing(path).map { $0 == "no such file or folder" ? "no such adapter folder" : $0 } ?? "no such adapter folder")
        }
        let folder = isDirectory.boolValue ? path : FilePath.folderOrDot(of: path)
        let configFile = isDirectory.boolValue ? (path as NSString).appendingPathComponent("adapter_config.json") : path
        guard FileManager.default.fileExists(atPath: configFile) else {
            throw ModelFileError(file: folder, message: "has no adapter_config.json: not a PEFT adapter folder")
        }
        let config = try PEFTAdapterConfig.load(path: configFile)
        let weightsFile = (folder as NSString).appendingPathComponent("adapter_model.safetensors")
        guard FileManager.default.fileExists(atPath: weightsFile) else {
            if FileManager.default.fileExists(atPath: (folder as NSString).appendingPathComponent("adapter_model.bin")) {
                throw ModelFileError(
                    file: folder,
                    message: """
                        has only adapter_model.bin, a pickle file, which lora-viz does not read (loading one runs its code); \
                        convert it with: python -c "import torch; from safetensors.torch import save_file; \
                        save_file(torch.load('adapter_model.bin', weights_only=True), 'adapter_model.safetensors')"
                        """)
            }
            throw ModelFileError(file: folder, message: "has no adapter_model.safetensors")
        }
        let weights = try SafetensorsFile(path: weightsFile)
        return try PEFTAdapter(folder: folder, config: config, weights: weights)
    }

    init(folder: String, config: PEFTAdapterConfig, weights: SafetensorsFile) throws {
        var keys: [LoRATensorSlot: String] = [:]
        var prefixes: [String] = []
        for name in weights.tensorNames {
            guard let parsed = LoRATensorSlot.parse(key: name) else { continue }
            if let other = keys[parsed.slot] {
                throw ModelFileError(
                    file: weights.path, tensor: name,
                    message: "claims \(parsed.slot) like tensor '\(other)'")
            }
            keys[parsed.slot] = name
            if !prefixes.contains(parsed.prefix) { prefixes.append(parsed.prefix) }
        }
        self.folder = folder
        self.config = config
        self.weights = weights
        self.tensorKeys = keys
        self.keyPrefix = prefixes.first ?? "base_model.model.model"
        self.layers = Set(keys.keys.map(\.layer)).sorted()
    }

    /// The module's name as PEFT matches it (`model.layers.0.self_attn.q_proj`):
    /// the key prefix without the `base_model.model.` PEFT adds on save.
    func moduleName(layer: Int, projection: String) -> String {
        let parent = LayerModule.containing(projection)?.parent ?? "self_attn"
        var prefix = keyPrefix
        if prefix == "base_model.model" {
            prefix = ""
        } else if prefix.hasPrefix("base_model.model.") {
            prefix.removeFirst("base_model.model.".count)
        }
        return (prefix.isEmpty ? "" : prefix + ".") + "layers.\(layer).\(parent).\(projection)"
    }

    /// The key PEFT would save the projection's A or B under.
    func expectedKey(layer: Int, projection: String, a: Bool) -> String {
        let parent = LayerModule.containing(projection)?.parent ?? "self_attn"
        let head = keyPrefix.isEmpty ? "" : keyPrefix + "."
        return head + "layers.\(layer).\(parent).\(projection).lora_\(a ? "A" : "B").weight"
    }
}

/// Where a LoRA tensor belongs: a layer, a projection, and A or B.
struct LoRATensorSlot: Hashable, Sendable, CustomStringConvertible {
    var layer: Int
    var projection: String
    var isA: Bool

    var description: String {
        let parent = LayerModule.containing(projection)?.parent ?? "?"
        return "layers.\(layer).\(parent).\(projection).lora_\(isA ? "A" : "B")"
    }

    /// Recognises `…layers.{L}.(self_attn|mlp).{proj}.lora_{A|B}[.default].weight`;
    /// nil for any other key. `prefix` is what precedes `layers` (no trailing dot).
    static func parse(key: String) -> (slot: LoRATensorSlot, prefix: String)? {
        var parts = key.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.popLast() == "weight" else { return nil }
        if parts.last == "default" { parts.removeLast() }
        guard let matrix = parts.popLast(), matrix == "lora_A" || matrix == "lora_B" else { return nil }
        guard let projection = parts.popLast().map(String.init),
              let module = LayerModule.containing(projection),
              parts.popLast().map(String.init) == module.parent,
              let digits = parts.popLast(), !digits.isEmpty, digits.count <= 9,
              digits.allSatisfy({ $0.isASCII && $0.isNumber }), let layer = Int(digits),
              parts.popLast() == "layers"
        else { return nil }
        let slot = LoRATensorSlot(layer: layer, projection: projection, isA: matrix == "lora_A")
        return (slot, parts.joined(separator: "."))
    }
}
