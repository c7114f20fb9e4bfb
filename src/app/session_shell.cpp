#include "session_shell.hpp"

#include <cstdio>

#include <fmt/format.h>

#include <unistd.h>

namespace quoter::app {

session_shell::session_shell(double duration_s)
    : handlers_(control_), keys_(control_), duration_s_(duration_s),
      start_(std::chrono::steady_clock::now()) {
    // Keys only in an interactive terminal; the reader restores the terminal when it stops
    // (its destructor, however the session ends) and the signal handlers on a forced exit.
    interactive_ = handlers_.installed() && ::isatty(STDIN_FILENO) != 0 &&
                   keys_.start() == ops::terminal_error::none;
    // Status lines come a period after the start ("paper 5s" is the first line of a log).
    printer_.arm(0);
}

session_shell::~session_shell() {
    (void)finish();
}

std::string session_shell::duration_text() const {
    return duration_s_ > 0 ? fmt::format(", for {:g} s", duration_s_) : std::string();
}

const std::atomic<bool>& session_shell::stop_flag() {
    if (duration_s_ > 0 && !timer_.joinable() && !finished_.load()) {
        timer_ = std::thread([this] {
            const auto end =
                start_ + std::chrono::milliseconds(static_cast<std::int64_t>(duration_s_ * 1000.0));
            while (!finished_.load() && std::chrono::steady_clock::now() < end) {
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
            stop_.store(true);
        });
    }
    return stop_;
}

core::timestamp_ns session_shell::elapsed_ns() const noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() -
                                                                start_)
        .count();
}

double session_shell::finish() {
    if (!finished_.exchange(true)) {
        if (timer_.joinable()) {
            timer_.join();
        }
        printer_.clear();
    }
    return static_cast<double>(elapsed_ns()) * 1e-9;
}

std::string session_shell::stopped_by() const {
    if (const auto source = control_.stop_source()) {
        return std::string(ops::to_string(*source));
    }
    return stop_.load() ? "--duration" : "quit";
}

void print_tick_to_order(const core::tick_latency_summary& t, std::string_view end) {
    std::printf("  tick to order (us, %llu ticks; socket read to %.*s):\n",
                static_cast<unsigned long long>(t.ticks), static_cast<int>(end.size()), end.data());
    const auto row = [](std::string_view name, const core::latency_summary& h) {
        std::printf("    %-14.*s %9llu  p50 %8.2f  p99 %8.2f  p99.9 %8.2f  max %9.2f\n",
                    static_cast<int>(name.size()), name.data(),
                    static_cast<unsigned long long>(h.count), static_cast<double>(h.p50) * 1e-3,
                    static_cast<double>(h.p99) * 1e-3, static_cast<double>(h.p999) * 1e-3,
                    static_cast<double>(h.max) * 1e-3);
    };
    if (t.kernel_to_read.count != 0) {
        row("kernel->read", t.kernel_to_read);
    }
    for (std::size_t i = 1; i < core::tick_point_count; ++i) {
        if (t.hops[i].count != 0) {
            row(core::to_string(static_cast<core::tick_point>(i)), t.hops[i]);
        }
    }
    row("end to end", t.end_to_end);
}

} // namespace quoter::app
