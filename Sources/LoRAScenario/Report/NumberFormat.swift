/// The one way lora-viz writes a number for a person: the text report, the
/// sweep and layer tables, error messages and the TUI all call these, so the
/// same value reads the same everywhere (`3.12e-3`, `8 KiB`, `0.13`).
///
/// Pure integer arithmetic on the rounded value, no Foundation: the TUI's
/// views call these for every frame.
public enum NumberFormat {
    /// `value` with `digits` decimals, rounded half away from zero: `0.13`, `12.0`, `-3`.
    public static func fixed(_ value: Double, _ digits: Int) -> String {
        guard value.isFinite else { return value.isNaN ? "nan" : (value < 0 ? "-inf" : "inf") }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = (abs(value) * scale).rounded()
        guard scaled < 9e15 else { return String(value) }
        let whole = Int(scaled)
        let sign = value < 0 && whole != 0 ? "-" : ""
        guard digits > 0 else { return sign + String(whole) }
        let p = Int(scale)
        var frac = String(whole % p)
        while frac.count < digits { frac = "0" + frac }
        return sign + String(whole / p) + "." + frac
    }

    /// Three significant digits and a bare exponent: `3.12e-3`, `1.00e+2`, or `0`.
    public static func scientific(_ value: Double) -> String {
        guard value != 0 else { return "0" }
        guard value.isFinite else { return fixed(value, 0) }
        var exponent = 0
        var m = abs(value)
        while m >= 10 { m /= 10; exponent += 1 }
        while m < 1 { m *= 10; exponent -= 1 }
        var mantissa = fixed(m, 2)
        if mantissa.hasPrefix("10.") { mantissa = "1.00"; exponent += 1 }
        return (value < 0 ? "-" : "") + mantissa + "e" + (exponent < 0 ? "-" : "+") + String(abs(exponent))
    }

    /// Bytes in binary units with one decimal where it is not 0: `816 B`, `8 KiB`, `3.3 MiB`.
    public static func bytes(_ n: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(n)
        var unit = 0
        while value >= 1024, unit < units.count - 1 { value /= 1024; unit += 1 }
        if unit == 0 { return "\(n) B" }
        let tenths = fixed(value, 1)
        return (tenths.hasSuffix(".0") ? String(tenths.dropLast(2)) : tenths) + " " + units[unit]
    }
}
