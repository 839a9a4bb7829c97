// swift-tools-version:6.0
import PackageDescription

/// A portable build (`LORAVIZ_PORTABLE=1 swift build -c release`) targets the
/// baseline of its architecture (x86-64: SSE2), so its binary runs on any CPU
/// of that architecture, its fp32 and fp16 kernels many times slower (no FMA:
/// `bench --quick`, fp16 0.3 against 42 GFLOP/s); the default targets the build
/// machine's own CPU.
let portable = Context.environment["LORAVIZ_PORTABLE"] == "1"

/// Release builds vectorize for the CPU they are built on (AVX2/AVX-512, F16C):
/// the default x86-64 target emits SSE2 only and runs the kernels 5× slower.
/// Such a binary may stop with SIGILL on a CPU without those instructions
/// (README, "Building for another CPU"); `LORAVIZ_PORTABLE=1` leaves them out.
/// The bf16 microkernels are chosen at run time either way (`MachineProbe`).
let nativeCPU: [SwiftSetting] = portable ? [] : [
    .unsafeFlags(["-target-cpu", "native"], .when(configuration: .release)),
    // Lets the benchmark say which ISA the build targets.
    .define("LORAVIZ_NATIVE_CPU", .when(configuration: .release)),
]

/// The kernels are optimised in debug builds too, for this CPU: unoptimised
/// generic SIMD code runs ~100× slower, which would make every test or debug
/// session that runs a batch crawl (a bs 512 scenario took minutes), and the
/// SSE2-only default target another 2× (demo 08's headless replay: 9.9 s of
/// CPU against 4.8 s with `-target-cpu native`). Tests build and run on one
/// machine, so the native target is always the CPU that runs them (without
/// it under `LORAVIZ_PORTABLE=1`).
let optimisedInDebug: [SwiftSetting] = [
    .unsafeFlags(["-O"] + (portable ? [] : ["-target-cpu", "native"]), .when(configuration: .debug)),
]

let package = Package(
    name: "lora-viz",
    // Linux only, so no `platforms`: the sources import Glibc, read
    // /proc/cpuinfo and link the system's ncurses (README).
    products: [
        .executable(name: "lora-viz", targets: ["lora-viz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // The bf16 microkernels on AVX512_BF16 (VDPBF16PS), optimised in debug
        // builds too, as the Swift kernels (their peak probe at -O0 took seconds).
        .target(name: "CLoRAKernels", cSettings: [.unsafeFlags(["-O2"], .when(configuration: .debug))]),
        .target(
            name: "LoRAKernels",
            dependencies: ["CLoRAKernels"],
            swiftSettings: nativeCPU + optimisedInDebug
        ),
        .target(
            name: "LoRAScenario",
            dependencies: ["LoRAKernels", "LoRAModels"],
            swiftSettings: optimisedInDebug
        ),
        .target(name: "LoRAModels", dependencies: ["LoRAKernels"], swiftSettings: optimisedInDebug),
        .systemLibrary(
            name: "CNcurses",
            providers: [.apt(["libncurses-dev"])]
        ),
        .target(
            name: "LoRAVizUI",
            dependencies: ["LoRAKernels", "LoRAScenario"],
            swiftSettings: optimisedInDebug
        ),
        .executableTarget(
            name: "lora-viz",
            dependencies: [
                "LoRAKernels", "LoRAScenario", "LoRAVizUI", "CNcurses",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: nativeCPU
        ),
        // The render benchmark (README, "Performance"): a target, not a
        // product; `swift build -c release --product lora-viz-render-bench`
        // builds it, as SwiftPM gives a root package's executable targets
        // products of their own.
        .executableTarget(
            name: "lora-viz-render-bench",
            dependencies: ["LoRAKernels", "LoRAScenario", "LoRAVizUI"],
            swiftSettings: nativeCPU
        ),
        .testTarget(
            name: "LoRAKernelsTests",
            dependencies: ["LoRAKernels"],
            // Its sweeps check every program and output cell of thousands of
            // random launches in loops of their own.
            swiftSettings: optimisedInDebug
        ),
        .testTarget(name: "LoRAModelsTests", dependencies: ["LoRAModels", "LoRAKernels"], swiftSettings: optimisedInDebug),
        // What every test target shares: golden files, a temporary folder per
        // test, the built binary and a way to run it.
        .target(name: "LoRAVizTestSupport", path: "Tests/LoRAVizTestSupport"),
        .testTarget(
            name: "LoRAScenarioTests",
            dependencies: ["LoRAScenario", "LoRAKernels", "LoRAVizTestSupport"],
            exclude: ["Golden"],
            swiftSettings: optimisedInDebug
        ),
        .testTarget(
            name: "LoRAVizUITests",
            dependencies: ["LoRAVizUI", "LoRAKernels", "LoRAScenario", "LoRAVizTestSupport"],
            exclude: ["__Snapshots__"],
            swiftSettings: optimisedInDebug
        ),
        // The built binary, run as a user runs it: the CLI's files, flags and
        // exit statuses, the corpus of bad scenarios, and the TUI in tmux.
        .testTarget(
            name: "LoRAVizCLITests",
            dependencies: ["LoRAScenario", "LoRAKernels", "LoRAModels", "LoRAVizTestSupport"],
            exclude: ["Corpus"],
            swiftSettings: optimisedInDebug
        ),
    ],
    swiftLanguageModes: [.v6]
)

// The libFuzzer targets (Fuzz/README.md), built from this package so they
// cannot drift from it: one binary, `lora-viz-fuzzer`, whose name picks the
// target (Fuzz/build.sh links parser-fuzzer, keys-fuzzer, … to it):
//     LORAVIZ_FUZZ=1 swift build --product lora-viz-fuzzer --scratch-path .build-fuzz
// Every module of the project is instrumented for coverage and AddressSanitizer
// (the kernels too: the replay and session targets reach them, and the GPU file
// readers live there); the replay target keeps its batches tiny, so ASan's cost
// on the SIMD loops does not matter. Only with LORAVIZ_FUZZ=1: a normal build
// has no libFuzzer to link against.
if Context.environment["LORAVIZ_FUZZ"] == "1" {
    let fuzz: [String] = ["-sanitize=fuzzer,address"]
    let instrumented: Set<String> = ["LoRAKernels", "LoRAModels", "LoRAScenario", "LoRAVizUI"]
    for target in package.targets where instrumented.contains(target.name) {
        target.swiftSettings = (target.swiftSettings ?? []) + [.unsafeFlags(fuzz + ["-enable-testing"])]
    }
    package.products.append(.executable(name: "lora-viz-fuzzer", targets: ["lora-viz-fuzzer"]))
    package.targets.append(.executableTarget(
        name: "lora-viz-fuzzer",
        dependencies: ["LoRAScenario", "LoRAKernels", "LoRAModels", "LoRAVizUI"],
        path: "Fuzz",
        exclude: ["README.md", "build.sh", "smoke", "lora.dict"],
        swiftSettings: [.unsafeFlags(fuzz + ["-parse-as-library"])],
        linkerSettings: [.unsafeFlags(fuzz)]
    ))
}
