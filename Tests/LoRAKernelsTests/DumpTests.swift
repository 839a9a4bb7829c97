import Foundation
import XCTest
@testable import LoRAKernels

/// `writeDump(to:)` writes `.npy` v1.0 files that another implementation can
/// read: headers, shapes, dtypes and values are read back here by a small
/// independent parser and the numbers recomputed from the dumped inputs.
final class DumpTests: XCTestCase {
    struct NPY {
        var descr: String
        var shape: [Int]
        var data: Data

        init(path: String) throws {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            XCTAssertEqual(Array(bytes.prefix(8)), [0x93] + Array("NUMPY".utf8) + [1, 0], path)
            let length = Int(bytes[8]) | Int(bytes[9]) << 8
            XCTAssertEqual((10 + length) % 64, 0, "header padded to 64 bytes: \(path)")
            let header = String(decoding: bytes[10..<10 + length], as: UTF8.self)
            XCTAssertTrue(header.hasSuffix("\n"))
            XCTAssertTrue(header.contains("'fortran_order': False"))
            let descrStart = try XCTUnwrap(header.range(of: "'descr': '"))
            descr = String(header[descrStart.upperBound...].prefix(3))
            let shapeStart = try XCTUnwrap(header.range(of: "'shape': ("))
            let shapeText = header[shapeStart.upperBound...].prefix { $0 != ")" }
            shape = shapeText.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            data = bytes.subdata(in: (10 + length)..<bytes.count)
            let size = descr == "<f4" ? 4 : 8
            XCTAssertEqual(data.count, shape.reduce(1, *) * size, "payload size: \(path)")
        }

        var floats: [Float] { data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) } }
        var doubles: [Double] { data.withUnsafeBytes { Array($0.bindMemory(to: Double.self)) } }
        var ints: [Int] { data.withUnsafeBytes { $0.bindMemory(to: Int64.self).map(Int.init) } }
    }

    func temporaryDirectory() -> String {
        let dir = NSTemporaryDirectory() + "lora-viz-dump-\(UUID().uuidString)"
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        return dir
    }

    func testExpandDumpReadsBackAndRecomputes() throws {
        let dims = ModelDims(hidden: 64, out: 64, q: 48, kv: 16, ffn: 32, maxRank: 8)
        let w = makeWorkload(kernel: .qkvLoRAB, dims: dims, dtype: .bf16, ranks: [8, 0, 4], scalings: [0.5, 1, 2],
                             wi: [2, 0, 1, 2, 2])
        let r = try KernelRunner.run(w, options: KernelRunOptions(reps: 1, keepTensors: true))
        let dir = temporaryDirectory()
        try r.writeDump(to: dir)
        func load(_ name: String) throws -> NPY { try NPY(path: dir + "/" + name) }

        let x = try load("x.npy"), weights = try load("weights.npy"), base = try load("base_output.npy")
        let ref = try load("reference.npy"), out = try load("output_sorted.npy"), outPS = try load("output_per_sequence.npy")
        XCTAssertEqual(x.descr, "<f4"); XCTAssertEqual(x.shape, [5, 24])
        XCTAssertEqual(weights.shape, [3, 80, 8])
        XCTAssertEqual(base.shape, [5, 80]); XCTAssertEqual(ref.descr, "<f8"); XCTAssertEqual(out.shape, [5, 80])
        XCTAssertEqual(out.data, outPS.data, "routings agree bitwise in the dump too")
        // bf16 values stored exactly: every float has a zero low half.
        XCTAssertTrue(x.floats.allSatisfy { $0.bitPattern & 0xFFFF == 0 })

        // Recompute every cell from the dumped tensors alone.
        let xs = x.floats, ws = weights.floats, bs = base.floats, refs = ref.doubles, outs = out.floats
        let ranks = try load("lora_ranks.npy").ints, scalings = try load("scalings.npy").floats
        XCTAssertEqual(ranks, [8, 0, 4])
        let slots = [2, 0, 1, 2, 2]
        let offsets = [0, 48, 64, 80]
        for t in 0..<5 {
            let slot = slots[t], rank = ranks[slot]
            for q in 0..<3 {
                for n in offsets[q]..<offsets[q + 1] {
                    var acc = 0.0
                    for k in 0..<rank { acc += Double(xs[t * 24 + q * rank + k]) * Double(ws[(slot * 80 + n) * 8 + k]) }
                    let expected = rank == 0 ? Double(bs[t * 80 + n]) : Double(scalings[slot]) * acc + Double(bs[t * 80 + n])
                    XCTAssertEqual(refs[t * 80 + n], expected, accuracy: 1e-12)
                    XCTAssertEqual(Double(outs[t * 80 + n]), expected, accuracy: 0.02)
                }
            }
        }
        // Routing arrays.
        XCTAssertEqual(try load("sorted_permutation.npy").ints, [1, 2, 0, 3, 4])
        XCTAssertEqual(try load("sorted_seg_lens.npy").ints, [1, 1, 3])
        XCTAssertEqual(try load("sorted_seg_indptr.npy").ints, [0, 1, 2, 5])
        XCTAssertEqual(try load("sorted_weight_indices.npy").ints, [0, 1, 2])
        XCTAssertEqual(try load("per_sequence_weight_indices.npy").ints, slots)
        XCTAssertEqual(try load("per_sequence_seg_indptr.npy").ints, [0, 1, 2, 3, 4, 5])

        // The manifest names every file, and every file it names exists.
        let manifest = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/manifest.json"))) as? [String: Any])
        XCTAssertEqual(manifest["kernel"] as? String, "qkv_lora_b")
        XCTAssertEqual(manifest["dtype"] as? String, "bf16")
        XCTAssertEqual(manifest["bitwise_equal"] as? Bool, true)
        let files = try XCTUnwrap(manifest["files"] as? [String: [String: Any]])
        let onDisk = Set(try FileManager.default.contentsOfDirectory(atPath: dir))
        XCTAssertEqual(Set(files.keys).union(["manifest.json"]), onDisk)
        // Every entry's dtype and shape match the file's own header.
        for (name, entry) in files {
            let npy = try load(name)
            XCTAssertEqual(entry["dtype"] as? String, npy.descr, name)
            XCTAssertEqual(entry["shape"] as? [Int], npy.shape, name)
            XCTAssertFalse((entry["description"] as? String ?? "").isEmpty, name)
        }
    }

    /// The shrink never writes columns at or beyond `N_eff` (nor rank-0 rows):
    /// read straight from the dumped outputs, they still hold NaN.
    func testShrinkLeavesColumnsPastNEffUnwritten() throws {
        let dims = ModelDims(hidden: 40, out: 16, q: 16, kv: 16, ffn: 16, maxRank: 16)
        let w = makeWorkload(kernel: .sgemmLoRAA(stack: 2), dims: dims, dtype: .fp16, ranks: [3, 16, 0, 9],
                             wi: [0, 1, 2, 3, 0, 3, 2, 1], lengths: [2, 1, 3, 5, 1, 2, 1, 4], mode: .extend)
        let r = try KernelRunner.run(w, options: KernelRunOptions(reps: 1, keepTensors: true))
        XCTAssertEqual(r.clobberedCells, 0)
        let dir = temporaryDirectory()
        try r.writeDump(to: dir)
        let tokenSlots = zip([0, 1, 2, 3, 0, 3, 2, 1], [2, 1, 3, 5, 1, 2, 1, 4]).flatMap { Array(repeating: $0, count: $1) }
        for name in ["output_sorted.npy", "output_per_sequence.npy"] {
            let out = try NPY(path: dir + "/" + name)
            XCTAssertEqual(out.shape, [19, 32])
            let values = out.floats
            for (t, slot) in tokenSlots.enumerated() {
                let nEff = 2 * [3, 16, 0, 9][slot]
                for c in 0..<32 {
                    XCTAssertEqual(values[t * 32 + c].isNaN, c >= nEff, "\(name) row \(t) column \(c) (N_eff \(nEff))")
                }
            }
        }
    }

    func testDumpNeedsKeptTensors() throws {
        let w = makeWorkload(kernel: .sgemmLoRAB, dims: ModelDims(hidden: 16, out: 16, q: 16, kv: 16, ffn: 16, maxRank: 4),
                             ranks: [4], wi: [0])
        let r = try KernelRunner.run(w, options: KernelRunOptions(reps: 1))
        XCTAssertThrowsError(try r.writeDump(to: temporaryDirectory())) { error in
            XCTAssertTrue("\(error)".contains("keepTensors"))
        }
    }
}
