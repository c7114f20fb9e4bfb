#include "session_shell.hpp"

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

} // namespace quoter::app
