import Glibc
import LoRAKernels
import LoRAScenario

// MARK: The `:` prompt as a line editor

extension PromptState {
    /// The text as characters (the editor's unit: one cursor step each).
    var chars: [Character] { Array(text) }

    /// Replaces the whole text, the cursor at its end (history, completion).
    mutating func set(_ new: String) {
        text = new
        cursor = new.count
    }

    /// Inserts at the cursor.
    mutating func insert(_ s: String) {
        var c = chars
        let at = min(cursor, c.count)
        c.insert(contentsOf: Array(s), at: at)
        text = String(c)
        cursor = at + s.count
    }

    /// Deletes `range` (in characters) and puts the cursor at its start.
    mutating func delete(_ range: Range<Int>) {
        var c = chars
        let r = max(0, range.lowerBound)..<min(c.count, range.upperBound)
        guard !r.isEmpty else { return }
        c.removeSubrange(r)
        text = String(c)
        cursor = r.lowerBound
    }

    /// Where the word before the cursor starts (Ctrl-W): spaces, then non-spaces, back.
    var wordStart: Int {
        let c = chars
        var i = min(cursor, c.count)
        while i > 0, c[i - 1] == " " { i -= 1 }
        while i > 0, c[i - 1] != " " { i -= 1 }
        return i
    }

    /// Which part of the text a line of `width` cells shows so the cursor is
    /// on screen: the first character shown (the text scrolls left past the edge).
    public func scrollOffset(width: Int) -> Int {
        // One cell for the `:` and one for the cursor past the end.
        let room = max(1, width - 2)
        return max(0, cursor - room)
    }
}

extension AppState {
    /// A key while the prompt is open: editing keys edit, Enter submits, Esc closes.
    ///
    /// Readline's keys: ←/→, Home/End (Ctrl-A/E), Backspace and Delete at the
    /// cursor, Ctrl-W (word before), Ctrl-K (to the end), Ctrl-U (to the start),
    /// ↑/↓ history, Tab completion.
    mutating func handlePromptKey(_ key: Key) -> [AppAction] {
        guard var p = prompt else { return [] }
        switch key {
        case .escape, .ctrl("c"), .ctrl("g"):
            prompt = nil
            return []
        case .enter:
            prompt = nil
            return submit(p.text)
        case .backspace:
            if p.text.isEmpty {
                prompt = nil
                return []
            }
            p.delete(p.cursor - 1..<p.cursor)
        case .delete, .ctrl("d"):
            p.delete(p.cursor..<p.cursor + 1)
        case .left, .ctrl("b"):
            p.cursor = max(0, p.cursor - 1)
        case .right, .ctrl("f"):
            p.cursor = min(p.text.count, p.cursor + 1)
        case .home, .ctrl("a"):
            p.cursor = 0
        case .end, .ctrl("e"):
            p.cursor = p.text.count
        case .ctrl("w"):
            p.delete(p.wordStart..<p.cursor)
        case .ctrl("k"):
            p.delete(p.cursor..<p.text.count)
        case .ctrl("u"):
            p.delete(0..<p.cursor)
        case .up:
            guard !promptHistory.isEmpty else { return [] }
            let i = max(0, (p.historyIndex ?? promptHistory.count) - 1)
            p.historyIndex = i
            p.set(promptHistory[i])
        case .down:
            guard let i = p.historyIndex else { return [] }
            if i + 1 < promptHistory.count {
                p.historyIndex = i + 1
                p.set(promptHistory[i + 1])
            } else {
                p.historyIndex = nil
                p.set("")
            }
        case .char(let c):
            p.insert(String(c))
        case .tab:
            complete(&p)
        default:
            return []
        }
        prompt = p
        return []
    }

    /// A paste: into the prompt as text; one line stays there to be edited,
    /// several run one command per line (stopping at the first that fails).
    /// Outside the prompt a one-line paste opens the prompt with it (nothing
    /// runs until Enter); several lines are refused.
    mutating func handlePaste(_ pasted: String) -> [AppAction] {
        // Control characters other than newlines and tabs (a stray ESC) never reach the text.
        let clean = String(pasted.unicodeScalars.filter { $0 == "\n" || $0 == "\t" || $0.value >= 0x20 && $0.value != 0x7F }
            .map(Character.init)).replacingTabs
        var lines = clean.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        while lines.last?.trimmingSpaces.isEmpty == true { lines.removeLast() }
        guard !lines.isEmpty else { return [] }
        // Nothing may change unseen behind the "terminal too small" screen; a paste closes the help and the log.
        if ScreenLayout(self).isTooSmall { return [] }
        showHelp = false
        logScroll = nil
        if prompt == nil {
            if lines.count > 1 {
                say("pasted \(lines.count) lines outside the prompt: nothing ran (: then paste runs them, one command a line)",
                    isError: true)
                return []
            }
            prompt = PromptState(text: lines[0])
            say("pasted into the prompt: Enter runs it", isError: false)
            return []
        }
        var p = prompt!
        p.insert(lines[0])
        guard lines.count > 1 else {
            prompt = p
            return []
        }
        // Several lines: the first completes what was typed; each runs in turn.
        lines[0] = p.text
        prompt = nil
        var actions: [AppAction] = []
        var ran = 0
        let commands = lines.filter { let t = $0.trimmingSpaces; return !t.isEmpty && !t.hasPrefix("#") }
        for (i, line) in commands.enumerated() {
            status = nil
            actions += submit(line)
            if status?.isError == true {
                let error = status!.text
                say("pasted \(commands.count) commands: ran \(ran), line \(i + 1) failed (the rest not run): \(error)", isError: true)
                return actions
            }
            ran += 1
        }
        say("pasted \(commands.count) commands: ran each, one a line (u undoes one at a time)", isError: false)
        return actions
    }

    // MARK: Completion

    /// Tab: completes the word before the cursor (verb, `key=` of the verb,
    /// kernel, strategy, GPU, adapter name, file path); several candidates
    /// extend to their common prefix and are listed in the status line.
    mutating func complete(_ p: inout PromptState) {
        let before = String(p.chars[0..<min(p.cursor, p.text.count)])
        let words = before.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        let word = words.last ?? ""
        let candidates = completions(words: words)
        let matching = candidates.filter { $0.hasPrefix(word) }
        guard !matching.isEmpty else {
            say("Tab: nothing completes \"\(word)\"", isError: true)
            return
        }
        let common = matching.dropFirst().reduce(matching[0]) { $0.commonPrefix(with: $1) }
        let start = p.cursor - word.count
        p.delete(start..<p.cursor)
        if matching.count == 1 {
            let done = matching[0]
            p.insert(done.hasSuffix("=") || done.hasSuffix("/") ? done : done + " ")
            status = nil
        } else {
            p.insert(common)
            let shown = matching.prefix(12).map { $0.split(separator: "/").last.map(String.init) ?? $0 }
            say("Tab: " + shown.joined(separator: " ") + (matching.count > 12 ? " … (\(matching.count))" : ""), isError: false)
        }
    }

    /// What may stand where the last of `words` is being typed.
    func completions(words: [String]) -> [String] {
        guard words.count > 1 else { return Command.verbs }
        let verb = words[0]
        let word = words.last!
        let adapters = session.workload.batch.adapters.map(\.name)
        let pathVerbs: Set = ["model", "gpu-results", "output", "record"]
        if let eq = word.firstIndex(of: "=") {
            let key = String(word[..<eq]), value = String(word[word.index(after: eq)...])
            let values: [String]
            switch key {
            case "from": values = pathCompletions(value)
            case "adapter": values = adapters
            case "force", "specialize": values = ["true", "false"]
            case "stack": values = ["1", "2", "3"]
            case "chunk": values = StrategyOptions.chunks.map(String.init)
            default: values = []
            }
            return values.map { key + "=" + $0 }
        }
        let position = words.count - 1  // 1: the first word after the verb
        let keys = Self.usageKeys(verb)
        var positional: [String] = []
        switch verb {
        case "kernel": if position == 1 { positional = Kernel.names }
        case "strategies": positional = Strategy.names
        case "select": if position == 1 { positional = Strategy.names }
        case "gpu": if position == 1 { positional = GPUProfile.names }
        case "dtype": if position == 1 { positional = DType.allCases.map(\.rawValue) }
        case "mode": if position == 1 { positional = ["decode", "extend"] }
        case "seq", "adapter": if position == 1 { positional = adapters }
        case "set": if position == 1 { positional = ["seq"] }
        case "layer": if position == 1 { positional = ["off"] }
        case "launch":
            if position == 1 { positional = LayerModule.allCases.map(\.rawValue) } else if position == 2 { positional = ["shrink", "expand"] }
        case "remove":
            if position == 1 { positional = ["seq", "adapter"] } else if position == 2, words[1] == "adapter" { positional = adapters }
        default:
            if pathVerbs.contains(verb), position == 1 { return pathCompletions(word) }
        }
        return positional + (position >= 2 || positional.isEmpty ? keys : [])
    }

    /// The `key=` names a verb's usage line shows (`rank=`, `scaling=`, …), in its order.
    static func usageKeys(_ verb: String) -> [String] {
        guard let usage = Command.usage(of: verb) else { return [] }
        var keys: [String] = []
        var name = ""
        for c in usage {
            if c.isLetter || c == "_" {
                name.append(c)
            } else {
                if c == "=", !name.isEmpty, !keys.contains(name + "=") { keys.append(name + "=") }
                name = ""
            }
        }
        return keys
    }

    /// Files and folders starting with `prefix` (a path as typed; folders end in `/`).
    func pathCompletions(_ prefix: String) -> [String] {
        let slash = prefix.lastIndex(of: "/")
        let dir = slash.map { String(prefix[...$0]) } ?? ""
        let entries = listDirectory(dir.isEmpty ? "." : dir)
        return entries.filter { !$0.name.hasPrefix(".") || prefix.split(separator: "/").last?.hasPrefix(".") == true }
            .map { dir + $0.name + ($0.isDirectory ? "/" : "") }
            .sorted()
    }
}

/// A directory's entries (name, whether a folder), for the prompt's path completion; empty when it cannot be read.
func listDirectory(_ path: String) -> [(name: String, isDirectory: Bool)] {
    let expanded = path.hasPrefix("~/") ? (getenv("HOME").map { String(cString: $0) } ?? "~") + path.dropFirst() : path
    guard let dir = opendir(expanded) else { return [] }
    defer { closedir(dir) }
    var out: [(String, Bool)] = []
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
            String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
        }
        if name == "." || name == ".." { continue }
        var isDir = entry.pointee.d_type == UInt8(DT_DIR)
        if entry.pointee.d_type == UInt8(DT_LNK) || entry.pointee.d_type == UInt8(DT_UNKNOWN) {
            var st = stat()
            let full = expanded.hasSuffix("/") ? expanded + name : expanded + "/" + name
            if stat(full, &st) == 0 { isDir = (st.st_mode & S_IFMT) == S_IFDIR }
        }
        out.append((name, isDir))
    }
    return out
}

extension String {
    /// Tabs as spaces (the prompt's text is one line of cells).
    var replacingTabs: String { String(map { $0 == "\t" ? " " : $0 }) }
}
