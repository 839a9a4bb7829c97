// The Swift runtime race behind issue 14's SEGV, without lora-viz: threads
// asking at once, for the first time in a process, for the size of a nested
// InlineArray with value-generic counts (unspecialized code, as lora-viz's
// debug-build tiles are) are sometimes told the outer array is 0 bytes.
// Seen on Swift 6.3.1, x86_64 Linux: "BAD M 1 V 3: 0 192 8" in 3 of 300 runs,
// 0 of 300 when the sizes are asked on one thread first (any argument).
// lora-viz's workaround: MicroTileMetadata (Sources/LoRAKernels/Kernels/MicroTile.swift).
//
//     swiftc -O scripts/probes/inlinearray-metadata-race.swift -o /tmp/race
//     for i in $(seq 300); do /tmp/race || echo "run $i failed"; done
//     for i in $(seq 300); do /tmp/race warm || echo "run $i failed"; done
import Dispatch
import Foundation

struct Tile<let M: Int, let V: Int> {}

@_semantics("optimize.sil.specialize.generic.never") @inline(never)
func sizes<let M: Int, let V: Int>(_: Tile<M, V>.Type) -> (Int, Int, Int) {
    (MemoryLayout<InlineArray<M, InlineArray<V, SIMD16<Float>>>>.size,
     MemoryLayout<InlineArray<V, SIMD16<Float>>>.size,
     MemoryLayout<InlineArray<M, UnsafePointer<Float>>>.size)
}

@_semantics("optimize.sil.specialize.generic.never") @inline(never)
func check<let M: Int, let V: Int>(_ t: Tile<M, V>.Type) -> Bool {
    let (a, b, c) = sizes(t)
    let ok = a == M * V * 64 && b == V * 64 && c == M * 8
    if !ok { print("BAD M \(M) V \(V): \(a) \(b) \(c)") }
    return ok
}

let fs: [() -> Bool] = [
    { check(Tile<1, 1>.self) }, { check(Tile<1, 2>.self) }, { check(Tile<1, 3>.self) }, { check(Tile<1, 4>.self) },
    { check(Tile<1, 8>.self) }, { check(Tile<4, 1>.self) }, { check(Tile<4, 2>.self) }, { check(Tile<4, 3>.self) },
    { check(Tile<4, 4>.self) }, { check(Tile<6, 1>.self) }, { check(Tile<6, 2>.self) }, { check(Tile<6, 3>.self) },
    { check(Tile<6, 4>.self) }, { check(Tile<8, 1>.self) }, { check(Tile<8, 2>.self) },
]
if CommandLine.arguments.count > 1 { for f in fs { _ = f() } }
let threads = 4
let bad = NSLock(); var failures = 0
DispatchQueue.concurrentPerform(iterations: threads) { t in
    for i in 0..<fs.count { let f = fs[(i + t * 7) % fs.count]; if !f() { bad.lock(); failures += 1; bad.unlock() } }
}
exit(failures == 0 ? 0 : 1)
