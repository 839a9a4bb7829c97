import LoRAKernels
import LoRAScenario

/// A background kernel run in progress.
public struct RunProgress: Hashable, Sendable {
    public var workload: Workload
    public var fraction: Double
    public var reps: Int
    /// The strategies it runs, in order, and their settings.
    public var strategies: [Strategy]
    public var strategyOptions: StrategyOptions

    /// Whether the run's result will belong to the session's workload and strategies.
    func matches(_ session: Session) -> Bool {
        workload == session.workload && strategies == session.strategies && strategyOptions == session.strategyOptions
    }
}
