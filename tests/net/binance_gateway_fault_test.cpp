// binance_spot_gateway against quoter-venue's order faults: 429 then 418, -1021 clock skew, an
// ended user-data stream, a silent venue, a late answer, an order that reaches the matching
// engine after its status was queried, and a reconciliation that keeps failing. Each ends with
// the venue and the gateway's reports agreeing on open orders, fills and position. The venue
// counts what reaches it, so "nothing was sent" is checked by its counters, never by a timing.
#include "venue_process.hpp"

#include "gateway_test_support.hpp"

#include "quoter/exec/binance_spot_gateway.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

using namespace quoter;
using namespace std::chrono_literals;

namespace {

using namespace gateway_test;

/// The venue's starting balance of a base asset (none unless --balance names it), in 10^-8
/// units.
constexpr long long base_start_e8 = 0;
/// One lot of the test symbol (0.00001) in 10^-8 units.
constexpr long long e8_per_lot = 1'000;

/// Every report, and what they add up to: the orders still open and the position.
struct ledger_sink final : exec::exec_report_sink {
    std::vector<exec::exec_report> reports;
    std::map<std::uint64_t, bool> open; ///< id -> still open (acked or unknown, not finished)
    std::int64_t position_lots = 0;

    void on_exec_report(const exec::exec_report& r) noexcept override {
        reports.push_back(r);
        switch (r.kind) {
        case exec::exec_kind::ack:
        case exec::exec_kind::unknown:
            if (!open.contains(r.client_id.value)) {
                open[r.client_id.value] = true;
            }
            break;
        case exec::exec_kind::partial_fill:
        case exec::exec_kind::fill:
            position_lots += (r.side == core::side::buy ? 1 : -1) * r.fill_qty.lots();
            open[r.client_id.value] = r.kind == exec::exec_kind::partial_fill;
            break;
        case exec::exec_kind::cancelled:
        case exec::exec_kind::reject:
            open[r.client_id.value] = false;
            break;
        case exec::exec_kind::cancel_reject:
            break;
        }
    }
    [[nodiscard]] std::size_t count(exec::exec_kind kind) const {
        return static_cast<std::size_t>(std::count_if(
            reports.begin(), reports.end(), [&](const auto& r) { return r.kind == kind; }));
    }
    [[nodiscard]] std::size_t count(exec::exec_kind kind, std::uint64_t id) const {
        return static_cast<std::size_t>(
            std::count_if(reports.begin(), reports.end(), [&](const auto& r) {
                return r.kind == kind && r.client_id.value == id;
            }));
    }
    [[nodiscard]] std::size_t open_count() const {
        return static_cast<std::size_t>(
            std::count_if(open.begin(), open.end(), [](const auto& e) { return e.second; }));
    }
};

exec::binance_spot_gateway_config gateway_config(const net::testing::venue_process& venue) {
    exec::binance_spot_gateway_config config;
    config.url = venue.ws_url() + "/ws-api/v3";
    config.api_key = std::string(api_key);
    config.secret = std::string(secret);
    config.id_tag = "flt";
    config.start_us = wall_ns() / 1'000;
    config.request_timeout_ms = 2'000;
    config.reconnect_delay_ms = 50;
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

/// The venue's side of the story, from /control/stats.
struct venue_view {
    net::io_loop loop;
    net::rest_client client;
    explicit venue_view(const net::testing::venue_process& venue)
        : client(loop, net::testing::venue_rest_config(venue)) {}
    std::string stats() { return net::testing::control(loop, client, "/control/stats").body; }
    long long stat(std::string_view key) { return net::testing::json_int(stats(), key); }
    void fault(const std::string& target) {
        REQUIRE(net::testing::control(loop, client, target).status == 200);
    }
};

/// Venue and gateway agree: the same number of open orders, of trades and the same position.
void check_agreement(venue_view& venue, const ledger_sink& sink, std::size_t fills) {
    const std::string stats = venue.stats();
    CHECK(net::testing::json_int(stats, "open_orders") ==
          static_cast<long long>(sink.open_count()));
    CHECK(net::testing::json_int(stats, "trades") == static_cast<long long>(fills));
    CHECK(sink.count(exec::exec_kind::fill) + sink.count(exec::exec_kind::partial_fill) == fills);
    CHECK(net::testing::json_int(stats, "BTC") - base_start_e8 == sink.position_lots * e8_per_lot);
}

/// One fault test's world: quoter-venue with a synthetic BTCUSDT, a view of its counters, and a
/// started spot gateway reporting into a ledger. `adjust` edits the gateway's configuration
/// before it starts (shorter timeouts, a wrong secret, no user-data stream).
struct fault_session {
    net::testing::venue_process process;
    venue_view venue;
    std::array<core::symbol_spec, 1> symbols;
    ledger_sink sink;
    exec::binance_spot_gateway gateway;

    explicit fault_session(
        const std::function<void(exec::binance_spot_gateway_config&)>& adjust = {})
        : process({"--symbols", "BTCUSDT", "--rate-hz", "5"}), venue(process), symbols{btcusdt()},
          gateway(configured(process, adjust), symbols) {
        gateway.set_report_sink(&sink);
        gateway.start();
    }

    /// Polls until the session is logged in and, with with_user_stream, subscribed to the
    /// user-data stream; false after 10 s.
    [[nodiscard]] bool wait_ready(bool with_user_stream = true) {
        return poll_until(
            gateway,
            [&] {
                return gateway.ready() && (!with_user_stream || gateway.user_stream_subscribed());
            },
            10s);
    }

    /// Places resting bids 1, 2, ... until the limiter holds one back (new orders may use 90 %
    /// of the weight) or `most` are sent; returns how many were sent.
    std::uint64_t place_until_held_back(std::uint64_t most) {
        std::uint64_t sent = 0;
        while (sink.count(exec::exec_kind::reject) == 0 && sent < most) {
            REQUIRE(gateway.submit(resting_bid(++sent), wall_ns()) == exec::gateway_error::none);
            poll_for(gateway, 5ms);
        }
        return sent;
    }

    /// Places a bid far below the market and waits for its ack; false after 10 s.
    [[nodiscard]] bool place_resting_bid(std::uint64_t id) {
        return gateway.submit(resting_bid(id), wall_ns()) == exec::gateway_error::none &&
               poll_until(
                   gateway, [&] { return sink.count(exec::exec_kind::ack, id) == 1; }, 10s);
    }

private:
    static exec::binance_spot_gateway_config
    configured(const net::testing::venue_process& venue,
               const std::function<void(exec::binance_spot_gateway_config&)>& adjust) {
        auto config = gateway_config(venue);
        if (adjust) {
            adjust(config);
        }
        return config;
    }
};

} // namespace

TEST_CASE("a 429 to a request no report tells, a cancel-all, is a venue failure for the API "
          "error storm; the kill still goes out after retryAfter",
          "[binance_gateway][faults][tsan]") {
    fault_session session;
    auto& venue = session.venue;
    auto& gateway = session.gateway;
    REQUIRE(session.wait_ready());
    REQUIRE(session.place_resting_bid(1));
    const std::uint64_t failures = gateway.counters().venue_failures.load();

    venue.fault("/control/rate_limit?ms=500");
    REQUIRE(gateway.cancel_all(0, wall_ns()) == exec::gateway_error::none);
    // The I/O thread counts the backoff before the failure: wait for both.
    REQUIRE(poll_until(
        gateway,
        [&] {
            return gateway.counters().backoffs.load() == 1 &&
                   gateway.counters().venue_failures.load() >= failures + 1;
        },
        5s));
    CHECK(gateway.counters().venue_failures.load() == failures + 1);
    REQUIRE(poll_until(
        gateway, [&] { return gateway.counters().kills_confirmed.load() == 1; }, 10s));
    CHECK(venue.stat("answers_429") == 1);
    CHECK(venue.stat("answers_418") == 0);
    CHECK(venue.stat("open_orders") == 0);
    gateway.stop();
}

TEST_CASE("a 429 stops every request until its retryAfter, so the venue never bans; a kill asked "
          "meanwhile goes out after it; a 418 stops everything until its retryAfter",
          "[binance_gateway][faults][tsan]") {
    fault_session session;
    auto& venue = session.venue;
    auto& gateway = session.gateway;
    auto& sink = session.sink;
    REQUIRE(session.wait_ready());
    REQUIRE(session.place_resting_bid(1));

    // Weight exhausted for 1.5 s: the next request gets a 429 with retryAfter.
    venue.fault("/control/rate_limit?ms=1500");
    REQUIRE(gateway.submit(resting_bid(2), wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::reject, 2) == 1; }, 10s));
    CHECK(gateway.counters().backoffs.load() == 1);
    // The engine keeps asking during the backoff: new orders, a cancel, a kill. None may reach
    // the venue before retryAfter (a request in the backoff earns a 418 ban).
    for (std::uint64_t id = 3; id <= 5; ++id) {
        REQUIRE(gateway.submit(resting_bid(id), wall_ns()) == exec::gateway_error::none);
    }
    REQUIRE(gateway.cancel(0, exec::client_order_id{1}, wall_ns()) == exec::gateway_error::none);
    REQUIRE(gateway.cancel_all(0, wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway,
        [&] {
            return sink.count(exec::exec_kind::reject) == 4 &&
                   sink.count(exec::exec_kind::cancel_reject) == 1;
        },
        10s));
    for (const auto& r : sink.reports) {
        if (r.kind == exec::exec_kind::reject || r.kind == exec::exec_kind::cancel_reject) {
            // The venue's 429, then what the limiter held back during its retryAfter.
            CHECK(r.reason == (r.client_id.value == 2 && r.kind == exec::exec_kind::reject
                                   ? exec::reject_reason::rate_limited
                                   : exec::reject_reason::held_back));
        }
    }
    // The kill waits for retryAfter, then its confirming query finds order 1 and cancels it.
    REQUIRE(poll_until(
        gateway, [&] { return gateway.counters().kills_confirmed.load() == 1; }, 15s));
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::cancelled, 1) == 1; }, 10s));
    CHECK(venue.stat("answers_429") == 1);
    CHECK(venue.stat("requests_in_backoff") == 0);
    CHECK(venue.stat("answers_418") == 0);
    CHECK(venue.stat("orders_placed") == 1);
    check_agreement(venue, sink, 0);

    // Banned outright: one 418, then nothing until its retryAfter; orders go out again after.
    venue.fault("/control/rate_limit?ban=1&ban_ms=1000");
    REQUIRE(gateway.submit(resting_bid(6), wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::reject, 6) == 1; }, 10s));
    CHECK(gateway.counters().bans.load() == 1);
    REQUIRE(gateway.submit(resting_bid(7), wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::reject, 7) == 1; }, 10s));
    poll_for(gateway, 1'500ms); // past the ban's retryAfter (a lower bound)
    REQUIRE(session.place_resting_bid(8));
    CHECK(venue.stat("answers_418") == 1);
    CHECK(venue.stat("requests_in_backoff") == 0);
    check_agreement(venue, sink, 0);
    gateway.stop();
}

TEST_CASE("a cancel-all lost while quoting has used the weight up to the cancel reserve: the "
          "kill's confirmation may use the reserve, and sends it again at once",
          "[binance_gateway][faults][tsan]") {
    fault_session session([](exec::binance_spot_gateway_config& config) {
        config.rate_limits = {{exec::rate_limit_type::request_weight, 60 * core::ns_per_s, 100}};
    });
    auto& venue = session.venue;
    auto& gateway = session.gateway;
    auto& sink = session.sink;
    REQUIRE(session.wait_ready());
    const std::uint64_t sent = session.place_until_held_back(99);
    REQUIRE(sink.count(exec::exec_kind::reject) == 1);
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::ack) == sent - 1; }, 10s));
    REQUIRE(venue.stat("open_orders") > 0);
    venue.fault("/control/cancel_all_lose?count=1");
    REQUIRE(gateway.cancel_all(0, wall_ns()) == exec::gateway_error::none);
    // The weight window is a minute long: only the reserve lets the kill's check and its
    // second cancel-all through before that. (The check confirming the second one may have to
    // wait for the window: 10 % of 100 is not enough for three requests.)
    const std::size_t acked = sink.count(exec::exec_kind::ack);
    CHECK(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::cancelled) == acked; }, 5s));
    CHECK(gateway.counters().kill_resends.load() == 1);
    CHECK(venue.stat("cancel_alls_lost") == 1);
    CHECK(venue.stat("open_orders") == 0);
    gateway.stop();
}

TEST_CASE("-1021: the gateway resyncs its clock from the venue's time and sends the order or "
          "cancel once more; nothing is lost or doubled",
          "[binance_gateway][faults][tsan]") {
    fault_session session;
    auto& venue = session.venue;
    auto& gateway = session.gateway;
    auto& sink = session.sink;
    REQUIRE(session.wait_ready());

    // The venue's clock 10 s ahead: our timestamps fall out of the 5 s recvWindow.
    venue.fault("/control/clock_skew?ms=10000");
    REQUIRE(gateway.submit(resting_bid(1), wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway,
        [&] {
            return sink.count(exec::exec_kind::ack, 1) + sink.count(exec::exec_kind::reject, 1) > 0;
        },
        10s));
    REQUIRE(sink.count(exec::exec_kind::ack, 1) == 1);
    CHECK(gateway.counters().clock_retries.load() == 1);
    // The offset now covers the skew (within the recvWindow, whatever the round trip took).
    CHECK(std::llabs(gateway.server_time_offset_ms() - 10'000) < 5'000);
    CHECK(venue.stat("clock_rejects") == 1);
    CHECK(venue.stat("time_requests") >= 1);

    // The cancel goes out with the new offset at once.
    REQUIRE(gateway.cancel(0, exec::client_order_id{1}, wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::cancelled, 1) == 1; }, 10s));
    CHECK(venue.stat("clock_rejects") == 1);

    // The venue's clock jumps back: now a cancel meets -1021, resyncs and still cancels.
    REQUIRE(session.place_resting_bid(2));
    venue.fault("/control/clock_skew?ms=0");
    REQUIRE(gateway.cancel(0, exec::client_order_id{2}, wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway,
        [&] {
            return sink.count(exec::exec_kind::cancelled, 2) +
                       sink.count(exec::exec_kind::cancel_reject, 2) >
                   0;
        },
        10s));
    CHECK(sink.count(exec::exec_kind::cancelled, 2) == 1);
    CHECK(sink.count(exec::exec_kind::cancel_reject) == 0);
    CHECK(gateway.counters().clock_retries.load() == 2);
    CHECK(venue.stat("clock_rejects") == 2);
    CHECK(venue.stat("orders_placed") == 2);
    check_agreement(venue, sink, 0);
    gateway.stop();
}

TEST_CASE("-1021 while the weight is nearly spent: the clock request waits for the window, then "
          "goes out, and the cancel and the kill behind it go through",
          "[binance_gateway][faults][tsan]") {
    fault_session session([](exec::binance_spot_gateway_config& config) {
        // 40 weight per 10 s: queries (the clock's too) may use 90 % of it, cancels all of it.
        config.rate_limits = {{exec::rate_limit_type::request_weight, 10 * core::ns_per_s, 40}};
    });
    auto& venue = session.venue;
    auto& gateway = session.gateway;
    auto& sink = session.sink;
    REQUIRE(session.wait_ready());
    // Queries, the clock's too, may use the weight up to 90 %, as new orders may.
    (void)session.place_until_held_back(39);
    REQUIRE(sink.count(exec::exec_kind::reject) == 1);
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::ack, 1) == 1; }, 10s));
    venue.fault("/control/clock_skew?ms=10000");
    REQUIRE(gateway.cancel(0, exec::client_order_id{1}, wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return gateway.counters().clock_retries.load() == 1; }, 5s));
    // The clock request is held until the window has room; then the offset is resynced and the
    // cancel sent again.
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::cancelled, 1) == 1; }, 20s));
    CHECK(std::llabs(gateway.server_time_offset_ms() - 10'000) < 5'000);
    REQUIRE(gateway.cancel_all(0, wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return gateway.counters().kills_confirmed.load() == 1; }, 20s));
    CHECK_FALSE(gateway.kill_unconfirmed(0));
    CHECK(venue.stat("open_orders") == 0);
    gateway.stop();
}

TEST_CASE("a placement sent again after -1021 but held back meanwhile does not go out after a "
          "kill: it is refused unsent",
          "[binance_gateway][faults][tsan]") {
    fault_session session([](exec::binance_spot_gateway_config& config) {
        // Two new orders per 10 s: the -1021 refused one counts, so its second try waits.
        config.rate_limits = {{exec::rate_limit_type::orders, 10 * core::ns_per_s, 2}};
    });
    auto& venue = session.venue;
    auto& gateway = session.gateway;
    auto& sink = session.sink;
    REQUIRE(session.wait_ready());
    REQUIRE(session.place_resting_bid(1));
    venue.fault("/control/clock_skew?ms=10000");
    REQUIRE(gateway.submit(resting_bid(2), wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return gateway.counters().clock_retries.load() == 1; }, 10s));
    poll_for(gateway, 200ms); // the clock is resynced; the second try waits for the window
    REQUIRE(sink.count(exec::exec_kind::ack, 2) == 0);
    REQUIRE(gateway.cancel_all(0, wall_ns()) == exec::gateway_error::none);
    // Refused at its next try, not sent when the window has room again.
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::reject, 2) == 1; }, 12s));
    REQUIRE(poll_until(
        gateway, [&] { return gateway.counters().kills_confirmed.load() == 1; }, 10s));
    CHECK(sink.count(exec::exec_kind::ack, 2) == 0);
    CHECK(venue.stat("orders_placed") == 1);
    CHECK(venue.stat("open_orders") == 0);
    check_agreement(venue, sink, 0);
    gateway.stop();
}

TEST_CASE("an ended user-data stream is noticed, subscribed again and reconciled: a fill of the "
          "gap is reported exactly once",
          "[binance_gateway][faults][tsan]") {
    fault_session session;
    auto& venue = session.venue;
    auto& gateway = session.gateway;
    auto& sink = session.sink;
    REQUIRE(session.wait_ready());
    REQUIRE(session.place_resting_bid(1));

    // The stream ends now; the venue says so only 500 ms later. An order that trades in the gap
    // is acknowledged by its answer, but its fill event is lost.
    venue.fault("/control/user_stream_kill?notice_ms=500");
    REQUIRE(gateway.submit(crossing_buy(2), wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::ack, 2) == 1; }, 10s));
    CHECK(venue.stat("trades") == 1);
    REQUIRE(poll_until(
        gateway,
        [&] {
            return gateway.counters().stream_restarts.load() == 1 && gateway.ready() &&
                   gateway.user_stream_subscribed();
        },
        10s));
    // Reported before the first new order is taken: what the I/O thread reported before it
    // was ready.
    (void)gateway.poll(wall_ns());
    CHECK(sink.count(exec::exec_kind::fill, 2) == 1);
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::fill, 2) == 1; }, 10s));
    CHECK(venue.stat("streams_terminated") == 1);
    CHECK(venue.stat("user_subscriptions") == 2);

    // The new stream works: another trade comes through it, once.
    REQUIRE(gateway.submit(crossing_buy(3), wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::fill, 3) == 1; }, 10s));
    poll_for(gateway, 300ms);
    CHECK(sink.count(exec::exec_kind::fill, 2) == 1);
    CHECK(sink.count(exec::exec_kind::fill, 3) == 1);
    CHECK(sink.count(exec::exec_kind::unknown) == 0);
    check_agreement(venue, sink, 2);
    gateway.stop();
}

TEST_CASE("a fill event that does not decode is not lost: the orders are queried at once and the "
          "fill is reported exactly once",
          "[binance_gateway][faults][tsan]") {
    fault_session session;
    auto& venue = session.venue;
    auto& gateway = session.gateway;
    auto& sink = session.sink;
    REQUIRE(session.wait_ready());

    // The order trades at once; its only TRADE event arrives unreadable, and the connection
    // stays up, so no reconnect would ever ask about it.
    venue.fault("/control/trade_event_garble?count=1");
    REQUIRE(gateway.submit(crossing_buy(1), wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::fill, 1) == 1; }, 10s));
    CHECK(venue.stat("trade_events_garbled") == 1);
    CHECK(gateway.counters().unreadable_user_events.load() == 1);
    CHECK(gateway.counters().disconnects.load() == 0);

    // Later trades come through the stream as before, and nothing twice.
    REQUIRE(poll_until(
        gateway, [&] { return gateway.ready(); }, 10s));
    REQUIRE(gateway.submit(crossing_buy(2), wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::fill, 2) == 1; }, 10s));
    poll_for(gateway, 300ms);
    CHECK(sink.count(exec::exec_kind::fill, 1) == 1);
    CHECK(sink.count(exec::exec_kind::unknown) == 0);
    check_agreement(venue, sink, 2);
    gateway.stop();
}

TEST_CASE("a user-data subscription the venue refuses (429) is asked again, and no order is "
          "taken until it runs: fills keep coming through the stream",
          "[binance_gateway][faults][tsan]") {
    fault_session session;
    auto& venue = session.venue;
    auto& gateway = session.gateway;
    auto& sink = session.sink;
    REQUIRE(session.wait_ready());
    REQUIRE(session.place_resting_bid(1));
    // The venue's weight is used up for 300 ms, and the stream ends at once: the subscription
    // that follows is the first request to meet the 429.
    venue.fault("/control/rate_limit?ms=300");
    venue.fault("/control/user_stream_kill?notice_ms=0");
    REQUIRE(poll_until(
        gateway, [&] { return gateway.counters().stream_restarts.load() == 1; }, 10s));
    REQUIRE(poll_until(
        gateway, [&] { return gateway.ready(); }, 10s));
    // Ready means subscribed: the reconciliation waited for the stream.
    CHECK(gateway.user_stream_subscribed());
    CHECK(venue.stat("answers_429") >= 1);
    CHECK(venue.stat("requests_in_backoff") == 0);
    CHECK(venue.stat("user_subscriptions") == 2);
    // An IOC that trades: a spot order's fill is told by the stream only (ACK answers).
    REQUIRE(gateway.submit(crossing_buy(2), wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::fill, 2) == 1; }, 10s));
    poll_for(gateway, 300ms);
    CHECK(sink.count(exec::exec_kind::fill, 2) == 1);
    check_agreement(venue, sink, 1);
    gateway.stop();
}

TEST_CASE("a silent venue: the order in flight turns unknown, the dead session is replaced and "
          "the order is queried after the reconnect, never sent again",
          "[binance_gateway][faults][tsan]") {
    fault_session session(
        [](exec::binance_spot_gateway_config& config) { config.request_timeout_ms = 300; });
    auto& venue = session.venue;
    auto& gateway = session.gateway;
    auto& sink = session.sink;
    REQUIRE(session.wait_ready());
    REQUIRE(session.place_resting_bid(1));

    venue.fault("/control/silence?ms=1500");
    REQUIRE(gateway.submit(resting_bid(2), wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::unknown, 2) == 1; }, 10s));
    // The venue never got it: after the silence the query says so.
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::reject, 2) == 1; }, 20s));
    for (const auto& r : sink.reports) {
        if (r.client_id.value == 2 && r.kind == exec::exec_kind::reject) {
            CHECK(r.reason == exec::reject_reason::unknown_order);
        }
    }
    // Unknown first, then the reject: never an ack of an order the venue does not hold.
    CHECK(sink.count(exec::exec_kind::ack, 2) == 0);
    REQUIRE(poll_until(
        gateway, [&] { return gateway.ready(); }, 10s));
    CHECK(gateway.counters().silences.load() >= 1);
    CHECK(gateway.counters().connects.load() >= 2);
    CHECK(venue.stat("place_requests") == 2); // order 1, and order 2 once
    CHECK(venue.stat("silenced_requests") >= 1);
    CHECK(venue.stat("orders_placed") == 1);
    // Order 1 still rests and is still ours.
    REQUIRE(gateway.cancel(0, exec::client_order_id{1}, wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::cancelled, 1) == 1; }, 10s));
    check_agreement(venue, sink, 0);
    gateway.stop();
}

TEST_CASE("an idle connection to a venue that answers pings stays up past the idle timeout",
          "[binance_gateway][faults][tsan]") {
    fault_session session(
        [](exec::binance_spot_gateway_config& config) { config.idle_timeout_ms = 300; });
    auto& venue = session.venue;
    auto& gateway = session.gateway;
    REQUIRE(session.wait_ready());
    REQUIRE(session.place_resting_bid(1));
    // Nothing to send for ten idle timeouts: the pings keep it alive.
    poll_for(gateway, 3s);
    CHECK(gateway.counters().silences.load() == 0);
    CHECK(gateway.counters().disconnects.load() == 0);
    CHECK(gateway.connected());
    CHECK(venue.stat("open_orders") == 1);
    gateway.stop();
}

TEST_CASE("a connection gone mute (half-open: no answer, no pong) is closed after the idle "
          "timeout, before any request times out; the order in flight is queried, not resent",
          "[binance_gateway][faults][tsan]") {
    fault_session session([](exec::binance_spot_gateway_config& config) {
        config.idle_timeout_ms = 600;
        config.request_timeout_ms = 10'000; // the silent-request path would take 20 s
    });
    auto& venue = session.venue;
    auto& gateway = session.gateway;
    auto& sink = session.sink;
    REQUIRE(session.wait_ready());

    // The order is placed; then the venue neither reads nor writes on the connection, as a
    // peer gone without a word: only the keep-alive ping, unanswered, can tell.
    venue.fault("/control/mute?ms=5000");
    REQUIRE(gateway.submit(resting_bid(1), wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return gateway.counters().silences.load() == 1; }, 4s));
    CHECK(gateway.counters().timeouts.load() == 0);
    CHECK(venue.stat("mutes") == 1);
    // A new connection reconciles: the order rests, is acknowledged once, never sent twice.
    REQUIRE(poll_until(
        gateway, [&] { return gateway.ready() && sink.count(exec::exec_kind::ack, 1) == 1; }, 10s));
    CHECK(venue.stat("place_requests") == 1);
    CHECK(venue.stat("orders_placed") == 1);
    poll_for(gateway, 300ms);
    CHECK(sink.count(exec::exec_kind::ack, 1) == 1);
    REQUIRE(gateway.cancel(0, exec::client_order_id{1}, wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::cancelled, 1) == 1; }, 10s));
    gateway.stop();
}

TEST_CASE("a delayed answer: past the timeout the order is unknown and resolved by its query; the "
          "late answer adds nothing",
          "[binance_gateway][faults][tsan]") {
    fault_session session([](exec::binance_spot_gateway_config& config) {
        config.request_timeout_ms = 300;
        config.user_data_stream = false; // only the query can tell
    });
    auto& venue = session.venue;
    auto& gateway = session.gateway;
    auto& sink = session.sink;
    REQUIRE(session.wait_ready(false));

    venue.fault("/control/order_delay?ms=1500&count=1");
    REQUIRE(session.place_resting_bid(1));
    REQUIRE(sink.reports.size() == 2);
    CHECK(sink.reports[0].kind == exec::exec_kind::unknown);
    CHECK(sink.reports[1].kind == exec::exec_kind::ack);
    poll_for(gateway, 2'000ms); // the late answer arrives meanwhile
    CHECK(sink.reports.size() == 2);
    CHECK(venue.stat("answers_delayed") == 1);
    CHECK(venue.stat("orders_placed") == 1);
    check_agreement(venue, sink, 0);

    // A delay shorter than the timeout is just a slow ack.
    venue.fault("/control/order_delay?ms=100&count=1");
    REQUIRE(session.place_resting_bid(2));
    CHECK(sink.count(exec::exec_kind::unknown, 2) == 0);
    REQUIRE(gateway.cancel_all(0, wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::cancelled) == 2; }, 10s));
    check_agreement(venue, sink, 0);
    gateway.stop();
}

TEST_CASE("a placement whose answer is delayed keeps its request slot while more than the "
          "table's worth of later requests come and go: its late ack is still reported",
          "[binance_gateway][faults][tsan]") {
    fault_session session([](exec::binance_spot_gateway_config& config) {
        config.request_timeout_ms = 8'000; // the ack comes before: no query resolves it
        config.user_data_stream = false;   // only the answer can tell
    });
    auto& venue = session.venue;
    auto& gateway = session.gateway;
    auto& sink = session.sink;
    REQUIRE(session.wait_ready(false));

    venue.fault("/control/order_delay?ms=3000&count=1");
    const auto placed = std::chrono::steady_clock::now();
    REQUIRE(gateway.submit(resting_bid(1), wall_ns()) == exec::gateway_error::none);
    // Cancels of orders that never existed, each answered -2011 at once: their request ids run
    // past the placement's id plus the table's size (1,024 slots, the core's ids odd).
    cancel_orders_never_placed(gateway, sink, 600);
    // The placement was still waiting for its answer all that time.
    REQUIRE(std::chrono::steady_clock::now() - placed < 3'000ms);
    CHECK(sink.count(exec::exec_kind::ack, 1) == 0);

    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::ack, 1) == 1; }, 10s));
    CHECK(sink.count(exec::exec_kind::unknown, 1) == 0);
    CHECK(gateway.counters().timeouts.load() == 0);
    CHECK(gateway.counters().request_table_full.load() == 0);
    CHECK(venue.stat("answers_delayed") == 1);
    check_agreement(venue, sink, 0);
    gateway.stop();
}

TEST_CASE("an order answered 503 -1007 that reaches the matching engine late: the query's -2013 "
          "while its recvWindow is open is asked again, and the fill is reported",
          "[binance_gateway][faults][tsan]") {
    fault_session session([](exec::binance_spot_gateway_config& config) {
        config.request_timeout_ms = 300;
        config.user_data_stream = false; // only the queries can tell
    });
    auto& venue = session.venue;
    auto& gateway = session.gateway;
    auto& sink = session.sink;
    REQUIRE(session.wait_ready(false));

    // Answered "execution status unknown" at once, executed 800 ms later: the status query that
    // follows the answer finds no such order.
    venue.fault("/control/order_late?ms=800&count=1");
    REQUIRE(gateway.submit(crossing_buy(1), wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::fill, 1) == 1; }, 10s));
    CHECK(sink.reports.front().kind == exec::exec_kind::unknown);
    CHECK(sink.count(exec::exec_kind::reject, 1) == 0);
    CHECK(sink.count(exec::exec_kind::ack, 1) == 1);
    CHECK(gateway.counters().status_queries.load() >= 2); // the first found nothing
    poll_for(gateway, 500ms);
    CHECK(venue.stat("orders_late") == 1);
    CHECK(venue.stat("late_orders_expired") == 0);
    CHECK(venue.stat("orders_placed") == 1);
    check_agreement(venue, sink, 1);
    gateway.stop();
}

TEST_CASE("a query's -2013 is judged when the query left: sent inside the recvWindow and "
          "answered after it, it is asked again, and the order the venue took meanwhile found",
          "[binance_gateway][faults][tsan]") {
    fault_session session([](exec::binance_spot_gateway_config& config) {
        config.request_timeout_ms = 5'000; // the slow answer is waited for
        config.recv_window_ms = 1'000;     // the venue may take it until 1 s after its timestamp
        config.user_data_stream = false;   // only the queries can tell
    });
    auto& venue = session.venue;
    auto& gateway = session.gateway;
    auto& sink = session.sink;
    REQUIRE(session.wait_ready(false));

    // Answered "execution status unknown" at once and executed 600 ms later, inside its
    // recvWindow. The first query finds nothing, and that answer comes back 2.5 s later: after
    // the recvWindow and its 1 s clock margin, though the venue gave it while both were open.
    venue.fault("/control/order_late?ms=600&count=1");
    venue.fault("/control/status_delay?ms=2500&count=1");
    REQUIRE(gateway.submit(crossing_buy(1), wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::fill, 1) == 1; }, 10s));
    CHECK(sink.count(exec::exec_kind::reject, 1) == 0);
    CHECK(venue.stat("status_answers_delayed") == 1);
    CHECK(venue.stat("orders_placed") == 1);
    CHECK(gateway.counters().status_queries.load() >= 2);
    check_agreement(venue, sink, 1);
    gateway.stop();
}

TEST_CASE("a cancel of an order whose placement is still unknown, answered -2011, does not end "
          "it: the placement's own queries find it late and report its fill",
          "[binance_gateway][faults][tsan]") {
    fault_session session([](exec::binance_spot_gateway_config& config) {
        config.request_timeout_ms = 300;
        config.user_data_stream = false; // only the queries can tell
    });
    auto& venue = session.venue;
    auto& gateway = session.gateway;
    auto& sink = session.sink;
    REQUIRE(session.wait_ready(false));

    venue.fault("/control/order_late?ms=800&count=1");
    REQUIRE(gateway.submit(crossing_buy(1), wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::unknown, 1) == 1; }, 5s));
    // The quote is pulled while the venue has not taken the order yet: "unknown order".
    REQUIRE(gateway.cancel(0, exec::client_order_id{1}, wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::cancel_reject, 1) == 1; }, 5s));
    // Not a reject on the cancel's word: the venue takes it within its window, and it fills.
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::fill, 1) == 1; }, 10s));
    CHECK(sink.count(exec::exec_kind::reject, 1) == 0);
    poll_for(gateway, 500ms);
    check_agreement(venue, sink, 1);
    gateway.stop();
}

TEST_CASE("a cancelReplace of an order whose placement is still unknown, its cancel half "
          "answered -2011, does not end it: its placement's queries find it late",
          "[binance_gateway][faults][tsan]") {
    fault_session session([](exec::binance_spot_gateway_config& config) {
        config.request_timeout_ms = 300;
        config.user_data_stream = false; // only the queries can tell
        config.cancel_replace = true;
    });
    auto& venue = session.venue;
    auto& gateway = session.gateway;
    auto& sink = session.sink;
    REQUIRE(session.wait_ready(false));

    venue.fault("/control/order_late?ms=800&count=1");
    REQUIRE(gateway.submit(crossing_buy(1), wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::unknown, 1) == 1; }, 5s));
    // The quote moves while the venue has not taken order 1 yet: its cancel half fails, so the
    // replacement is never placed.
    REQUIRE(gateway.replace(0, exec::client_order_id{1}, resting_bid(2), wall_ns()) ==
            exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::reject, 2) == 1; }, 5s));
    // Not ended on that word: the venue takes order 1 within its window, and it fills.
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::fill, 1) == 1; }, 10s));
    CHECK(sink.count(exec::exec_kind::reject, 1) == 0);
    poll_for(gateway, 500ms);
    check_agreement(venue, sink, 1);
    gateway.stop();
}

TEST_CASE("a kill is not confirmed while a placement of unknown outcome may still be taken: the "
          "venue takes it late, and the kill cancels it",
          "[binance_gateway][faults][tsan]") {
    fault_session session(
        [](exec::binance_spot_gateway_config& config) { config.request_timeout_ms = 300; });
    auto& venue = session.venue;
    auto& gateway = session.gateway;
    auto& sink = session.sink;
    REQUIRE(session.wait_ready());
    // Answered "execution status unknown" at once, taken 1.5 s later, well after the kill's
    // first check found nothing resting.
    venue.fault("/control/order_late?ms=1500&count=1");
    REQUIRE(gateway.submit(resting_bid(1), wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::unknown, 1) == 1; }, 5s));
    REQUIRE(gateway.cancel_all(0, wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return gateway.counters().kills_confirmed.load() == 1; }, 10s));
    CHECK(venue.stat("orders_late") == 1);
    CHECK(venue.stat("open_orders") == 0);
    CHECK(sink.count(exec::exec_kind::ack, 1) == 1);
    CHECK(sink.count(exec::exec_kind::cancelled, 1) == 1);
    CHECK(gateway.counters().kill_resends.load() >= 1);
    check_agreement(venue, sink, 0);
    gateway.stop();
}

TEST_CASE("an order answered 503 -1007 that never reaches the matching engine within its "
          "recvWindow: -2013 is asked again until the window closed, then a reject",
          "[binance_gateway][faults][tsan]") {
    fault_session session([](exec::binance_spot_gateway_config& config) {
        config.request_timeout_ms = 300;
        config.recv_window_ms = 1'000; // the venue may take it until 1 s after its timestamp
        config.user_data_stream = false;
    });
    auto& venue = session.venue;
    auto& gateway = session.gateway;
    auto& sink = session.sink;
    REQUIRE(session.wait_ready(false));

    // Held 3 s: past its recvWindow when it arrives, so the venue refuses it then.
    venue.fault("/control/order_late?ms=3000&count=1");
    const auto sent = std::chrono::steady_clock::now();
    REQUIRE(gateway.submit(crossing_buy(1), wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::reject, 1) == 1; }, 10s));
    const auto rejected_after = std::chrono::steady_clock::now() - sent;
    // Not before the recvWindow and the clock margin (2 s) had passed.
    CHECK(rejected_after >= 1'900ms);
    const auto rejects = std::count_if(sink.reports.begin(), sink.reports.end(), [](const auto& r) {
        return r.kind == exec::exec_kind::reject;
    });
    CHECK(rejects == 1);
    CHECK(std::find_if(sink.reports.begin(), sink.reports.end(), [](const auto& r) {
              return r.kind == exec::exec_kind::reject &&
                     r.reason == exec::reject_reason::unknown_order;
          }) != sink.reports.end());
    // Asked again every 250 ms, no more: bounded by the window.
    const std::uint64_t queries = gateway.counters().status_queries.load();
    CHECK(queries >= 3);
    CHECK(queries <= 12);
    poll_for(gateway, 1'500ms); // it reaches the engine, which refuses it
    CHECK(gateway.counters().status_queries.load() == queries);
    CHECK(venue.stat("late_orders_expired") == 1);
    CHECK(venue.stat("orders_placed") == 0);
    CHECK(sink.count(exec::exec_kind::fill) == 0);
    check_agreement(venue, sink, 0);
    gateway.stop();
}

TEST_CASE("a reconciliation that keeps failing gives up after its bounded retries and the gateway "
          "stays not ready",
          "[binance_gateway][faults][tsan]") {
    fault_session session([](exec::binance_spot_gateway_config& config) {
        config.secret = "wrongsecretwrongsecretwrongsecretwrongsecretwrongsecretwrongs";
        config.request_timeout_ms = 200;
        config.reconcile_max_retries = 2;
    });
    auto& venue = session.venue;
    auto& gateway = session.gateway;
    auto& sink = session.sink;
    REQUIRE(poll_until(
        gateway, [&] { return gateway.counters().reconcile_gave_up.load() == 1; }, 10s));
    const long long requests = venue.stat("ws_api_requests");
    poll_for(gateway, 1'000ms); // five request timeouts: nothing more is asked
    CHECK(venue.stat("ws_api_requests") == requests);
    CHECK(gateway.counters().reconcile_failures.load() == 3);
    CHECK(gateway.counters().reconcile_gave_up.load() == 1);
    CHECK_FALSE(gateway.ready());
    CHECK(gateway.submit(resting_bid(1), wall_ns()) == exec::gateway_error::disconnected);
    CHECK(sink.reports.empty());
    gateway.stop();
}
