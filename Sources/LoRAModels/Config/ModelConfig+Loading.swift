import Foundation
import LoRAKernels

// MARK: - Reading config.json

extension ModelConfig {
    /// Reads `path`, a `config.json` file or a folder holding one.
    public static func load(path: String) throws -> ModelConfig {
        let file = try ModelFiles.resolve(path, defaultFile: "config.json")
        return try parse(try ModelFiles.read(file), file: file)
    }

    /// Parses the text of a `config.json`; `file` names it in errors and
    /// gives the folder name used when there is no `_name_or_path`.
    public static func parse(_ data: Data, file: String) throws -> ModelConfig {
        let root = try ModelFiles.jsonObject(data, file: file)
        let text = root["text_config"]?.object
        let fields = ConfigFields(file: file, root: root, text: text)
        var notes: [String] = []

        let modelType = try fields.string("model_type", nested: false) ?? ""
        let textModelType = try text.flatMap { _ in try fields.string("model_type", nestedOnly: true) }
        let classDefaults = Self.classDefaults[textModelType ?? modelType] ?? [:]

        func defaulted(_ key: String) throws -> Int {
            if let value = try fields.positiveInt(key, required: classDefaults[key] == nil) { return value }
            let value = classDefaults[key]!
            notes.append("\(key) is not in the file: \(value), \(textModelType ?? modelType)'s transformers default")
            return value
        }

        let hidden = try fields.positiveInt("hidden_size", required: true)!
        let heads = try defaulted("num_attention_heads")
        let intermediate = try fields.positiveInt("intermediate_size", required: true)!
        let kvHeads: Int
        if let value = try fields.positiveInt("num_key_value_heads", required: false) {
            kvHeads = value
        } else if let value = classDefaults["num_key_value_heads"] {
            kvHeads = value
            notes.append("num_key_value_heads is not in the file: \(value), \(textModelType ?? modelType)'s transformers default")
        } else {
            kvHeads = heads
            notes.append("num_key_value_heads is not in the file: taken as num_attention_heads (\(heads)), no grouped-query attention")
        }
        guard heads % kvHeads == 0 else {
            throw ModelFileError(
                file: file,
                message: "num_attention_heads \(heads) is not a multiple of num_key_value_heads \(kvHeads)")
        }
        let headDim: Int
        if let value = try fields.positiveInt("head_dim", required: false) {
            headDim = value
        } else if let value = classDefaults["head_dim"] {
            headDim = value
            notes.append("head_dim is not in the file: \(value), \(textModelType ?? modelType)'s transformers default")
        } else {
            guard hidden % heads == 0 else {
                throw ModelFileError(
                    file: file,
                    message: "no head_dim, and hidden_size \(hidden) is not divisible by num_attention_heads \(heads)")
            }
            headDim = hidden / heads
            notes.append("head_dim is not in the file: hidden_size / num_attention_heads = \(headDim)")
        }
        let layers = try fields.positiveInt("num_hidden_layers", required: false)
        let torchDtype = try fields.string("dtype") ?? fields.string("torch_dtype")

        let name: String
        if let path = try fields.string("_name_or_path", nested: false),
           let last = path.split(separator: "/").last, !last.isEmpty {
            name = String(last)
        } else {
            name = ModelFiles.folderName(of: file)
        }
        return ModelConfig(
            name: name, modelType: modelType, textModelType: textModelType,
            hidden: hidden, heads: heads, kvHeads: kvHeads, headDim: headDim, intermediate: intermediate,
            layers: layers, torchDtype: torchDtype, notes: notes)
    }

    /// transformers config-class defaults used when a published config omits
    /// the field, by (text) `model_type`. Only where a real checkpoint needs it.
    static let classDefaults: [String: [String: Int]] = [
        // transformers Gemma3TextConfig.__init__; google/gemma-3-4b-it omits all three.
        "gemma3_text": ["num_attention_heads": 8, "num_key_value_heads": 4, "head_dim": 256],
    ]
}

/// Field lookup in a config: the top level first, then `text_config`.
private struct ConfigFields {
    let file: String
    let root: JSONObject
    let text: JSONObject?

    /// The value and the name it was found under ("text_config.hidden_size").
    func lookup(_ key: String, nested: Bool = true, nestedOnly: Bool = false) -> (JSONValue, String)? {
        if !nestedOnly, let value = root[key], !value.isNull { return (value, key) }
        if nested || nestedOnly, let value = text?[key], !value.isNull { return (value, "text_config.\(key)") }
        return nil
    }

    func missing(_ key: String) -> ModelFileError {
        ModelFileError(file: file, message: "no \(key) (nor text_config.\(key))")
    }

    func positiveInt(_ key: String, required: Bool) throws -> Int? {
        guard let (value, name) = lookup(key) else {
            if required { throw missing(key) }
            return nil
        }
        guard let int = value.int, int > 0 else {
            throw ModelFileError(file: file, message: "\(name) is \(value.shown), expected a positive integer")
        }
        return int
    }

    func string(_ key: String, nested: Bool = true, nestedOnly: Bool = false) throws -> String? {
        guard let (value, name) = lookup(key, nested: nested, nestedOnly: nestedOnly) else { return nil }
        guard let string = value.string else {
            throw ModelFileError(file: file, message: "\(name) is \(value.shown), expected a string")
        }
        // Shown in reports and the TUI: no control or bidi characters from a file reach the terminal.
        return TerminalText.visible(string)
    }
}
