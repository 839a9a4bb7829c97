// Render benchmark (not a test): median time to render a full frame on the
// text backend, and the time to the first frame.
//
//     swift build -c release --product lora-viz-render-bench
//     .build/release/lora-viz-render-bench
//
// A frame is Screen.render (grids, stats, legend, panels) plus Canvas.text.
import Foundation
import LoRAKernels
import LoRAScenario
import LoRAVizUI

let processStart = Date()

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let t0 = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
}

/// A decode batch of `bs` sequences spread over `slots` adapters of mixed ranks.
func session(bs: Int, slots: Int) throws -> Session {
    var lines = ["slots \(slots)"]
    for i in 0..<slots { lines.append("adapter a\(i) rank=\([8, 16, 32, 64][i % 4])") }
    for i in 0..<bs { lines.append("seq a\((i * 7) % slots)") }
    var s = Session()
    for step in try Scenario.parse(lines.joined(separator: "\n"), file: "<bench>").steps { try s.apply(step) }
    return s
}

func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }

// First frame: the default batch, parsed and applied, planned, rendered.
var firstFrameText = ""
let firstFrame = try seconds {
    let state = AppState(session: try AppState.defaultSession(), width: 200, height: 60, glyphs: .unicode)
    firstFrameText = Screen.render(state).text
}
print("first frame (default batch, 200x60): \(String(format: "%.2f", firstFrame * 1000)) ms in-process, "
      + "\(String(format: "%.1f", Date().timeIntervalSince(processStart) * 1000)) ms since process start")

for (bs, slots) in [(512, 64), (4096, 512)] {
    let s = try session(bs: bs, slots: slots)
    var planSeconds = 0.0
    var state: AppState!
    planSeconds = seconds { state = AppState(session: s, width: 200, height: 60, glyphs: .unicode) }
    // The GPU estimate of both routings, which the plans carry: closed forms over the segments.
    let plans = state.plans
    var estimateSamples: [Double] = []
    for _ in 0..<200 {
        estimateSamples.append(seconds { _ = s.gpu.compare(perSequence: plans.perSequence, sorted: plans.sorted) })
    }
    print("bs \(bs) x mlpb \(slots): GPU estimate of both routings \(String(format: "%.1f", median(estimateSamples) * 1e6)) µs "
          + "(median of 200; computed once per change, with the plans)")
    for (w, h) in [(120, 40), (200, 60)] {
        state.width = w
        state.height = h
        var samples: [Double] = []
        var chars = 0
        for _ in 0..<5 { chars = Screen.render(state).text.count }  // warm-up
        for _ in 0..<50 { samples.append(seconds { chars = Screen.render(state).text.count }) }
        print("bs \(bs) x mlpb \(slots) at \(w)x\(h): median frame \(String(format: "%.3f", median(samples) * 1000)) ms "
              + "(min \(String(format: "%.3f", samples.min()! * 1000)), max \(String(format: "%.3f", samples.max()! * 1000)); "
              + "\(chars) chars); plans \(String(format: "%.2f", planSeconds * 1000)) ms once per change")
    }
}
