// Interactive keys: when stdin is a terminal, a thread reads single key presses (no Enter, no
// echo) and turns them into control commands:
//   k  kill switch      p  pause      r  resume      q  graceful quit
// Ctrl-C keeps working (ISIG stays on) and arrives as SIGINT.
//
// The terminal is restored on every exit path: stop() and the destructor (RAII), std::exit
// (an atexit hook), and fatal signals such as SIGHUP, SIGQUIT, SIGABRT or SIGSEGV (a handler that
// restores the settings, then lets the previous disposition act). The settings to restore live
// in process-wide storage, so at most one reader runs at a time.
//
// Thread ownership: start/stop from one owner thread; the reader thread is the single producer
// of the control_channel ring.
#pragma once

#include "quoter/ops/control.hpp"

#include <cstdint>
#include <optional>
#include <string_view>
#include <thread>

#include <unistd.h>

namespace quoter::ops {

enum class terminal_error : std::uint8_t {
    none,
    not_a_terminal,  ///< fd is not a tty (piped or redirected stdin): run without keys.
    get_attributes,  ///< tcgetattr failed.
    set_attributes,  ///< tcsetattr failed.
    already_running, ///< This reader, or another one in the process, is running.
    resources,       ///< Could not create the stop pipe or the thread.
};

[[nodiscard]] std::string_view describe(terminal_error error) noexcept;

/// The command a key stands for (case-insensitive), if any.
[[nodiscard]] std::optional<control_command> command_for_key(char key) noexcept;

/// Restores the terminal settings saved by a running key reader; does nothing otherwise or when
/// already restored. Async-signal-safe.
void restore_terminal() noexcept;

class terminal_key_reader {
public:
    /// channel must outlive the reader. fd: the terminal to read (stdin by default).
    explicit terminal_key_reader(control_channel& channel, int fd = STDIN_FILENO) noexcept;
    ~terminal_key_reader();
    terminal_key_reader(const terminal_key_reader&) = delete;
    terminal_key_reader& operator=(const terminal_key_reader&) = delete;

    /// Saves the terminal settings, switches to single-key input without echo and starts the
    /// reader thread. not_a_terminal is the normal answer when stdin is not interactive.
    [[nodiscard]] terminal_error start();
    /// Stops the thread and restores the terminal. Idempotent.
    void stop() noexcept;
    [[nodiscard]] bool running() const noexcept { return thread_.joinable(); }

private:
    void run() noexcept;

    control_channel* channel_;
    int fd_;
    int stop_pipe_[2] = {-1, -1};
    std::thread thread_;
};

} // namespace quoter::ops
