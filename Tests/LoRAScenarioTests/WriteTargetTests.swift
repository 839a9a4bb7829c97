import Foundation
import LoRAKernels
@testable import LoRAScenario
import LoRAVizTestSupport
import Synchronization
import XCTest

/// What `output` and `record` write (issue 14): only regular files, through
/// symlinks, atomically, keeping permissions, never the scenario being run;
/// and inputs that are not regular files.
final class WriteTargetTests: TemporaryDirectoryTestCase {
    let here = SourceLocation(file: "t.lora", line: 1, column: 1)

    func fileType(_ path: String) -> mode_t {
        var info = stat()
        XCTAssertEqual(lstat(path, &info), 0, path)
        return info.st_mode & S_IFMT
    }

    final class Ran: Sendable { let value = Mutex(false) }
    struct NoKernels: Error {}

    /// A replay whose kernels must not run, and which renders a one-line screen.
    func replay(ran: Ran = Ran()) -> HeadlessReplay {
        var r = HeadlessReplay(execute: { _, _, _ in ran.value.withLock { $0 = true }; throw NoKernels() },
                               renderScreen: { _, _, _ in "screen\n" })
        r.standardOutput = { (_: String) in }
        r.standardError = { (_: String) in }
        return r
    }

    func testNonRegularTargetsAreRefusedAndLeftAsTheyAre() throws {
        XCTAssertEqual(mkfifo(path("fifo"), 0o600), 0)
        try FileManager.default.createDirectory(atPath: path("dir"), withIntermediateDirectories: false)
        // A character device through a symlink: the test never aims at /dev/null itself.
        try FileManager.default.createSymbolicLink(atPath: path("null"), withDestinationPath: "/dev/null")
        let sock = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(sock) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let socketPath = path("sock")
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            let bytes = Array(socketPath.utf8.prefix(raw.count - 1))
            raw.copyBytes(from: bytes + [0])
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(sock, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        for (name, kind, type) in [("fifo", "a FIFO (named pipe)", S_IFIFO), ("dir", "a directory", S_IFDIR),
                                   ("null", "a character device", S_IFLNK), ("sock", "a socket", S_IFSOCK)] {
            if name == "sock", bound != 0 { continue }  // a path too long for a socket
            for force in [false, true] {
                XCTAssertThrowsError(try HeadlessReplay.write("x\n", to: path(name), force: force, at: here), name) {
                    let message = "\($0)"
                    XCTAssertTrue(message.hasPrefix("t.lora:1:1: error: cannot write \(path(name)): "), message)
                    XCTAssertTrue(message.contains(kind + ", not a regular file"), message)
                }
                XCTAssertEqual(fileType(path(name)), type, "\(name) is left as it was")
            }
        }
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: path("null")), "/dev/null")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: path(".")).filter { $0.hasSuffix(".tmp") }, [])
    }

    func testASymlinkIsFollowedToItsRegularFileAndADanglingOneRefused() throws {
        try "old\n".write(toFile: path("real.txt"), atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: path("link.txt"), withDestinationPath: "real.txt")
        try HeadlessReplay.write("new\n", to: path("link.txt"), force: true, at: here)
        XCTAssertEqual(fileType(path("link.txt")), S_IFLNK, "the link stays a link")
        XCTAssertEqual(try String(contentsOfFile: path("real.txt"), encoding: .utf8), "new\n")
        XCTAssertThrowsError(try HeadlessReplay.write("new\n", to: path("link.txt"), force: false, at: here)) {
            XCTAssertTrue("\($0)".contains("exists"), "\($0)")
        }
        try FileManager.default.createSymbolicLink(atPath: path("dangling.txt"), withDestinationPath: "missing.txt")
        XCTAssertThrowsError(try HeadlessReplay.write("x\n", to: path("dangling.txt"), force: true, at: here)) {
            XCTAssertTrue("\($0)".contains("cannot write \(path("dangling.txt")): it is a symlink to a missing file"), "\($0)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("missing.txt")))
        XCTAssertThrowsError(try HeadlessReplay.write("x\n", to: path("no/such/folder.txt"), force: true, at: here)) {
            XCTAssertTrue("\($0)".contains("does not exist"), "\($0)")
        }
    }

    func testTheTempFileIsRandomExclusiveAndTheModeKept() throws {
        try "old\n".write(toFile: path("out.txt"), atomically: true, encoding: .utf8)
        XCTAssertEqual(chmod(path("out.txt"), 0o600), 0)
        // A symlink planted where the old predictable temp name was is not written through.
        try "victim\n".write(toFile: path("victim"), atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: path(".out.txt.\(getpid()).tmp"), withDestinationPath: path("victim"))
        try HeadlessReplay.write("new\n", to: path("out.txt"), force: true, at: here)
        XCTAssertEqual(try String(contentsOfFile: path("victim"), encoding: .utf8), "victim\n")
        XCTAssertEqual(try String(contentsOfFile: path("out.txt"), encoding: .utf8), "new\n")
        var info = stat()
        XCTAssertEqual(stat(path("out.txt"), &info), 0)
        XCTAssertEqual(info.st_mode & 0o7777, 0o600, "the replaced file keeps its permission bits")
        let left = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        XCTAssertEqual(left, [".out.txt.\(getpid()).tmp", "out.txt", "victim"], "no temp file left behind")
    }

    func testOutputNeedsForceAndNeverReplacesTheScenario() throws {
        try "keep me\n".write(toFile: path("screen.txt"), atomically: true, encoding: .utf8)
        let word = Printer.word(path("screen.txt"))
        XCTAssertThrowsError(try replay().play(Scenario.parse("slots 4\noutput \(word)", file: "o.lora"))) {
            XCTAssertEqual("\($0)", "o.lora:2:1: error: \(path("screen.txt")) exists; output \(word) force=true overwrites it")
        }
        XCTAssertEqual(try String(contentsOfFile: path("screen.txt"), encoding: .utf8), "keep me\n")
        _ = try replay().play(Scenario.parse("slots 4\noutput \(word) force=true", file: "o.lora"))
        XCTAssertEqual(try String(contentsOfFile: path("screen.txt"), encoding: .utf8), "screen\n")
        // The same scenario may write its own new file twice.
        let twice = try replay().play(Scenario.parse("output \(Printer.word(path("new.txt")))\nslots 4\noutput \(Printer.word(path("new.txt")))", file: "o.lora"))
        XCTAssertEqual(twice.outputsWritten.count, 2)
        // Never the scenario file being run, force or not.
        let scenarioPath = path("self.lora")
        for verb in ["output", "record"] {
            let text = "slots 4\n\(verb) \(Printer.word(scenarioPath)) force=true\n"
            try text.write(toFile: scenarioPath, atomically: true, encoding: .utf8)
            XCTAssertThrowsError(try replay().play(Scenario.load(path: scenarioPath)), verb) {
                XCTAssertEqual("\($0)", "\(scenarioPath):2:1: error: cannot write \(scenarioPath): it is the scenario file being run")
            }
            XCTAssertEqual(try String(contentsOfFile: scenarioPath, encoding: .utf8), text)
        }
    }

    /// Item 7, for `output` and `record`: a bad target is found before any kernel runs.
    func testWriteTargetsAreCheckedBeforeAnyKernelRuns() throws {
        try "keep\n".write(toFile: path("exists.lora"), atomically: true, encoding: .utf8)
        for line in ["output \(Printer.word(path("missing/screen.txt")))", "record \(Printer.word(path("exists.lora")))",
                     "output \(Printer.word(path(".")))"] {
            let ran = Ran()
            XCTAssertThrowsError(try replay(ran: ran).play(Scenario.parse("adapter a rank=4\nseq a\nrun\n\(line)\n", file: "k.lora")), line) {
                XCTAssertTrue("\($0)".hasPrefix("k.lora:4:1: error: "), "\($0)")
            }
            XCTAssertFalse(ran.value.withLock { $0 }, "\(line): the kernels ran before the target was checked")
        }
    }

    /// `run FIFO` would wait forever for a writer: refused at once.
    func testLoadRefusesAFIFOWithoutWaiting() throws {
        let fifo = path("scenario.lora")
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        final class Flag: Sendable { let done = Mutex(false) }
        let flag = Flag()
        // Unblocks a reader stuck on the FIFO after 2 s, so a failing test fails instead of hanging.
        Thread.detachNewThread {
            Thread.sleep(forTimeInterval: 2)
            guard !flag.done.withLock({ $0 }) else { return }
            let fd = open(fifo, O_WRONLY | O_NONBLOCK)
            if fd >= 0 { close(fd) }
        }
        let start = Date()
        XCTAssertThrowsError(try Scenario.load(path: fifo)) {
            XCTAssertEqual("\($0)", "\(fifo): error: is a FIFO (named pipe), not a regular file; pipe a scenario into standard input with `-`")
        }
        flag.done.withLock { $0 = true }
        XCTAssertLessThan(Date().timeIntervalSince(start), 1)
        XCTAssertThrowsError(try Scenario.load(path: "/dev/null")) {
            XCTAssertTrue("\($0)".contains("is a character device, not a regular file"), "\($0)")
        }
    }

    /// Standard input is read up to the file limit and no further.
    func testStandardInputStopsAtTheFileLimit() throws {
        let zero = open("/dev/zero", O_RDONLY)
        XCTAssertGreaterThanOrEqual(zero, 0)
        defer { close(zero) }
        XCTAssertThrowsError(try Scenario.readStandardInput(fd: zero)) {
            XCTAssertEqual("\($0)", "<stdin>: error: standard input is over 16 MiB; stopped reading there (a scenario is a short text file)")
        }
        // What it read is the limit and one byte: the descriptor goes on.
        let pipe = Pipe()
        pipe.fileHandleForWriting.write(Data("slots 4\n".utf8))
        try pipe.fileHandleForWriting.close()
        let data = try Scenario.readStandardInput(fd: pipe.fileHandleForReading.fileDescriptor)
        XCTAssertEqual(String(decoding: data, as: UTF8.self), "slots 4\n")
    }

    /// swift-corelibs-foundation's `NSString.deletingLastPathComponent` traps on
    /// a one-character name cut from a line (SIGILL, exit 132): `output x` crashed.
    func testOneCharacterNames() throws {
        try "adapter a rank=4\nseq a\nrun reps=1\noutput x\nrecord y\nseq a\n".write(toFile: path("x.lora"), atomically: true, encoding: .utf8)
        let r = try LoRAVizBinary.run(["run", "x.lora", "--dump", "d"], in: directory)
        XCTAssertEqual(r.status, 0, r.err)
        for name in ["x", "y", "d/manifest.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: path(name)), name)
        }
        try "not json".write(toFile: path("f"), atomically: true, encoding: .utf8)
        try "adapter a from=f\n".write(toFile: path("a.lora"), atomically: true, encoding: .utf8)
        let adapter = try LoRAVizBinary.run(["run", "a.lora"], in: directory)
        XCTAssertEqual(adapter.status, 2, adapter.err)
        XCTAssertTrue(adapter.err.hasPrefix("a.lora:1:16: error: f: is not valid JSON"), adapter.err)
        XCTAssertEqual(FilePath.folder(of: String("x y".split(separator: " ")[0])), "")
        XCTAssertEqual(FilePath.folder(of: "/x"), "/")
        XCTAssertEqual(FilePath.folder(of: "a//b/"), "a")
        XCTAssertEqual(FilePath.name(of: "a/b/"), "b")
        XCTAssertEqual(FilePath.folderOrDot(of: "x"), ".")
    }
}
