import Foundation
import LoRAKernels
import XCTest
@testable import LoRAModels

/// config.json parsing, checked against dimensions worked out by hand from
/// the published model cards.
final class ModelConfigTests: XCTestCase {
    func testQwen25_7BInstruct() throws {
        let config = try ModelConfig.load(path: Fixtures.model("qwen2.5-7b-instruct"))
        XCTAssertEqual(config.name, "qwen2.5-7b-instruct")
        XCTAssertEqual(config.modelType, "qwen2")
        XCTAssertNil(config.textModelType)
        XCTAssertEqual(config.hidden, 3584)
        XCTAssertEqual(config.heads, 28)
        XCTAssertEqual(config.kvHeads, 4)
        XCTAssertEqual(config.headDim, 128)  // 3584 / 28
        XCTAssertEqual(config.q, 3584)
        XCTAssertEqual(config.kv, 512)  // 4 × 128
        XCTAssertEqual(config.intermediate, 18944)
        XCTAssertEqual(config.layers, 28)
        XCTAssertEqual(config.dtype, .bf16)
        XCTAssertEqual(config.dims(maxRank: 64), ModelDims(hidden: 3584, out: 3584, q: 3584, kv: 512, ffn: 18944, maxRank: 64))
        XCTAssertEqual(config.notes, ["head_dim is not in the file: hidden_size / num_attention_heads = 128"])
    }

    func testLlama31_8BInstruct() throws {
        let config = try ModelConfig.load(path: Fixtures.model("llama-3.1-8b-instruct") + "/config.json")
        XCTAssertEqual(config.name, "llama-3.1-8b-instruct")
        XCTAssertEqual(config.modelType, "llama")
        XCTAssertEqual(config.dims(maxRank: 16), ModelDims(hidden: 4096, out: 4096, q: 4096, kv: 1024, ffn: 14336, maxRank: 16))
        XCTAssertEqual(config.layers, 32)
        XCTAssertEqual(config.torchDtype, "bfloat16")
    }

    func testGemma3_4BNestsTheDecoderAndLeavesHeadsToClassDefaults() throws {
        let config = try ModelConfig.load(path: Fixtures.model("gemma-3-4b-it"))
        XCTAssertEqual(config.modelType, "gemma3")
        XCTAssertEqual(config.textModelType, "gemma3_text")
        XCTAssertEqual(config.hidden, 2560)
        XCTAssertEqual(config.intermediate, 10240)
        XCTAssertEqual(config.layers, 34)
        // Not in the file: Gemma3TextConfig's defaults.
        XCTAssertEqual(config.heads, 8)
        XCTAssertEqual(config.kvHeads, 4)
        XCTAssertEqual(config.headDim, 256)
        XCTAssertEqual(config.q, 2048)  // not hidden: gemma's q width is 8 × 256
        XCTAssertEqual(config.kv, 1024)
        XCTAssertEqual(config.dtype, .bf16)
        XCTAssertEqual(config.notes.count, 3)
        XCTAssertTrue(config.notes[0].contains("gemma3_text's transformers default"), config.notes[0])
    }

    func testTinyLlama() throws {
        let config = try ModelConfig.load(path: Fixtures.model("tiny-llama"))
        XCTAssertEqual(config.name, "tiny-llama")  // from _name_or_path "lora-viz/tiny-llama"
        XCTAssertEqual(config.dims(maxRank: 16), ModelDims(hidden: 64, out: 64, q: 64, kv: 32, ffn: 128, maxRank: 16))
        XCTAssertEqual(config.headDim, 16)
        XCTAssertEqual(config.layers, 2)
        XCTAssertEqual(config.notes, [])
    }

    private func parse(_ json: String, file: String = "/m/some-model/config.json") throws -> ModelConfig {
        try ModelConfig.parse(Data(json.utf8), file: file)
    }

    private let minimal = #""hidden_size": 64, "num_attention_heads": 4, "intermediate_size": 128"#

    func testDefaultsAndNesting() throws {
        let plain = try parse("{\(minimal)}")
        XCTAssertEqual(plain.name, "some-model")
        XCTAssertEqual(plain.modelType, "")
        XCTAssertEqual(plain.kvHeads, 4)
        XCTAssertEqual(plain.headDim, 16)
        XCTAssertNil(plain.layers)
        XCTAssertNil(plain.dtype)
        XCTAssertTrue(plain.notes.contains { $0.contains("taken as num_attention_heads (4)") })

        let nested = try parse(#"{"model_type": "llava", "dtype": "float16", "text_config": {"model_type": "llama", \#(minimal), "num_key_value_heads": 2, "head_dim": 32}}"#)
        XCTAssertEqual(nested.modelType, "llava")
        XCTAssertEqual(nested.textModelType, "llama")
        XCTAssertEqual(nested.kv, 64)
        XCTAssertEqual(nested.q, 128)
        XCTAssertEqual(nested.dtype, .fp16)

        // The top level wins over text_config; a null head_dim counts as absent.
        let both = try parse(#"{"hidden_size": 32, "num_attention_heads": 2, "intermediate_size": 8, "head_dim": null, "torch_dtype": "float32", "text_config": {\#(minimal)}}"#)
        XCTAssertEqual(both.hidden, 32)
        XCTAssertEqual(both.headDim, 16)
        XCTAssertEqual(both.dtype, .fp32)

        XCTAssertEqual(try parse(#"{"_name_or_path": "Qwen/Qwen2.5-7B-Instruct", \#(minimal)}"#).name, "Qwen2.5-7B-Instruct")
        XCTAssertEqual(try parse(#"{"_name_or_path": "", \#(minimal)}"#).name, "some-model")
        XCTAssertNil(try parse(#"{"torch_dtype": "int8", \#(minimal)}"#).dtype)
    }

    func testMissingAndWrongFieldsAreNamed() throws {
        assertModelFileError(try parse(#"{"num_attention_heads": 4, "intermediate_size": 128}"#),
                             contains: ["/m/some-model/config.json: no hidden_size (nor text_config.hidden_size)"])
        assertModelFileError(try parse(#"{"text_config": {"hidden_size": 64, "intermediate_size": 128}}"#),
                             contains: ["no num_attention_heads (nor text_config.num_attention_heads)"])
        assertModelFileError(try parse(#"{"hidden_size": 64, "num_attention_heads": 4}"#), contains: ["no intermediate_size"])
        assertModelFileError(try parse(#"{"hidden_size": "4096", "num_attention_heads": 4, "intermediate_size": 128}"#),
                             contains: ["hidden_size is \"4096\" (a string), expected a positive integer"])
        assertModelFileError(try parse(#"{"hidden_size": 0, "num_attention_heads": 4, "intermediate_size": 128}"#),
                             contains: ["hidden_size is 0, expected a positive integer"])
        assertModelFileError(try parse(#"{"hidden_size": 64, "num_attention_heads": -4, "intermediate_size": 128}"#),
                             contains: ["num_attention_heads is -4"])
        assertModelFileError(try parse(#"{"text_config": {"hidden_size": 64.5, "num_attention_heads": 4, "intermediate_size": 128}}"#),
                             contains: ["text_config.hidden_size is 64.5, expected a positive integer"])
        assertModelFileError(try parse(#"{\#(minimal), "num_hidden_layers": true}"#), contains: ["num_hidden_layers is true"])
        assertModelFileError(try parse(#"{\#(minimal), "torch_dtype": 16}"#), contains: ["torch_dtype is 16, expected a string"])
        assertModelFileError(try parse(#"{"hidden_size": 100, "num_attention_heads": 3, "intermediate_size": 128}"#),
                             contains: ["no head_dim, and hidden_size 100 is not divisible by num_attention_heads 3"])
        assertModelFileError(try parse(#"{\#(minimal), "num_key_value_heads": 3}"#),
                             contains: ["num_attention_heads 4 is not a multiple of num_key_value_heads 3"])
        assertModelFileError(try parse("[]"), contains: ["config.json: is an array, not a JSON object"])
        assertModelFileError(try parse("{"), contains: ["is not valid JSON: unexpected end of text at byte 1"])
    }

    func testLoadNamesMissingPaths() throws {
        let folder = try Fixtures.scratchFolder(self)
        assertModelFileError(try ModelConfig.load(path: folder.path), contains: [folder.path, "is a folder without a config.json"])
        assertModelFileError(try ModelConfig.load(path: folder.path + "/nope"), contains: ["no such file or folder"])
    }
}
