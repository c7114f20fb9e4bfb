// session_shell: the process side of a `quoter run` session that trades in real time (paper,
// live): the control channel with the signal handlers (SIGINT/SIGTERM stop, SIGUSR1 kill,
// SIGUSR2 pause/resume) and, on an interactive terminal, the key reader; the --duration timer
// (off the core thread, so it holds without market data); the status line; and what stopped
// the session, for the summary.
//
// Thread ownership: built, used and destroyed on the thread that runs the session; the timer
// thread only sets the stop flag.
#pragma once

#include "quoter/core/tick_latency.hpp"
#include "quoter/core/time.hpp"
#include "quoter/ops/control.hpp"
#include "quoter/ops/status_line.hpp"
#include "quoter/ops/terminal.hpp"

#include <atomic>
#include <chrono>
#include <string>
#include <string_view>
#include <thread>

namespace quoter::app {

class session_shell {
public:
    /// Installs the signal handlers and starts the key reader when stdin is a terminal.
    /// duration_s: seconds until the stop flag is set (0: never).
    explicit session_shell(double duration_s);
    ~session_shell();
    session_shell(const session_shell&) = delete;
    session_shell& operator=(const session_shell&) = delete;

    /// False when the signal handlers could not be installed (the session must not start).
    [[nodiscard]] bool installed() const noexcept { return handlers_.installed(); }
    /// Keys are read (stdin is a terminal).
    [[nodiscard]] bool interactive() const noexcept { return interactive_; }
    /// "keys: ..." or "Ctrl-C stops, ...", for the start-up line.
    [[nodiscard]] std::string_view hint() const noexcept { return ops::control_hint(interactive_); }
    /// ", for 30 s" with a duration, else "".
    [[nodiscard]] std::string duration_text() const;

    [[nodiscard]] ops::control_channel& control() noexcept { return control_; }
    /// Set when the duration has passed. Starts the timer on first use.
    [[nodiscard]] const std::atomic<bool>& stop_flag();

    /// Shows render() as the status line when it is due (a terminal: every second, redrawn in
    /// place; a log: every 5 s). render gets the seconds since the shell was made.
    template <class Render> void status(Render&& render) {
        const core::timestamp_ns now = elapsed_ns();
        if (printer_.due(now)) {
            printer_.show(render(static_cast<double>(now) * 1e-9));
        }
    }

    /// Stops the timer, erases the status line; returns the wall seconds since the shell was
    /// made.
    double finish();
    /// What stopped the session: the control channel's stop source, "--duration", or "quit".
    [[nodiscard]] std::string stopped_by() const;

private:
    [[nodiscard]] core::timestamp_ns elapsed_ns() const noexcept;

    ops::control_channel control_;
    ops::scoped_signal_handlers handlers_;
    ops::terminal_key_reader keys_;
    bool interactive_ = false;
    double duration_s_;
    std::atomic<bool> stop_{false};
    std::atomic<bool> finished_{false};
    std::thread timer_;
    ops::status_line_printer printer_;
    std::chrono::steady_clock::time_point start_;
};

/// The exit summary's latency table: every hop of the tick-to-order path, then end to end; end
/// names where the path ends ("order bytes written to the socket").
void print_tick_to_order(const core::tick_latency_summary& t, std::string_view end);

} // namespace quoter::app
