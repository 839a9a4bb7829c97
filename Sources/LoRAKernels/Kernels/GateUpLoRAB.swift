/// `gate_up_lora_b`, the fused gate/up expand: slice `g` (axis 1) writes output
/// columns `g·Nout ..< (g+1)·Nout` from x columns `g·r ..< g·r + r` and rows
/// `g·Nout + c` of `B`.
///
/// Grid (from `LaunchPlan`): axis 0 = `cdiv(max_len, 16) · cdiv(Nout, 64)`,
/// axis 1 = 2 slices, axis 2 = segments.
enum GateUpLoRAB {
    /// The programs of `task`: its row blocks × column tiles in one slice.
    static func programs<E: KernelElement>(_ task: ProgramTask, _ launch: Launch<E>, _ scratch: ProgramScratch) {
        ExpandProgram.run(task, launch, scratch)
    }
}
