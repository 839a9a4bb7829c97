import Foundation
import LoRAKernels
@testable import LoRAScenario
import LoRAVizTestSupport
import XCTest

/// `lora-viz sweep`: the template's points, their reports and the CSV/JSON written from them.
final class SweepTests: TemporaryDirectoryTestCase {
    let source = """
        slots 4
        dims hidden=256 out=512 q=256 kv=64 ffn=256 rank=16
        adapter sql rank=16 scaling=2
        adapter chat rank=8
        seq sql count=3
        seq chat count=2
        strategies per-sequence sorted csgmv
        run reps=2
        expect bitwise_equal == true
        """

    func template(_ text: String? = nil) throws -> Session {
        try Sweep.template(Scenario.parse(text ?? source, file: "t.lora"))
    }

    /// The same point built by hand with the language's commands.
    func handBuilt(bs: Int, adapters: Int, rank: Int, extraSlots: Int = 4, tokens: Int? = nil, extend: Bool = false) throws -> Session {
        var s = Session()
        _ = try s.execute("slots \(max(extraSlots, adapters))")
        _ = try s.execute("dims hidden=256 out=512 q=256 kv=64 ffn=256 rank=16")
        _ = try s.execute("strategies per-sequence sorted csgmv")
        if extend { _ = try s.execute("mode extend") }
        for a in 0..<adapters { _ = try s.execute("adapter a\(a) rank=\(rank) scaling=2") }
        for i in 0..<bs { _ = try s.execute("seq a\(i % adapters)" + (tokens.map { " tokens=\($0)" } ?? "")) }
        return s
    }

    /// `--layer`: every point's report carries its layer, equal to the hand-built
    /// batch's; the chart's samples are the layer totals' speedup.
    func testLayerPointsCarryTheLayerAndTheChartDrawsItsSpeedup() throws {
        var sweep = try Sweep(template: template(), bs: [1, 8, 32], adapters: [1, 2])
        sweep.layer = true
        var rows: [(Sweep.Point, RunReport)] = []
        for p in sweep.points {
            let r = sweep.report(p)
            var hand = try handBuilt(bs: p.bs, adapters: p.adapters, rank: p.rank)
            try hand.execute("layer")
            XCTAssertEqual(r.layer, hand.report().layer, "\(p)")
            rows.append((p, r))
        }
        let chart = SweepChart(rows: rows, measure: .layer)
        XCTAssertEqual(chart.series.map(\.adapters), [1, 2])
        XCTAssertTrue(chart.series.allSatisfy { $0.source == .gpuEstimate }, "GPU estimates only")
        let (p, r) = rows[2]
        let ps = r.layer!.totals[0].gpuEstimateUs, so = r.layer!.totals[1].gpuEstimateUs
        XCTAssertEqual(chart.series[0].samples.first { $0.bs == p.bs }!.speedup, ps / so, accuracy: 1e-12, "one layer: no model, no routing build")
        XCTAssertTrue(chart.title.hasPrefix("Layer speedup (per-seq ÷ sorted, one layer)"), chart.title)
        let text = Sweep.textTables(rows, layerChart: true)
        XCTAssertTrue(text.contains("per-sequence layer µs  sorted layer µs  csgmv layer µs  layer speedup"), text)
        XCTAssertTrue(Sweep.jsonLine(p, r).contains("\"layer\":{\"index\":0"), "JSON lines carry the layer")
    }

    func testTemplateSkipsRunsAndKeepsTheFilesSettings() throws {
        let t = try template()
        XCTAssertNil(t.lastRun)
        XCTAssertEqual(t.strategies, [.perSequence, .sorted, .csgmv])
        let sweep = try Sweep(template: t, bs: [1, 8], adapters: [1, 2])
        XCTAssertEqual(sweep.ranks, [16])
        XCTAssertEqual(sweep.points.map { "\($0.bs)/\($0.adapters)" }, ["1/1", "8/1", "1/2", "8/2"])
    }

    func testEveryPointsReportEqualsTheSingleRunReportOfTheSameBatch() throws {
        let sweep = try Sweep(template: try template(), bs: [1, 5, 16], adapters: [1, 3, 6], ranks: [16, 4])
        for p in sweep.points {
            let hand = try handBuilt(bs: p.bs, adapters: p.adapters, rank: p.rank)
            XCTAssertEqual(sweep.workload(p), hand.workload, "\(p)")
            XCTAssertEqual(sweep.report(p), hand.report(), "\(p)")
        }
    }

    func testExtendKeepsTheTemplatesTokenCount() throws {
        let t = try template("""
            dims hidden=256 out=512 q=256 kv=64 ffn=256 rank=16
            mode extend
            adapter x rank=16 scaling=2
            seq x tokens=7
            """)
        let sweep = try Sweep(template: t, bs: [3], adapters: [10])
        let p = sweep.points[0]
        XCTAssertEqual(sweep.workload(p).batch.slotCount, 10, "slots raised to the adapter count")
        XCTAssertEqual(sweep.workload(p).batch.totalTokens, 21)
        var hand = try handBuilt(bs: 3, adapters: 10, rank: 16, extraSlots: 8, tokens: 7, extend: true)
        _ = try hand.execute("strategies per-sequence sorted")
        XCTAssertEqual(sweep.report(p), hand.report())
    }

    func testARunPointMatchesTheRunReport() throws {
        let sweep = try Sweep(template: try template(), bs: [6], adapters: [2])
        let p = sweep.points[0]
        let s = sweep.session(p)
        let run = try KernelRunner.run(s.workload, options: s.runOptions(reps: 1, threads: 1))
        let report = sweep.report(p, run: run)
        var hand = try handBuilt(bs: 6, adapters: 2, rank: 16)
        hand.apply(run: run)
        XCTAssertEqual(report, hand.report())
        XCTAssertTrue(report.hasTimings)
        let rows = Sweep.csvRows(p, report)
        let header = Sweep.csvHeader.split(separator: ",").map(String.init)
        let median = header.firstIndex(of: "time_ms.median")!
        XCTAssertFalse(rows[0].split(separator: ",", omittingEmptySubsequences: false)[median].isEmpty)
    }

    func testCSVShape() throws {
        let sweep = try Sweep(template: try template(), bs: [1, 8], adapters: [1, 4])
        let header = Sweep.csvHeader.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(Array(header.prefix(3)), ["bs", "adapters", "rank"])
        XCTAssertEqual(header.filter { $0.hasPrefix("fates.") }.count, ProgramFate.allCases.count)
        XCTAssertTrue(header.contains("gpu_estimate_us") && header.contains("gpu_calibrated") && header.contains("launched"))
        XCTAssertEqual(Array(header.dropFirst(Sweep.pointColumns.count)), RunReport.entryFields.map(\.path))
        var lines: [String] = []
        for p in sweep.points { lines += Sweep.csvRows(p, sweep.report(p)) }
        XCTAssertEqual(lines.count, 4 * 3)
        for line in lines {
            // gpu_summary may hold a quoted comma; count fields outside quotes.
            var fields = 1, quoted = false
            for c in line { if c == "\"" { quoted.toggle() } else if c == ",", !quoted { fields += 1 } }
            XCTAssertEqual(fields, header.count, line)
        }
        let p = sweep.points[3], r = sweep.report(p)
        let cells = lines[9].split(separator: ",", omittingEmptySubsequences: false)
        XCTAssertEqual(cells[0], "8")
        XCTAssertEqual(cells[1], "4")
        XCTAssertEqual(String(cells[header.firstIndex(of: "routing")!]), "per-sequence")
        XCTAssertEqual(String(cells[header.firstIndex(of: "launched")!]), "\(r.routings[0].launched)")
    }

    func testJSONIsOneObjectPerPoint() throws {
        let sweep = try Sweep(template: try template(), bs: [2, 8], adapters: [2])
        for p in sweep.points {
            let line = Sweep.jsonLine(p, sweep.report(p))
            XCTAssertFalse(line.contains("\n"))
            let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            XCTAssertEqual(object["bs"] as? Int, p.bs)
            XCTAssertEqual(object["adapters"] as? Int, 2)
            XCTAssertEqual(object["rank"] as? Int, 16)
            XCTAssertEqual((object["routings"] as? [Any])?.count, 3)
            XCTAssertNotNil(object["gpu_speedup"])
        }
    }

    func testErrorsNameTheFlag() throws {
        func message(_ body: () throws -> Void) -> String {
            do { try body(); return "" } catch { return "\(error)" }
        }
        XCTAssertEqual(message { _ = try Sweep.parseList("1,x", flag: "--bs") },
                       "error: --bs: 'x' is not a positive integer (expected e.g. 1,8,32)")
        XCTAssertEqual(message { _ = try Sweep.parseList("4,4", flag: "--adapters") }, "error: --adapters: 4 is listed twice")
        XCTAssertEqual(message { _ = try Sweep.parseList("", flag: "--ranks", allowZero: true) },
                       "error: --ranks: expected a comma-separated list of integers, got an empty value")
        XCTAssertEqual(try Sweep.parseList("0, 4", flag: "--ranks", allowZero: true), [0, 4])
        let t = try template()
        XCTAssertEqual(message { _ = try Sweep(template: t, bs: [5000], adapters: [1]) }, "error: --bs: 5000 is outside 1…4096")
        XCTAssertEqual(message { _ = try Sweep(template: t, bs: [1], adapters: [513]) },
                       "error: --adapters: 513 is outside 1…512 (one slot each)")
        XCTAssertEqual(message { _ = try Sweep(template: t, bs: [1], adapters: [1], ranks: [32]) },
                       "error: --ranks: 32 is outside 0…16 (the file's dims rank=)")
        XCTAssertThrowsError(try Sweep.template(Scenario.parse("adapter a rank=99\n", file: "bad.lora"))) {
            XCTAssertTrue("\($0)".hasPrefix("bad.lora:1:"), "\($0)")
        }
    }

    func testTextHasATablePerStrategyAndTheChart() throws {
        let sweep = try Sweep(template: try template(), bs: [1, 8, 32], adapters: [1, 4])
        let text = Sweep.textTables(sweep.points.map { ($0, sweep.report($0)) })
        for name in ["per-sequence\n", "sorted\n", "csgmv"] { XCTAssertTrue(text.contains(name), name) }
        XCTAssertTrue(text.contains("h200 est. µs"))
        XCTAssertTrue(text.contains("Sorting speedup (per-sequence / sorted) against bs, rank 16\n"), "ASCII by default")
        XCTAssertTrue(text.contains("H200 est. = estimates from the GPU profile, not measured\n"))
        XCTAssertTrue(text.contains("o 1 adapter (GPU est.)   x 4 adapters (GPU est.)\n"))
        // The chart is `SweepChart`'s lines without their trailing blanks.
        let chart = SweepChart(rows: sweep.points.map { ($0, sweep.report($0)) }).lines(width: 80, height: 24, style: .ascii)
        XCTAssertTrue(text.hasSuffix(chart.map { String($0.reversed().drop { $0 == " " }.reversed()) + "\n" }.joined()))
        let braille = Sweep.textTables(sweep.points.map { ($0, sweep.report($0)) }, chartStyle: .braille, chartWidth: 60, chartHeight: 16)
        XCTAssertEqual(braille.split(separator: "\n").suffix(16).count, 16)
        XCTAssertTrue(braille.unicodeScalars.contains { (0x2800...0x28FF).contains($0.value) })
    }

    func testThroughTheBinary() throws {
        try source.write(to: directory.appendingPathComponent("t.lora"), atomically: true, encoding: .utf8)
        let csv = try LoRAVizBinary.run(["sweep", "t.lora", "--bs", "1,8", "--adapters", "1,2", "--format", "csv", "-o", "out.csv"], in: directory)
        XCTAssertEqual(csv.status, 0, csv.err)
        let lines = try String(contentsOf: directory.appendingPathComponent("out.csv"), encoding: .utf8)
            .split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, Sweep.csvHeader)
        XCTAssertEqual(lines.count, 1 + 4 * 3)
        let sweep = try Sweep(template: try template(), bs: [1, 8], adapters: [1, 2])
        XCTAssertEqual(Array(lines.dropFirst()), sweep.points.flatMap { Sweep.csvRows($0, sweep.report($0)) })
        // A second sweep onto the same file needs --force, and leaves it as it was without.
        let again = try LoRAVizBinary.run(["sweep", "t.lora", "--bs", "1", "--adapters", "1", "--format", "csv", "-o", "out.csv"], in: directory)
        XCTAssertEqual(again.status, 2)
        XCTAssertTrue(again.err.contains("error: -o out.csv: exists (--force replaces it)"), again.err)
        XCTAssertEqual(try String(contentsOf: directory.appendingPathComponent("out.csv"), encoding: .utf8).split(separator: "\n").count, 13)

        let bad = try LoRAVizBinary.run(["sweep", "t.lora", "--bs", "1,0"], in: directory)
        XCTAssertEqual(bad.status, 2)
        XCTAssertEqual(bad.err, "error: --bs: '0' is not a positive integer (expected e.g. 1,8,32)\n")
        let missing = try LoRAVizBinary.run(["sweep", "nope.lora"], in: directory)
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.err.contains("nope.lora: error: no such file"), missing.err)
    }

    /// Ctrl-C mid-sweep: exit 130 after the current point, and the CSV so far is whole.
    func testInterruptKeepsAValidPartialCSV() throws {
        try "dims hidden=512 out=512 q=512 kv=128 ffn=512 rank=16\nadapter a rank=16\nseq a\n"
            .write(to: directory.appendingPathComponent("m.lora"), atomically: true, encoding: .utf8)
        let csv = directory.appendingPathComponent("out.csv")
        let process = Process()
        process.executableURL = try LoRAVizBinary.url()
        process.arguments = ["sweep", "m.lora", "--bs", (1...100).map(String.init).joined(separator: ","), "--adapters", "1,2",
                             "--run", "--reps", "1", "--threads", "1", "--format", "csv", "-o", csv.path]
        process.currentDirectoryURL = directory
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            if let text = try? String(contentsOf: csv, encoding: .utf8), text.split(separator: "\n").count >= 3 { break }
            usleep(2_000)
        }
        process.interrupt()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 130)
        let text = try String(contentsOf: csv, encoding: .utf8)
        XCTAssertTrue(text.hasSuffix("\n"))
        let lines = text.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, Sweep.csvHeader)
        XCTAssertGreaterThanOrEqual(lines.count, 3)
        XCTAssertLessThan(lines.count, 1 + 200 * 2)
        XCTAssertEqual((lines.count - 1) % 2, 0, "both strategies of every point written")
        let columns = Sweep.csvHeader.split(separator: ",").count
        for line in lines.dropFirst() {
            var fields = 1, quoted = false
            for c in line { if c == "\"" { quoted.toggle() } else if c == ",", !quoted { fields += 1 } }
            XCTAssertEqual(fields, columns)
        }
    }
}
