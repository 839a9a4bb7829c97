// MARK: - Header validation

extension SafetensorsFile {
    /// safetensors' own cap on the JSON header (the Rust crate's `MAX_HEADER_SIZE`).
    public static let maximumHeaderLength = 100_000_000

    struct ValidatedHeader {
        var dataStart: Int
        var tensors: [String: TensorInfo]
        var metadata: [String: String]
    }

    /// Checks every rule listed on `SafetensorsFile` against the mapped bytes.
    static func validateHeader(path: String, base: UnsafeRawPointer, count: Int) throws -> ValidatedHeader {
        func failure(_ message: String, tensor: String? = nil) -> ModelFileError {
            ModelFileError(file: path, tensor: tensor, message: message)
        }
        guard count >= 8 else {
            throw failure("is \(count) bytes, shorter than the 8-byte header length")
        }
        let length = UInt64(littleEndian: base.loadUnaligned(as: UInt64.self))
        guard length > 0 else { throw failure("header length is 0") }
        guard length <= UInt64(maximumHeaderLength) else {
            throw failure("header length \(length) is over safetensors' \(maximumHeaderLength)-byte limit")
        }
        guard length <= UInt64(count - 8) else {
            throw failure("header length \(length) runs past the end of the file (\(count) bytes leave \(count - 8) for it)")
        }
        let headerCount = Int(length)
        let dataStart = 8 + headerCount
        let dataCount = count - dataStart
        let json: JSONValue
        do {
            json = try JSONValue.parse(bytes: UnsafeRawBufferPointer(start: base + 8, count: headerCount))
        } catch let error as JSONSyntaxError {
            throw failure("header is not valid JSON: \(error.message) at header byte \(error.offset)")
        }
        guard let object = json.object else {
            throw failure("header is \(json.shown), not a JSON object")
        }

        var metadata: [String: String] = [:]
        var tensors: [String: TensorInfo] = [:]
        for name in object.keys {
            let entry = object[name]!
            if name == "__metadata__" {
                metadata = try metadataTable(entry, failure: failure)
                continue
            }
            tensors[name] = try tensorInfo(name: name, entry: entry, dataCount: dataCount, failure: failure)
        }
        try checkTiling(tensors: tensors, dataCount: dataCount, failure: failure)
        return ValidatedHeader(dataStart: dataStart, tensors: tensors, metadata: metadata)
    }

    private static func metadataTable(
        _ entry: JSONValue, failure: (String, String?) -> ModelFileError
    ) throws -> [String: String] {
        guard let table = entry.object else {
            throw failure("__metadata__ is \(entry.shown), not an object of strings", nil)
        }
        var metadata: [String: String] = [:]
        for key in table.keys {
            guard let value = table[key]?.string else {
                throw failure("__metadata__[\"\(key)\"] is \(table[key]!.shown), not a string", nil)
            }
            metadata[key] = value
        }
        return metadata
    }

    private static func tensorInfo(
        name: String, entry: JSONValue, dataCount: Int, failure: (String, String?) -> ModelFileError
    ) throws -> TensorInfo {
        guard let fields = entry.object else {
            throw failure("entry is \(entry.shown), not an object", name)
        }
        guard let dtypeValue = fields["dtype"] else { throw failure("has no dtype", name) }
        guard let dtypeName = dtypeValue.string else {
            throw failure("dtype is \(dtypeValue.shown), not a string", name)
        }
        guard let dtype = SafetensorsDType(rawValue: dtypeName) else {
            throw failure("unknown dtype '\(dtypeName)'", name)
        }
        guard let shapeValue = fields["shape"] else { throw failure("has no shape", name) }
        guard let dims = shapeValue.array else {
            throw failure("shape is \(shapeValue.shown), not an array", name)
        }
        var shape: [Int] = []
        for dim in dims {
            guard let size = dim.int, size >= 0 else {
                throw failure("shape has \(dim.shown), not a non-negative integer", name)
            }
            shape.append(size)
        }
        guard let offsetsValue = fields["data_offsets"] else { throw failure("has no data_offsets", name) }
        guard let offsets = offsetsValue.array, offsets.count == 2,
              let begin = offsets[0].int, let end = offsets[1].int, begin >= 0, end >= 0
        else {
            throw failure("data_offsets is \(offsetsValue.shown(list: true)), not two non-negative integers", name)
        }
        guard begin <= end else { throw failure("data_offsets [\(begin), \(end)] end before they begin", name) }
        guard end <= dataCount else {
            throw failure("data_offsets [\(begin), \(end)] run past the data section's \(dataCount) bytes", name)
        }
        let shown = "\(dtype.rawValue) \(shape)"
        var bits = dtype.bitCount
        for size in shape {
            let (product, overflow) = bits.multipliedReportingOverflow(by: size)
            guard !overflow else { throw failure("shape \(shape) is too large: its byte size overflows", name) }
            bits = product
        }
        guard bits % 8 == 0 else {
            throw failure("\(shown) is \(bits) bits, not a whole number of bytes", name)
        }
        guard bits / 8 == end - begin else {
            throw failure("data_offsets [\(begin), \(end)] hold \(end - begin) bytes but \(shown) needs \(bits / 8)", name)
        }
        return TensorInfo(name: name, dtype: dtype, shape: shape, byteRange: begin..<end)
    }

    /// The tensors must cover the data section exactly, in offset order, without overlap or gap.
    private static func checkTiling(
        tensors: [String: TensorInfo], dataCount: Int, failure: (String, String?) -> ModelFileError
    ) throws {
        // Ties (empty tensors at one offset) sort by name so the messages are deterministic.
        let ordered = tensors.values.sorted {
            ($0.byteRange.lowerBound, $0.byteRange.upperBound, $0.name) < ($1.byteRange.lowerBound, $1.byteRange.upperBound, $1.name)
        }
        var end = 0
        var previous: TensorInfo?
        for tensor in ordered {
            let range = tensor.byteRange
            if range.lowerBound < end, let previous {
                throw failure(
                    "data_offsets [\(range.lowerBound), \(range.upperBound)] overlap tensor '\(previous.name)' at [\(previous.byteRange.lowerBound), \(previous.byteRange.upperBound)]",
                    tensor.name)
            }
            if range.lowerBound > end {
                let after = previous.map { " (after tensor '\($0.name)')" } ?? ""
                throw failure(
                    "data_offsets [\(range.lowerBound), \(range.upperBound)] leave data bytes \(end)..<\(range.lowerBound) unused\(after); safetensors requires the tensors to be contiguous",
                    tensor.name)
            }
            end = range.upperBound
            previous = tensor
        }
        guard end == dataCount else {
            throw failure("the tensors end at data byte \(end) but the data section has \(dataCount) bytes", nil)
        }
    }
}

extension JSONValue {
    /// Like `shown`, but spells out a short array of scalars (`[0, 100]`).
    func shown(list: Bool) -> String {
        if list, let elements = array, elements.count <= 4,
           elements.allSatisfy({ $0.array == nil && $0.object == nil }) {
            return "[" + elements.map { $0.string.map { "\"\($0)\"" } ?? $0.shown }.joined(separator: ", ") + "]"
        }
        return shown
    }
}
