import LoRAKernels
import LoRAModels

/// A program of one routing's launch grid, as the inspector shows it.
public struct ProgramSelection: Hashable, Sendable {
    public var routing: Strategy
    public var position: GridPosition

    public init(routing: Strategy, position: GridPosition) {
        self.routing = routing
        self.position = position
    }
}
