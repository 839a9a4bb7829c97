import LoRAKernels

/// The figures under a grid: launched, per-fate counts, valid-row utilisation, weight bytes.
public enum StatsPanel {
    /// Fates in the order the screen lists them: working first.
    static let order: [ProgramFate] = [.full, .partial, .maskedOut, .splitIdle, .columnExit, .excessExit, .emptyExit,
                                       .noLoRAExit, .rank0Exit]
    /// The fates SGLang's triton kernels can give, listed always; the others when present.
    static let tritonFates: Set<ProgramFate> = [.full, .partial, .maskedOut, .excessExit, .emptyExit, .rank0Exit]

    /// Two lines of figures for one plan, fitted to `width`; the first ends
    /// with the launch's GPU estimate (`H200 est. 18.7 µs`, `H200 est.
    /// (uncalibrated for vllm) 20.1 µs`), which is kept while anything else
    /// gives way.
    ///
    /// `measured`: the real kernels' time from `--gpu-results` (this batch's),
    /// shown after the estimate (`H200 est. 18.7 µs, measured 18.5 µs`).
    public static func lines(_ plan: LaunchPlan, estimate: GPUEstimate? = nil, profile: GPUProfile = .defaultProfile,
                             measured: Double? = nil, glyphs: Glyphs, width: Int) -> [String] {
        let v = variants(plan, estimate: estimate, profile: profile, measured: measured, glyphs: glyphs)
        return [v.firsts.first { Format.width($0) <= width } ?? v.firsts.last!,
                Format.width(v.spaced) <= width ? v.spaced : v.compact]
    }

    /// Two lines for each of several panes with the same fields in the same
    /// order (the shortest form any pane needs), so footers compare line by line.
    public static func lines(_ panes: [(plan: LaunchPlan, estimate: GPUEstimate?, measured: Double?, width: Int)],
                             profile: GPUProfile = .defaultProfile, glyphs: Glyphs) -> [[String]] {
        let all = panes.map { variants($0.plan, estimate: $0.estimate, profile: profile, measured: $0.measured, glyphs: glyphs) }
        // The first form every pane fits, else each pane's shortest.
        var form = 0
        for (v, pane) in zip(all, panes) {
            form = max(form, v.firsts.firstIndex { Format.width($0) <= pane.width } ?? v.firsts.count - 1)
        }
        let spaced = zip(all, panes).allSatisfy { Format.width($0.0.spaced) <= $0.1.width }
        return all.map { v in [v.firsts[min(form, v.firsts.count - 1)], spaced ? v.spaced : v.compact] }
    }

    /// Every form of the first line, longest first, and the two forms of the counts line.
    static func variants(_ plan: LaunchPlan, estimate: GPUEstimate?, profile: GPUProfile, measured: Double?,
                         glyphs: Glyphs) -> (firsts: [String], spaced: String, compact: String) {
        let counts = plan.fateCounts
        let us = estimate.map { formatMicroseconds($0.totalUs) + (measured.map { ", measured " + formatMicroseconds($0) } ?? "") }
        let label = profile.estimateLabel(for: plan.strategy)
        let est = us.map { "\(label) \($0)" }
        let full = "launched \(Format.count(plan.launched)) · working \(Format.count(counts.working))"
            + " · util \(Format.percent(plan.rowUtilisation)) · W \(Format.bytes(plan.weightBytes))"
        let short = "launched \(Format.count(plan.launched))  util \(Format.percent(plan.rowUtilisation))"
            + "  W \(Format.bytes(plan.weightBytes))"
        var firsts = [full, short]
        if let est, let us {
            firsts = [full + " · " + est, short + "  " + est, "launched \(Format.count(plan.launched))  " + est, est]
            // An uncalibrated label is long (`(uncalibrated for csgmv-graph)`): narrow panes say it shorter.
            if label != profile.estimateLabel || !profile.calibrated {
                firsts += ["launched \(Format.count(plan.launched))  \(profile.displayName) est. \(us) (uncal.)",
                           "\(profile.displayName) est. \(us) (uncal.)"]
            }
        }
        let shown = order.filter { tritonFates.contains($0) || counts[$0] > 0 }
        let fates = shown.map { "\(glyphs.glyph($0))\(Format.count(counts[$0]))" }.joined(separator: " ")
        let spaced = shown.map { "\(glyphs.glyph($0)) \(Format.count(counts[$0]))" }.joined(separator: "  ")
        // An ASCII screen is made ASCII once, whole (`Canvas.asciify`): the `·` here too.
        return (firsts, spaced, fates)
    }

    /// The ratios of the right pane's launch to the left one's, naming both
    /// (`per-sequence → sorted: launched 416→256 (0.62×) …`), or in short
    /// (`sorted/per-seq: launched 0.62× …`).
    public static func ratios(_ a: LaunchPlan, _ b: LaunchPlan, glyphs: Glyphs, width: Int) -> String {
        let t = glyphs.times
        let parts = [
            "launched \(Format.count(a.launched))\(glyphs.arrow)\(Format.count(b.launched)) (\(Format.ratio(b.launched, a.launched, times: t)))",
            "working \(Format.count(a.fateCounts.working))\(glyphs.arrow)\(Format.count(b.fateCounts.working)) (\(Format.ratio(b.fateCounts.working, a.fateCounts.working, times: t)))",
            "W bytes \(Format.bytes(a.weightBytes))\(glyphs.arrow)\(Format.bytes(b.weightBytes)) (\(Format.ratio(b.weightBytes, a.weightBytes, times: t)))",
        ]
        let long = "\(a.strategy.name) \(glyphs.arrow) \(b.strategy.name): " + parts.joined(separator: "  ")
        if Format.width(long) <= width { return long }
        let compact = [
            "launched \(Format.ratio(b.launched, a.launched, times: t))",
            "working \(Format.ratio(b.fateCounts.working, a.fateCounts.working, times: t))",
            "W bytes \(Format.ratio(b.weightBytes, a.weightBytes, times: t))",
        ]
        return "\(b.strategy.shortName)/\(a.strategy.shortName): " + compact.joined(separator: "  ")
    }

    /// The ratios line with one pane: that launch's figures, and how to compare it.
    public static func alone(_ a: LaunchPlan, glyphs: Glyphs, width: Int) -> String {
        let figures = "\(a.strategy.name): launched \(Format.count(a.launched))  working \(Format.count(a.fateCounts.working))"
            + "  W bytes \(Format.bytes(a.weightBytes))"
        let hint = "  (one strategy chosen: strategies \(a.strategy.name) NAME compares two)"
        return Format.width(figures + hint) <= width ? figures + hint : figures
    }

    /// One line for the chosen strategies no pane shows: name, launched,
    /// working and GPU estimate of each (`also chosen (s shows): vllm launched
    /// 1728 working 96 est. 9.6 µs · …`), in the longest wording that fits;
    /// strategies that do not fit are counted (`+2 more`). Empty when none fits.
    static func strip(_ kinds: [Strategy], _ plans: AppState.Plans, glyphs g: Glyphs, width: Int) -> String {
        guard !kinds.isEmpty else { return "" }
        let sep = g.isASCII ? " | " : " │ "
        func entry(_ kind: Strategy, _ form: Int) -> String {
            let plan = plans[kind], us = formatMicroseconds(plans.estimate(kind).totalUs)
            let calibrated = plans.profile.isCalibrated(for: kind) || !plans.profile.calibrated
            let est = calibrated ? "est. \(us)" : "est. \(us) (uncal.)"
            let launched = Format.count(plan.launched), working = Format.count(plan.fateCounts.working)
            switch form {
            case 0: return "\(kind.name) launched \(launched) working \(working) \(plans.profile.displayName) \(est)"
            case 1: return "\(kind.name) launched \(launched) working \(working) \(est)"
            default: return "\(kind.name) \(launched)/\(working) \(us)"
            }
        }
        let wordings: [(head: String, form: Int)] = [
            ("also chosen (s shows): ", 0), ("also chosen (s shows): ", 1), ("also: ", 1),
            ("also (launched/working, est.): ", 2), ("also: ", 2),
        ]
        for w in wordings {
            let line = w.head + kinds.map { entry($0, w.form) }.joined(separator: sep)
            if Format.width(line) <= width { return line }
        }
        // Not all fit: as many as fit in the shortest wording, the rest counted.
        var shown: [String] = []
        for kind in kinds.dropLast() {
            let line = "also: " + (shown + [entry(kind, 2)]).joined(separator: sep) + sep + "+\(kinds.count - shown.count - 1) more"
            if Format.width(line) > width { break }
            shown.append(entry(kind, 2))
        }
        return shown.isEmpty ? "" : "also: " + shown.joined(separator: sep) + sep + "+\(kinds.count - shown.count) more"
    }
}

extension Strategy {
    /// The name where columns are short: `per-seq`; the others are short already.
    var shortName: String { self == .perSequence ? "per-seq" : name }
}

extension String {
    /// `self` with every occurrence of `target` replaced (no Foundation).
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var result = ""
        var rest = Substring(self)
        while let range = rest.range(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}

extension Substring {
    /// The first range of `target` (no Foundation).
    func range(of target: String) -> Range<Index>? {
        let t = Array(target.unicodeScalars)
        let scalars = unicodeScalars
        var i = scalars.startIndex
        while i != scalars.endIndex {
            var j = i
            var k = 0
            while k < t.count && j != scalars.endIndex && scalars[j] == t[k] {
                j = scalars.index(after: j)
                k += 1
            }
            if k == t.count { return i..<j }
            i = scalars.index(after: i)
        }
        return nil
    }
}

/// The legend: one glyph (and colour) per fate, and the zoomed-cell ramp.
public enum Legend {
    /// Short labels for narrow screens.
    static let shortLabels: [ProgramFate: String] = [
        .full: "full", .partial: "partial", .maskedOut: "masked", .splitIdle: "idle", .columnExit: "column",
        .excessExit: "excess", .emptyExit: "empty", .noLoRAExit: "no-LoRA", .rank0Exit: "rank-0",
    ]

    /// Draws the legend on one row, choosing long or short labels to fit:
    /// the six fates of SGLang's triton kernels, and the others `extra` holds
    /// (those the shown strategies can give).
    public static func render(into canvas: inout Canvas, x: Int, y: Int, width: Int, glyphs: Glyphs, zoomed: Bool,
                              extra: Set<ProgramFate> = []) {
        let fates = StatsPanel.order.filter { StatsPanel.tritonFates.contains($0) || extra.contains($0) }
        let long: [(ProgramFate, String)] = fates.map { ($0, $0.label) }
        let short: [(ProgramFate, String)] = fates.map { ($0, shortLabels[$0]!) }
        let ramp = zoomed ? "  \(glyphs.mixRampText) mixed cell: share working" : ""
        let shortRamp = zoomed ? " \(glyphs.mixRampText) mix" : ""
        func itemsWidth(_ items: [(ProgramFate, String)], _ sep: Int) -> Int {
            items.reduce(0) { $0 + 2 + Format.width($1.1) + sep }
        }
        let useLong = itemsWidth(long, 2) + Format.width(ramp) <= width
        let items = useLong ? long : short
        var column = x
        for (fate, label) in items {
            canvas[column, y] = Cell(glyphs.glyph(fate), CellStyle(ColorRole(fate)))
            column = canvas.put(" " + label, x: column + 1, y: y, style: .normal, maxWidth: x + width - column - 1)
            column += useLong ? 2 : 1
        }
        canvas.put(useLong ? ramp : shortRamp, x: column - (useLong ? 2 : 1), y: y, style: .dim, maxWidth: x + width - column)
    }
}

/// The selected program's story, told from `LaunchPlan.tile` in its
/// strategy's terms: row blocks and segments for SGLang `triton`, chunks of a
/// slot for csgmv (and the graph's padding), LoRA groups, splits and K ranges
/// for vLLM.
public enum InspectorPanel {
    /// Lines describing the program at `position` of `plan` (and the zoomed-out
    /// cell it stands in, if any): who it is, its fate, then what it covers.
    public static func story(_ plan: LaunchPlan, batch: Batch, dims: ModelDims, position p: GridPosition,
                             zoomedCell: (pids: Range<Int>, rows: Range<Int>, tally: FateCounts)?, glyphs: Glyphs) -> [String] {
        let seg = plan.segments[p.segment]
        let tile = plan.tile(p)
        let strategy = plan.strategy
        let isCSGMV = strategy == .csgmv || strategy == .csgmvGraph, isVLLM = strategy == .vllm
        // csgmv never cuts an empty chunk: a segment without tokens is the graph's padding.
        let padding = isCSGMV && seg.length == 0
        let arrow = glyphs.arrow, times = glyphs.times
        let bm = seg.blockRows, bn = plan.blocks.n
        let sliceIndex = isCSGMV ? csgmvSlice(plan, pid: p.pid) : (plan.sliceCount > 1 ? p.slice : nil)
        let slice = sliceIndex.map { " slice \($0) (\(plan.kernel.sliceName($0)))" } ?? ""
        let adapter = seg.slot >= 0 && !padding ? batch.adapter(inSlot: seg.slot) : nil
        let who = adapter.map { "\"\($0.name)\"" } ?? "unused"
        let scaling = seg.rank > 0 ? " scaling \(Format.fixed(Double(seg.scaling), 3).trimmedZeros)" : ""
        let chunk = isCSGMV ? GridView.chunkIndex(plan, segment: p.segment) : 0
        let indptr = plan.routing.segmentStarts[p.segment]
        let tokens = seg.length > 0 ? "sorted tokens \(indptr)..\(indptr + seg.length - 1)" : "no tokens"
        var lines: [String] = []
        if isVLLM {
            lines.append(seg.slot < 0 ? "vllm pid \(p.pid)\(slice) group \(p.segment) \(arrow) lora_id -1 (no LoRA)"
                : "vllm pid \(p.pid)\(slice) group \(p.segment) \(arrow) lora_id \(seg.slot) \(who) rank \(seg.rank)" + scaling)
        } else if padding {
            lines.append("\(strategy.name) pid \(p.pid)\(slice) seg \(p.segment) \(arrow) graph padding (no tokens)")
        } else if isCSGMV {
            lines.append("\(strategy.name) pid \(p.pid)\(slice) seg \(p.segment) \(arrow) chunk \(chunk) of slot \(seg.slot) \(who) rank \(seg.rank)" + scaling)
        } else {
            lines.append("\(strategy.name) pid \(p.pid)\(slice) seg \(p.segment) \(arrow) slot \(seg.slot) \(who) rank \(seg.rank)" + scaling)
        }
        let pidS = seg.columnTiles > 0 ? p.pid / seg.columnTiles : 0
        let pidN = seg.columnTiles > 0 ? p.pid % seg.columnTiles : 0
        // The longest segment sizes the tight grid: the host must know it before the launch.
        let tight = strategy == .tight ? " (tight: the longest segment)" : ""
        switch tile.fate {
        case .rank0Exit:
            let why = adapter == nil ? "slot \(seg.slot) holds no adapter" : "adapter \(who) has rank 0 (base model)"
            let when = strategy.isTriton ? "returns at step 1, before any load." : "returns before any load."
            lines.append("rank-0 exit: \(why); \(when)")
            lines.append("segment len \(seg.length), all \(plan.pidCount * plan.sliceCount) programs of this segment exit the same way.")
        case .emptyExit where padding:
            let live = plan.segments.filter { $0.length > 0 }.count
            lines.append("graph padding: seg_lens[\(p.segment)] = 0; the captured buffer holds \(plan.segments.count) segments, this batch fills \(live); exits empty.")
            lines.append("A CUDA graph replays one fixed grid: every padded segment's \(plan.pidCount) programs launch each step.")
        case .emptyExit:
            lines.append("empty-segment exit: seg_lens[\(p.segment)] = 0, no token uses slot \(seg.slot); returns at step 2.")
            if strategy.isTriton && strategy != .perSequence {
                lines.append("The sorted grid keeps one segment per slot (mlpb \(plan.segments.count)), busy or not.")
            }
        case .noLoRAExit:
            let why = seg.length == 0 ? "an unused group (no tokens)" : "the group of \(seg.length) base-model tokens"
            lines.append("no-LoRA exit: lora_ids[\(p.segment)] = -1, \(why); returns at its first load.")
            lines.append("vLLM's z axis holds max_loras + 1 = \(plan.segments.count) groups, busy or not.")
        case .columnExit:
            let (n, m) = (tile.columnTile, tile.rowBlock)
            lines.append("column exit: pid_n\(times)\(bn) = \(n * bn) >= this slice's width \(seg.sliceWidths[p.slice]); returns before the K loop.")
            lines.append("pid \(p.pid) \(arrow) (pid_m \(m), pid_n \(n)): vLLM sizes n by the widest slice; a narrower (k/v) slice leaves its last tiles idle.")
        case .splitIdle:
            lines.append("idle split: pid \(p.pid) \(arrow) (split \(tile.split), pid_m \(tile.rowBlock), pid_n \(tile.columnTile)); its K range starts at "
                + "\(tile.split * plan.blocks.k), past K = \(seg.reduction): skips the loop, still adds a zero tile.")
            lines.append("SPLIT_K \(plan.blocks.splitK) splits of BLOCK_K \(plan.blocks.k): only \(min(plan.blocks.splitK, cdiv(seg.reduction, plan.blocks.k))) reach into K.")
        case .excessExit where isVLLM:
            let d = (split: tile.split, m: tile.rowBlock, n: tile.columnTile)
            let where_ = plan.kernel.isShrink ? "split \(d.split), pid_m \(d.m), pid_n \(d.n)" : "pid_m \(d.m), pid_n \(d.n)"
            lines.append("excess exit: pid_m\(times)\(bm) = \(d.m * bm) >= group \(p.segment)'s \(seg.length) tokens (pid \(p.pid) \(arrow) \(where_))")
            lines.append("Every group's grid has \(plan.rowBlocks) m tiles, for all \(plan.routing.maxLength) tokens of the batch; this group needs \(seg.rowBlocks).")
        case .excessExit:
            lines.append("excess exit: pid_s\(times)\(bm) = \(pidS * bm) >= len \(seg.length) (pid_s = pid \(p.pid) / \(seg.columnTiles) tiles)")
            lines.append("The grid has \(plan.rowBlocks) row blocks for max_len \(plan.routing.maxLength)\(tight); this segment needs \(seg.rowBlocks).")
        case .maskedOut, .partial, .full:
            let wTile = tile.validColumns * tile.reduction * plan.dtype.byteCount
            switch tile.fate {
            case .maskedOut:
                lines.append("masked-out: its columns lie past the slice width \(seg.sliceWidths[tile.slice]); runs its K loop for nothing.")
            case .partial:
                lines.append("partial: computes \(tile.validRows)\(times)\(tile.validColumns) outputs, \(bm - tile.validRows) of \(bm) rows empty; loads \(Format.bytes(wTile)) of W.")
            default:
                lines.append("full: computes \(bm)\(times)\(tile.validColumns) outputs, every row valid; loads \(Format.bytes(wTile)) of W.")
            }
            // The strategy's own terms come right after the verdict: they stay when rows are short.
            if isVLLM && plan.kernel.isShrink {
                lines.append("pid \(p.pid) \(arrow) (split \(tile.split), pid_m \(tile.rowBlock), pid_n \(tile.columnTile)) · "
                    + kRange(tile, blockK: plan.blocks.k, k: seg.reduction))
            } else if isVLLM {
                lines.append("pid \(p.pid) \(arrow) (pid_m \(tile.rowBlock), pid_n \(tile.columnTile)) · K loop \(tile.reduction) = R"
                    + (seg.rank < plan.maxRank ? ": rank \(seg.rank) padded to the largest rank" : ""))
            } else if isCSGMV {
                let tiles = cdiv(seg.sliceWidths[tile.slice], bn)
                let axis = sliceIndex == nil ? "pid_n \(tile.columnTile)/\(tiles)" : "pid \(p.pid) = slice \(tile.slice) tile \(tile.columnTile)/\(tiles)"
                lines.append("chunk \(chunk) of slot \(seg.slot): \(tokens) · BLOCK_M = chunk \(bm) · \(axis)")
            }
            let rows = (0..<tile.validRows).map { plan.routing.physicalRow(segment: p.segment, row: tile.rowStart + $0) }
            let via = plan.routing.permutation == nil ? "" : " via perm"
            lines.append("rows \(tile.rowStart)..\(tile.rowStart + bm - 1) (\(isVLLM ? "group" : "seg") len \(seg.length), \(tile.validRows) valid) \(arrow) token rows\(via) "
                + Format.list(rows, limit: 10, ellipsis: glyphs.ellipsis))
            let c0 = tile.outputColumnOffset + tile.columnStart
            let cols = "out cols \(c0)..\(c0 + bn - 1) (\(tile.validColumns) valid)"
            if isVLLM && plan.kernel.isShrink {
                lines.append(cols + " · fp32 partial sums of the \(plan.blocks.splitK) splits are added atomically")
            } else if isVLLM {
                lines.append(cols + " · x cols from \(tile.inputColumnOffset)")
            } else {
                lines.append(cols + " · K loop \(tile.reduction)" + (plan.kernel.isShrink ? "" : " · x cols from \(tile.inputColumnOffset)"))
            }
            if isVLLM {
                lines.append("group \(p.segment) (lora_id \(seg.slot)): \(tokens) · BLOCK_M \(bm)")
            } else if isCSGMV {
                lines.append("seg_indptr \(indptr) · each program covers its whole chunk: csgmv has no excess exit")
            } else {
                lines.append("pid_s \(pidS) pid_n \(pidN)/\(seg.columnTiles) · seg_indptr \(indptr)"
                    + (strategy == .tight ? " · max_len \(plan.routing.maxLength) = the longest segment" : ""))
            }
        }
        if let zoomedCell {
            let fates = StatsPanel.order.filter { zoomedCell.tally[$0] > 0 }
                .map { "\(glyphs.glyph($0))\(Format.count(zoomedCell.tally[$0]))" }.joined(separator: " ")
            lines.append("cell: pids \(zoomedCell.pids.lowerBound)..\(zoomedCell.pids.upperBound - 1) \(glyphs.times) rows \(zoomedCell.rows.lowerBound)..\(zoomedCell.rows.upperBound - 1): \(fates)")
        }
        return lines
    }

    /// The K offsets a vLLM split covers: `K 768..1023 of 4096`, or with
    /// several blocks `K 0..31, 256..287, … every 256: 512 of 4096`.
    static func kRange(_ tile: ProgramTile, blockK: Int, k: Int) -> String {
        let first = "\(tile.splitStart)..\(min(k, tile.splitStart + blockK) - 1)"
        guard tile.splitStart + tile.splitStride < k else { return "K \(first) of \(k)" }
        let second = tile.splitStart + tile.splitStride
        return "K \(first), \(second)..\(min(k, second + blockK) - 1), … every \(tile.splitStride): \(tile.reduction) of \(k)"
    }

    /// The output slice of a pid of csgmv's flattened expand (nil for the
    /// shrink and one-slice kernels): slices' column tiles follow each other on axis 0.
    static func csgmvSlice(_ plan: LaunchPlan, pid: Int) -> Int? {
        guard !plan.kernel.isShrink, plan.outputWidths.count > 1 else { return nil }
        var start = 0
        for (i, width) in plan.outputWidths.enumerated() {
            start += cdiv(width, plan.blocks.n)
            if pid < start { return i }
        }
        return plan.outputWidths.count - 1
    }
}

extension String {
    /// `0.500` → `0.5`, `1.000` → `1`.
    var trimmedZeros: String {
        guard contains(".") else { return self }
        var s = self
        while s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
        return s
    }
}
