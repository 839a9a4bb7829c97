/// What the terminal's byte stream decodes into: a key, or a bracketed paste.
public enum DecodedInput: Hashable, Sendable {
    case key(Key)
    /// Text between `ESC[200~` and `ESC[201~`: text, never keys.
    case paste(String)
}

/// Turns the characters ncurses hands over raw into keys, decoding escape
/// sequences itself (ncurses decodes only those its terminfo entry knows, and
/// gives up after `ESCDELAY`): CSI `ESC [ params final`, SS3 `ESC O x`, and
/// bracketed paste. A pure state machine on an injected clock.
///
///     var d = KeyDecoder()
///     d.feed(.char(27), at: 0)            // []: ESC waits for the rest
///     d.feed(.char(91), at: 0.01)         // [] ("[")
///     d.feed(.char(65), at: 0.02)         // [.key(.up)]
///
/// The rules that keep stray bytes from editing the batch:
/// - an unknown sequence is thrown away whole (`ESC [ 9 9 ~` is nothing);
/// - a lone ESC is Esc only after `escapeWait` without a follow-up byte;
/// - a sequence cut in two by a slow link (`ESC`, 100 ms, `[ A`) is still a
///   sequence: `[` or `O` soon after an Esc (within `lateSequenceWindow`)
///   opens one, whose bytes are decoded or dropped, never run as keys;
/// - ESC followed by any other character (Alt-x) is dropped.
public struct KeyDecoder: Sendable {
    /// How long a lone ESC waits for the rest of a sequence before it is the
    /// Esc key: long enough for a sequence's bytes sent together (they arrive
    /// within a millisecond or two, even over ssh they travel in one packet),
    /// short enough that Esc still feels immediate (under a frame at 20 Hz).
    public static let escapeWait = 0.050
    /// How long a started sequence (`ESC [` or `ESC O` seen) may take to
    /// finish before its bytes are dropped: once `[` has come, the bytes are a
    /// sequence, so waiting longer costs nothing a user sees.
    public static let sequenceWait = 0.500
    /// After an Esc that timed out, a `[` or `O` arriving this soon is the
    /// rest of a sequence split by a slow link, not the `[` key.
    public static let lateSequenceWindow = 0.500
    /// A paste whose end marker never comes ends after this long without bytes.
    public static let pasteWait = 1.0

    /// What ncurses delivered.
    public enum Input: Hashable, Sendable {
        /// A character as text (control codes included), by code point.
        case char(UInt32)
        /// A key ncurses decoded itself (its terminfo knew the sequence).
        case key(Key)
    }

    enum State: Hashable, Sendable {
        case idle
        /// ESC seen, waiting `escapeWait` for the rest of a sequence.
        case escape(since: Double)
        /// `ESC [` and the parameter/intermediate bytes so far.
        case csi(String, since: Double)
        case ss3(since: Double)
        /// Inside a bracketed paste: the text so far.
        case paste(String, since: Double)
        /// An X10 mouse report (`ESC [ M` then three raw bytes) that ncurses did not take: bytes left to drop.
        case mouseBytes(Int, since: Double)
    }

    var state = State.idle
    /// When the last Esc was given out after its wait (nil: none recently).
    var lateEscapeAt: Double?

    public init() {}

    /// Whether bytes are held waiting for the rest of a sequence (poll `expire` soon).
    public var isPending: Bool { state != .idle }

    /// Feeds one input; returns what it completes.
    public mutating func feed(_ input: Input, at now: Double) -> [DecodedInput] {
        var out = expire(at: now)
        switch input {
        case .key(let key):
            if case .paste(var text, _) = state {
                // ncurses decoded part of the pasted text: keep what it stands for as text.
                if key == .enter { text.append("\n") } else if key == .tab { text.append("\t") }
                state = .paste(text, since: now)
                return out
            }
            // A key ncurses decoded ends whatever was pending (a half sequence is dropped).
            state = .idle
            lateEscapeAt = nil
            out.append(.key(key))
        case .char(let code):
            out += feedChar(code, at: now)
        }
        return out
    }

    mutating func feedChar(_ code: UInt32, at now: Double) -> [DecodedInput] {
        switch state {
        case .idle:
            if let late = lateEscapeAt, now - late <= Self.lateSequenceWindow, code == 0x5B || code == 0x4F {
                // The rest of a sequence whose ESC already went out as Esc.
                lateEscapeAt = nil
                state = code == 0x5B ? .csi("", since: now) : .ss3(since: now)
                return []
            }
            lateEscapeAt = nil
            if code == 27 {
                state = .escape(since: now)
                return []
            }
            return [.key(Key(code: code))]
        case .escape:
            switch code {
            case 0x5B: state = .csi("", since: now)
            case 0x4F: state = .ss3(since: now)
            case 27: state = .escape(since: now)  // Esc Esc: the first is dropped, the second waits.
            default: state = .idle  // Alt-x: dropped, never the x key.
            }
            return []
        case .csi(var body, _):
            switch code {
            case 0x20...0x3F:
                body.unicodeScalars.append(Unicode.Scalar(code)!)
                // A runaway "sequence" (no final byte) is dropped rather than held forever.
                state = body.count > 32 ? .idle : .csi(body, since: now)
                return []
            case 0x4D where body.isEmpty:
                // `ESC [ M b x y`: its three bytes are positions, any of them a letter; never keys.
                state = .mouseBytes(3, since: now)
                return []
            case 0x40...0x7E:
                state = .idle
                return Self.csi(body, final: Character(Unicode.Scalar(code)!), at: now, into: &state)
            default:
                // Not part of a CSI: the sequence is broken; drop it, and the byte with it.
                state = code == 27 ? .escape(since: now) : .idle
                return []
            }
        case .mouseBytes(let left, _):
            state = left > 1 ? .mouseBytes(left - 1, since: now) : .idle
            return []
        case .ss3:
            state = .idle
            switch code {
            case 0x41: return [.key(.up)]
            case 0x42: return [.key(.down)]
            case 0x43: return [.key(.right)]
            case 0x44: return [.key(.left)]
            case 0x48: return [.key(.home)]
            case 0x46: return [.key(.end)]
            case 0x50: return [.key(.f1)]
            case 0x4D: return [.key(.enter)]  // keypad Enter
            default: return []
            }
        case .paste(var text, _):
            switch code {
            case 13, 10: text.append("\n")
            default: text.unicodeScalars.append(Unicode.Scalar(code) ?? "?")
            }
            let end = "\u{1B}[201~"
            if text.hasSuffix(end) {
                state = .idle
                return [.paste(String(text.dropLast(end.count)))]
            }
            state = .paste(text, since: now)
            return []
        }
    }

    /// A complete CSI sequence: a key, the start of a paste, or nothing.
    static func csi(_ body: String, final: Character, at now: Double, into state: inout State) -> [DecodedInput] {
        // Modifiers (`1;5A`: Ctrl-Up) do not change which key it is.
        let first = body.split(separator: ";", omittingEmptySubsequences: false).first.map(String.init) ?? ""
        switch final {
        case "A": return [.key(.up)]
        case "B": return [.key(.down)]
        case "C": return [.key(.right)]
        case "D": return [.key(.left)]
        case "H": return [.key(.home)]
        case "F": return [.key(.end)]
        case "Z": return [.key(.backTab)]
        case "~":
            switch first {
            case "1", "7": return [.key(.home)]
            case "4", "8": return [.key(.end)]
            case "3": return [.key(.delete)]
            case "5": return [.key(.pageUp)]
            case "6": return [.key(.pageDown)]
            case "11": return [.key(.f1)]
            case "200":
                state = .paste("", since: now)
                return []
            default: return []
            }
        default:
            return []
        }
    }

    /// Gives out what waited too long: a lone ESC becomes Esc, a half sequence
    /// is dropped, a paste without its end marker ends.
    public mutating func expire(at now: Double) -> [DecodedInput] {
        switch state {
        case .idle:
            return []
        case .escape(let since):
            guard now - since >= Self.escapeWait else { return [] }
            state = .idle
            lateEscapeAt = now
            return [.key(.escape)]
        case .csi(_, let since), .ss3(let since), .mouseBytes(_, let since):
            guard now - since >= Self.sequenceWait else { return [] }
            state = .idle
            return []
        case .paste(let text, let since):
            guard now - since >= Self.pasteWait else { return [] }
            state = .idle
            return [.paste(text)]
        }
    }

    /// Decodes a whole byte stream with timestamps (for tests): each input at its time, then everything expired.
    public static func decode(_ inputs: [(Input, Double)]) -> [DecodedInput] {
        var d = KeyDecoder()
        var out: [DecodedInput] = []
        for (input, t) in inputs { out += d.feed(input, at: t) }
        out += d.expire(at: (inputs.last?.1 ?? 0) + 10)
        return out
    }
}
