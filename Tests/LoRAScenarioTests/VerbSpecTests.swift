import Foundation
import LoRAKernels
@testable import LoRAScenario
import LoRAVizTestSupport
import XCTest

/// `VerbSpec.table` is the one list of verbs: these tests fail when the
/// parser, the usage lines, the "unknown verb" list or the docs drift from it.
final class VerbSpecTests: XCTestCase {
    /// A line of each form, built from its words: placeholders get a sample
    /// value, choices their first, keys a value inside their limit.
    static func example(_ spec: VerbSpec, _ form: VerbSpec.Form) -> String {
        words(spec, form).joined(separator: " ")
    }

    /// The words of `example`: the verb, then one per word of the form.
    static func words(_ spec: VerbSpec, _ form: VerbSpec.Form) -> [String] {
        let files: [String: String] = [
            "model": ModelFilesSessionTests.examples + "/models/tiny-llama",
            "gpu-results": GPUResultsTests.path(GPUResultsTests.bs1Results),
        ]
        let samples = ["N": "1", "NAME": "a", "\"TEXT\"": "\"hi\"",
                       "DURATION": "1.5s", "FILE": "out.txt", "PATH": "batch.bs", "VALUE": "1"]
        var words = [spec.name]
        for word in form.words {
            switch word {
            case .literal(let w):
                words.append(w)
            case .positional(let p), .optional(let p), .repeated(let p):
                words.append(files[spec.name] ?? p.range.map { "\($0.upperBound)" } ?? p.choices?.first ?? samples[p.placeholder] ?? "==")
            case .key(let k, _):
                switch k.limit {
                case .int(let range): words.append("\(k.name)=\(range.upperBound)")
                case .float(let range): words.append("\(k.name)=\(range.lowerBound)")
                case .bool: words.append("\(k.name)=true")
                case .name: words.append("\(k.name)=b")
                case .path: words.append("\(k.name)=" + ModelFilesSessionTests.examples + "/adapters/tiny-sql-bf16")
                }
            }
        }
        // `stack=` goes with the shrink only, which is not the first kernel named.
        if spec.name == "kernel" { words[1] = "sgemm_lora_a" }
        return words
    }

    func testEveryFormParsesALineBuiltFromItsWords() throws {
        for spec in VerbSpec.table {
            for form in spec.forms {
                let line = Self.example(spec, form)
                let command = try XCTUnwrap(try Command.parse(line), line)
                XCTAssertEqual(command.verb, spec.name, line)
                XCTAssertEqual(try Command.parse(command.description), command, line)
            }
        }
    }

    /// Every whole-number key is refused one past its limit, with the range printed from the limit.
    func testEveryKeyRangeInAnErrorIsItsLimit() throws {
        for spec in VerbSpec.table {
            for form in spec.forms {
                for key in form.keys {
                    guard case .int(let range) = key.limit, key.name != "chunk" else { continue }
                    let line = Self.example(spec, form).replacingOccurrences(
                        of: "\(key.name)=\(range.upperBound)", with: "\(key.name)=\(range.upperBound + 1)")
                    XCTAssertThrowsError(try Command.parse(line), line) { error in
                        XCTAssertTrue("\(error)".hasSuffix("\(key.name)=\(range.upperBound + 1) is out of range \(range.lowerBound)…\(range.upperBound)"),
                                      "\(line): \(error)")
                    }
                }
            }
        }
    }

    /// Every whole-number positional is refused one past its limit, with the range printed from the limit.
    func testEveryPositionalRangeInAnErrorIsItsLimit() throws {
        var checked = 0
        for spec in VerbSpec.table {
            for form in spec.forms {
                for (i, p) in form.positionals.enumerated() {
                    guard let p, let range = p.range else { continue }
                    var words = Self.words(spec, form)
                    words[i + 1] = "\(range.upperBound + 1)"
                    let line = words.joined(separator: " ")
                    XCTAssertThrowsError(try Command.parse(line), line) { error in
                        XCTAssertTrue("\(error)".hasSuffix(" \(range.upperBound + 1) is out of range \(range.lowerBound)…\(range.upperBound)"),
                                      "\(line): \(error)")
                    }
                    checked += 1
                }
            }
        }
        XCTAssertEqual(checked, 7, "slots N, set seq I, remove seq I, layer N, select X Y Z")
        XCTAssertThrowsError(try Command.parse("slots 513")) { error in
            XCTAssertEqual("\(error)", "<prompt>:1:7: error: slots 513 is out of range 1…512")
        }
    }

    func testUnknownVerbListsAndSuggestsTheTable() {
        XCTAssertThrowsError(try Command.parse("frobnicate")) { error in
            XCTAssertEqual("\(error)", "<prompt>:1:1: error: unknown verb 'frobnicate' (verbs: \(VerbSpec.names.joined(separator: ", ")))")
        }
        for name in VerbSpec.names {
            XCTAssertThrowsError(try Command.parse(name + name.suffix(1) + " 1")) { error in
                XCTAssertTrue("\(error)".hasSuffix("did you mean '\(name)'?"), "\(error)")
            }
        }
        XCTAssertEqual(Command.verbs, VerbSpec.names)
        XCTAssertEqual(Set(VerbSpec.names).count, VerbSpec.table.count, "a verb is declared twice")
    }

    /// The usage lines the parser printed before the table; the table builds them from its words.
    func testUsageLinesAreTheOnesErrorsAlwaysShowed() {
        let strategies = Strategy.names.joined(separator: "|")
        let expected: [String: String] = [
            "slots": "slots N",
            "dims": "dims [hidden=N] [out=N] [q=N] [kv=N] [ffn=N] [rank=N]",
            "dtype": "dtype bf16|fp16|fp32",
            "mode": "mode decode|extend",
            "seed": "seed N",
            "gpu": "gpu " + GPUProfile.names.joined(separator: "|"),
            "model": "model PATH (a config.json or its folder)",
            "gpu-results": "gpu-results FILE (a gpu-results.json of lora-viz gpu-bench's script, measured on this batch)",
            "adapter": "adapter NAME rank=N [scaling=F] [slot=N] | adapter NAME from=PATH [slot=N]",
            "seq": "seq NAME [tokens=N] [count=N]",
            "set": "set seq I [adapter=NAME] [tokens=N]",
            "remove": "remove seq I | remove adapter NAME",
            "clear": "clear",
            "kernel": "kernel sgemm_lora_a|sgemm_lora_b|qkv_lora_b|gate_up_lora_b [stack=1|2|3]",
            "launch": "launch qkv|o|gate_up|down shrink|expand",
            "layer": "layer [N] | layer off",
            "strategies": "strategies \(strategies)… [chunk=16|32|64|128] [graph_segments=N] [specialize=true|false]",
            "run": "run [reps=N]",
            "title": "title \"TEXT\"",
            "narrate": "narrate \"TEXT\"",
            "pause": "pause",
            "sleep": "sleep DURATION (1.5s, 200ms)",
            "select": "select \(strategies) X Y [Z]",
            "expect": "expect PATH ==|!=|<|<=|>|>= VALUE",
            "output": "output FILE [force=true]",
            "record": "record FILE [force=true]",
            "stop": "stop",
        ]
        XCTAssertEqual(Set(expected.keys), Set(VerbSpec.names))
        for spec in VerbSpec.table {
            XCTAssertEqual(spec.usage, expected[spec.name], spec.name)
            XCTAssertEqual(Command.usage(of: spec.name), spec.usage)
        }
    }

    /// The help's command shapes are cut from the forms: a verb's placeholders, the keys named.
    func testShapesAreCutFromTheForms() {
        XCTAssertEqual(VerbSpec.select.shape(), "select STRATEGY X Y [Z]")
        XCTAssertEqual(VerbSpec.set.shape(keys: ["adapter": nil]), "set seq I adapter=NAME")
        XCTAssertEqual(VerbSpec.remove.shape(form: 1), "remove adapter NAME")
        XCTAssertEqual(VerbSpec.layer.shape(positionals: 0), "layer")
        XCTAssertEqual(VerbSpec.kernel.shape(values: ["sgemm_lora_a"], keys: ["stack": "N"]), "kernel sgemm_lora_a stack=N")
        XCTAssertEqual(VerbSpec.adapter.keyNames, ["rank", "scaling", "slot", "from"])
    }

    /// The literal ranges of messages before the table, now printed from their constants.
    func testNameAndDurationRangesComeFromTheirLimits() {
        XCTAssertThrowsError(try Command.parse("sleep 3601s")) { error in
            XCTAssertTrue("\(error)".hasSuffix("sleep 3601s is out of range 0s…3600s"), "\(error)")
        }
        XCTAssertThrowsError(try Command.parse("seq 9a")) { error in
            XCTAssertTrue("\(error)".contains("use 1–64 letters"), "\(error)")
        }
    }

    /// Fuzz/lora.dict, the parser fuzzer's dictionary, holds every verb and every key.
    func testTheFuzzDictionaryHoldsEveryVerbAndKey() throws {
        let dict = try String(contentsOf: GPUResultsTests.root.appendingPathComponent("Fuzz/lora.dict"), encoding: .utf8)
        let entries = dict.split(separator: "\n").map(String.init)
        for name in VerbSpec.names {
            XCTAssertTrue(entries.contains("\"\(name)\""), "Fuzz/lora.dict lacks the verb \(name)")
        }
        for key in Set(VerbSpec.table.flatMap(\.keyNames)) {
            XCTAssertTrue(entries.contains { $0.hasPrefix("\"\(key)=") }, "Fuzz/lora.dict lacks \(key)=")
        }
    }

    // MARK: The docs

    static let docs = GPUResultsTests.root.appendingPathComponent("docs/scenario-language.md")

    /// docs/scenario-language.md's verb table is `VerbSpec.markdownTable`
    /// (`RECORD_SNAPSHOTS=1` writes it there).
    func testTheDocsVerbTableIsTheSpecTable() throws {
        let text = try String(contentsOf: Self.docs, encoding: .utf8)
        let heading = "## Verbs\n\n"
        let start = try XCTUnwrap(text.range(of: heading), "docs/scenario-language.md has no \(heading)").upperBound
        let end = text.range(of: "\n\n", range: start..<text.endIndex)?.lowerBound ?? text.endIndex
        let generated = VerbSpec.markdownTable
        if Golden.recording, String(text[start..<end]) != generated {
            try (text[..<start] + generated + text[end...]).write(to: Self.docs, atomically: true, encoding: .utf8)
            return
        }
        XCTAssertEqual(String(text[start..<end]), generated, "docs/scenario-language.md's verb table differs (RECORD_SNAPSHOTS=1 rewrites it)")
    }
}
