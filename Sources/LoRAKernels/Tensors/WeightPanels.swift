/// The layout the kernels read one weight matrix in: `Wᵀ` (reduction-major)
/// cut into panels of up to 64 output columns, each panel contiguous.
///
/// Element `(k, c)` of a `depth × columns` matrix sits in panel `p = c / 64`,
/// row `k`, at `offset(p) + k · width(p) + position(c % 64, width(p))`. A panel's
/// width is its column count rounded up to 16, zero-filled, so every vector
/// a microkernel reads stays inside its panel row.
///
/// **K pairs (bf16).** Rows `k = 2j` and `2j + 1` of a panel are interleaved
/// into pair row `j`: column `c`'s two elements share one 32-bit word (`2j` in
/// the low half, `2j + 1` in the high half), so a vector of 16 columns is one
/// 64-byte load of 16 words. That is the operand layout of VDPBF16PS (two bf16
/// products into each fp32 lane: `CLoRAKernels/include/lora_bf16_dot.h`), and
/// the Swift bf16 tiles widen such a load into both rows' vectors with one op
/// each (`word << 16`, `word & 0xFFFF0000`). An odd depth is padded with a
/// zero row. Element `(k, c)` then sits at `offset(p) + (k / 2) · 2 · width(p)
/// + 2 · (c % 64) + k % 2`, and the first element of an even row `k` is still
/// `offset(p) + k · width(p)`.
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
    /// Rows `2j` and `2j + 1` interleaved into pair rows (bf16).
    let pairedDepth: Bool

    init(columns: Int, depth: Int, pairedDepth: Bool = false) {
        self.columns = columns
        self.depth = depth
        self.pairedDepth = pairedDepth
    }

    /// The depth as stored: rounded up to a whole pair when paired.
    var storedDepth: Int { pairedDepth ? cdiv(depth, 2) * 2 : depth }

    /// Panels: `cdiv(columns, 64)`.
    var panelCount: Int { cdiv(columns, Self.columnsPerPanel) }

    /// Columns rounded up to whole 16-wide vectors.
    var paddedColumns: Int { cdiv(columns, 16) * 16 }

    /// Elements the matrix occupies, padding included.
    var count: Int { paddedColumns * storedDepth }

    /// Row length of panel `p` (a multiple of 16; only the last panel can be narrower than 64).
    @inline(__always)
    func width(_ p: Int) -> Int { min(Self.columnsPerPanel, paddedColumns - p * Self.columnsPerPanel) }

    /// First element of panel `p` (every panel before it is full).
    @inline(__always)
    func offset(_ p: Int) -> Int { p * Self.columnsPerPanel * storedDepth }

    /// Where element `(k, c)` is stored.
    @inline(__always)
    func index(column c: Int, k: Int) -> Int {
        let p = c / Self.columnsPerPanel
        let inPanel = c % Self.columnsPerPanel
        guard pairedDepth else { return offset(p) + k * width(p) + inPanel }
        return offset(p) + (k / 2) * 2 * width(p) + 2 * inPanel + k % 2
    }

    /// Columns `16v ..< 16v + 16` of row `k` of panel `p` of the matrix at `w`, widened (lanes past the panel's width read its zero padding).
    func vector<E: KernelElement>(_ w: UnsafePointer<E>, panel p: Int, k: Int, vector v: Int) -> SIMD16<Float> {
        guard pairedDepth else { return E.load16(w + offset(p) + k * width(p) + v * 16) }
        let pair = E.panelPair(w + offset(p) + (k / 2) * 2 * width(p) + v * 32)
        return k % 2 == 0 ? pair.even : pair.odd
    }

    /// Elements from one row (`pairedDepth`: one pair row) of panel `p` to the next.
    @inline(__always)
    func rowStride(_ p: Int) -> Int { pairedDepth ? 2 * width(p) : width(p) }
}
