import Foundation
import XCTest
@testable import LoRAModels

/// The safetensors reader: values, and every class of malformed file.
final class SafetensorsFileTests: XCTestCase {
    /// A small valid file with one tensor of each readable dtype.
    static func sample() -> SafetensorsBuilder {
        var builder = SafetensorsBuilder()
        // bf16: 1, -2, 0.5, +inf
        builder.addBF16("a.bf16", [2, 2], bits: [0x3F80, 0xC000, 0x3F00, 0x7F80])
        // f16: 1, -2, smallest subnormal 2⁻²⁴, 65504 (max), -0, +inf
        builder.addF16("b.f16", [3, 2], bits: [0x3C00, 0xC000, 0x0001, 0x7BFF, 0x8000, 0x7C00])
        builder.addF32("c.f32", [3], [1.5, -0.25, 0x1p-130])
        return builder
    }

    func testReadsEachDtypeExactly() throws {
        let folder = try Fixtures.scratchFolder(self)
        let file = try SafetensorsFile(path: write(Self.sample().file(), to: folder))
        XCTAssertEqual(file.tensorNames, ["a.bf16", "b.f16", "c.f32"])
        XCTAssertEqual(file.metadata, ["format": "pt"])
        XCTAssertEqual(file.info("a.bf16"), TensorInfo(name: "a.bf16", dtype: .bf16, shape: [2, 2], byteRange: 0..<8))
        XCTAssertEqual(file.info("b.f16")?.byteRange, 8..<20)
        XCTAssertNil(file.info("missing"))
        XCTAssertEqual(try file.floats("a.bf16"), [1, -2, 0.5, .infinity])
        let halves = try file.floats("b.f16")
        XCTAssertEqual(halves, [1, -2, 0x1p-24, 65504, 0, .infinity])
        XCTAssertEqual(halves[4].sign, .minus)
        XCTAssertEqual(try file.floats("c.f32"), [1.5, -0.25, 0x1p-130])
        assertModelFileError(try file.floats("missing"), contains: ["tensor 'missing'", "no such tensor"])
    }

    func testHalfWideningMatchesFloat16ForEveryBitPattern() {
        #if arch(x86_64) || arch(arm64)
        for bits in 0...UInt16.max {
            let expected = Float(Float16(bitPattern: bits))
            let widened = SafetensorsFile.widen(half: bits)
            if expected.isNaN {
                XCTAssertTrue(widened.isNaN, "\(bits)")
            } else {
                XCTAssertEqual(widened.bitPattern, expected.bitPattern, "\(bits)")
            }
        }
        #endif
    }

    func testUnsupportedDtypeIsReportedOnlyWhenRead() throws {
        var builder = Self.sample()
        builder.add("d.f64", "F64", [1], bytes: [UInt8](repeating: 0, count: 8))
        builder.add("e.i8", "I8", [4], bytes: [1, 2, 3, 4])
        builder.add("f.f4", "F4", [2], bytes: [0x21])
        let folder = try Fixtures.scratchFolder(self)
        let file = try SafetensorsFile(path: write(builder.file(), to: folder))
        XCTAssertEqual(file.info("f.f4")?.byteRange.count, 1)
        assertModelFileError(try file.floats("d.f64"), contains: ["tensor 'd.f64'", "unsupported dtype F64 for tensor d.f64"])
        assertModelFileError(try file.floats("e.i8"), contains: ["unsupported dtype I8"])
        XCTAssertEqual(try file.floats("c.f32").count, 3)
    }

    func testEmptyTensorsAndNoMetadata() throws {
        var builder = SafetensorsBuilder()
        builder.metadata = nil
        builder.addF32("empty", [0, 4], [])
        builder.addF32("scalar", [], [7])
        let folder = try Fixtures.scratchFolder(self)
        let file = try SafetensorsFile(path: write(builder.file(), to: folder))
        XCTAssertEqual(file.metadata, [:])
        XCTAssertEqual(try file.floats("empty"), [])
        XCTAssertEqual(try file.floats("scalar"), [7])
    }

    func testHeaderMayBePaddedWithSpaces() throws {
        let builder = Self.sample()
        let folder = try Fixtures.scratchFolder(self)
        let file = try SafetensorsFile(path: write(builder.file(header: builder.headerJSON + "     "), to: folder))
        XCTAssertEqual(try file.floats("a.bf16"), [1, -2, 0.5, .infinity])
    }

    // MARK: Malformed files

    func testTruncatedAtEveryByteThrows() throws {
        let bytes = Self.sample().file()
        let folder = try Fixtures.scratchFolder(self)
        for count in 0..<bytes.count {
            let path = try write(Array(bytes[..<count]), to: folder, name: "cut\(count).safetensors")
            assertModelFileError(try SafetensorsFile(path: path), contains: [path])
        }
    }

    /// A real fixture cut inside its header at every byte, then every 97th byte of its data.
    func testTruncatedFixtureThrows() throws {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.adapter("tiny-chat-fp32") + "/adapter_model.safetensors")))
        let headerEnd = 8 + Int(bytes[0]) + Int(bytes[1]) << 8
        let folder = try Fixtures.scratchFolder(self)
        for count in Array(0..<headerEnd + 16) + Array(stride(from: headerEnd + 16, to: bytes.count, by: 97)) {
            let path = try write(Array(bytes[..<count]), to: folder, name: "cut.safetensors")
            assertModelFileError(try SafetensorsFile(path: path))
        }
        XCTAssertNoThrow(try SafetensorsFile(path: write(bytes, to: folder)))
    }

    func testHeaderLengths() throws {
        let builder = Self.sample()
        let folder = try Fixtures.scratchFolder(self)
        let json = Array(builder.headerJSON.utf8)
        func file(length: UInt64) throws -> String {
            try write(withUnsafeBytes(of: length.littleEndian, Array.init) + json + builder.data, to: folder)
        }
        assertModelFileError(try SafetensorsFile(path: file(length: 0)), contains: ["header length is 0"])
        assertModelFileError(try SafetensorsFile(path: file(length: 100_000_001)), contains: ["over safetensors' 100000000-byte limit"])
        assertModelFileError(try SafetensorsFile(path: file(length: .max)), contains: ["limit"])
        let total = 8 + json.count + builder.data.count
        assertModelFileError(
            try SafetensorsFile(path: file(length: UInt64(total - 7))), contains: ["runs past the end of the file (\(total) bytes"])
        // One byte short of the header: the JSON is cut.
        assertModelFileError(try SafetensorsFile(path: file(length: UInt64(json.count - 1))), contains: ["not valid JSON"])
        // One byte long: the header swallows a data byte, which is not JSON whitespace.
        assertModelFileError(try SafetensorsFile(path: file(length: UInt64(json.count + 1))), contains: ["not valid JSON"])
        assertModelFileError(try SafetensorsFile(path: write([1, 0, 0], to: folder)), contains: ["is 3 bytes, shorter than the 8-byte header length"])
    }

    func testHeaderJSON() throws {
        let folder = try Fixtures.scratchFolder(self)
        func check(_ header: String, _ fragments: [String], data: [UInt8] = []) throws {
            let path = try write(SafetensorsBuilder.file(header: header, data: data), to: folder)
            assertModelFileError(try SafetensorsFile(path: path), contains: [path] + fragments)
        }
        try check("{\"a\":", ["header is not valid JSON", "unexpected end of text"])
        try check("{\"a\": tru}", ["not valid JSON", "invalid literal"])
        try check("{\"a\":{},}", ["not valid JSON"])
        try check("{\"a\":{}} x", ["unexpected text after the JSON value"])
        try check("{\"a\":\"\\ud800\"}", ["unpaired surrogate"])
        try check(String(repeating: "[", count: 200), ["nesting deeper than 128"])
        try check("[1, 2]", ["header is an array, not a JSON object"])
        try check("\"text\"", ["not a JSON object"])
        try check("{\"a\":1,\"a\":2}", ["duplicate key \"a\""])
        try check("{\"__metadata__\":{\"k\":1}}", ["__metadata__[\"k\"] is 1, not a string"])
        try check("{\"__metadata__\":[]}", ["__metadata__ is an array"])
        // Invalid UTF-8 inside a key: byte 10 is the key's one character.
        var bytes = SafetensorsBuilder.file(header: "{\"k\":{}}", data: [])
        bytes[10] = 0xFF
        let path = try write(bytes, to: folder)
        assertModelFileError(try SafetensorsFile(path: path), contains: ["not valid JSON", "string is not valid UTF-8"])
    }

    func testTensorEntries() throws {
        let folder = try Fixtures.scratchFolder(self)
        func check(_ entry: String, _ fragments: [String], dataCount: Int = 8) throws {
            let header = "{\"t\":\(entry)}"
            let path = try write(SafetensorsBuilder.file(header: header, data: [UInt8](repeating: 0, count: dataCount)), to: folder)
            assertModelFileError(try SafetensorsFile(path: path), contains: ["tensor 't'"] + fragments)
        }
        try check("[]", ["entry is an array, not an object"])
        try check(#"{"shape":[2],"data_offsets":[0,8]}"#, ["has no dtype"])
        try check(#"{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}"#, ["unknown dtype 'Q4'"])
        try check(#"{"dtype":"bf16","shape":[4],"data_offsets":[0,8]}"#, ["unknown dtype 'bf16'"])
        try check(#"{"dtype":"F32","data_offsets":[0,8]}"#, ["has no shape"])
        try check(#"{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}"#, ["shape has -2, not a non-negative integer"])
        try check(#"{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}"#, ["shape has 2.0"])
        try check(#"{"dtype":"F32","shape":["2"],"data_offsets":[0,8]}"#, ["shape has \"2\" (a string)"])
        try check(#"{"dtype":"F32","shape":[18446744073709551616],"data_offsets":[0,8]}"#, ["not a non-negative integer"])
        try check(#"{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}"#, ["byte size overflows"])
        try check(#"{"dtype":"F32","shape":[2],"data_offsets":[0]}"#, ["data_offsets is [0], not two non-negative integers"])
        try check(#"{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}"#, ["not two non-negative integers"])
        try check(#"{"dtype":"F32","shape":[2]}"#, ["has no data_offsets"])
        try check(#"{"dtype":"F32","shape":[2],"data_offsets":[8,0]}"#, ["data_offsets [8, 0] end before they begin"])
        try check(#"{"dtype":"F32","shape":[4],"data_offsets":[0,16]}"#, ["data_offsets [0, 16] run past the data section's 8 bytes"])
        try check(#"{"dtype":"BF16","shape":[8,6],"data_offsets":[0,100]}"#, ["data_offsets [0, 100] hold 100 bytes but BF16 [8, 6] needs 96"], dataCount: 100)
        try check(#"{"dtype":"F4","shape":[3],"data_offsets":[0,2]}"#, ["F4 [3] is 12 bits, not a whole number of bytes"], dataCount: 2)
    }

    func testTensorsMustTileTheDataSection() throws {
        let folder = try Fixtures.scratchFolder(self)
        func check(_ header: String, dataCount: Int, _ fragments: [String]) throws {
            let path = try write(SafetensorsBuilder.file(header: header, data: [UInt8](repeating: 0, count: dataCount)), to: folder)
            assertModelFileError(try SafetensorsFile(path: path), contains: fragments)
        }
        // Overlap: a header that lies, pointing two tensors at the same bytes.
        try check(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
                  dataCount: 12, ["tensor 'b'", "data_offsets [4, 12] overlap tensor 'a' at [0, 8]"])
        try check(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#,
                  dataCount: 8, ["overlap tensor 'a'"])
        // Gap between tensors, gap at the start, bytes left at the end.
        try check(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#,
                  dataCount: 12, ["tensor 'b'", "leave data bytes 4..<8 unused (after tensor 'a')"])
        try check(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, dataCount: 8, ["leave data bytes 0..<4 unused"])
        try check(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, dataCount: 8,
                  ["the tensors end at data byte 4 but the data section has 8 bytes"])
    }

    func testFilesThatAreNotRegularFiles() throws {
        let folder = try Fixtures.scratchFolder(self)
        assertModelFileError(try SafetensorsFile(path: folder.path), contains: [folder.path, "is a directory"])
        assertModelFileError(try SafetensorsFile(path: folder.appendingPathComponent("nope").path),
                             contains: ["cannot open: No such file or directory"])
        assertModelFileError(try SafetensorsFile(path: "/dev/null"), contains: ["/dev/null: is a character device, not a regular file"])
        // Opened without waiting for a writer (it waited forever), then refused.
        let fifo = folder.appendingPathComponent("weights.safetensors").path
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        assertModelFileError(try SafetensorsFile(path: fifo), contains: [fifo, "is a FIFO (named pipe), not a regular file"])
    }

    /// A few thousand random mutations of a valid file: each parses or
    /// throws a ModelFileError. Most go straight to the header check on the
    /// bytes in memory (file writes would dominate the time); every tenth
    /// goes through a real file, mmap and all, and reads back what parsed.
    func testFuzzedMutationsParseOrThrow() throws {
        let folder = try Fixtures.scratchFolder(self)
        let original = Self.sample().file()
        var random = SplitMix64(seed: 0x5AFE_7E45)
        var parsed = 0
        let path = folder.appendingPathComponent("fuzz.safetensors").path
        for iteration in 0..<4000 {
            var bytes = original
            for _ in 0..<(1 + Int(random.next() % 4)) {
                let position = Int(random.next() % UInt64(bytes.count))
                switch random.next() % 4 {
                case 0: bytes[position] = UInt8(truncatingIfNeeded: random.next())
                case 1: bytes[position] ^= 1 << (random.next() % 8)
                case 2: bytes[position] = Array("{}[]\",:0123456789-.eE ".utf8)[Int(random.next() % 21)]
                default: bytes.remove(at: position)
                }
            }
            do {
                if iteration % 10 == 0 {
                    _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
                    let file = try SafetensorsFile(path: path)
                    for name in file.tensorNames where file.info(name)!.dtype.isReadable {
                        XCTAssertEqual(try file.floats(name).count, file.info(name)!.elementCount)
                    }
                } else {
                    _ = try bytes.withUnsafeBytes {
                        try SafetensorsFile.validateHeader(path: "fuzz", base: $0.baseAddress!, count: $0.count)
                    }
                }
                parsed += 1
            } catch is ModelFileError {
            } catch {
                XCTFail("not a ModelFileError: \(error)")
            }
        }
        XCTAssertGreaterThan(parsed, 0, "some mutations (inside tensor data) leave the file valid")
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): a tiny, seedable, deterministic PRNG.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
