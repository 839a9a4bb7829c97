import Foundation
import Synchronization

/// The time a scenario plays by, injected so tests and headless replay never sleep.
public protocol PlaybackClock: AnyObject, Sendable {
    /// Seconds since an arbitrary origin.
    func now() -> Double
    /// Returns at `deadline` or later (a virtual clock jumps there at once).
    func sleep(until deadline: Double)
}

/// Wall-clock time; `sleep` really waits. For the TUI.
public final class SystemClock: PlaybackClock, Sendable {
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
public final class VirtualClock: PlaybackClock, Sendable {
    private let time: Mutex<Double>

    public init(start: Double = 0) { time = Mutex(start) }

    public func now() -> Double {
        time.withLock { $0 }
    }

    public func sleep(until deadline: Double) {
        time.withLock { $0 = max($0, deadline) }
    }

    /// Moves time forward, as a test's "wait" would.
    public func advance(by seconds: Double) {
        time.withLock { $0 += max(0, seconds) }
    }
}
