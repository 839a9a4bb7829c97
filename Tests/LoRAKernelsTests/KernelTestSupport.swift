@testable import LoRAKernels

/// Builds workloads the way the SGLang tests describe batches: one adapter per
/// slot (`ranks[i]`, `scalings[i]`), one sequence per entry of `wi`.
func makeWorkload(kernel: Kernel, dims: ModelDims, dtype: DType = .bf16, ranks: [Int], scalings: [Float]? = nil,
                  wi: [Int], lengths: [Int]? = nil, mode: Mode = .decode, seed: UInt64 = 42) -> Workload {
    let adapters = ranks.enumerated().map { slot, rank in
        Adapter(name: "a\(slot)", rank: rank, scaling: scalings?[slot] ?? 1, slot: slot)
    }
    let sequences = wi.enumerated().map { i, slot in
        BatchSequence(adapter: "a\(slot)", tokens: lengths?[i] ?? 1)
    }
    let batch = Batch(slotCount: ranks.count, adapters: adapters, sequences: sequences, mode: mode)
    return Workload(batch: batch, dims: dims, dtype: dtype, kernel: kernel, seed: seed)
}

/// The four kernels, the shrink with `stack`.
func allKernels(stack: Int = 1) -> [Kernel] {
    [.sgemmLoRAA(stack: stack), .sgemmLoRAB, .qkvLoRAB, .gateUpLoRAB]
}

/// Options for correctness runs: one timed launch, tolerances checked.
let checkedRun = KernelRunOptions(reps: 1, threads: 2, checkTolerances: true)
