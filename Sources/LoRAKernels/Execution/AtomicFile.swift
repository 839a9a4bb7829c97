import Foundation

/// Why a file cannot be written: `message` says why, without the path.
public struct FileWriteError: Error, CustomStringConvertible, Hashable, Sendable {
    public var message: String
    /// The target is an existing regular file and `force` was not given.
    public var needsForce: Bool = false
    public var description: String { message }
}

/// Whole files written atomically, the one writer every command uses
/// (`output`, `record`, `calibrate -o`, `gpu-calibrate --write`,
/// `gpu-bench -o`'s `batch.json` and script, `--dump`'s manifest).
///
/// A temporary file is created beside the target under a random name,
/// exclusively and without following links (`O_CREAT | O_EXCL | O_NOFOLLOW`),
/// written, closed and renamed over the target: a reader sees the old file or
/// the new one, a planted symlink is never written through, and a replaced
/// file keeps its permission bits. The temporary file is removed on every
/// failure, and on SIGINT, SIGTERM or SIGHUP during the write (the
/// handler unlinks it, puts the previous action back and re-raises).
public enum AtomicFile {
    /// Where a write will go: the regular file a path names (through any
    /// symlinks), and the permission bits it has now.
    public struct Destination: Hashable, Sendable {
        /// The path written: the path itself, or the file its symlinks lead to.
        public var path: String
        /// The existing file's permission bits, kept by the replacement; nil for a new file.
        public var existingMode: mode_t?
    }

    /// Checks a path before anything is written.
    ///
    /// A path that does not exist is fine when its folder exists and is
    /// writable. A symlink is followed to the file it points to (a dangling
    /// one or a loop is refused). An existing target must be a regular file and
    /// needs `force`; a device, FIFO, directory or socket is never replaced. Nor
    /// is `protected` (compared by device and inode).
    public static func check(_ path: String, force: Bool, protected: String? = nil,
                             protectedName: String = "the scenario file being run") throws -> Destination {
        func fail(_ why: String) -> FileWriteError { FileWriteError(message: why) }
        guard !path.isEmpty else { throw fail("an empty path") }
        var target = path
        var info = stat()
        if lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFLNK {
            // Write the file the link points to, never the link's own inode.
            guard let resolved = realpath(path, nil) else {
                let code = errno
                throw fail(code == ENOENT ? "it is a symlink to a missing file (dangling); write the file itself"
                           : code == ELOOP ? "it is a symlink loop" : "it is a symlink that cannot be followed: \(String(cString: strerror(code)))")
            }
            target = String(cString: resolved)
            free(resolved)
        }
        guard stat(target, &info) == 0 else {
            let code = errno
            if code == ELOOP { throw fail("a symlink loop in its folders") }
            guard code == ENOENT else { throw fail(String(cString: strerror(code))) }
            // A new file: its folder must exist.
            var folderInfo = stat()
            let folderPath = FilePath.folderOrDot(of: target)
            guard stat(folderPath, &folderInfo) == 0 else {
                let code = errno
                throw fail(code == ENOENT ? "its folder \(folderPath) does not exist"
                           : "its folder \(folderPath): \(String(cString: strerror(code)))")
            }
            guard (folderInfo.st_mode & S_IFMT) == S_IFDIR else { throw fail("\(folderPath) is not a folder") }
            guard access(folderPath, W_OK) == 0 else { throw fail("its folder \(folderPath) is not writable") }
            return Destination(path: target, existingMode: nil)
        }
        let kind: String?
        switch info.st_mode & S_IFMT {
        case S_IFREG: kind = nil
        case S_IFDIR: kind = "a directory"
        case S_IFCHR: kind = "a character device"
        case S_IFBLK: kind = "a block device"
        case S_IFIFO: kind = "a FIFO (named pipe)"
        case S_IFSOCK: kind = "a socket"
        default: kind = "not a regular file"
        }
        let shown = target == path ? "it" : "it links to \(target), which"
        if let kind { throw fail("\(shown) is \(kind), not a regular file; only regular files are written") }
        if let protected {
            var input = stat()
            if stat(protected, &input) == 0, input.st_dev == info.st_dev, input.st_ino == info.st_ino {
                throw fail("\(shown) is \(protectedName)")
            }
        }
        // The replacement is created beside the target and renamed over it.
        let folder = FilePath.folderOrDot(of: target)
        if access(folder, W_OK) != 0 {
            throw fail("its folder \(folder) is not writable")
        }
        if !force { throw FileWriteError(message: "it exists", needsForce: true) }
        return Destination(path: target, existingMode: info.st_mode & 0o7777)
    }

    /// Checks `path` (`check`) and writes `bytes` to it atomically.
    ///
    /// - Parameter mode: the permission bits of a new file (before the umask); a
    ///   replaced file keeps its own.
    public static func write<C: Collection>(_ bytes: C, to path: String, force: Bool, protected: String? = nil,
                                            mode: mode_t = 0o666) throws where C.Element == UInt8 {
        try write(bytes, to: check(path, force: force, protected: protected), mode: mode)
    }

    /// Writes `bytes` to a checked target atomically.
    public static func write<C: Collection>(_ bytes: C, to target: Destination, mode: mode_t = 0o666) throws where C.Element == UInt8 {
        func fail(_ why: String) -> FileWriteError { FileWriteError(message: why) }
        func errnoText() -> String { String(cString: strerror(errno)) }
        let url = URL(fileURLWithPath: target.path)
        let folder = url.deletingLastPathComponent().path
        var temporary = "", fd: Int32 = -1
        for _ in 0..<16 {
            let suffix = String(UInt64.random(in: 0 ... .max), radix: 36)
            temporary = (folder as NSString).appendingPathComponent(".\(url.lastPathComponent).\(suffix).tmp")
            fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
            if fd >= 0 || errno != EEXIST { break }
        }
        guard fd >= 0 else { throw fail(errnoText()) }
        let guarded = SignalCleanup.begin(temporary)
        var written = false
        defer {
            if fd >= 0 { close(fd) }
            if !written { unlink(temporary) }
            SignalCleanup.end(guarded)
        }
        if let mode = target.existingMode, fchmod(fd, mode) != 0 { throw fail(errnoText()) }
        let array = Array(bytes)
        var offset = 0
        while offset < array.count {
            let n = array[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw fail(errnoText())
            }
            offset += n
        }
        let closed = close(fd)
        fd = -1
        if closed != 0 { throw fail(errnoText()) }
        // rename(2) replaces the target atomically: a reader sees the old file or the new one.
        if rename(temporary, target.path) != 0 { throw fail(errnoText()) }
        written = true
    }
}

/// Removes a temporary path (file or empty-enough folder) if SIGINT, SIGTERM,
/// or SIGHUP arrives while it exists, then lets the signal do what it
/// did before. One path at a time (writes are not concurrent); the path is
/// kept as a C string so the handler only calls async-signal-safe functions.
public enum SignalCleanup {
    static let signals: [Int32] = [SIGINT, SIGTERM, SIGHUP]
    public struct Token { fileprivate var previous: [Int32: sigaction]; fileprivate var path: UnsafeMutablePointer<CChar>? }

    /// Starts guarding `path`; `end` stops. A nested `begin` (one already active) guards nothing.
    public static func begin(_ path: String) -> Token {
        guard cleanupPath == nil else { return Token(previous: [:], path: nil) }
        let c = strdup(path)
        cleanupPath = c
        var previous: [Int32: sigaction] = [:]
        for s in signals {
            var action = sigaction(), old = sigaction()
            action.__sigaction_handler.sa_handler = { sig in
                if let p = cleanupPath { unlink(p); rmdir(p) }
                // The previous action, saved in C-visible storage, back in place; the re-raised
                // signal is delivered to it once this handler returns.
                restorePrevious(sig)
                raise(sig)
            }
            sigemptyset(&action.sa_mask)
            action.sa_flags = 0
            if sigaction(s, &action, &old) == 0 {
                previous[s] = old
                saved(s, old)
            }
        }
        return Token(previous: previous, path: c)
    }

    /// Stops guarding: the previous actions are back.
    public static func end(_ token: Token) {
        guard let path = token.path else { return }
        for (s, old) in token.previous {
            var old = old
            sigaction(s, &old, nil)
        }
        cleanupPath = nil
        free(path)
    }
}

// `nonisolated(unsafe)`, both: the C signal handler reads them and can take no
// lock; they are set before the handler is installed and cleared after it is
// removed.
nonisolated(unsafe) private var cleanupPath: UnsafeMutablePointer<CChar>?
/// The actions `begin` replaced, for the handler to put back: SIGINT's,
/// SIGTERM's, SIGHUP's, in memory of three whole `sigaction`s. (A global
/// tuple of three was emitted 444 bytes long, not 3 × 152, so saving SIGHUP's
/// wrote 12 bytes past it, over the next global: AddressSanitizer caught it
/// under the replay fuzzer, Fuzz/README.md.)
nonisolated(unsafe) private let savedActions: UnsafeMutablePointer<sigaction> = {
    let p = UnsafeMutablePointer<sigaction>.allocate(capacity: 3)
    p.initialize(repeating: sigaction(), count: 3)
    return p
}()

private func savedIndex(_ s: Int32) -> Int { s == SIGINT ? 0 : s == SIGTERM ? 1 : 2 }

private func saved(_ s: Int32, _ action: sigaction) {
    savedActions[savedIndex(s)] = action
}

private func restorePrevious(_ s: Int32) {
    sigaction(s, savedActions + savedIndex(s), nil)
}

extension FileWriteError {
    /// What went wrong, as the system says it (`No such file or directory`),
    /// not Foundation's "The operation could not be completed": the errno
    /// text of the underlying POSIX error where there is one.
    public static func reason(_ error: Error) -> String {
        if let e = error as? FileWriteError { return e.message }
        let ns = error as NSError
        var current: NSError? = ns
        while let e = current {
            if e.domain == NSPOSIXErrorDomain, let message = strerror(Int32(e.code)) { return String(cString: message) }
            current = e.userInfo[NSUnderlyingErrorKey] as? NSError
        }
        if ns.domain == NSCocoaErrorDomain {
            switch CocoaError.Code(rawValue: ns.code) {
            case .fileNoSuchFile, .fileReadNoSuchFile: return String(cString: strerror(ENOENT))
            case .fileReadNoPermission, .fileWriteNoPermission: return String(cString: strerror(EACCES))
            case .fileWriteOutOfSpace: return String(cString: strerror(ENOSPC))
            case .fileWriteVolumeReadOnly: return String(cString: strerror(EROFS))
            case .fileWriteFileExists: return String(cString: strerror(EEXIST))
            default: break
            }
        }
        return ns.localizedDescription
    }
}

/// Why a path cannot be read, as the system says it: a symlink loop is a
/// loop, not "no such file".
public enum FileProblem {
    /// `nil` when `path` can be `stat`ed; else `no such file or folder`,
    /// `a symlink loop`, `a dangling symlink`, or the errno text.
    public static func missing(_ path: String) -> String? {
        var info = stat()
        if stat(path, &info) == 0 { return nil }
        let code = errno
        switch code {
        case ELOOP: return "a symlink loop"
        case ENOENT:
            return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFLNK ? "a dangling symlink (its target does not exist)"
                : "no such file or folder"
        default: return String(cString: strerror(code))
        }
    }

    /// Why `FileManager.contents(atPath:)` gave nil: missing, a folder, not a regular file, or unreadable.
    public static func unreadable(_ path: String) -> String {
        if let why = missing(path) { return why }
        var info = stat()
        _ = stat(path, &info)
        if (info.st_mode & S_IFMT) == S_IFDIR { return "a folder, not a file" }
        if access(path, R_OK) != 0 { return String(cString: strerror(errno)) }
        return "cannot read the file"
    }
}
