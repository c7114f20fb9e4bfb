#include "quoter/ops/terminal.hpp"
#include "quoter/core/clock.hpp"

#include <array>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <system_error>

#include <fcntl.h>
#include <poll.h>
#include <termios.h>

namespace quoter::ops {
namespace {

// Process-wide record of the settings to restore. saved_* are written only while state is
// `claiming`, and read only after it moved to `armed`, so a signal handler never sees a torn copy.
enum : int { idle = 0, claiming = 1, armed = 2 };
std::atomic<int> restore_state{idle};
int saved_fd = -1;
termios saved_settings{};

// Signals whose default action ends the process and that may arrive while keys are read.
// SIGHUP and SIGPIPE are not among them: the control handlers stop on the one and ignore the
// other (ops/control.hpp).
constexpr std::array<int, 6> fatal_signals{SIGQUIT, SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL};
std::array<struct sigaction, fatal_signals.size()> previous_fatal_actions{};
std::atomic<bool> exit_hook_registered{false};

void on_fatal_signal(int sig) {
    const int saved_errno = errno;
    restore_terminal();
    for (std::size_t i = 0; i < fatal_signals.size(); ++i) {
        if (fatal_signals[i] == sig) {
            sigaction(sig, &previous_fatal_actions[i], nullptr);
        }
    }
    // Delivered once this handler returns (the signal is blocked meanwhile), now to the
    // previous disposition; a fault re-executes and faults again, with the same effect.
    raise(sig);
    errno = saved_errno;
}

void restore_at_exit() {
    restore_terminal();
}

void install_fatal_hooks() noexcept {
    if (!exit_hook_registered.exchange(true)) {
        std::atexit(restore_at_exit);
    }
    struct sigaction action {};
    action.sa_handler = on_fatal_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0;
    for (std::size_t i = 0; i < fatal_signals.size(); ++i) {
        sigaction(fatal_signals[i], &action, &previous_fatal_actions[i]);
    }
}

void remove_fatal_hooks() noexcept {
    for (std::size_t i = 0; i < fatal_signals.size(); ++i) {
        sigaction(fatal_signals[i], &previous_fatal_actions[i], nullptr);
    }
}

} // namespace

std::string_view describe(terminal_error error) noexcept {
    switch (error) {
    case terminal_error::none:
        return "no error";
    case terminal_error::not_a_terminal:
        return "input is not a terminal";
    case terminal_error::get_attributes:
        return "cannot read the terminal settings";
    case terminal_error::set_attributes:
        return "cannot change the terminal settings";
    case terminal_error::already_running:
        return "a key reader is already running";
    case terminal_error::resources:
        return "cannot create the key reader thread or pipe";
    }
    return "unknown error";
}

std::optional<control_command> command_for_key(char key) noexcept {
    switch (key) {
    case 'k':
    case 'K':
        return control_command::kill;
    case 'p':
    case 'P':
        return control_command::pause;
    case 'r':
    case 'R':
        return control_command::resume;
    case 'q':
    case 'Q':
        return control_command::quit;
    default:
        return std::nullopt;
    }
}

void restore_terminal() noexcept {
    int expected = armed;
    if (restore_state.compare_exchange_strong(expected, idle, std::memory_order_acq_rel)) {
        tcsetattr(saved_fd, TCSANOW, &saved_settings);
    }
}

terminal_key_reader::terminal_key_reader(control_channel& channel, int fd) noexcept
    : channel_(&channel), fd_(fd) {}

terminal_key_reader::~terminal_key_reader() {
    stop();
}

terminal_error terminal_key_reader::start() {
    if (running()) {
        return terminal_error::already_running;
    }
    if (::isatty(fd_) != 1) {
        return terminal_error::not_a_terminal;
    }
    termios original{};
    if (::tcgetattr(fd_, &original) != 0) {
        return terminal_error::get_attributes;
    }
    int expected = idle;
    if (!restore_state.compare_exchange_strong(expected, claiming, std::memory_order_acq_rel)) {
        return terminal_error::already_running;
    }
    saved_fd = fd_;
    saved_settings = original;
    if (::pipe2(stop_pipe_, O_CLOEXEC | O_NONBLOCK) != 0) {
        restore_state.store(idle, std::memory_order_release);
        return terminal_error::resources;
    }
    restore_state.store(armed, std::memory_order_release);
    install_fatal_hooks();

    termios keys = original;
    keys.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);
    keys.c_cc[VMIN] = 1;
    keys.c_cc[VTIME] = 0;
    terminal_error error = terminal_error::none;
    if (::tcsetattr(fd_, TCSANOW, &keys) != 0) {
        error = terminal_error::set_attributes;
    } else {
        try {
            thread_ = std::thread([this] { run(); });
        } catch (const std::system_error&) {
            error = terminal_error::resources;
        }
    }
    if (error != terminal_error::none) {
        restore_terminal();
        remove_fatal_hooks();
        ::close(stop_pipe_[0]);
        ::close(stop_pipe_[1]);
        stop_pipe_[0] = stop_pipe_[1] = -1;
    }
    return error;
}

void terminal_key_reader::stop() noexcept {
    if (!running()) {
        return;
    }
    const char wake = 's';
    [[maybe_unused]] const ssize_t written = ::write(stop_pipe_[1], &wake, 1);
    thread_.join();
    restore_terminal();
    remove_fatal_hooks();
    ::close(stop_pipe_[0]);
    ::close(stop_pipe_[1]);
    stop_pipe_[0] = stop_pipe_[1] = -1;
}

void terminal_key_reader::run() noexcept {
    std::array<pollfd, 2> fds{};
    fds[0].fd = fd_;
    fds[0].events = POLLIN;
    fds[1].fd = stop_pipe_[0];
    fds[1].events = POLLIN;
    std::array<char, 64> keys{};
    for (;;) {
        fds[0].revents = 0;
        fds[1].revents = 0;
        if (::poll(fds.data(), fds.size(), -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            return;
        }
        if (fds[1].revents != 0) {
            return;
        }
        if ((fds[0].revents & POLLIN) == 0) {
            if ((fds[0].revents & (POLLHUP | POLLERR | POLLNVAL)) != 0) {
                return; // the terminal went away
            }
            continue;
        }
        const ssize_t n = ::read(fd_, keys.data(), keys.size());
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
            continue;
        }
        if (n <= 0) {
            return;
        }
        for (ssize_t i = 0; i < n; ++i) {
            const auto command = command_for_key(keys[static_cast<std::size_t>(i)]);
            if (!command) {
                continue;
            }
            // A kill goes by its flag alone: the core journals and acts on every flag it takes
            // and every message it drains, so sending both journaled one key press twice. The
            // core takes the flags before draining the ring, so a `k` typed before a `p` is
            // still taken first. A quit sets the stop flag (a stop must get through a full
            // ring) and is posted for its journal line.
            if (*command == control_command::kill) {
                channel_->request_kill(command_source::terminal);
                continue;
            }
            if (*command == control_command::quit) {
                channel_->request_stop(command_source::terminal);
            }
            channel_->post({.command = *command,
                            .source = command_source::terminal,
                            .wall_time = core::wall_clock{}.now()});
        }
    }
}

} // namespace quoter::ops
