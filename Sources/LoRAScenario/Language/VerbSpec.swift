import LoRAKernels

/// One verb of the command language, declared once: its name, the ways to
/// write it (each a list of words: positionals, literal words, `key=value`
/// keys with their limits), and the function that parses it.
///
/// `VerbSpec.table` drives the parser's dispatch, the usage lines of errors,
/// the verb list and "did you mean" of an unknown verb, the TUI's command
/// shapes and completions, and the docs' verb table, so none of them can
/// disagree with what the parser accepts (the pattern of `KeyBinding.table`).
public struct VerbSpec: Sendable {
    /// The word that starts the line.
    public let name: String
    /// The ways to write the verb, in the order the usage line and the docs give them.
    public let forms: [Form]
    /// What the usage line adds in parentheses (`a config.json or its folder`).
    let note: String?
    /// Parses the line; the reader has split it into positionals and keys.
    let parse: @Sendable (inout ArgumentReader) throws -> Command

    init(_ name: String, _ forms: [Form], note: String? = nil, parse: @escaping @Sendable (inout ArgumentReader) throws -> Command) {
        self.name = name
        self.forms = forms
        self.note = note
        self.parse = parse
    }

    /// One way to write a verb (`remove seq I`) and what it does (a row of the docs' verb table).
    public struct Form: Sendable {
        public let words: [Word]
        /// The docs' "effect" column (markdown).
        let summary: String

        init(_ words: [Word], _ summary: String) {
            self.words = words
            self.summary = summary
        }

        /// The positional words a line of this form may hold (`Int.max` with a repeated word).
        var positionalLimit: Int {
            words.contains { if case .repeated = $0 { return true } else { return false } } ? Int.max
                : words.filter { if case .key = $0 { return false } else { return true } }.count
        }

        /// Its positional words, in order (a literal word is one, with no `Positional`).
        var positionals: [Positional?] {
            words.compactMap {
                switch $0 {
                case .literal: return .some(nil)
                case .positional(let p), .optional(let p), .repeated(let p): return p
                case .key: return nil
                }
            }
        }

        /// Its keys, in order.
        public var keys: [Key] {
            words.compactMap { if case .key(let k, _) = $0 { return k } else { return nil } }
        }
    }

    /// A word after the verb.
    public enum Word: Sendable {
        /// A fixed word (`seq` of `set seq I`).
        case literal(String)
        case positional(Positional)
        /// `[N]`: may be left out (only at the end of the positionals).
        case optional(Positional)
        /// `NAME…`: one or more.
        case repeated(Positional)
        /// `key=VALUE`, or `[key=VALUE]` when optional.
        case key(Key, optional: Bool)
    }

    /// What a positional word may be.
    public struct Positional: Sendable {
        /// The short shape (`N`, `STRATEGY`), as the help's command shapes show it.
        public let placeholder: String
        /// The words it may be, spelt out by the usage line (`bf16|fp16|fp32`); nil: any.
        public let choices: [String]?
        public let completion: Completion
        /// Whether the docs' verb table spells the choices out too (false: the docs list them in a section of their own).
        let spelledInDocs: Bool
        /// A whole number's range, checked by the parser and printed from here; nil: not read as a number.
        public let range: ClosedRange<Int>?
        /// What a range error calls it (`sequence index 4096 is out of range 0…4095`).
        let label: String

        init(_ placeholder: String, choices: [String]? = nil, completion: Completion? = nil, spelledInDocs: Bool = true) {
            self.placeholder = placeholder
            self.choices = choices
            self.completion = completion ?? (choices == nil ? .none : .choices)
            self.spelledInDocs = spelledInDocs
            self.range = nil
            self.label = placeholder
        }

        /// A whole number within `range`.
        init(_ placeholder: String, _ range: ClosedRange<Int>, label: String? = nil) {
            self.placeholder = placeholder
            self.choices = nil
            self.completion = .none
            self.spelledInDocs = true
            self.range = range
            self.label = label ?? placeholder
        }
    }

    /// What the TUI's Tab offers for a word (the values that depend on the session are the UI's).
    public enum Completion: Sendable {
        case none
        /// The `choices` of the word.
        case choices
        /// The batch's adapter names.
        case adapter
        /// Files and folders.
        case path
    }

    /// A `key=value` argument: its name and the values it takes.
    public struct Key: Sendable {
        public let name: String
        /// The value as the usage line shows it (`N`, `1|2|3`).
        public let placeholder: String
        public let limit: Limit
        /// The values Tab offers (nil: those of `limit`).
        let choices: [String]?

        init(_ name: String, _ limit: Limit, placeholder: String? = nil, choices: [String]? = nil) {
            self.name = name
            self.limit = limit
            self.choices = choices
            self.placeholder = placeholder ?? choices?.joined(separator: "|") ?? limit.placeholder
        }

        /// The values Tab offers for the key (adapter names and paths are the UI's).
        public var completion: (values: [String], kind: Completion) {
            if let choices { return (choices, .choices) }
            switch limit {
            case .bool: return (["true", "false"], .choices)
            case .name: return ([], .adapter)
            case .path: return ([], .path)
            case .int, .float: return ([], .none)
            }
        }
    }

    /// The values a key takes; a number's range is checked by the parser and printed from here.
    public enum Limit: Sendable {
        case int(ClosedRange<Int>)
        case float(ClosedRange<Float>)
        case bool
        /// An adapter name (`CommandLimits.nameLength`).
        case name
        case path

        var placeholder: String {
            switch self {
            case .int: return "N"
            case .float: return "F"
            case .bool: return "true|false"
            case .name: return "NAME"
            case .path: return "PATH"
            }
        }
    }
}

// MARK: - Lookup

extension VerbSpec {
    private static let byName = Dictionary(uniqueKeysWithValues: table.map { ($0.name, $0) })

    /// The spec of `name`, if it is a verb.
    public static func named(_ name: String) -> VerbSpec? { byName[name] }

    /// Every verb, in the order the help and the "unknown verb" error list them.
    public static var names: [String] { table.map(\.name) }
}

// MARK: - Text

extension VerbSpec {
    /// The usage line errors and the help show: every form, then the note.
    ///
    ///     adapter NAME rank=N [scaling=F] [slot=N] | adapter NAME from=PATH [slot=N]
    public var usage: String {
        forms.map { line($0) }.joined(separator: " | ") + (note.map { " (\($0))" } ?? "")
    }

    /// One form as the usage line writes it, choices spelt out (in the docs, those `spelledInDocs`).
    func line(_ form: Form, docs: Bool = false) -> String {
        ([name] + form.words.map { Self.usage($0, docs: docs) }).joined(separator: " ")
    }

    private static func usage(_ word: Word, docs: Bool) -> String {
        func spelled(_ p: Positional) -> String {
            docs && !p.spelledInDocs ? p.placeholder : p.choices?.joined(separator: "|") ?? p.placeholder
        }
        switch word {
        case .literal(let w): return w
        case .positional(let p): return spelled(p)
        case .optional(let p): return "[\(spelled(p))]"
        case .repeated(let p): return spelled(p) + "…"
        case .key(let k, let optional): return optional ? "[\(k.name)=\(k.placeholder)]" : "\(k.name)=\(k.placeholder)"
        }
    }

    /// A short shape of one form, as the help shows a key's command (`set seq I adapter=NAME`):
    /// the verb, its positionals by placeholder (`values` replaces the first ones), and only the
    /// keys named, each with its placeholder or the value given.
    ///
    /// - Parameter positionals: how many positional words to show; nil: all.
    /// - Precondition: every key named belongs to the form (the key table is built at start-up, and tested).
    public func shape(form index: Int = 0, positionals: Int? = nil, values: [String] = [],
                      keys: KeyValuePairs<String, String?> = [:]) -> String {
        let form = forms[index]
        var words = [name]
        for word in form.words where words.count <= (positionals ?? Int.max) {
            let shown = values.count >= words.count ? values[words.count - 1] : nil
            switch word {
            case .literal(let w): words.append(shown ?? w)
            case .positional(let p): words.append(shown ?? p.placeholder)
            case .optional(let p): words.append(shown ?? "[\(p.placeholder)]")
            case .repeated(let p): words.append(shown ?? p.placeholder + "…")
            case .key: continue
            }
        }
        for (key, value) in keys {
            guard let k = form.keys.first(where: { $0.name == key }) else {
                preconditionFailure("\(name) has no key \(key)= in \(line(form))")
            }
            words.append("\(k.name)=\(value ?? k.placeholder)")
        }
        return words.joined(separator: " ")
    }

    /// The `key=` names of every form, in order, each once.
    public var keyNames: [String] {
        var names: [String] = []
        for key in forms.flatMap(\.keys) where !names.contains(key.name) { names.append(key.name) }
        return names
    }

    /// The docs' verb table (docs/scenario-language.md, "Verbs"): a row per form.
    static var markdownTable: String {
        let rows = table.flatMap { spec in
            spec.forms.map { "| `\(spec.line($0, docs: true).replacingOccurrences(of: "|", with: "\\|"))` | \($0.summary) |" }
        }
        return (["| command | effect |", "|---|---|"] + rows).joined(separator: "\n")
    }

    /// `1–512`, as the docs write a range.
    static func span(_ range: ClosedRange<Int>) -> String { "\(range.lowerBound)–\(range.upperBound)" }
}
