import Foundation

/// Writes `.npy` files, format version 1.0: the magic `\x93NUMPY`, version
/// bytes 1 0, a little-endian `UInt16` header length, then an ASCII dict
/// `{'descr': …, 'fortran_order': False, 'shape': (…), }` padded with spaces
/// and a final newline to a multiple of 64 bytes, then the raw C-order data.
enum NumpyFile {
    /// The element types the dump writes.
    enum Descr: String {
        case float32 = "<f4"
        case float64 = "<f8"
        case int64 = "<i8"

        var byteCount: Int { self == .float32 ? 4 : 8 }
    }

    /// The complete header (magic to newline) for an array.
    static func header(descr: Descr, shape: [Int]) -> [UInt8] {
        let dims = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var dict = "{'descr': '\(descr.rawValue)', 'fortran_order': False, 'shape': \(dims), }"
        let prefix = 10
        let total = (prefix + dict.utf8.count + 1 + 63) / 64 * 64
        dict += String(repeating: " ", count: total - prefix - dict.utf8.count - 1) + "\n"
        let length = UInt16(dict.utf8.count)
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(length & 0xFF), UInt8(length >> 8)] + Array(dict.utf8)
    }

    /// Writes an array whose `count` elements `fill` produces chunk by chunk
    /// (`fill(range, buffer)` writes elements `range` into `buffer`).
    static func write<T>(_ path: String, descr: Descr, shape: [Int], as _: T.Type,
                         fill: (Range<Int>, UnsafeMutablePointer<T>) -> Void) throws {
        precondition(MemoryLayout<T>.size == descr.byteCount)
        let count = shape.reduce(1, *)
        // Created exclusively, never through a symlink (the dump's folder is new and the user's own).
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o666)
        guard fd >= 0 else { throw DumpError(message: "cannot create \(path): \(String(cString: strerror(errno)))") }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        defer { try? handle.close() }
        try handle.write(contentsOf: Data(header(descr: descr, shape: shape)))
        let chunk = 1 << 18
        let buffer = UnsafeMutablePointer<T>.allocate(capacity: chunk)
        defer { buffer.deallocate() }
        var start = 0
        while start < count {
            let end = min(count, start + chunk)
            fill(start..<end, buffer)
            // x86-64 and arm64 are little-endian, as the descriptors say.
            try handle.write(contentsOf: Data(bytesNoCopy: buffer, count: (end - start) * MemoryLayout<T>.size, deallocator: .none))
            start = end
        }
    }

    /// Writes a whole array held in memory.
    static func write<T>(_ path: String, descr: Descr, shape: [Int], values: [T]) throws {
        try write(path, descr: descr, shape: shape, as: T.self) { range, buffer in
            for i in range { buffer[i - range.lowerBound] = values[i] }
        }
    }
}

/// A dump could not be written.
public struct DumpError: Error, CustomStringConvertible {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { "error: \(message)" }
}
