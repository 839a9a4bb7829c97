import Foundation
import LoRAKernels
import XCTest
@testable import LoRAModels

/// Adapter folders and their mapping to the kernels' weight layout.
final class PEFTAdapterTests: XCTestCase {
    /// tiny-llama: hidden 64, q 64, kv 32, ffn 128.
    let dims = ModelDims(hidden: 64, out: 64, q: 64, kv: 32, ffn: 128, maxRank: 16)

    private func load(_ name: String) throws -> PEFTAdapter {
        try PEFTAdapter.load(folder: Fixtures.adapter(name))
    }

    func testTensorsMatchWhatTheScriptWrote() throws {
        for name in Fixtures.adapterNames {
            let adapter = try load(name)
            let expected = try Fixtures.expected(Fixtures.adapter(name))
            XCTAssertEqual(adapter.weights.tensorNames, expected.keys.sorted(), name)
            XCTAssertEqual(adapter.weights.metadata, ["format": "pt"])
            XCTAssertEqual(adapter.layers, [0, 1])
            for (tensor, entry) in expected {
                let info = try XCTUnwrap(adapter.weights.info(tensor))
                XCTAssertEqual(info.dtype.rawValue, entry.dtype)
                XCTAssertEqual(info.shape, entry.shape)
                let values = try adapter.weights.floats(tensor)
                for (index, value) in entry.samples {
                    XCTAssertEqual(values[index], value, "\(name) \(tensor)[\(index)]")
                }
            }
        }
    }

    func testEveryModuleHasTheCanonicalShape() throws {
        // Per adapter: each module's expected rank (the same in both layers, but for v's rank 2 in layer 1).
        let ranks: [String: [LayerModule: Int]] = [
            "tiny-sql-bf16": [.qkv: 8, .o: 8, .gateUp: 8, .down: 8],
            "tiny-chat-fp32": [.qkv: 4, .o: 0, .gateUp: 0, .down: 0],
            "tiny-rank-pattern": [.qkv: 8, .o: 0, .gateUp: 8, .down: 4],
            "tiny-rslora": [.qkv: 16, .o: 0, .gateUp: 0, .down: 0],
        ]
        let k: [LayerModule: Int] = [.qkv: 64, .o: 64, .gateUp: 64, .down: 128]
        let n: [LayerModule: Int] = [.qkv: 64 + 32 + 32, .o: 64, .gateUp: 256, .down: 64]
        for name in Fixtures.adapterNames {
            let adapter = try load(name)
            for layer in 0..<2 {
                for module in LayerModule.allCases {
                    let rank = ranks[name]![module]!
                    let stack = module.projections.count
                    let shrink = try adapter.kernelWeights(module: module, layer: layer, shrink: true, dims: dims)
                    let expand = try adapter.kernelWeights(module: module, layer: layer, shrink: false, dims: dims)
                    let label = "\(name) layer \(layer) \(module)"
                    XCTAssertEqual(shrink.rank, rank, label)
                    XCTAssertEqual(expand.rank, rank, label)
                    XCTAssertEqual(shrink.source, "\(Fixtures.adapter(name)):layer \(layer):\(module.rawValue)")
                    XCTAssertEqual(shrink.rows, stack * rank, label)
                    XCTAssertEqual(shrink.columns, k[module]!, label)
                    XCTAssertEqual(expand.rows, n[module]!, label)
                    XCTAssertEqual(expand.columns, rank, label)
                    XCTAssertEqual(shrink.values.count, shrink.rows * shrink.columns, label)
                    XCTAssertEqual(expand.values.count, expand.rows * expand.columns, label)
                    if rank == 0 {
                        XCTAssertEqual(shrink.scaling, 0)
                        XCTAssertEqual(shrink.notes.last, "the adapter does not target \(module.projections.joined(separator: ", ")): it runs as rank 0 on this launch")
                    }
                }
            }
        }
    }

    /// Places every sampled element of every A and B where the layout says,
    /// times the scaling fold, and checks the padding and untargeted slices are 0.
    func testValuesLandWhereTheLayoutSays() throws {
        // scaling[p] / scaling[first] for the projections whose B is rescaled.
        let folds: [String: Float] = [
            "tiny-rank-pattern/1/v_proj": 4,  // 16/2 = 8 against q_proj's 16/8 = 2
            "tiny-rank-pattern/0/up_proj": 0.5, "tiny-rank-pattern/1/up_proj": 0.5,  // 2 against gate_proj's 32/8 = 4
        ]
        for name in Fixtures.adapterNames {
            let adapter = try load(name)
            let expected = try Fixtures.expected(Fixtures.adapter(name))
            for layer in 0..<2 {
                for module in LayerModule.allCases {
                    let shrink = try adapter.kernelWeights(module: module, layer: layer, shrink: true, dims: dims)
                    let expand = try adapter.kernelWeights(module: module, layer: layer, shrink: false, dims: dims)
                    guard shrink.rank > 0 else { continue }
                    let r = shrink.rank
                    var covered = Set<Int>()  // expand elements a projection owns
                    var coveredA = Set<Int>()
                    var offset = 0
                    for (slice, projection) in module.projections.enumerated() {
                        let out = module.outFeatures(dims)[slice].width
                        defer { offset += out }
                        let key = "base_model.model.model.layers.\(layer).\(module.parent).\(projection)"
                        guard let a = expected["\(key).lora_A.weight"], let b = expected["\(key).lora_B.weight"] else { continue }
                        let rank = a.shape[0]
                        for (index, value) in a.samples {
                            let (row, column) = index.quotientAndRemainder(dividingBy: a.shape[1])
                            XCTAssertEqual(shrink.values[(slice * r + row) * shrink.columns + column], value, "\(name) \(key) A[\(index)]")
                        }
                        let fold = folds["\(name)/\(layer)/\(projection)"] ?? 1
                        for (index, value) in b.samples {
                            let (row, column) = index.quotientAndRemainder(dividingBy: rank)
                            XCTAssertEqual(expand.values[(offset + row) * r + column], value * fold, "\(name) \(key) B[\(index)]")
                        }
                        for row in 0..<rank {
                            for column in 0..<shrink.columns { coveredA.insert((slice * r + row) * shrink.columns + column) }
                        }
                        for row in 0..<out {
                            for column in 0..<rank { covered.insert((offset + row) * r + column) }
                        }
                    }
                    for index in shrink.values.indices where !coveredA.contains(index) {
                        XCTAssertEqual(shrink.values[index], 0, "\(name) layer \(layer) \(module) shrink padding [\(index)]")
                    }
                    for index in expand.values.indices where !covered.contains(index) {
                        XCTAssertEqual(expand.values[index], 0, "\(name) layer \(layer) \(module) expand padding [\(index)]")
                    }
                }
            }
        }
    }

    func testScalingsAndNotes() throws {
        let sql = try load("tiny-sql-bf16")
        for module in LayerModule.allCases {
            let weights = try sql.kernelWeights(module: module, layer: 1, shrink: false, dims: dims)
            XCTAssertEqual(weights.scaling, 2)
            XCTAssertEqual(weights.notes, [])
        }

        let chat = try load("tiny-chat-fp32")
        let qkv = try chat.kernelWeights(module: .qkv, layer: 0, shrink: true, dims: dims)
        XCTAssertEqual(qkv.scaling, 2)
        XCTAssertEqual(qkv.notes, ["k_proj is not targeted: its rows are 0"])
        XCTAssertEqual(try chat.kernelWeights(module: .qkv, layer: 0, shrink: false, dims: dims).notes,
                       ["k_proj is not targeted: its block is 0"])
        XCTAssertEqual(try chat.kernelWeights(module: .o, layer: 0, shrink: true, dims: dims).notes,
                       ["the adapter does not target o_proj: it runs as rank 0 on this launch"])

        let patterns = try load("tiny-rank-pattern")
        let qkv1 = try patterns.kernelWeights(module: .qkv, layer: 1, shrink: false, dims: dims)
        XCTAssertEqual(qkv1.scaling, 2)
        XCTAssertEqual(qkv1.notes, [
            "k_proj is not targeted: its block is 0",
            "v_proj has rank 2 < 8: zero-padded",
            "v_proj's scaling 8.0 differs from q_proj's 2.0: its B is multiplied by 4.0 (the kernel applies one scaling per slot)",
        ])
        let gateUp = try patterns.kernelWeights(module: .gateUp, layer: 0, shrink: false, dims: dims)
        XCTAssertEqual(gateUp.scaling, 4)
        XCTAssertEqual(gateUp.notes, [
            "up_proj's scaling 2.0 differs from gate_proj's 4.0: its B is multiplied by 0.5 (the kernel applies one scaling per slot)",
        ])
        XCTAssertEqual(try patterns.kernelWeights(module: .gateUp, layer: 0, shrink: true, dims: dims).notes, [
            "up_proj's scaling 2.0 differs from gate_proj's 4.0: the expand folds it into its B",
        ])
        XCTAssertEqual(try patterns.kernelWeights(module: .down, layer: 0, shrink: true, dims: dims).scaling, 4)

        let rslora = try load("tiny-rslora")
        XCTAssertEqual(try rslora.kernelWeights(module: .qkv, layer: 0, shrink: true, dims: dims).scaling, 4)
    }

    func testChecksAgainstDims() throws {
        let sql = try load("tiny-sql-bf16")
        let path = Fixtures.adapter("tiny-sql-bf16") + "/adapter_model.safetensors"
        assertModelFileError(
            try sql.kernelWeights(module: .qkv, layer: 0, shrink: true, dims: ModelDims(hidden: 4096, out: 64, q: 64, kv: 32, ffn: 128, maxRank: 16)),
            contains: ["\(path): tensor 'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight': q_proj.lora_A is [8, 64] but the model's hidden is 4096"])
        assertModelFileError(
            try sql.kernelWeights(module: .qkv, layer: 0, shrink: false, dims: ModelDims(hidden: 64, out: 64, q: 64, kv: 16, ffn: 128, maxRank: 16)),
            contains: ["tensor 'base_model.model.model.layers.0.self_attn.k_proj.lora_B.weight': k_proj.lora_B is [32, 8] but the model's kv width (kv heads × head_dim) is 16"])
        assertModelFileError(
            try sql.kernelWeights(module: .down, layer: 1, shrink: true, dims: ModelDims(hidden: 64, out: 64, q: 64, kv: 32, ffn: 256, maxRank: 16)),
            contains: ["down_proj.lora_A is [8, 128] but the model's ffn (intermediate_size) is 256"])
        assertModelFileError(
            try load("tiny-rslora").kernelWeights(module: .qkv, layer: 0, shrink: true, dims: ModelDims(hidden: 64, out: 64, q: 64, kv: 32, ffn: 128, maxRank: 8)),
            contains: ["tensor 'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight': rank 16 is over dims rank=8; raise it with `dims rank=16`"])
        assertModelFileError(try sql.kernelWeights(module: .o, layer: 2, shrink: true, dims: dims),
                             contains: ["\(path): no layer 2: it has layers 0–1"])
    }

    // MARK: Folders built here

    /// A folder with `config` as adapter_config.json and `tensors` in adapter_model.safetensors.
    private func folder(config: String, tensors: SafetensorsBuilder) throws -> URL {
        let url = try Fixtures.scratchFolder(self)
        try Data(config.utf8).write(to: url.appendingPathComponent("adapter_config.json"))
        _ = try write(tensors.file(), to: url, name: "adapter_model.safetensors")
        return url
    }

    /// A rank-2 q_proj adapter on a hidden-4, q-4 model, under `prefix` with optional `.default`.
    private func qOnly(prefix: String, infix: String = "", layer: Int = 0) -> SafetensorsBuilder {
        var builder = SafetensorsBuilder()
        builder.addF32("\(prefix).layers.\(layer).self_attn.q_proj.lora_A\(infix).weight", [2, 4], (0..<8).map(Float.init))
        builder.addF32("\(prefix).layers.\(layer).self_attn.q_proj.lora_B\(infix).weight", [4, 2], (0..<8).map { Float($0) + 10 })
        builder.addF32("base_model.model.lm_head.weight", [1], [0])
        return builder
    }

    private let small = ModelDims(hidden: 4, out: 4, q: 4, kv: 2, ffn: 8, maxRank: 4)

    func testMultimodalPrefixesAndTheDefaultInfix() throws {
        for (prefix, module) in [
            ("base_model.model.model.language_model", "model.language_model.layers.0.self_attn.q_proj"),
            ("base_model.model.language_model.model", "language_model.model.layers.0.self_attn.q_proj"),
            ("base_model.model.model", "model.layers.0.self_attn.q_proj"),
        ] {
            for infix in ["", ".default"] {
                let url = try folder(config: #"{"r": 2, "lora_alpha": 4, "target_modules": "\#(module.replacingOccurrences(of: ".", with: "\\\\."))"}"#,
                                     tensors: qOnly(prefix: prefix, infix: infix))
                let adapter = try PEFTAdapter.load(folder: url.path)
                XCTAssertEqual(adapter.moduleName(layer: 0, projection: "q_proj"), module)
                let shrink = try adapter.kernelWeights(module: .qkv, layer: 0, shrink: true, dims: small)
                XCTAssertEqual(shrink.rank, 2, "\(prefix)\(infix)")
                XCTAssertEqual(shrink.scaling, 2)
                XCTAssertEqual(shrink.values, (0..<8).map(Float.init) + [Float](repeating: 0, count: 16))
                let expand = try adapter.kernelWeights(module: .qkv, layer: 0, shrink: false, dims: small)
                XCTAssertEqual(expand.rows, 8)
                XCTAssertEqual(expand.values, (0..<8).map { Float($0) + 10 } + [Float](repeating: 0, count: 8))
            }
        }
    }

    func testMissingTensorsAndIgnoredOnes() throws {
        let url = try folder(config: #"{"r": 2, "target_modules": ["q_proj", "k_proj"]}"#, tensors: qOnly(prefix: "base_model.model.model"))
        let adapter = try PEFTAdapter.load(folder: url.path)
        assertModelFileError(
            try adapter.kernelWeights(module: .qkv, layer: 0, shrink: true, dims: small),
            contains: ["tensor 'base_model.model.model.layers.0.self_attn.k_proj.lora_A.weight': missing, but adapter_config.json targets model.layers.0.self_attn.k_proj"])

        let ignoring = try folder(config: #"{"r": 2, "target_modules": ["v_proj"]}"#, tensors: qOnly(prefix: "base_model.model.model"))
        assertModelFileError(try PEFTAdapter.load(folder: ignoring.path).kernelWeights(module: .qkv, layer: 0, shrink: true, dims: small),
                             contains: ["v_proj.lora_A.weight': missing"])
        let onlyO = try folder(config: #"{"r": 2, "target_modules": ["o_proj"]}"#, tensors: qOnly(prefix: "base_model.model.model"))
        let weights = try PEFTAdapter.load(folder: onlyO.path).kernelWeights(module: .qkv, layer: 0, shrink: false, dims: small)
        XCTAssertEqual(weights.rank, 0)
        XCTAssertEqual(weights.notes, [
            "the file has tensors for model.layers.0.self_attn.q_proj but adapter_config.json does not target it: they are ignored",
            "the adapter does not target q_proj, k_proj, v_proj: it runs as rank 0 on this launch",
        ])
    }

    func testLayersTheConfigLeavesAloneRunAtRankZero() throws {
        for config in [#"{"r": 2, "target_modules": ["q_proj"], "layers_to_transform": [0]}"#,
                       #"{"r": 2, "target_modules": "model\\.layers\\.0\\.self_attn\\.q_proj"}"#] {
            let url = try folder(config: config, tensors: qOnly(prefix: "base_model.model.model"))
            let adapter = try PEFTAdapter.load(folder: url.path)
            XCTAssertEqual(try adapter.kernelWeights(module: .qkv, layer: 0, shrink: true, dims: small).rank, 2)
            let skipped = try adapter.kernelWeights(module: .qkv, layer: 1, shrink: false, dims: small)
            XCTAssertEqual(skipped.rank, 0)
            XCTAssertEqual(skipped.rows, 8)
            XCTAssertEqual(skipped.columns, 0)
            XCTAssertEqual(skipped.notes, ["adapter_config.json targets nothing in layer 1: it runs as rank 0 on this launch"])
        }
        // Targeted by name in every layer, but the file stops at layer 0.
        let url = try folder(config: #"{"r": 2, "target_modules": ["q_proj"]}"#, tensors: qOnly(prefix: "base_model.model.model"))
        assertModelFileError(try PEFTAdapter.load(folder: url.path).kernelWeights(module: .o, layer: 1, shrink: true, dims: small),
                             contains: ["no layer 1: it has layers 0"])
    }

    func testFanInFanOutDoesNotTransposeTheLoRAMatrices() throws {
        let url = try folder(config: #"{"r": 2, "lora_alpha": 4, "fan_in_fan_out": true, "target_modules": ["q_proj"]}"#,
                             tensors: qOnly(prefix: "base_model.model.model"))
        let shrink = try PEFTAdapter.load(folder: url.path).kernelWeights(module: .qkv, layer: 0, shrink: true, dims: small)
        XCTAssertEqual(Array(shrink.values[0..<8]), (0..<8).map(Float.init))
        XCTAssertEqual(shrink.notes.first, "fan_in_fan_out only transposes B·A for Conv1D base layers: lora_A and lora_B are read as stored")
    }

    func testRankDisagreeingWithTheConfig() throws {
        let url = try folder(config: #"{"r": 4, "target_modules": ["q_proj"]}"#, tensors: qOnly(prefix: "base_model.model.model"))
        assertModelFileError(try PEFTAdapter.load(folder: url.path).kernelWeights(module: .qkv, layer: 0, shrink: true, dims: small),
                             contains: ["q_proj.lora_A is [2, 4] but adapter_config.json gives q_proj rank 4"])
    }

    func testTwoTensorsForOneSlot() throws {
        var builder = qOnly(prefix: "base_model.model.model")
        builder.addF32("base_model.model.model.layers.0.self_attn.q_proj.lora_A.default.weight", [2, 4], (0..<8).map(Float.init))
        let url = try folder(config: #"{"target_modules": ["q_proj"]}"#, tensors: builder)
        assertModelFileError(try PEFTAdapter.load(folder: url.path), contains: ["claims layers.0.self_attn.q_proj.lora_A like tensor"])
    }

    func testNoLoRATensorsAtAll() throws {
        var builder = SafetensorsBuilder()
        builder.addF32("base_model.model.model.layers.0.self_attn.q_proj.weight", [1], [1])
        builder.addF32("base_model.model.model.layers.x.self_attn.q_proj.lora_A.weight", [1], [1])
        builder.addF32("base_model.model.model.layers.0.mlp.q_proj.lora_A.weight", [1], [1])
        let url = try folder(config: #"{"target_modules": ["q_proj"]}"#, tensors: builder)
        let adapter = try PEFTAdapter.load(folder: url.path)
        XCTAssertEqual(adapter.layers, [])
        assertModelFileError(try adapter.kernelWeights(module: .qkv, layer: 0, shrink: true, dims: small),
                             contains: ["no layer 0: it has no LoRA tensors"])
    }

    func testFolders() throws {
        let viaConfig = try PEFTAdapter.load(folder: Fixtures.adapter("tiny-chat-fp32") + "/adapter_config.json")
        XCTAssertEqual(viaConfig.folder, Fixtures.adapter("tiny-chat-fp32"))
        XCTAssertEqual(viaConfig.config.r, 4)

        let url = try Fixtures.scratchFolder(self)
        assertModelFileError(try PEFTAdapter.load(folder: url.path), contains: ["has no adapter_config.json"])
        try Data(#"{"target_modules": ["q_proj"]}"#.utf8).write(to: url.appendingPathComponent("adapter_config.json"))
        assertModelFileError(try PEFTAdapter.load(folder: url.path), contains: ["has no adapter_model.safetensors"])
        try Data([0x80, 0x02]).write(to: url.appendingPathComponent("adapter_model.bin"))
        assertModelFileError(try PEFTAdapter.load(folder: url.path),
                             contains: ["has only adapter_model.bin, a pickle file, which lora-viz does not read", "save_file("])
        assertModelFileError(try PEFTAdapter.load(folder: url.path + "/missing"), contains: ["no such adapter folder"])
    }

    func testLayerRanges() {
        XCTAssertEqual(PEFTAdapter.ranges([0, 1, 2, 3, 5, 7, 8]), "0–3, 5, 7–8")
        XCTAssertEqual(PEFTAdapter.ranges([4]), "4")
    }
}
