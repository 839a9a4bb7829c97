import Foundation
import LoRAKernels
@testable import LoRAScenario
import LoRAModels
import LoRAVizTestSupport
import XCTest

/// Issue 14 items 6, 11 and 15 through the built binary: every writer uses the
/// atomic write, `--dump` is checked, staged and sized, flags say what is wrong.
final class ReliabilityCLITests: TemporaryDirectoryTestCase {
    let small = """
        slots 4
        dims hidden=256 out=512 q=256 kv=64 ffn=256 rank=16
        adapter a rank=16
        seq a count=5
        run reps=1

        """

    func testTheDumpRefusesANonEmptyFolderAndReplacesItWholeWithForce() throws {
        try write("small.lora", small)
        try FileManager.default.createDirectory(atPath: path("dump/run-7"), withIntermediateDirectories: true)
        try write("dump/run-7/stale.npy", "old")
        let refused = try LoRAVizBinary.run(["run", "small.lora", "--dump", "dump"], in: directory)
        XCTAssertEqual(refused.status, 2, refused.err)
        XCTAssertEqual(refused.err, "error: --dump dump: dump is not empty (1 entry); --force replaces it\n")
        XCTAssertEqual(refused.out, "", "refused before any kernel ran")
        let forced = try LoRAVizBinary.run(["run", "small.lora", "--dump", "dump", "--force"], in: directory)
        XCTAssertEqual(forced.status, 0, forced.err)
        XCTAssertTrue(FileManager.default.fileExists(atPath: path("dump/manifest.json")))
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("dump/run-7")), "no stale run folder beside the new manifest")
        let left = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        XCTAssertEqual(left, ["dump", "small.lora"], "no staging folder left")
        // An empty folder is fine without --force; a file, a missing parent and an empty name are refused.
        try FileManager.default.createDirectory(atPath: path("empty"), withIntermediateDirectories: false)
        XCTAssertEqual(try LoRAVizBinary.run(["run", "small.lora", "--dump", "empty"], in: directory).status, 0)
        for (target, why) in [("small.lora", "small.lora exists and is not a folder"),
                              ("no/such", "the folder no that would hold no/such does not exist"),
                              ("", "an empty folder name")] {
            let r = try LoRAVizBinary.run(["run", "small.lora", "--dump", target], in: directory)
            XCTAssertEqual(r.status, 2, target)
            XCTAssertEqual(r.err, "error: --dump \(target): \(why)\n")
        }
    }

    /// --force replaces an earlier dump or output, never what the run reads: `run x/s.lora --dump x --force`
    /// deleted x/s.lora and everything beside it, `sweep t.lora -o t.lora --force` overwrote its template.
    func testForceNeverReplacesAnInputOrTheWorkingFolder() throws {
        try FileManager.default.createDirectory(atPath: path("x"), withIntermediateDirectories: false)
        try write("x/s.lora", small)
        try write("x/notes.txt", "precious")
        let dump = try LoRAVizBinary.run(["run", "x/s.lora", "--dump", "x", "--force"], in: directory)
        XCTAssertEqual(dump.status, 2, dump.err)
        XCTAssertEqual(dump.err, "error: --dump x: x holds x/s.lora; it is never replaced, --force or not\n")
        XCTAssertEqual(dump.out, "", "refused before any kernel ran")
        let here = try LoRAVizBinary.run(["run", "x/s.lora", "--dump", ".", "--force"], in: directory)
        XCTAssertEqual(here.status, 2, here.err)
        XCTAssertEqual(here.err, "error: --dump .: . holds the working folder; it is never replaced, --force or not\n")
        let bench = try LoRAVizBinary.run(["gpu-bench", "x/s.lora", "-o", "x", "--force"], in: directory)
        XCTAssertEqual(bench.status, 2, bench.err)
        XCTAssertTrue(bench.err.contains("x holds x/s.lora; it is never replaced"), bench.err)
        XCTAssertEqual(try String(contentsOfFile: path("x/notes.txt"), encoding: .utf8), "precious")
        XCTAssertEqual(try String(contentsOfFile: path("x/s.lora"), encoding: .utf8), small)

        try write("t.lora", small)
        let sweep = try LoRAVizBinary.run(["sweep", "t.lora", "--bs", "1,2", "-o", "t.lora", "--force"], in: directory)
        XCTAssertEqual(sweep.status, 2, sweep.err)
        XCTAssertEqual(sweep.err, "error: -o t.lora: it is the command file being swept\n")
        XCTAssertEqual(try String(contentsOfFile: path("t.lora"), encoding: .utf8), small)
        try write("r.json", "{}")
        let calibrate = try LoRAVizBinary.run(["calibrate", "r.json", "-o", "r.json", "--force"], in: directory)
        XCTAssertEqual(calibrate.status, 2, calibrate.err)
        XCTAssertEqual(calibrate.err, "error: -o r.json: it is one of the results files read\n")
        XCTAssertEqual(try String(contentsOfFile: path("r.json"), encoding: .utf8), "{}")
    }

    func testABigDumpIsSizedUpFrontAndRefusedAboveTheLimit() throws {
        // Small in memory (one adapter's weights), 8 GiB on disk: the dump writes every slot's canonical weights.
        try write("big.lora", "slots 512\ndims out=65536 rank=64\nadapter a rank=64\nseq a\nrun reps=1\n")
        var session = Session()
        for step in try Scenario.parse("slots 512\ndims out=65536 rank=64\nadapter a rank=64\nseq a\n", file: "b").steps {
            _ = try session.apply(step)
        }
        let bytes = session.workload.dumpBytes(strategies: 2)
        XCTAssertGreaterThan(bytes, DumpFolder.sizeLimit)
        let r = try LoRAVizBinary.run(["run", "big.lora", "--dump", "dump"], in: directory)
        XCTAssertEqual(r.status, 2, r.err)
        XCTAssertEqual(r.err, "error: --dump dump: the dump would take about \(Session.formatBytes(bytes)) (1 run), above the limit of 4 GiB; --force writes it anyway\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("dump")))
    }

    func testThreadsFlagsSayWhatIsWrong() throws {
        try write("small.lora", small)
        let negative = try LoRAVizBinary.run(["run", "small.lora", "--threads", "-1"], in: directory)
        XCTAssertEqual(negative.status, 2, negative.err)
        XCTAssertTrue(negative.err.contains("--threads must be at least 1, got -1"), negative.err)
        XCTAssertFalse(negative.err.contains("Missing value"), negative.err)
        let many = try LoRAVizBinary.run(["run", "small.lora", "--threads", "1000", "--format", "json"], in: directory)
        XCTAssertEqual(many.status, 0, many.err)
        let cores = KernelRunOptions.coreCount
        if cores < 1000 {
            XCTAssertTrue(many.err.contains("note: --threads 1000 is more than the \(cores) core"), many.err)
            XCTAssertTrue(many.out.contains("\"threads\":\(cores)"), many.out)
        }
    }

    func testAtomicFileRefusesNonRegularTargetsAndLeavesNoTempFile() throws {
        XCTAssertEqual(mkfifo(path("fifo"), 0o600), 0)
        XCTAssertThrowsError(try AtomicFile.write(Array("x".utf8), to: path("fifo"), force: true)) {
            XCTAssertTrue("\($0)".contains("a FIFO (named pipe), not a regular file"), "\($0)")
        }
        try write("mine", "old")
        XCTAssertEqual(chmod(path("mine"), 0o600), 0)
        try AtomicFile.write(Array("new".utf8), to: path("mine"), force: true)
        var info = stat()
        XCTAssertEqual(stat(path("mine"), &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o600)
        XCTAssertEqual(try String(contentsOfFile: path("mine"), encoding: .utf8), "new")
        // A folder that vanished: the failure leaves nothing behind.
        XCTAssertThrowsError(try AtomicFile.write(Array("x".utf8), to: path("gone/f"), force: true)) {
            XCTAssertTrue("\($0)".contains("does not exist"), "\($0)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted(), ["fifo", "mine"])
    }

    func testCalibrateAndSweepRefuseAFIFOTarget() throws {
        XCTAssertEqual(mkfifo(path("fifo"), 0o600), 0)
        try write("small.lora", small)
        let sweep = try LoRAVizBinary.run(["sweep", "small.lora", "--bs", "1", "-o", "fifo", "--force"], in: directory)
        XCTAssertEqual(sweep.status, 2, sweep.err)
        XCTAssertTrue(sweep.err.contains("error: -o fifo: it is a FIFO (named pipe), not a regular file"), sweep.err)
        let calibrate = try LoRAVizBinary.run(["calibrate", "x.json", "-o", "fifo", "--force"], in: directory)
        XCTAssertEqual(calibrate.status, 2, calibrate.err)
        XCTAssertTrue(calibrate.err.contains("-o fifo: it is a FIFO (named pipe), not a regular file"), calibrate.err)
        var info = stat()
        XCTAssertEqual(lstat(path("fifo"), &info), 0)
        XCTAssertEqual(info.st_mode & S_IFMT, S_IFIFO, "left as it was")
    }

    /// A symlink loop is a loop, not "no such file", for every reader (issue 14 item 15).
    func testASymlinkLoopIsNamedAsOne() throws {
        try FileManager.default.createSymbolicLink(atPath: path("loop"), withDestinationPath: "loop")
        XCTAssertEqual(FileProblem.missing(path("loop")), "a symlink loop")
        try FileManager.default.createSymbolicLink(atPath: path("dangling"), withDestinationPath: "nowhere")
        XCTAssertEqual(FileProblem.missing(path("dangling")), "a dangling symlink (its target does not exist)")
        XCTAssertEqual(FileProblem.missing(path("nothing")), "no such file or folder")
        XCTAssertThrowsError(try GPUBenchResults.load(path: path("loop"))) {
            XCTAssertEqual("\($0)", "\(path("loop")): a symlink loop")
        }
        try write("small.lora", small)
        let run = try LoRAVizBinary.run(["run", "loop"], in: directory)
        XCTAssertEqual(run.status, 2)
        XCTAssertEqual(run.err, "loop: error: a symlink loop\n")
        let results = try LoRAVizBinary.run(["run", "small.lora", "--gpu-results", "loop"], in: directory)
        XCTAssertEqual(results.status, 2)
        XCTAssertTrue(results.err.contains("loop: a symlink loop"), results.err)
        let model = try LoRAVizBinary.run(["run", "-"], in: directory, input: "model loop\n")
        XCTAssertEqual(model.status, 2)
        XCTAssertTrue(model.err.contains("loop: a symlink loop"), model.err)
        // Foundation's "The operation could not be completed" is never what a user reads.
        XCTAssertFalse(model.err.contains("could not be completed"), model.err)
    }

    /// gpu-bench -o: the same folder rules as --dump, and batch.json and the script through the atomic writer.
    func testGPUBenchExportIsStagedAndRefusesANonEmptyFolder() throws {
        try write("small.lora", small)
        try FileManager.default.createDirectory(atPath: path("out/run-3"), withIntermediateDirectories: true)
        let refused = try LoRAVizBinary.run(["gpu-bench", "small.lora", "-o", "out"], in: directory)
        XCTAssertEqual(refused.status, 2, refused.err)
        XCTAssertEqual(refused.err, "error: gpu-bench -o out: out is not empty (1 entry); --force replaces it\n")
        let forced = try LoRAVizBinary.run(["gpu-bench", "small.lora", "-o", "out", "--force"], in: directory)
        XCTAssertEqual(forced.status, 0, forced.err)
        let files = try FileManager.default.contentsOfDirectory(atPath: path("out")).sorted()
        XCTAssertTrue(files.contains("batch.json") && files.contains("manifest.json") && files.contains("lora_viz_gpu_bench.py"), "\(files)")
        XCTAssertFalse(files.contains("run-3"))
        XCTAssertFalse(files.contains { $0.hasSuffix(".tmp") }, "\(files)")
        var info = stat()
        XCTAssertEqual(stat(path("out/lora_viz_gpu_bench.py"), &info), 0)
        XCTAssertNotEqual(info.st_mode & 0o100, 0, "the script is executable")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted(), ["out", "small.lora"])
    }

    /// A signal during an atomic write removes the temporary file and then does what it did
    /// before (here: ignored, so the test lives on); the previous action is back afterwards.
    func testASignalDuringTheWriteRemovesTheTemporaryFile() throws {
        let temporary = path(".x.tmp")
        try write(".x.tmp", "partial")
        let previous = signal(SIGTERM, SIG_IGN)
        defer { signal(SIGTERM, previous) }
        let token = SignalCleanup.begin(temporary)
        raise(SIGTERM)
        XCTAssertFalse(FileManager.default.fileExists(atPath: temporary), "removed by the handler")
        SignalCleanup.end(token)
        var action = sigaction()
        sigaction(SIGTERM, nil, &action)
        XCTAssertEqual(unsafeBitCast(action.__sigaction_handler.sa_handler, to: Int.self), unsafeBitCast(SIG_IGN, to: Int.self),
                       "the previous action is back")
    }

    /// Strings read from model files never carry control or bidi characters to the terminal.
    func testStringsFromModelFilesAreMadeVisible() throws {
        try FileManager.default.createDirectory(atPath: path("m"), withIntermediateDirectories: false)
        try write("m/config.json", #"{"model_type": "llama\u009b31m\u202e", "hidden_size": 64, "intermediate_size": 128, "num_attention_heads": 4, "num_hidden_layers": 2}"#)
        let config = try ModelConfig.load(path: path("m"))
        XCTAssertEqual(config.modelType, "llama<U+009B>31m<U+202E>")
        XCTAssertEqual(TerminalText.visible("a\u{9B}b"), "a<U+009B>b")
    }

    /// SIGINT during a run with --dump stops the kernels and removes the staged folder: no half dump.
    func testAnInterruptedDumpLeavesNothingBehind() throws {
        try write("long.lora", "adapter a rank=64\nseq a count=4000\nrun reps=400\n")
        let process = Process()
        process.executableURL = try LoRAVizBinary.url()
        process.arguments = ["run", "long.lora", "--dump", "dump"]
        process.currentDirectoryURL = directory
        process.standardOutput = FileHandle.nullDevice
        let err = Pipe()
        process.standardError = err
        try process.run()
        Thread.sleep(forTimeInterval: 1.5)
        let staged = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix(".dump.") }
        process.interrupt()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 130 else {
            // The run finished before the signal on a fast machine: nothing to check.
            XCTAssertEqual(process.terminationStatus, 0, message)
            return
        }
        XCTAssertEqual(staged.count, 1, "the dump was being staged beside its folder")
        XCTAssertTrue(message.contains("interrupted: --dump dump was not written"), message)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["long.lora"])
    }
}
