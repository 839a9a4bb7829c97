// The session target: see Fuzz/README.md.
import Foundation
import LoRAKernels
@testable import LoRAScenario

/// Each line of the input, parsed on its own and applied to one `Session`
/// (bad lines are skipped, as at the TUI's prompt): a failed command leaves
/// the whole state unchanged with its error at its line (`applyChecked`);
/// at the end the recording of the state (`stateSource`, what `record`
/// writes) replays on a fresh session to the same state, and the report's
/// JSON parses. (Checking the recording after every command was 10× slower:
/// the end state is where the commands' effects have piled up.)
func fuzzSession(_ data: Data) {
    guard let text = String(data: data, encoding: .utf8) else { return }
    var session = Session()
    var last = "(nothing)"
    for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).prefix(64).enumerated() {
        guard let scenario = try? Scenario.parse(String(line), file: "fuzz.lora") else { continue }
        for var step in scenario.steps {
            step.location.line = index + 1
            if applyChecked(step, to: &session) != nil { last = step.text }
        }
    }
    checkRecordingReplays(session, after: last)
    let json = session.report().json
    guard (try? JSONSerialization.jsonObject(with: Data(json.utf8))) != nil else {
        violated("the report's JSON does not parse: \(json.prefix(400))")
    }
}

/// A recording of `session` played on `Session()` gives the same state.
func checkRecordingReplays(_ session: Session, after line: String) {
    let source = session.stateSource
    var replayed = Session()
    do {
        for step in try Scenario.parse(source, file: "recording.lora").steps { try replayed.apply(step) }
    } catch {
        violated("the recording after `\(line)` does not replay: \(error)\n\(source)")
    }
    if SessionState(replayed) != SessionState(session) {
        violated("the recording after `\(line)` replays to another state:\n\(source)\n\(SessionState(session))\n\(SessionState(replayed))")
    }
}
