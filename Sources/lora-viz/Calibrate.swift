import ArgumentParser
import Foundation
import LoRAKernels

/// `lora-viz calibrate RESULTS.json… -o PROFILE.json`: a profile fitted to your own GPU's results.
struct Calibrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Fit a GPU profile's constants to gpu-bench results files; write it for `gpu PROFILE.json`.",
        discussion: """
            Reads results files written by the gpu-bench script (one batch each, every \
            strategy measured on it), prices each measured launch with the base profile \
            and fits the launch floor and the program costs of every kernel the files \
            measure (Levenberg–Marquardt over the log error of each launch, with a weak \
            prior holding costs the points do not determine at the base's values; SM \
            count from the files). It reports the error on held-out points: a third of \
            each file's launches (rotating with the file) is left out, the fit sees the rest, and the held-out launches are \
            scored before and after; the profile written is then fitted on every launch. \
            Use it with `gpu PROFILE.json` in a command file or the TUI's `:` prompt.

            Exit status: 0 written, 2 bad input (a bad results file, nothing measured).
            """)

    @Argument(help: ArgumentHelp("Results files of lora_viz_gpu_bench.py (gpu-results.json).", valueName: "results"))
    var files: [String]

    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("The profile file to write.", valueName: "profile"))
    var output: String

    @Option(help: ArgumentHelp("The profile to start from: \(GPUProfile.names.joined(separator: ", ")).", valueName: "name"))
    var base = "h200"

    @Option(help: ArgumentHelp("The name shown beside its estimates (default: the GPU's name in the files).", valueName: "text"))
    var name: String?

    @Flag(help: "Overwrite the profile file if it exists.")
    var force = false

    func run() throws {
        func fail(_ message: String) -> ExitCode {
            FileHandle.standardError.write(Data("error: \(message)\n".utf8))
            return ExitCode(2)
        }
        guard var start = GPUProfile.named(base) else {
            throw fail("--base: unknown GPU '\(base)' (GPUs: \(GPUProfile.names.joined(separator: ", ")))")
        }
        // Checked before anything is fitted: only a regular file is replaced, and only with --force.
        let target: AtomicFile.Destination
        do {
            target = try AtomicFile.check(output, force: force)
            // Never one of the measurements being fitted (--force replaced it with the profile).
            for file in files {
                _ = try AtomicFile.check(output, force: true, protected: file, protectedName: "one of the results files read")
            }
        } catch let e as FileWriteError {
            throw fail(e.needsForce ? "\(output) exists; --force overwrites it" : "-o \(output): \(e.message)")
        }
        let results: [GPUBenchResults]
        let points: [GPUBenchCalibration.Point]
        do {
            results = try files.map { try GPUBenchResults.load(path: $0) }
            points = try GPUBenchCalibration.points(results)
        } catch let e as GPUBenchError {
            throw fail(e.message)
        }
        let gpus = Set(results.map(\.gpu)), sms = Set(results.map(\.sms))
        guard gpus.count == 1, sms.count == 1 else {
            throw fail("the files were measured on different GPUs (\(gpus.sorted().joined(separator: ", "))): calibrate one GPU at a time")
        }
        guard points.count >= 2 else { throw fail("only \(points.count) measured launch: nothing to fit") }
        start.smCount = sms.first!
        let gpuName = gpus.first!
        start.displayName = name ?? (gpuName.hasPrefix("NVIDIA ") ? String(gpuName.dropFirst(7)) : gpuName)
        start.calibrated = true
        let split = GPUBenchCalibration.split(points)
        print("\(points.count) measured launches in \(results.count) files on \(gpuName) (\(sms.first!) SMs); base profile \(base)")
        print("base \(base):                \(GPUBenchCalibration.Errors(start, points))")
        print("                           \(GPUBenchCalibration.SpeedupErrors(start, points))")
        if !split.heldOut.isEmpty {
            let trained = GPUBenchCalibration.fit(start, to: split.train)
            print("held out (a third of each file's launches, \(split.heldOut.count)):")
            print("  before (base):          \(GPUBenchCalibration.Errors(start, split.heldOut))")
            print("                          \(GPUBenchCalibration.SpeedupErrors(start, points, only: split.heldOut))")
            print("  fitted on the other \(split.train.count): \(GPUBenchCalibration.Errors(trained, split.heldOut))")
            print("                          \(GPUBenchCalibration.SpeedupErrors(trained, points, only: split.heldOut))")
        }
        var fitted = GPUBenchCalibration.fit(start, to: points)
        fitted.source = "fitted by lora-viz calibrate from \(base) on \(points.count) launches measured on \(gpuName) ("
            + files.map { ($0 as NSString).lastPathComponent }.joined(separator: ", ") + ")"
        print("fitted on all \(points.count):        \(GPUBenchCalibration.Errors(fitted, points))")
        for p in points {
            let e = p.estimate(fitted)
            func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
            print("  " + pad(p.strategy.name, 13) + pad(p.kernel.name, 15)
                + String(format: "measured %8.2f µs  est. %8.2f µs  %+6.1f%%  ", p.measuredUs, e, (e / p.measuredUs - 1) * 100)
                + (p.file as NSString).lastPathComponent)
        }
        do {
            try AtomicFile.write(fitted.fileData(), to: target)
        } catch {
            throw fail("cannot write \(output): \(error)")
        }
        print("wrote \(output): use it with `gpu \(output)`")
    }
}
