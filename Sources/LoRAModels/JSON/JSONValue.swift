/// A parsed JSON value whose objects keep their keys in file order.
///
/// Foundation's parsers drop key order, but PEFT's `rank_pattern` and
/// `alpha_pattern` lookups take the *first* matching key in the order the
/// file lists them, so the readers here parse JSON themselves
/// (`JSONValue+Parsing.swift`). Numbers keep their literal text so that an
/// integer field can refuse `8.5` or `1e3` instead of rounding it.
enum JSONValue: Hashable, Sendable {
    case null
    case bool(Bool)
    /// The number's literal text, already checked against JSON's grammar.
    case number(String)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)
}

/// A JSON object: its members by key, and the keys in file order.
struct JSONObject: Hashable, Sendable {
    /// The keys in the order the file lists them; each appears once.
    private(set) var keys: [String] = []
    private(set) var members: [String: JSONValue] = [:]

    subscript(key: String) -> JSONValue? { members[key] }

    /// Adds a member; returns false when the key is already present.
    mutating func append(_ key: String, _ value: JSONValue) -> Bool {
        guard members.updateValue(value, forKey: key) == nil else { return false }
        keys.append(key)
        return true
    }
}

extension JSONValue {
    /// The value as an `Int` when it is an integer literal that fits.
    var int: Int? {
        if case .number(let text) = self { return Int(text) }
        return nil
    }

    /// The value as a `Double` when it is a finite number.
    var double: Double? {
        if case .number(let text) = self, let value = Double(text), value.isFinite { return value }
        return nil
    }

    var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    var bool: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    var array: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    var object: JSONObject? {
        if case .object(let value) = self { return value }
        return nil
    }

    var isNull: Bool { self == .null }

    /// The value as a message shows it: short literals verbatim, containers by kind.
    var shown: String {
        switch self {
        case .null: return "null"
        case .bool(let value): return value ? "true" : "false"
        case .number(let text): return text.count <= 40 ? text : String(text.prefix(40)) + "…"
        case .string(let value):
            let short = value.count <= 40 ? value : String(value.prefix(40)) + "…"
            return "\"\(short)\" (a string)"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}
