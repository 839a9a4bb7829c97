import Foundation
import Synchronization
import XCTest

/// The `lora-viz` that `swift build` puts beside the test bundle, and a way
/// to run it as a user would: arguments, a working directory, standard input.
public enum LoRAVizBinary {
    /// The binary, or `XCTSkip` when a test runner was started without building it.
    public static func url() throws -> URL {
        // On Linux the test bundle is a file in the build folder; on macOS a bundle inside it.
        let runner = URL(fileURLWithPath: CommandLine.arguments[0])
        let candidates = [runner.deletingLastPathComponent().appendingPathComponent("lora-viz"),
                          runner.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("lora-viz")]
        guard let url = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw XCTSkip("no lora-viz binary beside the test bundle at \(candidates[0].path): run `swift build` first")
        }
        return url
    }

    /// What one run printed and how it ended.
    public typealias Outcome = (status: Int32, out: String, err: String)

    /// Runs the binary in `directory` and waits for it.
    ///
    /// - Parameters:
    ///   - input: standard input (else `/dev/null`).
    ///   - environment: the whole environment (else the test's).
    ///   - timeout: seconds after which the run is terminated, so a hang fails the test instead of stalling it.
    public static func run(_ arguments: [String], in directory: URL, input: String? = nil,
                           environment: [String: String]? = nil, timeout: TimeInterval? = nil) throws -> Outcome {
        let process = Process()
        process.executableURL = try url()
        process.arguments = arguments
        process.currentDirectoryURL = directory
        if let environment { process.environment = environment }
        let stdin = input.map { _ in Pipe() }
        process.standardInput = stdin ?? FileHandle.nullDevice
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        if let stdin, let input {
            // Written after the start, on its own thread, so input larger than a pipe's buffer cannot block the test.
            let writer = stdin.fileHandleForWriting
            DispatchQueue.global().async {
                writer.write(Data(input.utf8))
                try? writer.close()
            }
        }
        let watchdog = DispatchWorkItem { if process.isRunning { process.terminate() } }
        if let timeout { DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: watchdog) }
        // Read both pipes before waiting so a full pipe cannot block the child.
        final class Box: Sendable { let data = Mutex(Data()) }
        let outData = Box()
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) {
            let read = out.fileHandleForReading.readDataToEndOfFile()
            outData.data.withLock { $0 = read }
        }
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        watchdog.cancel()
        return (process.terminationStatus, String(decoding: outData.data.withLock { $0 }, as: UTF8.self),
                String(decoding: errData, as: UTF8.self))
    }
}
