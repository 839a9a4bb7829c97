import Foundation
import XCTest
@testable import LoRAKernels

/// The first two-worker launch of a process must not race on the tiles'
/// runtime metadata (`MicroTileMetadata`): before it was instantiated up
/// front, 25 of 400 fresh processes running
/// `LaunchScheduleTests.testExpandBlocksGiveTheLoneProgramsBits` died of a
/// SEGV in `ExpandProgram.Target.tile` (0 of 600 after). The race happens once
/// per process, so only fresh processes can show it: this runs that test in
/// 40 of them (at 25 in 400 a regression fails here 92 % of the time).
final class TileMetadataRaceTests: XCTestCase {
    func testFreshProcessesRunTheirFirstParallelExpandWithoutCrashing() throws {
        let runner = URL(fileURLWithPath: CommandLine.arguments[0])
        guard runner.lastPathComponent.hasSuffix(".xctest") else { throw XCTSkip("not run by the xctest runner") }
        let test = "LoRAKernelsTests.LaunchScheduleTests/testExpandBlocksGiveTheLoneProgramsBits"
        var environment = ProcessInfo.processInfo.environment
        // A crash report would take seconds per crash; the exit status is what counts.
        environment["SWIFT_BACKTRACE"] = "enable=no"
        var failures: [String] = []
        for run in 1...40 {
            let process = Process()
            process.executableURL = runner
            process.arguments = [test]
            process.environment = environment
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            if process.terminationStatus != 0 || process.terminationReason != .exit {
                failures.append("run \(run): \(process.terminationReason == .uncaughtSignal ? "signal" : "status") \(process.terminationStatus)")
            }
        }
        XCTAssertEqual(failures, [], "fresh processes crashed or failed")
    }
}
