import Foundation

/// Where `--dump DIR` writes: checked before any kernel runs, filled in a
/// temporary folder beside `DIR` (`.DIR.XXXXXX`, created by `mkdtemp`, mode
/// 0700) and renamed to `DIR` at the end, so a dump is whole or absent and
/// never merged with an older one. An existing `DIR` must be an empty folder,
/// or is replaced with `force`.
public struct DumpFolder: Sendable {
    /// The folder the dump ends up in.
    public let path: String
    /// The folder written while the run goes on.
    public let staging: String

    /// Dumps above this size are refused without `--force` (4 GiB).
    public static let sizeLimit = 4 << 30
    /// Dumps above this size are announced before writing (256 MiB).
    public static let announceSize = 256 << 20

    /// Checks `path` before anything runs.
    ///
    /// - Parameter inputs: the files this run reads (its scenario, results
    ///   files): a folder holding one is never replaced, `force` or not
    ///   (`run x/s.lora --dump x --force` deleted `x/s.lora`); nor is the
    ///   working folder or one above it.
    /// - Throws: `DumpError`: an empty name, a path that is not a folder, a
    ///   non-empty folder without `force`, a folder holding an input or the
    ///   working folder, a missing or read-only parent.
    public static func check(_ path: String, force: Bool, inputs: [String] = []) throws {
        guard !path.isEmpty else { throw DumpError(message: "an empty folder name") }
        var info = stat()
        if stat(path, &info) == 0 {
            guard (info.st_mode & S_IFMT) == S_IFDIR else { throw DumpError(message: "\(path) exists and is not a folder") }
            if let held = holding(path, inputs: inputs) {
                throw DumpError(message: "\(path) holds \(held); it is never replaced, --force or not")
            }
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
            if !entries.isEmpty && !force {
                throw DumpError(message: "\(path) is not empty (\(entries.count) entr\(entries.count == 1 ? "y" : "ies")); --force replaces it")
            }
        } else if errno == ELOOP {
            throw DumpError(message: "\(path) is a symlink loop")
        } else if errno != ENOENT {
            throw DumpError(message: "\(path): \(String(cString: strerror(errno)))")
        }
        let parent = parentFolder(of: path)
        guard stat(parent, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw DumpError(message: "the folder \(parent) that would hold \(path) does not exist")
        }
        guard access(parent, W_OK) == 0 else { throw DumpError(message: "the folder \(parent) that would hold \(path) is not writable") }
    }

    /// What of `inputs` (or the working folder) lies inside the folder `path`, if anything.
    static func holding(_ path: String, inputs: [String]) -> String? {
        func real(_ p: String) -> String? {
            guard let r = realpath(p, nil) else { return nil }
            defer { free(r) }
            return String(cString: r)
        }
        guard let folder = real(path) else { return nil }
        func inside(_ p: String) -> Bool { p == folder || p.hasPrefix(folder == "/" ? "/" : folder + "/") }
        if let cwd = real("."), inside(cwd) { return "the working folder" }
        return inputs.first { $0 != "-" && real($0).map(inside) == true }
    }

    static func parentFolder(of path: String) -> String {
        FilePath.folderOrDot(of: path)
    }

    /// Checks `path` and creates the staging folder beside it.
    public init(_ path: String, force: Bool, inputs: [String] = []) throws {
        try Self.check(path, force: force, inputs: inputs)
        let name = FilePath.name(of: path)
        var template = Array(((Self.parentFolder(of: path) as NSString).appendingPathComponent(".\(name).XXXXXX")).utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw DumpError(message: "cannot create a folder beside \(path): \(String(cString: strerror(errno)))")
        }
        self.path = FilePath.withoutTrailingSlashes(path)
        staging = String(cString: made)
    }

    /// Renames the staging folder to `path`; an existing `path` (empty, or
    /// allowed by `force` when checked) is moved aside first and removed after.
    public func commit() throws {
        var info = stat()
        var old: String?
        if lstat(path, &info) == 0 {
            let aside = staging + ".old"
            guard rename(path, aside) == 0 else {
                throw DumpError(message: "cannot move the old \(path) aside: \(String(cString: strerror(errno)))")
            }
            old = aside
        }
        guard rename(staging, path) == 0 else {
            let why = String(cString: strerror(errno))
            if let old { rename(old, path) }
            throw DumpError(message: "cannot rename \(staging) to \(path): \(why)")
        }
        if let old { try? FileManager.default.removeItem(atPath: old) }
    }

    /// Removes the staging folder (a failed or interrupted run).
    public func discard() {
        try? FileManager.default.removeItem(atPath: staging)
    }
}

extension Workload {
    /// About how many bytes `--dump` writes for one run of `strategies`
    /// strategies: x, the canonical weights, the base, one output per strategy
    /// as float32, the fp64 reference, and the routings' index arrays (an
    /// upper estimate: four int64 arrays of `S + 1` per strategy).
    public func dumpBytes(strategies: Int) -> Int {
        let s = batch.totalTokens
        let floats = s * inputWidth + batch.slotCount * weightRows * weightColumns + (1 + strategies) * s * outputWidth
        return floats * 4 + s * outputWidth * 8 + strategies * 4 * (s + 1) * 8 + 2048
    }
}
