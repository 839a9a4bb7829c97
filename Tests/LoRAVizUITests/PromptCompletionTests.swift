import LoRAKernels
import LoRAScenario
@testable import LoRAVizUI
import XCTest

/// Tab at the `:` prompt offers what the verb's spec says stands there: the
/// same words the hand-written list of each verb offered before the table.
final class PromptCompletionTests: XCTestCase {
    func completions(_ line: String) throws -> [String] {
        var session = Session()
        _ = try session.execute("adapter sql rank=4")
        _ = try session.execute("adapter chat rank=8")
        let state = AppState(session: session, width: 120, height: 40, glyphs: .ascii)
        return state.completions(words: line.split(separator: " ", omittingEmptySubsequences: false).map(String.init))
    }

    func testPositionalsComeFromTheVerbsForms() throws {
        XCTAssertEqual(try completions("ker"), VerbSpec.names)
        XCTAssertEqual(try completions("kernel "), Kernel.names)
        XCTAssertEqual(try completions("kernel sgemm_lora_a "), ["stack="])
        XCTAssertEqual(try completions("dtype "), ["bf16", "fp16", "fp32"])
        XCTAssertEqual(try completions("mode "), ["decode", "extend"])
        XCTAssertEqual(try completions("gpu "), GPUProfile.names)
        XCTAssertEqual(try completions("launch "), LayerModule.allCases.map(\.rawValue))
        XCTAssertEqual(try completions("launch qkv "), ["shrink", "expand"])
        XCTAssertEqual(try completions("remove "), ["seq", "adapter"])
        XCTAssertEqual(try completions("remove adapter "), ["sql", "chat"])
        XCTAssertEqual(try completions("remove seq "), [])
        XCTAssertEqual(try completions("set "), ["seq"])
        XCTAssertEqual(try completions("set seq 0 "), ["adapter=", "tokens="])
        XCTAssertEqual(try completions("layer "), ["off"])
        XCTAssertEqual(try completions("select "), Strategy.names)
        XCTAssertEqual(try completions("select sorted "), [])
        XCTAssertEqual(try completions("strategies "), Strategy.names)
        XCTAssertEqual(try completions("strategies sorted "), Strategy.names + ["chunk=", "graph_segments=", "specialize="])
        // Both forms of `adapter` start with a name: each is offered once.
        XCTAssertEqual(try completions("adapter "), ["sql", "chat"])
        XCTAssertEqual(try completions("adapter sql "), ["rank=", "scaling=", "slot=", "from="])
        XCTAssertEqual(try completions("seq "), ["sql", "chat"])
        XCTAssertEqual(try completions("dims "), ["hidden=", "out=", "q=", "kv=", "ffn=", "rank="])
        XCTAssertEqual(try completions("run "), ["reps="])
        XCTAssertEqual(try completions("output out.txt "), ["force="])
        XCTAssertEqual(try completions("expect batch.bs "), [])
        XCTAssertEqual(try completions("slots "), [])
        XCTAssertEqual(try completions("frobnicate "), [])
    }

    func testKeyValuesComeFromTheKeysLimits() throws {
        XCTAssertEqual(try completions("set seq 0 adapter="), ["adapter=sql", "adapter=chat"])
        XCTAssertEqual(try completions("kernel sgemm_lora_a stack="), ["stack=1", "stack=2", "stack=3"])
        XCTAssertEqual(try completions("strategies csgmv chunk="), StrategyOptions.chunks.map { "chunk=\($0)" })
        XCTAssertEqual(try completions("strategies vllm specialize="), ["specialize=true", "specialize=false"])
        XCTAssertEqual(try completions("record r.lora force="), ["force=true", "force=false"])
        XCTAssertEqual(try completions("adapter sql rank="), [])
        // A key of another verb still offers its values; the parser then says it is not this verb's.
        XCTAssertEqual(try completions("slots force="), ["force=true", "force=false"])
    }
}
