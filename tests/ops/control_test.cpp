#include "quoter/ops/control.hpp"

#include "quoter/risk/risk_engine.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <thread>
#include <vector>

#include <poll.h>
#include <unistd.h>

using namespace quoter;
using namespace quoter::ops;

namespace {

bool readable(int fd) {
    pollfd p{.fd = fd, .events = POLLIN, .revents = 0};
    return ::poll(&p, 1, 0) == 1 && (p.revents & POLLIN) != 0;
}

struct quiet_actions final : risk::engine_actions {
    void cancel_all_orders(risk::halt_reason /*reason*/) noexcept override {}
    void flatten_positions(risk::halt_reason /*reason*/) noexcept override {}
    void set_new_orders_enabled(bool /*enabled*/) noexcept override {}
    void on_state_change(const risk::state_change& /*change*/) noexcept override {}
};

struct quiet_rejections final : risk::rejection_sink {
    void on_rejection(const risk::rejection_record& /*record*/) noexcept override {}
};

} // namespace

TEST_CASE("a kill request is a flag the core takes once, with its source", "[control]") {
    control_channel channel;
    CHECK_FALSE(channel.kill_requested());
    CHECK_FALSE(channel.take_kill_request().has_value());
    channel.request_kill(command_source::terminal);
    CHECK(channel.kill_requested());
    const auto source = channel.take_kill_request();
    REQUIRE(source.has_value());
    CHECK(*source == command_source::terminal);
    CHECK_FALSE(channel.kill_requested());
    CHECK_FALSE(channel.take_kill_request().has_value());
}

TEST_CASE("a stop request is sticky and keeps its first source", "[control]") {
    control_channel channel;
    CHECK_FALSE(channel.stop_requested());
    channel.request_stop(command_source::signal);
    channel.request_stop(command_source::terminal);
    CHECK(channel.stop_requested());
    CHECK(channel.stop_source() == command_source::signal);
}

TEST_CASE("posted commands arrive in order and every request wakes the fd", "[control]") {
    control_channel channel;
    REQUIRE(channel.wake_fd() >= 0);
    CHECK_FALSE(readable(channel.wake_fd()));
    CHECK(channel.post({.command = control_command::pause}));
    CHECK(channel.post({.command = control_command::resume}));
    CHECK(channel.post({.command = control_command::quit}));
    CHECK(readable(channel.wake_fd()));
    std::vector<control_command> seen;
    CHECK(channel.drain([&](const control_message& m) { seen.push_back(m.command); }) == 3);
    CHECK(seen == std::vector<control_command>{control_command::pause, control_command::resume,
                                               control_command::quit});
    channel.clear_wake();
    CHECK_FALSE(readable(channel.wake_fd()));
    channel.request_kill(command_source::signal);
    CHECK(readable(channel.wake_fd()));
}

TEST_CASE("a full command ring refuses posts without blocking", "[control]") {
    control_channel channel;
    for (std::size_t i = 0; i < control_channel::ring_capacity; ++i) {
        REQUIRE(channel.post({.command = control_command::pause}));
    }
    CHECK_FALSE(channel.post({.command = control_command::resume}));
}

TEST_CASE("SIGUSR1 requests a kill and SIGTERM a graceful stop", "[control][signal]") {
    control_channel channel;
    REQUIRE(install_signal_handlers(channel));
    ::raise(SIGUSR1);
    CHECK(channel.take_kill_request() == command_source::signal);
    CHECK_FALSE(channel.stop_requested());
    ::raise(SIGTERM); // the process goes on: the core decides when to stop
    CHECK(channel.stop_requested());
    CHECK(channel.stop_source() == command_source::signal);
    remove_signal_handlers();
}

TEST_CASE("SIGUSR2 requests a pause toggle; requests coalesce until taken", "[control][signal]") {
    control_channel channel;
    REQUIRE(install_signal_handlers(channel));
    ::raise(SIGUSR2); // used to end the process (the default action)
    CHECK(channel.pause_toggle_requested());
    CHECK(channel.take_pause_toggle() == command_source::signal);
    CHECK_FALSE(channel.pause_toggle_requested());
    CHECK_FALSE(channel.take_pause_toggle().has_value());
    CHECK_FALSE(channel.kill_requested());
    CHECK_FALSE(channel.stop_requested());
    remove_signal_handlers();
}

TEST_CASE("SIGINT requests a graceful stop", "[control][signal]") {
    control_channel channel;
    REQUIRE(install_signal_handlers(channel));
    ::raise(SIGINT);
    CHECK(channel.stop_requested());
    remove_signal_handlers();
}

TEST_CASE("SIGHUP requests a graceful stop and SIGPIPE is ignored: neither ends the process",
          "[control][signal]") {
    control_channel channel;
    REQUIRE(install_signal_handlers(channel));
    ::raise(SIGPIPE); // the default action would end the process here
    CHECK_FALSE(channel.stop_requested());
    CHECK_FALSE(channel.kill_requested());
    ::raise(SIGHUP); // so would this one
    CHECK(channel.stop_requested());
    CHECK(channel.stop_source() == command_source::signal);
    remove_signal_handlers();
    struct sigaction restored {};
    REQUIRE(sigaction(SIGPIPE, nullptr, &restored) == 0);
    CHECK(restored.sa_handler == SIG_DFL); // as it was before
}

TEST_CASE("a Ctrl-C after a stop asked by a key is the same graceful stop, not the second signal "
          "that ends the process",
          "[control][signal]") {
    control_channel channel;
    REQUIRE(install_signal_handlers(channel));
    channel.request_stop(command_source::terminal); // `q`
    // Before, this SIGINT took the default action: the test process itself ended.
    ::raise(SIGINT);
    CHECK(channel.stop_requested());
    CHECK(channel.stop_source() == command_source::terminal);
    remove_signal_handlers();
}

TEST_CASE("a signal engages the kill switch of a core loop without any market event",
          "[control][signal]") {
    control_channel channel;
    REQUIRE(install_signal_handlers(channel));
    quiet_actions actions;
    risk::null_alert_sink alerts;
    quiet_rejections rejections;
    risk::risk_engine engine(risk::risk_config{}, actions, alerts, rejections);

    std::atomic<bool> running{true};
    std::atomic<bool> killed{false};
    std::atomic<std::int64_t> killed_at_ns{0};
    // The core loop as `quoter run` wires it: one relaxed load per iteration.
    std::thread core([&] {
        while (running.load(std::memory_order_relaxed)) {
            if (channel.kill_requested()) {
                if (channel.take_kill_request()) {
                    const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
                    engine.trigger_kill_switch(risk::halt_reason::manual_kill, now);
                    killed_at_ns.store(now);
                    killed.store(engine.state() == risk::trading_state::killed);
                }
            }
        }
    });
    const auto sent = std::chrono::steady_clock::now().time_since_epoch().count();
    ::kill(::getpid(), SIGUSR1);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!killed.load() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::yield();
    }
    running.store(false);
    core.join();
    remove_signal_handlers();
    REQUIRE(killed.load());
    INFO("signal to kill switch: " << (killed_at_ns.load() - sent) / 1000 << " us");
    CHECK(killed_at_ns.load() >= sent);
}
