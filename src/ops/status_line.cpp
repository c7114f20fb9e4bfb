#include "quoter/ops/status_line.hpp"

#include <fmt/format.h>

#include <unistd.h>

namespace quoter::ops {

status_line_printer::status_line_printer(std::FILE* out, bool terminal,
                                         core::duration_ns terminal_every,
                                         core::duration_ns log_every) noexcept
    : out_(out), terminal_(terminal), every_(terminal ? terminal_every : log_every) {}

status_line_printer::status_line_printer(core::duration_ns terminal_every,
                                         core::duration_ns log_every) noexcept
    : status_line_printer(stderr, ::isatty(STDERR_FILENO) != 0, terminal_every, log_every) {}

void status_line_printer::show(std::string_view line) {
    if (terminal_) {
        width_ = line.size() > width_ ? line.size() : width_;
        std::fprintf(out_, "\r%-*.*s", static_cast<int>(width_), static_cast<int>(line.size()),
                     line.data());
    } else {
        std::fprintf(out_, "%.*s\n", static_cast<int>(line.size()), line.data());
    }
    std::fflush(out_);
}

bool status_line_printer::due(core::timestamp_ns now) noexcept {
    if (next_ == 0) {
        arm(now);
        return false;
    }
    if (now < next_) {
        return false;
    }
    next_ = now + every_;
    return true;
}

void status_line_printer::clear() {
    if (terminal_ && width_ > 0) {
        std::fprintf(out_, "\r%-*s\r", static_cast<int>(width_), "");
        std::fflush(out_);
    }
}

std::string latency_status_text(const core::tick_latency_summary& ticks) {
    const auto us = [](core::duration_ns ns) { return static_cast<double>(ns) * 1e-3; };
    std::string out = fmt::format("t2o p50 {:.1f} us p99 {:.1f} us", us(ticks.end_to_end.p50),
                                  us(ticks.end_to_end.p99));
    if (ticks.kernel_to_read.count != 0) {
        out += fmt::format("  kernel->read p50 {:.1f} us p99 {:.1f} us",
                           us(ticks.kernel_to_read.p50), us(ticks.kernel_to_read.p99));
    }
    return out;
}

std::string_view control_hint(bool keys) noexcept {
    return keys ? "keys: k kill, p pause, r resume, q quit; Ctrl-C stops"
                : "Ctrl-C stops, SIGUSR1 kills, SIGUSR2 pauses/resumes";
}

} // namespace quoter::ops
