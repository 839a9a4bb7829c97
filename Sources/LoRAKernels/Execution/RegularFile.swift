import Foundation

/// Why an input file cannot be read: `reason` says why, without the path.
public struct FileReadError: Error, CustomStringConvertible, Hashable, Sendable {
    public var reason: String
    public var description: String { reason }
}

/// Whole input files read the one way every reader of lora-viz reads them
/// (model and adapter configs, GPU results and profiles, `gpu-fit`'s records):
/// only a regular file, and at most `limit` bytes.
///
/// `Data(contentsOf:)` and `FileManager.contents(atPath:)` wait forever on a
/// FIFO without a writer, read `/dev/zero` until memory runs out, call a
/// character device "Permission denied", and (FileManager, on an empty file)
/// leak their buffer; `open` with `O_NONBLOCK` and `fstat` first refuse all
/// of that, saying what the path is.
public enum RegularFile {
    /// Reads `path`, a regular file of at most `limit` bytes.
    ///
    /// - Parameter what: the kind of file, for the size error ("a config.json").
    /// - Throws: `FileReadError` for a missing path (a dangling symlink and a
    ///   loop named as such), a folder, FIFO, device or socket, an unreadable
    ///   file, or one over `limit` bytes (checked before reading, and again
    ///   while reading, for a file that grows).
    public static func read(_ path: String, limit: Int, what: String) throws -> Data {
        func fail(_ reason: String) -> FileReadError { FileReadError(reason: reason) }
        // O_NONBLOCK: opening a FIFO does not wait for a writer; it is refused below.
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            throw fail(code == ENOENT || code == ELOOP ? FileProblem.missing(path) ?? String(cString: strerror(code))
                       : "cannot open it: \(String(cString: strerror(code)))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw fail("cannot stat it: \(String(cString: strerror(errno)))") }
        if let kind = notRegular(info.st_mode) { throw fail("is \(kind), not a regular file") }
        let tooBig = "is over \(Self.shown(limit)), too large for \(what)"
        if Int(info.st_size) > limit { throw fail(tooBig) }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while data.count <= limit {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw fail("cannot read it: \(String(cString: strerror(errno)))")
            }
            if n == 0 { return data }
            data.append(contentsOf: buffer[0..<n])
        }
        throw fail(tooBig)
    }

    /// What a file of mode `mode` is when it is not a regular file ("a FIFO
    /// (named pipe)"), or nil for a regular file.
    public static func notRegular(_ mode: mode_t) -> String? {
        switch mode & S_IFMT {
        case S_IFREG: return nil
        case S_IFDIR: return "a folder"
        case S_IFIFO: return "a FIFO (named pipe)"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFSOCK: return "a socket"
        default: return "an unknown kind of file"
        }
    }

    /// "16 MiB", "4 KiB".
    static func shown(_ bytes: Int) -> String {
        bytes >= 1 << 20 ? "\(bytes >> 20) MiB" : bytes >= 1 << 10 ? "\(bytes >> 10) KiB" : "\(bytes) bytes"
    }

    /// A JSON file lora-viz reads (a config, a results file, a profile): 16 MiB,
    /// 14× the largest shipped one (gpu/results/h200-sweep-calib2.jsonl,
    /// 1.17 MB); a model's config.json is a few KB.
    public static let jsonLimit = 16 << 20
}
