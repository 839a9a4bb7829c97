import XCTest
@testable import LoRAKernels

/// The packed weight layout and the element hooks that read it: what the
/// packer writes where `index(column:k:)` says is what every microkernel
/// reads (`WeightPanels.vector`, `KernelElement.panelPair`), in both the plain
/// and the K-paired (bf16) layout.
final class WeightPanelsTests: XCTestCase {
    func testEveryElementHasItsOwnSlotInsideTheMatrix() {
        for paired in [false, true] {
            for columns in [1, 16, 17, 48, 64, 80, 100, 192, 200] {
                let panels = WeightPanels(columns: columns, depth: 5, pairedDepth: paired)
                var seen = Set<Int>()
                for k in 0..<panels.depth {
                    for c in 0..<columns {
                        let i = panels.index(column: c, k: k)
                        XCTAssertTrue((0..<panels.count).contains(i), "\(columns) \(paired) (\(c), \(k))")
                        XCTAssertTrue(seen.insert(i).inserted, "\(columns) \(paired) (\(c), \(k)) shares slot \(i)")
                    }
                }
                // Every panel but the last is 64 wide; widths are whole vectors.
                for p in 0..<panels.panelCount {
                    XCTAssertEqual(panels.width(p) % 16, 0)
                    if p < panels.panelCount - 1 { XCTAssertEqual(panels.width(p), 64) }
                }
            }
        }
    }

    func testPanelVectorsReadWhatThePackerWrote() {
        check(Float.self)
        check(Float16.self)
        check(BFloat16.self)
    }

    private func value(_ c: Int, _ k: Int) -> Float { Float(c + 1) * Float(sign: .plus, exponent: 8 * k - 12, significand: 1) }

    private func check<E: KernelElement>(_: E.Type) {
        for columns in [16, 48, 64, 80, 100, 112] {
            let panels = WeightPanels(columns: columns, depth: 3, pairedDepth: E.pairsPanelRows)
            // Column c, row k holds (c + 1)·2⁸ᵏ⁻¹² (exact and normal in every dtype, distinct); padding is 0.
            var storage = [E](repeating: E(rounding: 0), count: panels.count)
            for k in 0..<panels.depth {
                for c in 0..<columns { storage[panels.index(column: c, k: k)] = E(rounding: value(c, k)) }
            }
            storage.withUnsafeBufferPointer { buffer in
                let w = buffer.baseAddress!
                for p in 0..<panels.panelCount {
                    let vectors = panels.width(p) / 16
                    for k in 0..<panels.depth {
                        for v in 0..<vectors {
                            let read = panels.vector(w, panel: p, k: k, vector: v)
                            for lane in 0..<16 {
                                let c = p * 64 + v * 16 + lane
                                let expected: Float = c < columns ? value(c, k) : 0
                                XCTAssertEqual(read[lane], expected, "\(E.dtype) \(columns) panel \(p) k \(k) column \(c)")
                            }
                        }
                    }
                }
            }
        }
    }

    /// The weights of a launch read back canonically: `weight(slot:n:k:)` over
    /// the panels equals the seeded canonical value, for every layout.
    func testInputsPackTheCanonicalWeights() throws {
        let dims = ModelDims(hidden: 40, out: 100, q: 80, kv: 24, ffn: 48, maxRank: 19)
        for kernel in [Kernel.sgemmLoRAA(stack: 3), .sgemmLoRAB, .qkvLoRAB, .gateUpLoRAB] {
            let w = makeWorkload(kernel: kernel, dims: dims, ranks: [19, 0, 4], wi: [0, 1, 2])
            let inputs = try KernelInputs<BFloat16>(workload: w)
            let values = SeededValues(seed: w.seed)
            for slot in [0, 2] {
                let r = [19, 0, 4][slot]
                let rows = kernel.isShrink ? 3 * r : inputs.outputWidth
                let depth = kernel.isShrink ? dims.hidden : r
                let scale = 1 / Float(kernel.isShrink ? dims.hidden : r).squareRoot()
                for n in 0..<rows {
                    for k in 0..<depth {
                        let canonical = values.uniform(.weights, (slot * w.weightRows + n) * w.weightColumns + k) * scale
                        XCTAssertEqual(inputs.weight(slot: slot, n: n, k: k), BFloat16(canonical), "\(kernel.name) \(slot) (\(n), \(k))")
                    }
                }
            }
            XCTAssertEqual(inputs.weight(slot: 1, n: 0, k: 0), BFloat16(0))
        }
    }

    /// The bf16 expand epilogue without the NaN fix-up equals the reference
    /// rounding on every value its operands can produce: bf16-representable
    /// bases, fp32 products including ties, subnormals, infinities and NaNs
    /// that carry a bf16 payload or are the default NaN.
    func testBFloat16EpilogueMatchesTheScalarRounding() {
        var rng = SplitMix64(seed: 7)
        let specials: [Float] = [0, -0.0, .infinity, -.infinity, .nan, Float(bitPattern: 0x7FC1_0000),
                                 Float(bitPattern: 0xFFC0_0000), Float(bitPattern: 0x0000_8000),
                                 Float(bitPattern: 0x3F80_8000), Float(bitPattern: 0x3F81_8000),
                                 .greatestFiniteMagnitude, Float(bitPattern: 0x7F7F_8000)]
        for trial in 0..<4000 {
            var v = SIMD16<Float>(), base = [BFloat16](repeating: BFloat16(0), count: 16)
            for lane in 0..<16 {
                let bits = UInt32(truncatingIfNeeded: rng.next())
                v[lane] = trial % 4 == 0 ? specials[Int(bits % UInt32(specials.count))] : Float(bitPattern: bits & 0xBFFF_FFFF)
                let b = UInt32(truncatingIfNeeded: rng.next())
                base[lane] = BFloat16(trial % 3 == 0 ? specials[Int(b % UInt32(specials.count))] : Float(bitPattern: b))
            }
            var out = base
            out.withUnsafeMutableBufferPointer { BFloat16.addRounded16(v, to: $0.baseAddress!) }
            for lane in 0..<16 {
                let expected = BFloat16(BFloat16(v[lane]).float + base[lane].float)
                if expected.float.isNaN {
                    XCTAssertTrue(out[lane].float.isNaN, "lane \(lane): \(v[lane]) + \(base[lane].float)")
                } else {
                    XCTAssertEqual(out[lane].bitPattern, expected.bitPattern, "lane \(lane): \(v[lane]) + \(base[lane].float)")
                }
            }
        }
    }
}

/// `Workload.tensorBytes` is what `KernelInputs` really allocates, padding included (issue 14 item 10).
final class TensorBytesTests: XCTestCase {
    func allocated<E: KernelElement>(_: E.Type, _ w: Workload, strategies: Int) throws -> Int {
        let inputs = try KernelInputs<E>(workload: w, threads: 1)
        let elements = inputs.x.count + inputs.base.count + inputs.weights.reduce(0) { $0 + ($1?.count ?? 0) }
            + strategies * inputs.base.count
        return elements * MemoryLayout<E>.stride + inputs.base.count * MemoryLayout<Double>.stride
    }

    func testTensorBytesCountsEveryAllocationWithItsPadding() throws {
        for kernel in [Kernel.sgemmLoRAA(stack: 1), .sgemmLoRAA(stack: 3), .sgemmLoRAB, .qkvLoRAB, .gateUpLoRAB] {
            for dtype in DType.allCases {
                var w = Workload(dtype: dtype, kernel: kernel)
                w.dims = ModelDims(hidden: 96, out: 80, q: 64, kv: 32, ffn: 112, maxRank: 8)
                w.batch = Batch(slotCount: 4, adapters: [Adapter(name: "a", rank: 1, slot: 0), Adapter(name: "b", rank: 8, slot: 2)],
                                sequences: [BatchSequence(adapter: "a"), BatchSequence(adapter: "b"), BatchSequence(adapter: "a")])
                let expected: Int
                switch dtype {
                case .bf16: expected = try allocated(BFloat16.self, w, strategies: 3)
                case .fp16: expected = try allocated(Float16.self, w, strategies: 3)
                case .fp32: expected = try allocated(Float.self, w, strategies: 3)
                }
                XCTAssertEqual(w.tensorBytes(strategies: 3), expected, "\(kernel) \(dtype)")
            }
        }
    }
}
