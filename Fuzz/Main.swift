// The libFuzzer entry point of every lora-viz fuzz target: see Fuzz/README.md.
import Foundation

/// One fuzz target: a name (`parser` runs as `.build-fuzz/parser-fuzzer`)
/// and the function libFuzzer calls with each input.
struct FuzzTarget: Sendable {
    var name: String
    var summary: String
    var run: @Sendable (Data) -> Void
}

/// Every target, in the order `Fuzz/build.sh` links them and CI's smoke runs them.
let fuzzTargets: [FuzzTarget] = [
    FuzzTarget(name: "parser", summary: "a scenario file: parse, print, reparse, apply", run: fuzzParser),
    FuzzTarget(name: "session", summary: "lines applied one by one to a Session", run: fuzzSession),
    FuzzTarget(name: "keys", summary: "key streams and raw terminal bytes into the TUI's AppState", run: fuzzKeys),
    FuzzTarget(name: "replay", summary: "headless replay of a scenario with tiny kernels", run: fuzzReplay),
    FuzzTarget(name: "safetensors", summary: "a .safetensors file, read as a PEFT adapter's weights", run: fuzzSafetensors),
    FuzzTarget(name: "model-config", summary: "a Hugging Face config.json", run: fuzzModelConfig),
    FuzzTarget(name: "adapter-config", summary: "a PEFT adapter_config.json", run: fuzzAdapterConfig),
    FuzzTarget(name: "gpu-results", summary: "gpu-bench results, gpu-fit records and calibrate profiles", run: fuzzGPUResults),
]

/// A property a target checks broke: stop with the input saved (libFuzzer's
/// deadly-signal handler writes `crash-<hash>`).
func violated(_ message: @autoclosure () -> String, file: StaticString = #fileID, line: UInt = #line) -> Never {
    fatalError(message(), file: file, line: line)
}

/// `nonisolated(unsafe)`: libFuzzer's C callback, which takes no context, reads
/// it; it is set once, before the driver starts calling.
nonisolated(unsafe) var selectedTarget: FuzzTarget!

/// libFuzzer's callback, also the symbol its archive's own `main` needs to link.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    selectedTarget.run(bytes.map { Data(bytes: $0, count: count) } ?? Data())
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<Int32>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

/// SwiftPM links an executable target's `main` to `<module>_main`
/// (`--defsym`), so libFuzzer's own `main` is not used: this one picks the
/// target by the program's name (`keys-fuzzer`, a link `Fuzz/build.sh`
/// makes) or `LORAVIZ_FUZZ_TARGET`, then starts libFuzzer's driver with the
/// same arguments (so `-fork`/`-jobs`, which run argv[0] again, stay on the target).
@_cdecl("lora_viz_fuzzer_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    let program = argv?[0].map { String(cString: $0) } ?? ""
    let base = (program as NSString).lastPathComponent
    let name = ProcessInfo.processInfo.environment["LORAVIZ_FUZZ_TARGET"]
        ?? (base.hasSuffix("-fuzzer") ? String(base.dropLast("-fuzzer".count)) : base)
    guard let target = fuzzTargets.first(where: { $0.name == name }) else {
        let list = fuzzTargets.map { "  \($0.name)-fuzzer  \($0.summary)" }.joined(separator: "\n")
        FileHandle.standardError.write(Data("""
            lora-viz-fuzzer: no target named '\(name)'; run it through a link named TARGET-fuzzer \
            (Fuzz/build.sh makes them in .build-fuzz/) or set LORAVIZ_FUZZ_TARGET. Targets:
            \(list)

            """.utf8))
        return 2
    }
    selectedTarget = target
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { fuzzOneInput($0, $1) }
}
