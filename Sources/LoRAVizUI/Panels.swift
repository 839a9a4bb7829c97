import LoRAKernels

/// The figures under a grid: launched, per-fate counts, valid-row utilisation, weight bytes.
public enum StatsPanel {
    /// Fates in the order the screen lists them: working first.
    static let order: [ProgramFate] = [.full, .partial, .maskedOut, .splitIdle, .columnExit, .excessExit, .emptyExit,
                                       .noLoRAExit, .rank0Exit]
    /// The fates SGLang's triton kernels can give, listed always; the others when present.
    static let tritonFates: Set<ProgramFate> = [.full, .partial, .maskedOut, .excessExit, .emptyExit, .rank0Exit]

    /// Two lines of figures for one plan, fitted to `width`; the first ends
    /// with the launch's GPU estimate (`H200 est. 18.7 µs`), which is kept
    /// while anything else gives way.
    public static func lines(_ plan: LaunchPlan, estimate: GPUEstimate? = nil, profile: GPUProfile = .defaultProfile,
                             glyphs: Glyphs, width: Int) -> [String] {
        let counts = plan.fateCounts
        let est = estimate.map { "\(profile.estimateLabel) \(formatMicroseconds($0.totalUs))" }
        let full = "launched \(Format.count(plan.launched)) · working \(Format.count(counts.working))"
            + " · util \(Format.percent(plan.rowUtilisation)) · W \(Format.bytes(plan.weightBytes))"
        let short = "launched \(Format.count(plan.launched))  util \(Format.percent(plan.rowUtilisation))"
            + "  W \(Format.bytes(plan.weightBytes))"
        var firsts = [full, short]
        if let est {
            firsts = [full + " · " + est, short + "  " + est, "launched \(Format.count(plan.launched))  " + est, est]
        }
        let first = firsts.first { Format.width($0) <= width } ?? firsts.last!
        let shown = order.filter { tritonFates.contains($0) || counts[$0] > 0 }
        let fates = shown.map { "\(glyphs.glyph($0))\(Format.count(counts[$0]))" }.joined(separator: " ")
        let spaced = shown.map { "\(glyphs.glyph($0)) \(Format.count(counts[$0]))" }.joined(separator: "  ")
        return [
            first,
            Format.width(spaced) <= width ? spaced : fates,
        ].map { glyphs.isASCII ? $0.replacingOccurrences(of: "·", with: "-") : $0 }
    }

    /// The ratios of the sorted launch to the per-sequence one.
    public static func ratios(perSequence a: LaunchPlan, sorted b: LaunchPlan, glyphs: Glyphs, width: Int) -> String {
        let t = glyphs.times
        let parts = [
            "launched \(Format.count(a.launched))\(glyphs.arrow)\(Format.count(b.launched)) (\(Format.ratio(b.launched, a.launched, times: t)))",
            "working \(Format.count(a.fateCounts.working))\(glyphs.arrow)\(Format.count(b.fateCounts.working)) (\(Format.ratio(b.fateCounts.working, a.fateCounts.working, times: t)))",
            "W bytes \(Format.bytes(a.weightBytes))\(glyphs.arrow)\(Format.bytes(b.weightBytes)) (\(Format.ratio(b.weightBytes, a.weightBytes, times: t)))",
        ]
        let long = "per-sequence \(glyphs.arrow) sorted: " + parts.joined(separator: "  ")
        if Format.width(long) <= width { return long }
        let compact = [
            "launched \(Format.ratio(b.launched, a.launched, times: t))",
            "working \(Format.ratio(b.fateCounts.working, a.fateCounts.working, times: t))",
            "W bytes \(Format.ratio(b.weightBytes, a.weightBytes, times: t))",
        ]
        return "sorted/per-seq: " + compact.joined(separator: "  ")
    }
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

/// The selected program's story, told from `LaunchPlan.tile`.
public enum InspectorPanel {
    /// Lines describing the program at `position` of `plan` (and the block it stands for when zoomed).
    public static func story(_ plan: LaunchPlan, batch: Batch, dims: ModelDims, position p: GridPosition,
                             block: (pids: Range<Int>, rows: Range<Int>, tally: FateCounts)?, glyphs: Glyphs) -> [String] {
        let seg = plan.segments[p.segment]
        let tile = plan.tile(p)
        let slice = plan.sliceCount > 1 ? " slice \(p.slice) (\(GridView.sliceName(plan.kernel, p.slice)))" : ""
        let adapter = batch.adapter(inSlot: seg.slot)
        let who = adapter.map { "\"\($0.name)\"" } ?? "unused"
        var lines: [String] = []
        let routingName = plan.strategy.name
        lines.append("\(routingName) pid \(p.pid)\(slice) seg \(p.segment) \(glyphs.arrow) slot \(seg.slot) \(who) rank \(seg.rank)"
            + (seg.rank > 0 ? " scaling \(Format.fixed(Double(seg.scaling), 3).trimmedZeros)" : ""))
        let indptr = plan.routing.segmentStarts[p.segment]
        let pidS = seg.columnTiles > 0 ? p.pid / seg.columnTiles : 0
        let pidN = seg.columnTiles > 0 ? p.pid % seg.columnTiles : 0
        let arrow = glyphs.arrow
        switch tile.fate {
        case .rank0Exit:
            let why = adapter == nil ? "slot \(seg.slot) holds no adapter" : "adapter \(who) has rank 0 (base model)"
            lines.append("rank-0 exit: \(why); returns at step 1, before any load.")
            lines.append("segment len \(seg.length), all \(plan.pidCount * plan.sliceCount) programs of this segment exit the same way.")
        case .emptyExit:
            lines.append("empty-segment exit: seg_lens[\(p.segment)] = 0, no token uses slot \(seg.slot); returns at step 2.")
            lines.append("The sorted grid keeps one segment per slot (mlpb \(plan.segments.count)), busy or not.")
        case .noLoRAExit:
            let why = seg.length == 0 ? "an unused group (no tokens)" : "the group of \(seg.length) base-model tokens"
            lines.append("no-LoRA exit: lora_ids[\(p.segment)] = -1, \(why); returns at its first load.")
            lines.append("vLLM's z axis holds max_loras + 1 = \(plan.segments.count) groups, busy or not.")
        case .columnExit:
            lines.append("column exit: pid_n\(glyphs.times)\(plan.blocks.n) = \(tile.columnTile * plan.blocks.n) >= this slice's width \(seg.sliceWidths[p.slice]); returns before the K loop.")
            lines.append("vLLM sizes n by the widest slice; a narrower (k/v) slice leaves its last tiles idle.")
        case .splitIdle:
            lines.append("idle split: its K range starts at \(tile.split * plan.blocks.k), past K = \(seg.reduction); skips the loop, still adds a zero tile.")
            lines.append("SPLIT_K \(plan.blocks.splitK) splits of BLOCK_K \(plan.blocks.k): only \(min(plan.blocks.splitK, cdiv(seg.reduction, plan.blocks.k))) reach into K.")
        case .excessExit:
            lines.append("excess exit: pid_s\(glyphs.times)16 = \(pidS * 16) >= len \(seg.length) (pid_s = pid \(p.pid) / \(seg.columnTiles) tiles)")
            lines.append("The grid has \(plan.rowBlocks) row blocks for max_len \(plan.routing.maxLength); this segment needs \(seg.rowBlocks).")
        case .maskedOut, .partial, .full:
            let n = plan.blocks.n
            let wTile = tile.validColumns * tile.reduction * plan.dtype.byteCount
            switch tile.fate {
            case .maskedOut:
                lines.append("masked-out: its columns lie past the slice width \(seg.sliceWidths[p.slice]); runs its K loop for nothing.")
            case .partial:
                lines.append("partial: computes \(tile.validRows)\(glyphs.times)\(tile.validColumns) outputs, \(16 - tile.validRows) of 16 rows empty; loads \(Format.bytes(wTile)) of W.")
            default:
                lines.append("full: computes 16\(glyphs.times)\(tile.validColumns) outputs, every row valid; loads \(Format.bytes(wTile)) of W.")
            }
            let rows = (0..<tile.validRows).map { plan.routing.physicalRow(segment: p.segment, row: tile.rowStart + $0) }
            let via = plan.routing.permutation == nil ? "" : " via perm"
            lines.append("rows \(tile.rowStart)..\(tile.rowStart + 15) (seg len \(seg.length), \(tile.validRows) valid) \(arrow) token rows\(via) "
                + Format.list(rows, limit: 10, ellipsis: glyphs.ellipsis))
            let c0 = tile.outputColumnOffset + tile.columnStart
            lines.append("out cols \(c0)..\(c0 + n - 1) (\(tile.validColumns) valid) · K loop \(tile.reduction)"
                + (plan.kernel.isShrink ? "" : " · x cols from \(tile.inputColumnOffset)"))
            lines.append("pid_s \(pidS) pid_n \(pidN)/\(seg.columnTiles) · seg_indptr \(indptr)")
        }
        if let block {
            let fates = StatsPanel.order.filter { block.tally[$0] > 0 }
                .map { "\(glyphs.glyph($0))\(Format.count(block.tally[$0]))" }.joined(separator: " ")
            lines.append("cell: pids \(block.pids.lowerBound)..\(block.pids.upperBound - 1) \(glyphs.times) rows \(block.rows.lowerBound)..\(block.rows.upperBound - 1): \(fates)")
        }
        return lines.map { glyphs.isASCII ? $0.replacingOccurrences(of: "·", with: "-") : $0 }
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
