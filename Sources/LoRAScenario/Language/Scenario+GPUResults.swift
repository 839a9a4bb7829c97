import LoRAKernels

extension Scenario {
    /// Every `run` of the file: where it is and the batch it runs.
    public func runBatches() throws -> [(location: SourceLocation, fingerprint: GPUBenchFingerprint)] {
        var session = Session()
        var runs: [(SourceLocation, GPUBenchFingerprint)] = []
        for step in steps {
            if case .run = try session.apply(step) {
                runs.append((step.location, GPUBenchFingerprint(session.workload, options: session.strategyOptions)))
            }
        }
        return runs
    }

    /// Refuses results measured on none of the file's batches: the error is
    /// located at the file's `run` (the first, when it has several) and names
    /// the first field that differs.
    public func checkGPUResults(_ results: [GPUBenchResults]) throws {
        let runs = try runBatches()
        for r in results where !runs.contains(where: { $0.fingerprint == r.fingerprint }) {
            guard let first = runs.first else {
                throw ScenarioError(location: SourceLocation(file: file, line: 0, column: 0),
                                    message: "--gpu-results \(r.path): the file has no `run`, so no batch to show it beside")
            }
            let why = r.fingerprint.difference(from: first.fingerprint) ?? "another batch"
            let which = runs.count > 1 ? "any of the \(runs.count) runs (against the first)" : "the batch of this `run`"
            throw ScenarioError(location: first.location,
                                message: "--gpu-results \(r.path) was measured on another batch than \(which): \(why)")
        }
    }
}
