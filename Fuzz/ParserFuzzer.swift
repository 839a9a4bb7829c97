// libFuzzer target for the command language: see Fuzz/README.md.
import Foundation
import LoRAKernels
@testable import LoRAScenario

/// For every input: the file checks and the parser never crash; every
/// command that parses prints to a line that parses back to the same
/// command; applying it either succeeds or throws with the session unchanged.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let data = Data(bytes: bytes, count: count)
    // The loader's byte checks (NUL, invalid UTF-8) on the raw input.
    let isText = (try? Scenario.checkText(data, file: "fuzz")) != nil
    let source = String(decoding: data, as: UTF8.self)
    guard let scenario = try? Scenario.parse(source, file: "fuzz.lora") else { return 0 }
    if !isText, source.unicodeScalars.contains("\0") { fatalError("a NUL byte parsed") }
    var session = Session()
    for step in scenario.steps {
        let printed = step.command.description
        let reparsed: Command?
        do {
            reparsed = try Command.parse(printed)
        } catch {
            fatalError("printed command does not parse: \(printed) (from \(step.text)): \(error)")
        }
        if reparsed != step.command {
            fatalError("round trip changed the command: \(step.text) → \(printed) → \(String(describing: reparsed))")
        }
        let before = session.workload
        do {
            _ = try session.apply(step)
        } catch {
            if session.workload != before { fatalError("state changed on error: \(step.text)") }
        }
    }
    // The report and its JSON never crash on a reachable state.
    _ = session.report().json
    return 0
}

// MARK: Entry point under SwiftPM

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<Int32>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> CInt

/// SwiftPM links an executable target's `main` to `<module>_main`
/// (`--defsym`), so libFuzzer's own `main` is not used: this one starts its
/// driver with the same arguments. (`Fuzz/build.sh`, linked by hand, uses libFuzzer's `main`.)
@_cdecl("lora_viz_parser_fuzzer_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { fuzzOneInput($0, $1) }
}
