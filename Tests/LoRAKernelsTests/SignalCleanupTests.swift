import Foundation
@testable import LoRAKernels
import XCTest

/// The atomic write's signal guard (AtomicFile, SignalCleanup).
final class SignalCleanupTests: XCTestCase {
    /// Each guarded signal (SIGINT, SIGTERM, SIGHUP) arriving during a write
    /// removes the temporary file and puts back exactly the action it
    /// replaced: handler, flags and mask. Saving SIGHUP's action once wrote
    /// past the end of its storage (run scripts/sanitize to see such writes).
    func testEverySignalPutsBackThePreviousActionWhole() throws {
        for sig in SignalCleanup.signals {
            let temporary = FileManager.default.temporaryDirectory
                .appendingPathComponent(".lora-viz-signal-\(sig)-\(UUID().uuidString).tmp").path
            XCTAssertTrue(FileManager.default.createFile(atPath: temporary, contents: Data("partial".utf8)))
            var ignore = sigaction(), before = sigaction()
            ignore.__sigaction_handler.sa_handler = SIG_IGN
            sigemptyset(&ignore.sa_mask)
            sigaddset(&ignore.sa_mask, SIGUSR2)
            ignore.sa_flags = SA_RESTART
            XCTAssertEqual(sigaction(sig, &ignore, &before), 0)
            defer { sigaction(sig, &before, nil) }
            var installed = sigaction()
            sigaction(sig, nil, &installed)

            let token = SignalCleanup.begin(temporary)
            raise(sig)
            XCTAssertFalse(FileManager.default.fileExists(atPath: temporary), "signal \(sig): the temporary file is removed")
            var after = sigaction()
            sigaction(sig, nil, &after)
            XCTAssertEqual(unsafeBitCast(after.__sigaction_handler.sa_handler, to: Int.self),
                           unsafeBitCast(SIG_IGN, to: Int.self), "signal \(sig): the previous handler is back")
            XCTAssertEqual(after.sa_flags, installed.sa_flags, "signal \(sig)")
            XCTAssertEqual(sigismember(&after.sa_mask, SIGUSR2), 1, "signal \(sig): the previous mask is back")
            SignalCleanup.end(token)
        }
    }
}
