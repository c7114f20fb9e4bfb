// gateway_test_support: what every gateway test against the venue starts from — the venue's
// test credentials, a report sink that keeps every report, a bounded poll of the gateway on the
// test (core) thread, and the test symbol's filters.
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
#include <vector>

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
    void on_exec_report(const exec::exec_report& report) noexcept override {
        reports.push_back(report);
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
