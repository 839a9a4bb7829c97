import Foundation

// MARK: - SVG rendering

extension SweepChart {
    /// The chart as a standalone SVG 1.1 document, `width` × `height` user units.
    ///
    /// Title and the estimate's label, a log2 bs axis ticked at the data's bs,
    /// a log speedup axis with gridlines, the labelled 1× line, one polyline
    /// per series with a marker at each sample (CPU series dashed with hollow
    /// markers) and a legend. No scripts, no external assets; text is escaped
    /// for XML. A chart with nothing to draw says `unavailable` instead.
    public func svg(width: Int = 720, height: Int = 420) -> String {
        let w = Double(max(width, 360)), h = Double(max(height, 240))
        var out = """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="\(Self._n(w))" height="\(Self._n(h))" \
            viewBox="0 0 \(Self._n(w)) \(Self._n(h))" font-family="sans-serif">

            """
        func add(_ s: String) { out += s + "\n" }
        add("<title>\(Self._xml(title)) — \(Self._xml(estimateLabel)) (estimates)</title>")
        add("<rect x=\"0\" y=\"0\" width=\"\(Self._n(w))\" height=\"\(Self._n(h))\" fill=\"#ffffff\"/>")
        add(Self._text(title, x: 12, y: 22, size: 15, extra: "font-weight=\"bold\""))
        add(Self._text(subtitle, x: 12, y: 40, size: 12, extra: "fill=\"#9a3412\" font-style=\"italic\""))
        guard unavailable == nil else {
            add(Self._text(unavailable!, x: 12, y: 70, size: 13))
            return out + "</svg>\n"
        }

        let left = 64.0, right = w - 215, top = 58.0, bottom = h - 52
        let x = _xDomain
        let y = _yAxis(length: bottom - top, minGap: 22)
        func px(_ bs: Int) -> Double { left + (log2(Double(bs)) - x.lo) / (x.hi - x.lo) * (right - left) }
        func py(_ v: Double) -> Double { top + (y.hi - v) / (y.hi - y.lo) * (bottom - top) }

        // Above 1× sorting pays (a green tint), below it costs (a red one).
        let one = py(0)
        add("<rect x=\"\(Self._n(left))\" y=\"\(Self._n(top))\" width=\"\(Self._n(right - left))\" height=\"\(Self._n(one - top))\" fill=\"#16a34a\" fill-opacity=\"0.06\"/>")
        add("<rect x=\"\(Self._n(left))\" y=\"\(Self._n(one))\" width=\"\(Self._n(right - left))\" height=\"\(Self._n(bottom - one))\" fill=\"#dc2626\" fill-opacity=\"0.05\"/>")

        // Gridlines and ticks.
        add("<g stroke=\"#dddddd\" stroke-width=\"1\">")
        for t in y.ticks where t != 0 {
            add("<line x1=\"\(Self._n(left))\" y1=\"\(Self._n(py(t)))\" x2=\"\(Self._n(right))\" y2=\"\(Self._n(py(t)))\"/>")
        }
        for b in bsValues { add("<line x1=\"\(Self._n(px(b)))\" y1=\"\(Self._n(top))\" x2=\"\(Self._n(px(b)))\" y2=\"\(Self._n(bottom))\"/>") }
        add("</g>")
        add("<g font-size=\"11\" fill=\"#333333\">")
        for t in y.ticks {
            add(Self._text(Self._tickLabel(t), x: left - 6, y: py(t) + 4, size: 11, extra: "text-anchor=\"end\"", group: true))
        }
        var lastEnd = -Double.infinity
        for (i, b) in bsValues.enumerated() {
            let label = "\(b)", half = Double(label.count) * 3.5
            // A label that would touch its neighbour is left out, never the last.
            guard px(b) - half > lastEnd + 4 || i == bsValues.count - 1 else { continue }
            add(Self._text(label, x: px(b), y: bottom + 16, size: 11, extra: "text-anchor=\"middle\"", group: true))
            lastEnd = px(b) + half
        }
        add("</g>")
        add("<path d=\"M\(Self._n(left)),\(Self._n(top)) V\(Self._n(bottom)) H\(Self._n(right))\" fill=\"none\" stroke=\"#333333\" stroke-width=\"1\"/>")
        add(Self._text(Self._xAxisLabel, x: (left + right) / 2, y: h - 14, size: 12, extra: "text-anchor=\"middle\""))
        add("<text x=\"16\" y=\"\(Self._n((top + bottom) / 2))\" font-size=\"12\" text-anchor=\"middle\" "
            + "transform=\"rotate(-90 16 \(Self._n((top + bottom) / 2)))\">\(Self._xml("speedup per-sequence ÷ sorted, log scale"))</text>")

        // The 1× line and its label.
        add("<line x1=\"\(Self._n(left))\" y1=\"\(Self._n(one))\" x2=\"\(Self._n(right))\" y2=\"\(Self._n(one))\" stroke=\"#111111\" stroke-width=\"1.5\"/>")
        // Its label: above the line (else below), rightmost where it covers the fewest points of the series.
        let unityLabel = "1× — sorting pays above this line"
        let labelWidth = Double(unityLabel.count) * 6.3, labelHeight = 14.0
        let lines = series.map { s in s.samples.map { (px($0.bs), py(log2($0.speedup))) } }
        func covered(_ x: Double, _ y: Double) -> Int {
            var n = 0
            for line in lines {
                for (a, b) in zip(line, line.dropFirst() + [line.last!]) {
                    for k in 0...24 {
                        let t = Double(k) / 24, qx = a.0 + (b.0 - a.0) * t, qy = a.1 + (b.1 - a.1) * t
                        if qx >= x - 3 && qx <= x + labelWidth + 3 && qy >= y - 3 && qy <= y + labelHeight + 3 { n += 1 }
                    }
                }
            }
            return n
        }
        let rightmost: Double = right - 6 - labelWidth
        let slide: Double = max(0, rightmost - (left + 8))
        var spot: (Double, Double) = (rightmost, one - 3 - labelHeight)
        var fewest = Int.max
        for y: Double in [one - 3 - labelHeight, one + 3] where y >= top && y + labelHeight <= bottom {
            for k in 0...12 {
                let x: Double = rightmost - slide * Double(k) / 12
                let n = covered(x, y)
                if n < fewest { fewest = n; spot = (x, y) }
            }
        }
        add("<rect x=\"\(Self._n(spot.0 - 2))\" y=\"\(Self._n(spot.1))\" width=\"\(Self._n(labelWidth + 4))\" height=\"\(Self._n(labelHeight))\" "
            + "fill=\"#ffffff\" fill-opacity=\"0.85\"/>")
        add(Self._text(unityLabel, x: spot.0, y: spot.1 + 11, size: 11, extra: "fill=\"#111111\" font-weight=\"bold\""))

        // Series: the line, then a marker at each sample.
        let adapterCounts = Array(Set(series.map(\.adapters))).sorted()
        for (i, s) in series.enumerated() {
            let k = adapterCounts.firstIndex(of: s.adapters)!
            let colour = Self._palette[k % Self._palette.count]
            let points = s.samples.map { "\(Self._n(px($0.bs))),\(Self._n(py(log2($0.speedup))))" }.joined(separator: " ")
            add("<g id=\"series-\(i)\">")
            add("<polyline points=\"\(points)\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\""
                + (s.isDashed ? " stroke-dasharray=\"6 4\"" : "") + "><title>\(Self._xml(s.label))</title></polyline>")
            for sample in s.samples {
                add(Self._marker(k, x: px(sample.bs), y: py(log2(sample.speedup)), colour: colour, hollow: s.isDashed,
                                 tooltip: "\(s.label): bs \(sample.bs), \(String(format: "%.2f", sample.speedup))×"))
            }
            add("</g>")
        }

        // Legend.
        let lx = right + 18
        for (i, s) in series.enumerated() {
            let k = adapterCounts.firstIndex(of: s.adapters)!
            let colour = Self._palette[k % Self._palette.count]
            let ly = top + 22 + Double(i) * 18
            guard ly < h - 8 else { break }
            add("<line x1=\"\(Self._n(lx))\" y1=\"\(Self._n(ly))\" x2=\"\(Self._n(lx + 28))\" y2=\"\(Self._n(ly))\" stroke=\"\(colour)\" stroke-width=\"2\""
                + (s.isDashed ? " stroke-dasharray=\"6 4\"" : "") + "/>")
            add(Self._marker(k, x: lx + 14, y: ly, colour: colour, hollow: s.isDashed, tooltip: nil))
            add(Self._text(s.label, x: lx + 36, y: ly + 4, size: 12))
        }
        return out + "</svg>\n"
    }

    /// Colours by adapter count (a CPU series shares its GPU series' colour).
    static let _palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]

    /// A marker of shape `k` (circle, square, triangle, diamond, …) at (`x`, `y`).
    static func _marker(_ k: Int, x: Double, y: Double, colour: String, hollow: Bool, tooltip: String?) -> String {
        let fill = hollow ? "#ffffff" : colour
        let r = 4.0
        let paint = "fill=\"\(fill)\" stroke=\"\(colour)\" stroke-width=\"1.5\""
        let tip = tooltip.map { "<title>\(_xml($0))</title>" } ?? ""
        func path(_ d: String) -> String { "<path d=\"\(d)\" \(paint)>\(tip)</path>" }
        switch k % 6 {
        case 0: return "<circle cx=\"\(_n(x))\" cy=\"\(_n(y))\" r=\"\(_n(r))\" \(paint)>\(tip)</circle>"
        case 1: return "<rect x=\"\(_n(x - r))\" y=\"\(_n(y - r))\" width=\"\(_n(2 * r))\" height=\"\(_n(2 * r))\" \(paint)>\(tip)</rect>"
        case 2: return path("M\(_n(x)),\(_n(y - r - 1)) L\(_n(x + r + 1)),\(_n(y + r)) L\(_n(x - r - 1)),\(_n(y + r)) Z")
        case 3: return path("M\(_n(x)),\(_n(y - r - 1)) L\(_n(x + r + 1)),\(_n(y)) L\(_n(x)),\(_n(y + r + 1)) L\(_n(x - r - 1)),\(_n(y)) Z")
        case 4: return path("M\(_n(x)),\(_n(y + r + 1)) L\(_n(x + r + 1)),\(_n(y - r)) L\(_n(x - r - 1)),\(_n(y - r)) Z")
        default:
            return "<path d=\"M\(_n(x - r)),\(_n(y - r)) L\(_n(x + r)),\(_n(y + r)) M\(_n(x - r)),\(_n(y + r)) L\(_n(x + r)),\(_n(y - r))\" "
                + "fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\">\(tip)</path>"
        }
    }

    /// A `<text>` element; inside a group that sets the size and fill when `group`.
    static func _text(_ s: String, x: Double, y: Double, size: Int, extra: String = "", group: Bool = false) -> String {
        "<text x=\"\(_n(x))\" y=\"\(_n(y))\"" + (group ? "" : " font-size=\"\(size)\"") + (extra.isEmpty ? "" : " " + extra)
            + ">\(_xml(s))</text>"
    }

    /// A coordinate: at most one decimal, no trailing `.0`.
    static func _n(_ v: Double) -> String {
        let s = String(format: "%.1f", v)
        return s.hasSuffix(".0") ? String(s.dropLast(2)) : s
    }

    /// `s` escaped for XML text and attribute values.
    static func _xml(_ s: String) -> String {
        var out = ""
        for ch in s {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(ch)
            }
        }
        return out
    }
}
