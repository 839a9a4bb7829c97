import Foundation

/// The time a scenario plays by, injected so tests and headless replay never sleep.
public protocol PlaybackClock: AnyObject, Sendable {
    /// Seconds since an arbitrary origin.
    func now() -> Double
    /// Returns at `deadline` or later (a virtual clock jumps there at once).
    func sleep(until deadline: Double)
}

/// Wall-clock time; `sleep` really waits. For the TUI.
public final class SystemClock: PlaybackClock, @unchecked Sendable {
    private let origin = DispatchTime.now().uptimeNanoseconds

    public init() {}

    public func now() -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - origin) / 1e9
    }

    public func sleep(until deadline: Double) {
        let wait = deadline - now()
        if wait > 0 { Thread.sleep(forTimeInterval: wait) }
    }
}

/// Time that moves only when something sleeps on it: headless replay and tests.
public final class VirtualClock: PlaybackClock, @unchecked Sendable {
    private let lock = NSLock()
    private var time: Double

    public init(start: Double = 0) { time = start }

    public func now() -> Double {
        lock.lock(); defer { lock.unlock() }
        return time
    }

    public func sleep(until deadline: Double) {
        lock.lock(); defer { lock.unlock() }
        time = max(time, deadline)
    }

    /// Moves time forward, as a test's "wait" would.
    public func advance(by seconds: Double) {
        lock.lock(); defer { lock.unlock() }
        time += max(0, seconds)
    }
}
