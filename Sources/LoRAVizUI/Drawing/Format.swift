import LoRAKernels
import LoRAScenario

/// Number and text formatting shared by the widgets (no Foundation: views stay pure and fast).
enum Format {
    /// An integer as is up to 999 999, then compact: `2.10M`, `13.4G`.
    static func count(_ n: Int) -> String {
        if abs(n) < 1_000_000 { return String(n) }
        if abs(n) < 1_000_000_000 { return fixed(Double(n) / 1e6, 2) + "M" }
        return fixed(Double(n) / 1e9, 2) + "G"
    }

    /// Bytes in binary units, as the reports write them (`NumberFormat.bytes`): `816 B`, `8 KiB`, `3.3 MiB`.
    static func bytes(_ n: Int) -> String { NumberFormat.bytes(n) }

    /// `value` with `digits` decimals, rounded half away from zero (`NumberFormat.fixed`).
    static func fixed(_ value: Double, _ digits: Int) -> String { NumberFormat.fixed(value, digits) }

    /// A percentage with one decimal: `6.3%`.
    static func percent(_ fraction: Double) -> String { fixed(fraction * 100, 1) + "%" }

    /// A ratio such as `0.15×`, or `–` when the denominator is 0.
    static func ratio(_ a: Int, _ b: Int, times: String) -> String {
        b == 0 ? "-" : fixed(Double(a) / Double(b), Double(a) / Double(b) < 10 ? 2 : 1) + times
    }

    /// Scientific notation as the reports write it (`NumberFormat.scientific`): `3.12e-3`, or `0`.
    static func scientific(_ value: Double) -> String { NumberFormat.scientific(value) }

    /// Three significant digits: `0.0512`, `1.23`, `440`, `12300`.
    static func significant(_ value: Double) -> String {
        let a = abs(value)
        if a == 0 { return "0" }
        if a >= 100 { return fixed(value, 0) }
        if a >= 10 { return fixed(value, 1) }
        if a >= 1 { return fixed(value, 2) }
        if a >= 0.1 { return fixed(value, 3) }
        if a >= 0.01 { return fixed(value, 4) }
        return scientific(value)
    }

    /// Milliseconds with a precision that suits their size.
    static func milliseconds(_ ms: Double) -> String {
        ms < 1 ? fixed(ms, 3) + " ms" : ms < 100 ? fixed(ms, 2) + " ms" : fixed(ms, 0) + " ms"
    }

    /// Word-wraps `text` to `width` columns (long words are cut).
    static func wrap(_ text: String, width: Int) -> [String] {
        guard width > 0 else { return [] }
        var lines: [String] = []
        for paragraph in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = ""
            var lineCount = 0
            for word in paragraph.split(separator: " ") {
                var w = String(word)
                let n = w.unicodeScalars.count
                if lineCount > 0 && lineCount + 1 + n > width {
                    lines.append(line)
                    line = ""
                    lineCount = 0
                }
                while w.unicodeScalars.count > width {
                    let head = String(String.UnicodeScalarView(w.unicodeScalars.prefix(width)))
                    if lineCount > 0 { lines.append(line) }
                    lines.append(head)
                    line = ""
                    lineCount = 0
                    w = String(String.UnicodeScalarView(w.unicodeScalars.dropFirst(width)))
                }
                if w.isEmpty { continue }
                if lineCount > 0 { line += " "; lineCount += 1 }
                line += w
                lineCount += w.unicodeScalars.count
            }
            lines.append(line)
        }
        return lines
    }

    /// `text` without the words that do not fit in `width` columns, dropped
    /// from the end: a title shortened never ends in half a word.
    static func fitWords(_ text: String, width: Int) -> String {
        guard Self.width(text) > width else { return text }
        var words = text.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        while !words.isEmpty && Self.width(words.joined(separator: " ")) > width { words.removeLast() }
        var fitted = words.joined(separator: " ")
        while fitted.last == " " { fitted.removeLast() }
        return fitted
    }

    /// `s` padded with spaces or cut to exactly `width` columns.
    /// `s` padded to `width`, or cut to it with `ellipsis` as its last column,
    /// so a reader sees that something was cut (a long adapter name).
    static func fit(_ s: String, _ width: Int, ellipsis: Unicode.Scalar) -> String {
        guard s.unicodeScalars.count > width, width > 1 else { return pad(s, width) }
        var scalars = String.UnicodeScalarView(s.unicodeScalars.prefix(width - 1))
        scalars.append(ellipsis)
        return String(scalars)
    }

    static func pad(_ s: String, _ width: Int) -> String {
        let n = s.unicodeScalars.count
        if n >= width { return String(String.UnicodeScalarView(s.unicodeScalars.prefix(max(0, width)))) }
        return s + String(repeating: " ", count: width - n)
    }

    /// Columns a string takes (one per scalar: views use single-width scalars only).
    static func width(_ s: String) -> Int { s.unicodeScalars.count }

    /// A list of integers, cut after `limit` with an ellipsis: `3, 7, 11, …`.
    static func list(_ values: [Int], limit: Int, ellipsis: Unicode.Scalar) -> String {
        let shown = values.prefix(limit).map(String.init).joined(separator: ",")
        return values.count > limit ? shown + ",\(ellipsis)" : shown
    }
}
