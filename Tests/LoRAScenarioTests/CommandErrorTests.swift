@testable import LoRAScenario
import XCTest

/// One test per kind of parse error: the exact message and where it points.
final class CommandErrorTests: XCTestCase {
    /// Asserts that `line` fails to parse with `expected` (`file:line:col: error: …`).
    func assertError(_ line: String, _ expected: String, file: StaticString = #filePath, line testLine: UInt = #line) {
        XCTAssertThrowsError(try Command.parse(line, file: "t.lora", line: 3), file: file, line: testLine) { error in
            XCTAssertEqual("\(error)", expected, file: file, line: testLine)
        }
    }

    func testUnknownVerbSuggestsTheNearest() {
        assertError("sedd 4", "t.lora:3:1: error: unknown verb 'sedd'; did you mean 'seed'?")
        assertError("  adaptor a rank=4", "t.lora:3:3: error: unknown verb 'adaptor'; did you mean 'adapter'?")
        assertError("frobnicate",
                    "t.lora:3:1: error: unknown verb 'frobnicate' (verbs: slots, dims, dtype, mode, seed, gpu, gpu-results, model, adapter, seq, set, remove, clear, kernel, launch, layer, strategies, run, title, narrate, pause, sleep, select, expect, output, record, stop)")
    }

    func testLineMustStartWithAVerb() {
        assertError("\"slots\" 4", "t.lora:3:1: error: expected a verb at the start of the line, found a string")
        assertError("rank=4", "t.lora:3:1: error: expected a verb at the start of the line, found 'rank=4'")
    }

    func testUnknownKeyForTheVerb() {
        assertError("adapter a rnak=4", "t.lora:3:11: error: unknown key 'rnak' for adapter; did you mean 'rank'? (keys: rank, scaling, slot)")
        assertError("slots 4 force=true", "t.lora:3:9: error: slots takes no key=value arguments, found 'force='; usage: slots N")
    }

    func testMissingValue() {
        assertError("adapter a rank=", "t.lora:3:11: error: missing value for 'rank='")
        assertError("adapter a rank= scaling=2", "t.lora:3:11: error: missing value for 'rank='")
        assertError("slots", "t.lora:3:6: error: missing N; usage: slots N")
        assertError("slots   # how many?", "t.lora:3:6: error: missing N; usage: slots N")
        assertError("adapter", "t.lora:3:8: error: missing NAME; usage: adapter NAME rank=N [scaling=F] [slot=N] | adapter NAME from=PATH [slot=N]")
    }

    func testValueOutOfRangeNamesTheRange() {
        assertError("slots 513", "t.lora:3:7: error: slots 513 is out of range 1…512")
        assertError("slots 0", "t.lora:3:7: error: slots 0 is out of range 1…512")
        assertError("run reps=5000", "t.lora:3:10: error: reps=5000 is out of range 1…1000")
        assertError("adapter a rank=2000", "t.lora:3:16: error: rank=2000 is out of range 0…1024")
        assertError("adapter a rank=4 scaling=5000", "t.lora:3:26: error: scaling=5000 is out of range -1024…1024")
        assertError("kernel sgemm_lora_a stack=4", "t.lora:3:27: error: stack=4 is out of range 1…3")
        assertError("sleep 2h", "t.lora:3:7: error: bad duration '2h': expected a number with a unit, like 1.5s or 200ms")
        assertError("sleep 4000s", "t.lora:3:7: error: sleep 4000s is out of range 0s…3600s")
        assertError("seq a count=5000", "t.lora:3:13: error: count=5000 is out of range 1…4096")
    }

    func testBadNumber() {
        assertError("slots eight", "t.lora:3:7: error: bad number 'eight' for N: expected a whole number".replacingOccurrences(of: "for N", with: "for slots"))
        assertError("adapter a rank=1.5", "t.lora:3:16: error: bad number '1.5' for rank=: expected a whole number")
        assertError("adapter a rank=4 scaling=nan", "t.lora:3:26: error: bad number 'nan' for scaling=: expected a number like 0.5 or 2")
        assertError("seed -1", "t.lora:3:6: error: bad number '-1' for seed: expected a whole number 0…18446744073709551615")
        assertError("slots 99999999999999999999999", "t.lora:3:7: error: slots 99999999999999999999999 is out of range 1…512")
        assertError("dims hidden=4k", "t.lora:3:13: error: bad number '4k' for hidden=: expected a whole number")
    }

    func testUnterminatedString() {
        assertError("title \"Decode basics", "t.lora:3:7: error: unterminated string: no closing '\"' on this line")
        assertError("narrate \"ends in a backslash\\", "t.lora:3:9: error: unterminated string: no closing '\"' on this line")
        assertError("narrate \"tab \\t\"", "t.lora:3:14: error: unknown escape '\\t' in a string; use \\\", \\\\ or \\n")
    }

    func testStrayQuotes() {
        assertError("title \"a\"b", "t.lora:3:10: error: expected a space after the closing '\"'")
        assertError("output ab\"c\"", "t.lora:3:10: error: unexpected '\"' inside 'ab'; quote the whole value")
    }

    func testBinaryJunkAndControlCharacters() {
        assertError("slots\u{0}4", "t.lora:3:6: error: binary data (a NUL byte); a scenario is a text file")
        assertError("slots 4\u{1B}[0m", "t.lora:3:8: error: control character U+001B is not allowed; a scenario is plain text")
    }

    func testLineTooLong() {
        let line = "narrate \"" + String(repeating: "x", count: 5000) + "\""
        assertError(line, "t.lora:3:4097: error: line is 5010 characters long; the limit is 4096")
    }

    func testDuplicateKey() {
        assertError("adapter a rank=4 rank=8", "t.lora:3:18: error: 'rank=' is given twice (first at column 11)")
    }

    func testExtraArgument() {
        assertError("clear all", "t.lora:3:7: error: unexpected argument 'all'; usage: clear")
        assertError("adapter a 4", "t.lora:3:11: error: unexpected argument '4'; usage: adapter NAME rank=N [scaling=F] [slot=N] | adapter NAME from=PATH [slot=N]")
    }

    func testEnumeratedValues() {
        assertError("dtype bf8", "t.lora:3:7: error: unknown dtype 'bf8'; expected bf16, fp16 or fp32")
        assertError("mode prefill", "t.lora:3:6: error: unknown mode 'prefill'; expected decode or extend")
        assertError("kernel sgemm_lora_c", "t.lora:3:8: error: unknown kernel 'sgemm_lora_c'; did you mean 'sgemm_lora_a'? (kernels: sgemm_lora_a, sgemm_lora_b, qkv_lora_b, gate_up_lora_b)")
        assertError("kernel qkv_lora_b stack=3", "t.lora:3:19: error: stack= applies only to sgemm_lora_a (the shrink), not qkv_lora_b")
        assertError("select diagonal 1 2", "t.lora:3:8: error: unknown strategy 'diagonal' (strategies: per-sequence, sorted, tight, csgmv, csgmv-graph, vllm)")
        assertError("select tigth 1 2", "t.lora:3:8: error: unknown strategy 'tigth'; did you mean 'tight'? (strategies: per-sequence, sorted, tight, csgmv, csgmv-graph, vllm)")
        assertError("strategies sorted sorted", "t.lora:3:19: error: 'sorted' is named twice")
        assertError("strategies csgmv chunk=48", "t.lora:3:24: error: chunk=48 is not a csgmv chunk size (16, 32, 64, 128)")
        assertError("strategies", "t.lora:3:11: error: missing a strategy name; usage: strategies per-sequence|sorted|tight|csgmv|csgmv-graph|vllm… [chunk=16|32|64|128] [graph_segments=N] [specialize=true|false]")
        assertError("record a.lora force=yes", "t.lora:3:21: error: bad value 'yes' for force=: expected true or false")
        assertError("remove sequence 1", "t.lora:3:8: error: 'remove' takes 'seq I' or 'adapter NAME', found 'sequence'")
        assertError("set adapter 1", "t.lora:3:5: error: 'set' changes a sequence: expected 'seq', found 'adapter'; usage: set seq I [adapter=NAME] [tokens=N]")
        assertError("set seq 1", "t.lora:3:10: error: set seq needs adapter= or tokens=; usage: set seq I [adapter=NAME] [tokens=N]")
        assertError("dims", "t.lora:3:5: error: dims needs at least one of hidden=, out=, q=, kv=, ffn=, rank=; usage: dims [hidden=N] [out=N] [q=N] [kv=N] [ffn=N] [rank=N]")
    }

    func testBadAdapterName() {
        assertError("adapter 7b rank=4", "t.lora:3:9: error: bad adapter name '7b': use 1–64 letters, digits, '_', '-' or '.', starting with a letter or '_'")
        assertError("seq \"my adapter\"", "t.lora:3:5: error: bad adapter name 'my adapter': use 1–64 letters, digits, '_', '-' or '.', starting with a letter or '_'")
    }

    func testExpectErrors() {
        assertError("expect sorted.fate.excess_exit == 56",
                    "t.lora:3:8: error: unknown report path 'sorted.fate.excess_exit'; did you mean 'sorted.fates.excess_exit'? (roots: kernel, dtype, mode, what_if, batch, per-sequence, sorted, tight, csgmv, csgmv-graph, vllm, gpu, gpu_calibrated, gpu_speedup, gpu_direction_confidence, max_abs_diff_between_routings, bitwise_equal, speedup, threads, layer)")
        assertError("expect speedup => 1", "t.lora:3:16: error: unknown operator '=>'; expected ==, !=, <, <=, > or >=")
        assertError("expect bitwise_equal < true", "t.lora:3:22: error: < compares numbers; bitwise_equal is a boolean (true or false): use == or !=")
        assertError("expect bitwise_equal == 1", "t.lora:3:25: error: bitwise_equal holds a boolean (true or false), but 1 is a number")
        assertError("expect sorted.launched < per-sequence.lunched",
                    "t.lora:3:26: error: unknown report path 'per-sequence.lunched'; did you mean 'per-sequence.launched'? (roots: kernel, dtype, mode, what_if, batch, per-sequence, sorted, tight, csgmv, csgmv-graph, vllm, gpu, gpu_calibrated, gpu_speedup, gpu_direction_confidence, max_abs_diff_between_routings, bitwise_equal, speedup, threads, layer)")
        assertError("expect speedup", "t.lora:3:15: error: missing an operator (==, !=, <, <=, >, >=); usage: expect PATH ==|!=|<|<=|>|>= VALUE")
        assertError("expect speedup > 1 2", "t.lora:3:20: error: unexpected argument '2'; usage: expect PATH ==|!=|<|<=|>|>= VALUE")
        assertError("expect speedup>1", "t.lora:3:8: error: write spaces around the operator: expect PATH OP VALUE")
        assertError("expect speedup==1", "t.lora:3:15: error: write spaces around '==': expect PATH == VALUE")
        assertError("expect sorted.grid < [1, 2]", "t.lora:3:20: error: < compares numbers; sorted.grid is a list of numbers: use == or !=")
        assertError("expect sorted.grid == [1, x]", "t.lora:3:23: error: bad list '[1, x]': expected numbers like [16, 26, 1]")
        assertError("expect speedup >=fast", "t.lora:3:18: error: bad value 'fast': expected a number, true, false, a \"string\" or a report path")
    }

    /// Issue 14 items 14 and 15: invisible scalars shown as U+XXXX, C1 and bidi controls
    /// refused wherever they are, CR-only endings named, underflow refused, `+8` for seed too.
    func testInvisibleAndControlScalarsAreNamed() throws {
        assertError("slots\u{200B} 4", "t.lora:3:1: error: unknown verb 'slots<U+200B>': it contains the invisible character U+200B, which is not a space; did you mean 'slots'?")
        assertError("\u{FEFF}slots 4", "t.lora:3:1: error: unknown verb '<U+FEFF>slots': it contains the invisible character U+FEFF, which is not a space; did you mean 'slots'?")
        assertError("seed\u{00A0}4", "t.lora:3:1: error: unknown verb 'seed<U+00A0>4': it contains the invisible character U+00A0, which is not a space; did you mean 'seed'?")
        for c: UInt32 in [0x80, 0x85, 0x9B, 0x9F] {
            let s = String(Unicode.Scalar(c)!)
            assertError("title \"a\(s)\"", "t.lora:3:9: error: control character \(Lexer.hex(Unicode.Scalar(c)!)) is not allowed; a scenario is plain text")
        }
        for c: UInt32 in [0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069] {
            let s = String(Unicode.Scalar(c)!)
            assertError("narrate \"a\(s)\"", "t.lora:3:11: error: bidirectional control \(Lexer.hex(Unicode.Scalar(c)!)) is not allowed: it reorders how the text is displayed")
        }
        assertError("slots 4\rseed 1", "t.lora:3:8: error: a carriage return (U+000D) inside a line: CR-only line endings: convert to LF")
        assertError("adapter a rank=4 scaling=1e-400", "t.lora:3:26: error: scaling=1e-400 is too small for a float32: it would be 0; write 0 if 0 is meant")
        XCTAssertEqual(try Command.parse("adapter a rank=4 scaling=0e-400", file: "t.lora", line: 3), try Command.parse("adapter a rank=4 scaling=0", file: "t.lora", line: 3))
        assertError("sleep 1e-999s", "t.lora:3:7: error: bad duration '1e-999s': expected a number with a unit, like 1.5s or 200ms")
        XCTAssertEqual(try Command.parse("seed +8", file: "t.lora", line: 3), .seed(8))
        XCTAssertEqual(try Command.parse("slots +8", file: "t.lora", line: 3), .slots(8))
        XCTAssertEqual(Printer.visible("a\u{200B}b\u{2028}c\td\ne"), "a<U+200B>b<U+2028>c\td\ne")
    }
}
