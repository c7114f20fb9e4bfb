// Key handling driven through pseudo-terminals: in process for the keys and the RAII restore,
// and through the terminal_probe program for the std::exit and signal exit paths.
#include "quoter/ops/terminal.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

using namespace quoter;
using namespace quoter::ops;

namespace {

using clock_type = std::chrono::steady_clock;

/// A pseudo-terminal pair: write keys to master, the reader reads them from slave.
struct pty_pair {
    pty_pair() {
        master = ::posix_openpt(O_RDWR | O_NOCTTY);
        REQUIRE(master >= 0);
        REQUIRE(::grantpt(master) == 0);
        REQUIRE(::unlockpt(master) == 0);
        slave_name = ::ptsname(master);
        slave = ::open(slave_name.c_str(), O_RDWR | O_NOCTTY);
        REQUIRE(slave >= 0);
        REQUIRE(::tcgetattr(slave, &original) == 0);
    }
    ~pty_pair() {
        ::close(slave);
        ::close(master);
    }
    pty_pair(const pty_pair&) = delete;
    pty_pair& operator=(const pty_pair&) = delete;

    void type(std::string_view keys) const {
        REQUIRE(::write(master, keys.data(), keys.size()) == static_cast<ssize_t>(keys.size()));
    }
    [[nodiscard]] termios current() const {
        termios now{};
        REQUIRE(::tcgetattr(slave, &now) == 0);
        return now;
    }
    /// Reads what the program on the slave side printed until `text` appears (or 5 s pass).
    bool read_until(std::string_view text) {
        const auto deadline = clock_type::now() + std::chrono::seconds(5);
        while (output.find(text) == std::string::npos) {
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
            if (left.count() <= 0) {
                return false;
            }
            pollfd p{.fd = master, .events = POLLIN, .revents = 0};
            if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
                continue;
            }
            char buffer[256];
            const ssize_t n = ::read(master, buffer, sizeof buffer);
            if (n <= 0) {
                return false;
            }
            output.append(buffer, static_cast<std::size_t>(n));
        }
        return true;
    }

    int master = -1;
    int slave = -1;
    std::string slave_name;
    termios original{};
    std::string output;
};

bool same_settings(const termios& a, const termios& b) {
    return a.c_iflag == b.c_iflag && a.c_oflag == b.c_oflag && a.c_cflag == b.c_cflag &&
           a.c_lflag == b.c_lflag && a.c_cc[VMIN] == b.c_cc[VMIN] && a.c_cc[VTIME] == b.c_cc[VTIME];
}

bool in_key_mode(const termios& t) {
    return (t.c_lflag & ICANON) == 0 && (t.c_lflag & ECHO) == 0 && (t.c_lflag & ISIG) != 0;
}

/// Waits until the channel has a message, for at most 5 s.
std::vector<control_message> next_messages(control_channel& channel) {
    std::vector<control_message> got;
    const auto deadline = clock_type::now() + std::chrono::seconds(5);
    while (got.empty() && clock_type::now() < deadline) {
        channel.drain([&](const control_message& m) { got.push_back(m); });
        if (got.empty()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    }
    return got;
}

} // namespace

TEST_CASE("keys map to commands, case-insensitively", "[terminal]") {
    CHECK(command_for_key('k') == control_command::kill);
    CHECK(command_for_key('K') == control_command::kill);
    CHECK(command_for_key('p') == control_command::pause);
    CHECK(command_for_key('r') == control_command::resume);
    CHECK(command_for_key('Q') == control_command::quit);
    CHECK_FALSE(command_for_key('x').has_value());
    CHECK_FALSE(command_for_key('\n').has_value());
}

TEST_CASE("each key on a pseudo-terminal produces its command and the terminal is restored",
          "[terminal]") {
    pty_pair pty;
    control_channel channel;
    {
        terminal_key_reader reader(channel, pty.slave);
        REQUIRE(reader.start() == terminal_error::none);
        CHECK(reader.running());
        CHECK(in_key_mode(pty.current()));

        pty.type("p");
        auto got = next_messages(channel);
        REQUIRE(got.size() == 1);
        CHECK(got[0].command == control_command::pause);
        CHECK(got[0].source == command_source::terminal);
        CHECK(got[0].wall_time > 0);
        CHECK_FALSE(channel.kill_requested());

        pty.type("r");
        got = next_messages(channel);
        REQUIRE(got.size() == 1);
        CHECK(got[0].command == control_command::resume);

        pty.type("x"); // no command: ignored
        // A kill travels by its flag alone: the core journals every flag it takes and every
        // message it drains, so one key press must make one request (it used to make both).
        pty.type("k");
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (!channel.kill_requested() && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        CHECK(channel.take_kill_request() == command_source::terminal);
        pty.type("p");
        got = next_messages(channel);
        REQUIRE(got.size() == 1);
        CHECK(got[0].command == control_command::pause); // nothing for the `k` before it

        pty.type("q");
        got = next_messages(channel);
        REQUIRE(got.size() == 1);
        CHECK(got[0].command == control_command::quit);
        CHECK(channel.stop_source() == command_source::terminal);

        reader.stop();
        CHECK_FALSE(reader.running());
        CHECK(same_settings(pty.current(), pty.original));
        reader.stop(); // idempotent
    }
    CHECK(same_settings(pty.current(), pty.original));
}

TEST_CASE("the reader's destructor restores the terminal", "[terminal]") {
    pty_pair pty;
    control_channel channel;
    {
        terminal_key_reader reader(channel, pty.slave);
        REQUIRE(reader.start() == terminal_error::none);
        CHECK_FALSE(same_settings(pty.current(), pty.original));
    }
    CHECK(same_settings(pty.current(), pty.original));
}

TEST_CASE("a reader refuses non-terminals and a second concurrent reader", "[terminal]") {
    control_channel channel;
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    terminal_key_reader piped(channel, fds[0]);
    CHECK(piped.start() == terminal_error::not_a_terminal);
    CHECK_FALSE(piped.running());
    ::close(fds[0]);
    ::close(fds[1]);

    pty_pair pty;
    terminal_key_reader first(channel, pty.slave);
    REQUIRE(first.start() == terminal_error::none);
    CHECK(first.start() == terminal_error::already_running);
    control_channel other_channel;
    terminal_key_reader second(other_channel, pty.slave);
    CHECK(second.start() == terminal_error::already_running);
    first.stop();
    CHECK(same_settings(pty.current(), pty.original));
}

TEST_CASE("restore_terminal without a running reader does nothing", "[terminal]") {
    pty_pair pty;
    restore_terminal();
    CHECK(same_settings(pty.current(), pty.original));
}

namespace {

/// Runs terminal_probe with the pty as its controlling terminal; returns its pid.
pid_t spawn_probe(pty_pair& pty, const char* mode) {
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        ::setsid();
        const int tty = ::open(pty.slave_name.c_str(), O_RDWR);
        if (tty < 0) {
            ::_exit(126);
        }
        ::dup2(tty, STDIN_FILENO);
        ::dup2(tty, STDOUT_FILENO);
        ::dup2(tty, STDERR_FILENO);
        ::execl(QUOTER_TERMINAL_PROBE, QUOTER_TERMINAL_PROBE, mode, static_cast<char*>(nullptr));
        ::_exit(127);
    }
    return child;
}

/// Waits for the probe to end (at most 5 s, then kills it); returns its wait status.
int reap(pid_t child) {
    const auto deadline = clock_type::now() + std::chrono::seconds(5);
    int status = 0;
    while (::waitpid(child, &status, WNOHANG) == 0) {
        if (clock_type::now() > deadline) {
            ::kill(child, SIGKILL);
            ::waitpid(child, &status, 0);
            FAIL("terminal_probe did not exit");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return status;
}

} // namespace

TEST_CASE("the terminal is restored when the program returns after `q`", "[terminal][pty]") {
    pty_pair pty;
    const pid_t child = spawn_probe(pty, "return");
    REQUIRE(pty.read_until("ready"));
    CHECK(in_key_mode(pty.current()));
    pty.type("kprq");
    CHECK(pty.read_until("cmd quit"));
    CHECK(pty.output.find("cmd kill") < pty.output.find("cmd pause"));
    CHECK(pty.output.find("cmd pause") < pty.output.find("cmd resume"));
    const int status = reap(child);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK(same_settings(pty.current(), pty.original));
}

TEST_CASE("the terminal is restored when the program calls std::exit", "[terminal][pty]") {
    pty_pair pty;
    const pid_t child = spawn_probe(pty, "exit");
    REQUIRE(pty.read_until("ready"));
    CHECK(in_key_mode(pty.current()));
    pty.type("q");
    const int status = reap(child);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK(same_settings(pty.current(), pty.original));
}

// ThreadSanitizer delivers asynchronous signals at its own points: a fatal signal re-raised from
// the handler was sometimes never delivered (the probe ran into its own 10 s deadline in 3 of 12
// runs), and on a loaded 2-core machine a first SIGTERM once went unhandled for 5 s. Under TSan
// these signal tests would test the sanitizer, so they are built by the dev preset (ASan +
// UBSan) and the release preset only; the key-reader thread's tests above run under TSan.
#if !defined(__SANITIZE_THREAD__)
TEST_CASE("the terminal is restored when the program dies of a fatal signal", "[terminal][pty]") {
    pty_pair pty;
    const pid_t child = spawn_probe(pty, "wait");
    REQUIRE(pty.read_until("ready"));
    CHECK(in_key_mode(pty.current()));
    REQUIRE(::kill(child, SIGQUIT) == 0);
    const int status = reap(child);
    REQUIRE(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGQUIT);
    CHECK(same_settings(pty.current(), pty.original));
}

TEST_CASE("a second SIGTERM restores the terminal and ends a program that does not stop",
          "[terminal][pty]") {
    pty_pair pty;
    const pid_t child = spawn_probe(pty, "wait");
    REQUIRE(pty.read_until("ready"));
    REQUIRE(::kill(child, SIGTERM) == 0);
    REQUIRE(pty.read_until("stop requested")); // the first one only asks
    CHECK(in_key_mode(pty.current()));
    REQUIRE(::kill(child, SIGTERM) == 0);
    const int status = reap(child);
    REQUIRE(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGTERM);
    CHECK(same_settings(pty.current(), pty.original));
}
#endif
