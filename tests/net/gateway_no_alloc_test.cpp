// The order path allocates nothing once warmed up: the core thread places and cancels orders
// through binance_spot_gateway's rings against the real quoter-venue on 127.0.0.1, while the
// gateway's I/O thread sends them (preallocated write slots), reads the answers and hands back
// the reports and written stamps. Counting hooks on the global operator new charge every
// allocation to the core (test) thread or to any other thread of this process (the I/O thread
// is the only other one while the round trips run); after the warm-up both must stay at zero.
//
// A program of its own: replacing the global allocation functions affects the whole binary.
#include "venue_process.hpp"

#include "quoter/exec/binance_spot_gateway.hpp"
#include "support/counting_allocator.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

using namespace quoter;
using namespace std::chrono_literals;

namespace {

/// The core thread of the test marks itself; allocations anywhere else count as "other".
thread_local bool core_thread = false;
std::atomic<bool> counting{false};
std::atomic<std::uint64_t> core_allocations{0};
std::atomic<std::uint64_t> other_allocations{0};

constexpr std::string_view api_key =
    "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
constexpr std::string_view secret =
    "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";

core::timestamp_ns wall_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

/// Remembers the last report per kind and order without allocating.
struct counting_sink final : exec::exec_report_sink {
    std::uint64_t last_ack = 0;
    std::uint64_t last_cancelled = 0;
    std::uint64_t other = 0;
    void on_exec_report(const exec::exec_report& report) noexcept override {
        if (report.kind == exec::exec_kind::ack) {
            last_ack = report.client_id.value;
        } else if (report.kind == exec::exec_kind::cancelled) {
            last_cancelled = report.client_id.value;
        } else {
            ++other;
        }
    }
};

template <class Predicate>
bool poll_until(exec::binance_spot_gateway& gateway, Predicate done,
                std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
        if (std::chrono::steady_clock::now() >= deadline) {
            return false;
        }
        if (gateway.poll(wall_ns()) == 0) {
            std::this_thread::sleep_for(20us);
        }
    }
    return true;
}

} // namespace

void quoter::test::count_allocation() noexcept {
    if (!counting.load(std::memory_order_relaxed)) {
        return;
    }
    if (core_thread) {
        core_allocations.fetch_add(1, std::memory_order_relaxed);
    } else {
        other_allocations.fetch_add(1, std::memory_order_relaxed);
    }
}

TEST_CASE("placing and cancelling through the spot gateway allocates nothing after warm-up, on "
          "the core thread nor on the I/O thread",
          "[gateway_no_alloc]") {
    net::testing::venue_process venue({"--symbols", "BTCUSDT", "--rate-hz", "5"});
    const auto spec = core::symbol_spec::from_text({.name = "BTCUSDT",
                                                    .tick_size = "0.01000000",
                                                    .step_size = "0.00001000",
                                                    .min_notional = "5.00000000"});
    REQUIRE(spec.has_value());
    const std::array symbols{*spec};
    exec::binance_spot_gateway_config config;
    config.url = venue.ws_url() + "/ws-api/v3";
    config.api_key = std::string(api_key);
    config.secret = std::string(secret);
    config.id_tag = "nat";
    config.start_us = wall_ns() / 1'000;
    config.rate_limits.clear();      // more orders than Binance's 10 s limit allows
    config.user_data_stream = false; // one answer per request: the test waits for it
    exec::binance_spot_gateway gateway(config, symbols);
    counting_sink sink;
    gateway.set_report_sink(&sink);
    gateway.start();
    core_thread = true;
    REQUIRE(poll_until(
        gateway, [&] { return gateway.ready(); }, 10s));

    std::array<exec::written_stamp, 8> written{};
    std::uint64_t stamps = 0;
    const auto round_trip = [&](std::uint64_t id) {
        exec::order_request order;
        order.id = exec::client_order_id{id};
        order.side = core::side::buy;
        order.post_only = true;
        order.price = core::price{100}; // far below the synthetic book: it rests
        order.qty = core::qty{1000};
        const std::uint64_t request = gateway.next_request_id();
        if (gateway.submit(order, wall_ns()) != exec::gateway_error::none ||
            !poll_until(
                gateway, [&] { return sink.last_ack == id; }, 5s)) {
            return false;
        }
        if (gateway.cancel(0, order.id, wall_ns()) != exec::gateway_error::none ||
            !poll_until(
                gateway, [&] { return sink.last_cancelled == id; }, 5s)) {
            return false;
        }
        for (std::size_t n = gateway.poll_written(written); n > 0;
             n = gateway.poll_written(written)) {
            for (std::size_t i = 0; i < n; ++i) {
                stamps += written[i].request_id == request ? 1 : 0;
            }
        }
        return true;
    };

    for (std::uint64_t id = 1; id <= 30; ++id) { // warm-up: buffers, handler memory, tables
        REQUIRE(round_trip(id));
    }
    counting.store(true);
    bool all_ok = true;
    for (std::uint64_t id = 31; id <= 130 && all_ok; ++id) {
        all_ok = round_trip(id);
    }
    counting.store(false);
    REQUIRE(all_ok);
    CHECK(sink.other == 0);
    CHECK(stamps == 130); // every placement's bytes were stamped written
    CHECK(core_allocations.load() == 0);
    CHECK(other_allocations.load() == 0);
    core_thread = false;
    gateway.stop();
}
