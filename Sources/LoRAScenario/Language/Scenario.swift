import Foundation
import LoRAKernels

/// One command of a scenario, with where it was written.
public struct ScenarioStep: Hashable, Sendable {
    public var command: Command
    /// The position of the line's verb.
    public var location: SourceLocation
    /// The source line, as written (without its line break).
    public var text: String

    public init(command: Command, location: SourceLocation, text: String) {
        self.command = command
        self.location = location
        self.text = text
    }
}

/// A `.lora` file: commands of the language, one per line, in the spirit of
/// VHS tapes.
///
/// Blank lines and `#` comments are skipped. An empty file (or one with only
/// comments) is a valid scenario with no steps: it replays to the default
/// session.
public struct Scenario: Sendable {
    /// The file name errors and steps name.
    public var file: String
    public var steps: [ScenarioStep]
    /// The text of the first `title` command, if any.
    public var title: String?

    public init(file: String, steps: [ScenarioStep]) {
        self.file = file
        self.steps = steps
        self.title = steps.lazy.compactMap { step -> String? in
            if case .title(let t) = step.command { return t }
            return nil
        }.first
    }

    /// The largest scenario file `load` reads.
    public static let maxFileBytes = 16 << 20

    /// Parses a scenario's text.
    ///
    /// - Throws: the first `ScenarioError`, located at its `file:line:col`.
    public static func parse(_ source: String, file: String) throws -> Scenario {
        var steps: [ScenarioStep] = []
        for (lineNumber, text) in numberedLines(source) {
            let location = SourceLocation(file: file, line: lineNumber)
            guard let (command, tokens) = try Command.parseLocated(text, at: location) else { continue }
            steps.append(ScenarioStep(command: command, location: location.at(column: tokens[0].column), text: text))
        }
        return Scenario(file: file, steps: steps)
    }

    /// Reads and parses a scenario file.
    ///
    /// - Throws: `ScenarioError` for a missing file, a directory or anything
    ///   else that is not a regular file (a FIFO would wait forever for a
    ///   writer; standard input is `-`), an unreadable or over-large file,
    ///   binary data (a NUL byte or invalid UTF-8, located), or any error of `parse`.
    public static func load(path: String) throws -> Scenario {
        func fail(_ message: String) -> ScenarioError {
            ScenarioError(location: SourceLocation(file: path, line: 0, column: 0), message: message)
        }
        // O_NONBLOCK: opening a FIFO does not wait for a writer; it is refused below.
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            switch code {
            case ENOENT: throw fail("no such file")
            case ELOOP: throw fail("a symlink loop")
            default: throw fail("cannot open the file for reading: \(String(cString: strerror(code)))")
            }
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw fail("cannot read the file: \(String(cString: strerror(errno)))") }
        switch info.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: throw fail("is a directory, not a scenario file")
        case S_IFIFO: throw fail("is a FIFO (named pipe), not a regular file; pipe a scenario into standard input with `-`")
        case S_IFCHR: throw fail("is a character device, not a regular file; pipe a scenario into standard input with `-`")
        case S_IFBLK: throw fail("is a block device, not a scenario file")
        case S_IFSOCK: throw fail("is a socket, not a scenario file")
        default: throw fail("is not a regular file")
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        let data: Data
        do {
            data = try readBytes(fd, limit: maxFileBytes + 1)
        } catch let error as POSIXReadError {
            throw fail("cannot read the file: \(error.reason)")
        }
        return try load(data: data, file: path)
    }

    /// A `read(2)` that failed, with the errno text.
    public struct POSIXReadError: Error, Sendable {
        public var reason: String
    }

    /// Reads a file descriptor to its end or to `limit` bytes, whichever
    /// comes first: the bytes are never more than `limit`, so an endless
    /// input (`/dev/zero` on standard input) costs `limit` bytes of memory.
    ///
    /// - Throws: `POSIXReadError` when `read` fails.
    public static func readBytes(_ fd: Int32, limit: Int) throws -> Data {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while data.count < limit {
            let want = min(buffer.count, limit - data.count)
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, want) }
            if n < 0 {
                if errno == EINTR { continue }
                throw POSIXReadError(reason: String(cString: strerror(errno)))
            }
            if n == 0 { break }
            data.append(contentsOf: buffer[0..<n])
        }
        return data
    }

    /// Standard input's bytes for `-` (named `<stdin>` in errors), read up to
    /// `maxFileBytes` + 1: more is refused as over-large, without reading the rest.
    ///
    /// - Throws: `ScenarioError` for an over-large or unreadable input.
    public static func readStandardInput(fd: Int32 = STDIN_FILENO) throws -> Data {
        func fail(_ message: String) -> ScenarioError {
            ScenarioError(location: SourceLocation(file: "<stdin>", line: 0, column: 0), message: message)
        }
        let data: Data
        do {
            data = try readBytes(fd, limit: maxFileBytes + 1)
        } catch let error as POSIXReadError {
            throw fail("cannot read standard input: \(error.reason)")
        }
        if data.count > maxFileBytes {
            throw fail("standard input is over \(maxFileBytes >> 20) MiB; stopped reading there (a scenario is a short text file)")
        }
        return data
    }

    /// Parses a scenario's bytes (a file's, or standard input's), checking
    /// them as `load(path:)` does.
    public static func load(data: Data, file: String) throws -> Scenario {
        if data.count > maxFileBytes {
            throw ScenarioError(location: SourceLocation(file: file, line: 0, column: 0),
                                message: "the file is over \(maxFileBytes >> 20) MiB; a scenario is a short text file")
        }
        try checkText(data, file: file)
        return try parse(String(decoding: data, as: UTF8.self), file: file)
    }

    /// Every bad line of a scenario's bytes, in order, at most `limit`: so a
    /// user fixes them all in one go.
    ///
    /// Lines are parsed independently, so every syntax error is found. When
    /// the whole file parses, the first error of applying it (which later
    /// lines may depend on) is the only one. Bad bytes (binary data, over
    /// `maxFileBytes`) give one error.
    public static func diagnose(data: Data, file: String, limit: Int = 20) -> [ScenarioError] {
        if data.count > maxFileBytes {
            return [ScenarioError(location: SourceLocation(file: file, line: 0, column: 0),
                                  message: "the file is over \(maxFileBytes >> 20) MiB; a scenario is a short text file")]
        }
        do { try checkText(data, file: file) } catch let e as ScenarioError { return [e] } catch { return [] }
        let source = String(decoding: data, as: UTF8.self)
        var errors: [ScenarioError] = []
        for (lineNumber, text) in numberedLines(source) {
            do {
                _ = try Command.parseLocated(text, at: SourceLocation(file: file, line: lineNumber))
            } catch let e as ScenarioError {
                errors.append(e)
                if errors.count >= limit { break }
            } catch {}
        }
        if errors.isEmpty {
            do { try parse(source, file: file).validate() } catch let e as ScenarioError { errors.append(e) } catch {}
        }
        return errors
    }

    /// The source's lines with their numbers from 1, as `parse` and
    /// `diagnose` read them: a byte-order mark some editors write is not part
    /// of the first command, lines split on "\n" as bytes (as Characters,
    /// "\r\n" is one grapheme), and a line's trailing "\r" is dropped.
    static func numberedLines(_ source: String) -> [(number: Int, text: String)] {
        let body = source.hasPrefix("\u{FEFF}") ? Substring(source.unicodeScalars.dropFirst()) : Substring(source)
        return body.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated().map { i, raw in
            (i + 1, String(Substring(raw.last == UInt8(ascii: "\r") ? raw.dropLast() : raw)))
        }
    }

    /// Finds the first NUL byte or invalid UTF-8 sequence, located.
    static func checkText(_ data: Data, file: String) throws {
        let bytes = [UInt8](data)
        var line = 1, column = 1, i = 0
        func fail(_ message: String) -> ScenarioError {
            ScenarioError(location: SourceLocation(file: file, line: line, column: column), message: message)
        }
        while i < bytes.count {
            let b = bytes[i]
            if b == 0 { throw fail("binary data (a NUL byte); a scenario is a text file") }
            if b < 0x80 {
                if b == 0x0A { line += 1; column = 1 } else { column += 1 }
                i += 1
                continue
            }
            // Lead byte → length and the allowed range of the second byte (no overlongs, no surrogates).
            let length: Int
            var second: ClosedRange<UInt8> = 0x80...0xBF
            switch b {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; second = 0xA0...0xBF
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; second = 0x80...0x9F
            case 0xF0: length = 4; second = 0x90...0xBF
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; second = 0x80...0x8F
            default: length = 0
            }
            var valid = length > 0 && i + length <= bytes.count
            if valid {
                valid = second.contains(bytes[i + 1]) && (2..<length).allSatisfy { (0x80...0xBF).contains(bytes[i + $0]) }
            }
            guard valid else {
                throw fail("invalid UTF-8 (byte 0x\(String(b, radix: 16, uppercase: true))); a scenario is a text file")
            }
            column += 1
            i += length
        }
    }

    /// The batch the TUI opens on, as commands.
    ///
    /// A decode step of 26 sequences, interleaved as requests arrive: 24 on
    /// three adapters of ranks 16, 64 and 32 (scaling = alpha / rank with
    /// alpha 32) and 2 on the base model (a rank-0 slot), with 8 slots.
    public static let defaultSource = """
        # The batch lora-viz opens on: one decode step, 26 sequences on three
        # LoRA adapters and the base model, in the order requests arrived.
        title "Decode: 26 sequences on 3 adapters + the base model"
        mode decode
        slots 8
        kernel sgemm_lora_b
        adapter sql rank=16 scaling=2
        adapter chat rank=64 scaling=0.5
        adapter code rank=32
        adapter base rank=0
        seq chat
        seq sql
        seq code
        seq chat
        seq sql
        seq base
        seq chat
        seq code
        seq base
        seq code
        seq chat
        seq code
        seq chat
        seq code
        seq sql count=2
        seq code
        seq chat
        seq sql
        seq code
        seq sql count=2
        seq code
        seq chat
        seq sql
        seq chat

        """
}

