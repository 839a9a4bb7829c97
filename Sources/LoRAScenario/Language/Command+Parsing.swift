import LoRAKernels
import LoRAModels

extension Command {
    /// Parses one line of the language.
    ///
    ///     try Command.parse("adapter sql rank=16 scaling=2")  // .adapter(name: "sql", rank: 16, …)
    ///     try Command.parse("# a comment")                   // nil
    ///
    /// - Returns: the command, or `nil` for a blank line or a comment.
    /// - Throws: `ScenarioError` naming `file:line:col` of the offending token and why.
    public static func parse(_ text: String, file: String = "<prompt>", line: Int = 1) throws -> Command? {
        try parseLocated(text, at: SourceLocation(file: file, line: line))?.command
    }

    /// Parses a line and keeps the tokens, so later errors can point at an argument.
    static func parseLocated(_ text: String, at location: SourceLocation) throws -> (command: Command, tokens: [Token])? {
        let tokens = try Lexer.tokens(in: text, at: location)
        guard let first = tokens.first else { return nil }
        var reader = ArgumentReader(tokens: tokens, location: location, lineLength: text.unicodeScalars.count)
        guard first.kind == .word else {
            throw reader.error(at: first, "expected a verb at the start of the line, found \(first.kind == .string ? "a string" : "'\(first.spelling)'")")
        }
        return (try reader.command(), tokens)
    }

    /// The usage line of a verb, as errors and the help show it.
    public static func usage(of verb: String) -> String? { Usage.lines[verb] }
}

/// Usage lines, one per verb.
enum Usage {
    static let lines: [String: String] = [
        "slots": "slots N",
        "dims": "dims [hidden=N] [out=N] [q=N] [kv=N] [ffn=N] [rank=N]",
        "dtype": "dtype bf16|fp16|fp32",
        "mode": "mode decode|extend",
        "seed": "seed N",
        "gpu": "gpu " + GPUProfile.names.joined(separator: "|"),
        "model": "model PATH (a config.json or its folder)",
        "gpu-results": "gpu-results FILE (a gpu-results.json of lora-viz gpu-bench's script, measured on this batch)",
        "adapter": "adapter NAME rank=N [scaling=F] [slot=N] | adapter NAME from=PATH [slot=N]",
        "seq": "seq NAME [tokens=N] [count=N]",
        "set": "set seq I [adapter=NAME] [tokens=N]",
        "remove": "remove seq I | remove adapter NAME",
        "clear": "clear",
        "kernel": "kernel sgemm_lora_a|sgemm_lora_b|qkv_lora_b|gate_up_lora_b [stack=1|2|3]",
        "launch": "launch " + LayerModule.allCases.map(\.rawValue).joined(separator: "|") + " shrink|expand",
        "layer": "layer [N] | layer off",
        "strategies": "strategies " + Strategy.names.joined(separator: "|") + "… [chunk="
            + StrategyOptions.chunks.map(String.init).joined(separator: "|") + "] [graph_segments=N] [specialize=true|false]",
        "run": "run [reps=N]",
        "title": "title \"TEXT\"",
        "narrate": "narrate \"TEXT\"",
        "pause": "pause",
        "sleep": "sleep DURATION (1.5s, 200ms)",
        "select": "select " + Strategy.names.joined(separator: "|") + " X Y [Z]",
        "expect": "expect PATH ==|!=|<|<=|>|>= VALUE",
        "output": "output FILE [force=true]",
        "record": "record FILE [force=true]",
        "stop": "stop",
    ]
}

/// Value ranges the parser enforces; the session adds those that depend on state.
public enum CommandLimits {
    public static let rank = 0...ModelDims.rankLimit.upperBound
    public static let scaling: ClosedRange<Float> = -1024...1024
    public static let reps = 1...1000
    public static let defaultReps = 5
    public static let sleepSeconds: ClosedRange<Double> = 0...3600
    public static let stack = 1...3
    /// Decoder layers (0-based); a loaded model's `num_hidden_layers` narrows it.
    public static let layer = 0...4095
    /// Adapter names: letters, digits, `_`, `-`, `.`, starting with a letter or `_`.
    public static let nameLength = 1...64
}

/// Reads a tokenized line: the verb, positionals in order, `key=value` pairs.
struct ArgumentReader {
    let tokens: [Token]
    let location: SourceLocation
    let lineLength: Int
    private var positionals: [Token] = []
    private var pairs: [Token] = []
    private var verb = ""

    init(tokens: [Token], location: SourceLocation, lineLength: Int) {
        self.tokens = tokens
        self.location = location
        self.lineLength = lineLength
    }

    func error(at token: Token?, _ message: String, value: Bool = false) -> ScenarioError {
        // Without a token: just past the last argument (something is missing).
        let column = token.map { value ? $0.valueColumn : $0.column } ?? (tokens.last?.endColumn ?? lineLength + 1)
        return ScenarioError(location: location.at(column: column), message: message)
    }

    private var usage: String { Usage.lines[verb].map { "usage: \($0)" } ?? "" }

    mutating func command() throws -> Command {
        verb = tokens[0].value
        var positionals: [Token] = []
        var pairs: [Token] = []
        for t in tokens.dropFirst() {
            if t.kind == .pair {
                if let earlier = pairs.first(where: { $0.key == t.key }) {
                    throw error(at: t, "'\(t.key)=' is given twice (first at column \(earlier.column))")
                }
                pairs.append(t)
            } else {
                positionals.append(t)
            }
        }
        self.positionals = positionals
        self.pairs = pairs
        switch verb {
        case "slots":
            try expect(positionals: 1, keys: [])
            return .slots(try int(positional(0, "N"), "slots", Batch.Limits.slots))
        case "dims":
            try expect(positionals: 0, keys: ["hidden", "out", "q", "kv", "ffn", "rank"])
            guard !pairs.isEmpty else {
                throw error(at: nil, "dims needs at least one of hidden=, out=, q=, kv=, ffn=, rank=; \(usage)")
            }
            var change = DimsChange()
            change.hidden = try key("hidden").map { try int($0, "hidden", ModelDims.dimensionLimit) }
            change.out = try key("out").map { try int($0, "out", ModelDims.dimensionLimit) }
            change.q = try key("q").map { try int($0, "q", ModelDims.dimensionLimit) }
            change.kv = try key("kv").map { try int($0, "kv", ModelDims.dimensionLimit) }
            change.ffn = try key("ffn").map { try int($0, "ffn", ModelDims.dimensionLimit) }
            change.maxRank = try key("rank").map { try int($0, "rank", ModelDims.rankLimit) }
            return .dims(change)
        case "dtype":
            try expect(positionals: 1, keys: [])
            let t = try positional(0, "a dtype")
            guard let d = DType(rawValue: t.value), t.kind == .word else {
                throw error(at: t, "unknown dtype '\(t.value)'; expected bf16, fp16 or fp32")
            }
            return .dtype(d)
        case "mode":
            try expect(positionals: 1, keys: [])
            let t = try positional(0, "a mode")
            guard let m = Mode(rawValue: t.value), t.kind == .word else {
                throw error(at: t, "unknown mode '\(t.value)'; expected decode or extend")
            }
            return .mode(m)
        case "seed":
            try expect(positionals: 1, keys: [])
            let t = try positional(0, "N")
            // `+8` is accepted as every other whole number is.
            guard Numbers.isInteger(t.value), let seed = UInt64(t.value) else {
                throw error(at: t, "bad number '\(t.value)' for seed: expected a whole number 0…\(UInt64.max)")
            }
            return .seed(seed)
        case "gpu":
            try expect(positionals: 1, keys: [])
            let t = try positional(0, "a GPU name")
            // A path (a `/`, or ending .json): a profile file of `lora-viz calibrate`.
            if t.value.contains("/") || t.value.lowercased().hasSuffix(".json") {
                do {
                    return .gpu(try GPUProfile.load(path: t.value))
                } catch let e as GPUBenchError {
                    throw error(at: t, e.message)
                }
            }
            guard t.kind == .word else { throw error(at: t, "expected a GPU name, found a string; \(usage)") }
            guard let profile = GPUProfile.named(t.value) else {
                var message = "unknown GPU '\(t.value)'"
                if let near = Suggestion.nearest(to: t.value, in: GPUProfile.names) { message += "; did you mean '\(near)'?" }
                throw error(at: t, message + " (GPUs: \(GPUProfile.names.joined(separator: ", ")))")
            }
            return .gpu(profile)
        case "gpu-results":
            try expect(positionals: 1, keys: [])
            let t = try positional(0, "FILE")
            do {
                return .gpuResults(try GPUBenchResults.load(path: try path(t)))
            } catch let e as GPUBenchError {
                throw error(at: t, e.message)
            }
        case "model":
            try expect(positionals: 1, keys: [])
            let t = try positional(0, "PATH")
            let file = try path(t)
            do {
                return .model(ModelSource(path: file, config: try ModelConfig.load(path: file)))
            } catch let e as ModelFileError {
                throw error(at: t, "\(e)")
            }
        case "adapter" where key("from") != nil:
            try expect(positionals: 1, keys: ["from", "slot"], refusing: [
                "rank": "an adapter read from files takes its rank from adapter_config.json",
                "scaling": "an adapter read from files takes its scaling from adapter_config.json (lora_alpha, use_rslora)",
            ])
            let name = try self.name(positional(0, "NAME"))
            let t = key("from")!
            let folder = try path(t)
            let slot = try key("slot").map { try int($0, "slot", 0...(Batch.Limits.slots.upperBound - 1)) }
            do {
                return .adapterFile(name: name, source: AdapterSource(path: folder, adapter: try PEFTAdapter.load(folder: folder)), slot: slot)
            } catch let e as ModelFileError {
                throw error(at: t, "\(e)", value: true)
            }
        case "adapter":
            try expect(positionals: 1, keys: ["rank", "scaling", "slot"])
            let name = try self.name(positional(0, "NAME"))
            let rank = try key("rank").map { try int($0, "rank", CommandLimits.rank) }
            let scaling = try key("scaling").map { try float($0, "scaling", CommandLimits.scaling) }
            let slot = try key("slot").map { try int($0, "slot", 0...(Batch.Limits.slots.upperBound - 1)) }
            return .adapter(name: name, rank: rank, scaling: scaling, slot: slot)
        case "seq":
            try expect(positionals: 1, keys: ["tokens", "count"])
            let name = try self.name(positional(0, "NAME"))
            let tokens = try key("tokens").map { try int($0, "tokens", Batch.Limits.tokensPerSequence) }
            let count = try key("count").map { try int($0, "count", Batch.Limits.sequences) }
            return .seq(adapter: name, tokens: tokens, count: count)
        case "set":
            let what = try positional(0, "'seq'")
            guard what.kind == .word, what.value == "seq" else {
                throw error(at: what, "'set' changes a sequence: expected 'seq', found '\(what.spelling)'; \(usage)")
            }
            try expect(positionals: 2, keys: ["adapter", "tokens"])
            let index = try int(positional(1, "I"), "sequence index", 0...(Batch.Limits.sequences.upperBound - 1))
            let adapter = try key("adapter").map { try self.name($0) }
            let tokens = try key("tokens").map { try int($0, "tokens", Batch.Limits.tokensPerSequence) }
            if adapter == nil, tokens == nil {
                throw error(at: nil, "set seq needs adapter= or tokens=; \(usage)")
            }
            return .setSeq(index: index, adapter: adapter, tokens: tokens)
        case "remove":
            let what = try positional(0, "'seq' or 'adapter'")
            switch (what.kind, what.value) {
            case (.word, "seq"):
                try expect(positionals: 2, keys: [])
                return .removeSeq(index: try int(positional(1, "I"), "sequence index", 0...(Batch.Limits.sequences.upperBound - 1)))
            case (.word, "adapter"):
                try expect(positionals: 2, keys: [])
                return .removeAdapter(name: try name(positional(1, "NAME")))
            default:
                throw error(at: what, "'remove' takes 'seq I' or 'adapter NAME', found '\(what.spelling)'")
            }
        case "clear":
            try expect(positionals: 0, keys: [])
            return .clear
        case "kernel":
            try expect(positionals: 1, keys: ["stack"])
            let t = try positional(0, "a kernel name")
            guard t.kind == .word, Kernel.names.contains(t.value) else {
                var message = "unknown kernel '\(t.value)'"
                if let near = Suggestion.nearest(to: t.value, in: Kernel.names) { message += "; did you mean '\(near)'?" }
                throw error(at: t, message + " (kernels: \(Kernel.names.joined(separator: ", ")))")
            }
            let stackToken = key("stack")
            if let s = stackToken, t.value != "sgemm_lora_a" {
                throw error(at: s, "stack= applies only to sgemm_lora_a (the shrink), not \(t.value)")
            }
            let stack = try stackToken.map { try int($0, "stack", CommandLimits.stack) } ?? 1
            return .kernel(Kernel(name: t.value, stack: stack)!)
        case "launch":
            try expect(positionals: 2, keys: [])
            let t = try positional(0, "a module")
            let names = LayerModule.allCases.map(\.rawValue)
            guard t.kind == .word, let module = LayerModule(rawValue: t.value) else {
                var message = "unknown module '\(t.value)'"
                if let near = Suggestion.nearest(to: t.value, in: names) { message += "; did you mean '\(near)'?" }
                throw error(at: t, message + " (modules: \(names.joined(separator: ", ")))")
            }
            let half = try positional(1, "shrink or expand")
            guard half.kind == .word, half.value == "shrink" || half.value == "expand" else {
                throw error(at: half, "expected shrink or expand, found '\(half.spelling)'; \(usage)")
            }
            return .launch(module, shrink: half.value == "shrink")
        case "layer":
            try expect(positionals: 1, keys: [])
            guard let t = positionals.first else { return .layer(.show(index: nil)) }
            if t.kind == .word, t.value == "off" { return .layer(.hide) }
            return .layer(.show(index: try int(t, "layer", CommandLimits.layer)))
        case "run":
            try expect(positionals: 0, keys: ["reps"])
            return .run(reps: try key("reps").map { try int($0, "reps", CommandLimits.reps) })
        case "title", "narrate":
            try expect(positionals: 1, keys: [])
            let t = try positional(0, "\"TEXT\"")
            return verb == "title" ? .title(t.value) : .narrate(t.value)
        case "pause":
            try expect(positionals: 0, keys: [])
            return .pause
        case "sleep":
            try expect(positionals: 1, keys: [])
            return .sleep(seconds: try duration(positional(0, "a duration")))
        case "strategies":
            try expect(positionals: Int.max, keys: ["chunk", "graph_segments", "specialize"])
            guard !positionals.isEmpty else { throw error(at: nil, "missing a strategy name; \(usage)") }
            var chosen: [Strategy] = []
            for t in positionals {
                let strategy = try strategy(t)
                if chosen.contains(strategy) { throw error(at: t, "'\(t.value)' is named twice") }
                chosen.append(strategy)
            }
            var choice = StrategyChoice(chosen)
            if let t = key("chunk") {
                let c = try int(t, "chunk", StrategyOptions.chunks.first!...StrategyOptions.chunks.last!)
                guard StrategyOptions.chunks.contains(c) else {
                    throw error(at: t, "chunk=\(c) is not a csgmv chunk size (\(StrategyOptions.chunks.map(String.init).joined(separator: ", ")))", value: true)
                }
                choice.chunk = c
            }
            choice.graphSegments = try key("graph_segments").map { try int($0, "graph_segments", 1...StrategyOptions.graphSegmentLimit) }
            choice.specialize = try key("specialize").map { try bool($0, "specialize") }
            return .strategies(choice)
        case "select":
            let routing = try strategy(positional(0, "a strategy name"))
            guard positionals.count <= 4 else { throw error(at: positionals[4], "unexpected argument '\(positionals[4].spelling)'; \(usage)") }
            try expect(positionals: positionals.count, keys: [])
            let axis = 0...Int(Int32.max)
            let x = try int(positional(1, "X"), "X", axis)
            let y = try int(positional(2, "Y"), "Y", axis)
            let z = positionals.count > 3 ? try int(positionals[3], "Z", axis) : nil
            return .select(routing: routing, x: x, y: y, z: z)
        case "expect":
            try joinList()
            try expect(positions: 3)
            return .expect(try expectation())
        case "output":
            try expect(positionals: 1, keys: ["force"])
            let file = try path(positional(0, "FILE"))
            let force = try key("force").map { try bool($0, "force") } ?? false
            return .output(path: file, force: force)
        case "record":
            try expect(positionals: 1, keys: ["force"])
            let file = try path(positional(0, "FILE"))
            let force = try key("force").map { try bool($0, "force") } ?? false
            return .record(path: file, force: force)
        case "stop":
            try expect(positionals: 0, keys: [])
            return .stop
        default:
            var message = "unknown verb '\(verb)'"
            if let invisible = verb.unicodeScalars.first(where: Printer.isInvisible) {
                // A BOM, a zero-width space or an NBSP inside the word: say so, and what it would be without it.
                let parts = verb.unicodeScalars.split(whereSeparator: Printer.isInvisible).map { String(String.UnicodeScalarView($0)) }
                message += ": it contains the invisible character \(Lexer.hex(invisible)), which is not a space"
                if let near = parts.first(where: Command.verbs.contains) { message += "; did you mean '\(near)'?" }
                throw error(at: tokens[0], message)
            }
            if let near = Suggestion.nearest(to: verb, in: Command.verbs) {
                message += "; did you mean '\(near)'?"
            } else {
                message += " (verbs: \(Command.verbs.joined(separator: ", ")))"
            }
            throw error(at: tokens[0], message)
        }
    }

    // MARK: Shape

    /// Checks the count of positionals and that every key belongs to the verb;
    /// a key of `refusing` is named with its reason.
    private func expect(positionals count: Int, keys: [String], refusing: [String: String]) throws {
        if let p = pairs.first(where: { refusing[$0.key] != nil }) {
            throw error(at: p, "\(p.key)= does not go with from=: \(refusing[p.key]!)")
        }
        try expect(positionals: count, keys: keys)
    }

    /// Checks the count of positionals and that every key belongs to the verb.
    private func expect(positionals count: Int, keys: [String]) throws {
        if positionals.count > count {
            let extra = positionals[count]
            throw error(at: extra, "unexpected argument '\(extra.spelling)'; \(usage)")
        }
        for p in pairs where !keys.contains(p.key) {
            var message = "unknown key '\(p.key)' for \(verb)"
            if keys.isEmpty {
                message = "\(verb) takes no key=value arguments, found '\(p.key)='; \(usage)"
            } else {
                if let near = Suggestion.nearest(to: p.key, in: keys) { message += "; did you mean '\(near)'?" }
                message += " (keys: \(keys.joined(separator: ", ")))"
            }
            throw error(at: p, message)
        }
    }

    /// Joins `[16,` `26,` `1]` (a list VALUE the lexer split at spaces) into one token.
    private mutating func joinList() throws {
        guard positionals.count > 2, positionals[2].kind == .word, positionals[2].value.hasPrefix("[") else { return }
        var parts: [String] = []
        var end = 2
        while end < positionals.count {
            let t = positionals[end]
            guard t.kind == .word else { throw error(at: t, "bad list: expected numbers like [16, 26, 1]") }
            parts.append(t.value)
            if t.value.hasSuffix("]") { break }
            end += 1
        }
        guard end < positionals.count else {
            throw error(at: positionals[2], "unterminated list: no closing ']' on this line")
        }
        var joined = positionals[2]
        joined.value = parts.joined(separator: " ")
        positionals.replaceSubrange(2...end, with: [joined])
    }

    /// `expect` takes exactly three words, no pairs (a pair here means a missing space around `==`).
    private func expect(positions count: Int) throws {
        if let p = pairs.first {
            throw error(at: p, "write spaces around the operator: expect PATH OP VALUE")
        }
        if positionals.count > count {
            throw error(at: positionals[count], "unexpected argument '\(positionals[count].spelling)'; \(usage)")
        }
    }

    private func positional(_ index: Int, _ what: String) throws -> Token {
        guard index < positionals.count else {
            throw error(at: nil, "missing \(what); \(usage)")
        }
        return positionals[index]
    }

    private func key(_ name: String) -> Token? {
        pairs.first { $0.key == name }
    }

    // MARK: Values

    /// A strategy's name (`Strategy.names`).
    func strategy(_ t: Token) throws -> Strategy {
        guard t.kind == .word, let s = Strategy(name: t.value) else {
            var message = "unknown strategy '\(t.spelling)'"
            if let near = Suggestion.nearest(to: t.value, in: Strategy.names) { message += "; did you mean '\(near)'?" }
            throw error(at: t, message + " (strategies: \(Strategy.names.joined(separator: ", ")))")
        }
        return s
    }

    private func label(_ t: Token, _ what: String) -> String {
        t.kind == .pair ? "\(t.key)=" : what
    }

    func int(_ t: Token, _ what: String, _ range: ClosedRange<Int>) throws -> Int {
        guard !t.valueIsQuoted, Numbers.isInteger(t.value) else {
            throw error(at: t, "bad number '\(t.value)' for \(label(t, what)): expected a whole number", value: true)
        }
        guard let v = Int(t.value) else {
            throw error(at: t, "\(label(t, what)) \(t.value) is out of range \(range.lowerBound)…\(range.upperBound)", value: true)
        }
        guard range.contains(v) else {
            let shown = t.kind == .pair ? "\(t.key)=\(t.value)" : "\(what) \(t.value)"
            throw error(at: t, "\(shown) is out of range \(range.lowerBound)…\(range.upperBound)", value: true)
        }
        return v
    }

    func float(_ t: Token, _ what: String, _ range: ClosedRange<Float>) throws -> Float {
        guard !t.valueIsQuoted, Numbers.isDecimal(t.value), let v = Float(t.value), v.isFinite else {
            throw error(at: t, "bad number '\(t.value)' for \(label(t, what)): expected a number like 0.5 or 2", value: true)
        }
        if Numbers.underflows(t.value, to: Double(v)) {
            let shown = t.kind == .pair ? "\(t.key)=\(t.value)" : "\(what) \(t.value)"
            throw error(at: t, "\(shown) is too small for a float32: it would be 0; write 0 if 0 is meant", value: true)
        }
        guard range.contains(v) else {
            throw error(at: t, "\(t.key)=\(t.value) is out of range \(Printer.number(Double(range.lowerBound)))…\(Printer.number(Double(range.upperBound)))", value: true)
        }
        return v
    }

    func bool(_ t: Token, _ what: String) throws -> Bool {
        switch (t.valueIsQuoted, t.value) {
        case (false, "true"): return true
        case (false, "false"): return false
        default: throw error(at: t, "bad value '\(t.value)' for \(label(t, what)): expected true or false", value: true)
        }
    }

    func name(_ t: Token) throws -> String {
        let v = t.value
        let scalars = v.unicodeScalars
        let valid = !t.valueIsQuoted && CommandLimits.nameLength.contains(scalars.count)
            && scalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "_-.".unicodeScalars.contains($0)) }
            && (scalars.first.map { $0 == "_" || $0.properties.isAlphabetic } ?? false)
        guard valid else {
            throw error(at: t, "bad adapter name '\(v)': use 1–64 letters, digits, '_', '-' or '.', starting with a letter or '_'", value: true)
        }
        return v
    }

    func path(_ t: Token) throws -> String {
        guard !t.value.isEmpty else { throw error(at: t, "empty file name") }
        return t.value
    }

    func duration(_ t: Token) throws -> Double {
        let v = t.value
        let (number, scale): (Substring, Double)
        if v.hasSuffix("ms") {
            (number, scale) = (v.dropLast(2), 1e-3)
        } else if v.hasSuffix("s") {
            (number, scale) = (v.dropLast(), 1)
        } else {
            throw error(at: t, "bad duration '\(v)': expected a number with a unit, like 1.5s or 200ms")
        }
        guard !t.valueIsQuoted, Numbers.isDecimal(String(number)), let n = Double(number), n.isFinite,
              !Numbers.underflows(String(number), to: n) else {
            throw error(at: t, "bad duration '\(v)': expected a number with a unit, like 1.5s or 200ms")
        }
        let seconds = scale == 1 ? n : n / 1000
        guard CommandLimits.sleepSeconds.contains(seconds) else {
            throw error(at: t, "sleep \(v) is out of range 0s…3600s")
        }
        return seconds
    }

    // MARK: expect

    private func expectation() throws -> Expectation {
        let p = try positional(0, "PATH")
        if p.kind == .word, p.value.unicodeScalars.contains(where: { "=!<>".unicodeScalars.contains($0) }) {
            throw error(at: p, "write spaces around the operator: expect PATH OP VALUE")
        }
        let opToken = try positional(1, "an operator (==, !=, <, <=, >, >=)")
        let valueToken = try positional(2, "VALUE")
        guard p.kind == .word, let kind = ReportPath.kind(of: p.value) else {
            throw error(at: p, ReportPath.unknownMessage(p.value))
        }
        guard opToken.kind == .word, let op = Expectation.Comparison(rawValue: opToken.value) else {
            throw error(at: opToken, "unknown operator '\(opToken.spelling)'; expected ==, !=, <, <=, > or >=")
        }
        let operand: Expectation.Operand
        let operandKind: ReportPath.Kind
        let v = valueToken.value
        if valueToken.kind == .word, v.hasPrefix("[") {
            let body = v.dropFirst().dropLast()
            let items = body.split(separator: ",", omittingEmptySubsequences: false)
                .map { String($0.drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed()) }
            var numbers: [Double] = []
            for item in items where !(items.count == 1 && item.isEmpty) {
                guard Numbers.isDecimal(item), let d = Double(item), d.isFinite, !Numbers.underflows(item, to: d) else {
                    throw error(at: valueToken, "bad list '\(v)': expected numbers like [16, 26, 1]")
                }
                numbers.append(d)
            }
            operand = .value(.list(numbers)); operandKind = .list
        } else if valueToken.kind == .string {
            operand = .value(.string(v)); operandKind = .string
        } else if v == "true" || v == "false" {
            operand = .value(.bool(v == "true")); operandKind = .bool
        } else if Numbers.isDecimal(v) {
            guard let d = Double(v), d.isFinite else {
                throw error(at: valueToken, "bad number '\(v)'")
            }
            if Numbers.underflows(v, to: d) {
                throw error(at: valueToken, "bad number '\(v)': too small for a double, it would be 0; write 0 if 0 is meant")
            }
            operand = .value(.number(d)); operandKind = .number
        } else if let k = ReportPath.kind(of: v) {
            operand = .path(v); operandKind = k
        } else if kind == .string, !v.contains(".") {
            operand = .value(.string(v)); operandKind = .string
        } else if v.contains(".") || ReportPath.roots.contains(where: { v.hasPrefix($0) }) {
            throw error(at: valueToken, ReportPath.unknownMessage(v))
        } else {
            throw error(at: valueToken, "bad value '\(v)': expected a number, true, false, a \"string\" or a report path")
        }
        if kind != operandKind {
            throw error(at: valueToken, "\(p.value) holds \(Self.article(kind)), but \(valueToken.spelling) is \(Self.article(operandKind))")
        }
        if op.isOrdering, kind != .number {
            throw error(at: opToken, "\(op.rawValue) compares numbers; \(p.value) is \(Self.article(kind)): use == or !=")
        }
        return Expectation(path: p.value, comparison: op, expected: operand)
    }

    private static func article(_ kind: ReportPath.Kind) -> String {
        switch kind {
        case .number: return "a number"
        case .bool: return "a boolean (true or false)"
        case .string: return "a string"
        case .list: return "a list of numbers"
        }
    }
}

/// The syntax of numbers: no `inf`, `nan`, hex or `_`, so what parses is what prints.
enum Numbers {
    /// `[+-]?[0-9]+`
    static func isInteger(_ s: String) -> Bool {
        var u = Substring(s).utf8[...]
        if let f = u.first, f == UInt8(ascii: "-") || f == UInt8(ascii: "+") { u = u.dropFirst() }
        return !u.isEmpty && u.allSatisfy { (48...57).contains($0) }
    }

    /// A literal with a non-zero digit before its exponent that parsed to 0
    /// (`1e-400`): refused, not silently read as 0.
    static func underflows(_ literal: String, to value: Double) -> Bool {
        guard value == 0 else { return false }
        let mantissa = literal.prefix { $0 != "e" && $0 != "E" }
        return mantissa.contains { ("1"..."9").contains($0) }
    }

    /// `[+-]?(digits[.digits?]|.digits)([eE][+-]?digits)?`
    static func isDecimal(_ s: String) -> Bool {
        var u = Array(s.utf8)[...]
        if let f = u.first, f == UInt8(ascii: "-") || f == UInt8(ascii: "+") { u = u.dropFirst() }
        func digits() -> Int {
            var n = 0
            while let c = u.first, (48...57).contains(c) { u = u.dropFirst(); n += 1 }
            return n
        }
        var mantissa = digits()
        if u.first == UInt8(ascii: ".") {
            u = u.dropFirst()
            mantissa += digits()
        }
        guard mantissa > 0 else { return false }
        if let e = u.first, e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
            u = u.dropFirst()
            if let f = u.first, f == UInt8(ascii: "-") || f == UInt8(ascii: "+") { u = u.dropFirst() }
            guard digits() > 0 else { return false }
        }
        return u.isEmpty
    }
}
