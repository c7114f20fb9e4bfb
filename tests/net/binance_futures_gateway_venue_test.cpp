// binance_futures_gateway end to end: the real quoter-venue binary on 127.0.0.1 (REST order
// endpoints, listenKey stream, countdownCancelAll), the gateway's own I/O thread, and the core
// side driven from the test thread.
#include "venue_process.hpp"

#include "gateway_test_support.hpp"

#include "quoter/exec/binance_futures_gateway.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

using namespace quoter;
using namespace std::chrono_literals;

namespace {

using namespace gateway_test;

/// The venue's /control/stats, through a REST client of its own.
struct venue_control {
    explicit venue_control(const net::testing::venue_process& venue)
        : client(loop, net::testing::venue_rest_config(venue)) {}
    std::string get(const std::string& target) {
        return net::testing::control(loop, client, target).body;
    }
    long long stat(const std::string& key) {
        return net::testing::json_int(get("/control/stats"), key);
    }
    /// Waits (bounded) until the venue's stat equals value.
    bool wait_stat(const std::string& key, long long value, std::chrono::milliseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (stat(key) != value) {
            if (std::chrono::steady_clock::now() >= deadline) {
                return false;
            }
            std::this_thread::sleep_for(20ms);
        }
        return true;
    }
    net::io_loop loop;
    net::rest_client client;
};

exec::binance_futures_gateway_config gateway_config(const net::testing::venue_process& venue,
                                                    std::string_view tag = "fgw") {
    exec::binance_futures_gateway_config config;
    config.rest_url = venue.http_url();
    config.ws_url = venue.ws_url();
    config.api_key = std::string(api_key);
    config.secret = std::string(secret);
    config.id_tag = std::string(tag);
    config.start_us = wall_ns() / 1'000;
    config.request_timeout_ms = 2'000;
    config.rate_limits.clear();
    return config;
}

exec::order_request resting_bid(std::uint64_t id) {
    exec::order_request order;
    order.id = exec::client_order_id{id};
    order.side = core::side::buy;
    order.post_only = true;
    order.price = core::price{100}; // 1.00: far below the synthetic book (~1000), so it rests
    order.qty = core::qty{1000};    // 0.01
    return order;
}

/// Places resting_bid(id); whether its ack was reported within 5 s.
bool acked_resting_bid(exec::binance_futures_gateway& gateway, const recording_sink& sink,
                       std::uint64_t id) {
    return gateway.submit(resting_bid(id), wall_ns()) == exec::gateway_error::none &&
           poll_until(
               gateway, [&] { return sink.count(exec::exec_kind::ack, id) == 1; },
               std::chrono::seconds(5));
}

/// Cancels order id; whether its cancel was reported and the user stream told at least
/// `events` events since events_before (the cancel's, and what else the caller counts) within 5 s.
bool cancelled_on_stream(exec::binance_futures_gateway& gateway, const recording_sink& sink,
                         std::uint64_t id, std::uint64_t events_before, std::uint64_t events) {
    if (gateway.cancel(0, exec::client_order_id{id}, wall_ns()) != exec::gateway_error::none) {
        return false;
    }
    return poll_until(
        gateway,
        [&] {
            return sink.count(exec::exec_kind::cancelled, id) == 1 &&
                   gateway.counters().user_events.load() >= events_before + events;
        },
        std::chrono::seconds(5));
}

/// A limit order far through the book: a post-only one is refused, an IOC one takes.
exec::order_request crossing(std::uint64_t id, core::side side, bool post_only) {
    exec::order_request order;
    order.id = exec::client_order_id{id};
    order.side = side;
    order.post_only = post_only;
    order.tif = post_only ? exec::time_in_force::gtc : exec::time_in_force::ioc;
    order.price = core::price{side == core::side::buy ? 1'000'000 : 100}; // 10000.00 / 1.00
    order.qty = core::qty{1000};
    return order;
}

std::vector<std::string> venue_arguments() {
    return {"--symbols", "BTCUSDT", "--rate-hz", "5", "--futures"};
}

/// A venue of its own (venue_arguments()), its controls, and a gateway on it, started and
/// ready, with gateway_config()'s config as `adjust` changes it.
struct gateway_on_venue {
    template <class Adjust>
    explicit gateway_on_venue(Adjust adjust)
        : control(venue), started(adjusted(gateway_config(venue), adjust), symbols) {}

    template <class Adjust>
    static exec::binance_futures_gateway_config
    adjusted(exec::binance_futures_gateway_config config, Adjust adjust) {
        adjust(config);
        return config;
    }

    net::testing::venue_process venue{venue_arguments()};
    venue_control control;
    const std::array<core::symbol_spec, 1> symbols{btcusdt()};
    started_futures_gateway started;
    exec::binance_futures_gateway& gateway = started.gateway;
    recording_sink& sink = started.sink;
};

} // namespace

TEST_CASE("futures gateway: place, cancel, cancel all, GTX refusal on quoter-venue; latency "
          "measured",
          "[binance_futures_gateway][tsan]") {
    net::testing::venue_process venue(venue_arguments());
    venue_control control(venue);
    const std::array symbols{btcusdt()};
    exec::binance_futures_gateway gateway(gateway_config(venue), symbols);
    recording_sink sink;
    gateway.set_report_sink(&sink);
    CHECK(gateway.submit(resting_bid(1), wall_ns()) == exec::gateway_error::disconnected);
    gateway.start();
    REQUIRE(poll_until(
        gateway, [&] { return gateway.ready(); }, 5s));
    CHECK(gateway.connected());
    CHECK(gateway.futures_counters().listen_keys.load() == 1);
    CHECK(gateway.counters().reconciles.load() == 1);

    // Place, ack (answer and stream: reported once), cancel, cancelled.
    REQUIRE(acked_resting_bid(gateway, sink, 1));
    CHECK(control.stat("futures_open_orders") == 1);
    REQUIRE(gateway.cancel(0, exec::client_order_id{1}, wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::cancelled, 1) == 1; }, 5s));
    // A second cancel: no such open order.
    REQUIRE(gateway.cancel(0, exec::client_order_id{1}, wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::cancel_reject, 1) == 1; }, 5s));

    // GTX that would take: -5022, a normal post-only refusal.
    REQUIRE(gateway.submit(crossing(2, core::side::buy, true), wall_ns()) ==
            exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::reject, 2) == 1; }, 5s));
    const auto refusal = std::find_if(sink.reports.begin(), sink.reports.end(), [](const auto& r) {
        return r.kind == exec::exec_kind::reject;
    });
    CHECK(refusal->reason == exec::reject_reason::post_only_would_cross);

    // Two resting orders, one cancel-all: a cancelled report each (from the stream), confirmed.
    REQUIRE(gateway.submit(resting_bid(3), wall_ns()) == exec::gateway_error::none);
    REQUIRE(gateway.submit(resting_bid(4), wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway,
        [&] {
            return sink.count(exec::exec_kind::ack, 3) == 1 &&
                   sink.count(exec::exec_kind::ack, 4) == 1;
        },
        5s));
    REQUIRE(gateway.cancel_all(0, wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway,
        [&] {
            return sink.count(exec::exec_kind::cancelled, 3) == 1 &&
                   sink.count(exec::exec_kind::cancelled, 4) == 1 &&
                   gateway.counters().kills_confirmed.load() == 1;
        },
        5s));
    CHECK(control.stat("futures_open_orders") == 0);

    // Round trips: submit on the core thread to the ack polled back on it (bounded: 200).
    std::vector<std::int64_t> round_trip_us;
    for (std::uint64_t id = 10; id < 210; ++id) {
        const auto t0 = std::chrono::steady_clock::now();
        REQUIRE(gateway.submit(resting_bid(id), wall_ns()) == exec::gateway_error::none);
        REQUIRE(poll_until(
            gateway,
            [&] {
                return sink.count(exec::exec_kind::ack, id) +
                           sink.count(exec::exec_kind::reject, id) >
                       0;
            },
            5s));
        const auto t1 = std::chrono::steady_clock::now();
        REQUIRE(sink.count(exec::exec_kind::ack, id) == 1);
        round_trip_us.push_back(
            std::chrono::duration_cast<std::chrono::microseconds>(t1 - t0).count());
        REQUIRE(gateway.cancel(0, exec::client_order_id{id}, wall_ns()) ==
                exec::gateway_error::none);
        REQUIRE(poll_until(
            gateway, [&] { return sink.count(exec::exec_kind::cancelled, id) == 1; }, 5s));
    }
    std::sort(round_trip_us.begin(), round_trip_us.end());
    std::printf("POST /fapi/v1/order round trip against quoter-venue: p50 %lld us, p99 %lld us "
                "(n=%zu)\n",
                static_cast<long long>(round_trip_us[round_trip_us.size() / 2]),
                static_cast<long long>(round_trip_us[round_trip_us.size() * 99 / 100]),
                round_trip_us.size());
    CHECK(gateway.counters().unknowns.load() == 0);
    CHECK(gateway.counters().timeouts.load() == 0);
    CHECK(control.stat("futures_signature_failures") == 0);
    CHECK(control.stat("countdown_heartbeats") >= 1); // armed before the first order
    gateway.stop();
    CHECK_FALSE(gateway.connected());
}

TEST_CASE("futures gateway: an IOC fill opens a position, a reduce-only order flattens it, a "
          "reduce-only order when flat is refused; a new run adopts the position",
          "[binance_futures_gateway][tsan]") {
    net::testing::venue_process venue(venue_arguments());
    venue_control control(venue);
    const std::array symbols{btcusdt()};
    std::int64_t last_fill_ms = 0;
    {
        exec::binance_futures_gateway gateway(gateway_config(venue), symbols);
        recording_sink sink;
        gateway.set_report_sink(&sink);
        gateway.start();
        REQUIRE(poll_until(
            gateway, [&] { return gateway.ready(); }, 5s));

        REQUIRE(gateway.submit(crossing(1, core::side::buy, false), wall_ns()) ==
                exec::gateway_error::none);
        REQUIRE(poll_until(
            gateway,
            [&] {
                return sink.count(exec::exec_kind::fill, 1) == 1 &&
                       gateway.futures_counters().position_updates.load() >= 1;
            },
            5s));
        CHECK(sink.count(exec::exec_kind::reject, 1) == 0);
        CHECK(gateway.counters().fills.load() == 1); // answer and stream: booked once
        REQUIRE(gateway.positions().size() == 1);
        CHECK(gateway.positions()[0].amount.lots() == 1000);
        // The position is as of the fill's venue time (ACCOUNT_UPDATE's T, the trade's).
        for (const exec::exec_report& r : sink.reports) {
            if (r.kind == exec::exec_kind::fill) {
                CHECK(r.venue_time_ms > 0);
                CHECK(gateway.positions()[0].update_time_ms == r.venue_time_ms);
            }
        }

        exec::order_request flatten = crossing(2, core::side::sell, false);
        flatten.reduce_only = true;
        REQUIRE(gateway.submit(flatten, wall_ns()) == exec::gateway_error::none);
        REQUIRE(poll_until(
            gateway, [&] { return sink.count(exec::exec_kind::fill, 2) == 1; }, 5s));
        REQUIRE(poll_until(
            gateway, [&] { return gateway.positions()[0].amount.lots() == 0; }, 5s));

        exec::order_request again = crossing(3, core::side::sell, false);
        again.reduce_only = true;
        REQUIRE(gateway.submit(again, wall_ns()) == exec::gateway_error::none);
        REQUIRE(poll_until(
            gateway, [&] { return sink.count(exec::exec_kind::reject, 3) == 1; }, 5s));
        CHECK(sink.count(exec::exec_kind::fill, 3) == 0);

        // Leave a long position for the next run.
        REQUIRE(gateway.submit(crossing(4, core::side::buy, false), wall_ns()) ==
                exec::gateway_error::none);
        REQUIRE(poll_until(
            gateway, [&] { return sink.count(exec::exec_kind::fill, 4) == 1; }, 5s));
        for (const exec::exec_report& r : sink.reports) {
            if (r.kind == exec::exec_kind::fill && r.client_id.value == 4) {
                last_fill_ms = r.venue_time_ms;
            }
        }
        gateway.stop();
    }
    CHECK(control.stat("futures_trades") == 3);
    CHECK(control.stat("futures_account_reads") == 1);
    exec::binance_futures_gateway next(gateway_config(venue), symbols);
    next.start();
    REQUIRE(poll_until(
        next, [&] { return next.ready(); }, 5s));
    // Position and wallet come from one GET /fapi/v2/account, each with its update time.
    CHECK(control.stat("futures_account_reads") == 2);
    const exec::futures_account account = next.account();
    REQUIRE(account.positions.size() == 1);
    CHECK(account.positions[0].amount.lots() == 1000);
    CHECK(account.positions[0].entry_price.ticks() > 0);
    CHECK(account.positions[0].update_time_ms == last_fill_ms);
    REQUIRE(account.balances.size() == 1);
    CHECK(account.balances[0].asset.view() == "USDT");
    // The wallet's last change: the reducing fill, or the venue's start when it realized nothing.
    CHECK(account.balances[0].update_time_ms > 0);
    CHECK(account.balances[0].update_time_ms <= last_fill_ms);
    next.stop();
}

namespace {

/// The gateway's wallet balance of asset (10^-8 units), -1 when it holds none.
long long wallet_e8(const exec::binance_futures_gateway& gateway, std::string_view asset) {
    for (const exec::asset_balance& balance : gateway.balances()) {
        if (balance.asset.view() == asset) {
            return balance.free_e8;
        }
    }
    return -1;
}

} // namespace

TEST_CASE("futures gateway: the wallet is read from GET /fapi/v2/account at reconciliation and "
          "followed through ACCOUNT_UPDATE",
          "[binance_futures_gateway][tsan]") {
    std::vector<std::string> arguments = venue_arguments();
    arguments.insert(arguments.end(), {"--balance", "USDT=25000.5"});
    net::testing::venue_process venue(arguments);
    venue_control control(venue);
    const std::array symbols{btcusdt()};
    exec::binance_futures_gateway gateway(gateway_config(venue), symbols);
    recording_sink sink;
    gateway.set_report_sink(&sink);
    gateway.start();
    REQUIRE(poll_until(
        gateway, [&] { return gateway.ready(); }, 5s));
    constexpr long long start_e8 = 25'000'50000000;
    CHECK(wallet_e8(gateway, "USDT") == start_e8);

    const auto venue_wallet = [&] {
        const std::string stats = control.get("/control/stats");
        const std::size_t at = stats.find("\"futures_wallet\":");
        return at == std::string::npos ? -1 : net::testing::json_int(stats.substr(at), "USDT");
    };
    // Round trips (IOC buy, reduce-only IOC sell) until one realizes a PnL (the spread, unless
    // the book moved between the two): the venue's wallet moves, and the stream tells it.
    std::uint64_t id = 1;
    for (int trip = 0; trip < 3 && venue_wallet() == start_e8; ++trip) {
        REQUIRE(gateway.submit(crossing(id, core::side::buy, false), wall_ns()) ==
                exec::gateway_error::none);
        REQUIRE(poll_until(
            gateway, [&] { return sink.count(exec::exec_kind::fill, id) == 1; }, 5s));
        exec::order_request flatten = crossing(id + 1, core::side::sell, false);
        flatten.reduce_only = true;
        REQUIRE(gateway.submit(flatten, wall_ns()) == exec::gateway_error::none);
        REQUIRE(poll_until(
            gateway, [&] { return sink.count(exec::exec_kind::fill, id + 1) == 1; }, 5s));
        id += 2;
    }
    const long long venue_e8 = venue_wallet();
    REQUIRE(venue_e8 != start_e8);
    CHECK(poll_until(
        gateway, [&] { return wallet_e8(gateway, "USDT") == venue_e8; }, 5s));
    CHECK(wallet_e8(gateway, "USDT") == venue_e8);
    gateway.stop();
}

TEST_CASE("futures gateway: an account in hedge mode is never made ready: the position mode "
          "is read at reconciliation",
          "[binance_futures_gateway][tsan]") {
    std::vector<std::string> arguments = venue_arguments();
    arguments.emplace_back("--hedge-mode");
    net::testing::venue_process venue(arguments);
    venue_control control(venue);
    const std::array symbols{btcusdt()};
    exec::binance_futures_gateway gateway(gateway_config(venue), symbols);
    recording_sink sink;
    gateway.set_report_sink(&sink);
    gateway.start();
    REQUIRE(poll_until(
        gateway, [&] { return gateway.futures_counters().hedge_mode_answers.load() == 1; }, 5s));
    // The open orders were listed too; the positions are not read and nothing is taken.
    std::this_thread::sleep_for(300ms);
    CHECK_FALSE(gateway.ready());
    CHECK(control.stat("futures_orders_placed") == 0);
    gateway.stop();

    // The same account in one-way mode becomes ready, with no hedge-mode answer.
    net::testing::venue_process one_way(venue_arguments());
    const started_futures_gateway second(gateway_config(one_way), symbols);
    CHECK(second.gateway.futures_counters().hedge_mode_answers.load() == 0);
}

namespace {

/// Drains the gateway's written stamps into ids.
void collect_written(exec::binance_futures_gateway& gateway, std::vector<std::uint64_t>& ids) {
    std::array<exec::written_stamp, 16> written{};
    for (std::size_t n = gateway.poll_written(written); n > 0; n = gateway.poll_written(written)) {
        for (std::size_t i = 0; i < n; ++i) {
            ids.push_back(written[i].request_id);
        }
    }
}

[[nodiscard]] std::size_t count_of(const std::vector<std::uint64_t>& ids, std::uint64_t id) {
    return static_cast<std::size_t>(std::count(ids.begin(), ids.end(), id));
}

} // namespace

TEST_CASE("futures gateway: the I/O thread trades under every wait policy; each core request is "
          "stamped written once",
          "[binance_futures_gateway][tsan]") {
    net::testing::venue_process venue(venue_arguments());
    const std::array symbols{btcusdt()};
    for (const core::idle_policy policy :
         {core::idle_policy::spin, core::idle_policy::yield, core::idle_policy::block}) {
        INFO("policy " << static_cast<int>(policy));
        auto config = gateway_config(venue, "fwp" + std::to_string(static_cast<int>(policy)));
        config.idle = policy;
        exec::binance_futures_gateway gateway(config, symbols);
        recording_sink sink;
        gateway.set_report_sink(&sink);
        gateway.start();
        REQUIRE(poll_until(
            gateway, [&] { return gateway.ready(); }, 5s));
        const std::uint64_t place = gateway.next_request_id();
        REQUIRE(acked_resting_bid(gateway, sink, 1));
        const std::uint64_t cancel = gateway.next_request_id();
        REQUIRE(gateway.cancel(0, exec::client_order_id{1}, wall_ns()) ==
                exec::gateway_error::none);
        REQUIRE(poll_until(
            gateway, [&] { return sink.count(exec::exec_kind::cancelled, 1) == 1; }, 5s));
        std::vector<std::uint64_t> ids;
        collect_written(gateway, ids);
        CHECK(count_of(ids, place) == 1);
        CHECK(count_of(ids, cancel) == 1);
        gateway.stop();
    }
}

TEST_CASE("futures gateway: a request queued behind a busy connection is stamped written only "
          "when its bytes go out",
          "[binance_futures_gateway][tsan]") {
    net::testing::venue_process venue(venue_arguments());
    venue_control control(venue);
    const std::array symbols{btcusdt()};
    auto config = gateway_config(venue);
    config.max_connections = 1; // the second request waits for the first's connection
    config.request_timeout_ms = 3'000;
    exec::binance_futures_gateway gateway(config, symbols);
    recording_sink sink;
    gateway.set_report_sink(&sink);
    gateway.start();
    REQUIRE(poll_until(
        gateway,
        [&] { return gateway.ready() && gateway.futures_counters().heartbeats.load() >= 1; }, 5s));
    // The venue swallows requests: the first order holds the one connection.
    REQUIRE(control.get("/control/futures_silence?ms=4000").find("true") != std::string::npos);
    const std::uint64_t first = gateway.next_request_id();
    REQUIRE(gateway.submit(resting_bid(1), wall_ns()) == exec::gateway_error::none);
    const std::uint64_t second = gateway.next_request_id();
    REQUIRE(gateway.submit(resting_bid(2), wall_ns()) == exec::gateway_error::none);
    std::vector<std::uint64_t> ids;
    REQUIRE(poll_until(
        gateway,
        [&] {
            collect_written(gateway, ids);
            return count_of(ids, first) == 1;
        },
        3s));
    // Both are with the REST client, the second still queued: not written.
    CHECK(count_of(ids, second) == 0);
    // Once the first gives up its connection (timed out), the second goes out and is stamped.
    CHECK(poll_until(
        gateway,
        [&] {
            collect_written(gateway, ids);
            return count_of(ids, second) == 1;
        },
        15s));
    CHECK(count_of(ids, first) == 1);
    gateway.stop();
}

TEST_CASE("futures gateway: an answer lost after the venue executed is unknown, resolved by "
          "GET /fapi/v1/order, never sent again",
          "[binance_futures_gateway][tsan]") {
    net::testing::venue_process venue(venue_arguments());
    venue_control control(venue);
    const std::array symbols{btcusdt()};
    auto config = gateway_config(venue);
    config.request_timeout_ms = 300;
    exec::binance_futures_gateway gateway(config, symbols);
    recording_sink sink;
    gateway.set_report_sink(&sink);
    gateway.start();
    REQUIRE(poll_until(
        gateway, [&] { return gateway.ready(); }, 5s));

    // The answer never comes (the request timed out): the stream or the query tells.
    REQUIRE(control.get("/control/futures_order_drop?count=1").find("true") != std::string::npos);
    REQUIRE(gateway.submit(resting_bid(1), wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return gateway.counters().status_queries.load() >= 1; }, 5s));
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::ack, 1) == 1; }, 5s));

    // 503 -1006 after executing: the same.
    REQUIRE(control.get("/control/futures_fail_after_execute?count=1").find("true") !=
            std::string::npos);
    REQUIRE(gateway.submit(resting_bid(2), wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return gateway.counters().status_queries.load() >= 2; }, 5s));
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::ack, 2) == 1; }, 5s));
    std::this_thread::sleep_for(500ms); // any late or repeated report would show now
    gateway.poll(wall_ns());

    // Exactly one order each on the venue, no reject, nothing sent twice.
    CHECK(control.stat("futures_orders_placed") == 2);
    CHECK(control.stat("futures_open_orders") == 2);
    CHECK(control.stat("futures_answers_dropped") == 1);
    CHECK(control.stat("futures_failed_after_execute") == 1);
    CHECK(sink.count(exec::exec_kind::reject) == 0);
    // The timeout and the 503: two API errors told to the core for the kill triggers.
    CHECK(gateway.counters().venue_failures.load() == 2);
    CHECK(sink.venue_failures == 2);
    CHECK(sink.count(exec::exec_kind::ack, 1) == 1);
    CHECK(sink.count(exec::exec_kind::ack, 2) == 1);
    // An unknown, if reported, came before the ack (the stream may tell first).
    for (std::uint64_t id : {1u, 2u}) {
        const auto unknown = std::find_if(sink.reports.begin(), sink.reports.end(), [&](auto& r) {
            return r.client_id.value == id && r.kind == exec::exec_kind::unknown;
        });
        const auto ack = std::find_if(sink.reports.begin(), sink.reports.end(), [&](auto& r) {
            return r.client_id.value == id && r.kind == exec::exec_kind::ack;
        });
        REQUIRE(ack != sink.reports.end());
        if (unknown != sink.reports.end()) {
            CHECK(unknown < ack);
        }
    }
    gateway.stop();
}

TEST_CASE("futures gateway: a placement whose answer is delayed keeps its request slot while "
          "more than the table's worth of later requests come and go: its late ack is reported",
          "[binance_futures_gateway][tsan]") {
    net::testing::venue_process venue(venue_arguments());
    venue_control control(venue);
    const std::array symbols{btcusdt()};
    auto config = gateway_config(venue);
    config.request_timeout_ms = 10'000; // the ack comes before: no query resolves it
    started_futures_gateway started(config, symbols);
    auto& gateway = started.gateway;
    auto& sink = started.sink;
    // The stream goes quiet without a word: only the answer can tell.
    REQUIRE(control.get("/control/listen_key_lose").find("true") != std::string::npos);

    REQUIRE(control.get("/control/futures_order_delay?ms=5000&count=1").find("true") !=
            std::string::npos);
    const auto placed = std::chrono::steady_clock::now();
    REQUIRE(gateway.submit(resting_bid(1), wall_ns()) == exec::gateway_error::none);
    // Cancels of orders that never existed, each answered -2011: their request ids run past
    // the placement's id plus the table's size (1,024 slots, the core's ids odd).
    cancel_orders_never_placed(gateway, sink, 600);
    // The placement was still waiting for its answer all that time.
    REQUIRE(std::chrono::steady_clock::now() - placed < 5'000ms);
    CHECK(sink.count(exec::exec_kind::ack, 1) == 0);

    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::ack, 1) == 1; }, 10s));
    CHECK(sink.count(exec::exec_kind::unknown, 1) == 0);
    CHECK(gateway.counters().request_table_full.load() == 0);
    CHECK(control.stat("futures_answers_delayed") == 1);
    CHECK(control.stat("futures_orders_placed") == 1);
    gateway.stop();
}

TEST_CASE("futures gateway: a placement answered 503 -1007 that reaches the matching engine "
          "late: -2013 while its recvWindow is open is not final, and its fill is reported",
          "[binance_futures_gateway][tsan]") {
    net::testing::venue_process venue(venue_arguments());
    venue_control control(venue);
    const std::array symbols{btcusdt()};
    auto config = gateway_config(venue);
    config.request_timeout_ms = 300;
    exec::binance_futures_gateway gateway(config, symbols);
    recording_sink sink;
    gateway.set_report_sink(&sink);
    gateway.start();
    REQUIRE(poll_until(
        gateway, [&] { return gateway.ready(); }, 5s));

    // "Execution status unknown" at once, executed 800 ms later: the status query that follows
    // finds no such order; the stream's NEW and TRADE or a later query tell the rest.
    REQUIRE(control.get("/control/futures_order_late?ms=800&count=1").find("true") !=
            std::string::npos);
    REQUIRE(gateway.submit(crossing(1, core::side::buy, false), wall_ns()) ==
            exec::gateway_error::none);
    const auto ended = [&] {
        return sink.count(exec::exec_kind::fill, 1) + sink.count(exec::exec_kind::cancelled, 1) +
               sink.count(exec::exec_kind::reject, 1);
    };
    REQUIRE(poll_until(
        gateway, [&] { return ended() >= 1; }, 10s));
    std::this_thread::sleep_for(500ms); // any late or repeated report would show now
    gateway.poll(wall_ns());
    CHECK(sink.count(exec::exec_kind::reject, 1) == 0);
    CHECK(ended() == 1);
    CHECK(sink.count(exec::exec_kind::fill, 1) + sink.count(exec::exec_kind::partial_fill, 1) >= 1);
    CHECK(sink.reports.front().kind == exec::exec_kind::unknown);
    CHECK(control.stat("futures_orders_late") == 1);
    CHECK(control.stat("futures_late_orders_expired") == 0);
    CHECK(control.stat("futures_orders_placed") == 1);
    gateway.stop();
}

TEST_CASE("futures gateway: a query's -2013 is judged when the query left: sent inside the "
          "recvWindow and answered after it, it is asked again, and the order found",
          "[binance_futures_gateway][tsan]") {
    gateway_on_venue f([](auto& config) {
        config.request_timeout_ms = 5'000; // the slow answer is waited for
        config.recv_window_ms = 1'000;     // the venue may take it until 1 s after its timestamp
    });
    venue_control& control = f.control;
    exec::binance_futures_gateway& gateway = f.gateway;
    recording_sink& sink = f.sink;
    // The stream goes quiet without a word: only the queries can tell.
    REQUIRE(control.get("/control/listen_key_lose").find("true") != std::string::npos);
    // "Execution status unknown" at once, executed 600 ms later, inside its recvWindow. The
    // first query finds nothing, and that answer comes back 2.5 s later: after the recvWindow
    // and its 1 s clock margin, though the venue gave it while both were open.
    REQUIRE(control.get("/control/futures_order_late?ms=600&count=1").find("true") !=
            std::string::npos);
    REQUIRE(control.get("/control/futures_status_delay?ms=2500&count=1").find("true") !=
            std::string::npos);
    REQUIRE(gateway.submit(crossing(1, core::side::buy, false), wall_ns()) ==
            exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::fill, 1) == 1; }, 10s));
    CHECK(sink.count(exec::exec_kind::reject, 1) == 0);
    CHECK(control.stat("futures_status_answers_delayed") == 1);
    CHECK(control.stat("futures_orders_placed") == 1);
    gateway.stop();
}

TEST_CASE("futures gateway: an expired listenKey is replaced, the stream resumes after a new "
          "reconciliation; keep-alives go out",
          "[binance_futures_gateway][tsan]") {
    gateway_on_venue f([](auto& config) { config.listen_key_keepalive_ms = 100; });
    venue_control& control = f.control;
    exec::binance_futures_gateway& gateway = f.gateway;
    recording_sink& sink = f.sink;
    REQUIRE(poll_until(
        gateway, [&] { return gateway.futures_counters().keepalives.load() >= 2; }, 5s));

    REQUIRE(control.get("/control/listen_key_expire").find("true") != std::string::npos);
    REQUIRE(wait_for_new_listen_key(gateway));
    CHECK(control.stat("listen_keys_created") == 2);
    CHECK(control.stat("futures_user_streams") == 1);

    // The new stream carries events: an order placed and cancelled shows on it.
    const std::uint64_t events_before = gateway.counters().user_events.load();
    REQUIRE(acked_resting_bid(gateway, sink, 1));
    REQUIRE(cancelled_on_stream(gateway, sink, 1, events_before, 2));
    gateway.stop();
}

TEST_CASE("futures gateway: a keep-alive answered -1125 alone (no listenKeyExpired) makes a new "
          "listenKey, a new stream and a new reconciliation",
          "[binance_futures_gateway][tsan]") {
    gateway_on_venue f([](auto& config) { config.listen_key_keepalive_ms = 100; });
    venue_control& control = f.control;
    exec::binance_futures_gateway& gateway = f.gateway;
    recording_sink& sink = f.sink;
    REQUIRE(poll_until(
        gateway, [&] { return gateway.futures_counters().keepalives.load() >= 1; }, 5s));

    // The venue forgets the key and says nothing: the old stream stays open, silent; only the
    // next keep-alive learns of it.
    REQUIRE(control.get("/control/listen_key_lose").find("true") != std::string::npos);
    REQUIRE(wait_for_new_listen_key(gateway));
    CHECK(control.stat("listen_keys_lost") == 1);
    CHECK(control.stat("listen_keys_expired") == 0); // no event told it
    CHECK(control.stat("listen_keys_created") == 2);

    // Events flow on the new stream.
    const std::uint64_t events_before = gateway.counters().user_events.load();
    REQUIRE(gateway.submit(resting_bid(1), wall_ns()) == exec::gateway_error::none);
    REQUIRE(cancelled_on_stream(gateway, sink, 1, events_before, 2));
    gateway.stop();
}

TEST_CASE("futures gateway: a listenKey the venue forgot without a word is found by the first "
          "placement the stream does not tell, not at the next keep-alive",
          "[binance_futures_gateway][tsan]") {
    gateway_on_venue f([](auto& config) {
        config.stream_silence_ms = 300; // the keep-alive stays at its 30 min
    });
    venue_control& control = f.control;
    exec::binance_futures_gateway& gateway = f.gateway;
    recording_sink& sink = f.sink;

    // A stream that tells its placements is never suspected.
    REQUIRE(acked_resting_bid(gateway, sink, 1));
    REQUIRE(gateway.cancel(0, exec::client_order_id{1}, wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::cancelled, 1) == 1; }, 5s));
    poll_for(gateway, 600ms);
    CHECK(gateway.futures_counters().stream_silences.load() == 0);
    CHECK(gateway.futures_counters().keepalives.load() == 0);

    // The venue forgets the key and says nothing. The next placement's answer comes, its
    // ORDER_TRADE_UPDATE does not: the key is kept alive at once, answered -1125.
    REQUIRE(control.get("/control/listen_key_lose").find("true") != std::string::npos);
    REQUIRE(acked_resting_bid(gateway, sink, 3));
    REQUIRE(wait_for_new_listen_key(gateway));
    CHECK(gateway.futures_counters().stream_silences.load() == 1);
    CHECK(control.stat("listen_keys_lost") == 1);
    CHECK(control.stat("listen_keys_created") == 2);

    // The new stream tells the cancel.
    const std::uint64_t events_before = gateway.counters().user_events.load();
    REQUIRE(cancelled_on_stream(gateway, sink, 3, events_before, 1));
    gateway.stop();
}

TEST_CASE("futures gateway: a resting order filled while the stream was gone is reported by the "
          "reconciliation of the next stream, once",
          "[binance_futures_gateway][tsan]") {
    gateway_on_venue f([](auto& config) { config.listen_key_keepalive_ms = 1'000; });
    venue_control& control = f.control;
    exec::binance_futures_gateway& gateway = f.gateway;
    recording_sink& sink = f.sink;
    REQUIRE(acked_resting_bid(gateway, sink, 1));

    // The venue forgets the key without a word, then the order fills: the stream never tells.
    // The order is not in the new stream's open orders either: only a query of it finds the
    // fill.
    REQUIRE(control.get("/control/listen_key_lose").find("true") != std::string::npos);
    REQUIRE(control.get("/control/futures_market_order?symbol=BTCUSDT&side=SELL&qty=0.01")
                .find("\"filled\":\"0.01") != std::string::npos);
    REQUIRE(wait_for_new_listen_key(gateway));
    (void)gateway.poll(wall_ns()); // what the I/O thread reported before it was ready
    CHECK(sink.count(exec::exec_kind::fill, 1) == 1); // before the first order is taken
    poll_for(gateway, 300ms);
    CHECK(sink.count(exec::exec_kind::fill, 1) == 1);
    CHECK(sink.count(exec::exec_kind::partial_fill, 1) == 0);
    REQUIRE(gateway.positions().size() == 1);
    CHECK(gateway.positions()[0].amount.lots() == 1000);
    CHECK(control.stat("futures_open_orders") == 0);
    gateway.stop();
}

TEST_CASE("futures gateway: a fill event that does not decode is not lost: the orders are queried "
          "at once and the fill is reported exactly once",
          "[binance_futures_gateway][tsan]") {
    gateway_on_venue f([](auto& /*config*/) {});
    venue_control& control = f.control;
    exec::binance_futures_gateway& gateway = f.gateway;
    recording_sink& sink = f.sink;
    REQUIRE(acked_resting_bid(gateway, sink, 1));

    // The resting bid fills; its only TRADE event arrives unreadable on a stream that lives on.
    REQUIRE(control.get("/control/futures_trade_event_garble?count=1").find("true") !=
            std::string::npos);
    REQUIRE(control.get("/control/futures_market_order?symbol=BTCUSDT&side=SELL&qty=0.01")
                .find("\"filled\":\"0.01") != std::string::npos);
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::fill, 1) == 1; }, 10s));
    CHECK(control.stat("futures_trade_events_garbled") == 1);
    CHECK(gateway.counters().unreadable_user_events.load() == 1);
    poll_for(gateway, 300ms);
    CHECK(sink.count(exec::exec_kind::fill, 1) == 1);
    CHECK(sink.count(exec::exec_kind::partial_fill, 1) == 0);
    REQUIRE(poll_until(
        gateway, [&] { return gateway.ready(); }, 5s));
    REQUIRE(gateway.positions().size() == 1);
    CHECK(gateway.positions()[0].amount.lots() == 1000);
    gateway.stop();
}

TEST_CASE("futures gateway: a user stream gone mute (half-open) is replaced after the idle "
          "timeout, and a fill it hid is reported once by the reconciliation",
          "[binance_futures_gateway][tsan]") {
    gateway_on_venue f([](auto& config) { config.idle_timeout_ms = 600; });
    venue_control& control = f.control;
    exec::binance_futures_gateway& gateway = f.gateway;
    recording_sink& sink = f.sink;
    REQUIRE(acked_resting_bid(gateway, sink, 1));

    // The stream neither reads nor writes: its ORDER_TRADE_UPDATE of the fill never comes, the
    // REST keep-alive would still succeed, and only the unanswered ping can tell.
    REQUIRE(control.get("/control/mute?ms=5000&stream=user").find("true") != std::string::npos);
    REQUIRE(control.get("/control/futures_market_order?symbol=BTCUSDT&side=SELL&qty=0.01")
                .find("\"filled\":\"0.01") != std::string::npos);
    REQUIRE(poll_until(
        gateway, [&] { return gateway.counters().silences.load() == 1; }, 4s));
    CHECK(control.stat("mutes") == 1);
    REQUIRE(poll_until(
        gateway, [&] { return gateway.ready() && sink.count(exec::exec_kind::fill, 1) == 1; },
        10s));
    poll_for(gateway, 300ms);
    CHECK(sink.count(exec::exec_kind::fill, 1) == 1);
    REQUIRE(gateway.positions().size() == 1);
    CHECK(gateway.positions()[0].amount.lots() == 1000);
    gateway.stop();
}

TEST_CASE("futures gateway: a 429 to a request no report tells, a cancel-all, is a venue failure "
          "for the API error storm; the kill still goes out after Retry-After",
          "[binance_futures_gateway][tsan]") {
    gateway_on_venue f([](auto& config) {
        config.heartbeat_ms = 0; // no request of the gateway's own between the test's
    });
    venue_control& control = f.control;
    exec::binance_futures_gateway& gateway = f.gateway;
    recording_sink& sink = f.sink;
    REQUIRE(acked_resting_bid(gateway, sink, 1));
    const std::uint64_t failures = gateway.counters().venue_failures.load();

    control.get("/control/futures_rate_limit?ms=1000");
    REQUIRE(gateway.cancel_all(0, wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return gateway.counters().backoffs.load() == 1; }, 5s));
    CHECK(gateway.counters().venue_failures.load() == failures + 1);
    REQUIRE(poll_until(
        gateway, [&] { return gateway.counters().kills_confirmed.load() >= 1; }, 10s));
    CHECK(control.stat("futures_open_orders") == 0);
    gateway.stop();
}

TEST_CASE("futures gateway: a fill of a foreign order on the user stream makes a reconciliation "
          "due: the position and wallet are read again at once",
          "[binance_futures_gateway][tsan]") {
    net::testing::venue_process venue(venue_arguments());
    const std::array symbols{btcusdt()};
    started_futures_gateway started(gateway_config(venue), symbols);
    exec::binance_futures_gateway& gateway = started.gateway;
    auto manual_config = gateway_config(venue);
    manual_config.id_tag = "man"; // someone else's client ids, on the same account
    started_futures_gateway manual(manual_config, symbols);
    REQUIRE(gateway.counters().reconciles.load() == 1);

    REQUIRE(manual.gateway.submit(crossing(1, core::side::buy, false), wall_ns()) ==
            exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return gateway.counters().reconciles.load() == 2 && gateway.ready(); }, 5s));
    CHECK(gateway.counters().foreign_fills.load() >= 1);
    REQUIRE(gateway.positions().size() == 1);
    CHECK(gateway.positions()[0].amount.lots() == 1000);
    manual.gateway.stop();
    gateway.stop();
}

TEST_CASE("futures gateway: with the venue gone, a listenKey is asked for less and less often",
          "[binance_futures_gateway][tsan]") {
    std::optional<net::testing::venue_process> venue(std::in_place, venue_arguments());
    const std::array symbols{btcusdt()};
    started_futures_gateway started(gateway_config(*venue), symbols);
    exec::binance_futures_gateway& gateway = started.gateway;

    venue.reset(); // stopped: every connection is refused from here on
    REQUIRE(poll_until(
        gateway, [&] { return !gateway.connected(); }, 5s));
    // No key, no stream: each refused listenKey request is an attempt to connect that failed,
    // waited for twice as long as the last (200 ms, 400 ms, ...): about four requests in 3 s,
    // where a fixed delay would make fifteen.
    const std::uint64_t sent_before = gateway.counters().sent.load();
    (void)poll_until(
        gateway, [] { return false; }, 3'000ms);
    const std::uint64_t sent = gateway.counters().sent.load() - sent_before;
    CHECK(sent >= 2);
    CHECK(sent <= 7);
    CHECK(gateway.futures_counters().listen_keys.load() == 1);
}

TEST_CASE("futures gateway: the venue cancels a silent gateway's orders when the countdown runs "
          "out; a heartbeating one keeps them; an earlier run's orders are cancelled on start",
          "[binance_futures_gateway][tsan]") {
    net::testing::venue_process venue(venue_arguments());
    venue_control control(venue);
    const std::array symbols{btcusdt()};
    auto config = gateway_config(venue);
    config.heartbeat_ms = 100;
    config.countdown_ms = 800;
    config.request_timeout_ms = 500;
    exec::binance_futures_gateway gateway(config, symbols);
    recording_sink sink;
    gateway.set_report_sink(&sink);
    gateway.start();
    REQUIRE(poll_until(
        gateway, [&] { return gateway.ready(); }, 5s));
    REQUIRE(gateway.submit(resting_bid(1), wall_ns()) == exec::gateway_error::none);
    REQUIRE(gateway.submit(resting_bid(2), wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::ack) == 2; }, 5s));

    // Heartbeats keep the orders alive past several countdowns.
    REQUIRE(poll_until(
                gateway, [] { return false; }, 2s) == false);
    CHECK(control.stat("futures_open_orders") == 2);
    CHECK(control.stat("countdown_cancels") == 0);
    CHECK(gateway.futures_counters().heartbeats.load() >= 10);

    // The venue stops hearing the gateway: its countdown cancels both orders; the stream tells.
    REQUIRE(control.get("/control/futures_silence?ms=1500").find("true") != std::string::npos);
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::cancelled) == 2; }, 5s));
    CHECK(control.stat("countdown_cancels") == 2);
    CHECK(control.stat("futures_open_orders") == 0);
    CHECK(control.stat("futures_silenced") >= 1);

    // Two more orders, then the gateway stops talking for good (as if killed): gone too.
    REQUIRE(poll_until(
        gateway, [&] { return control.stat("countdowns_armed") == 1; }, 5s));
    REQUIRE(gateway.submit(resting_bid(3), wall_ns()) == exec::gateway_error::none);
    REQUIRE(gateway.submit(resting_bid(4), wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway,
        [&] {
            return sink.count(exec::exec_kind::ack, 3) == 1 &&
                   sink.count(exec::exec_kind::ack, 4) == 1;
        },
        5s));
    gateway.stop();
    CHECK(control.stat("futures_open_orders") == 2);
    REQUIRE(control.wait_stat("futures_open_orders", 0, 5s));
    CHECK(control.stat("countdown_cancels") == 4);

    // An earlier run's orders (same tag) are cancelled when the next run reconciles.
    auto first_config = gateway_config(venue, "rec");
    first_config.heartbeat_ms = 0; // no countdown: the orders outlive the run
    {
        exec::binance_futures_gateway first(first_config, symbols);
        recording_sink first_sink;
        first.set_report_sink(&first_sink);
        first.start();
        REQUIRE(poll_until(
            first, [&] { return first.ready(); }, 5s));
        REQUIRE(first.submit(resting_bid(1), wall_ns()) == exec::gateway_error::none);
        REQUIRE(first.submit(resting_bid(2), wall_ns()) == exec::gateway_error::none);
        REQUIRE(poll_until(
            first, [&] { return first_sink.count(exec::exec_kind::ack) == 2; }, 5s));
        first.stop();
    }
    CHECK(control.stat("futures_open_orders") == 2);
    auto second_config = gateway_config(venue, "rec");
    second_config.start_us = first_config.start_us + 1;
    exec::binance_futures_gateway second(second_config, symbols);
    second.start();
    REQUIRE(poll_until(
        second, [&] { return second.ready(); }, 5s));
    CHECK(second.counters().reconcile_found.load() == 2);
    CHECK(second.counters().reconcile_cancelled.load() == 2);
    CHECK(control.stat("futures_open_orders") == 0);
    second.stop();
}

TEST_CASE("futures gateway: a 429 backs off until Retry-After with the kill held, a 418 stops "
          "everything until the ban ends; the venue counts no request in the backoff",
          "[binance_futures_gateway][faults][tsan]") {
    net::testing::venue_process venue(venue_arguments());
    venue_control control(venue);
    const std::array symbols{btcusdt()};
    auto config = gateway_config(venue);
    config.heartbeat_ms = 0; // no request of the gateway's own between the test's
    exec::binance_futures_gateway gateway(config, symbols);
    recording_sink sink;
    gateway.set_report_sink(&sink);
    gateway.start();
    REQUIRE(poll_until(
        gateway, [&] { return gateway.ready(); }, 5s));
    REQUIRE(acked_resting_bid(gateway, sink, 1));

    // 429 to a new order: rejected (it had no effect), sending stops until Retry-After.
    control.get("/control/futures_rate_limit?ms=1500");
    REQUIRE(gateway.submit(resting_bid(2), wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::reject, 2) == 1; }, 5s));
    CHECK(gateway.counters().backoffs.load() == 1);
    // Meanwhile: new orders and a cancel are refused unsent, the kill is held, not dropped.
    REQUIRE(gateway.submit(resting_bid(3), wall_ns()) == exec::gateway_error::none);
    REQUIRE(gateway.cancel(0, exec::client_order_id{1}, wall_ns()) == exec::gateway_error::none);
    REQUIRE(gateway.cancel_all(0, wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway,
        [&] {
            return sink.count(exec::exec_kind::reject, 3) == 1 &&
                   sink.count(exec::exec_kind::cancel_reject, 1) == 1;
        },
        5s));
    for (const auto& r : sink.reports) {
        if (r.kind == exec::exec_kind::reject || r.kind == exec::exec_kind::cancel_reject) {
            // The venue's 429, then what the limiter held back during its retryAfter.
            CHECK(r.reason == (r.client_id.value == 2 && r.kind == exec::exec_kind::reject
                                   ? exec::reject_reason::rate_limited
                                   : exec::reject_reason::held_back));
        }
    }
    // At Retry-After the kill's query finds order 1 and the cancel-all removes it.
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::cancelled, 1) == 1; }, 10s));
    REQUIRE(poll_until(
        gateway, [&] { return gateway.counters().kills_confirmed.load() >= 1; }, 10s));
    CHECK(control.stat("futures_open_orders") == 0);
    CHECK(control.stat("futures_answers_429") == 1);
    CHECK(control.stat("futures_requests_in_backoff") == 0);
    CHECK(control.stat("futures_answers_418") == 0);

    // A ban: one 418, the next order refused unsent, orders taken again after it.
    control.get("/control/futures_rate_limit?ban=1&ban_ms=1500");
    REQUIRE(gateway.submit(resting_bid(5), wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::reject, 5) == 1; }, 5s));
    CHECK(gateway.counters().bans.load() == 1);
    REQUIRE(gateway.submit(resting_bid(6), wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::reject, 6) == 1; }, 5s));
    CHECK(control.stat("futures_answers_418") == 1);
    // After the ban (Retry-After), a new order is acknowledged.
    std::uint64_t id = 7;
    REQUIRE(poll_until(
        gateway,
        [&] {
            if (sink.count(exec::exec_kind::ack, id) == 1) {
                return true;
            }
            if (sink.count(exec::exec_kind::reject, id) == 1) {
                ++id; // still banned: refused unsent; try the next one a little later
            }
            if (sink.count(exec::exec_kind::reject, id) == 0 &&
                sink.count(exec::exec_kind::ack, id) == 0 && id < 40) {
                std::this_thread::sleep_for(100ms);
                (void)gateway.submit(resting_bid(id), wall_ns());
                (void)poll_until(
                    gateway,
                    [&] {
                        return sink.count(exec::exec_kind::reject, id) +
                                   sink.count(exec::exec_kind::ack, id) >
                               0;
                    },
                    5s);
            }
            return sink.count(exec::exec_kind::ack, id) == 1;
        },
        20s));
    CHECK(control.stat("futures_answers_418") == 1); // nothing was sent inside the ban
    CHECK(control.stat("futures_requests_in_backoff") == 0);
    REQUIRE(gateway.cancel_all(0, wall_ns()) == exec::gateway_error::none);
    CHECK(control.wait_stat("futures_open_orders", 0, 10s));
    gateway.stop();
}

TEST_CASE("futures gateway: a kill whose cancel-alls the venue keeps losing raises the alarm once "
          "and is checked until the venue confirms; a resumed session's quotes are left alone",
          "[binance_futures_gateway][faults][tsan]") {
    net::testing::venue_process venue(venue_arguments());
    venue_control control(venue);
    const std::array symbols{btcusdt()};
    auto config = gateway_config(venue);
    config.heartbeat_ms = 0; // the venue's countdown would cancel for the gateway
    config.kill_check_delay_ms = 50;
    config.kill_confirm_attempts = 2;
    exec::binance_futures_gateway gateway(config, symbols);
    recording_sink sink;
    gateway.set_report_sink(&sink);
    gateway.start();
    REQUIRE(poll_until(
        gateway, [&] { return gateway.ready(); }, 5s));
    REQUIRE(gateway.submit(resting_bid(1), wall_ns()) == exec::gateway_error::none);
    REQUIRE(gateway.submit(resting_bid(2), wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::ack) == 2; }, 5s));

    control.get("/control/futures_cancel_all_lose?count=100");
    CHECK_FALSE(gateway.kill_unconfirmed(0));
    REQUIRE(gateway.cancel_all(0, wall_ns()) == exec::gateway_error::none);
    CHECK(gateway.kill_unconfirmed(0)); // handed over, whether or not the I/O thread took it
    REQUIRE(poll_until(
        gateway, [&] { return gateway.counters().kill_gave_up.load() == 1; }, 10s));
    CHECK(gateway.kill_unconfirmed(0));
    const long long lost_at_alarm = control.stat("futures_cancel_alls_lost");
    CHECK(lost_at_alarm >= 1 + 2); // the kill's and two resends
    REQUIRE(poll_until(
        gateway, [&] { return control.stat("futures_cancel_alls_lost") >= lost_at_alarm + 2; },
        5s));
    CHECK(gateway.counters().kill_gave_up.load() == 1);
    CHECK(control.stat("futures_open_orders") == 2);
    control.get("/control/futures_cancel_all_lose?count=0");
    REQUIRE(poll_until(
        gateway, [&] { return gateway.counters().kills_confirmed.load() == 1; }, 5s));
    CHECK_FALSE(gateway.kill_unconfirmed(0));
    CHECK(control.stat("futures_open_orders") == 0);

    // Killed again with the venue losing every cancel-all, then quoting again: the kill's
    // checks stop, and the new quote rests.
    REQUIRE(acked_resting_bid(gateway, sink, 3));
    control.get("/control/futures_cancel_all_lose?count=100");
    REQUIRE(gateway.cancel_all(0, wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return gateway.counters().kill_gave_up.load() == 2; }, 10s));
    REQUIRE(acked_resting_bid(gateway, sink, 4));
    CHECK_FALSE(gateway.kill_unconfirmed(0)); // quoting again ended it
    const long long lost_at_resume = control.stat("futures_cancel_alls_lost");
    std::this_thread::sleep_for(1200ms); // three recheck periods
    (void)gateway.poll(wall_ns());
    CHECK(control.stat("futures_cancel_alls_lost") == lost_at_resume);
    CHECK(control.stat("futures_open_orders") == 2);
    control.get("/control/futures_cancel_all_lose?count=0");
    REQUIRE(gateway.cancel_all(0, wall_ns()) == exec::gateway_error::none);
    CHECK(control.wait_stat("futures_open_orders", 0, 10s));
    gateway.stop();
}

/// The venue's clock 10 s ahead refuses resting_bid(1) (-1021), and the clock request the
/// gateway sends then meets `fault`; once the venue's stat `seen` is at least 1 the venue's
/// clock comes back. Whether the bid was acknowledged within 5 s after that.
bool acked_after_clock_fault(gateway_on_venue& f, const std::string& fault,
                             const std::string& seen) {
    f.control.get("/control/futures_clock_skew?ms=10000");
    f.control.get(fault);
    REQUIRE(f.gateway.submit(resting_bid(1), wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        f.gateway, [&] { return f.control.stat(seen) >= 1; }, 5s));
    f.control.get("/control/futures_clock_skew?ms=0");
    return poll_until(
        f.gateway, [&] { return f.sink.count(exec::exec_kind::ack, 1) == 1; }, 5s);
}

TEST_CASE("futures gateway: a -1021 whose clock request is lost still sends the order once more, "
          "with the offset it has",
          "[binance_futures_gateway][faults][tsan]") {
    gateway_on_venue f([](auto& config) {
        config.heartbeat_ms = 0; // the placement alone meets the skewed clock
        config.request_timeout_ms = 1'000;
    });
    // The clock request gets no answer; the order sent once more when it times out goes
    // through.
    CHECK(acked_after_clock_fault(f, "/control/futures_time_drop?count=1",
                                  "futures_time_answers_dropped"));
    CHECK(f.gateway.counters().clock_retries.load() == 1);
    CHECK(f.control.stat("futures_clock_rejects") == 1);
    CHECK(f.control.stat("futures_orders_placed") == 1);
    CHECK(f.sink.count(exec::exec_kind::reject) == 0);
    REQUIRE(f.gateway.cancel_all(0, wall_ns()) == exec::gateway_error::none);
    CHECK(f.control.wait_stat("futures_open_orders", 0, 10s));
}

TEST_CASE("futures gateway: a 429 to the clock request of a -1021 holds the order until its "
          "Retry-After, as any 429 does",
          "[binance_futures_gateway][faults][tsan]") {
    gateway_on_venue f([](auto& config) {
        config.heartbeat_ms = 0; // the placement alone meets the skewed clock
    });
    // The clock request is answered 429 with a Retry-After of 1 s. Before, the order went out
    // again at once, inside the backoff, met the skewed clock a second time and was refused for
    // good.
    CHECK(acked_after_clock_fault(f, "/control/futures_time_rate_limit?count=1&ms=1000",
                                  "futures_answers_429"));
    CHECK(f.control.stat("futures_requests_in_backoff") == 0);
    CHECK(f.control.stat("futures_answers_418") == 0);
    CHECK(f.gateway.counters().backoffs.load() == 1);
    CHECK(f.sink.count(exec::exec_kind::reject) == 0);
    REQUIRE(f.gateway.cancel_all(0, wall_ns()) == exec::gateway_error::none);
    CHECK(f.control.wait_stat("futures_open_orders", 0, 10s));
}

TEST_CASE("futures gateway: -1021 resyncs the clock from the venue's time and the order or "
          "cancel goes out once more, re-signed",
          "[binance_futures_gateway][faults][tsan]") {
    net::testing::venue_process venue(venue_arguments());
    venue_control control(venue);
    const std::array symbols{btcusdt()};
    auto config = gateway_config(venue);
    config.heartbeat_ms = 0;
    exec::binance_futures_gateway gateway(config, symbols);
    recording_sink sink;
    gateway.set_report_sink(&sink);
    gateway.start();
    REQUIRE(poll_until(
        gateway, [&] { return gateway.ready(); }, 5s));

    // The venue's clock 10 s ahead: the order's timestamp is outside its recvWindow.
    control.get("/control/futures_clock_skew?ms=10000");
    REQUIRE(acked_resting_bid(gateway, sink, 1));
    CHECK(gateway.counters().clock_retries.load() == 1);
    CHECK(gateway.server_time_offset_ms() > 5'000);
    CHECK(control.stat("futures_clock_rejects") == 1);
    // With the new offset the next order goes through at once.
    REQUIRE(acked_resting_bid(gateway, sink, 2));
    CHECK(control.stat("futures_clock_rejects") == 1);

    // The clock jumps back: the cancel meets -1021, resyncs and cancels.
    control.get("/control/futures_clock_skew?ms=0");
    REQUIRE(gateway.cancel(0, exec::client_order_id{1}, wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::cancelled, 1) == 1; }, 5s));
    CHECK(gateway.counters().clock_retries.load() == 2);
    CHECK(control.stat("futures_clock_rejects") == 2);
    CHECK(sink.count(exec::exec_kind::cancel_reject) == 0);
    CHECK(sink.count(exec::exec_kind::reject) == 0);
    REQUIRE(gateway.cancel_all(0, wall_ns()) == exec::gateway_error::none);
    CHECK(control.wait_stat("futures_open_orders", 0, 10s));
    gateway.stop();
}

TEST_CASE("futures gateway: a fill only a cancel answer tells is reported from userTrades: the "
          "venue's trade ids and trade times, not the answer's time; the cancel follows",
          "[binance_futures_gateway][tsan]") {
    // Resting orders wait: the order below is filled in part, by the top level only.
    std::vector<std::string> arguments = venue_arguments();
    arguments.emplace_back("--no-resting-fills");
    net::testing::venue_process venue(arguments);
    venue_control control(venue);
    const std::array symbols{btcusdt()};
    started_futures_gateway started(gateway_config(venue), symbols);
    auto& gateway = started.gateway;
    auto& sink = started.sink;
    // The stream goes quiet without a word: only the answers tell from now on.
    REQUIRE(control.get("/control/listen_key_lose").find("true") != std::string::npos);

    // A buy through the book, larger than the ask: it takes what is offered and rests.
    exec::order_request order = crossing(8, core::side::buy, false);
    order.tif = exec::time_in_force::gtc;
    order.qty = core::qty{100'000'000};
    REQUIRE(gateway.submit(order, wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::ack, 8) == 1; }, 5s));
    REQUIRE(control.stat("futures_trades") >= 1); // taken at once, before the answer
    const auto until = std::chrono::steady_clock::now() + 50ms;
    (void)poll_until(
        gateway, [&] { return std::chrono::steady_clock::now() >= until; }, 1s);
    const std::int64_t cancel_sent_ms = wall_ns() / 1'000'000;
    REQUIRE(gateway.cancel(0, exec::client_order_id{8}, wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::cancelled, 8) == 1; }, 5s));

    const long long venue_trades = control.stat("futures_trades");
    CHECK(control.stat("futures_trade_lists") == 1);
    CHECK(gateway.counters().trade_queries.load() == 1);
    CHECK(static_cast<long long>(sink.count(exec::exec_kind::partial_fill, 8)) == venue_trades);
    std::int64_t last_trade_id = 0;
    bool cancelled_seen = false;
    for (const exec::exec_report& r : sink.reports) {
        if (r.kind == exec::exec_kind::cancelled) {
            cancelled_seen = true;
        }
        if (r.kind != exec::exec_kind::partial_fill) {
            continue;
        }
        CHECK_FALSE(cancelled_seen);
        CHECK(r.trade_id > last_trade_id);
        last_trade_id = r.trade_id;
        CHECK(r.venue_time_ms > 0);
        CHECK(r.venue_time_ms < cancel_sent_ms);
    }
    CHECK(cancelled_seen);
    gateway.stop();
}
