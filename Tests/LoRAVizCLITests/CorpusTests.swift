import Foundation
import Synchronization
@testable import LoRAScenario
import LoRAVizTestSupport
import XCTest

/// Broken scenarios under Corpus/, each beside a `.expected` file holding the
/// exact error a user sees (`NAME.lora:line:col: error: …`), or `ok: N steps`
/// for the two valid edge cases (an empty file, a file of comments: a
/// scenario with no steps is valid and replays to the default session).
///
/// Re-record the `.expected` files with `RECORD_SNAPSHOTS=1 swift test
/// --filter CorpusTests` and review the diff.
final class CorpusTests: XCTestCase {
    static let corpus = Golden.folder("Corpus", besideTestFile: #filePath)

    static func files() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: corpus.path).filter { $0.hasSuffix(".lora") }.sorted()
    }

    /// What loading and applying `path` says, with the corpus directory cut from file names.
    static func outcome(ofLoading path: String) -> String {
        do {
            let scenario = try Scenario.load(path: path)
            try scenario.validate()
            return "ok: \(scenario.steps.count) steps"
        } catch {
            return "\(error)".replacingOccurrences(of: corpus.path + "/", with: "")
        }
    }

    func testCorpusHasAtLeastFortyBrokenFiles() throws {
        let broken = try Self.files().filter { !Self.outcome(ofLoading: Self.corpus.appendingPathComponent($0).path).hasPrefix("ok") }
        XCTAssertGreaterThanOrEqual(broken.count, 40)
    }

    func testEveryCorpusFileGivesItsExpectedError() throws {
        for name in try Self.files() {
            let actual = Self.outcome(ofLoading: Self.corpus.appendingPathComponent(name).path) + "\n"
            assertGolden(actual, named: name.replacingOccurrences(of: ".lora", with: ".expected"), in: "Corpus")
        }
    }

    /// `diagnose` (what the CLI prints) starts with the error `load` + `validate` give.
    func testDiagnoseAgreesWithLoadOnEveryCorpusFile() throws {
        for name in try Self.files() {
            let path = Self.corpus.appendingPathComponent(name).path
            let first = Scenario.diagnose(data: FileManager.default.contents(atPath: path)!, file: path).first
            let outcome = Self.outcome(ofLoading: path)
            if outcome.hasPrefix("ok") {
                XCTAssertNil(first, name)
            } else {
                XCTAssertEqual(first.map { "\($0)".replacingOccurrences(of: Self.corpus.path + "/", with: "") }, outcome, name)
            }
        }
    }

    func testDiagnoseStopsAtItsLimit() {
        let source = String(repeating: "sedd 4\n", count: 50)
        let errors = Scenario.diagnose(data: Data(source.utf8), file: "many.lora", limit: 20)
        XCTAssertEqual(errors.count, 20)
        XCTAssertEqual(errors.last?.description, "many.lora:20:1: error: unknown verb 'sedd'; did you mean 'seed'?")
    }

    func testTenMegabyteLine() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("long-\(UUID().uuidString).lora").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let line = "narrate \"" + String(repeating: "a", count: 10 << 20) + "\"\n"
        try line.write(toFile: path, atomically: false, encoding: .utf8)
        XCTAssertThrowsError(try Scenario.load(path: path)) {
            XCTAssertEqual("\($0)", "\(path):1:4097: error: line is 10485770 characters long; the limit is 4096")
        }
    }

    func testMissingFileAndDirectory() {
        XCTAssertThrowsError(try Scenario.load(path: "/nonexistent/scenario.lora")) {
            XCTAssertEqual("\($0)", "/nonexistent/scenario.lora: error: no such file")
        }
        XCTAssertThrowsError(try Scenario.load(path: Self.corpus.path)) {
            XCTAssertEqual("\($0)", "\(Self.corpus.path): error: is a directory, not a scenario file")
        }
    }

    /// The built `lora-viz run` prints the same errors to standard error and exits 2.
    func testEndToEndThroughTheBinary() throws {
        @Sendable func run(_ arguments: [String]) throws -> (status: Int32, stderr: String) {
            let r = try LoRAVizBinary.run(arguments, in: Self.corpus)
            return (r.status, r.err)
        }
        // One process per file, four at a time (each is independent; a debug
        // binary's start-up is most of the ~75 ms a file takes).
        let names = try Self.files()
        let expected = try names.map {
            try String(contentsOf: Self.corpus.appendingPathComponent($0.replacingOccurrences(of: ".lora", with: ".expected")),
                       encoding: .utf8)
        }
        let results = Mutex<[(status: Int32, stderr: String)?]>(Array(repeating: nil, count: names.count))
        let width = 4
        DispatchQueue.concurrentPerform(iterations: width) { lane in
            for i in stride(from: lane, to: names.count, by: width) {
                let r = try? run(["run", names[i]])
                results.withLock { $0[i] = r }
            }
        }
        let runs = results.withLock { $0 }
        for (i, name) in names.enumerated() {
            guard let (status, stderr) = runs[i] else { XCTFail("\(name): the binary did not run"); continue }
            if expected[i].hasPrefix("ok") {
                XCTAssertEqual(status, 0, name)
            } else {
                XCTAssertEqual(status, 2, name)
                XCTAssertEqual(stderr, expected[i], name)
            }
        }
        let missing = try run(["run", "does-not-exist.lora"])
        XCTAssertEqual(missing.status, 2)
        XCTAssertEqual(missing.stderr, "does-not-exist.lora: error: no such file\n")
        let directory = try run(["run", "."])
        XCTAssertEqual(directory.status, 2)
        XCTAssertEqual(directory.stderr, ".: error: is a directory, not a scenario file\n")
        // A bad flag or value is a usage error: status 2, as for a bad file.
        let badFlag = try run(["run", "empty.lora", "--formt", "json"])
        XCTAssertEqual(badFlag.status, 2)
        XCTAssertTrue(badFlag.stderr.contains("Unknown option '--formt'"), badFlag.stderr)
        let badFormat = try run(["run", "empty.lora", "--format", "yaml"])
        XCTAssertEqual(badFormat.status, 2)
        XCTAssertTrue(badFormat.stderr.contains("'yaml'"), badFormat.stderr)
    }
}
