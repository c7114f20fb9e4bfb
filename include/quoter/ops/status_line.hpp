// status_line: the one-line status a running session shows on stderr. On a terminal the line is
// redrawn in place (`\r`, padded to the widest line so far, no newline) a few times a second;
// into a log (a pipe or a file) each line is written whole, with a newline, less often. Alerts
// clear the line before they print (stderr_alert_sink), so they never run on from it.
//
// Thread ownership: one owner thread (the one that runs the session and its status callback).
#pragma once

#include "quoter/core/tick_latency.hpp"
#include "quoter/core/time.hpp"

#include <cstddef>
#include <cstdio>
#include <string>
#include <string_view>

namespace quoter::ops {

class status_line_printer {
public:
    /// out: where the line goes (stderr). terminal: whether out is a terminal (redraw in place).
    /// terminal_every, log_every: how often due() answers true on a terminal and into a log.
    status_line_printer(std::FILE* out, bool terminal,
                        core::duration_ns terminal_every = core::ns_per_s,
                        core::duration_ns log_every = 5 * core::ns_per_s) noexcept;
    /// stderr, whether it is a terminal, and the two periods.
    explicit status_line_printer(core::duration_ns terminal_every = core::ns_per_s,
                                 core::duration_ns log_every = 5 * core::ns_per_s) noexcept;
    status_line_printer(const status_line_printer&) = delete;
    status_line_printer& operator=(const status_line_printer&) = delete;

    /// Draws the line now.
    void show(std::string_view line);
    /// Starts the periods at `now` (monotonic ns): the first line is due one period later.
    void arm(core::timestamp_ns now) noexcept { next_ = now + every_; }
    /// True when the next line is due at `now` (monotonic ns; arm() first, or the first call
    /// arms). Takes the slot: a true answer schedules the next one.
    [[nodiscard]] bool due(core::timestamp_ns now) noexcept;
    /// Erases the line on a terminal (before a summary is printed); nothing into a log.
    void clear();

    [[nodiscard]] bool terminal() const noexcept { return terminal_; }
    /// Widest line drawn so far (characters).
    [[nodiscard]] std::size_t width() const noexcept { return width_; }

private:
    std::FILE* out_;
    bool terminal_;
    core::duration_ns every_;
    core::timestamp_ns next_ = 0;
    std::size_t width_ = 0;
};

/// The latency part of a session's status line: "t2o p50 A us p99 B us" (socket read to order,
/// the ticks that sent one) and, where the kernel stamps receive times, "kernel->read p50 C us
/// p99 D us" (every tick carrying the stamp).
[[nodiscard]] std::string latency_status_text(const core::tick_latency_summary& ticks);

/// The start-up hint of a session: the keys when they are read, the signals otherwise.
[[nodiscard]] std::string_view control_hint(bool keys) noexcept;

} // namespace quoter::ops
