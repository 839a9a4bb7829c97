// The parser target: see Fuzz/README.md.
import Foundation
import LoRAKernels
@testable import LoRAScenario

/// A scenario file: the file checks and the parser never crash; every
/// command that parses prints to a line that parses back to the same
/// command; applying it either succeeds or throws a located error with the
/// session unchanged (`SessionState`); the report's JSON of any reachable
/// state can be written.
func fuzzParser(_ data: Data) {
    // The loader's byte checks (NUL, invalid UTF-8) on the raw input.
    let isText = (try? Scenario.checkText(data, file: "fuzz")) != nil
    let source = String(decoding: data, as: UTF8.self)
    guard let scenario = try? Scenario.parse(source, file: "fuzz.lora") else { return }
    if !isText, source.unicodeScalars.contains("\0") { violated("a NUL byte parsed") }
    var session = Session()
    for step in scenario.steps {
        let printed = step.command.description
        let reparsed: Command?
        do {
            reparsed = try Command.parse(printed)
        } catch {
            violated("printed command does not parse: \(printed) (from \(step.text)): \(error)")
        }
        if reparsed != step.command {
            violated("round trip changed the command: \(step.text) → \(printed) → \(String(describing: reparsed))")
        }
        applyChecked(step, to: &session)
    }
    // The report and its JSON never crash on a reachable state.
    _ = session.report().json
}

/// Everything a command can change in a `Session` that a user sees: a
/// failed command must leave all of it as it was.
struct SessionState: Equatable {
    var workload: Workload
    var source: String
    var title: String?
    var narration: String?
    var selection: ProgramSelection?
    var gpu: String
    var strategies: [Strategy]
    var options: StrategyOptions
    var model: ModelSource?
    var adapterFiles: [String: AdapterSource]
    var layerIndex: Int
    var showsLayer: Bool

    init(_ s: Session) {
        workload = s.workload
        source = s.stateSource
        title = s.title
        narration = s.narration
        selection = s.selection
        gpu = s.gpu.name
        strategies = s.strategies
        options = s.strategyOptions
        model = s.model
        adapterFiles = s.adapterFiles
        layerIndex = s.layerIndex
        showsLayer = s.showsLayer
    }
}

/// Applies a step; a failure must be a `ScenarioError` at the step's line
/// that leaves every part of the session as it was.
@discardableResult
func applyChecked(_ step: ScenarioStep, to session: inout Session) -> SessionEffect? {
    let before = SessionState(session)
    do {
        return try session.apply(step)
    } catch let error as ScenarioError {
        if error.location.file != step.location.file || error.location.line != step.location.line {
            violated("error at \(error.location), not at its line \(step.location): \(error)")
        }
        if SessionState(session) != before { violated("state changed on error: \(step.text): \(error)") }
        return nil
    } catch {
        violated("apply threw \(type(of: error)), not a located ScenarioError: \(error) (\(step.text))")
    }
}
