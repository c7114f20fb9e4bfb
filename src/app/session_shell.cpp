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
    std::printf("  tick to order (us, %llu ticks; end to end: socket read to %.*s; each hop over "
                "all ticks, then over the ticks that sent an order):\n",
                static_cast<unsigned long long>(t.ticks), static_cast<int>(end.size()), end.data());
    std::printf("    %-14s %9s %8s %8s %8s %9s | %6s %8s %8s %9s\n", "hop", "ticks", "p50", "p99",
                "p99.9", "max", "orders", "p50", "p99", "max");
    const auto us = [](core::duration_ns ns) { return static_cast<double>(ns) * 1e-3; };
    const auto row = [&](std::string_view name, const core::latency_summary& h,
                         const core::latency_summary* order) {
        std::printf("    %-14.*s %9llu %8.2f %8.2f %8.2f %9.2f", static_cast<int>(name.size()),
                    name.data(), static_cast<unsigned long long>(h.count), us(h.p50), us(h.p99),
                    us(h.p999), us(h.max));
        if (order != nullptr) {
            std::printf(" | %6llu %8.2f %8.2f %9.2f", static_cast<unsigned long long>(order->count),
                        us(order->p50), us(order->p99), us(order->max));
        }
        std::printf("\n");
    };
    for (std::size_t i = 1; i < core::tick_point_count; ++i) {
        if (t.hops[i].count != 0) {
            row(core::hop_label(static_cast<core::tick_point>(i)), t.hops[i], &t.order_hops[i]);
        }
    }
    if (t.kernel_to_read.count != 0) {
        row("kernel->read", t.kernel_to_read, nullptr);
    }
    row("end to end", t.end_to_end, nullptr);
}

} // namespace quoter::app
