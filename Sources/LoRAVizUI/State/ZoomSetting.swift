/// How a pane's grid is scaled.
public enum ZoomSetting: Hashable, Sendable {
    /// The smallest scale at which the grid fits its pane.
    case fit
    /// A fixed scale; the grids pan to keep the cursor in view.
    case fixed(GridScale)
}
