import LoRAKernels

/// `expect PATH OP VALUE`: a fact about the report a scenario pins.
///
///     expect sorted.fates.excess_exit == 56
///     expect sorted.launched < per-sequence.launched
///     expect bitwise_equal == true
public struct Expectation: Hashable, Sendable, CustomStringConvertible {
    /// `==`, `!=`, `<`, `<=`, `>`, `>=`; only the first two apply to true/false and strings.
    public enum Comparison: String, CaseIterable, Hashable, Sendable {
        case equal = "=="
        case notEqual = "!="
        case less = "<"
        case lessOrEqual = "<="
        case greater = ">"
        case greaterOrEqual = ">="

        /// Whether the comparison needs ordered (numeric) operands.
        public var isOrdering: Bool { self != .equal && self != .notEqual }
    }

    /// The right-hand side: a literal or another report path.
    public enum Operand: Hashable, Sendable, CustomStringConvertible {
        case value(ReportValue)
        case path(String)

        public var description: String {
            switch self {
            case .value(let v): return v.description
            case .path(let p): return p
            }
        }
    }

    public var path: String
    public var comparison: Comparison
    public var expected: Operand

    public init(path: String, comparison: Comparison, expected: Operand) {
        self.path = path
        self.comparison = comparison
        self.expected = expected
    }

    /// `PATH OP VALUE`, as written after `expect`.
    public var description: String { "\(path) \(comparison.rawValue) \(expected)" }

    /// What evaluating an expectation against a report found.
    public struct Outcome: Hashable, Sendable {
        /// Whether the expectation held.
        public var held: Bool
        /// The left-hand value, `nil` when the report does not have it yet.
        public var actual: ReportValue?
        /// The right-hand value, `nil` when it names a path the report does not have yet.
        public var expected: ReportValue?
        /// Why it failed, for the user: names the expectation and both values.
        public var message: String
    }

    /// Compares the report's value at `path` with the operand.
    ///
    /// Timing paths (`time_ms`, `speedup`, …) have no value until a `run`
    /// after the last change of the batch; such an expectation fails and
    /// says so.
    public func evaluate(in report: RunReport) -> Outcome {
        let actual = report.value(at: path)
        let expectedValue: ReportValue?
        switch expected {
        case .value(let v): expectedValue = v
        case .path(let p): expectedValue = report.value(at: p)
        }
        func missing(_ p: String) -> Outcome {
            let chosen = report.routings.map(\.routing)
            let root = String(p.prefix { $0 != "." })
            let why: String
            if Strategy(name: root) != nil, !chosen.contains(root) {
                why = "\(root) is not among the chosen strategies (\(chosen.joined(separator: " "))); `strategies … \(root)` adds it"
            } else if p == "gpu_speedup" {
                why = "gpu_speedup compares per-sequence with sorted, and they are not both chosen (\(chosen.joined(separator: " ")))"
            } else if p == "gpu_direction_confidence" {
                why = report.gpuSpeedup == nil
                    ? "gpu_direction_confidence needs gpu_speedup, and per-sequence and sorted are not both chosen (\(chosen.joined(separator: " ")))"
                    : "gpu_direction_confidence needs a profile scored on held-out measurements (h200); \(report.gpu) has none"
            } else if p.hasSuffix("gpu_measured_us") || p.hasSuffix("gpu_estimate_error") {
                why = "\(p) has no value yet (it needs a `--gpu-results` file measured on this batch)"
            } else if p.hasSuffix("gpu_speedup_vs_first") {
                why = "\(p) has no value: that strategy launches nothing"
            } else {
                why = "\(p) has no value yet (it needs a `run` after the last change of the batch)"
            }
            return Outcome(held: false, actual: actual, expected: expectedValue, message: "expect \(self) failed: \(why)")
        }
        guard let a = actual else { return missing(path) }
        guard let e = expectedValue else {
            if case .path(let p) = expected { return missing(p) }
            return missing(path)
        }
        let held: Bool
        switch (a, e) {
        case (.number(let x), .number(let y)):
            switch comparison {
            case .equal: held = x == y
            case .notEqual: held = x != y
            case .less: held = x < y
            case .lessOrEqual: held = x <= y
            case .greater: held = x > y
            case .greaterOrEqual: held = x >= y
            }
        default:
            // Kinds are checked when the line is parsed; a mismatch is "not equal".
            switch comparison {
            case .equal: held = a == e
            case .notEqual: held = a != e
            default: held = false
            }
        }
        var message = "expect \(self) "
        if held {
            message += "held"
        } else if case .path(let p) = expected {
            message += "failed: \(path) is \(a), \(p) is \(e)"
        } else {
            message += "failed: expected \(path) \(comparison.rawValue) \(e), actual \(a)"
        }
        return Outcome(held: held, actual: a, expected: e, message: message)
    }
}
