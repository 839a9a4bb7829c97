#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a tensor or scratch buffer's memory comes from.
///
/// `.heap` is what every run uses. The guarded placements are for tests
/// (`GuardPageTests`): the buffer gets pages of its own between two
/// inaccessible (`PROT_NONE`) pages, flush against the one after it
/// (`.guardedEnd`) or the one before it (`.guardedStart`), so that a kernel
/// reading or writing even one byte past that edge of the buffer faults at
/// once, deterministically, instead of reading a neighbour's bytes (or
/// faulting only where the allocation happens to end at an unmapped page).
/// A guarded buffer is aligned only to its element (flush is exact), not to
/// the 64 bytes of the heap placement.
enum MemoryPlacement: Hashable, Sendable, CaseIterable {
    case heap
    case guardedEnd
    case guardedStart
}

/// One guarded mapping (`MemoryPlacement`): guard page, data pages, guard page.
///
/// `@unchecked Sendable`: only `let` addresses of a mapping its owner
/// (`TensorBuffer`, `ProgramScratch`) unmaps once, after every worker is done.
struct GuardedRegion: @unchecked Sendable {
    let base: UnsafeMutableRawPointer
    let length: Int
    /// The buffer, `byteCount` bytes flush against the guard page after it (`.guardedEnd`) or before it.
    let start: UnsafeMutableRawPointer

    static var pageSize: Int { Int(sysconf(Int32(_SC_PAGESIZE))) }

    init(byteCount: Int, alignment: Int, placement: MemoryPlacement) {
        precondition(placement != .heap)
        let page = Self.pageSize
        let dataPages = max(1, (byteCount + page - 1) / page)
        length = (dataPages + 2) * page
        guard let mapped = mmap(nil, length, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), mapped != MAP_FAILED else {
            fatalError("mmap of \(length) bytes failed")
        }
        base = mapped
        precondition(mprotect(mapped + page, dataPages * page, PROT_READ | PROT_WRITE) == 0, "mprotect failed")
        let first = Int(bitPattern: mapped + page)
        let end = first + dataPages * page
        let address = placement == .guardedEnd ? end - byteCount : first
        precondition(address % max(1, alignment) == 0, "a guarded buffer of \(byteCount) bytes cannot end flush at alignment \(alignment)")
        start = UnsafeMutableRawPointer(bitPattern: address)!
    }

    func free() { munmap(base, length) }
}

/// Memory for `count` values of `T`, on the heap or guarded; `regions` collects what `free` must unmap.
func allocateBuffer<T>(of _: T.Type, capacity count: Int, _ placement: MemoryPlacement,
                       _ regions: inout [GuardedRegion]) -> UnsafeMutablePointer<T> {
    guard placement != .heap else { return .allocate(capacity: count) }
    let region = GuardedRegion(byteCount: count * MemoryLayout<T>.stride, alignment: MemoryLayout<T>.alignment,
                               placement: placement)
    regions.append(region)
    return region.start.bindMemory(to: T.self, capacity: count)
}
