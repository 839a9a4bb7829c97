import LoRAKernels

/// A message into the app's single update function (bubbletea's `Msg`).
public enum AppEvent: Sendable {
    case key(Key)
    /// Bracketed-paste text (the terminal's `ESC[200~ … ESC[201~`): text, never keys.
    case paste(String)
    /// A click at a screen cell.
    case mouse(x: Int, y: Int)
    case resize(width: Int, height: Int)
    /// The clock moved: seconds since an arbitrary origin (a virtual clock in tests).
    case tick(now: Double)
    /// The background kernel run moved (0…1).
    case runProgress(Double)
    case runFinished(KernelRunResult)
    /// The layer table's eight launches ran (before `.runFinished` of the same run).
    case layerRunFinished([KernelRunResult])
    case runFailed(String)
    /// The host could not carry out an action (a file it could not write…).
    case failed(String)
    /// The host did something worth saying (a file written…).
    case notice(String)
}
