import CNcurses
import Glibc
import LoRAVizUI

/// The only code that touches ncurses: screen set-up and teardown, colours,
/// input decoding and a diff-based flush of the canvas.
///
/// Follows htop/nvtop: `setlocale` before `initscr`, a short `ESCDELAY`,
/// keypad and mouse on, resize as an event, and the terminal restored on every
/// way out (quit, SIGINT/SIGTERM/SIGHUP through the event loop, crashes through
/// a fatal-signal handler).
final class NcursesTerminal {
    /// What the terminal can show.
    enum ColorDepth: String {
        case none, eight, full256
    }

    /// An input event from the terminal.
    enum Input {
        case key(Key)
        case mouse(x: Int, y: Int)
        case resize(width: Int, height: Int)
        case signal(Int32)
        /// A bracketed paste's text.
        case paste(String)
    }

    /// Decodes what ncurses hands over raw (unknown sequences, split ones, pastes).
    private var decoder = KeyDecoder()
    /// Inputs decoded but not yet returned by `read`.
    private var queue: [Input] = []

    private(set) var width = 0
    private(set) var height = 0
    private(set) var colorDepth = ColorDepth.none
    /// Whether the locale can show UTF-8 glyphs.
    let localeIsUTF8: Bool
    private var shown: Canvas?
    private var pairs: [ColorRole: Int16] = [:]
    private var extraAttrs: [ColorRole: attr_t] = [:]
    private var isOpen = false
    /// The colours roles are drawn with (`setPalette`).
    private(set) var palette = Palette.standard

    /// Sets the locale (so wide characters work) and reports whether it is UTF-8.
    init() {
        setlocale(LC_ALL, "")
        localeIsUTF8 = lv_locale_is_utf8() != 0
    }

    /// Throws a clear error unless stdin and stdout are terminals that can
    /// address the cursor (`TERM=dumb`, an unset or unknown `TERM` cannot).
    static func requireTTY() throws {
        guard isatty(0) != 0 && isatty(1) != 0 else {
            throw TerminalUnavailable()
        }
        let term = getenv("TERM").map { String(cString: $0) } ?? ""
        // Checked before initscr, which would print its own error and exit 1 on an unknown TERM.
        guard !term.isEmpty, term != "dumb", lv_term_can_address() != 0 else {
            throw TerminalUnavailable(term: term)
        }
    }

    /// Enters curses mode: raw keys (Ctrl-C is a key), no echo, keypad, mouse, colours.
    func open(colors: Bool) {
        setenv("ESCDELAY", "25", 0)
        lv_install_signal_handlers()
        initscr()
        isOpen = true
        raw()
        noecho()
        nonl()
        _ = lv_keypad(1)
        curs_set(0)
        lv_enable_mouse()
        set_escdelay(25)
        lv_timeout(40)
        lv_bracketed_paste(1)
        if colors && has_colors() {
            start_color()
            use_default_colors()
            colorDepth = lv_colors() >= 256 && lv_color_pairs() > 32 ? .full256 : lv_colors() >= 8 ? .eight : .none
        }
        setUpColors()
        updateSize()
        shown = nil
    }

    /// Ctrl-Z: restores the terminal, stops the process as the shell's
    /// SIGTSTP would, and once continued (`fg`) re-enters raw mode on the
    /// alternate screen; the next draw repaints everything at the size the
    /// terminal has now.
    func suspend() {
        guard isOpen else { return }
        curs_set(1)
        lv_bracketed_paste(0)
        def_prog_mode()
        endwin()
        lv_stop_self()
        // Back from the stop: refresh restores the saved (raw) modes and the alternate screen.
        refresh()
        curs_set(0)
        lv_bracketed_paste(1)
        updateSize()
        shown = nil
    }

    /// Leaves curses mode and restores the terminal; safe to call twice.
    func close() {
        guard isOpen else { return }
        isOpen = false
        curs_set(1)
        lv_bracketed_paste(0)
        endwin()
        lv_restore_signal_handlers()
    }

    deinit { close() }

    // MARK: Colours

    /// One colour pair per role: 256-colour shades, the 8 basic colours, or none.
    private func setUpColors() {
        pairs = [:]
        extraAttrs = [:]
        let dim = lv_attr_dim(), bold = lv_attr_bold()
        switch colorDepth {
        case .none:
            // Monochrome: glyphs tell fates apart; attributes mark the rest.
            extraAttrs = [.dim: dim, .title: bold, .accent: bold, .error: bold, .warning: bold, .rank0Exit: dim,
                          .emptyExit: dim, .excessExit: dim, .noLoRAExit: dim, .columnExit: dim, .splitIdle: dim, .full: bold]
        case .eight, .full256:
            // The palette's colours (Palette.swift); a role without one keeps the terminal's default.
            var next: Int16 = 1
            for role in ColorRole.allCases {
                guard let fg = colorDepth == .eight ? palette.color8(role) : palette.color256(role) else { continue }
                init_pair(next, fg, -1)
                pairs[role] = next
                next += 1
            }
            extraAttrs = colorDepth == .eight ? [.dim: dim, .rank0Exit: dim, .noLoRAExit: dim, .title: bold] : [.title: bold]
        }
    }

    /// Draws roles with `palette`'s colours from the next frame on (every cell is rewritten).
    func setPalette(_ palette: Palette) {
        guard palette != self.palette else { return }
        self.palette = palette
        setUpColors()
        shown = nil
    }

    // MARK: Output

    /// Shows a canvas, writing only the cells that changed since the last frame.
    func draw(_ canvas: Canvas) {
        let full = shown == nil || shown!.width != canvas.width || shown!.height != canvas.height
        if full { erase() }
        let bold = lv_attr_bold(), reverse = lv_attr_reverse(), underline = lv_attr_underline()
        let cells = canvas.cells
        let old = full ? nil : shown!.cells
        for y in 0..<canvas.height {
            let base = y * canvas.width
            for x in 0..<canvas.width {
                let cell = cells[base + x]
                if let old, old[base + x] == cell { continue }
                var attrs: attr_t = extraAttrs[cell.style.role] ?? 0
                if cell.style.bold { attrs |= bold }
                if cell.style.reverse { attrs |= reverse }
                if cell.style.underline { attrs |= underline }
                // The bottom-right cell reports an error (the cursor cannot advance); harmless.
                _ = lv_put(Int32(y), Int32(x), cell.scalar.value, pairs[cell.style.role] ?? 0, attrs)
            }
        }
        refresh()
        shown = canvas
    }

    private func updateSize() {
        var h: Int32 = 0, w: Int32 = 0
        lv_getmaxyx(&h, &w)
        height = Int(h)
        width = Int(w)
    }

    /// Forgets what is on screen so the next draw repaints everything (after a resize).
    func invalidate() { shown = nil }

    // MARK: Input

    /// Waits up to the poll interval for input; `nil` on timeout.
    ///
    /// Characters go through `KeyDecoder` (escape sequences ncurses did not
    /// know, split ones, bracketed pastes); while it holds bytes of a sequence
    /// the poll is short so a lone Esc comes out after `KeyDecoder.escapeWait`.
    func read() -> Input? {
        let sig = lv_take_signal()
        if sig != 0 { return .signal(sig) }
        if !queue.isEmpty { return queue.removeFirst() }
        lv_timeout(decoder.isPending ? 10 : 40)
        var code: Int32 = 0, mx: Int32 = 0, my: Int32 = 0
        let kind = lv_read(&code, &mx, &my)
        let now = Self.monotonicSeconds()
        var decoded: [DecodedInput] = []
        switch kind {
        case Int32(LV_CHAR):
            decoded = decoder.feed(.char(UInt32(bitPattern: code)), at: now)
        case Int32(LV_KEY):
            let keys: [Int32: Key] = [
                Int32(LV_UP): .up, Int32(LV_DOWN): .down, Int32(LV_LEFT): .left, Int32(LV_RIGHT): .right,
                Int32(LV_PGUP): .pageUp, Int32(LV_PGDN): .pageDown, Int32(LV_HOME): .home, Int32(LV_END): .end,
                Int32(LV_BACKSPACE): .backspace, Int32(LV_DELETE): .delete, Int32(LV_ENTER): .enter,
                Int32(LV_BTAB): .backTab, Int32(LV_F1): .f1, Int32(LV_WHEEL_UP): .wheelUp,
                Int32(LV_WHEEL_DOWN): .wheelDown,
            ]
            if let key = keys[code] { decoded = decoder.feed(.key(key), at: now) }
        case Int32(LV_MOUSE):
            queue.append(.mouse(x: Int(mx), y: Int(my)))
        case Int32(LV_RESIZE):
            updateSize()
            shown = nil
            queue.append(.resize(width: width, height: height))
        default:
            decoded = decoder.expire(at: now)
            let late = lv_take_signal()
            if late != 0 { return .signal(late) }
        }
        // Decoded keys come before a mouse or resize event read in the same call.
        queue.insert(contentsOf: decoded.map { d -> Input in
            switch d {
            case .key(let k): return .key(k)
            case .paste(let text): return .paste(text)
            }
        }, at: 0)
        return queue.isEmpty ? nil : queue.removeFirst()
    }

    /// Seconds on a clock that never jumps (for the decoder's waits).
    static func monotonicSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

/// stdin or stdout is not a terminal.
struct TerminalUnavailable: Error, CustomStringConvertible {
    /// The `TERM` that cannot move the cursor; nil when stdin or stdout is not a terminal.
    var term: String?

    var description: String {
        let what = term.map { "the interactive view needs a terminal that can move the cursor; TERM=\($0.isEmpty ? "(unset)" : $0) cannot.\n" }
            ?? "the interactive view needs a terminal on stdin and stdout.\n"
        return "lora-viz: error: " + what
            + "For output you can pipe or save, use `lora-viz run` (a batch as a report) or "
            + "`lora-viz replay FILE --headless`."
    }
}
