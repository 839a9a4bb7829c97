// MARK: - Reading tensors

extension SafetensorsFile {
    /// The tensor's elements as `Float`, row-major, from BF16, F16 or F32.
    ///
    /// BF16 and F16 widen exactly; F32 is copied. Bytes are read as
    /// little-endian (the format's byte order) from inside the mapping only:
    /// `init` has already checked that the tensor's range lies in the data
    /// section.
    ///
    /// - Throws: `ModelFileError` when there is no tensor `name`, or its
    ///   dtype is one lora-viz does not read ("unsupported dtype F64").
    public func floats(_ name: String) throws -> [Float] {
        guard let info = tensors[name] else {
            throw ModelFileError(file: path, tensor: name, message: "no such tensor in the file")
        }
        guard info.dtype.isReadable else {
            throw ModelFileError(
                file: path, tensor: name,
                message: "unsupported dtype \(info.dtype.rawValue) for tensor \(name) (lora-viz reads BF16, F16 and F32)")
        }
        let start = dataStart + info.byteRange.lowerBound
        let byteCount = info.byteRange.count
        precondition(start >= 0 && start + byteCount <= mappedCount, "validated range outside the mapping")
        let bytes = UnsafeRawBufferPointer(start: base + start, count: byteCount)
        switch info.dtype {
        case .f32:
            return (0..<byteCount / 4).map {
                Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)))
            }
        case .bf16:
            return (0..<byteCount / 2).map {
                let bits = UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self))
                return Float(bitPattern: UInt32(bits) << 16)
            }
        case .f16:
            return (0..<byteCount / 2).map {
                Self.widen(half: UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self)))
            }
        default:
            preconditionFailure("isReadable admits only BF16, F16 and F32")
        }
    }

    /// IEEE binary16 bits to `Float`, exactly (subnormals, infinities and NaN included).
    static func widen(half bits: UInt16) -> Float {
        let sign: UInt32 = UInt32(bits & 0x8000) << 16
        let exponent = Int((bits >> 10) & 0x1F)
        let mantissa = UInt32(bits & 0x3FF)
        switch exponent {
        case 0:
            // Zero or subnormal: mantissa × 2⁻²⁴, exact in Float.
            let magnitude = Float(mantissa) * 0x1p-24
            return sign == 0 ? magnitude : -magnitude
        case 0x1F:
            return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        default:
            return Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | (mantissa << 13))
        }
    }
}
