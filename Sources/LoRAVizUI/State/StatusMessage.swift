/// A status line message.
public struct StatusMessage: Hashable, Sendable {
    public var text: String
    public var isError: Bool

    public init(text: String, isError: Bool) {
        self.text = text
        self.isError = isError
    }
}

/// One message of the log: when (the app's clock) and what.
public struct LogEntry: Hashable, Sendable {
    public var time: Double
    public var message: StatusMessage
}
