import Foundation
import XCTest

/// Golden files beside the tests, named after the test function.
///
/// To re-record every golden file after an intended change, run
/// `RECORD_SNAPSHOTS=1 swift test --filter LoRAScenarioTests` and review the
/// diff; a missing golden file is recorded (and the test fails once, so a
/// new golden never passes unseen).
enum Snapshot {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()

    static var recording: Bool { ProcessInfo.processInfo.environment["RECORD_SNAPSHOTS"] != nil }

    static func assertMatches(_ actual: String, named name: String, in folder: String = "Golden",
                              file: StaticString = #filePath, line: UInt = #line) {
        let url = directory.appendingPathComponent(folder).appendingPathComponent(name)
        let existing = try? String(contentsOf: url, encoding: .utf8)
        if recording || existing == nil {
            try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try! actual.write(to: url, atomically: true, encoding: .utf8)
            if existing == nil { XCTFail("recorded new golden file \(folder)/\(name); check it and run again", file: file, line: line) }
            return
        }
        XCTAssertEqual(actual, existing, "\(folder)/\(name) differs (RECORD_SNAPSHOTS=1 re-records)", file: file, line: line)
    }
}
