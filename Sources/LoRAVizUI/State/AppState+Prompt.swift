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

    /// What may stand where the last of `words` is being typed: what the verb's
    /// spec says of that word (its choices, an adapter, a path) and its keys.
    func completions(words: [String]) -> [String] {
        guard words.count > 1 else { return VerbSpec.names }
        let word = words.last!
        let adapters = session.workload.batch.adapters.map(\.name)
        let spec = VerbSpec.named(words[0])
        if let eq = word.firstIndex(of: "=") {
            let key = String(word[..<eq]), value = String(word[word.index(after: eq)...])
            // The verb's key, else any verb's of that name: the parser then says the key is not the verb's.
            let keys = (spec.map { [$0] } ?? []) + VerbSpec.table
            guard let k = keys.lazy.flatMap(\.forms).flatMap(\.keys).first(where: { $0.name == key }) else { return [] }
            let (choices, kind) = k.completion
            let values = kind == .adapter ? adapters : kind == .path ? pathCompletions(value) : choices
            return values.map { key + "=" + $0 }
        }
        guard let spec else { return [] }
        let position = words.count - 1  // 1: the first word after the verb
        let keys = spec.keyNames.map { $0 + "=" }
        var positional: [String] = []
        for word in Self.positionalWords(spec, at: position, after: Array(words[1..<position])) {
            switch word {
            case .literal(let w):
                if !positional.contains(w) { positional.append(w) }
            case .positional(let p), .optional(let p), .repeated(let p):
                switch p.completion {
                case .none: break
                case .choices: positional += (p.choices ?? []).filter { !positional.contains($0) }
                // Both forms of `adapter` start with one.
                case .adapter: positional += adapters.filter { !positional.contains($0) }
                // A file name has no keys beside it to offer.
                case .path: return pathCompletions(words.last!)
                }
            case .key: break
            }
        }
        return positional + (position >= 2 || positional.isEmpty ? keys : [])
    }

    /// The words the forms of `spec` may have at `position` (1: the first after
    /// the verb), of the forms whose literal words match those typed before it.
    static func positionalWords(_ spec: VerbSpec, at position: Int, after typed: [String]) -> [VerbSpec.Word] {
        spec.forms.compactMap { form in
            let words = form.words.filter { if case .key = $0 { return false } else { return true } }
            for (i, w) in typed.enumerated() where i < words.count {
                if case .literal(let l) = words[i], l != w { return nil }
            }
            if position <= words.count { return words[position - 1] }
            if let last = words.last, case .repeated = last { return last }
            return nil
        }
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
