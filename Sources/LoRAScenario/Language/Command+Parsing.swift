import LoRAKernels
import LoRAModels

extension Command {
    /// Parses one line of the language.
    ///
    ///     try Command.parse("adapter sql rank=16 scaling=2")  // .adapter(name: "sql", rank: 16, …)
    ///     try Command.parse("# a comment")                   // nil
    ///
    /// - Returns: the command, or `nil` for a blank line or a comment.
    /// - Throws: `ScenarioError` naming `file:line:col` of the offending token and why.
    public static func parse(_ text: String, file: String = "<prompt>", line: Int = 1) throws -> Command? {
        try parseLocated(text, at: SourceLocation(file: file, line: line))?.command
    }

    /// Parses a line and keeps the tokens, so later errors can point at an argument.
    static func parseLocated(_ text: String, at location: SourceLocation) throws -> (command: Command, tokens: [Token])? {
        let tokens = try Lexer.tokens(in: text, at: location)
        guard let first = tokens.first else { return nil }
        var reader = ArgumentReader(tokens: tokens, location: location, lineLength: text.unicodeScalars.count)
        guard first.kind == .word else {
            throw reader.error(at: first, "expected a verb at the start of the line, found \(first.kind == .string ? "a string" : "'\(first.spelling)'")")
        }
        return (try reader.command(), tokens)
    }

    /// The usage line of a verb, as errors and the help show it.
    public static func usage(of verb: String) -> String? { VerbSpec.named(verb)?.usage }
}

/// Value ranges the parser enforces; the session adds those that depend on state.
public enum CommandLimits {
    public static let rank = 0...ModelDims.rankLimit.upperBound
    public static let scaling: ClosedRange<Float> = -1024...1024
    public static let reps = 1...1000
    public static let defaultReps = 5
    public static let sleepSeconds: ClosedRange<Double> = 0...3600
    public static let stack = 1...3
    /// Decoder layers (0-based); a loaded model's `num_hidden_layers` narrows it.
    public static let layer = 0...4095
    /// Adapter names: letters, digits, `_`, `-`, `.`, starting with a letter or `_`.
    public static let nameLength = 1...64
}

/// Reads a tokenized line: the verb, positionals in order, `key=value` pairs.
struct ArgumentReader {
    let tokens: [Token]
    let location: SourceLocation
    let lineLength: Int
    /// The words after the verb that are not `key=value`, in order.
    private(set) var positionals: [Token] = []
    private var pairs: [Token] = []
    private var verb = ""
    /// The verb's spec, once the verb is known: its forms check the line's shape.
    private var found: VerbSpec?
    /// The form `expect(form:)` checked the line against: its words' limits read the values.
    private var form: VerbSpec.Form?

    init(tokens: [Token], location: SourceLocation, lineLength: Int) {
        self.tokens = tokens
        self.location = location
        self.lineLength = lineLength
    }

    func error(at token: Token?, _ message: String, value: Bool = false) -> ScenarioError {
        // Without a token: just past the last argument (something is missing).
        let column = token.map { value ? $0.valueColumn : $0.column } ?? (tokens.last?.endColumn ?? lineLength + 1)
        return ScenarioError(location: location.at(column: column), message: message)
    }

    /// The spec of the verb being parsed (parse functions run only once it is found).
    var spec: VerbSpec { found! }

    var usage: String { found.map { "usage: \($0.usage)" } ?? "" }

    /// Whether the line has any `key=value`.
    var hasKeys: Bool { !pairs.isEmpty }

    mutating func command() throws -> Command {
        verb = tokens[0].value
        var positionals: [Token] = []
        var pairs: [Token] = []
        for t in tokens.dropFirst() {
            if t.kind == .pair {
                if let earlier = pairs.first(where: { $0.key == t.key }) {
                    throw error(at: t, "'\(t.key)=' is given twice (first at column \(earlier.column))")
                }
                pairs.append(t)
            } else {
                positionals.append(t)
            }
        }
        self.positionals = positionals
        self.pairs = pairs
        guard let spec = VerbSpec.named(verb) else { throw unknownVerb() }
        found = spec
        return try spec.parse(&self)
    }

    /// `unknown verb 'sedd'; did you mean 'seed'?`, or the list of verbs when none is near.
    private func unknownVerb() -> ScenarioError {
        var message = "unknown verb '\(verb)'"
        if let invisible = verb.unicodeScalars.first(where: Printer.isInvisible) {
            // A BOM, a zero-width space or an NBSP inside the word: say so, and what it would be without it.
            let parts = verb.unicodeScalars.split(whereSeparator: Printer.isInvisible).map { String(String.UnicodeScalarView($0)) }
            message += ": it contains the invisible character \(Lexer.hex(invisible)), which is not a space"
            if let near = parts.first(where: { VerbSpec.named($0) != nil }) { message += "; did you mean '\(near)'?" }
            return error(at: tokens[0], message)
        }
        if let near = Suggestion.nearest(to: verb, in: VerbSpec.names) {
            message += "; did you mean '\(near)'?"
        } else {
            message += " (verbs: \(VerbSpec.names.joined(separator: ", ")))"
        }
        return error(at: tokens[0], message)
    }

    // MARK: Shape

    /// Checks the line against form `index` of the verb: the count of positionals
    /// and that every key is one of the form's; a key of `refusing` is named with its reason.
    mutating func expect(form index: Int, refusing: [String: String] = [:]) throws {
        let form = spec.forms[index]
        try expect(positionals: form.positionalLimit, keys: form.keys.map(\.name), refusing: refusing)
        self.form = form
    }

    /// Checks the count of positionals and that every key belongs to the verb;
    /// a key of `refusing` is named with its reason.
    private func expect(positionals count: Int, keys: [String], refusing: [String: String]) throws {
        if let p = pairs.first(where: { refusing[$0.key] != nil }) {
            throw error(at: p, "\(p.key)= does not go with from=: \(refusing[p.key]!)")
        }
        try expect(positionals: count, keys: keys)
    }

    /// Checks the count of positionals and that every key belongs to the verb.
    private func expect(positionals count: Int, keys: [String]) throws {
        if positionals.count > count {
            let extra = positionals[count]
            throw error(at: extra, "unexpected argument '\(extra.spelling)'; \(usage)")
        }
        for p in pairs where !keys.contains(p.key) {
            var message = "unknown key '\(p.key)' for \(verb)"
            if keys.isEmpty {
                message = "\(verb) takes no key=value arguments, found '\(p.key)='; \(usage)"
            } else {
                if let near = Suggestion.nearest(to: p.key, in: keys) { message += "; did you mean '\(near)'?" }
                message += " (keys: \(keys.joined(separator: ", ")))"
            }
            throw error(at: p, message)
        }
    }

    /// Joins `[16,` `26,` `1]` (a list VALUE the lexer split at spaces) into one token.
    mutating func joinList() throws {
        guard positionals.count > 2, positionals[2].kind == .word, positionals[2].value.hasPrefix("[") else { return }
        var parts: [String] = []
        var end = 2
        while end < positionals.count {
            let t = positionals[end]
            guard t.kind == .word else { throw error(at: t, "bad list: expected numbers like [16, 26, 1]") }
            parts.append(t.value)
            if t.value.hasSuffix("]") { break }
            end += 1
        }
        guard end < positionals.count else {
            throw error(at: positionals[2], "unterminated list: no closing ']' on this line")
        }
        var joined = positionals[2]
        joined.value = parts.joined(separator: " ")
        positionals.replaceSubrange(2...end, with: [joined])
    }

    /// `expect` takes exactly three words, no pairs (a pair here means a missing space around `==`).
    func expect(positions count: Int) throws {
        if let p = pairs.first {
            throw error(at: p, "write spaces around the operator: expect PATH OP VALUE")
        }
        if positionals.count > count {
            throw error(at: positionals[count], "unexpected argument '\(positionals[count].spelling)'; \(usage)")
        }
    }

    func positional(_ index: Int, _ what: String) throws -> Token {
        guard index < positionals.count else {
            throw error(at: nil, "missing \(what); \(usage)")
        }
        return positionals[index]
    }

    func key(_ name: String) -> Token? {
        pairs.first { $0.key == name }
    }

    // MARK: Words, read with their limits

    /// Positional `index` of the checked form: a whole number within the word's range.
    func int(positional index: Int) throws -> Int {
        guard let p = form?.positionals[index], let range = p.range else {
            preconditionFailure("positional \(index) of \(verb) is not a whole number of the checked form")
        }
        return try int(positional(index, p.placeholder), p.label, range)
    }

    func int(_ key: VerbSpec.Key) throws -> Int? {
        guard case .int(let range) = key.limit else { preconditionFailure("\(key.name)= is not a whole number") }
        return try self.key(key.name).map { try int($0, key.name, range) }
    }

    func float(_ key: VerbSpec.Key) throws -> Float? {
        guard case .float(let range) = key.limit else { preconditionFailure("\(key.name)= is not a number") }
        return try self.key(key.name).map { try float($0, key.name, range) }
    }

    func bool(_ key: VerbSpec.Key) throws -> Bool? {
        try self.key(key.name).map { try bool($0, key.name) }
    }

    /// An adapter name given as `key=NAME`.
    func name(_ key: VerbSpec.Key) throws -> String? {
        try self.key(key.name).map { try name($0) }
    }

    // MARK: Values

    /// A strategy's name (`Strategy.names`).
    func strategy(_ t: Token) throws -> Strategy {
        guard t.kind == .word, let s = Strategy(name: t.value) else {
            var message = "unknown strategy '\(t.spelling)'"
            if let near = Suggestion.nearest(to: t.value, in: Strategy.names) { message += "; did you mean '\(near)'?" }
            throw error(at: t, message + " (strategies: \(Strategy.names.joined(separator: ", ")))")
        }
        return s
    }

    private func label(_ t: Token, _ what: String) -> String {
        t.kind == .pair ? "\(t.key)=" : what
    }

    func int(_ t: Token, _ what: String, _ range: ClosedRange<Int>) throws -> Int {
        guard !t.valueIsQuoted, Numbers.isInteger(t.value) else {
            throw error(at: t, "bad number '\(t.value)' for \(label(t, what)): expected a whole number", value: true)
        }
        guard let v = Int(t.value) else {
            throw error(at: t, "\(label(t, what)) \(t.value) is out of range \(range.lowerBound)…\(range.upperBound)", value: true)
        }
        guard range.contains(v) else {
            let shown = t.kind == .pair ? "\(t.key)=\(t.value)" : "\(what) \(t.value)"
            throw error(at: t, "\(shown) is out of range \(range.lowerBound)…\(range.upperBound)", value: true)
        }
        return v
    }

    func float(_ t: Token, _ what: String, _ range: ClosedRange<Float>) throws -> Float {
        guard !t.valueIsQuoted, Numbers.isDecimal(t.value), let v = Float(t.value), v.isFinite else {
            throw error(at: t, "bad number '\(t.value)' for \(label(t, what)): expected a number like 0.5 or 2", value: true)
        }
        if Numbers.underflows(t.value, to: Double(v)) {
            let shown = t.kind == .pair ? "\(t.key)=\(t.value)" : "\(what) \(t.value)"
            throw error(at: t, "\(shown) is too small for a float32: it would be 0; write 0 if 0 is meant", value: true)
        }
        guard range.contains(v) else {
            throw error(at: t, "\(t.key)=\(t.value) is out of range \(Printer.number(Double(range.lowerBound)))…\(Printer.number(Double(range.upperBound)))", value: true)
        }
        return v
    }

    func bool(_ t: Token, _ what: String) throws -> Bool {
        switch (t.valueIsQuoted, t.value) {
        case (false, "true"): return true
        case (false, "false"): return false
        default: throw error(at: t, "bad value '\(t.value)' for \(label(t, what)): expected true or false", value: true)
        }
    }

    func name(_ t: Token) throws -> String {
        let v = t.value
        let scalars = v.unicodeScalars
        let valid = !t.valueIsQuoted && CommandLimits.nameLength.contains(scalars.count)
            && scalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "_-.".unicodeScalars.contains($0)) }
            && (scalars.first.map { $0 == "_" || $0.properties.isAlphabetic } ?? false)
        guard valid else {
            throw error(at: t, "bad adapter name '\(v)': use \(VerbSpec.span(CommandLimits.nameLength)) letters, digits, '_', '-' or '.', starting with a letter or '_'", value: true)
        }
        return v
    }

    func path(_ t: Token) throws -> String {
        guard !t.value.isEmpty else { throw error(at: t, "empty file name") }
        return t.value
    }

    func duration(_ t: Token) throws -> Double {
        let v = t.value
        let (number, scale): (Substring, Double)
        if v.hasSuffix("ms") {
            (number, scale) = (v.dropLast(2), 1e-3)
        } else if v.hasSuffix("s") {
            (number, scale) = (v.dropLast(), 1)
        } else {
            throw error(at: t, "bad duration '\(v)': expected a number with a unit, like 1.5s or 200ms")
        }
        guard !t.valueIsQuoted, Numbers.isDecimal(String(number)), let n = Double(number), n.isFinite,
              !Numbers.underflows(String(number), to: n) else {
            throw error(at: t, "bad duration '\(v)': expected a number with a unit, like 1.5s or 200ms")
        }
        let seconds = scale == 1 ? n : n / 1000
        guard CommandLimits.sleepSeconds.contains(seconds) else {
            let range = CommandLimits.sleepSeconds
            throw error(at: t, "sleep \(v) is out of range \(Printer.number(range.lowerBound))s…\(Printer.number(range.upperBound))s")
        }
        return seconds
    }

    // MARK: expect

    func expectation() throws -> Expectation {
        let p = try positional(0, "PATH")
        if p.kind == .word, p.value.unicodeScalars.contains(where: { "=!<>".unicodeScalars.contains($0) }) {
            throw error(at: p, "write spaces around the operator: expect PATH OP VALUE")
        }
        let opToken = try positional(1, "an operator (==, !=, <, <=, >, >=)")
        let valueToken = try positional(2, "VALUE")
        guard p.kind == .word, let kind = ReportPath.kind(of: p.value) else {
            throw error(at: p, ReportPath.unknownMessage(p.value))
        }
        guard opToken.kind == .word, let op = Expectation.Comparison(rawValue: opToken.value) else {
            throw error(at: opToken, "unknown operator '\(opToken.spelling)'; expected ==, !=, <, <=, > or >=")
        }
        let operand: Expectation.Operand
        let operandKind: ReportPath.Kind
        let v = valueToken.value
        if valueToken.kind == .word, v.hasPrefix("[") {
            let body = v.dropFirst().dropLast()
            let items = body.split(separator: ",", omittingEmptySubsequences: false)
                .map { String($0.drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed()) }
            var numbers: [Double] = []
            for item in items where !(items.count == 1 && item.isEmpty) {
                guard Numbers.isDecimal(item), let d = Double(item), d.isFinite, !Numbers.underflows(item, to: d) else {
                    throw error(at: valueToken, "bad list '\(v)': expected numbers like [16, 26, 1]")
                }
                numbers.append(d)
            }
            operand = .value(.list(numbers)); operandKind = .list
        } else if valueToken.kind == .string {
            operand = .value(.string(v)); operandKind = .string
        } else if v == "true" || v == "false" {
            operand = .value(.bool(v == "true")); operandKind = .bool
        } else if Numbers.isDecimal(v) {
            guard let d = Double(v), d.isFinite else {
                throw error(at: valueToken, "bad number '\(v)'")
            }
            if Numbers.underflows(v, to: d) {
                throw error(at: valueToken, "bad number '\(v)': too small for a double, it would be 0; write 0 if 0 is meant")
            }
            operand = .value(.number(d)); operandKind = .number
        } else if let k = ReportPath.kind(of: v) {
            operand = .path(v); operandKind = k
        } else if kind == .string, !v.contains(".") {
            operand = .value(.string(v)); operandKind = .string
        } else if v.contains(".") || ReportPath.roots.contains(where: { v.hasPrefix($0) }) {
            throw error(at: valueToken, ReportPath.unknownMessage(v))
        } else {
            throw error(at: valueToken, "bad value '\(v)': expected a number, true, false, a \"string\" or a report path")
        }
        if kind != operandKind {
            throw error(at: valueToken, "\(p.value) holds \(Self.article(kind)), but \(valueToken.spelling) is \(Self.article(operandKind))")
        }
        if op.isOrdering, kind != .number {
            throw error(at: opToken, "\(op.rawValue) compares numbers; \(p.value) is \(Self.article(kind)): use == or !=")
        }
        return Expectation(path: p.value, comparison: op, expected: operand)
    }

    private static func article(_ kind: ReportPath.Kind) -> String {
        switch kind {
        case .number: return "a number"
        case .bool: return "a boolean (true or false)"
        case .string: return "a string"
        case .list: return "a list of numbers"
        }
    }
}

/// The syntax of numbers: no `inf`, `nan`, hex or `_`, so what parses is what prints.
enum Numbers {
    /// `[+-]?[0-9]+`
    static func isInteger(_ s: String) -> Bool {
        var u = Substring(s).utf8[...]
        if let f = u.first, f == UInt8(ascii: "-") || f == UInt8(ascii: "+") { u = u.dropFirst() }
        return !u.isEmpty && u.allSatisfy { (48...57).contains($0) }
    }

    /// A literal with a non-zero digit before its exponent that parsed to 0
    /// (`1e-400`): refused, not silently read as 0.
    static func underflows(_ literal: String, to value: Double) -> Bool {
        guard value == 0 else { return false }
        let mantissa = literal.prefix { $0 != "e" && $0 != "E" }
        return mantissa.contains { ("1"..."9").contains($0) }
    }

    /// `[+-]?(digits[.digits?]|.digits)([eE][+-]?digits)?`
    static func isDecimal(_ s: String) -> Bool {
        var u = Array(s.utf8)[...]
        if let f = u.first, f == UInt8(ascii: "-") || f == UInt8(ascii: "+") { u = u.dropFirst() }
        func digits() -> Int {
            var n = 0
            while let c = u.first, (48...57).contains(c) { u = u.dropFirst(); n += 1 }
            return n
        }
        var mantissa = digits()
        if u.first == UInt8(ascii: ".") {
            u = u.dropFirst()
            mantissa += digits()
        }
        guard mantissa > 0 else { return false }
        if let e = u.first, e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
            u = u.dropFirst()
            if let f = u.first, f == UInt8(ascii: "-") || f == UInt8(ascii: "+") { u = u.dropFirst() }
            guard digits() > 0 else { return false }
        }
        return u.isEmpty
    }
}
