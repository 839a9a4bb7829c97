import Dispatch
import Foundation
import Synchronization

/// Work spread over a fixed number of worker threads, in chunks pulled one at
/// a time so that uneven chunks balance out.
enum ParallelLoop {
    /// The machine's online cores.
    static var coreCount: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

    /// Calls `body` for consecutive chunks of `0..<count` (at most `chunk`
    /// long) on `threads` workers; stops handing out chunks once `isCancelled`
    /// answers true. Returns false when it stopped early.
    @discardableResult
    static func run(count: Int, chunk: Int, threads: Int,
                    isCancelled: @Sendable () -> Bool = { false },
                    _ body: @Sendable (Range<Int>) -> Void) -> Bool {
        run(count: count, chunk: chunk, threads: threads, isCancelled: isCancelled) { _, range in body(range) }
    }

    /// The workers `run` would use for `count` items in chunks of `chunk`.
    static func workers(count: Int, chunk: Int, threads: Int) -> Int {
        max(1, min(threads, cdiv(max(count, 1), max(1, chunk))))
    }

    /// The same, telling `body` which worker (`0 ..< workers(…)`) runs the
    /// chunk, so that workers can keep their own scratch memory.
    @discardableResult
    static func run(count: Int, chunk: Int, threads: Int,
                    isCancelled: @Sendable () -> Bool = { false },
                    _ body: @Sendable (_ worker: Int, Range<Int>) -> Void) -> Bool {
        guard count > 0 else { return !isCancelled() }
        let chunk = max(1, chunk)
        let chunks = cdiv(count, chunk)
        let workers = workers(count: count, chunk: chunk, threads: threads)
        if workers == 1 {
            for c in 0..<chunks {
                if isCancelled() { return false }
                body(0, c * chunk ..< min(count, (c + 1) * chunk))
            }
            return true
        }
        /// The next chunk to hand out, and whether handing out has stopped.
        struct Dealer { var next = 0, stopped = false }
        let dealer = Mutex(Dealer())
        withoutActuallyEscaping(body) { body in
            withoutActuallyEscaping(isCancelled) { isCancelled in
                DispatchQueue.concurrentPerform(iterations: workers) { worker in
                    while true {
                        let c: Int? = dealer.withLock { d in
                            if !d.stopped && isCancelled() { d.stopped = true }
                            let c = d.next
                            d.next += 1
                            return d.stopped || c >= chunks ? nil : c
                        }
                        guard let c else { return }
                        body(worker, c * chunk ..< min(count, (c + 1) * chunk))
                    }
                }
            }
        }
        return !dealer.withLock { $0.stopped }
    }
}
