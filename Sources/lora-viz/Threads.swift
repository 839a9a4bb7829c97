import ArgumentParser
import Foundation
import LoRAKernels

/// `--threads N`, shared by every command that runs kernels.
enum Threads {
    /// Checks `--threads` (at least 1) and caps it at the machine's cores, with a
    /// note on standard error: more workers than cores only time-slice them
    /// (the report says how many threads really ran).
    ///
    /// The option parses its value unconditionally, so `--threads -1` reaches
    /// this check instead of being read as a flag ("Missing value").
    static func checked(_ threads: Int?) throws -> Int? {
        guard let threads else { return nil }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1, got \(threads)") }
        let cores = KernelRunOptions.coreCount
        if threads > cores {
            FileHandle.standardError.write(Data("note: --threads \(threads) is more than the \(cores) core\(cores == 1 ? "" : "s") of this machine; using \(cores)\n".utf8))
            return cores
        }
        return threads
    }
}
