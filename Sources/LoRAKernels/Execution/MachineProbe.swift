import CLoRAKernels
import Dispatch
import Foundation
import Synchronization

/// What the machine and the build offer the kernels: the instruction set and
/// a measured fp32 FMA peak, for the benchmark's header.
public enum MachineProbe {
    /// Vector features that matter to the kernels, as the CPU reports them.
    public struct InstructionSet: Codable, Sendable {
        public var architecture: String
        /// Whether this binary was built for the build machine's CPU (release:
        /// `-target-cpu native`); if not, it runs SSE2 code whatever the CPU has.
        public var builtForNativeCPU: Bool
        public var avx512f: Bool
        public var avx512bf16: Bool
        public var avx2: Bool
        public var fma: Bool
        public var f16c: Bool
        public var cpuModel: String

        /// `avx512f+avx512bf16+avx2+fma+f16c` style summary.
        public var summary: String {
            let flags = [("avx512f", avx512f), ("avx512_bf16", avx512bf16), ("avx2", avx2), ("fma", fma), ("f16c", f16c)]
            let have = flags.filter(\.1).map(\.0).joined(separator: "+")
            let target = builtForNativeCPU ? "build targets this CPU (-target-cpu native)" : "generic build (baseline ISA, not vectorized for this CPU)"
            return "\(architecture) \(have.isEmpty ? "(no AVX)" : have); \(target)"
        }
    }

    /// The CPU's features from `/proc/cpuinfo` (Linux; all false elsewhere).
    public static var instructionSet: InstructionSet {
        #if arch(x86_64)
        let architecture = "x86_64"
        #elseif arch(arm64)
        let architecture = "arm64"
        #else
        let architecture = "other"
        #endif
        #if LORAVIZ_NATIVE_CPU
        let native = true
        #else
        let native = false
        #endif
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let lines = info.split(separator: "\n")
        let flagLine = lines.first { $0.hasPrefix("flags") } ?? ""
        let flags = Set(flagLine.split(whereSeparator: { $0 == " " || $0 == ":" || $0 == "\t" }).map(String.init))
        let model = lines.first { $0.hasPrefix("model name") }.map {
            $0.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        } ?? "unknown"
        return InstructionSet(architecture: architecture, builtForNativeCPU: native,
                              avx512f: flags.contains("avx512f"), avx512bf16: flags.contains("avx512_bf16"),
                              avx2: flags.contains("avx2"), fma: flags.contains("fma"), f16c: flags.contains("f16c"),
                              cpuModel: model)
    }

    /// The fp32 FMA peak in GFLOP/s on `threads` cores.
    ///
    /// How: each thread runs 12 independent chains of `SIMD16<Float>` fused
    /// multiply-adds (`addingProduct`, enough chains to cover the FMA latency
    /// on every port) from registers, no memory traffic, for `iterations`
    /// steps; GFLOP/s = 2 · 16 · 12 · iterations · threads / wall time; the
    /// best of `trials` runs.
    public static func fmaPeak(threads: Int = 1, iterations: Int = 20_000_000, trials: Int = 3) -> Double {
        bestGFLOPS(threads: threads, trials: trials, flops: 2 * 16 * 12 * Double(iterations)) { t in
            fmaChains(iterations: iterations, seed: Float(t + 1))
        }
    }

    /// The bf16 dot product's peak in GFLOP/s on `threads` cores (0 without
    /// AVX512_BF16): 12 independent register chains of VDPBF16PS per thread
    /// (`lora_bf16_dot_chains`), 4 flops per lane per instruction (two
    /// multiply-adds), best of `trials`, as `fmaPeak`.
    public static func bf16DotPeak(threads: Int = 1, iterations: Int = 20_000_000, trials: Int = 3) -> Double {
        guard KernelRunOptions.bf16DotMicrokernelAvailable else { return 0 }
        return bestGFLOPS(threads: threads, trials: trials, flops: 4 * 16 * 12 * Double(iterations)) { t in
            lora_bf16_dot_chains(iterations, Float(t + 1))
        }
    }

    /// The best of `trials` runs of `chains` on `threads` threads at once, in
    /// GFLOP/s for `flops` per thread; a run whose chains sum to NaN is dropped.
    private static func bestGFLOPS(threads: Int, trials: Int, flops: Double,
                                   chains: @escaping @Sendable (_ thread: Int) -> Float) -> Double {
        var best = 0.0
        for _ in 0..<trials {
            let start = DispatchTime.now().uptimeNanoseconds
            let total = Mutex<Float>(0)
            ParallelLoop.run(count: threads, chunk: 1, threads: threads) { range in
                for t in range {
                    let s = chains(t)
                    total.withLock { $0 += s }
                }
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            if total.withLock({ $0.isNaN }) { continue }
            best = max(best, flops * Double(threads) / seconds / 1e9)
        }
        return best
    }

    @inline(never)
    static func fmaChains(iterations: Int, seed: Float) -> Float {
        let m = SIMD16<Float>(repeating: 0.999_999), c = SIMD16<Float>(repeating: 1e-7)
        var a0 = SIMD16<Float>(repeating: seed), a1 = a0 + 1, a2 = a0 + 2, a3 = a0 + 3
        var a4 = a0 + 4, a5 = a0 + 5, a6 = a0 + 6, a7 = a0 + 7
        var a8 = a0 + 8, a9 = a0 + 9, a10 = a0 + 10, a11 = a0 + 11
        for _ in 0..<iterations {
            a0 = c.addingProduct(a0, m); a1 = c.addingProduct(a1, m); a2 = c.addingProduct(a2, m)
            a3 = c.addingProduct(a3, m); a4 = c.addingProduct(a4, m); a5 = c.addingProduct(a5, m)
            a6 = c.addingProduct(a6, m); a7 = c.addingProduct(a7, m); a8 = c.addingProduct(a8, m)
            a9 = c.addingProduct(a9, m); a10 = c.addingProduct(a10, m); a11 = c.addingProduct(a11, m)
        }
        let s = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + ((a8 + a9) + (a10 + a11))
        return s.sum()
    }
}
