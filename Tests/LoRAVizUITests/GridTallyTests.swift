import LoRAKernels
@testable import LoRAVizUI
import XCTest

/// The zoomed views tally blocks in O(1) per row; these hold that tally
/// against `LaunchPlan.fate`, program by program, over many batch shapes.
final class GridTallyTests: XCTestCase {
    static func workloads() -> [Workload] {
        var result: [Workload] = []
        let kernels: [Kernel] = [.sgemmLoRAA(stack: 1), .sgemmLoRAA(stack: 3), .sgemmLoRAB, .qkvLoRAB, .gateUpLoRAB]
        let dims = ModelDims(hidden: 64, out: 600, q: 256, kv: 64, ffn: 200, maxRank: 32)
        for kernel in kernels {
            for mode in Mode.allCases {
                var batch = Batch(slotCount: 5, adapters: [
                    Adapter(name: "a", rank: 32, slot: 0), Adapter(name: "b", rank: 8, slot: 2),
                    Adapter(name: "base", rank: 0, slot: 3), Adapter(name: "c", rank: 17, slot: 4),
                ], mode: mode)
                for i in 0..<37 {
                    batch.sequences.append(BatchSequence(adapter: ["a", "b", "base", "a", "c"][i % 5], tokens: 1 + (i * 7) % 40))
                }
                result.append(Workload(batch: batch, dims: dims, kernel: kernel))
            }
        }
        return result
    }

    func testBlockTallyMatchesFateOfEveryProgram() {
        for workload in Self.workloads() {
            for kind in Strategy.allCases {
                let plan = LaunchPlan(workload: workload, routing: kind)
                for row in 0..<plan.viewRowCount {
                    let r = plan.viewRow(row)
                    for width in [1, 3, 7, 16] {
                        var start = 0
                        while start < plan.pidCount {
                            let pids = start..<min(plan.pidCount, start + width)
                            var expected = FateCounts()
                            for pid in pids { expected[plan.fate(GridPosition(pid: pid, slice: r.slice, segment: r.segment))] += 1 }
                            XCTAssertEqual(plan.fateCounts(segment: r.segment, slice: r.slice, pids: pids), expected,
                                           "\(workload.kernel.name) \(kind) row \(row) pids \(pids)")
                            start += width
                        }
                    }
                }
                // The whole grid's tally is the plan's closed-form count.
                let all = plan.tally(rows: 0..<plan.viewRowCount, pids: 0..<plan.pidCount)
                for fate in ProgramFate.allCases { XCTAssertEqual(all[fate], plan.fateCounts[fate]) }
            }
        }
    }
}
