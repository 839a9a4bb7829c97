import Foundation
import XCTest

/// Golden files for the text backend, in the swift-argument-parser style:
/// stored beside the tests in `__Snapshots__/<test function>.txt`.
///
/// Re-record after an intended change of the screen with
///
///     RECORD_SNAPSHOTS=1 swift test --filter LoRAVizUITests
///
/// (a missing golden file is recorded too, and the test then fails once so
/// a new file is never accepted silently).
func assertSnapshot(_ text: String, named name: String = #function, file: StaticString = #filePath, line: UInt = #line) {
    let directory = URL(fileURLWithPath: "\(file)").deletingLastPathComponent().appendingPathComponent("__Snapshots__")
    let base = name.hasSuffix("()") ? String(name.dropLast(2)) : name
    let url = directory.appendingPathComponent(base + ".txt")
    let record = ProcessInfo.processInfo.environment["RECORD_SNAPSHOTS"].map { !$0.isEmpty && $0 != "0" } ?? false
    let existing = try? String(contentsOf: url, encoding: .utf8)
    if record || existing == nil {
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        XCTAssertNoThrow(try text.write(to: url, atomically: true, encoding: .utf8), file: file, line: line)
        if existing == nil && !record {
            XCTFail("recorded a new golden file \(url.lastPathComponent); check it and run again", file: file, line: line)
        }
        return
    }
    if existing != text {
        let expected = existing!.split(separator: "\n", omittingEmptySubsequences: false)
        let actual = text.split(separator: "\n", omittingEmptySubsequences: false)
        var diff: [String] = []
        for i in 0..<max(expected.count, actual.count) {
            let e = i < expected.count ? String(expected[i]) : "<none>"
            let a = i < actual.count ? String(actual[i]) : "<none>"
            if e != a { diff.append("line \(i + 1):\n  golden: \(e)\n  actual: \(a)") }
        }
        XCTFail("screen differs from \(url.lastPathComponent) (RECORD_SNAPSHOTS=1 re-records):\n"
                + diff.prefix(8).joined(separator: "\n"), file: file, line: line)
    }
}
