import XCTest
@_spi(Testing) @testable import LoRAKernels

/// Plans worked out by hand from docs/kernels.md §3, for all four kernels and both routings.
final class LaunchPlanTests: XCTestCase {
    /// Builds a workload whose sequences are given as adapter names in batch order.
    func workload(slots: Int = 8, adapters: [(String, Int)], sequences: [String],
                  kernel: Kernel, dims: ModelDims = ModelDims()) -> Workload {
        let defined = adapters.enumerated().map { Adapter(name: $1.0, rank: $1.1, slot: $0) }
        let batch = Batch(slotCount: slots, adapters: defined,
                          sequences: sequences.map { BatchSequence(adapter: $0) })
        return Workload(batch: batch, dims: dims, kernel: kernel)
    }

    func counts(_ plan: LaunchPlan) -> [ProgramFate: Int] {
        Dictionary(uniqueKeysWithValues: ProgramFate.allCases.map { ($0, plan.fateCounts[$0]) })
    }

    func expect(_ plan: LaunchPlan, grid: [Int], _ expected: [ProgramFate: Int],
                file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(plan.grid, grid, "grid", file: file, line: line)
        var all = Dictionary(uniqueKeysWithValues: ProgramFate.allCases.map { ($0, 0) })
        all.merge(expected) { $1 }
        XCTAssertEqual(counts(plan), all, file: file, line: line)
        XCTAssertEqual(plan.fateCounts.total, plan.launched, "every program has one fate", file: file, line: line)
        XCTAssertEqual(plan.enumeratedFateCounts(), plan.fateCounts, "closed form = enumeration", file: file, line: line)
    }

    /// Decode bs 12 on 3 adapters of rank 64 (round robin), mlpb 8, default 8B dims.
    ///
    /// Per-sequence: 12 segments of 1 token, so every working program has 1 valid row.
    /// Sorted: 8 segments of lengths [4, 4, 4, 0, 0, 0, 0, 0]; slots 3–7 hold no adapter (rank 0).
    /// Grid coordinates and program positions map both ways, for 2-D and 3-D
    /// grids of every strategy, and nothing outside the grid maps to a program.
    func testGridAxesMapToPositionsAndBack() {
        let dims = ModelDims(hidden: 64, out: 64, q: 64, kv: 32, ffn: 64, maxRank: 16)
        for kernel in [Kernel.sgemmLoRAA(stack: 3), .sgemmLoRAB, .qkvLoRAB, .gateUpLoRAB] {
            let w = makeWorkload(kernel: kernel, dims: dims, ranks: [16, 8, 0], wi: [0, 1, 2, 0, 1])
            for kind in Strategy.allCases {
                let plan = LaunchPlan(workload: w, routing: kind)
                XCTAssertEqual(plan.axisNames.count, plan.grid.count, "\(kind) \(kernel.name)")
                var inside = 0
                for segment in 0...plan.segments.count {
                    for slice in 0...plan.sliceCount {
                        for pid in [0, max(0, plan.pidCount - 1), plan.pidCount] {
                            let p = GridPosition(pid: pid, slice: slice, segment: segment)
                            let axes = plan.axes(of: p)
                            if plan.contains(p) {
                                inside += 1
                                XCTAssertEqual(plan.position(axes: axes), p, "\(kind) \(kernel.name) \(axes)")
                            } else if plan.grid.count == 3 || slice == 0 {
                                XCTAssertNil(plan.position(axes: axes), "\(kind) \(kernel.name) \(axes) is outside \(plan.grid)")
                            }
                        }
                    }
                }
                XCTAssertEqual(inside > 0, plan.launched > 0, "\(kind) \(kernel.name)")
                XCTAssertNil(plan.position(axes: [0]), "one coordinate names no program")
                XCTAssertNil(plan.position(axes: [0, 0, 0, 0]))
            }
        }
    }

    func testDecodeBS12OnThreeAdapters() {
        let names = (0..<12).map { ["A", "B", "C"][$0 % 3] }
        func plans(_ k: Kernel) -> (LaunchPlan, LaunchPlan) {
            let w = workload(adapters: [("A", 64), ("B", 64), ("C", 64)], sequences: names, kernel: k)
            return (LaunchPlan(workload: w, routing: .perSequence), LaunchPlan(workload: w, routing: .sorted))
        }
        // Shrink: cdiv(1,16)·cdiv(64,16) = 4 programs per segment.
        var (p, s) = plans(.sgemmLoRAA(stack: 1))
        expect(p, grid: [4, 12], [.partial: 48])
        expect(s, grid: [4, 8], [.partial: 12, .rank0Exit: 20])
        // Expand: cdiv(4096, 256) = 16 column tiles.
        (p, s) = plans(.sgemmLoRAB)
        expect(p, grid: [16, 12], [.partial: 192])
        expect(s, grid: [16, 8], [.partial: 48, .rank0Exit: 80])
        // qkv: cdiv(max(4096, 1024), 64) = 64 tiles per slice; k and v have 16 valid tiles, 48 masked out.
        (p, s) = plans(.qkvLoRAB)
        expect(p, grid: [64, 3, 12], [.partial: 12 * 96, .maskedOut: 12 * 96])
        expect(s, grid: [64, 3, 8], [.partial: 3 * 96, .maskedOut: 3 * 96, .rank0Exit: 5 * 192])
        // gate_up: cdiv(14336, 64) = 224 tiles per slice, 2 slices.
        (p, s) = plans(.gateUpLoRAB)
        expect(p, grid: [224, 2, 12], [.partial: 12 * 448])
        expect(s, grid: [224, 2, 8], [.partial: 3 * 448, .rank0Exit: 5 * 448])
        // Valid rows: each working program of the sorted shrink covers its slot's 4 tokens.
        (p, s) = plans(.sgemmLoRAA(stack: 1))
        XCTAssertEqual(s.validRows, 12 * 4)
        XCTAssertEqual(p.validRows, 48)
        XCTAssertEqual(p.rowUtilisation, 1.0 / 16)
    }

    /// Decode bs 40: A (20 seqs), B (18), two base-model sequences (rank 0), C defined but unused.
    ///
    /// Sorted: `max_len = 40` → 3 row blocks × 16 tiles = 48 programs per slot.
    /// Slot 0 (20 tokens): 16 full, 16 partial, 16 excess; slot 1 (18 tokens) the same;
    /// slot 2 (base) 48 rank-0; slot 3 (C, no tokens) 48 empty; slots 4–7 unused: 4 × 48 rank-0.
    func testBaseModelSequencesAndEmptySlot() {
        var names = Array(repeating: "A", count: 20) + Array(repeating: "B", count: 18) + ["base", "base"]
        var rng = SplitMix64(seed: 0x5EED)
        names.shuffle(using: &rng)
        let w = workload(adapters: [("A", 64), ("B", 64), ("base", 0), ("C", 64)], sequences: names, kernel: .sgemmLoRAB)
        let p = LaunchPlan(workload: w, routing: .perSequence)
        let s = LaunchPlan(workload: w, routing: .sorted)
        expect(p, grid: [16, 40], [.rank0Exit: 32, .partial: 608])
        expect(s, grid: [48, 8], [.rank0Exit: 240, .emptyExit: 48, .excessExit: 32, .full: 32, .partial: 32])
        XCTAssertEqual(s.validRows, 38 * 16)
        XCTAssertEqual(s.rowUtilisation, 608.0 / 1024)
        // Weights: per-sequence loads an adapter's 4096×64 bf16 B once per sequence, sorted once per 16 tokens.
        let adapterBytes = 4096 * 64 * 2
        XCTAssertEqual(p.weightBytes, 38 * adapterBytes)
        XCTAssertEqual(s.weightBytes, 4 * adapterBytes)
        XCTAssertEqual(s.usefulMACs, p.usefulMACs)
        XCTAssertEqual(s.usefulMACs, 38 * 4096 * 64)
        XCTAssertEqual(p.issuedMACs, 608 * 16 * 256 * 64)
        XCTAssertEqual(s.issuedMACs, 64 * 16 * 256 * 64)
    }

    /// Mixed ranks in the shrink: rank 16 has `num_pid_n = 1`, so its `pid` range maps to
    /// 12 row blocks and 10 of 12 programs take the excess exit; rank 64 loses only 4.
    func testMixedRanksInTheShrink() {
        let names = Array(repeating: "lo", count: 20) + Array(repeating: "hi", count: 20)
        let w = workload(slots: 2, adapters: [("lo", 16), ("hi", 64)], sequences: names, kernel: .sgemmLoRAA(stack: 1))
        let s = LaunchPlan(workload: w, routing: .sorted)
        expect(s, grid: [12, 2], [.full: 1 + 4, .partial: 1 + 4, .excessExit: 10 + 4])
        XCTAssertEqual(s.segments.map(\.columnTiles), [1, 4])
        XCTAssertEqual(s.segments.map(\.workingPids), [2, 8])
        // Program 1 of the rank-16 slot is row block 1 (rows 16..<20); of the rank-64 slot, row block 0, column tile 1.
        let lo = s.tile(GridPosition(pid: 1, segment: 0))
        XCTAssertEqual([lo.rowStart, lo.validRows, lo.columnStart, lo.validColumns], [16, 4, 0, 16])
        let hi = s.tile(GridPosition(pid: 1, segment: 1))
        XCTAssertEqual([hi.rowStart, hi.validRows, hi.columnStart, hi.validColumns], [0, 16, 16, 16])
        // The stacked qkv shrink of a rank-8 adapter: N_eff = 24 → 2 column tiles, the second half valid.
        let w3 = workload(slots: 1, adapters: [("a", 8)], sequences: ["a"], kernel: .sgemmLoRAA(stack: 3))
        let s3 = LaunchPlan(workload: w3, routing: .sorted)
        XCTAssertEqual(s3.grid, [12, 1])
        XCTAssertEqual(s3.tile(GridPosition(pid: 1, segment: 0)).validColumns, 8)
        expect(s3, grid: [12, 1], [.partial: 2, .excessExit: 10])
    }

    /// qkv with q 4096, kv 1024: in every working row block, 48 of 64 k tiles and 48 of 64 v tiles are masked out.
    func testQKVMaskedOutPrograms() {
        let w = workload(slots: 4, adapters: [("a", 32)], sequences: Array(repeating: "a", count: 16), kernel: .qkvLoRAB)
        let s = LaunchPlan(workload: w, routing: .sorted)
        expect(s, grid: [64, 3, 4], [.full: 64 + 16 + 16, .maskedOut: 96, .rank0Exit: 3 * 192])
        let masked = s.tile(GridPosition(pid: 16, slice: 1, segment: 0))
        XCTAssertEqual(masked.fate, .maskedOut)
        XCTAssertEqual(masked.validColumns, 0)
        XCTAssertEqual(masked.outputColumnOffset, 4096)
        XCTAssertEqual(masked.inputColumnOffset, 32)
        let v = s.tile(GridPosition(pid: 3, slice: 2, segment: 0))
        XCTAssertEqual(v.fate, .full)
        XCTAssertEqual([v.outputColumnOffset, v.inputColumnOffset, v.columnStart], [4096 + 1024, 64, 192])
        // Masked-out programs load no weights but are issued.
        XCTAssertEqual(s.weightBytes, (4096 + 2 * 1024) * 32 * 2)
    }
}

