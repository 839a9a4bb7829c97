import Foundation

/// Fits a profile's program costs to measurements and reports how well a
/// profile predicts them (`lora-viz gpu-fit`, `lora-viz gpu-check`).
///
/// The fit minimises, over the `calib` records, the squared log error of every
/// measured launch plus `speedupWeight` times that of every measured speedup
/// (the speedup is what the tool is asked to get right), by Levenberg–Marquardt
/// over the logarithms of the parameters, so each stays positive.
public enum GPUCalibration {
    /// One measured launch with its work priced once.
    public struct Sample: Hashable, Sendable {
        public var id: String
        public var kernel: Kernel
        public var routing: String
        public var work: GPUWork
        public var measuredUs: Double
    }

    /// One measured case: the per-sequence and sorted samples of a batch.
    public struct Case: Hashable, Sendable {
        public var measurement: GPUMeasurement
        public var perSequence: Sample
        public var sorted: Sample
        public var tight: Sample?

        public init(_ m: GPUMeasurement) {
            measurement = m
            let w = m.workload
            func sample(_ routing: Routing, _ name: String, _ us: Double) -> Sample {
                Sample(id: m.id, kernel: w.kernel, routing: name,
                       work: LaunchPlan(workload: w, routing: routing).gpuWork, measuredUs: us)
            }
            perSequence = sample(.perSequence(w.batch), "per-sequence", m.perSequenceUs)
            sorted = sample(.sorted(w.batch), "sorted", m.sortedUs)
            tight = m.tightUs.map { sample(.tight(w.batch), "tight", $0) }
        }

        public var samples: [Sample] { [perSequence, sorted] + (tight.map { [$0] } ?? []) }
    }

    /// How well a profile predicts a set of cases: the bar.
    public struct Scorecard: Hashable, Sendable, CustomStringConvertible {
        public var cases = 0
        public var launches = 0
        /// Launches whose estimate is within ±20 % of the measured time.
        public var launchesWithin20 = 0
        /// Cases whose estimated speedup is within ±25 % of the measured one.
        public var speedupsWithin25 = 0
        /// Cases whose estimated and measured speedups fall in the same band (> 1.1, < 0.9, between).
        public var directionsAgree = 0
        /// Median |estimate ÷ measured − 1| over launches.
        public var medianLaunchError = 0.0
        /// Median |estimated speedup ÷ measured speedup − 1| over cases.
        public var medianSpeedupError = 0.0

        public var launchFraction: Double { launches == 0 ? 0 : Double(launchesWithin20) / Double(launches) }
        public var speedupFraction: Double { cases == 0 ? 0 : Double(speedupsWithin25) / Double(cases) }
        public var directionFraction: Double { cases == 0 ? 0 : Double(directionsAgree) / Double(cases) }

        public var description: String {
            String(format: "%d cases, %d launches: speedup within ±25%% %.1f%%, direction agrees %.1f%%, launch within ±20%% %.1f%% (median errors: speedup %.1f%%, launch %.1f%%)",
                   cases, launches, 100 * speedupFraction, 100 * directionFraction, 100 * launchFraction,
                   100 * medianSpeedupError, 100 * medianLaunchError)
        }
    }

    /// The scorecard of `profile` on `cases` (sorted against per-sequence; a
    /// tight launch counts among the launches).
    public static func score(_ profile: GPUProfile, on cases: [Case]) -> Scorecard {
        var s = Scorecard()
        var launchErrors: [Double] = [], speedupErrors: [Double] = []
        for c in cases {
            s.cases += 1
            for sample in c.samples {
                let e = abs(profile.estimate(sample.work, kernel: sample.kernel).totalUs / sample.measuredUs - 1)
                launchErrors.append(e)
                s.launches += 1
                if e <= 0.2 { s.launchesWithin20 += 1 }
            }
            let est = estimatedSpeedup(profile, c)
            let measured = c.measurement.speedup
            let e = abs(est / measured - 1)
            speedupErrors.append(e)
            if e <= 0.25 { s.speedupsWithin25 += 1 }
            if SpeedupDirection(est) == SpeedupDirection(measured) { s.directionsAgree += 1 }
        }
        s.medianLaunchError = median(launchErrors)
        s.medianSpeedupError = median(speedupErrors)
        return s
    }

    /// How often `profile`'s estimated direction held on `cases`, by the
    /// estimate's distance from a band edge (`GPUDirectionRecord.h200` is
    /// this on every held-out case of gpu/results/).
    public static func directionRecord(_ profile: GPUProfile, on cases: [Case], source: String) -> GPUDirectionRecord {
        GPUDirectionRecord.tally(cases.map { (estimatedSpeedup(profile, $0), $0.measurement.speedup) }, source: source)
    }

    /// Estimated per-sequence ÷ sorted for one case.
    public static func estimatedSpeedup(_ profile: GPUProfile, _ c: Case) -> Double {
        profile.estimate(c.perSequence.work, kernel: c.kernel).totalUs
            / profile.estimate(c.sorted.work, kernel: c.kernel).totalUs
    }

    // MARK: Fitting

    /// The parameters the fit moves, in a fixed order: three shared, then
    /// each kernel's (`tritonFitParameters`).
    static let kernelNames = Kernel.names

    static func parameters(of p: GPUProfile) -> [Double] {
        var v = [p.launchFloorUs, p.l2GBps, p.warmDRAMFraction]
        for name in kernelNames {
            v += p.programs[name]!.tritonFitParameters(shrink: name == shrinkName)
        }
        return v
    }

    static let shrinkName = Kernel.sgemmLoRAA(stack: 1).name

    static func profile(_ base: GPUProfile, _ raw: [Double]) -> GPUProfile {
        // Keep a wandering step inside physical ranges (at most 32 resident
        // programs an SM on Hopper; sub-picosecond or hour-long latencies mean nothing).
        let v = raw.map { min(max($0, 1e-3), 1e7) }
        var p = base
        p.launchFloorUs = v[0]
        p.l2GBps = v[1]
        p.warmDRAMFraction = min(1, v[2])
        var o = 3
        for name in kernelNames {
            let shrink = name == shrinkName
            let n = GPUProfile.ProgramCost.tritonFitCount(shrink: shrink)
            p.programs[name] = GPUProfile.ProgramCost(tritonFitParameters: v[o ..< o + n], shrink: shrink)
            o += n
        }
        return p
    }

    /// How much more a speedup's squared log error weighs than a launch's:
    /// the bar is on speedups. Weights 1, 4 and 8 moved the held-out figures
    /// by under 1.5 points (gpu/RESULTS.md).
    static let speedupWeight = 2.0

    /// The fit's residuals: the log error of every launch and, weighted by
    /// √speedupWeight, of every case's speedup.
    static func residuals(_ p: GPUProfile, _ cases: [Case]) -> [Double] {
        var r: [Double] = []
        r.reserveCapacity(cases.count * 4)
        for c in cases {
            var est: [Double] = []
            for sample in c.samples {
                let t = p.estimate(sample.work, kernel: sample.kernel).totalUs
                est.append(t)
                r.append(log(t / sample.measuredUs))
            }
            r.append(speedupWeight.squareRoot() * log((est[0] / est[1]) / c.measurement.speedup))
        }
        return r
    }

    /// The fit's loss: the mean over cases of the squared residuals.
    public static func loss(_ p: GPUProfile, _ cases: [Case]) -> Double {
        residuals(p, cases).reduce(0) { $0 + $1 * $1 } / Double(max(1, cases.count))
    }

    /// `base` with its program costs fitted to `cases`, from `base`'s values.
    ///
    /// Levenberg–Marquardt over the parameters' logarithms, with a numerical
    /// Jacobian; `evaluations` bounds the residual evaluations.
    public static func fit(_ base: GPUProfile, to cases: [Case], evaluations: Int = 4000, restarts: Int = 8) -> GPUProfile {
        // The loss has kinks (every max() of the model), so a descent can stop
        // in a corner: restart from deterministic perturbations, keep the best.
        var best = descend(base, from: parameters(of: base).map { log($0) }, cases, evaluations)
        var rng = SplitMix64(seed: 22386)
        for _ in 0..<restarts {
            let start = parameters(of: best.profile).map { log($0) + Double.random(in: -1...1, using: &rng) }
            let trial = descend(base, from: start, cases, evaluations)
            if trial.cost < best.cost { best = trial }
        }
        return best.profile
    }

    static func descend(_ base: GPUProfile, from start: [Double], _ cases: [Case], _ evaluations: Int)
        -> (profile: GPUProfile, cost: Double) {
        let (x, c) = descend(from: start, evaluations: evaluations) { x in residuals(profile(base, x.map { exp($0) }), cases) }
        return (profile(base, x.map { exp($0) }), c)
    }

    /// Levenberg–Marquardt from `start` on `res`'s sum of squares; returns the
    /// best point and its cost.
    static func descend(from start: [Double], evaluations: Int, _ res: ([Double]) -> [Double]) -> ([Double], Double) {
        var x = start
        let n = x.count
        func cost(_ r: [Double]) -> Double { r.reduce(0) { $0 + $1 * $1 } }
        var r = res(x), c = cost(r), lambda = 1e-2, used = 1
        while used + n + 1 < evaluations {
            // Jacobian by forward differences in log space.
            let h = 1e-4
            var jacobian: [[Double]] = []
            for i in 0..<n {
                var xi = x
                xi[i] += h
                let ri = res(xi)
                jacobian.append(zip(ri, r).map { ($0 - $1) / h })
            }
            used += n
            var jtj = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
            var jtr = [Double](repeating: 0, count: n)
            for i in 0..<n {
                for j in i..<n {
                    var sum = 0.0
                    for k in r.indices { sum += jacobian[i][k] * jacobian[j][k] }
                    jtj[i][j] = sum
                    jtj[j][i] = sum
                }
                var sum = 0.0
                for k in r.indices { sum += jacobian[i][k] * r[k] }
                jtr[i] = sum
            }
            var improved = false
            while used < evaluations, lambda < 1e10 {
                var a = jtj
                for i in 0..<n { a[i][i] += lambda * max(jtj[i][i], 1e-9) }
                guard let step = solve(a, jtr.map { -$0 }) else { lambda *= 10; continue }
                let trial = zip(x, step).map { $0 + max(-2, min(2, $1)) }
                let rt = res(trial)
                used += 1
                let ct = cost(rt)
                if ct < c {
                    let gain = (c - ct) / c
                    (x, r, c) = (trial, rt, ct)
                    lambda = max(lambda / 3, 1e-9)
                    improved = gain > 1e-7
                    break
                }
                lambda *= 4
            }
            if !improved { break }
        }
        return (x, c)
    }

    /// Solves `a · x = b` by Gaussian elimination with partial pivoting.
    static func solve(_ a: [[Double]], _ b: [Double]) -> [Double]? {
        var m = a, v = b
        let n = v.count
        for col in 0..<n {
            guard let pivot = (col..<n).max(by: { abs(m[$0][col]) < abs(m[$1][col]) }), abs(m[pivot][col]) > 1e-300 else { return nil }
            m.swapAt(col, pivot)
            v.swapAt(col, pivot)
            for row in (col + 1)..<n {
                let f = m[row][col] / m[col][col]
                if f == 0 { continue }
                for k in col..<n { m[row][k] -= f * m[col][k] }
                v[row] -= f * v[col]
            }
        }
        var x = [Double](repeating: 0, count: n)
        for row in stride(from: n - 1, through: 0, by: -1) {
            var sum = v[row]
            for k in (row + 1)..<n { sum -= m[row][k] * x[k] }
            x[row] = sum / m[row][row]
        }
        return x
    }

    /// The profile as the Swift source of `GPUProfile+H200.swift` writes it.
    public static func swiftSource(_ p: GPUProfile) -> String {
        func g(_ v: Double) -> String { String(format: "%.4g", v) }
        var s = "        l2GBps: \(g(p.l2GBps)), warmDRAMFraction: \(g(p.warmDRAMFraction)),\n"
        s += "        launchFloorUs: \(g(p.launchFloorUs)),\n"
        s += "        programs: [\n"
        for name in GPUProfile.costKeys {
            let c = p.programs[name]!
            let unaligned = c.unalignedStartNs == c.startNs && c.unalignedStepNs == c.stepNs ? ""
                : ",\n                unalignedStartNs: \(g(c.unalignedStartNs)), unalignedStepNs: \(g(c.unalignedStepNs))"
            s += "            \"\(name)\": ProgramCost(startNs: \(g(c.startNs)), stepNs: \(g(c.stepNs)), sortedStartNs: \(g(c.sortedStartNs)), sortedStepNs: \(g(c.sortedStepNs)),\n                residentPerSM: \(g(c.residentPerSM)), segmentExitNs: \(g(c.segmentExitNs)), excessExitNs: \(g(c.excessExitNs)),\n                exitDelayNs: \(g(c.exitDelayNs))\(unaligned)),\n"
        }
        return s + "        ])"
    }
}

// MARK: - csgmv and vLLM

extension GPUCalibration {
    /// One measured launch of a csgmv or vLLM strategy, with the same batch's
    /// measured sorted launch when the triton results hold it.
    public struct StrategySample: Hashable, Sendable {
        public var id: String
        public var split: GPUMeasurement.Split
        public var kernel: Kernel
        public var strategy: Strategy
        public var work: GPUWork
        public var measuredUs: Double
        /// The sorted launch's work and measured time, for the speedup against it.
        public var sortedWork: GPUWork
        public var sortedUs: Double?

        /// `programs` key of the costs this launch is priced with.
        var costKey: String { GPUProfile.costKey(family: strategy.kernelFamily, kernel: kernel.name) }
    }

    /// Every timed strategy of a measurement, priced with the default options
    /// the measuring script launches with (chunk 16, a graph of bs segments,
    /// no vLLM specialisation).
    public static func samples(_ m: StrategyMeasurement, sortedUs: Double?) -> [StrategySample] {
        let sortedWork = LaunchPlan(workload: m.workload, strategy: .sorted).gpuWork
        // A launch of nothing (vLLM with no LoRA token) has no kernel to price: 0.1 µs of graph replay.
        return m.times.keys.sorted().filter { LaunchPlan(workload: m.workload, strategy: $0).launched > 0 }.map { s in
            StrategySample(id: m.id, split: m.split, kernel: m.workload.kernel, strategy: s,
                           work: LaunchPlan(workload: m.workload, strategy: s).gpuWork, measuredUs: m.times[s]!,
                           sortedWork: sortedWork, sortedUs: sortedUs)
        }
    }

    /// `base` with the csgmv and vLLM program costs fitted to `samples` (the
    /// triton costs and the shared terms kept): one Levenberg–Marquardt fit of
    /// the eight costs of each family's kernel over the log error of its launches.
    public static func fitFamilies(_ base: GPUProfile, to samples: [StrategySample], evaluations: Int = 2000,
                                   restarts: Int = 4) -> GPUProfile {
        var p = base
        for key in GPUProfile.costKeys {
            let mine = samples.filter { $0.costKey == key }
            guard !mine.isEmpty else { continue }
            func cost(_ v: [Double]) -> GPUProfile.ProgramCost {
                GPUProfile.ProgramCost(fitParameters: v.map { min(max(exp($0), 1e-3), 1e7) }[...])
            }
            func residuals(_ v: [Double]) -> [Double] {
                var q = p
                q.programs[key] = cost(v)
                return mine.map { log(q.estimate($0.work, kernel: $0.kernel, family: $0.strategy.kernelFamily).totalUs / $0.measuredUs) }
            }
            func point(_ c: GPUProfile.ProgramCost) -> [Double] {
                c.fitParameters.map { log($0) }
            }
            // From the profile's current costs and from the same kernel's triton
            // costs (so a fit does not depend on the last one), then restarts
            // around the best: the loss has kinks at every max() of the model.
            var best = descend(from: point(p.programs[key]!), evaluations: evaluations, residuals)
            let fromTriton = descend(from: point(p.programs[GPUProfile.costKey(family: "triton", kernel: mine[0].kernel.name)]!),
                                     evaluations: evaluations, residuals)
            if fromTriton.1 < best.1 { best = fromTriton }
            var rng = SplitMix64(seed: 22386)
            for i in 0..<restarts {
                let spread = 1.0
                let trial = descend(from: best.0.map { $0 + Double.random(in: -spread...spread, using: &rng) },
                                    evaluations: evaluations, residuals)
                if trial.1 < best.1 { best = trial }
            }
            p.programs[key] = cost(best.0)
        }
        return p
    }

    /// How well `profile` predicts each strategy's launches, and its speedup
    /// against the sorted launch of the same batch (sorted ÷ strategy).
    public static func score(_ profile: GPUProfile, on samples: [StrategySample]) -> [Strategy: Scorecard] {
        var cards: [Strategy: Scorecard] = [:]
        var launchErrors: [Strategy: [Double]] = [:], speedupErrors: [Strategy: [Double]] = [:]
        for s in samples {
            var card = cards[s.strategy] ?? Scorecard()
            let est = profile.estimate(s.work, kernel: s.kernel, family: s.strategy.kernelFamily).totalUs
            let e = abs(est / s.measuredUs - 1)
            launchErrors[s.strategy, default: []].append(e)
            card.launches += 1
            if e <= 0.2 { card.launchesWithin20 += 1 }
            if let sortedUs = s.sortedUs {
                let measured = sortedUs / s.measuredUs
                let estimated = profile.estimate(s.sortedWork, kernel: s.kernel).totalUs / est
                let se = abs(estimated / measured - 1)
                speedupErrors[s.strategy, default: []].append(se)
                card.cases += 1
                if se <= 0.25 { card.speedupsWithin25 += 1 }
                if SpeedupDirection(estimated) == SpeedupDirection(measured) { card.directionsAgree += 1 }
            }
            cards[s.strategy] = card
        }
        for k in cards.keys {
            cards[k]!.medianLaunchError = median(launchErrors[k] ?? [])
            cards[k]!.medianSpeedupError = median(speedupErrors[k] ?? [])
        }
        return cards
    }
}

private extension GPUCalibration.Case {
    var kernel: Kernel { measurement.workload.kernel }
}

private func median(_ v: [Double]) -> Double {
    guard !v.isEmpty else { return 0 }
    let s = v.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

extension GPUProfile.ProgramCost {
    /// How many costs a kernel's fit moves.
    static let fitCount = 8

    /// The eight costs in the order every fit moves them (`GPUCalibration`, `GPUBenchCalibration`).
    var fitParameters: [Double] {
        [startNs, stepNs, sortedStartNs, sortedStepNs, residentPerSM, segmentExitNs, excessExitNs, exitDelayNs]
    }

    /// What `gpu-fit` moves of a `triton` kernel. The sorted variant's start
    /// is tied to the per-sequence one: a lone program's start is the same
    /// in both (about 0.6 µs at K 1536 and 4096 on the H200; only the step
    /// differs, gpu/results/variants/), and a free sorted start soaked up
    /// the exit costs of sorted launches instead. The shrink adds its
    /// unaligned variant's start and step.
    func tritonFitParameters(shrink: Bool) -> [Double] {
        [startNs, stepNs, sortedStepNs, residentPerSM, segmentExitNs, excessExitNs, exitDelayNs]
            + (shrink ? [unalignedStartNs, unalignedStepNs] : [])
    }

    static func tritonFitCount(shrink: Bool) -> Int { shrink ? 9 : 7 }

    /// A cost from `tritonFitParameters`' values.
    init(tritonFitParameters v: ArraySlice<Double>, shrink: Bool) {
        let v = Array(v)
        precondition(v.count == Self.tritonFitCount(shrink: shrink), "ProgramCost: \(v.count) fitted values")
        self.init(startNs: v[0], stepNs: v[1], sortedStartNs: v[0], sortedStepNs: v[2], residentPerSM: min(v[3], 32),
                  segmentExitNs: v[4], excessExitNs: v[5], exitDelayNs: v[6],
                  unalignedStartNs: shrink ? v[7] : nil, unalignedStepNs: shrink ? v[8] : nil)
    }

    /// A cost from eight values in `fitParameters`' order; residency capped at
    /// 32 programs an SM (Hopper's limit), so a wandering fit stays physical.
    init(fitParameters v: ArraySlice<Double>) {
        let v = Array(v)
        precondition(v.count == Self.fitCount, "ProgramCost: \(v.count) fitted values")
        self.init(startNs: v[0], stepNs: v[1], sortedStartNs: v[2], sortedStepNs: v[3], residentPerSM: min(v[4], 32),
                  segmentExitNs: v[5], excessExitNs: v[6], exitDelayNs: v[7])
    }
}
