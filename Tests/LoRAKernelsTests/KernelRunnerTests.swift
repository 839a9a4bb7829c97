import Synchronization
import XCTest
@testable import LoRAKernels

/// The runner's contract: timings per routing, progress, cancellation.
final class KernelRunnerTests: XCTestCase {
    let dims = ModelDims(hidden: 128, out: 96, q: 64, kv: 32, ffn: 48, maxRank: 16)

    func testTimingsAndGFLOPs() throws {
        let w = makeWorkload(kernel: .gateUpLoRAB, dims: dims, ranks: [16, 8], wi: [0, 1, 1, 0, 1])
        let r = try KernelRunner.run(w, options: KernelRunOptions(reps: 3, threads: 2))
        XCTAssertEqual(r.routings.map(\.routing), [.perSequence, .sorted])
        for run in r.routings {
            XCTAssertEqual(run.time.samples.count, 3)
            XCTAssertLessThanOrEqual(run.time.min, run.time.median)
            XCTAssertLessThanOrEqual(run.time.median, run.time.max)
            let plan = LaunchPlan(workload: w, routing: run.routing)
            XCTAssertEqual(run.gflops, 2 * Double(plan.usefulMACs) / (run.time.median * 1e6), accuracy: 1e-9)
        }
        XCTAssertEqual(r.speedup, r.perSequence.time.median / r.sorted.time.median, accuracy: 1e-12)
        XCTAssertEqual(r.threads, 2)
    }

    func testMedianOfEvenAndOddSamples() {
        XCTAssertEqual(TimingSummary(samples: [3, 1, 2]).median, 2)
        XCTAssertEqual(TimingSummary(samples: [4, 1, 3, 2]).median, 2.5)
        XCTAssertEqual(TimingSummary(samples: [4, 1, 3, 2]).max, 4)
    }

    func testProgressRisesToOne() throws {
        let log = Mutex<[Double]>([])
        let w = makeWorkload(kernel: .sgemmLoRAA(stack: 1), dims: dims, ranks: [16], wi: [0, 0])
        _ = try KernelRunner.run(w, options: KernelRunOptions(reps: 2), progress: { p in log.withLock { $0.append(p) } })
        let values = log.withLock { $0 }
        XCTAssertEqual(values.first, 0)
        XCTAssertEqual(values.last, 1)
        XCTAssertEqual(values, values.sorted())
    }

    func testCancellationThrows() {
        let w = makeWorkload(kernel: .sgemmLoRAB, dims: dims, ranks: [16], wi: Array(repeating: 0, count: 64))
        XCTAssertThrowsError(try KernelRunner.run(w, isCancelled: { true })) { error in
            XCTAssertTrue(error is KernelRunCancelled)
        }
    }

    /// A run cancelled while its inputs are generated stops generating them
    /// (issue 14): it throws long before the whole inputs could be built.
    func testCancellationDuringInputGenerationThrowsPromptly() {
        // x is 4096 × 8192 and the weights 8 × 64 × 8192: about a second to generate uncancelled.
        let big = ModelDims(hidden: 8192, out: 96, q: 64, kv: 32, ffn: 48, maxRank: 64)
        let w = makeWorkload(kernel: .sgemmLoRAA(stack: 1), dims: big, ranks: Array(repeating: 64, count: 8),
                             wi: (0..<4096).map { $0 % 8 })
        let calls = Mutex(0)
        XCTAssertThrowsError(try KernelRunner.run(w, options: KernelRunOptions(reps: 1, threads: 2), isCancelled: {
            calls.withLock { count in
                count += 1
                return count > 3  // cancelled just after generation began
            }
        })) { error in
            XCTAssertTrue(error is KernelRunCancelled, "\(error)")
        }
        // Counted, not timed: x alone is 512 chunks of 2^16 values, each asking
        // once. Generation asked (more than 3 calls) and stopped at the first
        // answer of true, give or take the other worker's question in flight.
        let count = calls.withLock { $0 }
        XCTAssertGreaterThan(count, 3, "input generation never asked whether the run was cancelled")
        XCTAssertLessThanOrEqual(count, 3 + 2, "the cancelled run went on generating its inputs")
    }

    /// The same seed gives the same inputs; another seed other inputs.
    func testInputsAreReproducibleFromTheSeed() throws {
        var w = makeWorkload(kernel: .sgemmLoRAB, dims: dims, dtype: .fp32, ranks: [16], wi: [0, 0])
        let a = try KernelInputs<Float>(workload: w), b = try KernelInputs<Float>(workload: w, threads: 1)
        XCTAssertEqual(memcmp(a.x.pointer, b.x.pointer, a.x.count * 4), 0)
        XCTAssertEqual(a.weight(slot: 0, n: 5, k: 3), b.weight(slot: 0, n: 5, k: 3))
        w.seed = 43
        let c = try KernelInputs<Float>(workload: w)
        XCTAssertNotEqual(memcmp(a.x.pointer, c.x.pointer, a.x.count * 4), 0)
        XCTAssertTrue((0..<a.x.count).allSatisfy { abs(a.x[$0]) <= 1 })
    }

    func testBFloat16RoundsToNearestEven() {
        XCTAssertEqual(BFloat16(1.0).bitPattern, 0x3F80)
        XCTAssertEqual(BFloat16(Float(bitPattern: 0x3F80_8000)).bitPattern, 0x3F80)  // tie → even
        XCTAssertEqual(BFloat16(Float(bitPattern: 0x3F81_8000)).bitPattern, 0x3F82)  // tie → even (up)
        XCTAssertEqual(BFloat16(Float(bitPattern: 0x3F80_8001)).bitPattern, 0x3F81)
        XCTAssertTrue(BFloat16(.nan).float.isNaN)
        XCTAssertEqual(BFloat16(.infinity).float, .infinity)
        // The vector rounding agrees with the scalar one, NaN included.
        let values: [Float] = [1, -2.5, 0x1p-130, 3.3e38, .nan, -.infinity, 1.00390625, 1.01171875, 0.1, -0.7]
        var v = SIMD16<Float>()
        for (i, f) in values.enumerated() { v[i] = f }
        let r = v.roundedToBFloat16
        for (i, f) in values.enumerated() {
            XCTAssertEqual(r[i].bitPattern, BFloat16(f).float.bitPattern, "\(f)")
        }
    }
}

/// Edge cases a session can reach.
final class KernelRunnerEdgeTests: XCTestCase {
    let dims = ModelDims(hidden: 32, out: 32, q: 32, kv: 16, ffn: 32, maxRank: 8)

    /// An empty batch (a fresh session) runs: nothing to compute, nothing wrong.
    func testEmptyBatchRuns() throws {
        for kernel in allKernels() {
            let w = makeWorkload(kernel: kernel, dims: dims, ranks: [8], wi: [])
            let r = try KernelRunner.run(w, options: KernelRunOptions(reps: 1))
            XCTAssertTrue(r.bitwiseEqual)
            XCTAssertEqual(r.perSequence.maxAbsErrorVsReference, 0)
            XCTAssertEqual(r.sorted.gflops, 0)
        }
    }

    /// Only base-model sequences: the expands leave the base output exactly.
    func testRankZeroOnlyKeepsTheBase() throws {
        let w = makeWorkload(kernel: .qkvLoRAB, dims: dims, ranks: [0, 0], wi: [0, 1, 1])
        let r = try KernelRunner.run(w, options: KernelRunOptions(reps: 1, checkTolerances: true))
        XCTAssertEqual(r.perSequence.maxAbsErrorVsReference, 0)
        XCTAssertEqual(r.sorted.maxAbsErrorVsReference, 0)
        XCTAssertTrue(r.bitwiseEqual)
    }

    func testRankAboveMaxRankIsAnError() {
        let w = makeWorkload(kernel: .sgemmLoRAB, dims: dims, ranks: [16], wi: [0])
        XCTAssertThrowsError(try KernelRunner.run(w)) { error in
            XCTAssertEqual("\(error)", "error: adapter 'a0' has rank 16, above the max rank R = 8")
        }
    }
}
