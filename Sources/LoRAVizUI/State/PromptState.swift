/// The `:` prompt being typed: a one-line editor (see `AppState+Prompt.swift`).
public struct PromptState: Hashable, Sendable {
    public var text = ""
    /// Where the next character goes, in characters from the start (0…text.count).
    public var cursor = 0
    /// Position in the history while browsing with ↑/↓ (nil: editing a new line).
    public var historyIndex: Int?

    public init(text: String = "") {
        self.text = text
        cursor = text.count
    }
}
