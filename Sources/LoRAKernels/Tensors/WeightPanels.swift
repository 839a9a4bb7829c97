/// The layout the kernels read one weight matrix in: `Wᵀ` (reduction-major)
/// cut into panels of up to 64 output columns, each panel contiguous.
///
/// Element `(k, c)` of a `depth × columns` matrix sits in panel `p = c / 64`
/// at `offset(p) + k · width(p) + c % 64`. A panel's width is its column count
/// rounded up to 16 (zero-filled), so every 16-wide vector a microkernel reads
/// stays inside its panel row.
///
/// Why panels: a microkernel step reads one to four 16-wide vectors of row
/// `k` of a panel, then row `k + 1`, so one tile's weights are one contiguous
/// stream. In the plain `Wᵀ` layout those rows lay a whole output row apart
/// (gate_up: 112 KB), one page and one prefetch stream per `k`.
/// This is the weights' storage, fixed when an adapter is loaded, as a CPU
/// inference engine prepacks its weights; the kernels' arithmetic and the
/// order of every cell's sum do not depend on it.
struct WeightPanels: Hashable, Sendable {
    /// Output columns per full panel: four 16-wide vectors, a 4 × 4 register tile's width.
    static let columnsPerPanel = 64

    /// Valid columns of the matrix (`N_eff`, `N` or a slice's width).
    let columns: Int
    /// The reduction length (`K` for the shrink, `K_eff` for the expands).
    let depth: Int

    /// Panels: `cdiv(columns, 64)`.
    var panelCount: Int { cdiv(columns, Self.columnsPerPanel) }

    /// Columns rounded up to whole 16-wide vectors.
    var paddedColumns: Int { cdiv(columns, 16) * 16 }

    /// Elements the matrix occupies, padding included.
    var count: Int { paddedColumns * depth }

    /// Row length of panel `p` (a multiple of 16; only the last panel can be narrower than 64).
    @inline(__always)
    func width(_ p: Int) -> Int { min(Self.columnsPerPanel, paddedColumns - p * Self.columnsPerPanel) }

    /// First element of panel `p` (every panel before it is full).
    @inline(__always)
    func offset(_ p: Int) -> Int { p * Self.columnsPerPanel * depth }

    /// Where element `(k, c)` is stored.
    @inline(__always)
    func index(column c: Int, k: Int) -> Int {
        let p = c / Self.columnsPerPanel
        return offset(p) + k * width(p) + c % Self.columnsPerPanel
    }
}
