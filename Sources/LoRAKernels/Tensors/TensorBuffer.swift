/// A fixed-size buffer of elements the kernels read and
/// write through raw pointers from several threads.
///
/// A class so that worker threads share one allocation without copies; the
/// executor guarantees that concurrent programs write disjoint cells.
final class TensorBuffer<Element>: @unchecked Sendable {
    let count: Int
    let pointer: UnsafeMutablePointer<Element>
    /// The mapping of a guarded buffer (tests), nil on the heap.
    private let region: GuardedRegion?

    /// A buffer of `count` elements, every one set to `value`, on a 64-byte
    /// (cache line) boundary: vector loads stay aligned where rows allow, and
    /// threads writing neighbouring tiles share no line at a tile's start.
    /// - Parameter placement: `.heap`, or between guard pages (`MemoryPlacement`, tests).
    init(count: Int, repeating value: Element, placement: MemoryPlacement = .heap) {
        self.count = count
        let bytes = max(count, 1) * MemoryLayout<Element>.stride
        let raw: UnsafeMutableRawPointer
        if placement == .heap {
            raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: max(64, MemoryLayout<Element>.alignment))
            region = nil
        } else {
            // Exactly `count` elements before the guard page (one when empty).
            let region = GuardedRegion(byteCount: bytes, alignment: MemoryLayout<Element>.alignment, placement: placement)
            raw = region.start
            self.region = region
        }
        pointer = raw.bindMemory(to: Element.self, capacity: max(count, 1))
        pointer.initialize(repeating: value, count: count)
    }

    /// A copy of another buffer.
    convenience init(copying other: TensorBuffer<Element>, placement: MemoryPlacement = .heap) {
        self.init(count: other.count, repeating: other.pointer.pointee, placement: placement)
        assign(from: other)
    }

    deinit {
        pointer.deinitialize(count: count)
        if let region { region.free() } else { UnsafeMutableRawPointer(pointer).deallocate() }
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
