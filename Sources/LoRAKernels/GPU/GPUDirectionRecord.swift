/// How often held-out measurements bore out the estimated direction of the
/// per-sequence ÷ sorted speedup, by how far the estimate sits from the
/// nearest band edge (0.9 or 1.1; `SpeedupDirection`).
///
/// The estimate's direction is the bar it is judged by, and how far from an
/// edge it lands says most about whether to trust it: on the 2,254 held-out
/// H200 cases of gpu/results/, estimates 20 % or more from an edge point the
/// measured way in 98.5 % of cases, as often as two measurements of the same
/// case agree (98.1–98.8 %), and those within 5 % of one in 75.4 %
/// (docs/gpu-model.md, "How good it is").
public struct GPUDirectionRecord: Hashable, Sendable {
    /// The estimates at least `fromDistance` from an edge (and nearer than the next bin's).
    public struct Bin: Hashable, Sendable {
        /// The bin's lower bound: `GPUDirectionRecord.distance`, a fraction.
        public var fromDistance: Double
        /// Held-out cases whose estimate fell in the bin.
        public var cases: Int
        /// Those whose measured speedup fell in the estimated band.
        public var agreed: Int

        public init(fromDistance: Double, cases: Int, agreed: Int) {
            self.fromDistance = fromDistance
            self.cases = cases
            self.agreed = agreed
        }

        /// `agreed ÷ cases`.
        public var share: Double { cases == 0 ? 0 : Double(agreed) / Double(cases) }
    }

    /// What was scored, in a line: `2,254 held-out H200 cases`.
    public var source: String
    /// In order of `fromDistance`, the first from 0.
    public var bins: [Bin]

    public init(source: String, bins: [Bin]) {
        self.source = source
        self.bins = bins
    }

    /// The bins' lower bounds: within 5 % of an edge, 5–10 %, 10–20 %, 20 % or more.
    public static let binBounds = [0, 0.05, 0.10, 0.20]

    /// How far a speedup sits from the nearest band edge, as a fraction of
    /// it: 1.32× is 20 % above 1.1, 1.0× is 10 % below 1.1 and 11 % above 0.9.
    public static func distance(_ speedup: Double) -> Double {
        let edges = [SpeedupDirection.slowerBelow, SpeedupDirection.fasterAbove]
        return edges.map { speedup >= $0 ? speedup / $0 - 1 : $0 / speedup - 1 }.min()!
    }

    /// The index in `binBounds` of a speedup's bin.
    static func binIndex(_ speedup: Double) -> Int {
        let d = distance(speedup)
        return binBounds.lastIndex { $0 <= d } ?? 0
    }

    /// The bin a speedup's distance falls in.
    public func bin(for speedup: Double) -> Bin { bins[Self.binIndex(speedup)] }

    /// The record of `(estimated, measured)` speedup pairs, binned by `binBounds`.
    public static func tally(_ pairs: [(estimated: Double, measured: Double)], source: String) -> GPUDirectionRecord {
        var bins = binBounds.map { Bin(fromDistance: $0, cases: 0, agreed: 0) }
        for (e, m) in pairs {
            let i = binIndex(e)
            bins[i].cases += 1
            if SpeedupDirection(e) == SpeedupDirection(m) { bins[i].agreed += 1 }
        }
        return GPUDirectionRecord(source: source, bins: bins)
    }

    /// Where bin `i` lies: `within 5 % of an edge`, `10–20 % from an edge`, `20 % or more from an edge`.
    static func range(_ i: Int) -> String {
        let b = binBounds.map { String(format: "%.0f", 100 * $0) }
        return i == 0 ? "within \(b[1]) % of an edge" : i + 1 < b.count ? "\(b[i])–\(b[i + 1]) % from an edge"
            : "\(b[i]) % or more from an edge"
    }

    /// A line for the report under the estimate: `direction: 1.12× is 1 %
    /// from the 1.1 edge; held-out H200 estimates within 5 % of an edge had
    /// the measured direction in 75.4 % of 415 cases`, or for one 20 % or
    /// more from both edges `direction: 6.59× is far from the band edges
    /// (0.9, 1.1); held-out H200 estimates 20 % or more from an edge …`.
    public func note(for speedup: Double, gpu: String) -> String {
        let i = Self.binIndex(speedup)
        // Whole per cent rounded down, so a distance never reads as its bin's upper bound.
        let d = String(format: "%.0f %%", (100 * Self.distance(speedup) + 1e-9).rounded(.down))
        let edge = speedup / SpeedupDirection.slowerBelow <= SpeedupDirection.fasterAbove / speedup ? "0.9" : "1.1"
        let place = i + 1 == bins.count ? "is far from the band edges (0.9, 1.1)" : "is \(d) from the \(edge) edge"
        return "direction: \(formatRatio(speedup)) \(place); held-out \(gpu) estimates \(Self.range(i)) "
            + "had the measured direction in \(String(format: "%.1f", 100 * bins[i].share)) % of \(bins[i].cases) cases"
    }

    /// `note` for a panel, longest first: `direction held in 87.6 % of
    /// held-out cases 10–20 % from an edge`, `held-out direction 87.6 %
    /// (10–20 % from an edge)`, `held-out direction 87.6 %`.
    public func compactNotes(for speedup: Double) -> [String] {
        let i = Self.binIndex(speedup)
        let share = String(format: "%.1f %%", 100 * bins[i].share)
        return ["direction held in \(share) of held-out cases \(Self.range(i))", "held-out direction \(share) (\(Self.range(i)))",
                "held-out direction \(share)"]
    }
}

extension SpeedupDirection {
    /// Below this a speedup is `slower`.
    public static let slowerBelow = 0.9
    /// Above this a speedup is `faster`.
    public static let fasterAbove = 1.1
}

extension GPUDirectionRecord {
    /// The committed h200 profile on every held-out case of gpu/results/
    /// (sets 1–5: h200-sweep.jsonl's held-out part and h200-sweep-holdout2
    /// to 5). `GPUModelTests.testDirectionRecordIsTheCommittedProfilesOnHeldOutData`
    /// recomputes it; `lora-viz gpu-check` prints it for any files.
    public static let h200 = GPUDirectionRecord(source: "2,254 held-out H200 cases (gpu/results/)", bins: [
        Bin(fromDistance: 0, cases: 415, agreed: 313),
        Bin(fromDistance: 0.05, cases: 380, agreed: 315),
        Bin(fromDistance: 0.10, cases: 177, agreed: 155),
        Bin(fromDistance: 0.20, cases: 1282, agreed: 1263),
    ])
}
