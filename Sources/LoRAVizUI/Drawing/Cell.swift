import LoRAKernels

/// A colour role: what a cell means, mapped to real colours by a terminal backend.
///
/// Views never name colours; the ncurses backend maps roles to 256, 8 or no
/// colours, and the text backend ignores them.
public enum ColorRole: UInt8, CaseIterable, Sendable {
    case normal
    case dim
    case accent
    case title
    case good
    case warning
    case error
    case cursor
    case rank0Exit
    case emptyExit
    case excessExit
    case maskedOut
    case partial
    case full
    case noLoRAExit
    case columnExit
    case splitIdle

    /// The role that draws a fate.
    public init(_ fate: ProgramFate) {
        switch fate {
        case .rank0Exit: self = .rank0Exit
        case .noLoRAExit: self = .noLoRAExit
        case .columnExit: self = .columnExit
        case .splitIdle: self = .splitIdle
        case .emptyExit: self = .emptyExit
        case .excessExit: self = .excessExit
        case .maskedOut: self = .maskedOut
        case .partial: self = .partial
        case .full: self = .full
        }
    }
}

/// The look of one cell: a colour role plus attributes that read without colour.
public struct CellStyle: Hashable, Sendable {
    public var role: ColorRole
    public var bold: Bool
    public var reverse: Bool
    public var underline: Bool

    public init(_ role: ColorRole = .normal, bold: Bool = false, reverse: Bool = false, underline: Bool = false) {
        self.role = role
        self.bold = bold
        self.reverse = reverse
        self.underline = underline
    }

    public static let normal = CellStyle()
    public static let dim = CellStyle(.dim)
    public static let title = CellStyle(.title, bold: true)
    public static let accent = CellStyle(.accent, bold: true)
    public static let error = CellStyle(.error, bold: true)
}

/// One cell of the screen: a single-column character and its style.
public struct Cell: Hashable, Sendable {
    public var scalar: Unicode.Scalar
    public var style: CellStyle

    public init(_ scalar: Unicode.Scalar = " ", _ style: CellStyle = .normal) {
        self.scalar = scalar
        self.style = style
    }

    public static let blank = Cell()
}
