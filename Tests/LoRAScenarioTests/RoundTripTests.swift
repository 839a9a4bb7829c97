import LoRAKernels
import LoRAModels
@testable import LoRAScenario
import XCTest


/// Printing then parsing gives back the same command, for generated commands of every verb.
final class RoundTripTests: XCTestCase {
    var rng = SplitMix64(seed: 0xC0FFEE)
    /// A model config and an adapter folder of `examples/` (read once: each parse of the printed line reads them again).
    static let model = ModelSource(path: ModelFilesSessionTests.examples + "/models/tiny-llama",
                                   config: try! ModelConfig.load(path: ModelFilesSessionTests.examples + "/models/tiny-llama"))
    static let results = try! GPUBenchResults.load(path: GPUResultsTests.path(GPUResultsTests.bs1Results))
    static let adapter = AdapterSource(path: ModelFilesSessionTests.examples + "/adapters/tiny-chat-fp32",
                                       adapter: try! PEFTAdapter.load(folder: ModelFilesSessionTests.examples + "/adapters/tiny-chat-fp32"))

    func pick<T>(_ values: [T]) -> T { values.randomElement(using: &rng)! }
    func maybe<T>(_ value: @autoclosure () -> T) -> T? { Bool.random(using: &rng) ? value() : nil }
    func int(_ r: ClosedRange<Int>) -> Int { Int.random(in: r, using: &rng) }

    func name() -> String {
        let first = Array("abcxyzABC_")
        let rest = Array("abcdefghijklmnopqrstuvwxyz0123456789_-.")
        return String(pick(first)) + String((0..<int(0...12)).map { _ in pick(rest) })
    }

    func text() -> String {
        let alphabet = Array("ab c\"\\\n#=é→ 🙂\t'") + ["x", " "]
        return String((0..<int(0...40)).map { _ in pick(alphabet) })
    }

    func path() -> String {
        pick(["out.txt", "a b.txt", "dir/screen.txt", "#hash.txt", "=eq", "q\"uote", "back\\slash", "é/ü.txt", "<less", "x=1"])
    }

    func scaling() -> Float {
        pick([Float(1), 0.5, 2, 0.125, -3, 1e-5, 1023.75, Float(int(-1024...1024)) / 7])
    }

    func seconds() -> Double {
        pick([0, 0.2, 1.5, 0.001, 3600, Double(int(0...3_600_000)) / 1000, Double(int(0...1000)) / 3])
    }

    func expectation() -> Expectation {
        let numberPaths = ReportPath.all.filter { $0.kind == .number }.map(\.path)
        switch int(0...4) {
        case 4:
            return Expectation(path: pick(["sorted.grid", "per-sequence.grid"]), comparison: pick([.equal, .notEqual]),
                               expected: Bool.random(using: &rng)
                                   ? .value(.list((0..<int(0...4)).map { _ in Double(int(0...100_000)) / pick([1, 4]) }))
                                   : .path(pick(["sorted.grid", "per-sequence.grid"])))
        case 0:
            return Expectation(path: pick(numberPaths), comparison: pick(Expectation.Comparison.allCases),
                               expected: .value(.number(pick([0, 56, 1.5, -2, 1e-7, 123456789, Double(int(0...99999)) / 64]))))
        case 1:
            return Expectation(path: pick(numberPaths), comparison: pick(Expectation.Comparison.allCases),
                               expected: .path(pick(numberPaths)))
        case 2:
            return Expectation(path: pick(["bitwise_equal", "what_if", "gpu_calibrated"]), comparison: pick([.equal, .notEqual]),
                               expected: .value(.bool(Bool.random(using: &rng))))
        default:
            return Expectation(path: pick(["kernel", "dtype", "mode", "gpu", "sorted.gpu_breakdown.bound"]),
                               comparison: pick([.equal, .notEqual]),
                               expected: .value(.string(pick(["bf16", "qkv_lora_b", "a b", "x\"y", "h200", "exits"]))))
        }
    }

    func command() -> Command {
        switch int(0...28) {
        case 0: return .slots(int(Batch.Limits.slots))
        case 1:
            return .dims(DimsChange(hidden: maybe(self.int(1...65536)), out: maybe(self.int(1...65536)), q: maybe(self.int(1...65536)),
                                    kv: maybe(self.int(1...65536)), ffn: maybe(self.int(1...65536)), maxRank: int(1...1024)))
        case 2: return .dtype(pick(DType.allCases))
        case 3: return .mode(pick(Mode.allCases))
        case 4: return .seed(UInt64.random(in: 0...UInt64.max, using: &rng))
        case 5: return .adapter(name: name(), rank: maybe(self.int(0...1024)), scaling: maybe(self.scaling()), slot: maybe(self.int(0...511)))
        case 6: return .seq(adapter: name(), tokens: maybe(self.int(1...65536)), count: maybe(self.int(1...4096)))
        case 7: return .setSeq(index: int(0...4095), adapter: name(), tokens: maybe(self.int(1...65536)))
        case 8: return .removeSeq(index: int(0...4095))
        case 9: return .removeAdapter(name: name())
        case 10: return .clear
        case 11: return .kernel(pick(Kernel.all(stack: int(1...3))))
        case 12: return .run(reps: maybe(self.int(1...1000)))
        case 13: return .title(text())
        case 14: return .narrate(text())
        case 15: return .pause
        case 16: return .sleep(seconds: seconds())
        case 17: return .select(routing: pick(Strategy.allCases), x: int(0...100_000), y: int(0...600), z: maybe(self.int(0...4096)))
        case 18: return .expect(expectation())
        case 19: return .output(path: path())
        case 20: return .record(path: path(), force: Bool.random(using: &rng))
        case 21: return .gpu(pick(GPUProfile.all))
        case 22:
            let chosen = Strategy.allCases.filter { _ in Bool.random(using: &rng) }
            return .strategies(StrategyChoice(
                chosen.isEmpty ? [pick(Strategy.allCases)] : chosen.shuffled(using: &rng),
                chunk: maybe(pick(StrategyOptions.chunks)), graphSegments: maybe(self.int(1...100_000)),
                specialize: maybe(Bool.random(using: &rng))))
        case 23: return .launch(pick(LayerModule.allCases), shrink: Bool.random(using: &rng))
        case 27: return .gpuResults(Self.results)
        case 25: return .model(Self.model)
        case 26: return .adapterFile(name: name(), source: Self.adapter, slot: maybe(self.int(0...511)))
        case 24: return .layer(pick([.hide, .show(index: nil), .show(index: int(0...4095))]))
        default: return .stop
        }
    }

    func testPrintThenParseIsIdentityOverGeneratedCommands() throws {
        var seen = Set<String>()
        for _ in 0..<20_000 {
            let c = command()
            seen.insert(c.verb)
            let line = c.description
            let parsed = try Command.parse(line)
            XCTAssertEqual(parsed, c, "printed as: \(line)")
            if parsed != c { return }
        }
        XCTAssertEqual(seen, Set(Command.verbs))
    }

    func testAScenarioOfPrintedCommandsParsesBackLineByLine() throws {
        let commands = (0..<500).map { _ in command() }
        let source = commands.map(\.description).joined(separator: "\n")
        let scenario = try Scenario.parse(source, file: "gen.lora")
        XCTAssertEqual(scenario.steps.map(\.command), commands)
        XCTAssertEqual(scenario.steps.map(\.location.line), Array(1...500))
    }
}
