/// Text on its way to a terminal or a report.
public enum TerminalText {
    /// `s` with every scalar a terminal would not show as itself written
    /// `<U+XXXX>`: controls other than newline and tab (C0, DEL, C1: U+009B
    /// is a CSI), format characters (U+200B, U+FEFF, the bidi controls, …) and
    /// separators other than the space (NBSP U+00A0, U+2028, …).
    public static func visible(_ s: String) -> String {
        guard s.unicodeScalars.contains(where: isInvisible) else { return s }
        var out = String.UnicodeScalarView()
        for c in s.unicodeScalars {
            if isInvisible(c) { out.append(contentsOf: "<\(hex(c))>".unicodeScalars) } else { out.append(c) }
        }
        return String(out)
    }

    /// Whether `visible` rewrites `c`.
    public static func isInvisible(_ c: Unicode.Scalar) -> Bool {
        if c == "\n" || c == "\t" || c == " " { return false }
        switch c.properties.generalCategory {
        case .control, .format, .spaceSeparator, .lineSeparator, .paragraphSeparator: return true
        default: return false
        }
    }

    /// `U+XXXX`, at least four hex digits.
    public static func hex(_ s: Unicode.Scalar) -> String {
        let h = String(s.value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - h.count)) + h
    }
}
