import Foundation
import XCTest
@testable import LoRAKernels

/// The executor's schedules: the shrink a row block at a time with K in chunks
/// (`SGemmLoRAA.rowBlock`), the expands column tile by column tile over
/// several row blocks. Schedules only: every program runs once, every cell
/// keeps the bits the lone programs give it.
final class LaunchScheduleTests: XCTestCase {
    /// Every working program exactly once, however the range is split among workers.
    func testPassOrderVisitsEveryWorkingProgramOnce() {
        let dims = ModelDims(hidden: 64, out: 300, q: 70, kv: 24, ffn: 100, maxRank: 19)
        for kernel in [Kernel.sgemmLoRAB, .qkvLoRAB, .gateUpLoRAB] {
            let w = makeWorkload(kernel: kernel, dims: dims, ranks: [19, 0, 4, 16], wi: [0, 1, 2, 3, 0, 3, 2],
                                 lengths: [3, 17, 1, 9, 90, 2, 40], mode: .extend)
            for kind in RoutingKind.allCases {
                let plan = LaunchPlan(workload: w, routing: kind)
                var expected: [GridPosition] = []
                for seg in plan.segments where seg.workingPids > 0 {
                    for slice in 0..<plan.sliceCount {
                        for pid in 0..<seg.workingPids { expected.append(GridPosition(pid: pid, slice: slice, segment: seg.segment)) }
                    }
                }
                for perPass in [1, 2, 3, 16] {
                    let programs = WorkingPrograms(plan, rowBlocksPerPass: perPass)
                    XCTAssertEqual(programs.count, expected.count)
                    var seen: [GridPosition] = []
                    var start = 0
                    for size in [1, 7, 5, 30, programs.count] where start < programs.count {
                        programs.forEach(in: start..<min(programs.count, start + size)) { seen.append($0) }
                        start = min(programs.count, start + size)
                    }
                    XCTAssertEqual(Set(seen), Set(expected), "\(kernel.name) \(kind) \(perPass)")
                    XCTAssertEqual(seen.count, expected.count, "\(kernel.name) \(kind) \(perPass)")
                }
            }
        }
    }

    func testRowBlocksGiveTheLoneProgramsBits() throws {
        // K = 600: one full chunk, then a short one that ends in a partial
        // vector; rank 19 gives a partial last column tile and column block;
        // lengths give 1–3 rows, 4–15 rows and full row blocks.
        let dims = ModelDims(hidden: 600, out: 64, q: 64, kv: 64, ffn: 64, maxRank: 19)
        for stack in [1, 3] {
            for (mode, lengths) in [(Mode.decode, nil as [Int]?), (.extend, [3, 17, 1, 9, 38, 2, 5])] {
                let w = makeWorkload(kernel: .sgemmLoRAA(stack: stack), dims: dims, ranks: [19, 0, 4, 16],
                                     wi: [0, 1, 2, 3, 0, 3, 2], lengths: lengths, mode: mode)
                try check(Float.self, w, "fp32 stack \(stack) \(mode)")
                try check(BFloat16.self, w, "bf16 stack \(stack) \(mode)")
                try check(Float16.self, w, "fp16 stack \(stack) \(mode)")
            }
        }
    }

    private func check<E: KernelElement>(_: E.Type, _ workload: Workload, _ label: String) throws {
        var w = workload
        w.dtype = E.dtype
        let inputs = KernelInputs<E>(workload: w)
        for kind in RoutingKind.allCases {
            let plan = LaunchPlan(workload: w, routing: kind)
            let scheduled = TensorBuffer(copying: inputs.base)
            XCTAssertTrue(LaunchExecutor.execute(Launch(plan: plan, inputs: inputs, output: scheduled.pointer),
                                                 threads: 2, serialBelow: 0))
            let lone = TensorBuffer(copying: inputs.base)
            let launch = Launch(plan: plan, inputs: inputs, output: lone.pointer)
            ProgramScratch.with(rowCapacity: 16) { scratch in
                plan.forEachComputingTile { tile in
                    guard tile.validColumns > 0 else { return }
                    SGemmLoRAA.program(tile, launch, scratch)
                }
            }
            XCTAssertGreaterThan(plan.usefulMACs, 0, label)
            XCTAssertEqual(memcmp(scheduled.pointer, lone.pointer, lone.count * MemoryLayout<E>.size), 0, "\(label) \(kind)")
        }
    }
}
