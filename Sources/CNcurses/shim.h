#ifndef CNCURSES_SHIM_H
#define CNCURSES_SHIM_H
#define NCURSES_WIDECHAR 1
#define _XOPEN_SOURCE_EXTENDED 1
#include <ncursesw/ncurses.h>
#include <locale.h>
#include <langinfo.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>
#include <term.h>

// Wrappers for what Swift 6 cannot use directly: macros (COLOR_PAIR, getmaxyx,
// KEY_*), mutable globals (LINES, COLS, COLORS, stdscr) and cchar_t set-up.
// Only Sources/lora-viz/NcursesTerminal.swift calls these (the static state
// below must live in one Swift file's object).

static inline int lv_lines(void) { return LINES; }
static inline int lv_cols(void) { return COLS; }
static inline int lv_colors(void) { return COLORS; }
static inline int lv_color_pairs(void) { return COLOR_PAIRS; }
static inline WINDOW *lv_stdscr(void) { return stdscr; }
static inline void lv_getmaxyx(int *y, int *x) { int yy, xx; getmaxyx(stdscr, yy, xx); *y = yy; *x = xx; }
static inline void lv_timeout(int ms) { wtimeout(stdscr, ms); }
static inline int lv_keypad(int on) { return keypad(stdscr, on ? TRUE : FALSE); }
static inline attr_t lv_attr_bold(void) { return A_BOLD; }
static inline attr_t lv_attr_reverse(void) { return A_REVERSE; }
static inline attr_t lv_attr_underline(void) { return A_UNDERLINE; }
static inline attr_t lv_attr_dim(void) { return A_DIM; }

/// Whether the current locale's codeset is UTF-8 (after setlocale).
static inline int lv_locale_is_utf8(void) {
    const char *cs = nl_langinfo(CODESET);
    return cs && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0);
}

/// Writes one character with attributes and colour pair at (y, x).
static inline int lv_put(int y, int x, unsigned int ch, short pair, attr_t attrs) {
    wchar_t w[2] = { (wchar_t)ch, 0 };
    cchar_t cc;
    if (setcchar(&cc, w, attrs, pair, NULL) != OK) return ERR;
    return mvwadd_wch(stdscr, y, x, &cc);
}

/// Event kinds returned by lv_read.
enum { LV_NONE = 0, LV_CHAR = 1, LV_KEY = 2, LV_MOUSE = 3, LV_RESIZE = 4 };
/// Function keys, decoded from KEY_* so Swift never sees the macros.
enum { LV_UP = 1, LV_DOWN, LV_LEFT, LV_RIGHT, LV_PGUP, LV_PGDN, LV_HOME, LV_END,
       LV_BACKSPACE, LV_DELETE, LV_ENTER, LV_BTAB, LV_F1, LV_WHEEL_UP, LV_WHEEL_DOWN, LV_OTHER };

/// Reads one event (waiting up to the timeout set by lv_timeout).
static inline int lv_read(int *code, int *mx, int *my) {
    wint_t ch = 0;
    int r = wget_wch(stdscr, &ch);
    if (r == ERR) return LV_NONE;
    if (r == OK) { *code = (int)ch; return LV_CHAR; }
    switch (ch) {
    case KEY_RESIZE: return LV_RESIZE;
    case KEY_MOUSE: {
        MEVENT ev;
        if (getmouse(&ev) != OK) return LV_NONE;
        *mx = ev.x; *my = ev.y;
        if (ev.bstate & BUTTON4_PRESSED) { *code = LV_WHEEL_UP; return LV_KEY; }
#ifdef BUTTON5_PRESSED
        if (ev.bstate & BUTTON5_PRESSED) { *code = LV_WHEEL_DOWN; return LV_KEY; }
#endif
        if (ev.bstate & (BUTTON1_PRESSED | BUTTON1_CLICKED | BUTTON1_RELEASED)) { *code = 1; return LV_MOUSE; }
        return LV_NONE;
    }
    case KEY_UP: *code = LV_UP; break;
    case KEY_DOWN: *code = LV_DOWN; break;
    case KEY_LEFT: *code = LV_LEFT; break;
    case KEY_RIGHT: *code = LV_RIGHT; break;
    case KEY_PPAGE: *code = LV_PGUP; break;
    case KEY_NPAGE: *code = LV_PGDN; break;
    case KEY_HOME: *code = LV_HOME; break;
    case KEY_END: *code = LV_END; break;
    case KEY_BACKSPACE: *code = LV_BACKSPACE; break;
    case KEY_DC: *code = LV_DELETE; break;
    case KEY_ENTER: *code = LV_ENTER; break;
    case KEY_BTAB: *code = LV_BTAB; break;
    case KEY_F(1): *code = LV_F1; break;
    default: *code = LV_OTHER; break;
    }
    return LV_KEY;
}

/// Turns on clicks and the wheel (press events, no drag reporting).
static inline void lv_enable_mouse(void) {
    mousemask(BUTTON1_PRESSED | BUTTON1_CLICKED | BUTTON4_PRESSED
#ifdef BUTTON5_PRESSED
              | BUTTON5_PRESSED
#endif
              , NULL);
    mouseinterval(0);
}

/// Bracketed paste on or off (xterm's mode 2004): pasted text arrives between ESC[200~ and ESC[201~.
static inline void lv_bracketed_paste(int on) {
    const char *s = on ? "\033[?2004h" : "\033[?2004l";
    ssize_t r = write(1, s, strlen(s));
    (void)r;
}

/// Whether $TERM names a terminal that can move the cursor (not `dumb`, known to terminfo, with `cup`).
static inline int lv_term_can_address(void) {
    int err = 0;
    if (setupterm(NULL, 1, &err) != OK) return 0;
    char *cup = tigetstr("cup");
    int ok = cup != NULL && cup != (char *)-1;
    del_curterm(cur_term);
    return ok;
}

// Signals: the handler only records the signal; the event loop (which wakes
// every few tens of milliseconds) restores the terminal and exits.
static volatile sig_atomic_t lv_pending_signal = 0;
static void lv_on_signal(int sig) { lv_pending_signal = sig; }
static inline int lv_take_signal(void) { int s = lv_pending_signal; lv_pending_signal = 0; return s; }

// A crash must not leave the terminal in raw mode on the alternate screen.
static void lv_on_fatal(int sig) {
    lv_bracketed_paste(0);
    endwin();
    signal(sig, SIG_DFL);
    raise(sig);
}

static inline void lv_install_signal_handlers(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = lv_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    // Signals whose default would kill the process with the terminal left raw
    // (SIGQUIT: the Swift runtime's backtracer would print a crash report over the screen and carry on).
    int quiet[] = { SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGPIPE, SIGXCPU, SIGXFSZ, SIGVTALRM, SIGPROF };
    for (unsigned i = 0; i < sizeof quiet / sizeof quiet[0]; i++) sigaction(quiet[i], &sa, NULL);
    // A SIGTSTP from outside (kill -TSTP) suspends through the event loop, as Ctrl-Z does;
    // SIGCONT after an uncatchable SIGSTOP repaints. (Set before initscr, so ncurses keeps out of it.)
    sigaction(SIGTSTP, &sa, NULL);
    sigaction(SIGCONT, &sa, NULL);
    struct sigaction fatal;
    memset(&fatal, 0, sizeof fatal);
    fatal.sa_handler = lv_on_fatal;
    sigemptyset(&fatal.sa_mask);
    fatal.sa_flags = SA_RESETHAND;
    sigaction(SIGSEGV, &fatal, NULL);
    sigaction(SIGBUS, &fatal, NULL);
    sigaction(SIGILL, &fatal, NULL);
    sigaction(SIGTRAP, &fatal, NULL);
    sigaction(SIGABRT, &fatal, NULL);
    sigaction(SIGFPE, &fatal, NULL);
}

/// Stops this process as a terminal's Ctrl-Z does (SIGTSTP, default action, unblocked), returning once continued.
static inline void lv_stop_self(void) {
    struct sigaction dfl, old;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(SIGTSTP, &dfl, &old);
    sigset_t set, previous;
    sigemptyset(&set);
    sigaddset(&set, SIGTSTP);
    sigprocmask(SIG_UNBLOCK, &set, &previous);
    kill(0, SIGTSTP);
    sigprocmask(SIG_SETMASK, &previous, NULL);
    sigaction(SIGTSTP, &old, NULL);
    // A SIGCONT or SIGTSTP recorded on the way is this stop's own.
    if (lv_pending_signal == SIGCONT || lv_pending_signal == SIGTSTP) lv_pending_signal = 0;
}

static inline void lv_restore_signal_handlers(void) {
    int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGPIPE, SIGXCPU, SIGXFSZ,
                   SIGVTALRM, SIGPROF, SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGABRT, SIGFPE, SIGTSTP, SIGCONT };
    for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) signal(sigs[i], SIG_DFL);
}

#endif
