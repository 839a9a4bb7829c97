/// A key press, decoded by the terminal backend.
public enum Key: Hashable, Sendable, CustomStringConvertible {
    case char(Character)
    /// Ctrl plus a letter (`ctrl("r")` is Ctrl-R).
    case ctrl(Character)
    case up, down, left, right
    case pageUp, pageDown, home, end
    case enter, escape, tab, backTab, backspace, delete
    case f1
    case wheelUp, wheelDown

    /// Decodes a character the terminal delivered as text (control codes included).
    public init(code: UInt32) {
        switch code {
        case 9: self = .tab
        case 10, 13: self = .enter
        case 27: self = .escape
        case 8, 127: self = .backspace
        case 1...26: self = .ctrl(Character(Unicode.Scalar(code + 96)!))
        default: self = .char(Character(Unicode.Scalar(code) ?? "?"))
        }
    }

    /// How the help overlay writes the key.
    public var description: String {
        switch self {
        case .char(" "): return "space"
        case .char(let c): return String(c)
        case .ctrl(let c): return "Ctrl-\(String(c).uppercased())"
        case .up: return "↑"
        case .down: return "↓"
        case .left: return "←"
        case .right: return "→"
        case .pageUp: return "PgUp"
        case .pageDown: return "PgDn"
        case .home: return "Home"
        case .end: return "End"
        case .enter: return "Enter"
        case .escape: return "Esc"
        case .tab: return "Tab"
        case .backTab: return "S-Tab"
        case .backspace: return "Bksp"
        case .delete: return "Del"
        case .f1: return "F1"
        case .wheelUp: return "wheel↑"
        case .wheelDown: return "wheel↓"
        }
    }

    /// The ASCII spelling of `description`.
    public var asciiDescription: String {
        switch self {
        case .up: return "Up"
        case .down: return "Down"
        case .left: return "Left"
        case .right: return "Right"
        case .wheelUp: return "WheelUp"
        case .wheelDown: return "WheelDn"
        default: return description
        }
    }
}
