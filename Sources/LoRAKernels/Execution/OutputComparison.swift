import Synchronization

/// Outputs held against the fp64 reference and against each other, over the
/// valid cells `Reference` defines.
struct OutputComparison {
    /// Max |out − ref| per output.
    var maxAbsError: [Double]
    /// Valid cells over their tolerance, per output (only when tolerances were asked for).
    var toleranceViolations: [Int]
    /// Max |Δ| / tolerance per output (0 when not asked for).
    var worstToleranceRatio: [Double]
    /// Max |out_a − out_b| over valid cells for the compared `pair` (0 with fewer than two outputs).
    var maxAbsDifference: Double
    /// Max |out_o − out₀| over valid cells, per output.
    var maxAbsDifferenceVsFirst: [Double]
    /// Cells that must keep their initial value (shrink, never written) but do not, per output.
    var clobberedCells: [Int]
    /// The reference, `(S, outputWidth)` row-major, when asked to keep it.
    var reference: TensorBuffer<Double>?

    /// Nothing compared yet, for `outputs` outputs: every figure 0, no reference.
    init(outputs n: Int) {
        maxAbsError = Array(repeating: 0, count: n)
        toleranceViolations = Array(repeating: 0, count: n)
        worstToleranceRatio = Array(repeating: 0, count: n)
        maxAbsDifference = 0
        maxAbsDifferenceVsFirst = Array(repeating: 0, count: n)
        clobberedCells = Array(repeating: 0, count: n)
        reference = nil
    }

    /// Compares `outputs` (each `(S, outputWidth)`) row by row, in parallel.
    static func compare<E: KernelElement>(_ outputs: [TensorBuffer<E>], inputs: KernelInputs<E>,
                                          tolerances: Bool, keepReference: Bool, threads: Int,
                                          pair: (Int, Int) = (0, 1), referenceRows: [Bool]? = nil,
                                          isCancelled: @Sendable () -> Bool = { false }) -> OutputComparison? {
        let reference = Reference(inputs)
        let width = inputs.outputWidth
        let rows = inputs.rows
        let kept: TensorBuffer<Double>? = keepReference ? TensorBuffer(count: rows * width, repeating: 0) : nil
        let partials = Mutex<[OutputComparison]>([])
        let n = outputs.count
        let completed = ParallelLoop.run(count: rows, chunk: max(1, rows / max(1, threads * 8)), threads: threads,
                                         isCancelled: isCancelled) { range in
            var local = OutputComparison(outputs: n)
            let values = UnsafeMutablePointer<Double>.allocate(capacity: width)
            let magnitudes = tolerances ? UnsafeMutablePointer<Double>.allocate(capacity: width) : nil
            defer { values.deallocate(); magnitudes?.deallocate() }
            let shrink = inputs.workload.kernel.isShrink
            for row in range {
                let valid = reference.validColumns(row: row)
                // A row outside the sample (`referenceRows`) skips the fp64 reference only: the
                // outputs are still compared with each other and checked for clobbered cells.
                let checked = referenceRows?[row] ?? true
                let length = checked ? reference.row(row, values: values, magnitudes: magnitudes) : 0
                if let kept { (kept.pointer + row * width).update(from: values, count: width) }
                for (o, output) in outputs.enumerated() {
                    let out = output.pointer + row * width
                    if shrink {
                        for c in valid..<width where !out[c].widened.isNaN { local.clobberedCells[o] += 1 }
                    }
                    guard checked else { continue }
                    var worst = 0.0
                    for c in 0..<valid {
                        let delta = abs(Double(out[c].widened) - values[c])
                        if !(delta <= worst) { worst = delta.isNaN ? .infinity : delta }
                        if let magnitudes {
                            let base = shrink ? 0 : Double(inputs.base.pointer[row * width + c].widened)
                            let tol = Reference<E>.tolerance(reference: values[c], base: base,
                                                             magnitude: magnitudes[c], length: length)
                            if !(delta <= tol) { local.toleranceViolations[o] += 1 }
                            local.worstToleranceRatio[o] = max(local.worstToleranceRatio[o], delta.isNaN ? .infinity : delta / tol)
                        }
                    }
                    local.maxAbsError[o] = max(local.maxAbsError[o], worst)
                }
                func difference(_ i: Int, _ j: Int) -> Double {
                    let a = outputs[i].pointer + row * width, b = outputs[j].pointer + row * width
                    var worst = 0.0
                    for c in 0..<valid {
                        let d = abs(Double(a[c].widened) - Double(b[c].widened))
                        if !(d <= worst) { worst = d.isNaN ? .infinity : d }
                    }
                    return worst
                }
                for o in 1..<max(1, n) {
                    local.maxAbsDifferenceVsFirst[o] = max(local.maxAbsDifferenceVsFirst[o], difference(0, o))
                }
                if n >= 2 && pair.0 != pair.1 {
                    local.maxAbsDifference = max(local.maxAbsDifference,
                                                 pair.0 == 0 ? local.maxAbsDifferenceVsFirst[pair.1] : difference(pair.0, pair.1))
                }
            }
            partials.withLock { $0.append(local) }
        }
        guard completed else { return nil }
        var result = OutputComparison(outputs: n)
        for p in partials.withLock({ $0 }) {
            for o in 0..<n {
                result.maxAbsError[o] = max(result.maxAbsError[o], p.maxAbsError[o])
                result.toleranceViolations[o] += p.toleranceViolations[o]
                result.worstToleranceRatio[o] = max(result.worstToleranceRatio[o], p.worstToleranceRatio[o])
                result.clobberedCells[o] += p.clobberedCells[o]
                result.maxAbsDifferenceVsFirst[o] = max(result.maxAbsDifferenceVsFirst[o], p.maxAbsDifferenceVsFirst[o])
            }
            result.maxAbsDifference = max(result.maxAbsDifference, p.maxAbsDifference)
        }
        result.reference = kept
        return result
    }
}

