import Foundation
import XCTest

/// Golden files beside the tests, in the swift-argument-parser style: the
/// TUI's screens in `__Snapshots__/<test function>.txt`, the reports and
/// charts in `Golden/NAME`, each folder beside the test file that asserts.
///
/// Re-record after an intended change with
///
///     RECORD_SNAPSHOTS=1 swift test --filter NAME
///
/// and read the diff. A missing golden file is recorded too, and the test
/// then fails once, so a new file is never accepted unseen.
public enum Golden {
    /// Whether `RECORD_SNAPSHOTS` is set (to anything but empty or `0`).
    public static var recording: Bool {
        ProcessInfo.processInfo.environment["RECORD_SNAPSHOTS"].map { !$0.isEmpty && $0 != "0" } ?? false
    }

    /// Compares `text` with the golden file at `url` (records it when asked or missing),
    /// failing with the first eight differing lines.
    public static func assertMatches(_ text: String, at url: URL, file: StaticString, line: UInt) {
        let existing = try? String(contentsOf: url, encoding: .utf8)
        if recording || existing == nil {
            try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            XCTAssertNoThrow(try text.write(to: url, atomically: true, encoding: .utf8), file: file, line: line)
            if existing == nil && !recording {
                XCTFail("recorded a new golden file \(url.lastPathComponent); check it and run again", file: file, line: line)
            }
            return
        }
        guard let existing, existing != text else { return }
        let expected = existing.split(separator: "\n", omittingEmptySubsequences: false)
        let actual = text.split(separator: "\n", omittingEmptySubsequences: false)
        var diff: [String] = []
        for i in 0..<max(expected.count, actual.count) {
            let e = i < expected.count ? String(expected[i]) : "<none>"
            let a = i < actual.count ? String(actual[i]) : "<none>"
            if e != a { diff.append("line \(i + 1):\n  golden: \(e)\n  actual: \(a)") }
        }
        XCTFail("\(url.lastPathComponent) differs (RECORD_SNAPSHOTS=1 re-records):\n" + diff.prefix(8).joined(separator: "\n"),
                file: file, line: line)
    }

    /// The folder `name` beside the test file `file`.
    public static func folder(_ name: String, besideTestFile file: StaticString) -> URL {
        URL(fileURLWithPath: "\(file)").deletingLastPathComponent().appendingPathComponent(name)
    }
}

/// Compares a screen with `__Snapshots__/<test function>.txt` beside the test file.
public func assertSnapshot(_ text: String, named name: String = #function, file: StaticString = #filePath, line: UInt = #line) {
    let base = name.hasSuffix("()") ? String(name.dropLast(2)) : name
    Golden.assertMatches(text, at: Golden.folder("__Snapshots__", besideTestFile: file).appendingPathComponent(base + ".txt"),
                         file: file, line: line)
}

/// Compares a report or chart with `FOLDER/NAME` (default `Golden/NAME`) beside the test file.
public func assertGolden(_ text: String, named name: String, in folder: String = "Golden",
                         file: StaticString = #filePath, line: UInt = #line) {
    Golden.assertMatches(text, at: Golden.folder(folder, besideTestFile: file).appendingPathComponent(name), file: file, line: line)
}
