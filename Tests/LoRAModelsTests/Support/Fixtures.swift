import Foundation
import XCTest
@testable import LoRAModels

/// Paths of the committed fixtures under examples/, and scratch files.
enum Fixtures {
    /// The repository root, found from this file's path.
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // Support
        .deletingLastPathComponent()  // LoRAModelsTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()

    static func model(_ name: String) -> String {
        root.appendingPathComponent("examples/models/\(name)").path
    }

    static func adapter(_ name: String) -> String {
        root.appendingPathComponent("examples/adapters/\(name)").path
    }

    static let adapterNames = ["tiny-sql-bf16", "tiny-chat-fp32", "tiny-rank-pattern", "tiny-rslora"]

    /// A fresh empty folder under the temporary directory, removed at the test's end.
    static func scratchFolder(_ test: XCTestCase) throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("lora-models-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    /// The samples expected.json lists: tensor → (dtype, shape, [(flat index, value)]).
    static func expected(_ adapter: String) throws -> [String: (dtype: String, shape: [Int], samples: [(Int, Float)])] {
        let data = try Data(contentsOf: URL(fileURLWithPath: adapter).appendingPathComponent("expected.json"))
        let root = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        var result: [String: (dtype: String, shape: [Int], samples: [(Int, Float)])] = [:]
        for (name, entry) in root["tensors"] as! [String: [String: Any]] {
            let samples = (entry["samples"] as! [[Any]]).map {
                (($0[0] as! NSNumber).intValue, Float(($0[1] as! NSNumber).doubleValue))
            }
            result[name] = (entry["dtype"] as! String, (entry["shape"] as! [NSNumber]).map(\.intValue), samples)
        }
        return result
    }
}

/// Builds safetensors bytes for tests, well-formed unless told otherwise.
struct SafetensorsBuilder {
    struct Tensor {
        var name: String
        var dtype: String
        var shape: [Int]
        var bytes: [UInt8]
    }

    var tensors: [Tensor] = []
    var metadata: [String: String]? = ["format": "pt"]

    mutating func add(_ name: String, _ dtype: String, _ shape: [Int], bytes: [UInt8]) {
        tensors.append(Tensor(name: name, dtype: dtype, shape: shape, bytes: bytes))
    }

    mutating func addF32(_ name: String, _ shape: [Int], _ values: [Float]) {
        add(name, "F32", shape, bytes: values.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) })
    }

    mutating func addBF16(_ name: String, _ shape: [Int], bits: [UInt16]) {
        add(name, "BF16", shape, bytes: bits.flatMap { withUnsafeBytes(of: $0.littleEndian, Array.init) })
    }

    mutating func addF16(_ name: String, _ shape: [Int], bits: [UInt16]) {
        add(name, "F16", shape, bytes: bits.flatMap { withUnsafeBytes(of: $0.littleEndian, Array.init) })
    }

    /// The header JSON with contiguous offsets, in insertion order.
    var headerJSON: String {
        var entries: [String] = []
        if let metadata {
            let pairs = metadata.keys.sorted().map { "\"\($0)\":\"\(metadata[$0]!)\"" }
            entries.append("\"__metadata__\":{\(pairs.joined(separator: ","))}")
        }
        var offset = 0
        for tensor in tensors {
            let end = offset + tensor.bytes.count
            entries.append("\"\(tensor.name)\":{\"dtype\":\"\(tensor.dtype)\",\"shape\":\(tensor.shape),\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        return "{" + entries.joined(separator: ",") + "}"
    }

    var data: [UInt8] { tensors.flatMap(\.bytes) }

    /// The whole file: length, header (or `header` verbatim), data.
    func file(header: String? = nil, data: [UInt8]? = nil) -> [UInt8] {
        Self.file(header: header ?? headerJSON, data: data ?? self.data)
    }

    static func file(header: String, data: [UInt8]) -> [UInt8] {
        let json = Array(header.utf8)
        return withUnsafeBytes(of: UInt64(json.count).littleEndian, Array.init) + json + data
    }
}

extension XCTestCase {
    /// Writes `bytes` to a new file in `folder` and returns its path.
    func write(_ bytes: [UInt8], to folder: URL, name: String = "t.safetensors") throws -> String {
        let url = folder.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    /// Asserts that `body` throws a `ModelFileError` and returns it.
    @discardableResult
    func assertModelFileError<T>(
        _ body: @autoclosure () throws -> T, contains fragments: [String] = [],
        file: StaticString = #filePath, line: UInt = #line
    ) -> ModelFileError? {
        do {
            _ = try body()
            XCTFail("expected a ModelFileError", file: file, line: line)
            return nil
        } catch let error as ModelFileError {
            for fragment in fragments where !error.description.contains(fragment) {
                XCTFail("'\(error.description)' does not contain '\(fragment)'", file: file, line: line)
            }
            return error
        } catch {
            XCTFail("expected a ModelFileError, got \(error)", file: file, line: line)
            return nil
        }
    }
}
