import XCTest
@_spi(Testing) @testable import LoRAKernels

/// The strategies beyond SGLang's `triton` routings (docs/strategies.md):
/// hand-worked plans, closed-form counts against enumeration, and every
/// program against the literal kernel written out from the routing.
final class StrategyPlanTests: XCTestCase {
    /// Decode bs 64 on three rank-16 adapters with 40/20/4 tokens, 8 slots,
    /// hidden/out/q 4096, kv 1024, ffn 14336, R 16: docs/strategies.md's
    /// worked example.
    static func workedExample(_ kernel: Kernel) -> Workload {
        let adapters = [Adapter(name: "a", rank: 16, slot: 0), Adapter(name: "b", rank: 16, slot: 1),
                        Adapter(name: "c", rank: 16, slot: 2)]
        // Interleaved, so the sort has work to do.
        var sequences: [BatchSequence] = []
        for i in 0..<40 {
            sequences.append(BatchSequence(adapter: "a"))
            if i < 20 { sequences.append(BatchSequence(adapter: "b")) }
            if i < 4 { sequences.append(BatchSequence(adapter: "c")) }
        }
        let batch = Batch(slotCount: 8, adapters: adapters, sequences: sequences, mode: .decode)
        let dims = ModelDims(hidden: 4096, out: 4096, q: 4096, kv: 1024, ffn: 14336, maxRank: 16)
        return Workload(batch: batch, dims: dims, kernel: kernel)
    }

    func testWorkedExampleLaunchesWhatTheKernelsLaunch() {
        let kernels = Kernel.all(stack: 3)
        let expected: [(Strategy, [Int])] = [
            (.perSequence, [192, 1024, 12288, 28672]),
            (.sorted, [96, 512, 6144, 14336]),
            (.tight, [72, 384, 4608, 10752]),
            (.csgmv, [18, 384, 576, 2688]),
            (.csgmvGraph, [192, 4096, 6144, 28672]),
            (.vllm, [3456, 288, 1728, 4032]),
        ]
        for (strategy, launched) in expected {
            for (kernel, n) in zip(kernels, launched) {
                let plan = LaunchPlan(workload: Self.workedExample(kernel), strategy: strategy)
                XCTAssertEqual(plan.launched, n, "\(strategy) \(kernel.name)")
                XCTAssertEqual(plan.fateCounts.total, n)
            }
        }
    }

    /// vLLM's exit-work pairs count, per group, every program that holds a slot
    /// past its start (working programs and idle splits) behind the excess and
    /// column exits of the groups before it: enumerated program by program here.
    func testVLLMExitWorkPairsCountIdleSplits() {
        let plan = LaunchPlan(workload: Self.workedExample(.sgemmLoRAA(stack: 3)), strategy: .vllm)
        var pairs = 0, workingOnly = 0, exitsSoFar = 0
        for group in plan.segments.indices {
            var holding = 0, working = 0, exits = 0
            for slice in 0..<plan.sliceCount {
                for pid in 0..<plan.pidCount {
                    let fate = plan.tile(GridPosition(pid: pid, slice: slice, segment: group)).fate
                    if fate.runsKLoop { working += 1; holding += 1 }
                    if fate == .splitIdle { holding += 1 }
                    if fate == .excessExit || fate == .columnExit { exits += 1 }
                }
            }
            pairs += holding * exitsSoFar
            workingOnly += working * exitsSoFar
            exitsSoFar += exits
        }
        XCTAssertEqual(plan.gpuWork.excessExitWorkPairs, pairs)
        // Three quarters of the shrink's splits are idle at K 4,096 (16 K blocks, 64 splits).
        XCTAssertGreaterThan(pairs, 3 * workingOnly)
    }

    func testWorkedExampleFates() {
        func counts(_ strategy: Strategy, _ kernel: Kernel) -> [ProgramFate: Int] {
            let c = LaunchPlan(workload: Self.workedExample(kernel), strategy: strategy).fateCounts
            return Dictionary(uniqueKeysWithValues: ProgramFate.allCases.compactMap { c[$0] > 0 ? ($0, c[$0]) : nil })
        }
        let shrink = Kernel.sgemmLoRAA(stack: 3)
        // vLLM's shrink: grid (64 splits · 2 m tiles · 1 n tile, 3, 9).
        let vllm = LaunchPlan(workload: Self.workedExample(shrink), strategy: .vllm)
        XCTAssertEqual(vllm.grid, [128, 3, 9])
        XCTAssertEqual(vllm.blocks, BlockSizes(m: 32, n: 16, k: 256, splitK: 64))
        XCTAssertEqual(counts(.vllm, shrink), [.noLoRAExit: 2304, .excessExit: 384, .splitIdle: 576, .partial: 144, .full: 48])
        // vLLM's qkv expand: k and v slices (1024 wide) leave 48 of 64 n tiles as column exits.
        XCTAssertEqual(counts(.vllm, .qkvLoRAB), [.noLoRAExit: 1152, .columnExit: 288, .partial: 288])
        // csgmv: chunks 16/16/8, 16/4, 4; three column tiles each.
        XCTAssertEqual(counts(.csgmv, shrink), [.full: 9, .partial: 9])
        XCTAssertEqual(LaunchPlan(workload: Self.workedExample(shrink), strategy: .csgmv).grid, [3, 6])
        // Under a graph captured at max_bs 64: 58 padded segments exit empty.
        XCTAssertEqual(counts(.csgmvGraph, shrink), [.emptyExit: 174, .full: 9, .partial: 9])
        // tight: max_len 40, three row blocks per segment.
        XCTAssertEqual(counts(.tight, shrink), [.rank0Exit: 45, .excessExit: 9, .full: 9, .partial: 9])
    }

    func testCSGMVShrinkMasksTilesPastTheRankAndExpandsCountTilesPerSlice() {
        var w = Self.workedExample(.sgemmLoRAA(stack: 3))
        w.batch.adapters[2].rank = 4  // 12 of 48 columns: tiles 1 and 2 masked
        let c = LaunchPlan(workload: w, strategy: .csgmv).fateCounts
        XCTAssertEqual(c[.maskedOut], 2, "one segment (4 tokens) × two tiles past stack·r = 12")
        w.kernel = .qkvLoRAB
        let qkv = LaunchPlan(workload: w, strategy: .csgmv)
        XCTAssertEqual(qkv.pidCount, 64 + 16 + 16)
        XCTAssertEqual(qkv.fateCounts[.maskedOut], 0)
        let tile = qkv.tile(GridPosition(pid: 64 + 16 + 3, segment: 0))
        XCTAssertEqual([tile.slice, tile.columnTile, tile.columnStart, tile.outputColumnOffset], [2, 3, 192, 4096 + 1024])
    }

    func testVLLMGroupsBaseTokensAsMinusOneAndLaunchesNothingWithoutLoRA() {
        var w = Self.workedExample(.sgemmLoRAB)
        w.batch.adapters.append(Adapter(name: "base", rank: 0, slot: 5))
        w.batch.sequences += Array(repeating: BatchSequence(adapter: "base"), count: 7)
        let plan = LaunchPlan(workload: w, strategy: .vllm)
        XCTAssertEqual(plan.segments.map(\.slot), [-1, 0, 1, 2, -1, -1, -1, -1, -1])
        XCTAssertEqual(plan.segments.map(\.length), [7, 40, 20, 4, 0, 0, 0, 0, 0])
        XCTAssertEqual(plan.fate(GridPosition(pid: 0, slice: 0, segment: 0)), .noLoRAExit)
        // specialize: the smallest power of two ≥ 4 groups.
        XCTAssertEqual(LaunchPlan(workload: w, strategy: .vllm, options: StrategyOptions(specializeActiveLoRAs: true)).grid[2], 4)
        w.batch.sequences = Array(repeating: BatchSequence(adapter: "base"), count: 3)
        let none = LaunchPlan(workload: w, strategy: .vllm)
        XCTAssertEqual(none.grid, [0, 0, 0])
        XCTAssertEqual(none.launched, 0)
    }

    func testCSGMVChunkGrowsWithTheBatchUpToTheMaximum() {
        let w = Self.workedExample(.sgemmLoRAB)  // 64 tokens
        XCTAssertEqual(LaunchPlan(workload: w, strategy: .csgmv).blocks.m, 16)
        XCTAssertEqual(LaunchPlan(workload: w, strategy: .csgmv, options: StrategyOptions(chunk: 128)).blocks.m, 32)
        XCTAssertEqual(LaunchPlan(workload: w, strategy: .csgmv, options: StrategyOptions(chunk: 128)).segments.count, 2 + 1 + 1)
    }

    func testAGraphBufferSmallerThanTheLiveSegmentsIsRefused() {
        let w = Self.workedExample(.sgemmLoRAB)
        XCTAssertNoThrow(try StrategyOptions(graphSegments: 6).validate([.csgmvGraph], for: w.batch))
        XCTAssertThrowsError(try StrategyOptions(graphSegments: 5).validate([.csgmvGraph], for: w.batch)) { error in
            XCTAssertEqual("\(error)", "csgmv-graph's segment buffer holds 5 segments but this batch has 6 (graph_segments=6 or more fits it)")
        }
        XCTAssertNoThrow(try StrategyOptions(graphSegments: 5).validate([.csgmv], for: w.batch))
    }

    // MARK: Every program, every random batch

    /// csgmv's program, literally: exits in the kernel's order, then the tile.
    func literalCSGMV(_ w: Workload, _ r: Routing, chunk: Int, pid: Int, seg: Int) -> ProgramFate {
        let len = r.segmentLengths[seg]
        if len == 0 { return .emptyExit }
        let rank = w.batch.slotRanks[r.weightIndices[seg]]
        if rank == 0 { return .rank0Exit }
        if case .sgemmLoRAA(let stack) = w.kernel, pid * 16 >= stack * rank { return .maskedOut }
        return len == chunk ? .full : .partial
    }

    /// vLLM's programs, literally: the pid decoded as the kernels decode it.
    func literalVLLM(_ w: Workload, _ r: Routing, _ b: BlockSizes, pid: Int, slice: Int, group: Int) -> ProgramFate {
        let m = w.batch.totalTokens
        let cm = cdiv(m, b.m)
        var pidM: Int, pidN: Int, split = 0
        if w.kernel.isShrink {
            let cn = cdiv(w.dims.maxRank, b.n)
            split = pid % b.splitK
            let mn = pid / b.splitK
            let perGroup = 8 * cn, first = (mn / perGroup) * 8, size = min(cm - first, 8)
            pidM = first + (mn % perGroup) % size
            pidN = (mn % perGroup) / size
        } else {
            pidM = pid % cm
            pidN = pid / cm
        }
        if r.weightIndices[group] == -1 { return .noLoRAExit }
        let tokens = r.segmentLengths[group]
        if pidM * b.m >= tokens { return .excessExit }
        if !w.kernel.isShrink, pidN * b.n >= w.kernel.outputSlices(w.dims)[slice].count { return .columnExit }
        if w.kernel.isShrink, split * b.k >= w.dims.hidden { return .splitIdle }
        return pidM * b.m + b.m <= tokens ? .full : .partial
    }

    func testClosedFormMatchesEnumerationAndTheLiteralKernels() {
        var g = SplitMix64(seed: 22386)
        var programs = 0
        for _ in 0..<700 {
            let w = LaunchPlanSweepTests.randomWorkload(&g)
            let options = StrategyOptions(chunk: StrategyOptions.chunks.randomElement(using: &g)!,
                                          graphSegments: Bool.random(using: &g) ? nil : w.batch.totalTokens + 3,
                                          specializeActiveLoRAs: Bool.random(using: &g))
            for strategy in [Strategy.csgmv, .csgmvGraph, .vllm] {
                let plan = LaunchPlan(workload: w, strategy: strategy, options: options)
                let counts = plan.fateCounts
                XCTAssertEqual(counts, plan.enumeratedFateCounts(), "\(strategy) \(w)")
                XCTAssertEqual(counts.total, plan.launched)
                var validRows = 0, weightBytes = 0, issued = 0
                for seg in 0..<plan.segments.count {
                    for slice in 0..<plan.sliceCount {
                        // Random runs of pids, as the zoomed views ask for them.
                        let a = Int.random(in: 0...plan.pidCount, using: &g), b = Int.random(in: a...plan.pidCount, using: &g)
                        var run = FateCounts()
                        for pid in 0..<plan.pidCount {
                            let t = plan.tile(GridPosition(pid: pid, slice: slice, segment: seg))
                            if (a..<b).contains(pid) { run[t.fate] += 1 }
                            let literal = strategy == .vllm
                                ? literalVLLM(w, plan.routing, plan.blocks, pid: pid, slice: slice, group: seg)
                                : literalCSGMV(w, plan.routing, chunk: plan.blocks.m, pid: pid, seg: seg)
                            XCTAssertEqual(t.fate, literal, "\(strategy) pid \(pid) slice \(slice) seg \(seg)")
                            guard t.fate.runsKLoop else { continue }
                            validRows += t.validRows
                            weightBytes += t.validColumns * t.reduction * w.dtype.byteCount
                            issued += plan.blocks.m * plan.blocks.n * cdiv(t.reduction, plan.blocks.k) * plan.blocks.k
                        }
                        XCTAssertEqual(run, plan.fateCounts(segment: seg, slice: slice, pids: a..<b), "\(strategy) pids \(a)..<\(b)")
                    }
                }
                programs += plan.launched
                XCTAssertEqual(validRows, plan.validRows, "\(strategy)")
                XCTAssertEqual(weightBytes, plan.weightBytes, "\(strategy)")
                if strategy != .vllm { XCTAssertEqual(issued, plan.issuedMACs, "\(strategy)") }
            }
        }
        XCTAssertGreaterThan(programs, 100_000)
    }

    /// Every strategy writes each valid output cell exactly once; all but
    /// vLLM's shrink (its own per-slice layout) cover the same cells as sorted.
    func testStrategiesCoverTheSameOutputCells() {
        var g = SplitMix64(seed: 64)
        for _ in 0..<60 {
            let w = LaunchPlanSweepTests.randomWorkload(&g)
            func cells(_ strategy: Strategy) -> [UInt8] {
                let plan = LaunchPlan(workload: w, strategy: strategy)
                var writes = [UInt8](repeating: 0, count: w.batch.totalTokens * w.outputWidth)
                plan.forEachComputingTile { t in
                    guard t.split == 0 else { return }  // split-K: each split adds to the same cells
                    for row in t.rowStart..<(t.rowStart + t.validRows) {
                        let base = plan.routing.physicalRow(segment: t.position.segment, row: row) * w.outputWidth
                            + t.outputColumnOffset + t.columnStart
                        for cell in base..<(base + t.validColumns) { writes[cell] &+= 1 }
                    }
                }
                return writes
            }
            let sorted = cells(.sorted)
            for strategy in [Strategy.csgmv, .csgmvGraph] + (w.kernel.isShrink ? [] : [.vllm]) {
                let c = cells(strategy)
                XCTAssertTrue(c.allSatisfy { $0 <= 1 }, "\(strategy): each valid cell once")
                XCTAssertEqual(c, sorted, "\(strategy)")
            }
        }
    }

    func testTheExecutionPlanRunsTheStrategysRows() {
        let w = Self.workedExample(.sgemmLoRAB)
        for strategy in Strategy.allCases {
            let plan = LaunchPlan.execution(workload: w, strategy: strategy)
            XCTAssertTrue(plan.isExecutable, "\(strategy)")
            XCTAssertEqual(plan.usefulMACs, LaunchPlan(workload: w, strategy: .sorted).usefulMACs, "\(strategy)")
        }
        XCTAssertFalse(LaunchPlan(workload: w, strategy: .vllm).isExecutable)
        XCTAssertEqual(LaunchPlan.execution(workload: w, strategy: .csgmv).segments.count, 6)
        var shrink = w
        shrink.kernel = .sgemmLoRAA(stack: 1)
        XCTAssertEqual(LaunchPlan.execution(workload: shrink, strategy: .vllm).splitK, SplitKOrder(blockK: 256, splits: 64))
        XCTAssertNil(LaunchPlan.execution(workload: shrink, strategy: .sorted).splitK)
    }
}
