// binance_spot_gateway end to end: the real quoter-venue binary on 127.0.0.1, the gateway's own
// I/O thread and WebSocket connection, and the core side driven from the test thread.
#include "venue_process.hpp"

#include "gateway_test_support.hpp"

#include "quoter/exec/binance_holdings.hpp"
#include "quoter/exec/binance_spot_gateway.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

using namespace quoter;
using namespace std::chrono_literals;

namespace {

using namespace gateway_test;

/// quoter-venue's control endpoint: faults and the /control/stats counters.
struct venue_control {
    explicit venue_control(const net::testing::venue_process& venue)
        : client(loop, net::testing::venue_rest_config(venue)) {}
    int fault(const std::string& target) {
        return net::testing::control(loop, client, target).status;
    }
    long long stat(std::string_view key) {
        return net::testing::json_int(net::testing::control(loop, client, "/control/stats").body,
                                      key);
    }
    net::io_loop loop;
    net::rest_client client;
};

exec::binance_spot_gateway_config gateway_config(const net::testing::venue_process& venue,
                                                 std::string_view key_secret) {
    exec::binance_spot_gateway_config config;
    config.url = venue.ws_url() + "/ws-api/v3";
    config.api_key = std::string(api_key);
    config.secret = std::string(key_secret);
    config.id_tag = "gwt";
    config.start_us = wall_ns() / 1'000;
    config.request_timeout_ms = 2'000;
    return config;
}

exec::order_request resting_bid(std::uint64_t id) {
    exec::order_request order;
    order.id = exec::client_order_id{id};
    order.side = core::side::buy;
    order.post_only = true;
    order.price = core::price{100}; // 1.00: far below any synthetic bid, so it rests
    order.qty = core::qty{1000};    // 0.01
    return order;
}

/// An earlier run (tag, start time) that placed `count` resting bids and died: its orders stay on
/// the venue.
void leave_resting_orders(const net::testing::venue_process& venue,
                          std::span<const core::symbol_spec> symbols, std::string_view tag,
                          std::int64_t start_us, std::size_t count) {
    auto config = gateway_config(venue, secret);
    config.id_tag = std::string(tag);
    config.start_us = start_us;
    started_spot_gateway started(config, symbols);
    for (std::size_t id = 1; id <= count; ++id) {
        REQUIRE(started.gateway.submit(resting_bid(id), wall_ns()) == exec::gateway_error::none);
    }
    REQUIRE(poll_until(
        started.gateway, [&] { return started.sink.count(exec::exec_kind::ack) == count; }, 5s));
    started.gateway.stop(); // as if killed
}

} // namespace

TEST_CASE("the gateway places, cancels and cancels all on quoter-venue; latency measured",
          "[binance_gateway][tsan]") {
    net::testing::venue_process venue({"--symbols", "BTCUSDT", "--rate-hz", "5"});
    const std::array symbols{btcusdt()};
    auto config = gateway_config(venue, secret);
    // 200 round trips in a row: more than Binance's 100 orders per 10 s would allow; the limits
    // have a test of their own.
    config.rate_limits.clear();
    exec::binance_spot_gateway gateway(config, symbols);
    recording_sink sink;
    gateway.set_report_sink(&sink);
    CHECK(gateway.submit(resting_bid(1), wall_ns()) == exec::gateway_error::disconnected);
    gateway.start();
    REQUIRE(poll_until(
        gateway, [&] { return gateway.ready(); }, 5s));

    // Place, ack, cancel, cancelled.
    REQUIRE(gateway.submit(resting_bid(1), wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return !sink.reports.empty(); }, 5s));
    CHECK(sink.reports[0].kind == exec::exec_kind::ack);
    CHECK(sink.reports[0].client_id.value == 1);
    CHECK(sink.reports[0].exchange_id != 0);
    REQUIRE(gateway.cancel(0, exec::client_order_id{1}, wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return sink.reports.size() >= 2; }, 5s));
    CHECK(sink.reports[1].kind == exec::exec_kind::cancelled);
    CHECK(sink.reports[1].client_id.value == 1);

    // A second cancel of the same order: the venue has no such open order.
    REQUIRE(gateway.cancel(0, exec::client_order_id{1}, wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return sink.reports.size() >= 3; }, 5s));
    CHECK(sink.reports[2].kind == exec::exec_kind::cancel_reject);
    CHECK(sink.reports[2].reason == exec::reject_reason::unknown_order);

    // Two resting orders, one cancel-all: one cancelled report each, by our ids.
    sink.reports.clear();
    REQUIRE(gateway.submit(resting_bid(2), wall_ns()) == exec::gateway_error::none);
    REQUIRE(gateway.submit(resting_bid(3), wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::ack) == 2; }, 5s));
    REQUIRE(gateway.cancel_all(0, wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::cancelled) == 2; }, 5s));
    std::vector<std::uint64_t> cancelled;
    for (const auto& r : sink.reports) {
        if (r.kind == exec::exec_kind::cancelled) {
            cancelled.push_back(r.client_id.value);
        }
    }
    std::sort(cancelled.begin(), cancelled.end());
    CHECK(cancelled == std::vector<std::uint64_t>{2, 3});

    // Round trips: submit on the core thread to the ack polled back on it (bounded: 200).
    std::vector<std::int64_t> round_trip_us;
    // Reports are matched by order id: a late answer about an earlier order (a cancel resent
    // after a slow answer is refused as unknown) may arrive during a later round trip.
    const auto reported = [&](std::uint64_t id, std::initializer_list<exec::exec_kind> kinds) {
        return std::any_of(sink.reports.begin(), sink.reports.end(), [&](const auto& r) {
            return r.client_id.value == id &&
                   std::find(kinds.begin(), kinds.end(), r.kind) != kinds.end();
        });
    };
    for (std::uint64_t id = 10; id < 210; ++id) {
        sink.reports.clear();
        const auto t0 = std::chrono::steady_clock::now();
        REQUIRE(gateway.submit(resting_bid(id), wall_ns()) == exec::gateway_error::none);
        REQUIRE(poll_until(
            gateway,
            [&] {
                return reported(id, {exec::exec_kind::ack, exec::exec_kind::reject});
            },
            5s));
        const auto t1 = std::chrono::steady_clock::now();
        REQUIRE(reported(id, {exec::exec_kind::ack}));
        round_trip_us.push_back(
            std::chrono::duration_cast<std::chrono::microseconds>(t1 - t0).count());
        REQUIRE(gateway.cancel(0, exec::client_order_id{id}, wall_ns()) ==
                exec::gateway_error::none);
        REQUIRE(poll_until(
            gateway, [&] { return reported(id, {exec::exec_kind::cancelled}); }, 5s));
    }
    std::sort(round_trip_us.begin(), round_trip_us.end());
    std::printf("order.place round trip against quoter-venue: p50 %lld us, p99 %lld us (n=%zu)\n",
                static_cast<long long>(round_trip_us[round_trip_us.size() / 2]),
                static_cast<long long>(round_trip_us[round_trip_us.size() * 99 / 100]),
                round_trip_us.size());
    CHECK(gateway.counters().unknowns.load() == 0);
    CHECK(gateway.counters().timeouts.load() == 0);
    gateway.stop();
    CHECK_FALSE(gateway.connected());
}

TEST_CASE("with the wrong secret the session opens but never reconciles, so no order is sent; "
          "every refusal counts as an API error",
          "[binance_gateway][tsan]") {
    net::testing::venue_process venue({"--symbols", "BTCUSDT", "--rate-hz", "5"});
    const std::array symbols{btcusdt()};
    auto config =
        gateway_config(venue, "wrongsecretwrongsecretwrongsecretwrongsecretwrongsecretwrongs");
    config.request_timeout_ms = 200;
    exec::binance_spot_gateway gateway(config, symbols);
    recording_sink sink;
    gateway.set_report_sink(&sink);
    gateway.start();
    REQUIRE(poll_until(
        gateway, [&] { return gateway.connected(); }, 5s));
    // The subscription and the reconciliation's openOrders.status (asked again) are refused.
    REQUIRE(poll_until(
        gateway, [&] { return gateway.counters().api_errors.load() >= 3; }, 5s));
    CHECK_FALSE(gateway.ready());
    CHECK_FALSE(gateway.user_stream_subscribed());
    CHECK(gateway.submit(resting_bid(1), wall_ns()) == exec::gateway_error::disconnected);
    CHECK(gateway.counters().reconciles.load() == 0);
    CHECK(sink.reports.empty());
}

TEST_CASE("a dropped connection is noticed and new requests are refused while it is down",
          "[binance_gateway][tsan]") {
    std::optional<net::testing::venue_process> venue;
    venue.emplace(std::vector<std::string>{"--symbols", "BTCUSDT", "--rate-hz", "5"});
    const std::array symbols{btcusdt()};
    auto config = gateway_config(*venue, secret);
    config.reconnect_delay_ms = 50;
    started_spot_gateway started(config, symbols);
    auto& gateway = started.gateway;
    auto& sink = started.sink;
    REQUIRE(gateway.submit(resting_bid(1), wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return !sink.reports.empty(); }, 5s));
    REQUIRE(sink.reports[0].kind == exec::exec_kind::ack);
    venue.reset(); // the venue process ends
    REQUIRE(poll_until(
        gateway, [&] { return !gateway.connected(); }, 5s));
    CHECK(gateway.submit(resting_bid(2), wall_ns()) == exec::gateway_error::disconnected);
    CHECK(gateway.counters().disconnects.load() >= 1);
    // It keeps trying, every time twice as long after the last: about six attempts in 3 s from
    // 50 ms on, where a fixed delay would make sixty.
    const std::uint64_t closed = gateway.counters().disconnects.load();
    (void)poll_until(
        gateway, [] { return false; }, 3'000ms);
    const std::uint64_t attempts = gateway.counters().disconnects.load() - closed;
    CHECK(attempts >= 3);
    CHECK(attempts <= 10);
    gateway.stop();
}

TEST_CASE("a dropped order answer becomes unknown and resolves through order.status, with no "
          "duplicate order on the venue",
          "[binance_gateway][tsan]") {
    net::testing::venue_process venue({"--symbols", "BTCUSDT", "--rate-hz", "5"});
    const std::array symbols{btcusdt()};
    auto config = gateway_config(venue, secret);
    config.request_timeout_ms = 300;
    config.user_data_stream = false; // only the query can tell
    started_spot_gateway started(config, symbols);
    auto& gateway = started.gateway;
    auto& sink = started.sink;

    net::io_loop loop;
    net::rest_client client(loop, net::testing::venue_rest_config(venue));
    const auto fault = net::testing::control(loop, client, "/control/order_drop?count=1");
    REQUIRE(fault.status == 200);

    REQUIRE(gateway.submit(resting_bid(7), wall_ns()) == exec::gateway_error::none);
    // The venue executes it but never answers: unknown after the timeout, then the query's
    // answer says it rests.
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::ack) == 1; }, 5s));
    REQUIRE(sink.reports.size() == 2);
    CHECK(sink.reports[0].kind == exec::exec_kind::unknown);
    CHECK(sink.reports[0].client_id.value == 7);
    CHECK(sink.reports[1].kind == exec::exec_kind::ack);
    CHECK(sink.reports[1].client_id.value == 7);
    CHECK(sink.reports[1].exchange_id != 0);
    CHECK(gateway.counters().timeouts.load() == 1);
    CHECK(gateway.counters().status_queries.load() == 1);
    CHECK(sink.venue_failures == 1); // the timeout; the query was answered

    // Exactly one order on the venue: the cancel-all finds it and nothing else.
    sink.reports.clear();
    REQUIRE(gateway.cancel_all(0, wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::cancelled) == 1; }, 5s));
    const auto stats = net::testing::control(loop, client, "/control/stats");
    CHECK(net::testing::json_int(stats.body, "orders_placed") == 1);
    CHECK(net::testing::json_int(stats.body, "order_answers_dropped") == 1);

    // A cancel of an order the venue never had is refused, and reported.
    sink.reports.clear();
    REQUIRE(gateway.cancel(0, exec::client_order_id{99}, wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return !sink.reports.empty(); }, 5s));
    CHECK(sink.reports[0].kind == exec::exec_kind::cancel_reject);
    gateway.stop();
}

namespace {

exec::order_request crossing_buy(std::uint64_t id) {
    exec::order_request order;
    order.id = exec::client_order_id{id};
    order.side = core::side::buy;
    order.post_only = false;
    order.tif = exec::time_in_force::ioc;
    order.price = core::price{100'000'000}; // 1,000,000.00: above any synthetic ask
    order.qty = core::qty{100};             // 0.001
    return order;
}

} // namespace

TEST_CASE("a fill of a foreign order on the user stream makes a reconciliation due: the balances "
          "are read again at once, not at the next reconnect",
          "[binance_gateway][tsan]") {
    net::testing::venue_process venue({"--symbols", "BTCUSDT", "--rate-hz", "5"});
    const std::array symbols{btcusdt()};
    auto config = gateway_config(venue, secret);
    config.foreign_fill_reconcile_ms = 1'000;
    started_spot_gateway started(config, symbols);
    auto& gateway = started.gateway;
    auto manual_config = gateway_config(venue, secret);
    manual_config.id_tag = "man"; // someone else's client ids, on the same account
    started_spot_gateway manual(manual_config, symbols);
    REQUIRE(gateway.counters().reconciles.load() == 1);

    // A foreign order that rests and is cancelled moves nothing: no reconciliation.
    REQUIRE(manual.gateway.submit(resting_bid(1), wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        manual.gateway, [&] { return manual.sink.count(exec::exec_kind::ack) == 1; }, 5s));
    REQUIRE(manual.gateway.cancel(0, exec::client_order_id{1}, wall_ns()) ==
            exec::gateway_error::none);
    REQUIRE(poll_until(
        manual.gateway, [&] { return manual.sink.count(exec::exec_kind::cancelled) == 1; }, 5s));
    poll_for(gateway, 300ms);
    CHECK(gateway.counters().reconciles.load() == 1);
    CHECK(gateway.counters().foreign_fills.load() == 0);

    // Two that trade: one reconciliation at once, and one for the second a pacing later.
    const auto base_held = [&] {
        return exec::spot_holdings_of(gateway.balances(), symbols[0]).base.lots();
    };
    const std::int64_t held_before = base_held();
    REQUIRE(manual.gateway.submit(crossing_buy(3), wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return gateway.counters().reconciles.load() == 2 && gateway.ready(); }, 5s));
    CHECK(gateway.counters().foreign_fills.load() >= 1);
    CHECK(base_held() == held_before + 100);
    REQUIRE(manual.gateway.submit(crossing_buy(5), wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return gateway.counters().reconciles.load() == 3 && gateway.ready(); }, 5s));
    CHECK(base_held() == held_before + 200);
    CHECK(gateway.counters().foreign_orders.load() == 0); // none rests
    manual.gateway.stop();
    gateway.stop();
}

TEST_CASE("with the user-data stream a lost answer is told by the executionReports: ack and "
          "one fill with its trade id, never unknown",
          "[binance_gateway][tsan]") {
    net::testing::venue_process venue({"--symbols", "BTCUSDT", "--rate-hz", "5"});
    const std::array symbols{btcusdt()};
    auto config = gateway_config(venue, secret);
    config.request_timeout_ms = 300;
    exec::binance_spot_gateway gateway(config, symbols);
    recording_sink sink;
    gateway.set_report_sink(&sink);
    gateway.start();
    REQUIRE(poll_until(
        gateway, [&] { return gateway.ready() && gateway.user_stream_subscribed(); }, 5s));

    net::io_loop loop;
    net::rest_client client(loop, net::testing::venue_rest_config(venue));
    REQUIRE(net::testing::control(loop, client, "/control/order_drop?count=1").status == 200);
    REQUIRE(gateway.submit(crossing_buy(5), wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::fill) == 1; }, 5s));
    // Past the request timeout: the stream already told, so nothing is unknown or queried.
    const auto until = std::chrono::steady_clock::now() + 600ms;
    (void)poll_until(
        gateway, [&] { return std::chrono::steady_clock::now() >= until; }, 2s);
    CHECK(sink.count(exec::exec_kind::unknown) == 0);
    CHECK(sink.count(exec::exec_kind::ack) == 1);
    CHECK(sink.count(exec::exec_kind::fill) == 1);
    CHECK(sink.count(exec::exec_kind::partial_fill) == 0);
    CHECK(gateway.counters().status_queries.load() == 0);
    for (const auto& r : sink.reports) {
        if (r.kind == exec::exec_kind::fill) {
            CHECK(r.trade_id >= 1);
            // The trade's venue time on the local wall clock (the fill-delay trigger compares
            // it with the arrival): the same clock base, not zero.
            CHECK(r.exchange_ts > 0);
            CHECK(std::llabs(r.local_ts - r.exchange_ts) < 3'600 * 1'000'000'000LL);
            CHECK(r.fill_qty == core::qty{100});
            CHECK(r.client_id.value == 5);
        }
    }
    const auto stats = net::testing::control(loop, client, "/control/stats");
    CHECK(net::testing::json_int(stats.body, "trades") == 1);
    CHECK(net::testing::json_int(stats.body, "open_orders") == 0);
}

TEST_CASE("a cancel answered by both the answer and the executionReport is reported once",
          "[binance_gateway][tsan]") {
    net::testing::venue_process venue({"--symbols", "BTCUSDT", "--rate-hz", "5"});
    const std::array symbols{btcusdt()};
    exec::binance_spot_gateway gateway(gateway_config(venue, secret), symbols);
    recording_sink sink;
    gateway.set_report_sink(&sink);
    gateway.start();
    REQUIRE(poll_until(
        gateway, [&] { return gateway.ready() && gateway.user_stream_subscribed(); }, 5s));
    REQUIRE(gateway.submit(resting_bid(1), wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::ack) == 1; }, 5s));
    REQUIRE(gateway.cancel(0, exec::client_order_id{1}, wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::cancelled) == 1; }, 5s));
    // Both sources have spoken once the stream delivered its CANCELED.
    REQUIRE(poll_until(
        gateway, [&] { return gateway.counters().user_events.load() >= 2; }, 5s));
    (void)gateway.poll(wall_ns());
    CHECK(sink.count(exec::exec_kind::ack) == 1);
    CHECK(sink.count(exec::exec_kind::cancelled) == 1);
    CHECK(sink.reports.size() == 2);
}

TEST_CASE("the rate limiter holds new orders back short of the limit and leaves the kill its "
          "room",
          "[binance_gateway][tsan]") {
    net::testing::venue_process venue({"--symbols", "BTCUSDT", "--rate-hz", "5"});
    const std::array symbols{btcusdt()};
    auto config = gateway_config(venue, secret);
    // 60 weight a minute, 10% (6) kept for cancels. The subscription (2), the reconciliation's
    // openOrders.status (6) and account.status (20) use 28, so 26 orders (1 each) fit under 54;
    // the cancel-all (1) may use the reserve.
    config.rate_limits = {{exec::rate_limit_type::request_weight, 60 * core::ns_per_s, 60}};
    exec::binance_spot_gateway gateway(config, symbols);
    recording_sink sink;
    gateway.set_report_sink(&sink);
    gateway.start();
    REQUIRE(poll_until(
        gateway, [&] { return gateway.ready() && gateway.user_stream_subscribed(); }, 5s));
    for (std::uint64_t id = 1; id <= 30; ++id) {
        REQUIRE(gateway.submit(resting_bid(id), wall_ns()) == exec::gateway_error::none);
    }
    REQUIRE(poll_until(
        gateway,
        [&] {
            return sink.count(exec::exec_kind::ack) + sink.count(exec::exec_kind::reject) == 30;
        },
        10s));
    CHECK(sink.count(exec::exec_kind::ack) == 26);
    CHECK(sink.count(exec::exec_kind::reject) == 4);
    for (const auto& r : sink.reports) {
        if (r.kind == exec::exec_kind::reject) {
            // Held back by quoter's own limiter: never sent, not an error of the venue.
            CHECK(r.reason == exec::reject_reason::held_back);
            CHECK(r.client_id.value > 26);
        }
    }
    CHECK(gateway.counters().rate_limited.load() == 4);

    REQUIRE(gateway.cancel_all(0, wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::cancelled) == 26; }, 10s));
    net::io_loop loop;
    net::rest_client client(loop, net::testing::venue_rest_config(venue));
    const auto stats = net::testing::control(loop, client, "/control/stats");
    CHECK(net::testing::json_int(stats.body, "orders_placed") == 26);
    CHECK(net::testing::json_int(stats.body, "open_orders") == 0);
}

TEST_CASE("reconciliation cancels an earlier run's resting orders before new orders are taken, "
          "and leaves foreign ones alone unless configured",
          "[binance_gateway][tsan]") {
    net::testing::venue_process venue({"--symbols", "BTCUSDT", "--rate-hz", "5"});
    const std::array symbols{btcusdt()};
    venue_control control(venue);
    const auto open_orders = [&] { return control.stat("open_orders"); };
    // Two orders of an earlier run (tag "gwt", another start time) and one foreign ("man").
    leave_resting_orders(venue, symbols, "gwt", wall_ns() / 1'000 - 5'000'000, 2);
    leave_resting_orders(venue, symbols, "man", 1, 1);
    REQUIRE(open_orders() == 3);

    started_spot_gateway started(gateway_config(venue, secret), symbols);
    auto& gateway = started.gateway;
    CHECK(gateway.counters().reconcile_found.load() == 3);
    CHECK(gateway.counters().reconcile_cancelled.load() == 2);
    CHECK(gateway.counters().foreign_orders.load() == 1);
    CHECK(open_orders() == 1);
    bool usdt = false;
    for (const auto& balance : gateway.balances()) {
        usdt = usdt || (balance.asset.view() == "USDT" && balance.free_e8 > 0);
    }
    CHECK(usdt);
    gateway.stop();

    auto config = gateway_config(venue, secret);
    config.cancel_foreign_orders = true;
    exec::binance_spot_gateway sweeping(config, symbols);
    sweeping.start();
    REQUIRE(poll_until(
        sweeping, [&] { return sweeping.ready(); }, 5s));
    CHECK(sweeping.counters().reconcile_cancelled.load() == 1);
    CHECK(open_orders() == 0);
}

TEST_CASE("a reconciliation cancel the venue lost is sent again: new orders are taken only once "
          "the earlier run's orders are gone",
          "[binance_gateway][tsan]") {
    net::testing::venue_process venue({"--symbols", "BTCUSDT", "--rate-hz", "5"});
    const std::array symbols{btcusdt()};
    venue_control control(venue);
    leave_resting_orders(venue, symbols, "gwt", wall_ns() / 1'000 - 5'000'000, 2);
    REQUIRE(control.stat("open_orders") == 2);
    // The first cancel of the reconciliation is lost on the way (503 -1006, not executed).
    REQUIRE(control.fault("/control/cancel_lose?count=1") == 200);

    started_spot_gateway started(gateway_config(venue, secret), symbols);
    auto& gateway = started.gateway;
    // Ready means reconciled: nothing of the earlier run rests beside the new orders.
    CHECK(control.stat("open_orders") == 0);
    CHECK(control.stat("cancels_lost") == 1);
    CHECK(gateway.counters().reconcile_cancelled.load() == 2);
    CHECK(gateway.counters().reconcile_failures.load() == 1);
    CHECK(gateway.counters().reconcile_gave_up.load() == 0);
    gateway.stop();
}

TEST_CASE("a cancel-all the venue lost is found out by the confirming query and sent again; past "
          "its attempts the alarm is raised once and the checks go on until the venue confirms",
          "[binance_gateway][tsan]") {
    net::testing::venue_process venue({"--symbols", "BTCUSDT", "--rate-hz", "5"});
    const std::array symbols{btcusdt()};
    auto config = gateway_config(venue, secret);
    config.kill_check_delay_ms = 50;
    config.kill_confirm_attempts = 3;
    started_spot_gateway started(config, symbols);
    auto& gateway = started.gateway;
    auto& sink = started.sink;
    venue_control control(venue);
    const auto stat = [&](std::string_view key) { return control.stat(key); };

    REQUIRE(gateway.submit(resting_bid(1), wall_ns()) == exec::gateway_error::none);
    REQUIRE(gateway.submit(resting_bid(2), wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::ack) == 2; }, 5s));
    REQUIRE(control.fault("/control/cancel_all_lose?count=1") == 200);
    CHECK_FALSE(gateway.kill_unconfirmed(0));
    REQUIRE(gateway.cancel_all(0, wall_ns()) == exec::gateway_error::none);
    // Unconfirmed from the moment the cancel-all is handed over, before the I/O thread took it.
    CHECK(gateway.kill_unconfirmed(0));
    REQUIRE(poll_until(
        gateway, [&] { return gateway.counters().kills_confirmed.load() == 1; }, 10s));
    CHECK_FALSE(gateway.kill_unconfirmed(0));
    CHECK(gateway.counters().kill_resends.load() == 1);
    CHECK(sink.count(exec::exec_kind::cancelled) == 2);
    CHECK(stat("cancel_alls_lost") == 1);
    CHECK(stat("open_orders") == 0);

    // A venue that loses every cancel-all: the alarm after the attempts, once, and the checks
    // go on (eight check delays apart) until the venue takes a cancel-all again.
    REQUIRE(gateway.submit(resting_bid(3), wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::ack) == 3; }, 5s));
    REQUIRE(control.fault("/control/cancel_all_lose?count=100") == 200);
    REQUIRE(gateway.cancel_all(0, wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return gateway.counters().kill_gave_up.load() == 1; }, 10s));
    const std::int64_t lost_at_alarm = stat("cancel_alls_lost");
    CHECK(lost_at_alarm >= 1 + 1 + 3); // the first, this one, three resends
    // Eight check delays apart (400 ms), not one: about three more in 1.2 s, never twenty.
    std::this_thread::sleep_for(1200ms);
    (void)gateway.poll(wall_ns());
    CHECK(stat("cancel_alls_lost") >= lost_at_alarm + 1);
    CHECK(stat("cancel_alls_lost") <= lost_at_alarm + 6);
    CHECK(gateway.counters().kill_gave_up.load() == 1);
    CHECK(stat("open_orders") == 1);
    CHECK(gateway.kill_unconfirmed(0)); // given up is not confirmed
    REQUIRE(control.fault("/control/cancel_all_lose?count=0") == 200);
    REQUIRE(poll_until(
        gateway, [&] { return gateway.counters().kills_confirmed.load() == 2; }, 5s));
    CHECK_FALSE(gateway.kill_unconfirmed(0));
    CHECK(stat("open_orders") == 0);
    CHECK(sink.count(exec::exec_kind::cancelled) == 3);

    // Trading resumed (a resting order is placed): the unconfirmed kill is over, and its checks
    // no longer cancel the new quotes.
    REQUIRE(gateway.submit(resting_bid(4), wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::ack) == 4; }, 5s));
    REQUIRE(control.fault("/control/cancel_all_lose?count=100") == 200);
    REQUIRE(gateway.cancel_all(0, wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return gateway.counters().kill_gave_up.load() == 2; }, 10s));
    CHECK(gateway.kill_unconfirmed(0));
    REQUIRE(gateway.submit(resting_bid(5), wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::ack) == 5; }, 5s));
    CHECK_FALSE(gateway.kill_unconfirmed(0));
    const std::int64_t lost_at_resume = stat("cancel_alls_lost");
    std::this_thread::sleep_for(1200ms); // three recheck periods
    (void)gateway.poll(wall_ns());
    CHECK(stat("cancel_alls_lost") == lost_at_resume);
    CHECK(gateway.counters().kill_gave_up.load() == 2);
    CHECK(stat("open_orders") == 2);
}

TEST_CASE("a kill is confirmed once none of this instance's orders rests: an order placed by "
          "hand after it is left alone unless foreign orders are to be cancelled",
          "[binance_gateway][tsan]") {
    net::testing::venue_process venue({"--symbols", "BTCUSDT", "--rate-hz", "5"});
    const std::array symbols{btcusdt()};
    auto config = gateway_config(venue, secret);
    config.kill_check_delay_ms = 1'000; // room for the manual order before the check
    started_spot_gateway started(config, symbols);
    auto& gateway = started.gateway;
    auto manual_config = gateway_config(venue, secret);
    manual_config.id_tag = "man"; // someone else's client ids
    started_spot_gateway manual(manual_config, symbols);
    venue_control control(venue);
    const auto stat = [&](std::string_view key) { return control.stat(key); };

    REQUIRE(gateway.cancel_all(0, wall_ns()) == exec::gateway_error::none);
    std::this_thread::sleep_for(100ms); // the cancel-all is answered; the check is due later
    REQUIRE(manual.gateway.submit(resting_bid(1), wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        manual.gateway, [&] { return manual.sink.count(exec::exec_kind::ack) == 1; }, 5s));
    REQUIRE(poll_until(
        gateway, [&] { return gateway.counters().kills_confirmed.load() == 1; }, 5s));
    CHECK(gateway.counters().kill_resends.load() == 0);
    CHECK(stat("open_orders") == 1);
}

TEST_CASE("a kill taken while the connection is down is confirmed by the venue once it is back",
          "[binance_gateway][tsan]") {
    net::testing::venue_process venue({"--symbols", "BTCUSDT", "--rate-hz", "5"});
    const std::array symbols{btcusdt()};
    auto config = gateway_config(venue, secret);
    config.kill_check_delay_ms = 50;
    config.reconnect_delay_ms = 1'000;
    started_spot_gateway started(config, symbols);
    auto& gateway = started.gateway;
    auto& sink = started.sink;
    venue_control control(venue);
    const auto stat = [&](std::string_view key) { return control.stat(key); };

    REQUIRE(gateway.submit(resting_bid(1), wall_ns()) == exec::gateway_error::none);
    REQUIRE(gateway.submit(resting_bid(2), wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::ack) == 2; }, 5s));
    REQUIRE(control.fault("/control/drop") == 200);
    REQUIRE(poll_until(
        gateway, [&] { return !gateway.connected(); }, 5s));
    // The owner hears that nothing went out (and cancels one by one too)...
    CHECK(gateway.cancel_all(0, wall_ns()) == exec::gateway_error::disconnected);
    // ...and the gateway has the venue confirm the kill once connected again. Down for longer
    // than its attempts (5 x 50 ms), the unconfirmed kill has raised the alarm meanwhile, once.
    REQUIRE(poll_until(
        gateway, [&] { return gateway.counters().kills_confirmed.load() == 1; }, 10s));
    CHECK(gateway.counters().kill_gave_up.load() == 1);
    CHECK(stat("open_orders") == 0);
    CHECK(sink.count(exec::exec_kind::cancelled) == 2);
}

TEST_CASE("an order.place answered 5xx after the venue executed it is resolved to the one order "
          "the venue holds",
          "[binance_gateway][tsan]") {
    net::testing::venue_process venue({"--symbols", "BTCUSDT", "--rate-hz", "5"});
    const std::array symbols{btcusdt()};
    auto config = gateway_config(venue, secret);
    config.user_data_stream = false; // only the query can tell
    started_spot_gateway started(config, symbols);
    auto& gateway = started.gateway;
    auto& sink = started.sink;
    net::io_loop loop;
    net::rest_client client(loop, net::testing::venue_rest_config(venue));
    REQUIRE(
        net::testing::control(loop, client, "/control/order_fail_after_execute?count=1").status ==
        200);
    REQUIRE(gateway.submit(resting_bid(4), wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::ack) == 1; }, 5s));
    REQUIRE(sink.reports.size() == 2);
    CHECK(sink.reports[0].kind == exec::exec_kind::unknown);
    CHECK(sink.reports[1].kind == exec::exec_kind::ack);
    CHECK(sink.reports[1].exchange_id != 0);
    CHECK(gateway.counters().status_queries.load() == 1);
    const auto stats = net::testing::control(loop, client, "/control/stats");
    CHECK(net::testing::json_int(stats.body, "orders_placed") == 1);
    CHECK(net::testing::json_int(stats.body, "open_orders") == 1);
    CHECK(net::testing::json_int(stats.body, "failed_after_execute") == 1);
    // The 5xx is an API error told to the core for the kill triggers.
    CHECK(gateway.counters().venue_failures.load() == 1);
    CHECK(sink.venue_failures == 1);
}

TEST_CASE("an order the venue refuses for a reason of its own is rejected venue_refused, an API "
          "error",
          "[binance_gateway][tsan]") {
    net::testing::venue_process venue({"--symbols", "BTCUSDT", "--rate-hz", "5"});
    const std::array symbols{btcusdt()};
    started_spot_gateway started(gateway_config(venue, secret), symbols);
    auto& gateway = started.gateway;
    auto& sink = started.sink;
    REQUIRE(gateway.submit(resting_bid(5), wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::ack, 5) == 1; }, 5s));
    // The same client order id again: -2010 "Duplicate order sent.".
    REQUIRE(gateway.submit(resting_bid(5), wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::reject, 5) == 1; }, 5s));
    const auto rejected = std::find_if(sink.reports.begin(), sink.reports.end(),
                                       [](auto& r) { return r.kind == exec::exec_kind::reject; });
    REQUIRE(rejected != sink.reports.end());
    CHECK(rejected->reason == exec::reject_reason::venue_refused);
    CHECK(sink.venue_failures == 0); // answered: not a failure of the venue
}

TEST_CASE("a fill's report carries the venue's trade time, and account.status's balances are as "
          "of the venue time of their last change, that fill's",
          "[binance_gateway][tsan]") {
    net::testing::venue_process venue({"--symbols", "BTCUSDT", "--rate-hz", "5"});
    const std::array symbols{btcusdt()};
    std::int64_t fill_ms = 0;
    {
        started_spot_gateway started(gateway_config(venue, secret), symbols);
        auto& gateway = started.gateway;
        auto& sink = started.sink;
        exec::order_request taking;
        taking.id = exec::client_order_id{1};
        taking.side = core::side::buy;
        taking.post_only = false;
        taking.tif = exec::time_in_force::ioc;
        taking.price = core::price{1'000'000}; // 10000.00: through the synthetic book (~1000)
        taking.qty = core::qty{1000};
        REQUIRE(gateway.submit(taking, wall_ns()) == exec::gateway_error::none);
        REQUIRE(poll_until(
            gateway, [&] { return sink.count(exec::exec_kind::fill, 1) == 1; }, 5s));
        for (const exec::exec_report& r : sink.reports) {
            if (r.kind == exec::exec_kind::fill) {
                fill_ms = r.venue_time_ms;
            }
        }
        // On the venue's clock, which is the wall clock here.
        CHECK(std::llabs(fill_ms - wall_ns() / 1'000'000) < 60'000);
        gateway.stop();
    }
    // The next run's reconciliation reads the balances, the fill their last change.
    exec::binance_spot_gateway next(gateway_config(venue, secret), symbols);
    next.start();
    REQUIRE(poll_until(
        next, [&] { return next.ready(); }, 5s));
    std::size_t stamped = 0;
    for (const exec::asset_balance& balance : next.balances()) {
        CHECK(balance.update_time_ms == fill_ms);
        stamped += balance.update_time_ms == fill_ms ? 1 : 0;
    }
    CHECK(stamped >= 2); // BTC and USDT
    next.stop();
}

TEST_CASE("a fill only a cancel answer tells is reported from myTrades: the venue's trade ids "
          "and trade times, not the answer's time; the cancel follows the fills",
          "[binance_gateway][tsan]") {
    // Resting orders wait: the order below is filled in part, by the top level only.
    net::testing::venue_process venue(
        {"--symbols", "BTCUSDT", "--rate-hz", "5", "--no-resting-fills"});
    const std::array symbols{btcusdt()};
    auto config = gateway_config(venue, secret);
    config.user_data_stream = false; // only the answers tell
    started_spot_gateway started(config, symbols);
    auto& gateway = started.gateway;
    auto& sink = started.sink;

    // A buy through the book, larger than the ask: it takes what is offered and rests.
    exec::order_request order = crossing_buy(8);
    order.tif = exec::time_in_force::gtc;
    order.qty = core::qty{100'000'000}; // 1,000 BTC
    REQUIRE(gateway.submit(order, wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::ack, 8) == 1; }, 5s));
    // Time passes between the trades and the cancel, whose answer tells them.
    const auto until = std::chrono::steady_clock::now() + 50ms;
    (void)poll_until(
        gateway, [&] { return std::chrono::steady_clock::now() >= until; }, 1s);
    const std::int64_t cancel_sent_ms = wall_ns() / 1'000'000;
    REQUIRE(gateway.cancel(0, exec::client_order_id{8}, wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::cancelled, 8) == 1; }, 5s));

    net::io_loop loop;
    net::rest_client client(loop, net::testing::venue_rest_config(venue));
    const auto stats = net::testing::control(loop, client, "/control/stats");
    const long long venue_trades = net::testing::json_int(stats.body, "trades");
    REQUIRE(venue_trades >= 1);
    CHECK(net::testing::json_int(stats.body, "trade_lists") == 1);
    CHECK(gateway.counters().trade_queries.load() == 1);
    CHECK(static_cast<long long>(sink.count(exec::exec_kind::partial_fill, 8)) == venue_trades);
    std::int64_t filled = 0;
    std::int64_t last_trade_id = 0;
    bool cancelled_seen = false;
    for (const exec::exec_report& r : sink.reports) {
        if (r.kind == exec::exec_kind::cancelled) {
            cancelled_seen = true;
            CHECK(r.cum_qty == core::qty{filled}); // after every fill it counts
        }
        if (r.kind != exec::exec_kind::partial_fill) {
            continue;
        }
        CHECK_FALSE(cancelled_seen);
        CHECK(r.trade_id > last_trade_id); // the venue's trade ids, in order
        last_trade_id = r.trade_id;
        CHECK(r.venue_time_ms > 0);
        CHECK(r.venue_time_ms < cancel_sent_ms); // the trade's time, before the cancel
        CHECK(r.liquidity == exec::liquidity_role::taker);
        filled += r.fill_qty.lots();
    }
    CHECK(filled > 0);
    CHECK(cancelled_seen);
    gateway.stop();
}

TEST_CASE("a cancel answered -2011 (the order is gone) is followed by order.status: a fill no "
          "stream told is reported at once, with its trade",
          "[binance_gateway][tsan]") {
    net::testing::venue_process venue({"--symbols", "BTCUSDT", "--rate-hz", "5"});
    const std::array symbols{btcusdt()};
    auto config = gateway_config(venue, secret);
    config.user_data_stream = false; // the fill below is told by no event
    started_spot_gateway started(config, symbols);
    auto& gateway = started.gateway;
    auto& sink = started.sink;

    // Filled in full on arrival; the ACK answer says nothing of it.
    exec::order_request order = crossing_buy(9);
    order.tif = exec::time_in_force::gtc;
    REQUIRE(gateway.submit(order, wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::ack, 9) == 1; }, 5s));
    REQUIRE(sink.count(exec::exec_kind::fill, 9) == 0);
    // The cancel finds no open order (-2011): the status query learns the fill.
    REQUIRE(gateway.cancel(0, exec::client_order_id{9}, wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::fill, 9) == 1; }, 5s));
    CHECK(sink.count(exec::exec_kind::cancel_reject, 9) == 1);
    CHECK(gateway.counters().status_queries.load() == 1);
    for (const exec::exec_report& r : sink.reports) {
        if (r.kind == exec::exec_kind::fill) {
            CHECK(r.fill_qty == order.qty);
            CHECK(r.trade_id > 0); // from myTrades: the venue's trade
        }
    }
    gateway.stop();
}
