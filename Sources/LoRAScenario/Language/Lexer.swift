/// One token of a command line.
///
/// A line is `verb positional… key=value…`: bare words, double-quoted
/// strings, and `key=value` pairs whose value is bare or quoted.
struct Token: Hashable, Sendable {
    enum Kind: Hashable, Sendable {
        /// A bare word: a verb, a name, a number, a path.
        case word
        /// A double-quoted string, escapes resolved.
        case string
        /// `key=value`.
        case pair
    }

    var kind: Kind
    /// The key of a pair; empty otherwise.
    var key: String
    /// The word, the string's contents, or the pair's value.
    var value: String
    /// Whether the value was written in quotes.
    var valueIsQuoted: Bool
    /// Column of the token's first character.
    var column: Int
    /// Column of the value's first character (after `=` for a pair).
    var valueColumn: Int
    /// Column just after the token's last character.
    var endColumn = 0

    /// How the token reads in a message: `rank=2000`, `"a b"`, `seq`.
    var spelling: String {
        let v = valueIsQuoted ? Printer.quoted(value) : value
        return kind == .pair ? "\(key)=\(v)" : v
    }
}

/// Splits one line into tokens, with exact columns.
///
/// Rules: whitespace (space, tab) separates tokens; `#` at the start of a
/// token begins a comment that runs to the end of the line; `"…"` is a string
/// with the escapes `\"`, `\\` and `\n`; a bare word that contains `=` is a
/// `key=value` pair; a run of `=!<>` is an operator word (`expect`).
/// Control characters other than tab are rejected, NUL as binary data.
enum Lexer {
    /// The longest line accepted, in characters (Unicode scalars).
    static let maxLineLength = 4096

    static func tokens(in line: String, at location: SourceLocation) throws -> [Token] {
        // Reject an over-long line before doing any per-character work on it.
        var length = 0
        for _ in line.unicodeScalars {
            length += 1
            if length > maxLineLength { break }
        }
        if length > maxLineLength {
            let total = line.unicodeScalars.count
            throw ScenarioError(
                location: location.at(column: maxLineLength + 1),
                message: "line is \(total) characters long; the limit is \(maxLineLength)")
        }

        let scalars = Array(line.unicodeScalars)
        func fail(_ index: Int, _ message: String) -> ScenarioError {
            ScenarioError(location: location.at(column: index + 1), message: message)
        }
        for (i, s) in scalars.enumerated() {
            if s == "\0" { throw fail(i, "binary data (a NUL byte); a scenario is a text file") }
            if s == "\r" {
                throw fail(i, "a carriage return (U+000D) inside a line: CR-only line endings: convert to LF")
            }
            // C0, DEL and C1 (U+0080–U+009F: U+009B is a terminal's CSI).
            if (s.value < 0x20 && s != "\t") || (0x7F...0x9F).contains(s.value) {
                throw fail(i, "control character \(hex(s)) is not allowed; a scenario is plain text")
            }
            // Bidi embeddings, overrides and isolates reorder how a line (or a title) is shown.
            if (0x202A...0x202E).contains(s.value) || (0x2066...0x2069).contains(s.value) {
                throw fail(i, "bidirectional control \(hex(s)) is not allowed: it reorders how the text is displayed")
            }
        }

        var tokens: [Token] = []
        var i = 0
        func isSpace(_ s: Unicode.Scalar) -> Bool { s == " " || s == "\t" }

        /// Reads a quoted string starting at the opening quote; returns its contents.
        func readString(from start: Int) throws -> String {
            var text = String.UnicodeScalarView()
            var j = start + 1
            while j < scalars.count {
                let s = scalars[j]
                if s == "\"" {
                    i = j + 1
                    return String(text)
                }
                if s == "\\" {
                    guard j + 1 < scalars.count else { break }
                    switch scalars[j + 1] {
                    case "\"": text.append("\"")
                    case "\\": text.append("\\")
                    case "n": text.append("\n")
                    default:
                        throw fail(j, "unknown escape '\\\(scalars[j + 1])' in a string; use \\\", \\\\ or \\n")
                    }
                    j += 2
                    continue
                }
                text.append(s)
                j += 1
            }
            throw fail(start, "unterminated string: no closing '\"' on this line")
        }

        while i < scalars.count {
            let s = scalars[i]
            if isSpace(s) { i += 1; continue }
            if s == "#" { break }
            let start = i
            if "=!<>".unicodeScalars.contains(s) {
                // An operator of `expect`: `==`, `!=`, `<`, `<=`, `>`, `>=`.
                var j = i
                while j < scalars.count, "=!<>".unicodeScalars.contains(scalars[j]) { j += 1 }
                tokens.append(Token(kind: .word, key: "", value: String(String.UnicodeScalarView(scalars[start..<j])),
                                    valueIsQuoted: false, column: start + 1, valueColumn: start + 1, endColumn: j + 1))
                i = j
                continue
            }
            if s == "\"" {
                let text = try readString(from: start)
                tokens.append(Token(kind: .string, key: "", value: text, valueIsQuoted: true,
                                    column: start + 1, valueColumn: start + 1))
            } else {
                // A bare word, or the key of a pair.
                var j = i
                while j < scalars.count, !isSpace(scalars[j]), scalars[j] != "=", scalars[j] != "\"" {
                    j += 1
                }
                let word = String(String.UnicodeScalarView(scalars[start..<j]))
                if j < scalars.count, scalars[j] == "\"" {
                    throw fail(j, "unexpected '\"' inside '\(word)'; quote the whole value")
                }
                if j < scalars.count, scalars[j] == "=" {
                    if j == start { throw fail(start, "'=' without a key before it") }
                    if j + 1 < scalars.count, scalars[j + 1] == "=" {
                        throw fail(j, "write spaces around '==': expect PATH == VALUE")
                    }
                    let valueStart = j + 1
                    if valueStart >= scalars.count || isSpace(scalars[valueStart]) || scalars[valueStart] == "#" {
                        throw fail(start, "missing value for '\(word)='")
                    }
                    if scalars[valueStart] == "\"" {
                        let text = try readString(from: valueStart)
                        if i < scalars.count, !isSpace(scalars[i]) {
                            throw fail(i, "expected a space after the closing '\"'")
                        }
                        tokens.append(Token(kind: .pair, key: word, value: text, valueIsQuoted: true,
                                            column: start + 1, valueColumn: valueStart + 1))
                    } else {
                        var k = valueStart
                        while k < scalars.count, !isSpace(scalars[k]) {
                            if scalars[k] == "\"" { throw fail(k, "unexpected '\"' inside a value; quote the whole value") }
                            if scalars[k] == "=" { throw fail(k, "unexpected '=' inside a value; quote the value") }
                            k += 1
                        }
                        let value = String(String.UnicodeScalarView(scalars[valueStart..<k]))
                        tokens.append(Token(kind: .pair, key: word, value: value, valueIsQuoted: false,
                                            column: start + 1, valueColumn: valueStart + 1))
                        i = k
                    }
                } else {
                    tokens.append(Token(kind: .word, key: "", value: word, valueIsQuoted: false,
                                        column: start + 1, valueColumn: start + 1))
                    i = j
                }
            }
            tokens[tokens.count - 1].endColumn = i + 1
            // A string must be followed by a separator too: `"a"b` is ambiguous.
            if tokens.last?.kind == .string, i < scalars.count, !isSpace(scalars[i]) {
                throw fail(i, "expected a space after the closing '\"'")
            }
        }
        return tokens
    }

    static func hex(_ s: Unicode.Scalar) -> String {
        let h = String(s.value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - h.count)) + h
    }
}
