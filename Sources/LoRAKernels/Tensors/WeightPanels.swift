/// The layout the kernels read one weight matrix in: `Wᵀ` (reduction-major)
/// cut into panels of up to 64 output columns, each panel contiguous.
///
/// Element `(k, c)` of a `depth × columns` matrix sits in panel `p = c / 64`,
/// row `k`, at `offset(p) + k · width(p) + slot(c % 64, width(p))`. A panel's
/// width is its column count rounded up to 16, zero-filled, so every vector
/// a microkernel reads stays inside its panel row.
///
/// **Paired vectors (bf16).** Within each 32 columns of a row, column `i` and
/// column `16 + i` share one 32-bit word (low half, high half). One 64-byte
/// load then widens into both 16-wide vectors with one op each (`word << 16`,
/// `word & 0xFFFF0000`) instead of a zero-extending shuffle and a shift per
/// vector (`KernelElement.panelVector`): the bf16 shrink at rank 64 measured
/// 8–10 % faster. A panel with an odd number of vectors stores its last one
/// plainly, so a rank-16 panel stays 16 columns wide.
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
    /// Columns `i` and `16 + i` of every 32 share a 32-bit word (bf16).
    let pairedVectors: Bool

    init(columns: Int, depth: Int, pairedVectors: Bool = false) {
        self.columns = columns
        self.depth = depth
        self.pairedVectors = pairedVectors
    }

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
        return offset(p) + k * width(p) + slot(c % Self.columnsPerPanel, width: width(p))
    }

    /// Where column `c` of a panel row `width` wide is stored within the row.
    @inline(__always)
    func slot(_ c: Int, width: Int) -> Int {
        guard pairedVectors, c < width / 32 * 32 else { return c }
        let (pair, i) = c.quotientAndRemainder(dividingBy: 32)
        return pair * 32 + (i % 16) * 2 + i / 16
    }
}
