import Foundation
import XCTest
@testable import LoRAKernels
import CLoRAKernels

/// bf16 runs on the C VDPBF16PS tiles where the CPU has AVX512_BF16 and they
/// are the faster path, else on the Swift tiles; both add each cell's
/// products in the same pair order (`MicroTile`), so they give the same bits,
/// on every kernel and strategy, and stay within the fp64 tolerance. The
/// tests that need the instruction are skipped on CPUs without it; the Swift
/// tiles' order is checked everywhere.
final class BF16DotMicrokernelTests: XCTestCase {
    func requireDot() throws {
        try XCTSkipUnless(KernelRunOptions.bf16DotMicrokernelAvailable, "no avx512_bf16 on this CPU")
    }

    /// The default is the faster path, and only where the CPU has the instruction.
    func testTheDefaultIsTheFasterPathWhereTheCPUHasIt() {
        let options = KernelRunOptions()
        XCTAssertNil(options.bf16DotMicrokernel)
        XCTAssertEqual(options.runsBF16Dot, KernelRunOptions.bf16DotIsFaster)
        if !KernelRunOptions.bf16DotMicrokernelAvailable { XCTAssertFalse(KernelRunOptions.bf16DotIsFaster) }
        XCTAssertEqual(options.microkernel(for: .bf16), KernelRunOptions.bf16DotIsFaster ? .bf16Dot : .fmaWidened)
        XCTAssertEqual(KernelRunOptions(bf16DotMicrokernel: true).microkernel(for: .bf16),
                       KernelRunOptions.bf16DotMicrokernelAvailable ? .bf16Dot : .fmaWidened)
        XCTAssertEqual(KernelRunOptions(bf16DotMicrokernel: false).microkernel(for: .bf16), .fmaWidened)
        XCTAssertEqual(options.microkernel(for: .fp32), .fma)
    }

    /// Every kernel × strategy × mode, odd K and ranks, partial panels: the
    /// C tiles' output is the Swift tiles' output, bit for bit, and both are
    /// within tolerance with no clobbered cell.
    func testDotAndSwiftTilesGiveTheSameBitsEverywhere() throws {
        try requireDot()
        for hidden in [256, 77, 5] {
            let dims = ModelDims(hidden: hidden, out: 100, q: 70, kv: 24, ffn: 69, maxRank: 19)
            for kernel in allKernels(stack: hidden == 77 ? 3 : 1) {
                for mode in Mode.allCases {
                    let w = makeWorkload(kernel: kernel, dims: dims, ranks: [16, 0, 3, 19, 8], scalings: [0.5, 1, -2, 1.5, 1],
                                         wi: (0..<21).map { ($0 * 7) % 5 }, lengths: mode == .extend ? (0..<21).map { $0 % 6 + 1 } : nil,
                                         mode: mode)
                    let label = "\(kernel.name) \(mode) hidden \(hidden)"
                    // The dot tiles: every strategy within tolerance and sharing the order.
                    let r = try KernelRunner.run(w, options: KernelRunOptions(reps: 1, threads: 2, checkTolerances: true,
                                                                              bf16DotMicrokernel: true, strategies: Strategy.allCases))
                    XCTAssertEqual(r.clobberedCells, 0, label)
                    for run in r.routings {
                        XCTAssertEqual(run.toleranceViolations, 0, "\(label) \(run.strategy)")
                        if run.strategy != .vllm || !kernel.isShrink { XCTAssertTrue(run.bitwiseEqualToFirst, "\(label) \(run.strategy)") }
                    }
                    // Each strategy's launch on the Swift tiles and on the C tiles.
                    let inputs = try KernelInputs<BFloat16>(workload: w)
                    for strategy in Strategy.allCases {
                        let plan = LaunchPlan.execution(workload: w, strategy: strategy)
                        let outputs = [false, true].map { dot -> TensorBuffer<BFloat16> in
                            let out = TensorBuffer(copying: inputs.base)
                            XCTAssertTrue(LaunchExecutor.execute(Launch(plan: plan, inputs: inputs, output: out.pointer, bf16Dot: dot),
                                                                 threads: 2, serialBelow: 0))
                            return out
                        }
                        XCTAssertEqual(memcmp(outputs[0].pointer, outputs[1].pointer, outputs[0].count * 2), 0, "\(label) \(strategy)")
                    }
                }
            }
        }
    }

    /// One C tile's cells are the pair-order chains, emulated in scalar fp32
    /// (odd K: the last element alone), bit for bit.
    func testDotTileCellsAreThePairOrderChains() throws {
        try requireDot()
        for k in [64, 31, 1] {
            let values = SeededValues(seed: 9)
            let rows = 6, columns = 64
            let x = (0..<rows * k).map { BFloat16(values.uniform(.x, $0)) }
            let panels = WeightPanels(columns: columns, depth: k, pairedDepth: true)
            var w = [BFloat16](repeating: BFloat16(0), count: panels.count)
            for c in 0..<columns { for kk in 0..<k { w[panels.index(column: c, k: kk)] = BFloat16(values.uniform(.weights, c * k + kk) / 8) } }
            var acc = [SIMD16<Float>](repeating: SIMD16(repeating: 0.25), count: rows * 4)
            x.withUnsafeBufferPointer { xp in
                w.withUnsafeBufferPointer { wp in
                    acc.withUnsafeMutableBufferPointer { ap in
                        let xb = UnsafeRawPointer(xp.baseAddress!).assumingMemoryBound(to: UInt16.self)
                        var xr: [UnsafePointer<UInt16>?] = (0..<rows).map { xb + $0 * k }
                        lora_bf16_dot_tile(Int32(rows), 4, UnsafeMutableRawPointer(ap.baseAddress!).assumingMemoryBound(to: Float.self), 4,
                                           &xr, 0, UnsafeRawPointer(wp.baseAddress!).assumingMemoryBound(to: UInt16.self),
                                           panels.rowStride(0), 0, k)
                    }
                }
            }
            for i in 0..<rows {
                for c in 0..<columns {
                    var cell: Float = 0.25
                    for kk in reductionOrder(0..<k, BFloat16.self) {
                        cell = cell.addingProduct(x[i * k + kk].float, w[panels.index(column: c, k: kk)].float)
                    }
                    XCTAssertEqual(acc[i * 4 + c / 16][c % 16].bitPattern, cell.bitPattern, "K \(k) row \(i) column \(c)")
                }
            }
        }
    }

    /// The Swift bf16 tiles run the same pair order (checked on every CPU).
    func testSwiftTilesRunThePairOrder() {
        let k = 37
        let values = SeededValues(seed: 3)
        let x = (0..<4 * k).map { BFloat16(values.uniform(.x, $0)).float }
        let panels = WeightPanels(columns: 48, depth: k, pairedDepth: true)
        var w = [BFloat16](repeating: BFloat16(0), count: panels.count)
        for c in 0..<48 { for kk in 0..<k { w[panels.index(column: c, k: kk)] = BFloat16(values.uniform(.weights, c * k + kk)) } }
        var acc = MicroTile<4, 3>.zero
        x.withUnsafeBufferPointer { xp in
            w.withUnsafeBufferPointer { wp in
                MicroTile<4, 3>.accumulate(&acc, x: MicroTile<4, 3>.Rows { xp.baseAddress! + $0 * k }, w: wp.baseAddress!,
                                           kStride: panels.width(0), count: k)
            }
        }
        for i in 0..<4 {
            for c in 0..<48 {
                var cell: Float = 0
                for kk in reductionOrder(0..<k, BFloat16.self) { cell = cell.addingProduct(x[i * k + kk], w[panels.index(column: c, k: kk)].float) }
                XCTAssertEqual(acc[i][c / 16][c % 16].bitPattern, cell.bitPattern, "row \(i) column \(c)")
            }
        }
    }

    /// The dot peak probe runs and counts flops (a sanity bound, not a timing).
    func testDotPeakProbeRuns() throws {
        try requireDot()
        XCTAssertGreaterThan(MachineProbe.bf16DotPeak(threads: 1, iterations: 10_000, trials: 1), 0)
    }
}
