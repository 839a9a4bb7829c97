import Foundation
import LoRAKernels

// MARK: - Reading adapter_config.json

extension PEFTAdapterConfig {
    /// Reads `path`, an `adapter_config.json` file or a folder holding one.
    public static func load(path: String) throws -> PEFTAdapterConfig {
        let file = try ModelFiles.resolve(path, defaultFile: "adapter_config.json")
        return try parse(try ModelFiles.read(file), file: file)
    }

    /// Parses the text of an `adapter_config.json`; `file` names it in errors.
    ///
    /// Absent fields take PEFT's `LoraConfig` defaults (`r` 8, `lora_alpha`
    /// 8, no rsLoRA, no patterns). Refused: a `peft_type` other than "LORA",
    /// `use_dora` (the kernels have no magnitude vector), a missing or null
    /// `target_modules`, ranks that are not positive integers, and patterns
    /// that are not regular expressions.
    public static func parse(_ data: Data, file: String) throws -> PEFTAdapterConfig {
        let root = try ModelFiles.jsonObject(data, file: file)
        func failure(_ message: String) -> ModelFileError { ModelFileError(file: file, message: message) }
        func present(_ key: String) -> JSONValue? {
            guard let value = root[key], !value.isNull else { return nil }
            return value
        }
        func string(_ key: String) throws -> String? {
            guard let value = present(key) else { return nil }
            guard let string = value.string else { throw failure("\(key) is \(value.shown), expected a string") }
            // Shown in reports and the TUI: no control or bidi characters from a file reach the terminal.
            return TerminalText.visible(string)
        }
        func bool(_ key: String) throws -> Bool {
            guard let value = present(key) else { return false }
            guard let bool = value.bool else { throw failure("\(key) is \(value.shown), expected true or false") }
            return bool
        }
        func positiveInt(_ value: JSONValue, _ name: String) throws -> Int {
            guard let int = value.int, int > 0 else { throw failure("\(name) is \(value.shown), expected a positive integer") }
            return int
        }
        func number(_ value: JSONValue, _ name: String) throws -> Double {
            guard let double = value.double else { throw failure("\(name) is \(value.shown), expected a number") }
            return double
        }
        func modules(_ key: String) throws -> TargetModules? {
            guard let value = present(key) else { return nil }
            if let pattern = value.string {
                if pattern.lowercased() == "all-linear" { return .allLinear }
                try checkRegex(pattern, key)
                return .regex(pattern)
            }
            guard let list = value.array else { throw failure("\(key) is \(value.shown), expected a list of names or a regex string") }
            return .names(try list.map {
                guard let name = $0.string else { throw failure("\(key) has \($0.shown), expected module names") }
                return name
            })
        }
        func checkRegex(_ pattern: String, _ key: String) throws {
            do {
                _ = try Regex(pattern)
            } catch {
                throw failure("\(key) '\(pattern)' is not a regular expression: \(error)")
            }
        }

        let peftType = try string("peft_type")
        if let peftType, peftType != "LORA" {
            throw failure("peft_type is '\(peftType)': only LORA adapters are read")
        }
        if try bool("use_dora") {
            throw failure("use_dora is true: DoRA's magnitude vector is not something the SGLang LoRA kernels apply")
        }
        let r = try present("r").map { try positiveInt($0, "r") } ?? 8
        let alpha = try present("lora_alpha").map { try number($0, "lora_alpha") } ?? 8
        guard let targets = try modules("target_modules") else {
            throw failure("no target_modules: name the modules the adapter wraps (PEFT would guess them from the model type)")
        }

        var rankPattern: [(String, Int)] = []
        if let value = present("rank_pattern") {
            guard let table = value.object else { throw failure("rank_pattern is \(value.shown), expected an object") }
            for key in table.keys {
                try checkRegex(key, "rank_pattern key")
                rankPattern.append((key, try positiveInt(table[key]!, "rank_pattern[\"\(key)\"]")))
            }
        }
        var alphaPattern: [(String, Double)] = []
        if let value = present("alpha_pattern") {
            guard let table = value.object else { throw failure("alpha_pattern is \(value.shown), expected an object") }
            for key in table.keys {
                try checkRegex(key, "alpha_pattern key")
                alphaPattern.append((key, try number(table[key]!, "alpha_pattern[\"\(key)\"]")))
            }
        }

        var layersToTransform: [Int]?
        if let value = present("layers_to_transform") {
            if let single = value.int {
                layersToTransform = [single]
            } else if let list = value.array {
                layersToTransform = try list.map {
                    guard let index = $0.int, index >= 0 else { throw failure("layers_to_transform has \($0.shown), expected layer indices") }
                    return index
                }
            } else {
                throw failure("layers_to_transform is \(value.shown), expected a layer index or a list of them")
            }
        }
        var layersPattern: [String]?
        if let value = present("layers_pattern") {
            if let single = value.string {
                layersPattern = [single]
            } else if let list = value.array, list.allSatisfy({ $0.string != nil }) {
                layersPattern = list.compactMap(\.string)
            } else {
                throw failure("layers_pattern is \(value.shown), expected a name or a list of names")
            }
            for pattern in layersPattern! { try checkRegex(pattern, "layers_pattern") }
        }

        return PEFTAdapterConfig(
            r: r, loraAlpha: alpha, useRSLoRA: try bool("use_rslora"),
            targetModules: targets, excludeModules: try modules("exclude_modules"),
            layersToTransform: layersToTransform, layersPattern: layersPattern,
            rankPattern: rankPattern, alphaPattern: alphaPattern,
            fanInFanOut: try bool("fan_in_fan_out"), baseModel: try string("base_model_name_or_path"),
            peftType: peftType, taskType: try string("task_type"))
    }
}
