import Foundation
import XCTest

/// A test case with a fresh temporary `directory` per test, removed afterwards.
open class TemporaryDirectoryTestCase: XCTestCase {
    public var directory: URL!

    override open func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("lora-viz-\(Self.self)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override open func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    /// The path of `name` inside `directory`.
    public func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// Writes `text` to `name` inside `directory`.
    public func write(_ name: String, _ text: String) throws {
        try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }
}
