#include "quoter/ops/control.hpp"

#include "quoter/ops/terminal.hpp"

#include <array>
#include <cerrno>
#include <csignal>
#include <ctime>

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace quoter::ops {
namespace {

// SIGHUP (the terminal or SSH session gone) stops as SIGTERM does: by default it would end the
// process with its orders resting.
constexpr std::array<int, 5> handled_signals{SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2};

std::atomic<control_channel*> signal_channel{nullptr};
std::array<struct sigaction, handled_signals.size()> previous_actions{};
/// SIGPIPE's disposition before it was ignored.
struct sigaction previous_pipe_action {};
std::atomic<bool> handlers_installed{false};
/// A SIGINT or SIGTERM has asked for the stop. A second signal ends the process at once; a
/// stop asked by a key or a command first does not count as one, so a Ctrl-C after a `q` waits
/// for the same graceful stop.
std::atomic<bool> stop_signalled{false};

[[nodiscard]] std::uint8_t encode(command_source source) noexcept {
    return static_cast<std::uint8_t>(static_cast<std::uint8_t>(source) + 1);
}

[[nodiscard]] std::optional<command_source> decode(std::uint8_t value) noexcept {
    if (value == 0) {
        return std::nullopt;
    }
    return static_cast<command_source>(value - 1);
}

void on_control_signal(int sig) {
    const int saved_errno = errno;
    control_channel* channel = signal_channel.load(std::memory_order_acquire);
    if (channel != nullptr) {
        if (sig == SIGUSR1) {
            channel->request_kill(command_source::signal);
        } else if (sig == SIGUSR2) {
            channel->request_pause_toggle(command_source::signal);
        } else if (!stop_signalled.exchange(true)) {
            channel->request_stop(command_source::signal);
        } else {
            // Asked twice: the engine is not stopping. Leave the terminal usable and let the
            // default action end the process.
            restore_terminal();
            struct sigaction default_action {};
            default_action.sa_handler = SIG_DFL;
            sigemptyset(&default_action.sa_mask);
            sigaction(sig, &default_action, nullptr);
            raise(sig);
        }
    }
    errno = saved_errno;
}

} // namespace

std::string_view to_string(control_command command) noexcept {
    switch (command) {
    case control_command::kill:
        return "kill";
    case control_command::pause:
        return "pause";
    case control_command::resume:
        return "resume";
    case control_command::quit:
        return "quit";
    case control_command::flatten:
        return "flatten";
    }
    return "unknown";
}

std::string_view to_string(command_source source) noexcept {
    switch (source) {
    case command_source::terminal:
        return "terminal";
    case command_source::signal:
        return "signal";
    case command_source::http:
        return "http";
    case command_source::telegram:
        return "telegram";
    }
    return "unknown";
}

control_channel::control_channel() noexcept : wake_fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

control_channel::~control_channel() {
    if (wake_fd_ >= 0) {
        ::close(wake_fd_);
    }
}

void control_channel::request_kill(command_source source) noexcept {
    kill_source_.store(encode(source), std::memory_order_release);
    wake();
}

void control_channel::request_stop(command_source source) noexcept {
    std::uint8_t expected = 0;
    stop_source_.compare_exchange_strong(expected, encode(source), std::memory_order_acq_rel);
    wake();
}

void control_channel::request_flatten(command_source source) noexcept {
    flatten_source_.store(encode(source), std::memory_order_release);
    wake();
}

void control_channel::request_pause_toggle(command_source source) noexcept {
    pause_toggle_source_.store(encode(source), std::memory_order_release);
    wake();
}

bool control_channel::post(const control_message& message) noexcept {
    // Producers are people at a keyboard or HTTP clients: contention is rare and the hold time
    // is one ring push, so a spin flag is enough and keeps the consumer side untouched.
    while (producer_busy_.test_and_set(std::memory_order_acquire)) {
        producer_busy_.wait(true, std::memory_order_relaxed);
    }
    const bool queued = ring_.try_push(message);
    producer_busy_.clear(std::memory_order_release);
    producer_busy_.notify_one();
    wake();
    return queued;
}

std::optional<command_source> control_channel::take_kill_request() noexcept {
    return decode(kill_source_.exchange(0, std::memory_order_acq_rel));
}

std::optional<command_source> control_channel::take_flatten_request() noexcept {
    return decode(flatten_source_.exchange(0, std::memory_order_acq_rel));
}

std::optional<command_source> control_channel::take_pause_toggle() noexcept {
    return decode(pause_toggle_source_.exchange(0, std::memory_order_acq_rel));
}

std::optional<command_source> control_channel::stop_source() const noexcept {
    return decode(stop_source_.load(std::memory_order_acquire));
}

void control_channel::wake() noexcept {
    if (wake_fd_ >= 0) {
        const std::uint64_t one = 1;
        // A full counter (EAGAIN) still leaves the fd readable, which is all that matters.
        [[maybe_unused]] const ssize_t written = ::write(wake_fd_, &one, sizeof one);
    }
}

void control_channel::clear_wake() noexcept {
    if (wake_fd_ >= 0) {
        std::uint64_t value = 0;
        [[maybe_unused]] const ssize_t got = ::read(wake_fd_, &value, sizeof value);
    }
}

bool install_signal_handlers(control_channel& channel) noexcept {
    stop_signalled.store(false);
    signal_channel.store(&channel, std::memory_order_release);
    if (handlers_installed.exchange(true)) {
        return true;
    }
    struct sigaction action {};
    action.sa_handler = on_control_signal;
    sigemptyset(&action.sa_mask);
    for (const int sig : handled_signals) {
        sigaddset(&action.sa_mask, sig);
    }
    action.sa_flags = SA_RESTART;
    bool ok = true;
    for (std::size_t i = 0; i < handled_signals.size(); ++i) {
        ok = sigaction(handled_signals[i], &action, &previous_actions[i]) == 0 && ok;
    }
    // A write to a pipe whose reader is gone (a log reader after `| tee`, a shipper that died)
    // must fail with EPIPE, not end the process with its orders resting.
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    ok = sigaction(SIGPIPE, &ignore, &previous_pipe_action) == 0 && ok;
    return ok;
}

void remove_signal_handlers() noexcept {
    if (!handlers_installed.exchange(false)) {
        return;
    }
    for (std::size_t i = 0; i < handled_signals.size(); ++i) {
        sigaction(handled_signals[i], &previous_actions[i], nullptr);
    }
    sigaction(SIGPIPE, &previous_pipe_action, nullptr);
    signal_channel.store(nullptr, std::memory_order_release);
}

void wait_for_command(const control_channel& channel, core::duration_ns ns) noexcept {
    if (ns <= 0) {
        return;
    }
    const timespec timeout{static_cast<time_t>(ns / core::ns_per_s),
                           static_cast<long>(ns % core::ns_per_s)};
    if (channel.wake_fd() < 0) {
        (void)::nanosleep(&timeout, nullptr);
        return;
    }
    pollfd fd{channel.wake_fd(), POLLIN, 0};
    (void)::ppoll(&fd, 1, &timeout, nullptr);
}

} // namespace quoter::ops
