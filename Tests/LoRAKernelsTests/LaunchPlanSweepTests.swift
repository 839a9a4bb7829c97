import XCTest
@_spi(Testing) @testable import LoRAKernels

/// Closed-form counts held against enumeration, and fates held against the
/// literal program of docs/kernels.md §3, over thousands of random batches.
final class LaunchPlanSweepTests: XCTestCase {
    static let kernels: [Kernel] = [.sgemmLoRAA(stack: 1), .sgemmLoRAA(stack: 2), .sgemmLoRAA(stack: 3),
                                    .sgemmLoRAB, .qkvLoRAB, .gateUpLoRAB]

    static func randomWorkload(_ g: inout SplitMix64) -> Workload {
        let slots = Int.random(in: 1...12, using: &g)
        let maxRank = [8, 16, 24, 64].randomElement(using: &g)!
        let dims = ModelDims(hidden: Int.random(in: 1...300, using: &g), out: Int.random(in: 1...700, using: &g),
                             q: Int.random(in: 1...300, using: &g), kv: Int.random(in: 1...200, using: &g),
                             ffn: Int.random(in: 1...300, using: &g), maxRank: maxRank)
        let adapterCount = Int.random(in: 1...slots, using: &g)
        let slotOrder = Array(0..<slots).shuffled(using: &g)
        let adapters = (0..<adapterCount).map {
            Adapter(name: "a\($0)", rank: Bool.random(using: &g) ? maxRank : Int.random(in: 0...maxRank, using: &g),
                    scaling: 1, slot: slotOrder[$0])
        }
        let mode: Mode = Bool.random(using: &g) ? .decode : .extend
        let bs = Int.random(in: 1...70, using: &g)
        let sequences = (0..<bs).map { _ in
            BatchSequence(adapter: "a\(Int.random(in: 0..<adapterCount, using: &g))", tokens: Int.random(in: 1...40, using: &g))
        }
        let batch = Batch(slotCount: slots, adapters: adapters, sequences: sequences, mode: mode)
        return Workload(batch: batch, dims: dims, dtype: DType.allCases.randomElement(using: &g)!,
                        kernel: Self.kernels.randomElement(using: &g)!)
    }

    /// The program of docs/kernels.md §3 steps 1–5, written out literally from the routing.
    func literalFate(_ w: Workload, _ r: Routing, pid: Int, slice: Int, seg: Int) -> ProgramFate {
        let slot = r.weightIndices[seg]
        let rank = w.batch.slotRanks[slot]
        if rank == 0 { return .rank0Exit }
        let len = r.segmentLengths[seg]
        if len == 0 { return .emptyExit }
        let R = w.dims.maxRank
        let numPidN: Int, blockN: Int, width: Int
        switch w.kernel {
        case .sgemmLoRAA(let stack):
            blockN = 16; width = min(stack * R, stack * rank); numPidN = cdiv(width, 16)
        case .sgemmLoRAB:
            blockN = 256; width = w.dims.out; numPidN = cdiv(width, 256)
        case .qkvLoRAB:
            blockN = 64; width = slice == 0 ? w.dims.q : w.dims.kv; numPidN = cdiv(max(w.dims.q, w.dims.kv), 64)
        case .gateUpLoRAB:
            blockN = 64; width = w.dims.ffn; numPidN = cdiv(w.dims.ffn, 64)
        }
        let pidS = pid / numPidN, pidN = pid % numPidN
        if pidS * 16 >= len { return .excessExit }
        if pidN * blockN >= width { return .maskedOut }
        return pidS * 16 + 16 <= len ? .full : .partial
    }

    func testClosedFormMatchesEnumerationAndTheLiteralProgram() {
        var g = SplitMix64(seed: 2026)
        var programs = 0
        for _ in 0..<1200 {
            let w = Self.randomWorkload(&g)
            for kind in Strategy.allCases where kind.isTriton {
                let plan = LaunchPlan(workload: w, routing: kind)
                let counts = plan.fateCounts
                XCTAssertEqual(counts, plan.enumeratedFateCounts(), "\(w)")
                XCTAssertEqual(counts.total, plan.launched)
                // Every program against the literal program; sums against the closed forms.
                var validRows = 0, useful = 0, weightBytes = 0, computing = 0
                for seg in 0..<plan.segments.count {
                    for slice in 0..<plan.sliceCount {
                        for pid in 0..<plan.pidCount {
                            let pos = GridPosition(pid: pid, slice: slice, segment: seg)
                            let t = plan.tile(pos)
                            XCTAssertEqual(t.fate, literalFate(w, plan.routing, pid: pid, slice: slice, seg: seg))
                            guard t.fate.runsKLoop else { continue }
                            validRows += t.validRows
                            useful += t.validRows * t.validColumns * t.reduction
                            weightBytes += t.validColumns * t.reduction * w.dtype.byteCount
                            if t.validColumns > 0 { computing += 1 }
                        }
                    }
                }
                programs += plan.launched
                XCTAssertEqual(validRows, plan.validRows)
                XCTAssertEqual(useful, plan.usefulMACs)
                XCTAssertEqual(weightBytes, plan.weightBytes)
                XCTAssertEqual(computing, plan.computingTiles.count)
                XCTAssertEqual(computing, counts[.partial] + counts[.full])
            }
        }
        XCTAssertGreaterThan(programs, 100_000)
    }

    /// Both routings compute the same useful work over the same valid cells.
    func testRoutingsCoverTheSameOutputCells() {
        var g = SplitMix64(seed: 7)
        for _ in 0..<150 {
            let w = Self.randomWorkload(&g)
            var covered: [Strategy: [UInt8]] = [:]
            for kind in Strategy.allCases where kind.isTriton {
                let plan = LaunchPlan(workload: w, routing: kind)
                // How often each output cell is written.
                var writes = [UInt8](repeating: 0, count: w.batch.totalTokens * w.outputWidth)
                plan.forEachComputingTile { t in
                    let seg = t.position.segment
                    for row in t.rowStart..<(t.rowStart + t.validRows) {
                        let base = plan.routing.physicalRow(segment: seg, row: row) * w.outputWidth + t.outputColumnOffset + t.columnStart
                        for cell in base..<(base + t.validColumns) { writes[cell] &+= 1 }
                    }
                }
                XCTAssertTrue(writes.allSatisfy { $0 <= 1 }, "each valid cell is written once")
                // Every valid cell: a token's stack·r shrink columns, or all output columns of an expand.
                let ranks = w.batch.slotRanks
                let valid = zip(w.batch.weightIndices, w.batch.sequenceLengths).reduce(0) { sum, s in
                    let r = min(ranks[s.0], w.dims.maxRank)
                    return sum + s.1 * (r == 0 ? 0 : w.kernel.isShrink ? w.kernel.stack * r : w.outputWidth)
                }
                XCTAssertEqual(writes.reduce(0) { $0 + Int($1) }, valid)
                covered[kind] = writes
            }
            XCTAssertEqual(covered[.perSequence], covered[.sorted])
            XCTAssertEqual(covered[.tight], covered[.sorted])
        }
    }
}
