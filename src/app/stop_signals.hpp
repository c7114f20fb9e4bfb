// stop_signals: while a guard lives, SIGINT and SIGTERM set one process-wide flag instead of
// ending the process, so a long command (record, sweep) finishes what it has and stops cleanly.
// One flag serves every such command: only one runs in a process.
#pragma once

#include <atomic>
#include <csignal>

namespace quoter::app {

/// Set by SIGINT/SIGTERM while a stop_signals guard lives; cleared when a guard is made.
inline std::atomic<bool> stop_signalled{false};
static_assert(std::atomic<bool>::is_always_lock_free, "set from a signal handler");

inline void on_stop_signal(int /*signal*/) noexcept {
    stop_signalled.store(true, std::memory_order_relaxed);
}

/// Routes SIGINT/SIGTERM to stop_signalled for its lifetime, then restores the old actions.
class stop_signals {
public:
    stop_signals() {
        stop_signalled.store(false);
        struct sigaction action {};
        action.sa_handler = &on_stop_signal;
        sigemptyset(&action.sa_mask);
        ::sigaction(SIGINT, &action, &old_int_);
        ::sigaction(SIGTERM, &action, &old_term_);
    }
    stop_signals(const stop_signals&) = delete;
    stop_signals& operator=(const stop_signals&) = delete;
    ~stop_signals() {
        ::sigaction(SIGINT, &old_int_, nullptr);
        ::sigaction(SIGTERM, &old_term_, nullptr);
    }

private:
    struct sigaction old_int_ {};
    struct sigaction old_term_ {};
};

} // namespace quoter::app
