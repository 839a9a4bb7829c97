/// A fixed-size buffer of elements the kernels read and
/// write through raw pointers from several threads.
///
/// A class so that worker threads share one allocation without copies; the
/// executor guarantees that concurrent programs write disjoint cells.
final class TensorBuffer<Element>: @unchecked Sendable {
    let count: Int
    let pointer: UnsafeMutablePointer<Element>

    /// A buffer of `count` elements, every one set to `value`, on a 64-byte
    /// (cache line) boundary: vector loads stay aligned where rows allow, and
    /// threads writing neighbouring tiles share no line at a tile's start.
    init(count: Int, repeating value: Element) {
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Element>.stride,
                                                   alignment: max(64, MemoryLayout<Element>.alignment))
        pointer = raw.bindMemory(to: Element.self, capacity: max(count, 1))
        pointer.initialize(repeating: value, count: count)
    }

    /// A copy of another buffer.
    convenience init(copying other: TensorBuffer<Element>) {
        self.init(count: other.count, repeating: other.pointer.pointee)
        assign(from: other)
    }

    deinit {
        pointer.deinitialize(count: count)
        UnsafeMutableRawPointer(pointer).deallocate()
    }

    /// Overwrites every element with `other`'s (same count).
    func assign(from other: TensorBuffer<Element>) {
        precondition(other.count == count)
        pointer.update(from: other.pointer, count: count)
    }

    subscript(i: Int) -> Element {
        get { pointer[i] }
        set { pointer[i] = newValue }
    }
}
