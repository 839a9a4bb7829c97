import Foundation

/// A PEFT LoRA adapter's `adapter_config.json`.
///
///     let config = try PEFTAdapterConfig.load(path: "examples/adapters/tiny-rank-pattern")
///     config.rank(module: "model.layers.1.self_attn.v_proj")   // 2, from rank_pattern
///     config.scaling(module: "model.layers.0.mlp.down_proj")   // alpha / r of that module
///
/// Module names are what PEFT matches against: the module's path in the
/// *base model*, without the `base_model.model.` prefix PEFT adds when it
/// saves tensors (`model.layers.0.self_attn.q_proj`).
///
/// The matching rules are PEFT's (read from huggingface/peft `main`,
/// August 2026), with Python's `re` replaced by Swift's `Regex`, which agrees
/// on the syntax such patterns use:
///
/// - **Targets** (`check_target_module_exists` in
///   `peft/tuners/tuners_utils.py`): a module listed in `exclude_modules`
///   (same list/regex rules) is never targeted. A `target_modules` *string*
///   must match the whole name (`re.fullmatch`); `"all-linear"` (any case)
///   targets every linear layer but the output head, which for a decoder
///   means every module named here except `lm_head`. A *list* targets a name
///   equal to an entry or ending in `"." + entry`; for a suffix match,
///   `layers_to_transform` (with `layers_pattern`) must also admit the
///   layer index found by `.*?\.{pattern}\.(\d+)\.` (or `.*?\.[^.]*\.(\d+)\.`).
/// - **Rank and alpha** (`_create_and_replace` in
///   `peft/tuners/lora/model.py`, via `get_pattern_key` in
///   `peft/utils/other.py`): the first key of `rank_pattern` (or
///   `alpha_pattern`), in the order the file lists them, for which
///   `(.*\.)?(key)$` matches the name from its start gives the value; else
///   `r` (or `lora_alpha`).
/// - **Scaling** (`LoraLayer.update_layer`): `alpha / r`, or
///   `alpha / √r` with `use_rslora`.
public struct PEFTAdapterConfig: Hashable, Sendable {
    /// What `target_modules` holds.
    public enum TargetModules: Hashable, Sendable {
        /// Module names (or name suffixes).
        case names([String])
        /// One regular expression that must match the whole module name.
        case regex(String)
        /// PEFT's `"all-linear"` shorthand.
        case allLinear
    }

    /// Default rank (`r`; PEFT's default 8).
    public var r: Int
    /// Default alpha (`lora_alpha`; PEFT's default 8).
    public var loraAlpha: Double
    /// `use_rslora`: scale by alpha / √r instead of alpha / r.
    public var useRSLoRA: Bool
    public var targetModules: TargetModules
    /// `exclude_modules`, the same forms as `targetModules`; nil when absent.
    public var excludeModules: TargetModules?
    /// `layers_to_transform`: layer indices a suffix-matched target must be in.
    public var layersToTransform: [Int]?
    /// `layers_pattern`: the module-list names that precede the layer index.
    public var layersPattern: [String]?
    public var rankPattern: [String: Int]
    public var alphaPattern: [String: Double]
    /// `fan_in_fan_out`. PEFT uses it only to transpose the product B·A for
    /// GPT-2-style `Conv1D` base layers; the stored `lora_A`/`lora_B` are
    /// `nn.Linear` weights either way (and PEFT resets it for `nn.Linear`).
    public var fanInFanOut: Bool
    /// `base_model_name_or_path`.
    public var baseModel: String?
    /// `peft_type` ("LORA" when present).
    public var peftType: String?
    /// `task_type` ("CAUSAL_LM").
    public var taskType: String?

    /// `rank_pattern`'s keys in file order (PEFT takes the first match).
    var rankPatternKeys: [String]
    /// `alpha_pattern`'s keys in file order.
    var alphaPatternKeys: [String]

    public init(
        r: Int = 8, loraAlpha: Double = 8, useRSLoRA: Bool = false,
        targetModules: TargetModules, excludeModules: TargetModules? = nil,
        layersToTransform: [Int]? = nil, layersPattern: [String]? = nil,
        rankPattern: [(String, Int)] = [], alphaPattern: [(String, Double)] = [],
        fanInFanOut: Bool = false, baseModel: String? = nil, peftType: String? = "LORA", taskType: String? = nil
    ) {
        self.r = r
        self.loraAlpha = loraAlpha
        self.useRSLoRA = useRSLoRA
        self.targetModules = targetModules
        self.excludeModules = excludeModules
        self.layersToTransform = layersToTransform
        self.layersPattern = layersPattern
        self.rankPattern = Dictionary(rankPattern, uniquingKeysWith: { first, _ in first })
        self.alphaPattern = Dictionary(alphaPattern, uniquingKeysWith: { first, _ in first })
        self.rankPatternKeys = rankPattern.map(\.0)
        self.alphaPatternKeys = alphaPattern.map(\.0)
        self.fanInFanOut = fanInFanOut
        self.baseModel = baseModel
        self.peftType = peftType
        self.taskType = taskType
    }
}

// MARK: - PEFT's matching rules

extension PEFTAdapterConfig {
    /// Whether PEFT puts a LoRA layer on the module `fullName`.
    public func targets(module fullName: String) -> Bool {
        if let excludeModules, Self.matches(excludeModules, fullName, applyingLayers: nil) {
            return false
        }
        return Self.matches(targetModules, fullName, applyingLayers: self)
    }

    /// The module's rank: its `rank_pattern` value, else `r`.
    public func rank(module fullName: String) -> Int {
        Self.patternKey(rankPatternKeys, fullName).flatMap { rankPattern[$0] } ?? r
    }

    /// The module's alpha: its `alpha_pattern` value, else `lora_alpha`.
    public func alpha(module fullName: String) -> Double {
        Self.patternKey(alphaPatternKeys, fullName).flatMap { alphaPattern[$0] } ?? loraAlpha
    }

    /// The module's scaling: alpha / r, or alpha / √r with rsLoRA.
    public func scaling(module fullName: String) -> Double {
        let rank = Double(rank(module: fullName))
        return alpha(module: fullName) / (useRSLoRA ? rank.squareRoot() : rank)
    }

    /// `check_target_module_exists` for one list or regex; `config` supplies
    /// `layers_to_transform` for suffix matches (nil for `exclude_modules`).
    private static func matches(_ modules: TargetModules, _ key: String, applyingLayers config: PEFTAdapterConfig?) -> Bool {
        switch modules {
        case .regex(let pattern):
            return (try? Regex(pattern)).map { key.wholeMatch(of: $0) != nil } ?? false
        case .allLinear:
            return key.split(separator: ".").last != "lm_head"
        case .names(let names):
            if names.contains(key) { return true }
            guard names.contains(where: { key.hasSuffix("." + $0) }) else { return false }
            guard let config, let layers = config.layersToTransform else { return true }
            guard let index = config.layerIndex(of: key) else { return false }
            return layers.contains(index)
        }
    }

    /// The layer index PEFT finds in `key` for `layers_to_transform`.
    private func layerIndex(of key: String) -> Int? {
        let patterns = (layersPattern ?? []).isEmpty ? ["[^.]*"] : layersPattern!
        for pattern in patterns {
            guard let regex = try? Regex(#".*?\.(?:"# + pattern + #")\.(\d+)\."#),
                  let match = key.prefixMatch(of: regex),
                  let digits = match.output[1].substring
            else { continue }
            return Int(digits)
        }
        return nil
    }

    /// `get_pattern_key`: the first key for which `(.*\.)?(key)$` matches `name` from its start.
    static func patternKey(_ keys: [String], _ name: String) -> String? {
        keys.first { key in
            (try? Regex(#"(?:.*\.)?(?:"# + key + ")")).map { name.wholeMatch(of: $0) != nil } ?? false
        }
    }
}
