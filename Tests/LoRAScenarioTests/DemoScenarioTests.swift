import Foundation
import LoRAKernels
@testable import LoRAScenario
import XCTest

/// The demos under scenarios/ parse, apply, and their plan expectations hold.
///
/// Timing expectations (`speedup`, `bitwise_equal`, …) need kernel runs;
/// the full headless replay of every demo runs in `HeadlessReplayTests`.
final class DemoScenarioTests: XCTestCase {
    static let scenariosDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("scenarios")

    static func demoPaths() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: scenariosDirectory.path)
            .filter { $0.hasSuffix(".lora") }.sorted()
            .map { scenariosDirectory.appendingPathComponent($0).path }
    }

    func testEveryDemoLoadsAndValidates() throws {
        let paths = try Self.demoPaths()
        XCTAssertGreaterThanOrEqual(paths.count, 8)
        for path in paths {
            let scenario = try Scenario.load(path: path)
            XCTAssertNotNil(scenario.title, path)
            XCTAssertNoThrow(try scenario.validate(), path)
        }
    }

    func testEveryPlanExpectationOfEveryDemoHolds() throws {
        for path in try Self.demoPaths() {
            var session = Session()
            for step in try Scenario.load(path: path).steps {
                let effect = try session.apply(step)
                guard case .expect(let e) = effect else { continue }
                let outcome = e.evaluate(in: session.report())
                if outcome.actual == nil || outcome.expected == nil { continue }  // a timing: needs a run
                XCTAssertTrue(outcome.held, "\(step.location): \(outcome.message)")
            }
        }
    }
}
