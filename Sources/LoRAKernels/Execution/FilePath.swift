/// Path arithmetic on strings, without `NSString`: swift-corelibs-foundation's
/// `NSString.deletingLastPathComponent` traps (SIGILL) on a one-character
/// name cut from a longer string, as every word of a scenario is, so
/// `output x`, `record x`, `--dump d` and `adapter a from=f` crashed lora-viz
/// (WriteTargetTests.testOneCharacterNames).
public enum FilePath {
    /// The folder part of `path`, as `NSString` names it: "" for a bare
    /// name, "/" for "/x", "a" for "a/b" and "a/b/".
    public static func folder(of path: String) -> String {
        let trimmed = withoutTrailingSlashes(path)
        guard let slash = trimmed.lastIndex(of: "/") else { return "" }
        let folder = withoutTrailingSlashes(String(trimmed[..<slash]))
        return folder.isEmpty ? "/" : folder
    }

    /// `folder(of:)`, with "." for a bare name: the folder to `stat` or create files in.
    public static func folderOrDot(of path: String) -> String {
        let folder = folder(of: path)
        return folder.isEmpty ? "." : folder
    }

    /// The last component of `path`: "b" for "a/b" and "a/b/", "/" for "/".
    public static func name(of path: String) -> String {
        let trimmed = withoutTrailingSlashes(path)
        if trimmed == "/" { return trimmed }
        guard let slash = trimmed.lastIndex(of: "/") else { return trimmed }
        return String(trimmed[trimmed.index(after: slash)...])
    }

    static func withoutTrailingSlashes(_ path: String) -> String {
        var s = Substring(path)
        while s.count > 1 && s.hasSuffix("/") { s.removeLast() }
        return String(s)
    }
}
