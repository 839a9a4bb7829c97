import Foundation
import LoRAKernels
import LoRAModels
@testable import LoRAScenario
import LoRAVizTestSupport
import XCTest

/// `model PATH` and `adapter NAME from=PATH` in a session: dims, ranks and
/// scalings from the files, the real weights in the kernels' inputs (read
/// back from a dump), notes, errors that name the file, recordings.
final class ModelFilesSessionTests: TemporaryDirectoryTestCase {
    /// The repository's `examples/` folder.
    static let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("examples").path

    func session(_ lines: String) throws -> Session {
        var s = Session()
        let text = lines.replacingOccurrences(of: "EX/", with: Self.examples + "/")
        for step in try Scenario.parse(text, file: "t.lora").steps { try s.apply(step) }
        return s
    }

    func error(_ lines: String) -> String {
        do { _ = try session(lines); return "no error" } catch { return "\(error)".replacingOccurrences(of: Self.examples + "/", with: "EX/") }
    }

    func testAModelConfigSetsDimsDtypeLayersAndName() throws {
        let s = try session("model EX/models/qwen2.5-7b-instruct\n")
        // Qwen2.5-7B by hand: 28 heads × 128 = 3584, 4 kv heads × 128 = 512.
        XCTAssertEqual(s.workload.dims, ModelDims(hidden: 3584, out: 3584, q: 3584, kv: 512, ffn: 18944, maxRank: 64))
        XCTAssertEqual(s.workload.dtype, .bf16)
        XCTAssertEqual(s.modelLayers, 28)
        let r = s.report()
        XCTAssertEqual(r.model?.name, "qwen2.5-7b-instruct")
        XCTAssertTrue(r.json.contains("\"model\":{\"name\":\"qwen2.5-7b-instruct\",\"model_type\":\"qwen2\",\"layers\":28"), r.json)
        // Nested text_config (Gemma 3): q ≠ hidden, so the o shrink reads K = q.
        var g = try session("model EX/models/gemma-3-4b-it\nlaunch o shrink\n")
        XCTAssertEqual(g.workload.dims.hidden, 2560)
        XCTAssertEqual(g.workload.inputWidth, 2048)
        XCTAssertThrowsError(try g.execute("layer 34", file: "t.lora", line: 3)) {
            XCTAssertEqual("\($0)", "t.lora:3:7: error: layer 34 does not exist: gemma-3-4b-it has 34 layers (0…33)")
        }
    }

    func testAnAdapterFolderGivesRankScalingAndTheKernelsWeights() throws {
        let s = try session("model EX/models/tiny-llama\nslots 4\nadapter sql from=EX/adapters/tiny-sql-bf16\n"
                            + "adapter rs from=EX/adapters/tiny-rslora slot=3\nseq sql count=3\nseq rs count=2\nlaunch qkv shrink\n")
        let sql = try XCTUnwrap(s.workload.batch.adapter(named: "sql")), rs = try XCTUnwrap(s.workload.batch.adapter(named: "rs"))
        XCTAssertEqual(sql.rank, 8)
        XCTAssertEqual(sql.scaling, 2)     // lora_alpha 16 / r 8
        XCTAssertEqual(rs.rank, 16)
        XCTAssertEqual(rs.scaling, 4)      // rsLoRA: 16 / √16
        XCTAssertEqual(rs.slot, 3)
        // The A the kernel reads is the file's: q, k, v stacked, rank rows each.
        let file = try SafetensorsFile(path: Self.examples + "/adapters/tiny-sql-bf16/adapter_model.safetensors")
        let prefix = "base_model.model.model.layers.0.self_attn."
        let q = try file.floats(prefix + "q_proj.lora_A.weight"), v = try file.floats(prefix + "v_proj.lora_A.weight")
        let w = try XCTUnwrap(s.workload.slotWeights[0])
        XCTAssertEqual([w.rows, w.columns], [24, 64])
        XCTAssertEqual(Array(w.values[0..<(8 * 64)]), q)
        XCTAssertEqual(Array(w.values[(16 * 64)...]), v)

        // Round trip through a run and its dump: weights.npy holds the file's values.
        let result = try KernelRunner.run(s.workload, options: s.runOptions(reps: 1, threads: 1, keepTensors: true))
        let dir = directory.appendingPathComponent("dump").path
        try result.writeDump(to: dir)
        let dumped = try Self.float32s(dir + "/weights.npy")
        XCTAssertEqual(dumped.shape, [4, 3 * 64, 64])  // (slots, stack·R, K) with R 64
        for n in 0..<8 {
            for k in 0..<64 {
                XCTAssertEqual(dumped.values[(0 * 192 + n) * 64 + k], q[n * 64 + k])
                XCTAssertEqual(dumped.values[(0 * 192 + 16 + n) * 64 + k], v[n * 64 + k])
            }
        }
        XCTAssertTrue(result.bitwiseEqual)
    }

    func testTheLaunchChoosesTheModuleAndTheLayer() throws {
        var s = try session("model EX/models/tiny-llama\nadapter c from=EX/adapters/tiny-chat-fp32\nadapter p from=EX/adapters/tiny-rank-pattern\n"
                            + "seq c\nseq p\n")
        // A bare sgemm_lora_b is read as the o expand.
        XCTAssertEqual(s.workload.module, .o)
        XCTAssertEqual(s.workload.batch.adapter(named: "c")?.rank, 0)
        XCTAssertTrue(s.adapterNotes.contains { $0.hasPrefix("c: ") && $0.contains("o_proj") }, "\(s.adapterNotes)")
        try s.execute("launch down expand")
        XCTAssertEqual(s.workload.batch.adapter(named: "p")?.rank, 4, "rank_pattern down_proj: 4")
        try s.execute("launch qkv expand")
        XCTAssertEqual(s.workload.batch.adapter(named: "p")?.rank, 8)
        try s.execute("layer 1")
        // model.layers.1.self_attn.v_proj: 2, but q_proj keeps 8: the slot's rank is the group's largest.
        XCTAssertEqual(s.workload.batch.adapter(named: "p")?.rank, 8)
        XCTAssertEqual(s.report().adapterFiles.map(\.layer), [1, 1])
        // Every launch of the layer table reads its own module.
        let layer = try LayerReport(s, runs: nil)
        XCTAssertEqual(layer.launches.count, 8)
        let ranks = try s.layerWorkloads().map { $0.batch.adapter(named: "c")!.rank }
        XCTAssertEqual(ranks, [4, 4, 0, 0, 0, 0, 0, 0], "chat targets q_proj and v_proj only")
    }

    func testBadFilesAndMisfitsAreErrorsThatNameTheFile() {
        XCTAssertEqual(error("model EX/models/none\n"), "t.lora:1:7: error: EX/models/none: no such file or folder")
        XCTAssertEqual(error("adapter a from=EX/models/tiny-llama\n"),
                       "t.lora:1:16: error: EX/models/tiny-llama: has no adapter_config.json: not a PEFT adapter folder")
        XCTAssertTrue(error("adapter a from=EX/adapters/tiny-sql-bf16 rank=8\n")
            .hasSuffix("error: rank= does not go with from=: an adapter read from files takes its rank from adapter_config.json"))
        // The default dims (hidden 4096) do not fit a tiny-llama adapter.
        XCTAssertTrue(error("adapter a from=EX/adapters/tiny-sql-bf16\n").contains("adapter 'a': EX/adapters/tiny-sql-bf16/adapter_model.safetensors"),
                      error("adapter a from=EX/adapters/tiny-sql-bf16\n"))
        // R below the file's rank: the fix is offered.
        let tooSmall = error("model EX/models/tiny-llama\ndims rank=4\nadapter a from=EX/adapters/tiny-sql-bf16\n")
        XCTAssertTrue(tooSmall.contains("dims rank=8"), tooSmall)
        // A change that makes a loaded adapter misfit is refused, and says which.
        let misfit = error("model EX/models/tiny-llama\nadapter a from=EX/adapters/tiny-sql-bf16\ndims hidden=128\n")
        XCTAssertTrue(misfit.hasPrefix("t.lora:3:1: error: adapter 'a': "), misfit)
        let typed = error("model EX/models/tiny-llama\nadapter a from=EX/adapters/tiny-sql-bf16\nadapter a rank=4\n")
        XCTAssertTrue(typed.contains("its rank and scaling come from its adapter_config.json"), typed)
    }

    func testARecordingRebuildsFilesAndTheLaunch() throws {
        let s = try session("model EX/models/tiny-llama\nslots 3\nadapter sql from=EX/adapters/tiny-sql-bf16 slot=2\n"
                            + "adapter t rank=4\nseq sql count=2\nseq t\nlaunch down shrink\nlayer 1\ndtype fp32\n")
        let text = s.stateSource
        XCTAssertTrue(text.hasPrefix("slots 3\nmodel \(Self.examples)/models/tiny-llama\ndtype fp32\n"), text)
        XCTAssertTrue(text.contains("adapter sql from=\(Self.examples)/adapters/tiny-sql-bf16 slot=2\n"), text)
        XCTAssertFalse(text.contains("dims"), "the model gives the dims: \(text)")
        let rebuilt = try Session(replaying: Scenario.parse(text, file: "r.lora"))
        XCTAssertEqual(rebuilt.workload, s.workload)
        XCTAssertEqual(rebuilt.layerIndex, 1)
    }

    /// A little-endian float32 `.npy` file: its shape and values.
    static func float32s(_ path: String) throws -> (shape: [Int], values: [Float]) {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let headerLength = Int(data[8]) | Int(data[9]) << 8
        let header = String(decoding: data[10..<(10 + headerLength)], as: UTF8.self)
        XCTAssertTrue(header.contains("'descr': '<f4'"), header)
        let shapeText = header.components(separatedBy: "'shape': (")[1].components(separatedBy: ")")[0]
        let shape = shapeText.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        let body = data[(10 + headerLength)...]
        let values = body.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        return (shape, values)
    }
}
