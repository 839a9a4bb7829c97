import LoRAKernels

/// What the update asks the host to do (bubbletea's `Cmd`): every side effect.
public enum AppAction: Sendable {
    case quit
    /// Run the chosen strategies on a workload in the background, then on each
    /// of `layer`'s launch workloads (the layer table's); report with
    /// `.runProgress`, `.layerRunFinished` (when `layer` is not empty) and `.runFinished`.
    case startRun(Workload, options: KernelRunOptions, layer: [Workload])
    /// Ask the running run to stop (its result would be stale).
    case cancelRun
    /// Write the current screen as text (`output FILE`).
    case writeScreen(path: String, force: Bool)
    /// Check that a recording may go to `path` (exists and not `force` → `.failed`).
    case checkRecordingTarget(path: String, force: Bool)
    /// Write a recorded scenario atomically (temp file + rename; no overwrite unless `force`).
    case saveRecording(path: String, text: String, force: Bool)
    /// Give the terminal back to the shell and stop (Ctrl-Z); redraw everything once continued.
    case suspend
}
