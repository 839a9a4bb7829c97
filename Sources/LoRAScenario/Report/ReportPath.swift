import LoRAKernels

/// A value a `RunReport` holds at a path, as `expect` compares it.
public enum ReportValue: Hashable, Sendable, CustomStringConvertible {
    case number(Double)
    case bool(Bool)
    case string(String)
    /// A list of numbers: the grid, `[16, 26, 1]`.
    case list([Double])

    /// The value as the language writes it: `56`, `0.25`, `true`, `"sgemm_lora_b"`, `[16, 26, 1]`.
    public var description: String {
        switch self {
        case .list(let items): return "[" + items.map(Printer.number).joined(separator: ", ") + "]"
        case .number(let d): return Printer.number(d)
        case .bool(let b): return b ? "true" : "false"
        case .string(let s): return Printer.quoted(s)
        }
    }

    var kind: ReportPath.Kind {
        switch self {
        case .number: return .number
        case .bool: return .bool
        case .string: return .string
        case .list: return .list
        }
    }
}

/// The paths `expect` and `RunReport.value(at:)` accept: the JSON report's
/// keys joined by `.`, the routing named by its `routing` field
/// (`sorted.fates.excess_exit`), the grid's axes as `grid.x|y|z`.
public enum ReportPath {
    /// What kind of value a path holds.
    public enum Kind: String, Hashable, Sendable {
        case number, bool, string, list
    }

    /// The keys of one strategy's entry (`RunReport.entryFields`), and the grid's axes as `grid.x|y|z`.
    static let routingFields: [(String, Kind)] = RunReport.entryFields.flatMap { f -> [(String, Kind)] in
        f.path == "grid" ? [("grid", .list), ("grid.x", .number), ("grid.y", .number), ("grid.z", .number)] : [(f.path, f.kind)]
    }

    /// Every path with its kind, in report order.
    public static let all: [(path: String, kind: Kind)] = {
        var paths: [(String, Kind)] = [("kernel", .string), ("dtype", .string), ("mode", .string),
                                       ("what_if", .bool),
                                       ("batch.bs", .number), ("batch.tokens", .number), ("batch.slots", .number),
                                       ("batch.slots_in_use", .number)]
        for routing in Strategy.names {
            paths += routingFields.map { ("\(routing).\($0.0)", $0.1) }
        }
        paths += [("gpu", .string), ("gpu_calibrated", .bool), ("gpu_speedup", .number), ("gpu_direction_confidence", .number)]
        paths += [("max_abs_diff_between_routings", .number), ("bitwise_equal", .bool), ("speedup", .number),
                  ("threads", .number)]
        paths += LayerReport.paths
        return paths
    }()

    /// The first component of every path: what an error lists.
    public static let roots = ["kernel", "dtype", "mode", "what_if", "batch"] + Strategy.names + [
                               "gpu", "gpu_calibrated", "gpu_speedup", "gpu_direction_confidence",
                               "max_abs_diff_between_routings", "bitwise_equal", "speedup", "threads", "layer"]

    static let kinds: [String: Kind] = Dictionary(all.map { ($0.path, $0.kind) }, uniquingKeysWith: { a, _ in a })

    /// The kind of a path, or `nil` if the report has no such path.
    public static func kind(of path: String) -> Kind? { kinds[path] }

    /// Why a path is unknown, with the nearest valid one.
    static func unknownMessage(_ path: String) -> String {
        var message = "unknown report path '\(path)'"
        if let near = Suggestion.nearest(to: path, in: all.map(\.path)) {
            message += "; did you mean '\(near)'?"
        }
        return message + " (roots: \(roots.joined(separator: ", ")))"
    }
}

/// "Did you mean …?": the nearest candidate by edit distance, when close enough.
enum Suggestion {
    static func nearest(to word: String, in candidates: [String]) -> String? {
        let w = Array(word.lowercased().unicodeScalars.prefix(64))
        var best: (String, Int)?
        for c in candidates {
            let d = distance(w, Array(c.unicodeScalars))
            if d < (best?.1 ?? Int.max) { best = (c, d) }
        }
        guard let (candidate, d) = best else { return nil }
        // Close enough to be a typo: a third of the word, at least 1, at most 3.
        return d <= max(1, min(3, candidate.count / 3)) ? candidate : nil
    }

    /// Levenshtein distance with adjacent transpositions.
    static func distance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous2 = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    current[j] = min(current[j], previous2[j - 2] + 1)
                }
            }
            previous2 = previous
            previous = current
        }
        return previous[b.count]
    }
}
