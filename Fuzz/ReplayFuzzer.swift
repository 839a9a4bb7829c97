// The headless replay target: see Fuzz/README.md.
import Foundation
import LoRAKernels
@testable import LoRAScenario
import LoRAVizUI

/// A batch above this is skipped, not run: 2²² multiply-adds (kernels plus
/// the fp64 reference) and 4 MiB of tensors keep one input to milliseconds
/// under AddressSanitizer, so the fuzzer explores files rather than FLOPs.
let replayMACBudget = 1 << 22
let replayTensorBudget = 4 << 20

/// The input's batch is over the budget: not a finding.
struct OverBudget: Error {}

/// An empty folder the replay's `output` and `record` write into, made
/// once (not the working directory: libFuzzer's corpus and artifact paths
/// are relative to that).
let replaySandbox: String = {
    var template = Array((NSTemporaryDirectory() + "/lora-viz-fuzz-XXXXXX").utf8CString)
    guard let made = mkdtemp(&template) else { violated("cannot make the replay sandbox") }
    return String(cString: made)
}()

/// A scenario played headless with the real kernels on tiny batches (larger
/// ones are skipped) and the UI's screen renderer: `play` either finishes or
/// throws a `ScenarioError` located in the file (a kernel that refuses a
/// batch after `validate` passed it is a finding: the run would be thrown
/// away late); a finished replay ran exactly `plannedRuns()` (what `--dump`
/// and the work estimate count), evaluated every `expect` once, wrote every
/// `output` it says it wrote, and exits 1 exactly when an expect failed. No
/// temporary file is left behind either way. Files are written only in a
/// sandbox folder: a bare name is written there, an input naming a path
/// with a `/` is skipped.
func fuzzReplay(_ data: Data) {
    guard var scenario = try? Scenario.load(data: data, file: "fuzz.lora") else { return }
    var expects = 0
    for (i, step) in scenario.steps.enumerated() {
        switch step.command {
        case let .output(path, force):
            if path.contains("/") || path == "." || path == ".." { return }
            scenario.steps[i].command = .output(path: replaySandbox + "/" + path, force: force)
        case let .record(path, force):
            if path.contains("/") || path == "." || path == ".." { return }
            scenario.steps[i].command = .record(path: replaySandbox + "/" + path, force: force)
        case .expect: expects += 1
        default: break
        }
    }
    defer { emptySandbox() }
    func withinBudget(_ w: Workload, _ options: KernelRunOptions) throws {
        let macs = options.strategies.reduce(0) {
            $0 + LaunchPlan(workload: w, strategy: $1, options: options.strategyOptions).usefulMACs
        } + ReferenceSample.macs(w)
        if macs > replayMACBudget || w.dumpBytes(strategies: options.strategies.count) > replayTensorBudget { throw OverBudget() }
    }
    var replay = HeadlessReplay(
        execute: { w, options, _ in
            try withinBudget(w, options)
            var options = options
            options.threads = 1
            options.reps = 1
            return try KernelRunner.run(w, options: options)
        },
        renderScreen: { session, width, height in Screen.renderText(session: session, width: width, height: height) })
    replay.executeLayerLaunch = { w, options in
        try withinBudget(w, options)
        var options = options
        options.threads = 1
        options.reps = 1
        return try KernelRunner.run(w, options: options)
    }
    replay.standardOutput = { _ in }
    replay.standardError = { _ in }
    let summary: HeadlessReplay.Summary
    do {
        summary = try replay.play(scenario)
    } catch is OverBudget {
        checkNoTemporaryFiles()
        return
    } catch let error as ScenarioError {
        if error.location.file != "fuzz.lora" { violated("an error located in \(error.location.file): \(error)") }
        checkNoTemporaryFiles()
        return
    } catch {
        violated("replay threw \(type(of: error)), not a located ScenarioError: \(error)")
    }
    checkNoTemporaryFiles()
    let planned = (try? scenario.plannedRuns().count) ?? -1
    if summary.runs != planned { violated("\(summary.runs) runs, \(planned) planned") }
    if summary.expectationsHeld + summary.expectationFailures.count != expects {
        violated("\(expects) expects, \(summary.expectationsHeld) held and \(summary.expectationFailures.count) failed")
    }
    if (summary.exitCode == 1) != !summary.expectationFailures.isEmpty { violated("exit \(summary.exitCode)") }
    for path in summary.outputsWritten + summary.recordingsWritten {
        var info = stat()
        if stat(path, &info) != 0 || info.st_mode & S_IFMT != S_IFREG { violated("\(path) was said written but is not a file") }
    }
}

func sandboxEntries() -> [String] {
    (try? FileManager.default.contentsOfDirectory(atPath: replaySandbox)) ?? []
}

func checkNoTemporaryFiles() {
    if let left = sandboxEntries().first(where: { $0.hasSuffix(".tmp") }) { violated("a temporary file left behind: \(left)") }
}

func emptySandbox() {
    for name in sandboxEntries() { try? FileManager.default.removeItem(atPath: replaySandbox + "/" + name) }
}
