import Foundation

/// The tensors of a finished run, kept for `writeDump(to:)`.
final class KernelTensors: @unchecked Sendable {
    let write: (String) throws -> [String: String]

    init<E>(_ typed: TypedKernelTensors<E>) {
        write = typed.write
    }
}

/// The typed tensors behind `KernelTensors`.
struct TypedKernelTensors<E: KernelElement> {
    let inputs: KernelInputs<E>
    let plans: [LaunchPlan]
    let outputs: [TensorBuffer<E>]
    let reference: [Double]

    /// Writes every file into `directory`; returns file name → what it holds.
    func write(to directory: String) throws -> [String: String] {
        var files: [String: String] = [:]
        func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }
        let s = inputs.rows, workload = inputs.workload
        let width = inputs.outputWidth
        let dtype = workload.dtype.rawValue

        func tensor(_ name: String, _ buffer: TensorBuffer<E>, shape: [Int], _ what: String) throws {
            try NumpyFile.write(path(name), descr: .float32, shape: shape, as: Float.self) { range, out in
                for i in range { out[i - range.lowerBound] = buffer[i].widened }
            }
            files[name] = what
        }
        let inputWidth = inputs.inputWidth
        try NumpyFile.write(path("x.npy"), descr: .float32, shape: [s, inputWidth], as: Float.self) { range, out in
            for i in range {
                let (row, column) = i.quotientAndRemainder(dividingBy: inputWidth)
                out[i - range.lowerBound] = inputs.input(row: row, column: column).widened
            }
        }
        files["x.npy"] = "x (S, inputWidth): the kernel's input, \(dtype) values stored exactly as float32"

        let slots = workload.batch.slotCount
        let wRows = workload.weightRows, wCols = workload.weightColumns
        try NumpyFile.write(path("weights.npy"), descr: .float32, shape: [slots, wRows, wCols], as: Float.self) { range, out in
            for i in range {
                let (slotRow, k) = i.quotientAndRemainder(dividingBy: wCols)
                let (slot, n) = slotRow.quotientAndRemainder(dividingBy: wRows)
                out[i - range.lowerBound] = inputs.weight(slot: slot, n: n, k: k).widened
            }
        }
        files["weights.npy"] = workload.kernel.isShrink
            ? "A (num_lora, stack·R, K), \(dtype) as float32; a slot of rank r uses rows 0..<stack·r (packed slices), the rest are 0"
            : "B (num_lora, N, R), \(dtype) as float32; a slot of rank r uses columns 0..<r, the rest are 0"

        try tensor("base_output.npy", inputs.base, shape: [s, width], workload.kernel.isShrink
            ? "the output before the launch: NaN everywhere (the shrink has no base; NaN marks cells never written)"
            : "the base model's output (S, N) before the launch, \(dtype) as float32")
        for (plan, output) in zip(plans, outputs) {
            let kind = plan.routing.kind.rawValue.replacingOccurrences(of: "-", with: "_")
            try tensor("output_\(kind).npy", output, shape: [s, width],
                       "the output after the \(plan.routing.kind.rawValue) launch, \(dtype) as float32")
            let r = plan.routing
            try NumpyFile.write(path("\(kind)_seg_lens.npy"), descr: .int64, shape: [r.segmentCount], values: r.segmentLengths.map(Int64.init))
            try NumpyFile.write(path("\(kind)_seg_indptr.npy"), descr: .int64, shape: [r.segmentCount + 1], values: r.segmentStarts.map(Int64.init))
            try NumpyFile.write(path("\(kind)_weight_indices.npy"), descr: .int64, shape: [r.segmentCount], values: r.weightIndices.map(Int64.init))
            files["\(kind)_seg_lens.npy"] = "seg_lens of the \(r.kind.rawValue) routing (max_len = \(r.maxLength))"
            files["\(kind)_seg_indptr.npy"] = "seg_indptr of the \(r.kind.rawValue) routing: exclusive prefix sum of seg_lens"
            files["\(kind)_weight_indices.npy"] = "weight_indices (slot of every segment) of the \(r.kind.rawValue) routing"
            if let perm = r.permutation {
                try NumpyFile.write(path("\(kind)_permutation.npy"), descr: .int64, shape: [perm.count], values: perm.map(Int64.init))
                files["\(kind)_permutation.npy"] = "permutation: logical row seg_indptr[a] + j of segment a lives at physical row perm[seg_indptr[a] + j]"
            }
        }
        try NumpyFile.write(path("lora_ranks.npy"), descr: .int64, shape: [slots], values: workload.batch.slotRanks.map(Int64.init))
        files["lora_ranks.npy"] = "rank of every slot (0: no LoRA)"
        try NumpyFile.write(path("scalings.npy"), descr: .float32, shape: [slots], values: workload.batch.slotScalings)
        files["scalings.npy"] = "scaling of every slot (applied by the expands)"
        try NumpyFile.write(path("reference.npy"), descr: .float64, shape: [s, width], values: reference)
        files["reference.npy"] = "the fp64 reference of the same math on the same rounded inputs (float64; NaN where the shrink never writes)"
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
                throw DumpError(message: "cannot create directory \(directory): \(error.localizedDescription)")
            }
        }
        let files = try tensors.write(directory)
        let manifest = DumpManifest(self, files: files)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(manifest)
        let path = (directory as NSString).appendingPathComponent("manifest.json")
        guard FileManager.default.createFile(atPath: path, contents: data + Data("\n".utf8)) else {
            throw DumpError(message: "cannot write \(path)")
        }
    }
}

/// `manifest.json`: what a dump holds.
struct DumpManifest: Codable {
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
    var files: [String: String]

    init(_ r: KernelRunResult, files: [String: String]) {
        let w = r.workload
        kernel = w.kernel.name
        if case .sgemmLoRAA(let s) = w.kernel { stack = s } else { stack = w.kernel.sliceCount }
        dtype = w.dtype.rawValue
        mode = w.batch.mode.rawValue
        seed = w.seed
        dims = ["hidden": w.dims.hidden, "out": w.dims.out, "q": w.dims.q, "kv": w.dims.kv,
                "ffn": w.dims.ffn, "max_rank": w.dims.maxRank]
        slots = w.batch.slotCount
        adapters = w.batch.adapters.map { AdapterEntry(name: $0.name, slot: $0.slot, rank: $0.rank, scaling: $0.scaling) }
        sequenceSlots = w.batch.weightIndices
        sequenceLengths = w.batch.sequenceLengths
        tokens = w.batch.totalTokens
        let s = w.batch.totalTokens
        shapes = ["x": [s, w.inputWidth], "weights": [w.batch.slotCount, w.weightRows, w.weightColumns],
                  "output": [s, w.outputWidth]]
        switch w.kernel {
        case .qkvLoRAB: outputColumnOffsets = [0, w.dims.q, w.dims.q + w.dims.kv, w.dims.q + 2 * w.dims.kv]
        case .gateUpLoRAB: outputColumnOffsets = [0, w.dims.ffn, 2 * w.dims.ffn]
        default: outputColumnOffsets = [0, w.outputWidth]
        }
        math = w.kernel.isShrink
            ? "out[t, c] = round(sum_k x[t, k] * A[w, c, k]) for c < stack*rank[w], w the slot of token t; other cells never written"
            : "out[t, n] = round(round(scaling[w] * sum_{k<rank[w]} x[t, q*rank[w] + k] * B[w, n, k]) + base[t, n]) for n in slice q"
        routings = r.routings.map { run in
            let routing = Routing.make(run.routing, for: w.batch)
            return RoutingEntry(routing: run.routing.rawValue, numSegments: routing.segmentCount,
                                maxLen: routing.maxLength, whatIf: routing.isWhatIf,
                                medianMs: run.time.median, maxAbsErrorVsReference: run.maxAbsErrorVsReference)
        }
        bitwiseEqual = r.bitwiseEqual
        maxAbsDiffBetweenRoutings = r.maxAbsDiffBetweenRoutings
        self.files = files.merging(["manifest.json": "this file"]) { a, _ in a }
    }

    enum CodingKeys: String, CodingKey {
        case format, kernel, stack, dtype, mode, seed, dims, slots, adapters, tokens, shapes, math, routings, files
        case sequenceSlots = "sequence_slots", sequenceLengths = "sequence_lengths"
        case outputColumnOffsets = "output_column_offsets", bitwiseEqual = "bitwise_equal"
        case maxAbsDiffBetweenRoutings = "max_abs_diff_between_routings"
    }
}
