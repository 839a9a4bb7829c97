import XCTest
@testable import LoRAKernels
import CLoRAKernels

/// The kernels never read or write outside their tensors: every tensor, output
/// and scratch buffer lies between two inaccessible pages, flush against the
/// one after it (`MemoryPlacement.guardedEnd`) or before it (`.guardedStart`),
/// so one byte read past either edge faults at once, on every run, where on
/// the heap it reads a neighbour's bytes and faults only when the allocation
/// happens to end at an unmapped page (issue 14: a rare SIGSEGV reading `x` in
/// `MicroTile.accumulate`). Awkward shapes throughout: odd K (a lone last bf16
/// element), K not a multiple of 16 or 32, partial panels, one-row tails.
final class GuardPageTests: XCTestCase {
    /// The register tiles alone, Swift and C, on x rows of exactly K elements
    /// and panels of exactly their stored size, each ending (or starting) at a
    /// guard page; the C tiles' cells are the Swift tiles' bits.
    func testTilesReadNoFurtherThanTheirRowsAndPanels() {
        for placement in [MemoryPlacement.guardedEnd, .guardedStart] {
            for k in [1, 2, 3, 5, 15, 16, 17, 31, 32, 33, 47, 64, 65] {
                tiles(MicroTile<1, 1>.self, k, placement)
                tiles(MicroTile<1, 3>.self, k, placement)
                tiles(MicroTile<1, 4>.self, k, placement)
                tiles(MicroTile<1, 8>.self, k, placement)
                tiles(MicroTile<4, 2>.self, k, placement)
                tiles(MicroTile<4, 4>.self, k, placement)
                tiles(MicroTile<6, 3>.self, k, placement)
                tiles(MicroTile<6, 4>.self, k, placement)
                tiles(MicroTile<8, 1>.self, k, placement)
            }
        }
    }

    /// One tile shape on fp32, fp16 and bf16 panels (bf16 also on the C tiles where the CPU has them).
    func tiles<let M: Int, let V: Int>(_: MicroTile<M, V>.Type, _ k: Int, _ placement: MemoryPlacement) {
        let label = "\(M)x\(V) K \(k) \(placement)"
        let a = swiftTile(MicroTile<M, V>.self, Float.self, k, placement)
        _ = swiftTile(MicroTile<M, V>.self, Float16.self, k, placement)
        let b = swiftTile(MicroTile<M, V>.self, BFloat16.self, k, placement)
        XCTAssertEqual(a.count, M * V * 16, label)
        guard KernelRunOptions.bf16DotMicrokernelAvailable else { return }
        let c = dotTile(M, V, k, placement)
        XCTAssertEqual(b.map(\.bitPattern), c.map(\.bitPattern), label)
    }

    /// Seeded x rows (`k` fp32 values each, bf16-exact) and weights.
    func values(_ row: Int, _ k: Int) -> Float { BFloat16(SeededValues(seed: 5).uniform(.x, row * 997 + k)).float }
    func weight(_ c: Int, _ k: Int) -> Float { BFloat16(SeededValues(seed: 6).uniform(.weights, c * 991 + k)).float }

    /// `V` vectors of panels (two full panels for `V` = 8) at `placement`, filled.
    func panels<E: KernelElement>(_ v: Int, _ k: Int, _ placement: MemoryPlacement, _: E.Type) -> (WeightPanels, TensorBuffer<E>) {
        let panels = WeightPanels(columns: 16 * v, depth: k, pairedDepth: E.pairsPanelRows)
        let w = TensorBuffer<E>(count: panels.count, repeating: E(rounding: 0), placement: placement)
        for c in 0..<panels.columns { for kk in 0..<k { w[panels.index(column: c, k: kk)] = E(rounding: weight(c, kk)) } }
        return (panels, w)
    }

    func swiftTile<let M: Int, let V: Int, E: KernelElement>(_: MicroTile<M, V>.Type, _: E.Type, _ k: Int,
                                                               _ placement: MemoryPlacement) -> [Float] {
        let rows = (0..<M).map { i -> TensorBuffer<Float> in
            let x = TensorBuffer<Float>(count: k, repeating: 0, placement: placement)
            for kk in 0..<k { x[kk] = values(i, kk) }
            // The harness itself: the row's edge is the guard page's.
            let edge = placement == .guardedEnd ? x.pointer + k : x.pointer
            XCTAssertEqual(Int(bitPattern: edge) % GuardedRegion.pageSize, 0)
            return x
        }
        let (panels, w) = self.panels(V, k, placement, E.self)
        var acc = MicroTile<M, V>.zero
        MicroTile<M, V>.accumulate(&acc, x: MicroTile<M, V>.Rows { UnsafePointer(rows[$0].pointer) }, w: UnsafePointer(w.pointer),
                                   kStride: panels.width(0), panelStride: V > 4 ? panels.offset(1) : 0, count: k)
        withExtendedLifetime(rows) {}
        return (0..<M).flatMap { i in (0..<V).flatMap { v in (0..<16).map { acc[i][v][$0] } } }
    }

    func dotTile(_ m: Int, _ v: Int, _ k: Int, _ placement: MemoryPlacement) -> [Float] {
        let rows = (0..<m).map { i -> TensorBuffer<BFloat16> in
            let x = TensorBuffer<BFloat16>(count: k, repeating: BFloat16(0), placement: placement)
            for kk in 0..<k { x[kk] = BFloat16(values(i, kk)) }
            return x
        }
        let (panels, w) = self.panels(v, k, placement, BFloat16.self)
        let acc = TensorBuffer<Float>(count: m * v * 16, repeating: 0, placement: placement)
        var xr: [UnsafePointer<UInt16>?] = rows.map { UnsafeRawPointer($0.pointer).assumingMemoryBound(to: UInt16.self) }
        lora_bf16_dot_tile(Int32(m), Int32(v), acc.pointer, v, &xr, 0,
                           UnsafeRawPointer(w.pointer).assumingMemoryBound(to: UInt16.self), panels.rowStride(0),
                           v > 4 ? panels.offset(1) : 0, k)
        withExtendedLifetime(rows) {}
        return (0..<acc.count).map { acc[$0] }
    }

    /// Every kernel, strategy and mode on guarded inputs, outputs and worker
    /// scratch, two threads, the bf16 launches on the Swift and on the C tiles:
    /// the same bits as on the heap, and no fault.
    func testLaunchesStayInsideTheirTensors() throws {
        try sweep(Float.self)
        try sweep(Float16.self)
        try sweep(BFloat16.self)
    }

    func sweep<E: KernelElement>(_: E.Type) throws {
        // hidden 77: K tails of 13 (fp32 vectors) and 13 (bf16 pairs, odd); 300 under
        // vLLM's interleaved split-K (from 128 tokens): a short last K block.
        let cases: [(ModelDims, stack: Int, lengths: [Int]?, mode: Mode)] = [
            (ModelDims(hidden: 77, out: 100, q: 70, kv: 24, ffn: 69, maxRank: 19), 3, nil, .decode),
            (ModelDims(hidden: 5, out: 33, q: 17, kv: 9, ffn: 21, maxRank: 19), 1, (0..<9).map { $0 % 6 + 1 }, .extend),
            (ModelDims(hidden: 300, out: 40, q: 40, kv: 8, ffn: 40, maxRank: 19), 1, (0..<9).map { [17, 1, 30][$0 % 3] }, .extend),
        ]
        let dots = E.dtype == .bf16 && KernelRunOptions.bf16DotMicrokernelAvailable ? [false, true] : [false]
        for (dims, stack, lengths, mode) in cases {
            for kernel in allKernels(stack: stack) {
                let w = makeWorkload(kernel: kernel, dims: dims, dtype: E.dtype, ranks: [16, 0, 3, 19, 1],
                                     scalings: [0.5, 1, -2, 1.5, 1], wi: (0..<9).map { ($0 * 7) % 5 }, lengths: lengths, mode: mode)
                let heap = try KernelInputs<E>(workload: w, threads: 2)
                for placement in [MemoryPlacement.guardedEnd, .guardedStart] {
                    let guarded = try KernelInputs<E>(workload: w, threads: 2, placement: placement)
                    for strategy in Strategy.allCases {
                        let plan = LaunchPlan.execution(workload: w, strategy: strategy)
                        for dot in dots {
                            let label = "\(E.dtype) \(kernel.name) hidden \(dims.hidden) \(mode) \(strategy) dot \(dot) \(placement)"
                            let expected = TensorBuffer(copying: heap.base)
                            XCTAssertTrue(LaunchExecutor.execute(Launch(plan: plan, inputs: heap, output: expected.pointer, bf16Dot: dot),
                                                                 threads: 2, serialBelow: 0))
                            let out = TensorBuffer(copying: guarded.base, placement: placement)
                            XCTAssertTrue(LaunchExecutor.execute(Launch(plan: plan, inputs: guarded, output: out.pointer, bf16Dot: dot),
                                                                 threads: 2, serialBelow: 0, scratchPlacement: placement))
                            XCTAssertEqual(memcmp(expected.pointer, out.pointer, out.count * MemoryLayout<E>.stride), 0, label)
                        }
                    }
                }
            }
        }
    }
}
