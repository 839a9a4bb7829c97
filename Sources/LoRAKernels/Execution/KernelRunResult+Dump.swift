import Foundation

/// The tensors of a finished run, kept for `writeDump(to:)`.
final class KernelTensors: Sendable {
    let write: @Sendable (String, [Strategy]) throws -> [String: DumpManifest.FileEntry]

    init<E>(_ typed: TypedKernelTensors<E>) {
        write = { try typed.write(to: $0, strategies: $1) }
    }
}

/// The typed tensors behind `KernelTensors`.
struct TypedKernelTensors<E: KernelElement>: Sendable {
    let inputs: KernelInputs<E>
    let plans: [LaunchPlan]
    let outputs: [TensorBuffer<E>]
    let reference: TensorBuffer<Double>

    /// Writes every file into `directory`, each plan's files named by its
    /// strategy in `strategies` (the run's order); returns what each file holds.
    func write(to directory: String, strategies: [Strategy]) throws -> [String: DumpManifest.FileEntry] {
        var files: [String: DumpManifest.FileEntry] = [:]
        func array<T>(_ name: String, _ descr: NumpyFile.Descr, _ shape: [Int], _ what: String, as type: T.Type,
                      _ fill: (Range<Int>, UnsafeMutablePointer<T>) -> Void) throws {
            try NumpyFile.write((directory as NSString).appendingPathComponent(name), descr: descr, shape: shape, as: type, fill: fill)
            files[name] = DumpManifest.FileEntry(dtype: descr.rawValue, shape: shape, description: what)
        }
        func values<T>(_ name: String, _ descr: NumpyFile.Descr, _ what: String, _ v: [T], shape: [Int]? = nil) throws {
            try array(name, descr, shape ?? [v.count], what, as: T.self) { range, out in
                for i in range { out[i - range.lowerBound] = v[i] }
            }
        }
        func tensor(_ name: String, _ buffer: TensorBuffer<E>, shape: [Int], _ what: String) throws {
            try array(name, .float32, shape, what, as: Float.self) { range, out in
                for i in range { out[i - range.lowerBound] = buffer[i].widened }
            }
        }
        let s = inputs.rows, workload = inputs.workload
        let width = inputs.outputWidth, inputWidth = inputs.inputWidth
        let dtype = workload.dtype.rawValue

        try array("x.npy", .float32, [s, inputWidth], "x (S, inputWidth): the kernel's input, \(dtype) values stored exactly as float32",
                  as: Float.self) { range, out in
            for i in range {
                let (row, column) = i.quotientAndRemainder(dividingBy: inputWidth)
                out[i - range.lowerBound] = inputs.input(row: row, column: column).widened
            }
        }
        let slots = workload.batch.slotCount
        let wRows = workload.weightRows, wCols = workload.weightColumns
        let weightText = workload.kernel.isShrink
            ? "A (num_lora, stack·R, K), \(dtype) as float32; a slot of rank r uses rows 0..<stack·r (packed slices), the rest are 0"
            : "B (num_lora, N, R), \(dtype) as float32; a slot of rank r uses columns 0..<r, the rest are 0"
        try array("weights.npy", .float32, [slots, wRows, wCols], weightText, as: Float.self) { range, out in
            for i in range {
                let (slotRow, k) = i.quotientAndRemainder(dividingBy: wCols)
                let (slot, n) = slotRow.quotientAndRemainder(dividingBy: wRows)
                out[i - range.lowerBound] = inputs.weight(slot: slot, n: n, k: k).widened
            }
        }
        try tensor("base_output.npy", inputs.base, shape: [s, width], workload.kernel.isShrink
            ? "the output before the launch: NaN everywhere (the shrink has no base; NaN marks cells never written)"
            : "the base model's output (S, N) before the launch, \(dtype) as float32")
        for (index, (plan, output)) in zip(plans, outputs).enumerated() {
            let r = plan.routing
            let strategy = index < strategies.count ? strategies[index] : r.kind
            // Named by strategy: csgmv-graph's CPU segments are csgmv's routing, its files its own.
            let kind = strategy.rawValue.replacingOccurrences(of: "-", with: "_")
            try tensor("output_\(kind).npy", output, shape: [s, width],
                       "the output after the \(strategy.rawValue) launch, \(dtype) as float32")
            try values("\(kind)_seg_lens.npy", .int64, "seg_lens of the \(r.kind.rawValue) routing (max_len = \(r.maxLength))",
                       r.segmentLengths.map(Int64.init))
            try values("\(kind)_seg_indptr.npy", .int64, "seg_indptr of the \(r.kind.rawValue) routing: exclusive prefix sum of seg_lens",
                       r.segmentStarts.map(Int64.init))
            try values("\(kind)_weight_indices.npy", .int64, "weight_indices (slot of every segment) of the \(r.kind.rawValue) routing",
                       r.weightIndices.map(Int64.init))
            if let perm = r.permutation {
                try values("\(kind)_permutation.npy", .int64,
                           "permutation: row j of segment a is physical token row perm[seg_indptr[a] + j]", perm.map(Int64.init))
            }
        }
        try values("lora_ranks.npy", .int64, "rank of every slot (0: no LoRA)", workload.batch.slotRanks.map(Int64.init))
        try values("scalings.npy", .float32, "scaling of every slot (applied by the expands)", workload.batch.slotScalings)
        try array("reference.npy", .float64, [s, width],
                  "the fp64 reference of the same math on the same rounded inputs (float64 to keep it exact; NaN where the shrink never writes)",
                  as: Double.self) { range, out in
            out.update(from: reference.pointer + range.lowerBound, count: range.count)
        }
        return files
    }
}

extension KernelRunResult {
    /// Writes the run's tensors as `.npy` files (v1.0; `<f4` tensors with
    /// bf16/fp16 values stored exactly as float32, `<f8` for the fp64
    /// reference, `<i8` index arrays) plus `manifest.json` describing the
    /// workload, shapes, dtypes and every file. Needs `keepTensors`.
    public func writeDump(to directory: String) throws {
        guard let tensors else {
            throw DumpError(message: "the run did not keep its tensors (KernelRunOptions.keepTensors)")
        }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw DumpError(message: "\(directory) exists and is not a directory") }
        } else {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw DumpError(message: "cannot create directory \(directory): \(FileWriteError.reason(error))")
            }
        }
        let files = try tensors.write(directory, routings.map(\.routing))
        let manifest = DumpManifest(self, files: files)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(manifest)
        let path = (directory as NSString).appendingPathComponent("manifest.json")
        do {
            try AtomicFile.write(data + Data("\n".utf8), to: path, force: true)
        } catch {
            throw DumpError(message: "cannot write \(path): \(error)")
        }
    }
}

/// `manifest.json`: what a dump holds.
struct DumpManifest: Codable {
    /// One `.npy` file: its numpy dtype, shape and meaning.
    struct FileEntry: Codable { var dtype: String; var shape: [Int]; var description: String }
    struct AdapterEntry: Codable { var name: String; var slot: Int; var rank: Int; var scaling: Float }
    struct RoutingEntry: Codable {
        var routing: String; var numSegments: Int; var maxLen: Int; var whatIf: Bool
        var medianMs: Double; var maxAbsErrorVsReference: Double
    }
    var format = "lora-viz kernel dump v1: .npy v1.0, '<f4' tensors (bf16/fp16 values exactly as float32), '<f8' reference, '<i8' indices"
    var kernel: String
    var stack: Int
    var dtype: String
    var mode: String
    var seed: UInt64
    var dims: [String: Int]
    var slots: Int
    var adapters: [AdapterEntry]
    var sequenceSlots: [Int]
    var sequenceLengths: [Int]
    var tokens: Int
    var shapes: [String: [Int]]
    var outputColumnOffsets: [Int]
    var math: String
    var routings: [RoutingEntry]
    var bitwiseEqual: Bool
    var maxAbsDiffBetweenRoutings: Double
    var files: [String: FileEntry]

    init(_ r: KernelRunResult, files: [String: FileEntry]) {
        let w = r.workload
        kernel = w.kernel.name
        stack = w.kernel.isShrink ? w.kernel.stack : w.kernel.sliceCount
        dtype = w.dtype.rawValue
        mode = w.batch.mode.rawValue
        seed = w.seed
        dims = ["hidden": w.launchDims.hidden, "out": w.launchDims.out, "q": w.launchDims.q, "kv": w.launchDims.kv,
                "ffn": w.launchDims.ffn, "max_rank": w.launchDims.maxRank]
        slots = w.batch.slotCount
        adapters = w.batch.adapters.map { AdapterEntry(name: $0.name, slot: $0.slot, rank: $0.rank, scaling: $0.scaling) }
        sequenceSlots = w.batch.weightIndices
        sequenceLengths = w.batch.sequenceLengths
        tokens = w.batch.totalTokens
        let s = w.batch.totalTokens
        shapes = ["x": [s, w.inputWidth], "weights": [w.batch.slotCount, w.weightRows, w.weightColumns],
                  "output": [s, w.outputWidth]]
        let slices = w.kernel.outputSlices(w.launchDims)
        outputColumnOffsets = slices.map(\.lowerBound) + [slices.last?.upperBound ?? 0]
        math = w.kernel.math
        routings = r.routings.map { run in
            let routing = LaunchPlan(workload: w, strategy: run.routing, options: r.strategyOptions).routing
            return RoutingEntry(routing: run.routing.rawValue, numSegments: routing.segmentCount,
                                maxLen: routing.maxLength, whatIf: routing.isWhatIf,
                                medianMs: run.time.median, maxAbsErrorVsReference: run.maxAbsErrorVsReference)
        }
        bitwiseEqual = r.bitwiseEqual
        maxAbsDiffBetweenRoutings = r.maxAbsDiffBetweenRoutings
        self.files = files
    }

    enum CodingKeys: String, CodingKey {
        case format, kernel, stack, dtype, mode, seed, dims, slots, adapters, tokens, shapes, math, routings, files
        case sequenceSlots = "sequence_slots", sequenceLengths = "sequence_lengths"
        case outputColumnOffsets = "output_column_offsets", bitwiseEqual = "bitwise_equal"
        case maxAbsDiffBetweenRoutings = "max_abs_diff_between_routings"
    }
}
