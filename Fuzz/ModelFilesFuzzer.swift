// The model and adapter file targets: see Fuzz/README.md.
import Foundation
import LoRAKernels
@testable import LoRAModels

/// A folder for the file under test, made once per process.
let modelScratch: String = {
    var template = Array((NSTemporaryDirectory() + "/lora-viz-fuzz-model-XXXXXX").utf8CString)
    guard let made = mkdtemp(&template) else { violated("cannot make a scratch folder") }
    return String(cString: made)
}()

/// tiny-llama's dims (examples/models/tiny-llama): hidden 64, q 64, kv 32, ffn 128, R 16.
let tinyDims = ModelDims(hidden: 64, out: 64, q: 64, kv: 32, ffn: 128, maxRank: 16)

/// examples/adapters/tiny-sql-bf16's config: rank 8 on all seven projections.
let tinyAdapterConfig: PEFTAdapterConfig = {
    let json = #"{"r": 8, "lora_alpha": 16, "peft_type": "LORA", "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]}"#
    do { return try PEFTAdapterConfig.parse(Data(json.utf8), file: "adapter_config.json") } catch { violated("\(error)") }
}()

/// Errors of this module name the file they are about.
func checkNamesFile(_ error: Error, _ file: String, _ what: String) {
    guard let e = error as? ModelFileError else { violated("\(what) threw \(type(of: error)), not a ModelFileError: \(error)") }
    if e.file != file { violated("\(what): the error names \(e.file), not \(file): \(e)") }
    if !e.description.hasPrefix(file + ": ") || e.message.isEmpty { violated("\(what): an error without its file or reason: \(e)") }
}

/// A `.safetensors` file (written to a scratch file and mapped, as the
/// reader always reads): it is refused with an error naming the file, or
/// every tensor's range lies in the data section with exactly
/// shape × element size bytes, the tensors tile the data section, each
/// readable tensor widens to its element count of floats; read as a PEFT
/// adapter's weights on tiny-llama's dims, every launch's weights either
/// come with `rows × columns` values at a rank within R or are refused
/// naming the file.
func fuzzSafetensors(_ data: Data) {
    let path = modelScratch + "/adapter_model.safetensors"
    guard FileManager.default.createFile(atPath: path, contents: data) else { violated("cannot write \(path)") }
    let file: SafetensorsFile
    do {
        file = try SafetensorsFile(path: path)
    } catch {
        checkNamesFile(error, path, "SafetensorsFile")
        return
    }
    let dataCount = data.count - file.dataStart
    var end = 0
    for info in file.tensorNames.compactMap(file.info).sorted(by: { $0.byteRange.lowerBound < $1.byteRange.lowerBound }) {
        if info.byteRange.lowerBound != end { violated("\(info.name) begins at \(info.byteRange.lowerBound), not \(end)") }
        end = info.byteRange.upperBound
        if info.byteRange.count * 8 != info.elementCount * info.dtype.bitCount {
            violated("\(info.name): \(info.byteRange.count) bytes for \(info.elementCount) elements of \(info.dtype)")
        }
        do {
            let values = try file.floats(info.name)
            if values.count != info.elementCount { violated("\(info.name): \(values.count) floats for \(info.elementCount) elements") }
        } catch {
            checkNamesFile(error, path, "floats")
            if info.dtype.isReadable { violated("a readable \(info.dtype) tensor refused: \(error)") }
        }
    }
    if end != dataCount { violated("the tensors end at \(end) of a \(dataCount)-byte data section") }
    let adapter: PEFTAdapter
    do {
        adapter = try PEFTAdapter(folder: modelScratch, config: tinyAdapterConfig, weights: file)
    } catch {
        checkNamesFile(error, path, "PEFTAdapter")
        return
    }
    for module in LayerModule.allCases {
        for shrink in [true, false] {
            for layer in [0, 1] {
                do {
                    let w = try adapter.kernelWeights(module: module, layer: layer, shrink: shrink, dims: tinyDims)
                    if w.values.count != (w.rank == 0 ? 0 : w.rows * w.columns) && !(w.rank == 0 && w.values.isEmpty) {
                        violated("\(module) layer \(layer): \(w.values.count) values for \(w.rows) × \(w.columns)")
                    }
                    if w.rank > tinyDims.maxRank || w.rank < 0 { violated("\(module): rank \(w.rank) outside 0...\(tinyDims.maxRank)") }
                    if !w.scaling.isFinite { violated("\(module): scaling \(w.scaling)") }
                } catch {
                    checkNamesFile(error, path, "kernelWeights(\(module))")
                }
            }
        }
    }
}

/// A `config.json`: refused naming the file, or every dimension it gives
/// the kernels is positive, and reading the same bytes again gives the same config.
func fuzzModelConfig(_ data: Data) {
    let file = "fuzz/config.json"
    do {
        let config = try ModelConfig.parse(data, file: file)
        if config.hidden <= 0 || config.heads <= 0 || config.kvHeads <= 0 || config.headDim <= 0 || config.intermediate <= 0 {
            violated("a config with a dimension ≤ 0: \(config)")
        }
        if (try? ModelConfig.parse(data, file: file)) != config { violated("the same bytes read to another config") }
    } catch {
        checkNamesFile(error, file, "ModelConfig.parse")
    }
}

/// An `adapter_config.json`: refused naming the file, or its rank and every
/// `rank_pattern` rank are positive, alpha and every scaling it gives a
/// projection are finite.
func fuzzAdapterConfig(_ data: Data) {
    let file = "fuzz/adapter_config.json"
    do {
        let config = try PEFTAdapterConfig.parse(data, file: file)
        if config.r <= 0 || config.rankPattern.values.contains(where: { $0 <= 0 }) { violated("a rank ≤ 0: \(config)") }
        for name in ["model.layers.0.self_attn.q_proj", "model.layers.3.mlp.down_proj", "q_proj"] {
            let s = config.scaling(module: name)
            if !s.isFinite || config.rank(module: name) <= 0 { violated("\(name): rank \(config.rank(module: name)), scaling \(s)") }
        }
    } catch {
        checkNamesFile(error, file, "PEFTAdapterConfig.parse")
    }
}
