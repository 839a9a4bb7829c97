import LoRAKernels

// MARK: - CustomStringConvertible

extension Command: CustomStringConvertible {
    /// The canonical line: what a recording writes and `parse` reads back.
    ///
    /// Keys come in a fixed order and only when set; numbers in their
    /// shortest exact form; text in double quotes with `\"`, `\\`, `\n`.
    public var description: String {
        switch self {
        case .slots(let n):
            return "slots \(n)"
        case .dims(let change):
            let keys = change.fields.compactMap { f in f.value.map { "\(f.key)=\($0)" } }
            return (["dims"] + keys).joined(separator: " ")
        case .dtype(let d):
            return "dtype \(d.rawValue)"
        case .mode(let m):
            return "mode \(m.rawValue)"
        case .seed(let s):
            return "seed \(s)"
        case .gpu(let p):
            return "gpu \(GPUProfile.named(p.name) == nil ? Printer.word(p.name) : p.name)"
        case let .adapter(name, rank, scaling, slot):
            var parts = ["adapter", name]
            if let r = rank { parts.append("rank=\(r)") }
            if let s = scaling { parts.append("scaling=\(Printer.number(s))") }
            if let s = slot { parts.append("slot=\(s)") }
            return parts.joined(separator: " ")
        case .gpuResults(let r):
            return "gpu-results \(Printer.word(r.path))"
        case .model(let m):
            return "model \(Printer.word(m.path))"
        case let .adapterFile(name, source, slot):
            return "adapter \(name) from=\(Printer.word(source.path))" + (slot.map { " slot=\($0)" } ?? "")
        case let .seq(adapter, tokens, count):
            var parts = ["seq", adapter]
            if let t = tokens { parts.append("tokens=\(t)") }
            if let c = count { parts.append("count=\(c)") }
            return parts.joined(separator: " ")
        case let .setSeq(index, adapter, tokens):
            var parts = ["set", "seq", "\(index)"]
            if let a = adapter { parts.append("adapter=\(a)") }
            if let t = tokens { parts.append("tokens=\(t)") }
            return parts.joined(separator: " ")
        case .removeSeq(let i):
            return "remove seq \(i)"
        case .removeAdapter(let name):
            return "remove adapter \(name)"
        case .clear:
            return "clear"
        case .strategies(let c):
            var line = "strategies " + c.strategies.map(\.name).joined(separator: " ")
            if let chunk = c.chunk { line += " chunk=\(chunk)" }
            if let n = c.graphSegments { line += " graph_segments=\(n)" }
            if let b = c.specialize { line += " specialize=\(b)" }
            return line
        case .kernel(let k):
            if case .sgemmLoRAA(let stack) = k, stack != 1 { return "kernel \(k.name) stack=\(stack)" }
            return "kernel \(k.name)"
        case let .launch(module, shrink):
            return "launch \(module.rawValue) \(shrink ? "shrink" : "expand")"
        case .layer(.show(let index)):
            return index.map { "layer \($0)" } ?? "layer"
        case .layer(.hide):
            return "layer off"
        case .run(let reps):
            return reps.map { "run reps=\($0)" } ?? "run"
        case .title(let t):
            return "title \(Printer.quoted(t))"
        case .narrate(let t):
            return "narrate \(Printer.quoted(t))"
        case .pause:
            return "pause"
        case .sleep(let seconds):
            return "sleep \(Printer.duration(seconds))"
        case let .select(routing, x, y, z):
            return "select \(routing.rawValue) \(x) \(y)" + (z.map { " \($0)" } ?? "")
        case .expect(let e):
            return "expect \(e)"
        case let .output(path, force):
            return "output \(Printer.word(path))" + (force ? " force=true" : "")
        case let .record(path, force):
            return "record \(Printer.word(path))" + (force ? " force=true" : "")
        case .stop:
            return "stop"
        }
    }
}

/// How the printer spells values so the lexer reads them back unchanged.
enum Printer {
    /// `"…"` with `\"`, `\\` and `\n` escaped.
    static func quoted(_ s: String) -> String {
        var out = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(c)
            }
        }
        return out + "\""
    }

    /// `s` with every invisible scalar written `<U+XXXX>` (`TerminalText.visible`). Messages go through it.
    public static func visible(_ s: String) -> String { TerminalText.visible(s) }

    static func isInvisible(_ c: Unicode.Scalar) -> Bool { TerminalText.isInvisible(c) }

    /// A bare word when the lexer would read it back as one, else quoted.
    static func word(_ s: String) -> String {
        let plain = !s.isEmpty && !s.hasPrefix("#") && !"=!<>".unicodeScalars.contains(s.unicodeScalars.first!) && s.unicodeScalars.allSatisfy {
            $0 != " " && $0 != "\t" && $0 != "\"" && $0 != "=" && $0 != "\n" && $0 != "\\"
        }
        return plain ? s : quoted(s)
    }

    /// The shortest decimal that reads back as the same value; integers without `.0`.
    static func number(_ d: Double) -> String {
        if d == d.rounded(), abs(d) < 1e15 { return String(Int(d)) }
        return "\(d)"
    }

    static func number(_ f: Float) -> String {
        if f == f.rounded(), abs(f) < 1e7 { return String(Int(f)) }
        return "\(f)"
    }

    /// `200ms` when a whole number of milliseconds below a second, else `1.5s`.
    static func duration(_ seconds: Double) -> String {
        let ms = (seconds * 1000).rounded()
        if seconds < 1, ms >= 1, ms / 1000 == seconds { return "\(Int(ms))ms" }
        return "\(number(seconds))s"
    }
}
