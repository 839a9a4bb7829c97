import Foundation
import XCTest
@testable import LoRAKernels

/// The executor's schedules: the shrink a row block at a time with K in chunks
/// (`SGemmLoRAA.rowBlock`) or four lone rows side by side, the expands in
/// rectangles of row blocks × column tiles. Schedules only: every program runs
/// once, every cell keeps the bits the lone programs give it.
final class LaunchScheduleTests: XCTestCase {
    /// Every working program exactly once, however blocks are cut and the range split among workers.
    func testBlocksCoverEveryWorkingProgramOnce() {
        let dims = ModelDims(hidden: 64, out: 300, q: 70, kv: 24, ffn: 100, maxRank: 19)
        for kernel in [Kernel.sgemmLoRAA(stack: 3), .sgemmLoRAB, .qkvLoRAB, .gateUpLoRAB] {
            for (mode, lengths) in [(Mode.decode, nil as [Int]?), (.extend, [3, 17, 1, 9, 90, 2, 40])] {
                let w = makeWorkload(kernel: kernel, dims: dims, ranks: [19, 0, 4, 16], wi: [0, 1, 2, 3, 0, 3, 2],
                                     lengths: lengths, mode: mode)
                for kind in Strategy.allCases {
                    let plan = LaunchPlan.execution(workload: w, strategy: kind)
                    var expected: [GridPosition] = []
                    for seg in plan.segments where seg.workingPids > 0 {
                        for slice in 0..<plan.sliceCount {
                            for pid in 0..<seg.workingPids { expected.append(GridPosition(pid: pid, slice: slice, segment: seg.segment)) }
                        }
                    }
                    let shapes = kernel.isShrink ? [(1, 0, true), (1, 0, false), (1, 1, false)]
                        : [(1, 1, false), (2, 3, false), (16, 16, false), (3, 0, false)]
                    for (rowBlocks, columnTiles, pack) in shapes {
                        let tasks = ProgramTasks(plan, rowBlocksPerTask: rowBlocks, columnTilesPerTask: columnTiles,
                                                   packLoneRows: pack)
                        var seen: [GridPosition] = []
                        var start = 0
                        for size in [1, 7, 5, 30, tasks.count] where start < tasks.count {
                            tasks.forEach(in: start..<min(tasks.count, start + size)) { task in
                                seen += task.positions(columnTilesPerRowBlock: plan.segments[task.segment].columnTiles)
                            }
                            start = min(tasks.count, start + size)
                        }
                        let label = "\(kernel.name) \(mode) \(kind) \(rowBlocks)×\(columnTiles) pack \(pack)"
                        XCTAssertEqual(Set(seen), Set(expected), label)
                        XCTAssertEqual(seen.count, expected.count, label)
                    }
                }
            }
        }
    }

    /// Expand blocks of any size give the bits of one program at a time.
    func testExpandBlocksGiveTheLoneProgramsBits() throws {
        try forEachExpandCase(extendLengths: [3, 17, 1, 9, 90, 2, 40]) { label, inputs, plan in
            let outputs = [(1, 1), (16, 16), (2, 0)].map { shape -> TensorBuffer<BFloat16> in
                let out = TensorBuffer(copying: inputs.base)
                let tasks = ProgramTasks(plan, rowBlocksPerTask: shape.0, columnTilesPerTask: shape.1)
                XCTAssertTrue(LaunchExecutor.execute(Launch(plan: plan, inputs: inputs, output: out.pointer),
                                                     threads: 2, serialBelow: 0, tasks: tasks))
                return out
            }
            for other in outputs.dropFirst() {
                XCTAssertEqual(memcmp(outputs[0].pointer, other.pointer, other.count * 2), 0, label)
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
        let inputs = try KernelInputs<E>(workload: w)
        for kind in Strategy.allCases {
            let plan = LaunchPlan.execution(workload: w, strategy: kind)
            let (scheduled, lone) = scheduledAndLoneShrink(plan, inputs)
            XCTAssertGreaterThan(plan.usefulMACs, 0, label)
            XCTAssertEqual(memcmp(scheduled.pointer, lone.pointer, lone.count * MemoryLayout<E>.size), 0, "\(label) \(kind)")
        }
    }
}
