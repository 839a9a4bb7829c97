import XCTest
@testable import LoRAKernels

/// The six cases of SGLang's `test_sgemm_sorted_by_adapter.py` (PR 22386), in
/// bf16, seed 42, `wi[i] = i % num_loras` unless stated:
/// 1. `sgemm_lora_a`: bs 8, K 256, rank 16, 3 adapters;
/// 2. `sgemm_lora_b`: bs 8, N 256, rank 16, 3 adapters, scaling 0.5;
/// 3. `qkv_lora_b`: bs 8, rank 16, 3 adapters, q 128, kv 64;
/// 4. `gate_up_lora_b`: bs 8, rank 16, 3 adapters, Nout 128;
/// 5. mixed ranks: bs 12, K 256, ranks 8/16/32/16 (R 32), scalings 0.25/0.5/1/2;
/// 6. single adapter: bs 16, K 256, rank 16, every token on slot 0 of 2.
///
/// SGLang checks the two routings with `allclose(atol 1e-4, rtol 1e-3)`; on a
/// CPU with a fixed per-row order they must agree bit for bit. Each case runs
/// its own kernel and, beyond SGLang, the other three on the same batch, and
/// every output must sit within `Reference`'s derived bf16 tolerance.
///
/// bf16 is SGLang's dtype, but rounding to 8 bits hides most order bugs (two
/// fp32 sums a few ulps apart nearly always round to the same bf16), so every
/// case also runs in fp32, where a changed accumulation order shows at once.
final class SGLangCaseTests: XCTestCase {
    /// SGLang's dims for its four single-kernel cases.
    let dims16 = ModelDims(hidden: 256, out: 256, q: 128, kv: 64, ffn: 128, maxRank: 16)

    func check(_ kernels: [Kernel], dims: ModelDims, ranks: [Int], scalings: [Float]? = nil, wi: [Int],
               file: StaticString = #filePath, line: UInt = #line) throws {
        for dtype in [DType.bf16, .fp32] {
          for kernel in kernels {
            let w = makeWorkload(kernel: kernel, dims: dims, dtype: dtype, ranks: ranks, scalings: scalings, wi: wi)
            let r = try KernelRunner.run(w, options: checkedRun)
            let label = "\(kernel.name) \(dtype)"
            XCTAssertTrue(r.bitwiseEqual, "\(label): routings differ", file: file, line: line)
            XCTAssertEqual(r.maxAbsDiffBetweenRoutings, 0, label, file: file, line: line)
            XCTAssertEqual(r.clobberedCells, 0, "\(label): shrink wrote past N_eff", file: file, line: line)
            for run in r.routings {
                XCTAssertEqual(run.toleranceViolations, 0, "\(label) \(run.routing): cells over tolerance", file: file, line: line)
                // Rounding shows: the error is real but small next to unit-size outputs.
                XCTAssertGreaterThan(run.maxAbsErrorVsReference, 0, label, file: file, line: line)
                XCTAssertLessThan(run.maxAbsErrorVsReference, dtype == .bf16 ? 0.05 : 1e-5, label, file: file, line: line)
            }
          }
        }
    }

    func others(_ first: Kernel) -> [Kernel] { [first] + allKernels().filter { $0 != first } }

    func testSGemmLoRAA() throws {
        try check(others(.sgemmLoRAA(stack: 1)), dims: dims16, ranks: [16, 16, 16], wi: (0..<8).map { $0 % 3 })
    }

    func testSGemmLoRAB() throws {
        try check(others(.sgemmLoRAB), dims: dims16, ranks: [16, 16, 16], scalings: [0.5, 0.5, 0.5], wi: (0..<8).map { $0 % 3 })
    }

    func testQKVLoRAB() throws {
        try check(others(.qkvLoRAB), dims: dims16, ranks: [16, 16, 16], wi: (0..<8).map { $0 % 3 })
    }

    func testGateUpLoRAB() throws {
        try check(others(.gateUpLoRAB), dims: dims16, ranks: [16, 16, 16], wi: (0..<8).map { $0 % 3 })
    }

    func testMixedRanks() throws {
        let dims = ModelDims(hidden: 256, out: 256, q: 128, kv: 64, ffn: 128, maxRank: 32)
        try check(others(.sgemmLoRAA(stack: 1)), dims: dims, ranks: [8, 16, 32, 16], scalings: [0.25, 0.5, 1, 2],
                  wi: (0..<12).map { $0 % 4 })
    }

    func testSingleAdapter() throws {
        try check(others(.sgemmLoRAA(stack: 1)), dims: dims16, ranks: [16, 16], wi: Array(repeating: 0, count: 16))
    }
}
