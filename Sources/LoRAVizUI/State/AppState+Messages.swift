import LoRAKernels
import LoRAScenario

// MARK: What a key did, in words

extension AppState {
    /// Sets the status line (every message also goes to the log, see `handle`).
    mutating func say(_ text: String, isError: Bool) {
        status = StatusMessage(text: text, isError: isError)
    }

    /// What a command did, from the session before and after it: the one
    /// place keys get their status line from ("removed adapter chat and its
    /// 8 sequences · u undoes", "rank of sql 16 → 32"). Nil where the screen
    /// already shows it (a cursor move) or the command says it itself (run).
    static func describe(_ command: Command, before: Session, after: Session) -> String? {
        let b = before.workload.batch, a = after.workload.batch
        let undo = " · u undoes"
        switch command {
        case .seq(let adapter, _, _):
            let n = a.sequences.count - b.sequences.count
            return "added \(n == 1 ? "a sequence" : "\(n) sequences") on \(adapter): bs \(b.sequences.count) → \(a.sequences.count)"
        case .removeSeq(let i):
            guard i < b.sequences.count else { return nil }
            let s = b.sequences[i]
            return "removed sequence \(i) (\(s.adapter), \(s.tokens) token\(s.tokens == 1 ? "" : "s")): bs \(b.sequences.count) → \(a.sequences.count)" + undo
        case .setSeq(let i, let adapter, let tokens):
            guard i < b.sequences.count, i < a.sequences.count else { return nil }
            var parts: [String] = []
            if adapter != nil { parts.append("adapter \(b.sequences[i].adapter) → \(a.sequences[i].adapter)") }
            if tokens != nil { parts.append("tokens \(b.sequences[i].tokens) → \(a.sequences[i].tokens)") }
            return "sequence \(i): " + parts.joined(separator: ", ")
        case .adapter(let name, let rank, let scaling, let slot):
            guard let new = a.adapter(named: name) else { return nil }
            guard let old = b.adapter(named: name) else {
                return "added adapter \(name) (rank \(new.rank), slot \(new.slot)): a adds sequences on it"
            }
            var parts: [String] = []
            if rank != nil { parts.append("rank of \(name) \(old.rank) → \(new.rank)") }
            if scaling != nil { parts.append("scaling of \(name) \(Format.significant(Double(old.scaling))) → \(Format.significant(Double(new.scaling)))") }
            if slot != nil { parts.append("\(name) slot \(old.slot) → \(new.slot)") }
            return parts.isEmpty ? nil : parts.joined(separator: ", ")
        case .removeAdapter(let name):
            let n = b.sequences.count - a.sequences.count
            return "removed adapter \(name) and its \(n) sequence\(n == 1 ? "" : "s")" + undo
        case .slots(let n):
            return "slots \(b.slotCount) → \(n)"
        case .kernel:
            let from = Command.kernel(before.workload.kernel).description.dropFirst("kernel ".count)
            let to = Command.kernel(after.workload.kernel).description.dropFirst("kernel ".count)
            // T on an expand: it switches to the shrink (only the shrink stacks projections).
            let note = !before.workload.kernel.isShrink && after.workload.kernel.isShrink
                && after.workload.kernel.name == Kernel.sgemmLoRAA(stack: 1).name && before.workload.kernel.name != after.workload.kernel.name
                ? " (the shrink: only it stacks projections; t cycles the kernels)" : ""
            return "kernel \(from) → \(to)" + note
        case .dtype:
            return "dtype \(before.workload.dtype.rawValue) → \(after.workload.dtype.rawValue)"
        case .mode:
            return "mode \(b.mode.rawValue) → \(a.mode.rawValue)"
        case .gpu:
            return "GPU for the estimates \(before.gpu.name) → \(after.gpu.name)"
        case .layer(.show):
            return "layer table: j/k choose a launch, Enter shows its grids, L closes"
        case .layer(.hide):
            return "layer table closed"
        case .narrate(""):
            return before.narration == nil ? nil : "narration closed" + undo
        case .launch(let module, let shrink):
            return "launch \(module.rawValue) \(shrink ? "shrink" : "expand"): kernel \(after.workload.kernel.name)"
        default:
            return nil
        }
    }

    /// Applies a key's command and says what it did, replacing whatever the
    /// status line said (a refusal does not outlive a key that worked).
    mutating func performKeyCommand(_ command: Command) -> [AppAction] {
        let before = session
        let previous = status
        status = nil
        let actions = perform(command)
        if status?.isError == true { return actions }
        let said = status?.text
        if let what = Self.describe(command, before: before, after: session) {
            // What the change itself said (a note of the adapter files, a run it cancelled) follows.
            say(said.map { what + " · " + $0 } ?? what, isError: false)
        } else if status == nil, previous?.isError == false {
            // A key with nothing to say (a cursor move) leaves a message as it was; only a refusal goes.
            status = previous
        }
        return actions
    }

    /// An error for the status line: a key's command has no place in a file, so no `<command>:1:1:`.
    static func keyErrorText(_ error: Error) -> String {
        (error as? ScenarioError)?.message ?? "\(error)"
    }
}

extension String {
    /// The longest prefix two strings share (no Foundation).
    func commonPrefix(with other: String) -> String {
        var out = ""
        for (x, y) in zip(self, other) {
            guard x == y else { break }
            out.append(x)
        }
        return out
    }
}
