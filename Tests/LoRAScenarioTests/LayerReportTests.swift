import LoRAKernels
@testable import LoRAScenario
import XCTest

/// The layer view: a decoder layer's eight launches with their real shapes,
/// per-strategy figures equal to the single-launch reports, totals, the
/// routing build, the JSON `layer` object and `expect` paths.
final class LayerReportTests: XCTestCase {
    func session(_ lines: String) throws -> Session {
        let s = try Session(replaying: Scenario.parse(lines, file: "t.lora"))
        return s
    }

    /// Gemma-3-4B's text dims by hand: hidden 2560, 8 heads × 256 = q 2048, 4 kv heads × 256 = kv 1024, ffn 10240.
    /// q ≠ hidden, so the `o` shrink (K = q) and the `o` expand (N = hidden) differ from a bare kernel's.
    let gemma = "dims hidden=2560 out=2560 q=2048 kv=1024 ffn=10240 rank=64\nslots 4\nadapter a rank=16\nadapter b rank=32\nseq a count=5\nseq b count=3\n"

    func testTheEightLaunchesHaveTheLayersShapes() throws {
        let report = try LayerReport(session(gemma + "layer\n"), runs: nil)
        let shapes = report.launches.map { "\($0.name) \($0.kernel) \($0.stack.map(String.init) ?? "-") \($0.k)→\($0.n)" }
        XCTAssertEqual(shapes, [
            "qkv shrink sgemm_lora_a 3 2560→192",       // K = hidden, N = 3·R
            "qkv expand qkv_lora_b - 64→4096",          // q + kv + kv
            "o shrink sgemm_lora_a 1 2048→64",          // K = q width
            "o expand sgemm_lora_b - 64→2560",          // N = hidden
            "gate_up shrink sgemm_lora_a 2 2560→128",
            "gate_up expand gate_up_lora_b - 64→20480", // 2 · ffn
            "down shrink sgemm_lora_a 1 10240→64",      // K = ffn
            "down expand sgemm_lora_b - 64→2560",
        ])
        XCTAssertTrue(report.launches.allSatisfy { $0.tokens == 8 })
    }

    func testEveryLaunchsFiguresAreThoseOfTheLaunchOnItsOwn() throws {
        let s = try session(gemma + "strategies per-sequence sorted csgmv\nlayer\n")
        let report = try LayerReport(s, runs: nil)
        for (launch, (module, shrink)) in zip(report.launches, LayerModule.layerLaunches) {
            var alone = s
            try alone.apply(.launch(module, shrink: shrink))
            let single = alone.report()
            for f in launch.figures {
                let e = try XCTUnwrap(single.routings.first { $0.routing == f.strategy })
                XCTAssertEqual(f.launched, e.launched, "\(launch.name) \(f.strategy)")
                XCTAssertEqual(f.working, e.working, "\(launch.name) \(f.strategy)")
                XCTAssertEqual(f.gpuEstimateUs, e.gpuEstimateUs, accuracy: 1e-9, "\(launch.name) \(f.strategy)")
            }
        }
        for (j, total) in report.totals.enumerated() {
            XCTAssertEqual(total.launched, report.launches.reduce(0) { $0 + $1.figures[j].launched })
            XCTAssertEqual(total.gpuEstimateUs, report.launches.reduce(0) { $0 + $1.figures[j].gpuEstimateUs }, accuracy: 1e-9)
        }
        // The routing build is the H200's measured figure, once per pass, only with sorted chosen.
        XCTAssertEqual(try XCTUnwrap(report.routingBuildUs), SortedRoutingBuild.graphUs(tokens: 8), accuracy: 1e-12)
        XCTAssertNil(try LayerReport(session(gemma + "strategies per-sequence csgmv\nlayer\n"), runs: nil).routingBuildUs)
    }

    func testTheRoutingBuildInterpolatesTheMeasurements() {
        XCTAssertEqual(SortedRoutingBuild.graphUs(tokens: 1), 20)
        XCTAssertEqual(SortedRoutingBuild.graphUs(tokens: 64), 27)
        XCTAssertEqual(SortedRoutingBuild.graphUs(tokens: 512), 42)
        XCTAssertEqual(SortedRoutingBuild.graphUs(tokens: 8), 23.5, accuracy: 1e-9) // halfway in log2 from 1 to 64
        XCTAssertEqual(SortedRoutingBuild.graphUs(tokens: 4096), 42, "held at the last measurement")
    }

    func testTheReportCarriesTheLayerOnlyWhileItIsShown() throws {
        var s = try session(gemma)
        XCTAssertNil(s.report().layer)
        XCTAssertFalse(s.report().json.contains("\"layer\""))
        try s.execute("layer")
        let json = s.report().json
        XCTAssertTrue(json.contains("\"layer\":{\"index\":0,\"gpu\":\"h200\",\"launches\":[{\"launch\":\"qkv shrink\",\"module\":\"qkv\""), json)
        XCTAssertTrue(json.contains("\"routing_build\":{\"routing\":\"sorted\""), json)
        let text = s.report().text
        XCTAssertTrue(text.contains("down shrink     sgemm_lora_a     10240 → 64"), text)
        XCTAssertTrue(text.contains("sorted routing build:"), text)
        try s.execute("layer off")
        XCTAssertNil(s.report().layer)
        XCTAssertEqual(s.layerIndex, 0)
    }

    func testExpectReadsTheLayer() throws {
        let s = try session(gemma + "layer\n")
        let r = s.report()
        XCTAssertEqual(r.value(at: "layer.o_shrink.k"), .number(2048))
        XCTAssertEqual(r.value(at: "layer.gate_up_expand.n"), .number(20480))
        XCTAssertEqual(r.value(at: "layer.totals.sorted.launched"), .number(Double(r.layer!.totals[1].launched)))
        XCTAssertEqual(r.value(at: "layer.qkv_expand.per-sequence.working"), .number(Double(r.layer!.launches[1].figures[0].working)))
        XCTAssertNil(r.value(at: "layer.totals.sorted.cpu_ms"), "no run yet")
        XCTAssertNil(r.value(at: "layer.totals.sorted.forward_pass_gpu_estimate_us"), "no model: no layer count")
        XCTAssertEqual(ReportPath.kind(of: "layer.down_expand.csgmv.gpu_estimate_us"), .number)
        XCTAssertNil(ReportPath.kind(of: "layer.up_shrink.k"))
        // Every path of a chosen strategy resolves while the table is shown, but for a run's and a model's.
        let later = ["cpu_ms", "model_gpu_estimate_us", "forward_pass_gpu_estimate_us", "layer.layers"]
        let unchosen = Strategy.allCases.filter { !s.strategies.contains($0) }.map { ".\($0.name)." }
        for (path, _) in LayerReport.paths where !later.contains(where: path.hasSuffix) && !unchosen.contains(where: path.contains) {
            XCTAssertNotNil(r.value(at: path), path)
        }
    }

    func testLaunchAndLayerParsePrintAndRecord() throws {
        for (line, command) in [("launch down shrink", Command.launch(.down, shrink: true)),
                                ("launch gate_up expand", .launch(.gateUp, shrink: false)),
                                ("layer", .layer(.show(index: nil))), ("layer 3", .layer(.show(index: 3))),
                                ("layer off", .layer(.hide))] {
            XCTAssertEqual(try Command.parse(line), command, line)
            XCTAssertEqual(command.description, line)
        }
        XCTAssertThrowsError(try Command.parse("launch up shrink")) {
            XCTAssertEqual("\($0)", "<prompt>:1:8: error: unknown module 'up' (modules: qkv, o, gate_up, down)")
        }
        XCTAssertThrowsError(try Command.parse("launch down")) { XCTAssertTrue("\($0)".contains("missing shrink or expand"), "\($0)") }
        XCTAssertThrowsError(try Command.parse("layer -1")) { XCTAssertTrue("\($0)".contains("out of range 0…4095"), "\($0)") }
        // A recording rebuilds the launch and the layer table.
        let s = try session(gemma + "launch o shrink\nlayer 2\n")
        var rebuilt = Session()
        for c in s.stateCommands { try rebuilt.apply(c) }
        XCTAssertEqual(rebuilt.workload, s.workload)
        XCTAssertEqual(rebuilt.workload.inputWidth, 2048)
        XCTAssertEqual(rebuilt.layerIndex, 2)
        XCTAssertTrue(rebuilt.showsLayer)
        // `kernel` is the bare kernel again: K = hidden.
        var bare = s
        try bare.execute("kernel sgemm_lora_a")
        XCTAssertEqual(bare.workload.inputWidth, 2560)
    }
}
