#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import LoRAKernels

// MARK: - Opening and mapping

extension SafetensorsFile {
    /// Opens `path` read-only and maps the whole regular file.
    static func map(path: String) throws -> (base: UnsafeRawPointer, count: Int) {
        func failure(_ what: String, _ code: Int32) -> ModelFileError {
            ModelFileError(file: path, message: "\(what): \(String(cString: strerror(code)))")
        }
        // O_NONBLOCK: opening a FIFO does not wait for a writer (it did, forever); it is refused below.
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw failure("cannot open", errno) }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw failure("cannot stat", errno) }
        switch status.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: throw ModelFileError(file: path, message: "is a directory, not a .safetensors file")
        default: throw ModelFileError(file: path, message: "is \(RegularFile.notRegular(status.st_mode) ?? "not a file"), not a regular file")
        }
        let size = Int(status.st_size)
        guard size >= 8 else {
            throw ModelFileError(file: path, message: "is \(size) bytes, shorter than the 8-byte header length")
        }
        let pointer = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let pointer, pointer != MAP_FAILED else { throw failure("cannot mmap", errno) }
        return (UnsafeRawPointer(pointer), size)
    }

    static func unmap(_ base: UnsafeRawPointer, _ count: Int) {
        munmap(UnsafeMutableRawPointer(mutating: base), count)
    }
}
