import Foundation
import XCTest
@testable import LoRAKernels
import CLoRAKernels

/// The opt-in C AVX512_BF16 microkernels keep the Swift kernels' contract:
/// routings agree bit for bit, every cell within tolerance, cells past `N_eff`
/// untouched; the C expands even give the Swift expands' bits. Skipped on CPUs
/// without avx512_bf16.
final class BF16DotMicrokernelTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipUnless(KernelRunOptions.bf16DotMicrokernelAvailable, "no avx512_bf16 on this CPU")
    }

    let options = KernelRunOptions(reps: 1, threads: 2, checkTolerances: true, bf16DotMicrokernel: true)

    func testShrinkShapesAgreeAndStayWithinTolerance() throws {
        // K: multiple of 32, odd tail, shorter than one pair chunk; ranks with partial column tiles.
        for hidden in [256, 77, 5] {
            for stack in [1, 3] {
                let dims = ModelDims(hidden: hidden, out: 64, q: 64, kv: 32, ffn: 64, maxRank: 32)
                let w = makeWorkload(kernel: .sgemmLoRAA(stack: stack), dims: dims, ranks: [8, 16, 0, 32, 3],
                                     wi: (0..<37).map { ($0 * 7) % 5 })
                let r = try KernelRunner.run(w, options: options)
                let label = "hidden \(hidden) stack \(stack)"
                XCTAssertTrue(r.bitwiseEqual, label)
                XCTAssertEqual(r.clobberedCells, 0, label)
                XCTAssertEqual(r.perSequence.toleranceViolations, 0, label)
                XCTAssertEqual(r.sorted.toleranceViolations, 0, label)
            }
        }
    }

    /// The C block (bf16 pairs dotted with VDPBF16PS) gives every cell's dot
    /// product within fp32 error of the exact one.
    func testCBlockCellTotalsAreTheDotProducts() {
        let k = 301
        let values = SeededValues(seed: 9)
        let x = (0..<4 * k).map { BFloat16(values.uniform(.x, $0)) }
        let w = (0..<4 * k).map { BFloat16(values.uniform(.weights, $0) / 16) }
        var cAcc = [SIMD16<Float>](repeating: .zero, count: 256)
        x.withUnsafeBufferPointer { xp in
            w.withUnsafeBufferPointer { wp in
                cAcc.withUnsafeMutableBufferPointer { acc in
                    let xb = UnsafeRawPointer(xp.baseAddress!).assumingMemoryBound(to: UInt16.self)
                    let wb = UnsafeRawPointer(wp.baseAddress!).assumingMemoryBound(to: UInt16.self)
                    let accF = UnsafeMutableRawPointer(acc.baseAddress!).assumingMemoryBound(to: Float.self)
                    lora_bf16_dot4x4(accF, xb, xb + k, xb + 2 * k, xb + 3 * k, wb, k, k)
                }
            }
        }
        for r in 0..<4 {
            for c in 0..<4 {
                var exact = 0.0, magnitude = 0.0
                for i in 0..<k {
                    let p = Double(x[r * k + i].float) * Double(w[c * k + i].float)
                    exact += p
                    magnitude += abs(p)
                }
                let bound = Double(k) * 0x1p-23 * magnitude
                XCTAssertEqual(Double(SGemmLoRAA.lanesSum(cAcc[r * 16 + c])), exact, accuracy: bound, "C cell \(r),\(c)")
            }
        }
    }

    /// The C expand runs the Swift expand's FMA chains and rounds to nearest
    /// even in hardware: on finite, normal values the outputs are identical.
    func testCExpandsGiveTheSwiftExpandsBits() throws {
        try forEachExpandCase(extendLengths: [3, 17, 1, 9, 30, 2, 5]) { label, inputs, plan in
            let outputs = [false, true].map { c -> TensorBuffer<BFloat16> in
                let out = TensorBuffer(copying: inputs.base)
                let launch = Launch(plan: plan, inputs: inputs, output: out.pointer, bf16Dot: c)
                XCTAssertTrue(LaunchExecutor.execute(launch, threads: 2, serialBelow: 0))
                return out
            }
            XCTAssertEqual(memcmp(outputs[0].pointer, outputs[1].pointer, outputs[0].count * 2), 0, label)
        }
    }
}
