// gateway_test_support: what every gateway test against the venue starts from — the venue's
// test credentials, a report sink that keeps every report, a bounded poll of the gateway on the
// test (core) thread, a gateway started and reconciled with its sink, and the test symbol's
// filters.
#pragma once

#include "quoter/core/clock.hpp"
#include "quoter/core/symbol_spec.hpp"
#include "quoter/core/time.hpp"
#include "quoter/exec/order_gateway.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace quoter::exec {
class binance_futures_gateway;
class binance_spot_gateway;
} // namespace quoter::exec

namespace quoter::gateway_test {

/// The HMAC key pair quoter-venue accepts by default (test values, not real credentials).
inline constexpr std::string_view api_key =
    "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
inline constexpr std::string_view secret =
    "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";

inline core::timestamp_ns wall_ns() {
    return core::wall_clock{}.now();
}

/// Keeps every report the gateway hands the core, in order.
struct recording_sink final : exec::exec_report_sink {
    std::vector<exec::exec_report> reports;
    std::uint64_t venue_failures = 0; ///< As the gateway told them (on_venue_failures).
    void on_exec_report(const exec::exec_report& report) noexcept override {
        reports.push_back(report);
    }
    void on_venue_failures(std::uint32_t count, core::timestamp_ns /*now*/) noexcept override {
        venue_failures += count;
    }
    /// Reports of this kind (of this client order id, when id != 0).
    [[nodiscard]] std::size_t count(exec::exec_kind kind, std::uint64_t id = 0) const {
        return static_cast<std::size_t>(
            std::count_if(reports.begin(), reports.end(), [&](const auto& r) {
                return r.kind == kind && (id == 0 || r.client_id.value == id);
            }));
    }
};

/// Polls the gateway on this (the core) thread until done() or the timeout; idles `idle`
/// between polls that found nothing.
template <class Gateway, class Predicate>
bool poll_until(Gateway& gateway, Predicate done, std::chrono::milliseconds timeout,
                std::chrono::microseconds idle = std::chrono::microseconds(50)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
        if (std::chrono::steady_clock::now() >= deadline) {
            return false;
        }
        if (gateway.poll(wall_ns()) == 0) {
            std::this_thread::sleep_for(idle);
        }
    }
    return true;
}

/// Polls the gateway for at least `at_least` (a lower bound: lets late events arrive).
template <class Gateway> void poll_for(Gateway& gateway, std::chrono::milliseconds at_least) {
    const auto until = std::chrono::steady_clock::now() + at_least;
    (void)poll_until(
        gateway, [&] { return std::chrono::steady_clock::now() >= until; },
        at_least + std::chrono::seconds(10));
}

/// A gateway with a recording sink, started and ready (connected and reconciled) within 5 s;
/// stopped when the fixture ends, before its sink goes.
template <class Gateway> struct started_gateway {
    template <class Config, class Symbols>
    started_gateway(Config config, const Symbols& symbols) : gateway(std::move(config), symbols) {
        gateway.set_report_sink(&sink);
        gateway.start();
        REQUIRE(poll_until(
            gateway, [&] { return gateway.ready(); }, std::chrono::seconds(5)));
    }
    ~started_gateway() { gateway.stop(); }
    started_gateway(const started_gateway&) = delete;
    started_gateway& operator=(const started_gateway&) = delete;

    recording_sink sink;
    Gateway gateway;
};

/// Sends `count` cancels of orders that never existed (client ids from 1,000), which the venue
/// answers "unknown order" at once, and waits (bounded) until every one is reported refused:
/// that many request ids come and go.
template <class Gateway, class Sink>
void cancel_orders_never_placed(Gateway& gateway, const Sink& sink, std::uint64_t count) {
    const std::size_t refused_before = sink.count(exec::exec_kind::cancel_reject);
    for (std::uint64_t n = 0; n < count; ++n) {
        REQUIRE(poll_until(
            gateway,
            [&] {
                return gateway.cancel(0, exec::client_order_id{1'000 + n}, wall_ns()) ==
                       exec::gateway_error::none;
            },
            std::chrono::seconds(5)));
    }
    REQUIRE(poll_until(
        gateway,
        [&] { return sink.count(exec::exec_kind::cancel_reject) == refused_before + count; },
        std::chrono::seconds(10)));
}

using started_spot_gateway = started_gateway<exec::binance_spot_gateway>;
using started_futures_gateway = started_gateway<exec::binance_futures_gateway>;

/// After the venue expired or forgot the listenKey: true once the gateway made its second key,
/// opened the stream on it, reconciled a second time and is ready again (within 5 s).
template <class FuturesGateway> bool wait_for_new_listen_key(FuturesGateway& gateway) {
    return poll_until(
        gateway,
        [&] {
            return gateway.futures_counters().listen_key_expired.load() >= 1 &&
                   gateway.futures_counters().listen_keys.load() == 2 &&
                   gateway.counters().reconciles.load() == 2 && gateway.ready();
        },
        std::chrono::seconds(5));
}

/// BTCUSDT's filters as the venue lists them.
inline core::symbol_spec btcusdt() {
    const auto spec = core::symbol_spec::from_text({.name = "BTCUSDT",
                                                    .tick_size = "0.01000000",
                                                    .step_size = "0.00001000",
                                                    .min_notional = "5.00000000"});
    REQUIRE(spec.has_value());
    return *spec;
}

} // namespace quoter::gateway_test
