import Foundation
import XCTest
@_spi(Testing) @testable import LoRAKernels

/// The GPU cost model: its inputs held against program-by-program sums, its
/// estimates against the H200's measured direction on the anchor cases, and
/// the calibrated profile against the held-out measurements in gpu/results/.
final class GPUModelTests: XCTestCase {
    /// `gpuWork`'s closed forms equal sums over every program the plan visits.
    func testWorkMatchesSumsOverEveryProgram() {
        var g = SplitMix64(seed: 9)
        for _ in 0..<300 {
            let w = LaunchPlanSweepTests.randomWorkload(&g)
            for routing in [Routing.perSequence(w.batch), .sorted(w.batch), .tight(w.batch)] {
                let plan = LaunchPlan(workload: w, routing: routing)
                let work = plan.gpuWork
                let counts: FateCounts = plan.enumeratedFateCounts()
                XCTAssertEqual(work.segmentExits, counts[ProgramFate.rank0Exit] + counts[ProgramFate.emptyExit])
                XCTAssertEqual(work.excessExits, counts[ProgramFate.excessExit])
                XCTAssertEqual(work.workingPrograms, counts.working)
                XCTAssertEqual(work.launched, plan.launched)
                var steps = 0, maxSteps = 0, xBytes = 0, exitsSoFar = 0, pairs = 0
                // Launch order: pid fastest, then slice, then segment.
                for seg in plan.segments.indices {
                    for slice in 0..<plan.sliceCount {
                        for pid in 0..<plan.pidCount {
                            let t = plan.tile(GridPosition(pid: pid, slice: slice, segment: seg))
                            if t.fate == .excessExit { exitsSoFar += 1 }
                            guard t.fate.runsKLoop else { continue }
                            pairs += exitsSoFar
                            let s = cdiv(t.reduction, plan.blocks.k)
                            steps += s
                            maxSteps = max(maxSteps, s)
                            xBytes += t.validRows * t.reduction * plan.dtype.byteCount
                        }
                    }
                }
                XCTAssertEqual(work.kSteps, steps)
                XCTAssertEqual(work.excessExitWorkPairs, pairs, "\(w.kernel.name) \(routing.kind)")
                XCTAssertEqual(work.alignedWidth, !w.kernel.isShrink || (w.kernel.stack * w.dims.maxRank) % 16 == 0)
                XCTAssertEqual(work.maxKSteps, maxSteps)
                let wBytes = plan.weightBytes
                let outPasses = plan.kernel.isShrink ? 1 : 2
                var outCells = 0
                for seg in plan.segments where seg.segmentExit == nil {
                    outCells += seg.length * seg.sliceWidths.reduce(0, +)
                }
                let outBytes = outCells * plan.dtype.byteCount * outPasses
                XCTAssertEqual(work.tileBytes, xBytes + wBytes + outBytes, "\(w.kernel.name) \(routing.kind)")
                XCTAssertLessThanOrEqual(work.uniqueBytes, work.tileBytes)
            }
        }
    }

    /// The anchor case of issue 9: gate_up_lora_b at bs 1 on 64 slots, where the
    /// H200 measured 3.3 µs per-sequence and 18.7 µs sorted.
    func testExitsCostOnTheGPU() {
        let batch = Batch(slotCount: 64, adapters: [Adapter(name: "a", rank: 16, slot: 0)],
                          sequences: [BatchSequence(adapter: "a")])
        let w = Workload(batch: batch, dims: ModelDims(maxRank: 16), kernel: .gateUpLoRAB)
        let c = GPUProfile.h200.compare(perSequence: LaunchPlan(workload: w, routing: .perSequence),
                                        sorted: LaunchPlan(workload: w, routing: .sorted))
        XCTAssertEqual(c.sorted.exitingPrograms, 28_224)
        XCTAssertEqual(c.sorted.bound, .exits)
        // ±30 %: the model puts rank-16 expands ~25 % high (gpu/RESULTS.md, "not linear in steps").
        XCTAssertEqual(c.perSequence.totalUs, 3.3, accuracy: 3.3 * 0.30)
        XCTAssertEqual(c.sorted.totalUs, 18.7, accuracy: 18.7 * 0.25)
        XCTAssertLessThan(c.speedup, 0.5)
        XCTAssertNotNil(c.disagreement(cpuSpeedup: 0.98))
        XCTAssertTrue(c.headline.hasPrefix("H200 est. "), c.headline)
    }

    /// Excess exits ahead of working programs hold them back; trailing ones do
    /// not. The H200 probe (gpu/results/h200-probe-sorted-shrink.jsonl): 64
    /// rank-16 adapters at bs 128 take 16.3 µs sorted and 8.5 µs tight; one
    /// adapter takes 8.6 µs either way.
    func testExitsAheadOfWorkDelayIt() {
        func times(adapters: Int) -> (sorted: Double, tight: Double) {
            let batch = Batch(slotCount: 64, adapters: (0..<64).map { Adapter(name: "a\($0)", rank: 16, slot: $0) },
                              sequences: (0..<128).map { BatchSequence(adapter: "a\($0 % adapters)") })
            let w = Workload(batch: batch, dims: ModelDims(maxRank: 16), kernel: .sgemmLoRAA(stack: 1))
            return (GPUProfile.h200.estimate(LaunchPlan(workload: w, routing: .sorted(batch))).totalUs,
                    GPUProfile.h200.estimate(LaunchPlan(workload: w, routing: .tight(batch))).totalUs)
        }
        let many = times(adapters: 64), one = times(adapters: 1)
        XCTAssertEqual(many.sorted, 16.3, accuracy: 16.3 * 0.2)
        XCTAssertEqual(many.tight, 8.5, accuracy: 8.5 * 0.2)
        XCTAssertEqual(one.sorted, one.tight, accuracy: 0.5)
    }

    /// Uncalibrated profiles say so, and a faster memory system never makes a
    /// memory-bound launch slower.
    func testUncalibratedProfilesAreLabelled() {
        for p in GPUProfile.all {
            XCTAssertEqual(Set(p.programs.keys), Set(GPUProfile.costKeys), p.name)
            XCTAssertEqual(GPUProfile.named(p.name.uppercased())?.name, p.name)
            XCTAssertEqual(p.estimateLabel.contains("uncalibrated"), !p.calibrated)
        }
        XCTAssertTrue(GPUProfile.h200.calibrated)
        XCTAssertNil(GPUProfile.named("v100"))
    }

    // MARK: The calibration

    static let results = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("gpu/results")

    static func cases(_ file: String) throws -> [GPUCalibration.Case] {
        let text = try String(contentsOf: results.appendingPathComponent(file), encoding: .utf8)
        return try GPUMeasurement.parse(jsonl: text, source: file, defaultSplit: .calib).map(GPUCalibration.Case.init)
    }

    /// csgmv's and vLLM's kernels, timed on the H200 on the same batches
    /// (gpu/results/h200-strategies*.jsonl): the committed costs predict the
    /// held-out launches and their speedup against sorted as gpu/RESULTS.md says.
    func testStrategyHeldOutAccuracy() throws {
        func load(_ file: String) throws -> String {
            try String(contentsOf: Self.results.appendingPathComponent(file), encoding: .utf8)
        }
        let triton = try Self.cases("h200-sweep.jsonl") + Self.cases("h200-sweep-holdout2.jsonl")
        let sortedUs = Dictionary(triton.map { ($0.measurement.id, $0.measurement.sortedUs) }, uniquingKeysWith: { a, _ in a })
        var measured: [StrategyMeasurement] = []
        for file in ["h200-strategies.jsonl", "h200-strategies-holdout2.jsonl"] {
            measured += try StrategyMeasurement.parse(jsonl: load(file), source: file, defaultSplit: .calib)
            // The triton parser skips these lines rather than failing on them.
            XCTAssertTrue(try GPUMeasurement.parse(jsonl: load(file), source: file, defaultSplit: .calib).isEmpty)
        }
        XCTAssertEqual(measured.count, 840)
        let samples = measured.flatMap { GPUCalibration.samples($0, sortedUs: sortedUs[$0.id]) }
        let heldOut = samples.filter { $0.split == .holdout }
        let cards = GPUCalibration.score(.h200, on: heldOut)
        let bars: [(Strategy, launch: Double, speedup: Double, direction: Double)] = [
            (.csgmv, 0.71, 0.72, 0.68), (.csgmvGraph, 0.79, 0.78, 0.70), (.vllm, 0.66, 0.72, 0.81),
        ]
        for (s, launch, speedup, direction) in bars {
            let card = try XCTUnwrap(cards[s], s.name)
            XCTAssertGreaterThan(card.launches, 600, s.name)
            XCTAssertGreaterThanOrEqual(card.launchFraction, launch, "\(s.name): \(card)")
            XCTAssertGreaterThanOrEqual(card.speedupFraction, speedup, "\(s.name): \(card)")
            XCTAssertGreaterThanOrEqual(card.directionFraction, direction, "\(s.name): \(card)")
        }
        // A launch of nothing (vLLM with every token on a rank-0 slot) is priced at 0.
        XCTAssertTrue(samples.allSatisfy { GPUProfile.h200.estimate($0.work, kernel: $0.kernel, family: $0.strategy.kernelFamily).totalUs > 0 })
    }

    /// The committed H200 profile still predicts the held-out measurements as
    /// well as docs/gpu-model.md says (a change to the model or the constants
    /// that loses accuracy fails here).
    func testHeldOutAccuracy() throws {
        let heldOut = try (Self.cases("h200-sweep.jsonl") + Self.cases("h200-sweep-holdout2.jsonl"))
            .filter { $0.measurement.split == .holdout }
        XCTAssertEqual(heldOut.count, 634)
        // gpu/RESULTS.md: 89.1 %, 89.3 %, 88.9 % at the committed constants
        // (the speedup above the issue's 85 % bar; 89.4, 88.5 and 87.7 %
        // when the fit saw only the first calibration set).
        let score = GPUCalibration.score(.h200, on: heldOut)
        XCTAssertGreaterThanOrEqual(score.speedupFraction, 0.88, "\(score)")
        XCTAssertGreaterThanOrEqual(score.directionFraction, 0.88, "\(score)")
        XCTAssertGreaterThanOrEqual(score.launchFraction, 0.88, "\(score)")
        // The third set, measured after the form was fixed: 89.0, 91.0, 87.2 %.
        // The fourth, on seven more shapes, scored once the constants were
        // fitted: 89.2, 90.2, 87.6 %. The fifth, measured after the committed
        // form and constants: 88.5, 92.5, 86.5 %. The sixth, measured after
        // the direction record too: 89.8, 90.7, 86.1 %.
        for (file, count, bars) in [("h200-sweep-holdout3.jsonl", 420, (0.88, 0.90, 0.86)),
                                    ("h200-sweep-holdout4.jsonl", 600, (0.88, 0.89, 0.86)),
                                    ("h200-sweep-holdout5.jsonl", 600, (0.87, 0.91, 0.85)),
                                    ("h200-sweep-holdout6.jsonl", 600, (0.88, 0.89, 0.85))] {
            let fresh = try Self.cases(file)
            XCTAssertEqual(fresh.count, count, file)
            XCTAssertTrue(fresh.allSatisfy { $0.measurement.split == .holdout }, file)
            let card = GPUCalibration.score(.h200, on: fresh)
            XCTAssertGreaterThanOrEqual(card.speedupFraction, bars.0, "\(file): \(card)")
            XCTAssertGreaterThanOrEqual(card.directionFraction, bars.1, "\(file): \(card)")
            XCTAssertGreaterThanOrEqual(card.launchFraction, bars.2, "\(file): \(card)")
        }
    }

    /// The record the report quotes beside an estimate (`GPUDirectionRecord.h200`)
    /// is the committed profile's on every held-out case, and it says what a
    /// user should know: far from a band edge the estimated direction is as
    /// reliable as a second measurement (98.1–98.8 %), near one it is not.
    func testDirectionRecordIsTheCommittedProfilesOnHeldOutData() throws {
        let files = ["h200-sweep.jsonl", "h200-sweep-holdout2.jsonl", "h200-sweep-holdout3.jsonl",
                     "h200-sweep-holdout4.jsonl", "h200-sweep-holdout5.jsonl"]
        let heldOut = try files.flatMap { try Self.cases($0) }.filter { $0.measurement.split == .holdout }
        XCTAssertEqual(heldOut.count, 2254)
        let record = GPUCalibration.directionRecord(.h200, on: heldOut, source: GPUDirectionRecord.h200.source)
        XCTAssertEqual(record, GPUDirectionRecord.h200, "gpu-check's table for these files: \(record.bins)")
        XCTAssertGreaterThan(record.bins.last!.share, 0.98)
        XCTAssertLessThan(record.bins[0].share, 0.85)
        XCTAssertEqual(GPUProfile.h200.directionRecord, GPUDirectionRecord.h200)
        // The sixth held-out set, measured after the record was committed: far
        // from an edge its estimates still point the measured way (99.4 %, 340 cases).
        let fresh = GPUCalibration.directionRecord(.h200, on: try Self.cases("h200-sweep-holdout6.jsonl"), source: "set 6")
        XCTAssertGreaterThan(fresh.bins.last!.share, 0.97, "\(fresh.bins)")
        XCTAssertNil(GPUProfile.l40s.directionRecord, "a rescaled profile was never scored")
    }

    /// The kernel's compiled variants, timed apart on the same grids
    /// (gpu/results/variants/): `ident` is the per-sequence grid through the
    /// sorted variant, `noperm` the sorted grid through the per-sequence one.
    /// The model prices each launch with its variant (and the shrink's
    /// unaligned build when stack × max rank is not a multiple of 16), so its
    /// per-sequence ÷ ident ratio falls in the measured band (> 1.1, < 0.9,
    /// between) in most cases of every set.
    func testCompiledVariantsArePricedApart() throws {
        let files = ["h200-variants.jsonl": 0.88, "h200-variants-holdout2.jsonl": 0.91, "h200-variants-holdout3.jsonl": 0.89]
        for (file, bar) in files {
            let text = try String(contentsOf: Self.results.appendingPathComponent("variants/" + file), encoding: .utf8)
            let cases = try GPUMeasurement.parse(jsonl: text, source: file, defaultSplit: .calib)
            let times = text.split(separator: "\n").compactMap { line -> [String: Any]? in
                guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], o["type"] == nil else { return nil }
                return o
            }
            XCTAssertEqual(cases.count, 420, file)
            XCTAssertEqual(times.count, 420, file)
            var agree = 0, unalignedSeen = 0
            for (m, t) in zip(cases, times) {
                XCTAssertEqual("\(t["id"]!)", m.id, file)
                let w = m.workload
                var ident = LaunchPlan(workload: w, routing: .perSequence(w.batch)).gpuWork
                let perSequence = ident
                ident.permuted = true
                if !perSequence.alignedWidth { unalignedSeen += 1 }
                let estimated = GPUProfile.h200.estimate(perSequence, kernel: w.kernel).totalUs
                    / GPUProfile.h200.estimate(ident, kernel: w.kernel).totalUs
                let measured = try XCTUnwrap(t["g20_perseq"] as? Double) / XCTUnwrap(t["g20_ident"] as? Double)
                if SpeedupDirection(estimated) == SpeedupDirection(measured) { agree += 1 }
            }
            XCTAssertGreaterThan(unalignedSeen, 10, file)
            XCTAssertGreaterThanOrEqual(Double(agree) / 420, bar, "\(file): \(agree) of 420")
        }
        // A lone aligned shrink program is slower per-sequence; an unaligned one is not.
        let cost = GPUProfile.h200.programCost(.sgemmLoRAA(stack: 1))
        func lone(_ c: (startNs: Double, stepNs: Double)) -> Double { c.startNs + 16 * c.stepNs }
        XCTAssertGreaterThan(lone(cost.latency(permuted: false)) / lone(cost.latency(permuted: true)), 1.1)
        XCTAssertLessThan(lone(cost.latency(permuted: false, aligned: false)) / lone(cost.latency(permuted: true)), 1.1)
    }

    /// The committed constants are the fit's result on the calibration
    /// records: a further descent from them gains (almost) nothing, so a hand
    /// edit of GPUProfile+H200.swift fails here.
    func testCommittedConstantsAreTheFit() throws {
        let calib = try (Self.cases("h200-sglang-anchor.jsonl") + Self.cases("h200-sweep.jsonl")
                         + Self.cases("h200-sweep-calib2.jsonl"))
            .filter { $0.measurement.split == .calib }
        XCTAssertEqual(calib.count, 1442)
        let committed = GPUCalibration.loss(.h200, calib)
        let refitted = GPUCalibration.loss(GPUCalibration.fit(.h200, to: calib, evaluations: 200, restarts: 0), calib)
        XCTAssertLessThan(committed, 0.10)
        XCTAssertGreaterThan(refitted, committed * 0.98)
    }

    /// `gpu-check gpu/results/*.jsonl` reads the repeat run beside the sweep it
    /// repeats; the repeat is found (so the command can say its cases count
    /// twice), and files of different cases are not confused for repeats.
    func testARepeatRunIsTold() throws {
        func measurements(_ file: String) throws -> (file: String, cases: [GPUMeasurement]) {
            let text = try String(contentsOf: Self.results.appendingPathComponent(file), encoding: .utf8)
            return (file, try GPUMeasurement.parse(jsonl: text, source: file, defaultSplit: .calib))
        }
        let sweep = try measurements("h200-sweep.jsonl"), repeat_ = try measurements("h200-sweep-repeat.jsonl")
        let other = try measurements("h200-sweep-holdout2.jsonl")
        let found = GPUMeasurement.repeats([sweep, other, repeat_])
        XCTAssertEqual(found.map(\.file), ["h200-sweep-repeat.jsonl"])
        XCTAssertEqual(found.first?.earlierFile, "h200-sweep.jsonl")
        XCTAssertEqual(found.first?.cases, 420)
        XCTAssertEqual(GPUMeasurement.repeats([sweep, other]), [])
    }

    /// A results line that is not a measurement names its line and field.
    func testBadResultsLinesAreLocated() {
        let text = "{\"type\": \"meta\"}\n{\"kernel\": \"sgemm_lora_b\", \"dims\": {\"hidden\": 64, \"q\": 64, \"kv\": 16, \"ffn\": 64}, \"mlpb\": 2, \"R\": 16, \"ranks\": [16], \"wi\": [0], \"g20_perseq\": 3, \"g20_sorted\": 3}\n"
        XCTAssertThrowsError(try GPUMeasurement.parse(jsonl: text, source: "x.jsonl", defaultSplit: .calib)) { error in
            XCTAssertEqual("\(error)", "x.jsonl:2: `ranks` has 1 entries for 2 slots")
        }
        XCTAssertThrowsError(try GPUMeasurement.parse(jsonl: "nope\n", source: "y.jsonl", defaultSplit: .calib)) { error in
            XCTAssertEqual("\(error)", "y.jsonl:1: not a JSON object")
        }
    }
}
