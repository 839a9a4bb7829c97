/// A memory-mapped `.safetensors` file whose header has been checked.
///
/// Hand-written rather than a dependency: the one maintained Swift reader
/// found (jkrukowski/swift-safetensors) imports CoreML unconditionally, so it
/// does not build on Linux, reads through `Data(contentsOf:)` rather than
/// mmap, and converts the header length with `Int(UInt64)`, which traps on a
/// hostile file; mlx-swift and swift-transformers bring whole Apple-bound
/// frameworks; none is in the offline package set. The format is small
/// (<https://github.com/huggingface/safetensors#format>), so this reader
/// follows the reference Rust crate's checks instead.
///
///     let file = try SafetensorsFile(path: "adapter/adapter_model.safetensors")
///     let a = try file.floats("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight")
///
/// The layout is an 8-byte little-endian header length `N`, `N` bytes of
/// UTF-8 JSON naming each tensor's dtype, shape and `data_offsets` (relative
/// to the data section after the header), then the data. Everything in the
/// header is validated in `init` before any tensor byte is read:
///
/// - `N` ≤ file size − 8 and ≤ 100 MB (safetensors' own limit), and `N` > 0;
/// - the header is one JSON object; `__metadata__`, if present, maps strings
///   to strings;
/// - each tensor names a known dtype, a shape of non-negative integers, and
///   two integer offsets with 0 ≤ begin ≤ end ≤ data size;
/// - shape product × element bits / 8 == end − begin, computed without
///   overflow;
/// - the tensors tile the data section exactly: sorted by offset, each begins
///   where the previous ended, the first at 0 and the last at the end (the
///   reference crate's rule; so no two overlap and no bytes are unaccounted).
///
/// - Note: the mapping is `MAP_PRIVATE`; a file truncated by another process
///   while mapped can still fault (`SIGBUS`) on access, as with any mmap.
///
/// `@unchecked Sendable`: every property is a `let` and `base` points into a
/// read-only mapping that lives as long as the file object, so threads may
/// share it; the compiler cannot see that through a raw pointer.
public final class SafetensorsFile: @unchecked Sendable {
    /// The path the file was opened with.
    public let path: String
    /// The `__metadata__` table (empty when the header has none).
    public let metadata: [String: String]
    /// Every tensor's name, sorted.
    public let tensorNames: [String]

    let tensors: [String: TensorInfo]
    /// Start of the read-only mapping of the whole file.
    let base: UnsafeRawPointer
    let mappedCount: Int
    /// File offset of the data section: 8 + header length.
    let dataStart: Int

    /// Opens, maps and validates the file at `path`.
    ///
    /// - Throws: `ModelFileError` naming the file (and tensor) for a file
    ///   that cannot be opened or mapped, is not a regular file, or whose
    ///   header breaks any rule above.
    public init(path: String) throws {
        self.path = path
        let mapping = try Self.map(path: path)
        do {
            let header = try Self.validateHeader(path: path, base: mapping.base, count: mapping.count)
            base = mapping.base
            mappedCount = mapping.count
            dataStart = header.dataStart
            tensors = header.tensors
            metadata = header.metadata
            tensorNames = header.tensors.keys.sorted()
        } catch {
            Self.unmap(mapping.base, mapping.count)
            throw error
        }
    }

    deinit {
        Self.unmap(base, mappedCount)
    }

    /// The header's entry for `name`, or nil when there is no such tensor.
    public func info(_ name: String) -> TensorInfo? {
        tensors[name]
    }
}

/// One tensor's header entry.
public struct TensorInfo: Hashable, Sendable {
    public var name: String
    public var dtype: SafetensorsDType
    /// Dimensions, outermost first (row-major).
    public var shape: [Int]
    /// `data_offsets`: bytes within the data section (not the file).
    public var byteRange: Range<Int>

    public init(name: String, dtype: SafetensorsDType, shape: [Int], byteRange: Range<Int>) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.byteRange = byteRange
    }

    /// Number of elements: the product of `shape` (1 for a scalar).
    public var elementCount: Int { shape.reduce(1, *) }
}
