// The order path warm-up's encoding never reaches the venue: the Binance spot and futures
// gateways' rehearse_submit and rehearse_replace (engine::order_path_warmer's step 4; spot's
// order.cancelReplace included) encode and sign the would-be order on the core thread, and nothing
// is sent: the real quoter-venue on 127.0.0.1 counts no request, the gateway's sent counter and
// request ids stay, no report or written stamp comes back; and the dry runs allocate nothing on the
// core thread. A real order afterwards is counted by the same venue counter, so the check can see a
// request when there is one.
//
// A program of its own: replacing the global allocation functions affects the whole binary.
#include "gateway_test_support.hpp"
#include "venue_process.hpp"

#include "quoter/exec/binance_futures_gateway.hpp"
#include "quoter/exec/binance_spot_gateway.hpp"
#include "support/counting_allocator.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

using namespace quoter;
using namespace std::chrono_literals;

namespace {

using namespace gateway_test;

/// The core thread (the test's) marks itself while it counts.
thread_local bool core_thread = false;
std::atomic<std::uint64_t> core_allocations{0};

/// The venue's /control/stats counter `key`.
long long venue_stat(const net::testing::venue_process& venue, const std::string& key) {
    net::io_loop loop;
    net::rest_client client(loop, net::testing::venue_rest_config(venue));
    return net::testing::json_int(net::testing::control(loop, client, "/control/stats").body, key);
}

/// Waits (bounded) until the venue's counter reaches value.
bool wait_stat(const net::testing::venue_process& venue, const std::string& key, long long value) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (venue_stat(venue, key) < value) {
        if (std::chrono::steady_clock::now() >= deadline) {
            return false;
        }
        std::this_thread::sleep_for(20ms);
    }
    return true;
}

exec::order_request resting_bid(std::uint64_t id) {
    exec::order_request order;
    order.id = exec::client_order_id{id};
    order.side = core::side::buy;
    order.post_only = true;
    order.price = core::price{100}; // far below the synthetic book: it rests
    order.qty = core::qty{1000};
    return order;
}

/// 1,000 dry runs on the core thread, counting its allocations; returns how many encoded.
template <class Gateway> int rehearse_many(Gateway& gateway) {
    for (std::uint64_t id = 1; id <= 10; ++id) { // warm-up
        (void)gateway.rehearse_submit(resting_bid(id), wall_ns());
        (void)gateway.rehearse_replace(0, exec::client_order_id{id + 10'000}, resting_bid(id),
                                       wall_ns());
    }
    int encoded = 0;
    core_thread = true;
    for (std::uint64_t id = 1; id <= 1'000; ++id) {
        encoded += gateway.rehearse_submit(resting_bid(id), wall_ns()) ? 1 : 0;
        // The replace of a resting order by it (order.cancelReplace where the gateway sends one).
        encoded += gateway.rehearse_replace(0, exec::client_order_id{id + 10'000}, resting_bid(id),
                                            wall_ns())
                       ? 1
                       : 0;
    }
    core_thread = false;
    return encoded;
}

} // namespace

void quoter::test::count_allocation() noexcept {
    if (core_thread) {
        core_allocations.fetch_add(1, std::memory_order_relaxed);
    }
}

TEST_CASE("spot gateway: the dry run encodes and signs, sends nothing and allocates nothing",
          "[order_path_warmer][binance_spot_gateway]") {
    net::testing::venue_process venue({"--symbols", "BTCUSDT", "--rate-hz", "5"});
    const std::array symbols{btcusdt()};
    exec::binance_spot_gateway_config config;
    config.url = venue.ws_url() + "/ws-api/v3";
    config.api_key = std::string(api_key);
    config.secret = std::string(secret);
    config.id_tag = "wrm";
    config.start_us = wall_ns() / 1'000;
    config.user_data_stream = false; // one answer per request
    config.cancel_replace = true;    // replaces dry-run as order.cancelReplace
    exec::binance_spot_gateway gateway(config, symbols);
    recording_sink sink;
    gateway.set_report_sink(&sink);
    gateway.start();
    REQUIRE(poll_until(
        gateway, [&] { return gateway.ready(); }, 10s));
    (void)poll_until(
        gateway, [] { return false; }, 200ms); // reconciliation answers, if any, drain
    sink.reports.clear();

    const long long requests = venue_stat(venue, "ws_api_requests");
    const std::uint64_t sent = gateway.counters().sent.load();
    const std::uint64_t request_id = gateway.next_request_id();
    core_allocations = 0;
    CHECK(rehearse_many(gateway) == 2'000);
    CHECK(core_allocations.load() == 0);
    CHECK(gateway.next_request_id() == request_id);
    (void)poll_until(
        gateway, [] { return false; }, 300ms); // time for anything sent to be answered
    std::array<exec::written_stamp, 8> written{};
    CHECK(gateway.poll_written(written) == 0);
    CHECK(sink.reports.empty());
    CHECK(gateway.counters().sent.load() == sent);
    CHECK(venue_stat(venue, "ws_api_requests") == requests);
    CHECK(venue_stat(venue, "orders_placed") == 0);

    // A real order is seen by the same counters.
    REQUIRE(gateway.submit(resting_bid(5'000), wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::ack) == 1; }, 5s));
    CHECK(wait_stat(venue, "ws_api_requests", requests + 1));
    CHECK(gateway.counters().sent.load() == sent + 1);
    gateway.stop();
}

TEST_CASE("futures gateway: the dry run encodes and signs, sends nothing and allocates nothing",
          "[order_path_warmer][binance_futures_gateway]") {
    net::testing::venue_process venue({"--symbols", "BTCUSDT", "--rate-hz", "5", "--futures"});
    const std::array symbols{btcusdt()};
    exec::binance_futures_gateway_config config;
    config.rest_url = venue.http_url();
    config.ws_url = venue.ws_url();
    config.api_key = std::string(api_key);
    config.secret = std::string(secret);
    config.id_tag = "wrf";
    config.start_us = wall_ns() / 1'000;
    config.request_timeout_ms = 2'000;
    exec::binance_futures_gateway gateway(config, symbols);
    recording_sink sink;
    gateway.set_report_sink(&sink);
    gateway.start();
    REQUIRE(poll_until(
        gateway, [&] { return gateway.ready(); }, 10s));
    (void)poll_until(
        gateway, [] { return false; }, 200ms);
    sink.reports.clear();

    const long long requests = venue_stat(venue, "futures_requests");
    const std::uint64_t sent = gateway.counters().sent.load();
    const std::uint64_t request_id = gateway.next_request_id();
    core_allocations = 0;
    CHECK(rehearse_many(gateway) == 2'000);
    CHECK(core_allocations.load() == 0);
    CHECK(gateway.next_request_id() == request_id);
    (void)poll_until(
        gateway, [] { return false; }, 300ms);
    std::array<exec::written_stamp, 8> written{};
    CHECK(gateway.poll_written(written) == 0);
    CHECK(sink.reports.empty());
    CHECK(gateway.counters().sent.load() == sent);
    CHECK(venue_stat(venue, "futures_requests") == requests);

    REQUIRE(gateway.submit(resting_bid(5'000), wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::ack) == 1; }, 5s));
    CHECK(wait_stat(venue, "futures_requests", requests + 1));
    CHECK(gateway.counters().sent.load() == sent + 1);
    gateway.stop();
}
