import LoRAKernels
@testable import LoRAScenario
import XCTest

/// Every verb parses to the command it names and prints back canonically.
final class CommandParsingTests: XCTestCase {
    /// (line as written, command, canonical line).
    let cases: [(String, Command, String)] = [
        ("slots 16", .slots(16), "slots 16"),
        ("dims hidden=2048 rank=32", .dims(DimsChange(hidden: 2048, maxRank: 32)), "dims hidden=2048 rank=32"),
        ("dims rank=16 ffn=8192 kv=512 q=2048 out=1024 hidden=1024",
         .dims(DimsChange(hidden: 1024, out: 1024, q: 2048, kv: 512, ffn: 8192, maxRank: 16)),
         "dims hidden=1024 out=1024 q=2048 kv=512 ffn=8192 rank=16"),
        ("dtype fp16", .dtype(.fp16), "dtype fp16"),
        ("mode extend", .mode(.extend), "mode extend"),
        ("seed 7", .seed(7), "seed 7"),
        ("seed 18446744073709551615", .seed(.max), "seed 18446744073709551615"),
        ("gpu h200", .gpu(.h200), "gpu h200"),
        ("gpu L40S", .gpu(.l40s), "gpu l40s"),
        ("adapter sql rank=16 scaling=2 slot=3", .adapter(name: "sql", rank: 16, scaling: 2, slot: 3),
         "adapter sql rank=16 scaling=2 slot=3"),
        ("adapter sql   scaling=0.25", .adapter(name: "sql", rank: nil, scaling: 0.25, slot: nil), "adapter sql scaling=0.25"),
        ("adapter base rank=0", .adapter(name: "base", rank: 0, scaling: nil, slot: nil), "adapter base rank=0"),
        ("seq sql", .seq(adapter: "sql", tokens: nil, count: nil), "seq sql"),
        ("seq sql count=4 tokens=128", .seq(adapter: "sql", tokens: 128, count: 4), "seq sql tokens=128 count=4"),
        ("set seq 3 adapter=chat", .setSeq(index: 3, adapter: "chat", tokens: nil), "set seq 3 adapter=chat"),
        ("set seq 0 tokens=9 adapter=a", .setSeq(index: 0, adapter: "a", tokens: 9), "set seq 0 adapter=a tokens=9"),
        ("remove seq 0", .removeSeq(index: 0), "remove seq 0"),
        ("remove adapter chat", .removeAdapter(name: "chat"), "remove adapter chat"),
        ("clear", .clear, "clear"),
        ("kernel sgemm_lora_a stack=3", .kernel(.sgemmLoRAA(stack: 3)), "kernel sgemm_lora_a stack=3"),
        ("kernel sgemm_lora_a", .kernel(.sgemmLoRAA(stack: 1)), "kernel sgemm_lora_a"),
        ("kernel sgemm_lora_b", .kernel(.sgemmLoRAB), "kernel sgemm_lora_b"),
        ("kernel qkv_lora_b", .kernel(.qkvLoRAB), "kernel qkv_lora_b"),
        ("kernel gate_up_lora_b", .kernel(.gateUpLoRAB), "kernel gate_up_lora_b"),
        ("launch  o   shrink", .launch(.o, shrink: true), "launch o shrink"),
        ("layer 5", .layer(.show(index: 5)), "layer 5"),
        ("strategies sorted tight", .strategies(StrategyChoice([.sorted, .tight])), "strategies sorted tight"),
        ("strategies csgmv-graph vllm specialize=true graph_segments=64 chunk=32",
         .strategies(StrategyChoice([.csgmvGraph, .vllm], chunk: 32, graphSegments: 64, specialize: true)),
         "strategies csgmv-graph vllm chunk=32 graph_segments=64 specialize=true"),
        ("select vllm 1 0 3", .select(routing: .vllm, x: 1, y: 0, z: 3), "select vllm 1 0 3"),
        ("run", .run(reps: nil), "run"),
        ("run reps=20", .run(reps: 20), "run reps=20"),
        ("title \"Decode \\\"basics\\\"\"", .title("Decode \"basics\""), "title \"Decode \\\"basics\\\"\""),
        ("narrate \"a\\\\b\\nc\"", .narrate("a\\b\nc"), "narrate \"a\\\\b\\nc\""),
        ("title Basics", .title("Basics"), "title \"Basics\""),
        ("pause", .pause, "pause"),
        ("sleep 1.5s", .sleep(seconds: 1.5), "sleep 1.5s"),
        ("sleep 200ms", .sleep(seconds: 0.2), "sleep 200ms"),
        ("sleep 2s", .sleep(seconds: 2), "sleep 2s"),
        ("select sorted 3 1", .select(routing: .sorted, x: 3, y: 1, z: nil), "select sorted 3 1"),
        ("select per-sequence 0 2 5", .select(routing: .perSequence, x: 0, y: 2, z: 5), "select per-sequence 0 2 5"),
        ("expect sorted.fates.excess_exit == 56",
         .expect(Expectation(path: "sorted.fates.excess_exit", comparison: .equal, expected: .value(.number(56)))),
         "expect sorted.fates.excess_exit == 56"),
        ("expect sorted.launched < per-sequence.launched",
         .expect(Expectation(path: "sorted.launched", comparison: .less, expected: .path("per-sequence.launched"))),
         "expect sorted.launched < per-sequence.launched"),
        ("expect bitwise_equal == true",
         .expect(Expectation(path: "bitwise_equal", comparison: .equal, expected: .value(.bool(true)))),
         "expect bitwise_equal == true"),
        ("expect speedup >= 1.5",
         .expect(Expectation(path: "speedup", comparison: .greaterOrEqual, expected: .value(.number(1.5)))),
         "expect speedup >= 1.5"),
        ("expect kernel != qkv_lora_b",
         .expect(Expectation(path: "kernel", comparison: .notEqual, expected: .value(.string("qkv_lora_b")))),
         "expect kernel != \"qkv_lora_b\""),
        ("output screens/basics.txt", .output(path: "screens/basics.txt"), "output screens/basics.txt"),
        ("output \"my screen.txt\"", .output(path: "my screen.txt"), "output \"my screen.txt\""),
        ("record session.lora force=true", .record(path: "session.lora", force: true), "record session.lora force=true"),
        ("record session.lora", .record(path: "session.lora", force: false), "record session.lora"),
        ("stop", .stop, "stop"),
        ("\trun   # then look at the grids", .run(reps: nil), "run"),
    ]

    func testEveryVerbParsesAndPrints() throws {
        for (line, command, canonical) in cases {
            XCTAssertEqual(try Command.parse(line), command, line)
            XCTAssertEqual(command.description, canonical, line)
            XCTAssertEqual(try Command.parse(canonical), command, canonical)
        }
        // The file verbs read what they name: the examples' model and adapter.
        let model = ModelFilesSessionTests.examples + "/models/tiny-llama"
        let parsed = try XCTUnwrap(try Command.parse("model \(model)"))
        guard case .model(let m) = parsed else { return XCTFail("\(parsed)") }
        XCTAssertEqual(m.config.hidden, 64)
        XCTAssertEqual(parsed.description, "model \(model)")
        let folder = ModelFilesSessionTests.examples + "/adapters/tiny-sql-bf16"
        let adapter = try XCTUnwrap(try Command.parse("adapter sql slot=2   from=\(folder)"))
        XCTAssertEqual(adapter.description, "adapter sql from=\(folder) slot=2")
        XCTAssertEqual(try Command.parse(adapter.description), adapter)
        let results = try XCTUnwrap(try Command.parse("gpu-results \(GPUResultsTests.path(GPUResultsTests.bs1Results))"))
        let verbs = Set(cases.map { $0.1.verb } + [parsed.verb, results.verb])
        XCTAssertEqual(verbs, Set(Command.verbs), "a verb has no parse case")
    }

    func testBlankAndCommentLinesAreNil() throws {
        XCTAssertNil(try Command.parse(""))
        XCTAssertNil(try Command.parse("   \t "))
        XCTAssertNil(try Command.parse("# slots 8"))
        XCTAssertNil(try Command.parse("   # indented comment"))
    }

    func testCommentAfterCommandAndHashInsideWord() throws {
        XCTAssertEqual(try Command.parse("slots 4 # four"), .slots(4))
        XCTAssertEqual(try Command.parse("output out#1.txt"), .output(path: "out#1.txt"))
        XCTAssertEqual(try Command.parse("narrate \"# not a comment\""), .narrate("# not a comment"))
    }

    func testCRLFLineEndingsInAFile() throws {
        let s = try Scenario.parse("slots 4\r\nseed 3\r\n", file: "crlf.lora")
        XCTAssertEqual(s.steps.map(\.command), [.slots(4), .seed(3)])
        XCTAssertEqual(s.steps[1].location.description, "crlf.lora:2:1")
    }

    func testAByteOrderMarkIsSkipped() throws {
        let s = try Scenario.parse("\u{FEFF}slots 4\n", file: "bom.lora")
        XCTAssertEqual(s.steps.map(\.command), [.slots(4)])
        XCTAssertEqual(s.steps[0].location.description, "bom.lora:1:1")
    }

    func testNumbersWithExponentsAndSigns() throws {
        XCTAssertEqual(try Command.parse("adapter a rank=8 scaling=1e-2"), .adapter(name: "a", rank: 8, scaling: 0.01, slot: nil))
        XCTAssertEqual(try Command.parse("adapter a rank=8 scaling=-0.5"), .adapter(name: "a", rank: 8, scaling: -0.5, slot: nil))
        XCTAssertEqual(try Command.parse("adapter a rank=+8"), .adapter(name: "a", rank: 8, scaling: nil, slot: nil))
        XCTAssertEqual(try Command.parse("expect speedup > .5"),
                       .expect(Expectation(path: "speedup", comparison: .greater, expected: .value(.number(0.5)))))
    }
}
