/// A place in a scenario file: `file:line:col`, 1-based.
public struct SourceLocation: Hashable, Sendable, CustomStringConvertible {
    /// The file name as the user gave it (`<prompt>` for the TUI's `:` prompt).
    public var file: String
    /// The line, counting from 1.
    public var line: Int
    /// The column in Unicode scalars, counting from 1.
    public var column: Int

    public init(file: String, line: Int, column: Int = 1) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// `file:line:col`, the form compilers use so editors can jump to it;
    /// just `file` for line 0 (the whole file: missing, a directory).
    public var description: String { line == 0 ? file : "\(file):\(line):\(column)" }

    /// The same line at another column.
    func at(column: Int) -> SourceLocation {
        SourceLocation(file: file, line: line, column: column)
    }
}

/// A bad input, located: what a user sees as `file:line:col: error: message`.
///
/// Every error the language reports (lexing, parsing, applying, loading) is
/// one of these, and an error never changes a `Session`.
public struct ScenarioError: Error, Hashable, Sendable, CustomStringConvertible {
    public var location: SourceLocation
    public var message: String

    /// Invisible scalars in `message` (a BOM, U+200B, NBSP, controls, bidi
    /// controls) are written `<U+XXXX>` (`Printer.visible`), so an error
    /// never reads "unknown verb 'slots'; did you mean 'slots'?".
    public init(location: SourceLocation, message: String) {
        self.location = location
        self.message = Printer.visible(message)
    }

    /// `file:line:col: error: message`.
    public var description: String {
        "\(SourceLocation(file: Printer.visible(location.file), line: location.line, column: location.column)): error: \(message)"
    }
}
