/// `sgemm_lora_b`, the plain expand: `out += scaling · x[:, 0..<r] · B[w][:, 0..<r]ᵀ`
/// over `N = dims.out` columns.
///
/// Grid (from `LaunchPlan`): axis 0 = `cdiv(max_len, 16) · cdiv(N, 256)`,
/// axis 1 = segments; `BLOCK_N = 256`, `BLOCK_K = 16`, `K_eff = min(R, r)`.
enum SGemmLoRAB {
    /// The programs of `task`: its row blocks × column tiles in one slice.
    static func programs<E: KernelElement>(_ task: ProgramTask, _ launch: Launch<E>, _ scratch: ProgramScratch) {
        ExpandProgram.run(task, launch, scratch)
    }
}
