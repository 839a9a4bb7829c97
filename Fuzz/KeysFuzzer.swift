// The TUI key handler target: see Fuzz/README.md.
import Foundation
import LoRAKernels
import LoRAScenario
@testable import LoRAVizUI

/// Every key the app binds, the prompt's editing keys and a few letters and
/// digits that commands typed at the prompt are made of.
let fuzzKeys: [Key] = {
    var keys = KeyBinding.table.flatMap(\.keys)
    keys += [.char(":"), .escape, .enter, .backspace, .delete, .tab, .backTab, .home, .end, .left, .right,
             .ctrl("a"), .ctrl("e"), .ctrl("w"), .ctrl("k"), .ctrl("u"), .ctrl("p"), .ctrl("n"), .f1,
             .wheelUp, .wheelDown, .char(" "), .char("="), .char("\u{0}"), .char("é")]
    keys += "abcdefghijklmnopqrstuvwxyz0123456789".map { Key.char($0) }
    // Not q or Ctrl-C: they end the walk (checked when they come, below).
    return keys
}()

/// The first screen, made once: an `AppState` is a value, so each input
/// starts from a copy (planning the first screen is 100 ms an input under ASan).
let startState: AppState = {
    guard let session = try? AppState.defaultSession() else { violated("no default session") }
    return AppState(session: session, width: 100, height: 30, glyphs: .unicode)
}()

/// The input is a program of events for one `AppState`: keys from the
/// table, raw terminal bytes through `KeyDecoder` (escape sequences,
/// bracketed paste, stray ESC on a virtual clock), resizes to any size from
/// 1×1, clock ticks, pastes, clicks, and the run events a host would send
/// after `startRun`. After every event: the plans are the session's, the
/// panes distinct chosen strategies holding the focus, every cursor inside
/// its grid, the prompt's cursor inside its text, the undo stack and the log
/// within their caps, and the screen renders at the state's size (every
/// 8th event, after a resize and at the end) (one line
/// per row, ASCII only with ASCII glyphs
/// when nothing typed was not ASCII). A key that reports an error
/// leaves the session as it was.
func fuzzKeys(_ data: Data) {
    var bytes = data.makeIterator()
    func next() -> Int? { bytes.next().map(Int.init) }
    guard let setup = next() else { return }
    let glyphs: Glyphs = setup & 1 == 0 ? .unicode : .ascii
    var state = startState
    state.glyphs = glyphs
    var decoder = KeyDecoder()
    var now = 0.0
    var running = false
    var events = 0
    // Text the user typed or pasted may reach the screen as it is.
    var typedNonASCII = false

    func send(_ event: AppEvent) -> Bool {
        let before = SessionState(state.session)
        let said = state.status
        let actions = state.handle(event)
        for action in actions {
            switch action {
            case .quit: return false
            case .startRun: running = true
            case .cancelRun: running = false
            default: break
            }
        }
        if case .key = event, let status = state.status, status != said, status.isError,
           SessionState(state.session) != before {
            violated("\(event) reported an error (\(status.text)) and changed the session")
        }
        events += 1
        // Drawing is most of an event's cost: every 8th event, every resize, and the last.
        checkInvariants(state, asciiInput: !typedNonASCII, render: events % 8 == 0 || { if case .resize = event { return true }; return false }())
        return true
    }
    func sendDecoded(_ decoded: [DecodedInput]) -> Bool {
        for d in decoded {
            switch d {
            case .key(let key): if !send(.key(key)) { return false }
            case .paste(let text): if !send(.paste(text)) { return false }
            }
        }
        return true
    }

    defer { checkInvariants(state, asciiInput: !typedNonASCII, render: true) }
    while let op = next(), events < 400 {
        let alive: Bool
        switch op % 8 {
        case 0, 1, 2:
            guard let k = next() else { return }
            let key = fuzzKeys[k % fuzzKeys.count]
            if key == .char("é") { typedNonASCII = true }
            alive = send(.key(key))
        case 3:
            // Raw bytes as ncurses hands them over, each a little after the last.
            guard let n = next() else { return }
            var ok = true
            for _ in 0..<(n % 24) {
                guard let b = next(), ok else { break }
                now += Double(b >> 6) * 0.03
                if b >= 0x80 { typedNonASCII = true }
                ok = sendDecoded(decoder.feed(.char(UInt32(b)), at: now))
            }
            alive = ok
        case 4:
            guard let w = next(), let h = next() else { return }
            alive = send(.resize(width: 1 + w % 220, height: 1 + h % 90))
        case 5:
            guard let dt = next() else { return }
            now += Double(dt) / 50
            alive = sendDecoded(decoder.expire(at: now)) && send(.tick(now: now))
        case 6:
            guard let n = next() else { return }
            var text = [UInt8]()
            for _ in 0..<(n % 32) { if let b = next() { text.append(UInt8(b)) } }
            if text.contains(where: { $0 >= 0x80 }) { typedNonASCII = true }
            alive = send(.paste(String(decoding: text, as: UTF8.self)))
        default:
            guard let x = next(), let y = next() else { return }
            if running && x & 3 == 0 {
                running = false
                alive = send(y & 1 == 0 ? .runFailed("fuzz") : .runProgress(Double(y) / 255))
            } else {
                alive = send(.mouse(x: x % 220, y: y % 90))
            }
        }
        if !alive { return }
    }
}

/// The properties that hold after any event (see `fuzzKeys`).
func checkInvariants(_ s: AppState, asciiInput: Bool, render: Bool) {
    if s.plans.workload != s.session.workload { violated("the plans are not of the session's workload") }
    let chosen = s.session.strategies
    if s.panes.count != min(2, chosen.count) || Set(s.panes).count != s.panes.count
        || !s.panes.allSatisfy(chosen.contains) || !s.panes.contains(s.focus) {
        violated("panes \(s.panes), focus \(s.focus), strategies \(chosen)")
    }
    for kind in s.panes {
        guard let p = s.cursor(kind) else { continue }
        let plan = s.plans[kind]
        if p.pid >= plan.pidCount || p.segment >= plan.segments.count || p.slice >= plan.sliceCount {
            violated("cursor \(p) outside the \(kind) grid (\(plan.pidCount) × \(plan.segments.count) × \(plan.sliceCount))")
        }
    }
    if let p = s.prompt, !(0...p.text.count).contains(p.cursor) { violated("prompt cursor \(p.cursor) outside \(p.text.debugDescription)") }
    if s.undoStack.count > AppState.undoLimit { violated("undo stack \(s.undoStack.count) over its cap") }
    if s.messageLog.count > AppState.logLimit { violated("message log \(s.messageLog.count) over its cap") }
    guard render else { return }
    let text = Screen.render(s).text
    let rows = text.split(separator: "\n", omittingEmptySubsequences: false).count
    if rows != s.height + 1 { violated("the screen has \(rows - 1) rows at height \(s.height)") }
    if s.glyphs.isASCII && asciiInput && !text.unicodeScalars.allSatisfy(\.isASCII) {
        violated("a non-ASCII scalar on an ASCII screen: \(text.unicodeScalars.first { !$0.isASCII }!)")
    }
}
