import Foundation
import LoRAKernels
import LoRAVizTestSupport
import Synchronization
import XCTest

/// Every file lora-viz reads besides the scenario (model and adapter configs,
/// adapter weights, GPU results, profiles, `gpu-fit` records) is a regular
/// file of bounded size or is refused at once, naming the path and what it
/// is (siblings of issue 14 items 3 and 4).
final class InputFileTests: TemporaryDirectoryTestCase {
    /// The binary in `directory`, killed after 20 s so a hang fails the test instead of stalling it.
    func runBounded(_ arguments: [String]) throws -> LoRAVizBinary.Outcome {
        try LoRAVizBinary.run(arguments, in: directory, timeout: 20)
    }

    func testFIFOsAndDevicesAreRefusedNotWaitedOn() throws {
        XCTAssertEqual(mkfifo(path("p"), 0o600), 0)
        // An adapter folder whose weights are a FIFO: the config is fine, the weights wait for a writer.
        try FileManager.default.createDirectory(atPath: path("ad"), withIntermediateDirectories: false)
        try write("ad/adapter_config.json", #"{"r": 8, "lora_alpha": 16, "target_modules": ["q_proj"]}"#)
        XCTAssertEqual(mkfifo(path("ad/adapter_model.safetensors"), 0o600), 0)
        let fifo = "is a FIFO (named pipe), not a regular file"
        let device = "is a character device, not a regular file"
        let scenarios: [(String, String)] = [
            ("model p", "p: \(fifo)"), ("model /dev/zero", "/dev/zero: \(device)"),
            ("adapter a from=p", "p: \(fifo)"), ("adapter a from=ad", "ad/adapter_model.safetensors: \(fifo)"),
            ("gpu ./p", "cannot read the GPU profile ./p: \(fifo)"), ("gpu-results p", "p: \(fifo)"),
            ("gpu-results /dev/zero", "/dev/zero: \(device)"),
        ]
        for (index, (line, why)) in scenarios.enumerated() {
            try write("s\(index).lora", line + "\n")
            let r = try runBounded(["run", "s\(index).lora"])
            XCTAssertEqual(r.status, 2, "\(line): \(r.err)")
            XCTAssertTrue(r.err.hasPrefix("s\(index).lora:1:"), "\(line): located: \(r.err)")
            XCTAssertTrue(r.err.contains(why), "\(line): \(r.err)")
        }
        try write("small.lora", "adapter a rank=4\nseq a\nrun\n")
        for arguments in [["run", "small.lora", "--gpu-results", "p"], ["gpu-fit", "p"], ["gpu-check", "/dev/zero"]] {
            let r = try runBounded(arguments)
            XCTAssertEqual(r.status, 2, "\(arguments): \(r.err)")
            XCTAssertTrue(r.err.contains(arguments.last! == "p" ? fifo : device), "\(arguments): \(r.err)")
        }
    }

    func testAnOverLargeJSONFileIsRefusedUnread() throws {
        // Sparse: 17 MiB on paper, nothing on disk; a config.json is a few KB.
        XCTAssertTrue(FileManager.default.createFile(atPath: path("config.json"), contents: nil))
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: path("config.json")))
        try handle.truncate(atOffset: 17 << 20)
        try handle.close()
        try write("big.lora", "model config.json\n")
        let r = try runBounded(["run", "big.lora"])
        XCTAssertEqual(r.status, 2, r.err)
        XCTAssertEqual(r.err, "big.lora:1:7: error: config.json: is over 16 MiB, too large for a JSON config\n")
        let fit = try runBounded(["gpu-fit", "config.json"])
        XCTAssertEqual(fit.status, 2, fit.err)
        XCTAssertEqual(fit.err, "error: config.json: is over 16 MiB, too large for a results file\n")
    }
}
