@testable import LoRAKernels
import XCTest

/// `LaunchPlan.program(computing:column:)`: for every working program of one
/// strategy, the program another strategy runs for the same output cell
/// computes that cell (what the TUI's Tab follows).
final class CounterpartTests: XCTestCase {
    func testEveryWorkingProgramsFirstCellIsFoundInEveryOtherStrategy() {
        let dims = ModelDims(hidden: 64, out: 300, q: 70, kv: 24, ffn: 100, maxRank: 16)
        var checked = 0
        for kernel in allKernels(stack: 2) {
            // Mixed ranks, a rank-0 slot, an unused slot; extend lengths over a 16-row block.
            let w = makeWorkload(kernel: kernel, dims: dims, ranks: [16, 0, 8, 4, 16], wi: [2, 0, 1, 2, 3, 0, 2],
                                 lengths: [3, 1, 18, 2, 5, 1, 1], mode: .extend)
            let plans = Strategy.allCases.map { LaunchPlan(workload: w, strategy: $0, options: StrategyOptions(graphSegments: 8)) }
            for from in plans {
                for seg in from.segments.indices {
                    for slice in 0..<from.sliceCount {
                        for pid in 0..<from.pidCount {
                            guard let cells = from.cells(of: GridPosition(pid: pid, slice: slice, segment: seg)) else { continue }
                            for to in plans {
                                let label = "\(kernel.name) \(from.strategy.name) pid \(pid) seg \(seg) → \(to.strategy.name)"
                                let column = kernel.isShrink ? nil : cells.columns.lowerBound
                                guard let q = to.program(computing: cells.tokens[0], column: column) else {
                                    return XCTFail("\(label): no program computes token \(cells.tokens[0]) column \(cells.columns.lowerBound)")
                                }
                                let there = to.cells(of: q)
                                XCTAssertTrue(there?.tokens.contains(cells.tokens[0]) ?? false, label)
                                checked += 1
                                if let column { XCTAssertTrue(there?.columns.contains(column) ?? false, label) }
                            }
                        }
                    }
                }
            }
        }
        XCTAssertGreaterThan(checked, 1000, "pairs checked")
    }
}
