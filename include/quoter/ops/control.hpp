// Manual control input reaching the core thread: an operator's kill, pause, resume, flatten or
// quit from a key, a signal or an HTTP request.
//
// Two paths, by urgency:
//   - kill, flatten and stop requests set an atomic flag, which the core checks on every loop
//     iteration (one relaxed load), so a kill never waits for the next market event. Setting a
//     flag is async-signal-safe, which is what lets signal handlers use it;
//   - pause, resume and quit from the terminal or HTTP are posted, in order, on an SPSC ring
//     that the core drains each iteration (after the flags, so a kill typed before a pause is
//     taken first). A kill travels by its flag alone, so one request is journaled once;
//   - SIGUSR2 sets a pause-toggle flag: the core pauses a running engine and resumes a paused
//     one (a kill stays latched), journaled as pause or resume with source `signal`.
// Each request also writes to an eventfd (async-signal-safe), so a core loop that blocks can add
// wake_fd() to its poll set and still react within microseconds.
//
// Invariants: the ring has one consumer (the core). Producers (the terminal reader, the HTTP
// server) take turns through a spin flag held only for the push, so the core side stays
// lock-free; post() is not for signal handlers. request_kill, request_flatten and request_stop
// may be called from any thread or signal handler.
#pragma once

#include "quoter/core/spsc_ring.hpp"
#include "quoter/core/time.hpp"

#include <atomic>
#include <cstdint>
#include <optional>
#include <string_view>

namespace quoter::ops {

enum class control_command : std::uint8_t { kill, pause, resume, quit, flatten };
enum class command_source : std::uint8_t { terminal, signal, http, telegram };

[[nodiscard]] std::string_view to_string(control_command command) noexcept;
[[nodiscard]] std::string_view to_string(command_source source) noexcept;

struct control_message {
    control_command command = control_command::kill;
    command_source source = command_source::terminal;
    core::timestamp_ns wall_time = 0; ///< CLOCK_REALTIME when the command was received.
};

class control_channel {
public:
    static constexpr std::size_t ring_capacity = 64;

    control_channel() noexcept;
    ~control_channel();
    control_channel(const control_channel&) = delete;
    control_channel& operator=(const control_channel&) = delete;

    // Any thread, or a signal handler: async-signal-safe.
    /// Asks the core to engage the kill switch. A later request before the core took the first
    /// overwrites its source.
    void request_kill(command_source source) noexcept;
    /// Asks the core for a graceful stop (cancel all, flush, summary, exit 0).
    void request_stop(command_source source) noexcept;
    /// Asks the core to close the position with reducing orders (the flattener). A later
    /// request before the core took the first overwrites its source.
    void request_flatten(command_source source) noexcept;
    /// Asks the core to pause if running, resume if paused (SIGUSR2). Requests before the
    /// core took the first coalesce into one.
    void request_pause_toggle(command_source source) noexcept;

    // Producer threads (not signal handlers).
    /// Queues a command for the core; false when the ring is full (the kill and stop flags still
    /// work, so the terminal reader sets them for `k` and `q` as well).
    bool post(const control_message& message) noexcept;

    // The core thread.
    /// Cheap check for the hot loop.
    [[nodiscard]] bool kill_requested() const noexcept {
        return kill_source_.load(std::memory_order_relaxed) != 0;
    }
    /// Consumes a pending kill request; returns its source.
    [[nodiscard]] std::optional<command_source> take_kill_request() noexcept;
    /// Cheap check for the hot loop.
    [[nodiscard]] bool flatten_requested() const noexcept {
        return flatten_source_.load(std::memory_order_relaxed) != 0;
    }
    /// Consumes a pending flatten request; returns its source.
    [[nodiscard]] std::optional<command_source> take_flatten_request() noexcept;
    /// Cheap check for the hot loop.
    [[nodiscard]] bool pause_toggle_requested() const noexcept {
        return pause_toggle_source_.load(std::memory_order_relaxed) != 0;
    }
    /// Consumes a pending pause toggle; returns its source.
    [[nodiscard]] std::optional<command_source> take_pause_toggle() noexcept;
    /// Sticky: once requested, stays requested.
    [[nodiscard]] bool stop_requested() const noexcept {
        return stop_source_.load(std::memory_order_relaxed) != 0;
    }
    [[nodiscard]] std::optional<command_source> stop_source() const noexcept;
    /// Calls handle(const control_message&) for every queued command, in order.
    template <class Handler> std::size_t drain(Handler&& handle) { return ring_.pop_batch(handle); }

    /// Readable after any request or post; -1 if the eventfd could not be created.
    [[nodiscard]] int wake_fd() const noexcept { return wake_fd_; }
    /// Consumes the wake-up so that the fd blocks again.
    void clear_wake() noexcept;

private:
    void wake() noexcept;

    // Source + 1, or 0 for none: one lock-free byte, so signal handlers can store it.
    alignas(core::false_sharing_range) std::atomic<std::uint8_t> kill_source_{0};
    std::atomic<std::uint8_t> stop_source_{0};
    std::atomic<std::uint8_t> flatten_source_{0};
    std::atomic<std::uint8_t> pause_toggle_source_{0};
    std::atomic_flag producer_busy_; // serialises producers of ring_; clear when free
    int wake_fd_ = -1;
    core::spsc_ring<control_message, ring_capacity> ring_;

    static_assert(std::atomic<std::uint8_t>::is_always_lock_free,
                  "signal handlers need lock-free flags");
};

/// Installs process-wide handlers: SIGINT, SIGTERM and SIGHUP request a graceful stop, SIGUSR1 a
/// kill, SIGUSR2 a pause or resume (request_pause_toggle); SIGPIPE is ignored (a write to a
/// pipe with no reader fails instead of ending the process).
/// A second SIGINT/SIGTERM/SIGHUP after a stop was requested restores the terminal and terminates
/// the process at once with the default action (for an engine that does not stop). Handlers only
/// touch atomics and write(2). Returns false if sigaction failed. The channel must outlive the
/// handlers (call remove_signal_handlers first).
[[nodiscard]] bool install_signal_handlers(control_channel& channel) noexcept;
/// Restores the dispositions that install_signal_handlers replaced.
void remove_signal_handlers() noexcept;

/// install_signal_handlers for its lifetime: removes them however the owner's scope ends.
class scoped_signal_handlers {
public:
    explicit scoped_signal_handlers(control_channel& channel) noexcept
        : installed_(install_signal_handlers(channel)) {}
    scoped_signal_handlers(const scoped_signal_handlers&) = delete;
    scoped_signal_handlers& operator=(const scoped_signal_handlers&) = delete;
    ~scoped_signal_handlers() {
        if (installed_) {
            remove_signal_handlers();
        }
    }
    [[nodiscard]] bool installed() const noexcept { return installed_; }

private:
    bool installed_;
};

/// Waits up to `ns` for a request on the channel (its wake fd), or sleeps that long when the
/// channel has no wake fd. For loops that pace themselves (off the hot path).
void wait_for_command(const control_channel& channel, core::duration_ns ns) noexcept;

} // namespace quoter::ops
