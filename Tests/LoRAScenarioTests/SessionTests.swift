import LoRAKernels
@testable import LoRAScenario
import XCTest

/// `Session.apply`: what each verb does to the state, and that errors leave it unchanged.
final class SessionTests: XCTestCase {
    func session(_ lines: String) throws -> Session {
        var s = try Session(replaying: Scenario.parse(lines, file: "t.lora"))
        return s
    }

    /// Applies `line` to `session`, expects `message`, and checks nothing changed.
    func assertRefused(_ line: String, on session: Session, _ message: String,
                       file: StaticString = #filePath, line testLine: UInt = #line) {
        var s = session
        XCTAssertThrowsError(try s.execute(line, file: "t.lora", line: 9), file: file, line: testLine) { error in
            XCTAssertEqual("\(error)", message, file: file, line: testLine)
        }
        XCTAssertEqual(s.workload, session.workload, "state changed on error", file: file, line: testLine)
        XCTAssertEqual(s.selection, session.selection, file: file, line: testLine)
        XCTAssertEqual(s.title, session.title, file: file, line: testLine)
    }

    func testStrategiesChooseWhatIsPlannedSelectedAndExpected() throws {
        var s = Session()
        try s.execute("adapter a rank=16")
        try s.execute("seq a count=40")
        assertRefused("select vllm 0 0 0", on: s,
                      "t.lora:9:8: error: vllm is not among the chosen strategies (per-sequence sorted); strategies … vllm adds it")
        let unchosen = Expectation(path: "csgmv.launched", comparison: .greater, expected: .value(.number(0)))
        XCTAssertEqual(unchosen.evaluate(in: s.report()).message,
                       "expect csgmv.launched > 0 failed: csgmv is not among the chosen strategies (per-sequence sorted); `strategies … csgmv` adds it")
        try s.execute("strategies csgmv-graph vllm graph_segments=40")
        XCTAssertEqual(s.plans.map(\.strategy), [.csgmvGraph, .vllm])
        XCTAssertTrue(unchosen.evaluate(in: s.report()).message.contains("csgmv is not among the chosen strategies (csgmv-graph vllm)"))
        XCTAssertNil(s.report().gpuSpeedup)
        try s.execute("select vllm 0 0 1")
        XCTAssertEqual(s.selection?.routing, .vllm)
        // A buffer smaller than the live segments is refused; the state stays.
        assertRefused("seq a count=601", on: s,
                      "t.lora:9:1: error: csgmv-graph's segment buffer holds 40 segments but this batch has 41 (graph_segments=41 or more fits it)")
        // Keys not given keep their values; a strategies change drops a selection it no longer shows.
        try s.execute("strategies sorted")
        XCTAssertEqual(s.strategyOptions.graphSegments, 40)
        XCTAssertNil(s.selection)
        XCTAssertTrue(s.stateSource.contains("strategies sorted graph_segments=40\n"), s.stateSource)
    }

    func testDefaults() {
        let s = Session()
        XCTAssertEqual(s.workload.dims, ModelDims(hidden: 4096, out: 4096, q: 4096, kv: 1024, ffn: 14336, maxRank: 64))
        XCTAssertEqual(s.workload.batch.slotCount, 8)
        XCTAssertEqual(s.workload.dtype, .bf16)
        XCTAssertEqual(s.workload.batch.mode, .decode)
        XCTAssertEqual(s.workload.seed, 42)
        XCTAssertEqual(s.workload.kernel, .sgemmLoRAB)
        XCTAssertTrue(s.workload.batch.sequences.isEmpty)
        XCTAssertFalse(s.runIsStale)
    }

    func testSettingsVerbs() throws {
        let s = try session("""
            slots 16
            dims hidden=2048 kv=512 rank=32
            dtype fp32
            mode extend
            seed 9
            kernel sgemm_lora_a stack=2
            title "T"
            narrate "N"
            """)
        XCTAssertEqual(s.workload.batch.slotCount, 16)
        XCTAssertEqual(s.workload.dims, ModelDims(hidden: 2048, out: 4096, q: 4096, kv: 512, ffn: 14336, maxRank: 32))
        XCTAssertEqual(s.workload.dtype, .fp32)
        XCTAssertEqual(s.workload.batch.mode, .extend)
        XCTAssertEqual(s.workload.seed, 9)
        XCTAssertEqual(s.workload.kernel, .sgemmLoRAA(stack: 2))
        XCTAssertEqual(s.title, "T")
        XCTAssertEqual(s.narration, "N")
        // `narrate ""` closes the narration (the TUI's Esc): none to show, none to record.
        var closed = s
        try closed.apply(XCTUnwrap(Scenario.parse("narrate \"\"", file: "<test>").steps.first))
        XCTAssertNil(closed.narration)
    }

    func testAdaptersTakeTheFirstFreeSlotOrTheOneGiven() throws {
        let s = try session("""
            adapter a rank=16
            adapter b rank=8 scaling=0.5 slot=5
            adapter c rank=0
            """)
        XCTAssertEqual(s.workload.batch.adapters, [
            Adapter(name: "a", rank: 16, scaling: 1, slot: 0),
            Adapter(name: "b", rank: 8, scaling: 0.5, slot: 5),
            Adapter(name: "c", rank: 0, scaling: 1, slot: 1),
        ])
    }

    func testChangingAnAdapterKeepsWhatItDoesNotName() throws {
        let s = try session("""
            adapter a rank=16 scaling=2
            adapter a rank=32
            adapter a slot=4
            """)
        XCTAssertEqual(s.workload.batch.adapters, [Adapter(name: "a", rank: 32, scaling: 2, slot: 4)])
    }

    func testSequencesAppendSetAndRemove() throws {
        var s = try session("""
            adapter a rank=16
            adapter b rank=8
            seq a count=3
            seq b tokens=7
            set seq 0 adapter=b tokens=5
            remove seq 1
            """)
        XCTAssertEqual(s.workload.batch.sequences, [
            BatchSequence(adapter: "b", tokens: 5), BatchSequence(adapter: "a"), BatchSequence(adapter: "b", tokens: 7),
        ])
        // Decode counts one token per sequence whatever tokens= says; extend uses it.
        XCTAssertEqual(s.workload.batch.totalTokens, 3)
        try s.execute("mode extend")
        XCTAssertEqual(s.workload.batch.totalTokens, 13)
    }

    func testRemoveAdapterTakesItsSequencesWithIt() throws {
        let s = try session("""
            adapter a rank=16
            adapter b rank=8
            seq a count=3
            seq b count=2
            remove adapter a
            """)
        XCTAssertEqual(s.workload.batch.adapters.map(\.name), ["b"])
        XCTAssertEqual(s.workload.batch.sequences, Array(repeating: BatchSequence(adapter: "b"), count: 2))
    }

    func testClearKeepsSettings() throws {
        let s = try session("""
            slots 4
            dtype fp16
            kernel qkv_lora_b
            adapter a rank=16
            seq a count=3
            clear
            """)
        XCTAssertTrue(s.workload.batch.adapters.isEmpty)
        XCTAssertTrue(s.workload.batch.sequences.isEmpty)
        XCTAssertEqual(s.workload.batch.slotCount, 4)
        XCTAssertEqual(s.workload.dtype, .fp16)
        XCTAssertEqual(s.workload.kernel, .qkvLoRAB)
    }

    func testScriptVerbsReturnEffects() throws {
        var s = try session("adapter a rank=4\nseq a")
        XCTAssertEqual(try s.execute("run"), .run(reps: 5))
        XCTAssertEqual(try s.execute("run reps=12"), .run(reps: 12))
        XCTAssertEqual(try s.execute("pause"), .pause)
        XCTAssertEqual(try s.execute("sleep 250ms"), .sleep(seconds: 0.25))
        XCTAssertEqual(try s.execute("output a.txt"), .output(path: "a.txt"))
        XCTAssertEqual(try s.execute("record r.lora force=true"), .record(path: "r.lora", force: true))
        XCTAssertEqual(try s.execute("stop"), .stopRecording)
        XCTAssertEqual(try s.execute("slots 9"), .none)
        XCTAssertEqual(try s.execute("# nothing"), .none)
        // One sequence on 9 slots: the sorted grid launches 9 segments, per-sequence 1.
        guard case .expect(let e) = try s.execute("expect sorted.launched > per-sequence.launched") else {
            return XCTFail("expect gives .expect")
        }
        XCTAssertTrue(e.evaluate(in: s.report()).held)
    }

    func testSelectFollowsTheGridAxes() throws {
        var s = try session("adapter a rank=16\nseq a count=20")
        // sgemm_lora_b: 2-D grid (pid, segment); per-sequence has 20 segments.
        try s.execute("select per-sequence 3 19")
        XCTAssertEqual(s.selection, ProgramSelection(routing: .perSequence, position: GridPosition(pid: 3, slice: 0, segment: 19)))
        try s.execute("kernel qkv_lora_b")
        try s.execute("select sorted 1 2 0")
        XCTAssertEqual(s.selection, ProgramSelection(routing: .sorted, position: GridPosition(pid: 1, slice: 2, segment: 0)))
        // A change that moves the selection outside its grid clears it.
        try s.execute("slots 1")
        XCTAssertEqual(s.selection, ProgramSelection(routing: .sorted, position: GridPosition(pid: 1, slice: 2, segment: 0)))
        try s.execute("remove seq 0")
        try s.execute("select per-sequence 0 0 18")
        try s.execute("remove seq 0")
        XCTAssertNil(s.selection)
    }

    // MARK: Errors leave the state unchanged

    func testApplyErrors() throws {
        let s = try session("""
            adapter a rank=16
            adapter big rank=64 slot=7
            seq a count=4
            """)
        assertRefused("seq b", on: s, "t.lora:9:5: error: unknown adapter 'b'; did you mean 'a'? (adapters: a, big)")
        assertRefused("seq bgi count=2", on: s, "t.lora:9:5: error: unknown adapter 'bgi'; did you mean 'big'? (adapters: a, big)")
        assertRefused("set seq 1 adapter=zz", on: s, "t.lora:9:19: error: unknown adapter 'zz' (adapters: a, big)")
        assertRefused("remove adapter zz", on: s, "t.lora:9:16: error: unknown adapter 'zz' (adapters: a, big)")
        assertRefused("adapter b rank=8 slot=7", on: s, "t.lora:9:23: error: slot 7 already holds adapter 'big'")
        assertRefused("adapter b rank=8 slot=8", on: s, "t.lora:9:23: error: slot=8 does not exist: slots is 8, so slots are 0…7")
        assertRefused("adapter b rank=128", on: s, "t.lora:9:16: error: rank=128 is over the model's max rank R=64; raise it first with dims rank=128")
        assertRefused("adapter b scaling=2", on: s, "t.lora:9:9: error: adapter 'b' is new: it needs rank=N (0…64)")
        assertRefused("slots 4", on: s, "t.lora:9:7: error: adapter 'big' sits in slot 7; slots 4 keeps only slots 0…3 (move it with adapter big slot=N or remove it first)")
        assertRefused("dims rank=32", on: s, "t.lora:9:11: error: adapter 'big' has rank 64, over rank=32; lower its rank first")
        assertRefused("remove seq 4", on: s, "t.lora:9:12: error: sequence 4 does not exist: the batch holds 4 (0-based: 0…3)")
        assertRefused("set seq 10 tokens=3", on: s, "t.lora:9:9: error: sequence 10 does not exist: the batch holds 4 (0-based: 0…3)")
        assertRefused("seq a count=4093", on: s, "t.lora:9:13: error: the batch would hold 4097 sequences; the limit is 4096")
        assertRefused("select sorted 0 0 0", on: s, "t.lora:9:19: error: sorted's sgemm_lora_b grid has 2 axes (pid, segment): select sorted X Y")
        var qkv = s
        try qkv.execute("kernel qkv_lora_b")
        assertRefused("select sorted 0 1   # no Z", on: qkv, "t.lora:9:18: error: sorted's qkv_lora_b grid has 3 axes (pid, slice, segment): select sorted X Y Z")
        assertRefused("select sorted 0 8", on: s, "t.lora:9:17: error: Y=8 is outside the sorted grid's segment axis (0…7)")
        assertRefused("select per-sequence 16 0", on: s, "t.lora:9:21: error: X=16 is outside the per-sequence grid's pid axis (0…15)")
        let empty = Session()
        assertRefused("run", on: empty, "t.lora:9:1: error: the batch is empty: add sequences with seq NAME before run")
        assertRefused("seq a", on: empty, "t.lora:9:5: error: unknown adapter 'a': no adapter is defined yet (adapter NAME rank=N)")
        assertRefused("remove seq 0", on: empty, "t.lora:9:12: error: sequence 0 does not exist: the batch is empty")
    }

    func testMemoryCapIsStated() throws {
        let s = try session("adapter a rank=64\nseq a count=4000")
        var over = s.workload
        over.dims.out = 65536
        XCTAssertGreaterThan(over.tensorBytes, Workload.memoryCap)
        assertRefused("dims out=65536", on: s,
                      "t.lora:9:1: error: the workload's tensors would take \(Session.formatBytes(over.tensorBytes)); the memory cap is 2 GiB")
        XCTAssertEqual(Session.formatBytes(over.tensorBytes), "3.4 GiB")
    }

    /// The cap counts what a run allocates: rank-1 shrink panels padded to 16 columns (16× the
    /// weights the old count saw), x's row padding, one output per strategy (issue 14 item 10).
    func testMemoryCapCountsPaddedPanelsNearTheCap() throws {
        let adapters = (0..<261).map { "adapter a\($0) rank=1" }.joined(separator: "\n")
        let s = try session("dtype fp32\ndims hidden=65536 rank=1\nkernel sgemm_lora_a\nslots 512\n\(adapters)\nseq a0 count=4000")
        XCTAssertLessThan(s.workload.tensorBytes, Workload.memoryCap)
        var next = try session("dtype fp32\ndims hidden=65536 rank=1\nkernel sgemm_lora_a\nslots 512\n\(adapters)\nseq a0 count=4000")
        next.workload.batch.adapters.append(Adapter(name: "a261", rank: 1, slot: 261))
        XCTAssertEqual(next.workload.outputWidth, 1)
        // x: 4000 rows of 65536 + 16 padding; 262 slots of one column padded to 16 × K; base,
        // two outputs; the fp64 reference.
        let real = 4000 * (65536 + 16) * 4 + 262 * 16 * 65536 * 4 + 3 * 4000 * 4 + 4000 * 8
        XCTAssertEqual(next.workload.tensorBytes, real)
        // What the old count (no padding, every slot at R) saw: well under the cap.
        let old = (4000 * 65536 + 512 * 1 * 65536 + 3 * 4000) * 4 + 4000 * 8
        XCTAssertLessThan(old, Workload.memoryCap / 2 + Workload.memoryCap / 4)
        assertRefused("adapter a261 rank=1", on: s,
                      "t.lora:9:1: error: the workload's tensors would take \(Session.formatBytes(real)); the memory cap is 2 GiB")
        // A third strategy's output is counted too.
        var three = try session("dims hidden=4096 out=65536\nadapter a rank=64\nseq a count=2200")
        XCTAssertLessThan(three.workload.tensorBytes(strategies: 2), Workload.memoryCap)
        XCTAssertGreaterThan(three.workload.tensorBytes(strategies: 3), Workload.memoryCap)
        XCTAssertThrowsError(try three.execute("strategies per-sequence sorted csgmv", file: "t.lora", line: 9)) {
            XCTAssertTrue("\($0)".contains("the memory cap is 2 GiB"), "\($0)")
        }
    }

    /// The layer table runs eight launches at their own shapes: each must fit the cap too.
    func testEveryLayerLaunchFitsTheMemoryCap() throws {
        let s = try session("dims hidden=4096 q=4096 kv=1024 ffn=65536 out=4096 rank=64\nadapter a rank=64\nseq a count=4000")
        XCTAssertLessThan(s.workload.tensorBytes, Workload.memoryCap)
        var t = s
        XCTAssertThrowsError(try t.execute("layer", file: "t.lora", line: 9)) {
            XCTAssertTrue("\($0)".hasPrefix("t.lora:9:1: error: the layer's "), "\($0)")
            XCTAssertTrue("\($0)".hasSuffix("; the memory cap is 2 GiB"), "\($0)")
        }
        XCTAssertFalse(t.showsLayer)
    }

    func testFullSlotsAndTokenLimit() throws {
        var s = try session("slots 2\nadapter a rank=4\nadapter b rank=4")
        XCTAssertThrowsError(try s.execute("adapter c rank=4", file: "t.lora", line: 4)) {
            XCTAssertEqual("\($0)", "t.lora:4:9: error: all 2 slots are taken; raise slots or remove an adapter")
        }
        s = try session("mode extend\ndims hidden=64 out=64 q=64 kv=64 ffn=64 rank=8\nadapter a rank=4\nseq a tokens=65536 count=4")
        XCTAssertThrowsError(try s.execute("seq a tokens=1", file: "t.lora", line: 5)) {
            XCTAssertEqual("\($0)", "t.lora:5:1: error: the batch would hold 262145 tokens; the limit is 262144")
        }
    }

    func testApplyWithoutTokensPointsAtTheGivenLocation() {
        var s = Session()
        XCTAssertThrowsError(try s.apply(.seq(adapter: "x", tokens: nil, count: nil),
                                         at: SourceLocation(file: "<key>", line: 1, column: 1))) {
            XCTAssertEqual("\($0)", "<key>:1:1: error: unknown adapter 'x': no adapter is defined yet (adapter NAME rank=N)")
        }
    }

    // MARK: Staleness and state commands

    /// Staleness is derived from the run and the state: a change makes the
    /// run stale, changing it back makes it fresh again, and other strategies
    /// than those it ran make it stale too.
    func testStalenessFollowsTheStateBothWays() throws {
        var s = try session("slots 2\ndims hidden=64 out=64 q=64 kv=16 ffn=64 rank=16\nadapter a rank=4\nseq a")
        s.apply(run: try KernelRunner.run(s.workload, options: s.runOptions(reps: 1, threads: 1)))
        XCTAssertFalse(s.runIsStale)
        XCTAssertNotNil(s.freshRun)
        try s.execute("seq a")
        XCTAssertTrue(s.runIsStale, "the batch changed")
        try s.execute("remove seq 1")
        XCTAssertFalse(s.runIsStale, "back to the batch the run measured")
        try s.execute("strategies sorted tight")
        XCTAssertTrue(s.runIsStale, "the run timed other strategies")
        XCTAssertNil(s.freshRun)
    }

    func testWorkloadChangesMakeARunStale() throws {
        var s = try session("adapter a rank=4\nseq a")
        XCTAssertFalse(s.runIsStale, "no run yet: nothing to be stale")
        try s.execute("title \"x\"")
        try s.execute("select sorted 0 0")
        XCTAssertFalse(s.runIsStale)
    }

    func testStateCommandsRebuildTheSession() throws {
        let s = try session(Scenario.defaultSource + """
            dims rank=96 kv=512
            dtype fp16
            seed 1234
            kernel qkv_lora_b
            adapter chat slot=6 scaling=0.125
            set seq 2 tokens=40
            mode extend
            select sorted 2 1 6
            narrate "a \\"quoted\\" line\\nand another"
            """)
        var rebuilt = Session()
        for c in s.stateCommands { try rebuilt.apply(c) }
        XCTAssertEqual(rebuilt.workload, s.workload)
        XCTAssertEqual(rebuilt.selection, s.selection)
        XCTAssertEqual(rebuilt.title, s.title)
        XCTAssertEqual(rebuilt.narration, s.narration)
        let reparsed = try session(s.stateSource)
        XCTAssertEqual(reparsed.workload, s.workload)
    }

    func testDefaultSourceParsesAndApplies() throws {
        let scenario = try Scenario.parse(Scenario.defaultSource, file: "default")
        XCTAssertEqual(scenario.title, "Decode: 26 sequences on 3 adapters + the base model")
        let s = try session(Scenario.defaultSource)
        let batch = s.workload.batch
        XCTAssertEqual(batch.sequences.count, 26)
        XCTAssertEqual(batch.mode, .decode)
        XCTAssertEqual(batch.slotCount, 8)
        XCTAssertEqual(batch.adapters.map(\.rank).sorted(), [0, 16, 32, 64])
        XCTAssertEqual(batch.sequences.filter { $0.adapter == "base" }.count, 2)
        // Interleaved: no adapter holds a run of more than two sequences.
        var longest = 1, run = 1
        for (a, b) in zip(batch.sequences, batch.sequences.dropFirst()) {
            run = a.adapter == b.adapter ? run + 1 : 1
            longest = max(longest, run)
        }
        XCTAssertLessThanOrEqual(longest, 2)
    }
}
