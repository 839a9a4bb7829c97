/// `qkv_lora_b`, the fused q/k/v expand: slice `q` (axis 1) writes output
/// columns `n_offs[q] ..< n_offs[q+1]` (`n_offs = [0, Nq, Nq+Nkv, Nq+2Nkv]`)
/// from x columns `q·r ..< q·r + r` and rows `n_offs[q] + c` of `B`.
///
/// Grid (from `LaunchPlan`): axis 0 = `cdiv(max_len, 16) · cdiv(max(Nq, Nkv), 64)`,
/// axis 1 = 3 slices, axis 2 = segments. With `Nkv < Nq` the k/v column tiles
/// past `Nkv` are masked out: the plan gives them no valid column, so they
/// store nothing (on a GPU they still run their K loop).
enum QKVLoRAB {
    /// The programs of `task`: its row blocks × column tiles in one slice.
    static func programs<E: KernelElement>(_ task: ProgramTask, _ launch: Launch<E>, _ scratch: ProgramScratch) {
        ExpandProgram.run(task, launch, scratch)
    }
}
