import Foundation
import XCTest
@testable import LoRAModels

/// adapter_config.json parsing and PEFT's target / rank / alpha rules.
final class PEFTAdapterConfigTests: XCTestCase {
    private func parse(_ json: String) throws -> PEFTAdapterConfig {
        try PEFTAdapterConfig.parse(Data(json.utf8), file: "a/adapter_config.json")
    }

    private let allSeven = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]

    private func module(_ layer: Int, _ projection: String) -> String {
        let parent = ["q_proj", "k_proj", "v_proj", "o_proj"].contains(projection) ? "self_attn" : "mlp"
        return "model.layers.\(layer).\(parent).\(projection)"
    }

    func testFixtureConfigs() throws {
        let sql = try PEFTAdapterConfig.load(path: Fixtures.adapter("tiny-sql-bf16"))
        XCTAssertEqual(sql.r, 8)
        XCTAssertEqual(sql.loraAlpha, 16)
        XCTAssertFalse(sql.useRSLoRA)
        XCTAssertEqual(sql.baseModel, "lora-viz/tiny-llama")
        XCTAssertEqual(sql.peftType, "LORA")
        XCTAssertEqual(sql.taskType, "CAUSAL_LM")
        XCTAssertFalse(sql.fanInFanOut)
        XCTAssertEqual(sql.rankPattern, [:])
        for layer in 0..<2 {
            for projection in allSeven {
                XCTAssertTrue(sql.targets(module: module(layer, projection)))
                XCTAssertEqual(sql.rank(module: module(layer, projection)), 8)
                XCTAssertEqual(sql.scaling(module: module(layer, projection)), 2)
            }
        }
        XCTAssertFalse(sql.targets(module: "lm_head"))

        let chat = try PEFTAdapterConfig.load(path: Fixtures.adapter("tiny-chat-fp32") + "/adapter_config.json")
        XCTAssertEqual(chat.targetModules, .names(["q_proj", "v_proj"]))
        XCTAssertEqual(allSeven.filter { chat.targets(module: module(1, $0)) }, ["q_proj", "v_proj"])
        XCTAssertEqual(chat.scaling(module: module(0, "q_proj")), 2)  // 8 / 4

        let patterns = try PEFTAdapterConfig.load(path: Fixtures.adapter("tiny-rank-pattern"))
        XCTAssertEqual(patterns.rankPattern, ["down_proj": 4, "model.layers.1.self_attn.v_proj": 2])
        XCTAssertEqual(patterns.alphaPattern, ["gate_proj": 32])
        XCTAssertEqual(patterns.rank(module: module(0, "down_proj")), 4)
        XCTAssertEqual(patterns.rank(module: module(1, "down_proj")), 4)
        XCTAssertEqual(patterns.rank(module: module(0, "v_proj")), 8)
        XCTAssertEqual(patterns.rank(module: module(1, "v_proj")), 2)
        XCTAssertEqual(patterns.scaling(module: module(1, "v_proj")), 8)  // 16 / 2
        XCTAssertEqual(patterns.scaling(module: module(0, "down_proj")), 4)  // 16 / 4
        XCTAssertEqual(patterns.alpha(module: module(0, "gate_proj")), 32)
        XCTAssertEqual(patterns.scaling(module: module(0, "gate_proj")), 4)  // 32 / 8
        XCTAssertEqual(patterns.scaling(module: module(0, "up_proj")), 2)  // 16 / 8
        XCTAssertFalse(patterns.targets(module: module(0, "k_proj")))

        let rslora = try PEFTAdapterConfig.load(path: Fixtures.adapter("tiny-rslora"))
        XCTAssertTrue(rslora.useRSLoRA)
        XCTAssertEqual(rslora.scaling(module: module(0, "q_proj")), 4)  // 16 / √16
    }

    func testDefaultsArePEFTs() throws {
        let config = try parse(#"{"target_modules": ["q_proj"]}"#)
        XCTAssertEqual(config.r, 8)
        XCTAssertEqual(config.loraAlpha, 8)
        XCTAssertEqual(config.scaling(module: "model.layers.0.self_attn.q_proj"), 1)
        XCTAssertNil(config.peftType)
        let rslora = try parse(#"{"r": 8, "lora_alpha": 16, "use_rslora": true, "target_modules": ["q_proj"]}"#)
        XCTAssertEqual(rslora.scaling(module: "model.layers.0.self_attn.q_proj"), 16 / 8.0.squareRoot(), accuracy: 1e-12)
    }

    func testListTargetsMatchWholeNamesOrDottedSuffixes() throws {
        let config = try parse(#"{"target_modules": ["q_proj", "mlp.down_proj", "lm_head", "proj"]}"#)
        XCTAssertTrue(config.targets(module: "model.layers.0.self_attn.q_proj"))
        XCTAssertTrue(config.targets(module: "q_proj"))
        XCTAssertTrue(config.targets(module: "model.layers.3.mlp.down_proj"))
        XCTAssertTrue(config.targets(module: "lm_head"))
        XCTAssertFalse(config.targets(module: "model.layers.0.self_attn.k_proj"))  // "proj" is not a dotted suffix
        XCTAssertFalse(config.targets(module: "model.layers.0.self_attn.qq_proj"))
    }

    func testRegexTargetsMustMatchTheWholeName() throws {
        let config = try parse(#"{"target_modules": ".*\\.(q|v)_proj"}"#)
        XCTAssertEqual(config.targetModules, .regex(#".*\.(q|v)_proj"#))
        XCTAssertTrue(config.targets(module: "model.layers.0.self_attn.q_proj"))
        XCTAssertTrue(config.targets(module: "model.layers.1.self_attn.v_proj"))
        XCTAssertFalse(config.targets(module: "model.layers.1.self_attn.k_proj"))
        // re.fullmatch: a string naming the module alone does not match the full path.
        let bare = try parse(#"{"target_modules": "q_proj"}"#)
        XCTAssertFalse(bare.targets(module: "model.layers.0.self_attn.q_proj"))
        XCTAssertTrue(bare.targets(module: "q_proj"))
        let layerOnly = try parse(#"{"target_modules": "model\\.layers\\.1\\..*"}"#)
        XCTAssertTrue(layerOnly.targets(module: "model.layers.1.mlp.up_proj"))
        XCTAssertFalse(layerOnly.targets(module: "model.layers.10.mlp.up_proj"))
        XCTAssertFalse(layerOnly.targets(module: "model.layers.0.mlp.up_proj"))
    }

    func testAllLinearAndExclusions() throws {
        let config = try parse(#"{"target_modules": "ALL-LINEAR", "exclude_modules": ["o_proj"]}"#)
        XCTAssertEqual(config.targetModules, .allLinear)
        XCTAssertTrue(config.targets(module: "model.layers.0.mlp.gate_proj"))
        XCTAssertFalse(config.targets(module: "lm_head"))
        XCTAssertFalse(config.targets(module: "model.layers.0.self_attn.o_proj"))
        let regexExclude = try parse(#"{"target_modules": ["q_proj"], "exclude_modules": ".*layers\\.0\\..*"}"#)
        XCTAssertFalse(regexExclude.targets(module: "model.layers.0.self_attn.q_proj"))
        XCTAssertTrue(regexExclude.targets(module: "model.layers.1.self_attn.q_proj"))
    }

    func testLayersToTransformApplyToSuffixMatches() throws {
        let config = try parse(#"{"target_modules": ["q_proj"], "layers_to_transform": [1, 3]}"#)
        XCTAssertFalse(config.targets(module: "model.layers.0.self_attn.q_proj"))
        XCTAssertTrue(config.targets(module: "model.layers.1.self_attn.q_proj"))
        XCTAssertTrue(config.targets(module: "model.layers.3.self_attn.q_proj"))
        // An exact name skips the layer check, as in PEFT.
        XCTAssertTrue(config.targets(module: "q_proj"))
        let single = try parse(#"{"target_modules": ["q_proj"], "layers_to_transform": 0, "layers_pattern": "layers"}"#)
        XCTAssertEqual(single.layersToTransform, [0])
        XCTAssertTrue(single.targets(module: "model.layers.0.self_attn.q_proj"))
        XCTAssertFalse(single.targets(module: "model.layers.2.self_attn.q_proj"))
        let otherPattern = try parse(#"{"target_modules": ["q_proj"], "layers_to_transform": [0], "layers_pattern": ["h"]}"#)
        XCTAssertFalse(otherPattern.targets(module: "model.layers.0.self_attn.q_proj"))  // no ".h.{i}." in the name
    }

    func testPatternKeysMatchAtADotAndTheFirstInFileOrderWins() throws {
        let first = try parse(#"{"target_modules": ["v_proj"], "rank_pattern": {"v_proj": 4, "model.layers.1.self_attn.v_proj": 2}}"#)
        XCTAssertEqual(first.rank(module: "model.layers.1.self_attn.v_proj"), 4)
        let second = try parse(#"{"target_modules": ["v_proj"], "rank_pattern": {"model.layers.1.self_attn.v_proj": 2, "v_proj": 4}}"#)
        XCTAssertEqual(second.rank(module: "model.layers.1.self_attn.v_proj"), 2)
        XCTAssertEqual(second.rank(module: "model.layers.0.self_attn.v_proj"), 4)
        let regex = try parse(#"{"target_modules": ["down_proj"], "r": 16, "rank_pattern": {"layers\\.[01]\\.mlp\\.down_proj": 4, "proj": 2}, "alpha_pattern": {"^model\\.layers\\.2\\..*": 64.5}}"#)
        XCTAssertEqual(regex.rank(module: "model.layers.1.mlp.down_proj"), 4)
        XCTAssertEqual(regex.rank(module: "model.layers.2.mlp.down_proj"), 16)  // "proj" does not follow a dot
        XCTAssertEqual(regex.alpha(module: "model.layers.2.mlp.down_proj"), 64.5)
        XCTAssertEqual(regex.alpha(module: "model.layers.3.mlp.down_proj"), 8)
    }

    func testBadConfigsAreNamed() throws {
        assertModelFileError(try parse(#"{"peft_type": "LOHA", "target_modules": ["q_proj"]}"#),
                             contains: ["a/adapter_config.json: peft_type is 'LOHA': only LORA adapters are read"])
        assertModelFileError(try parse(#"{"use_dora": true, "target_modules": ["q_proj"]}"#), contains: ["use_dora is true"])
        assertModelFileError(try parse(#"{"r": 0, "target_modules": ["q_proj"]}"#), contains: ["r is 0, expected a positive integer"])
        assertModelFileError(try parse(#"{"r": "8", "target_modules": ["q_proj"]}"#), contains: ["r is \"8\" (a string)"])
        assertModelFileError(try parse(#"{"lora_alpha": "16", "target_modules": ["q_proj"]}"#), contains: ["lora_alpha is \"16\" (a string), expected a number"])
        assertModelFileError(try parse(#"{"r": 8}"#), contains: ["no target_modules"])
        assertModelFileError(try parse(#"{"target_modules": null}"#), contains: ["no target_modules"])
        assertModelFileError(try parse(#"{"target_modules": 5}"#), contains: ["target_modules is 5, expected a list of names or a regex string"])
        assertModelFileError(try parse(#"{"target_modules": [5]}"#), contains: ["target_modules has 5"])
        assertModelFileError(try parse(#"{"target_modules": "("}"#), contains: ["target_modules '(' is not a regular expression"])
        assertModelFileError(try parse(#"{"target_modules": ["q_proj"], "rank_pattern": {"q_proj": 0}}"#),
                             contains: ["rank_pattern[\"q_proj\"] is 0, expected a positive integer"])
        assertModelFileError(try parse(#"{"target_modules": ["q_proj"], "rank_pattern": {"[": 4}}"#), contains: ["rank_pattern key '[' is not a regular expression"])
        assertModelFileError(try parse(#"{"target_modules": ["q_proj"], "alpha_pattern": []}"#), contains: ["alpha_pattern is an array, expected an object"])
        assertModelFileError(try parse(#"{"target_modules": ["q_proj"], "use_rslora": "yes"}"#), contains: ["use_rslora is \"yes\" (a string), expected true or false"])
        assertModelFileError(try parse(#"{"target_modules": ["q_proj"], "layers_to_transform": [-1]}"#), contains: ["layers_to_transform has -1"])
    }
}
