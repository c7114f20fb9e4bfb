// binance_spot_gateway's order.cancelReplace against the quoter-venue binary: each outcome of
// one request that cancels an order and places its replacement (both succeeded, the cancel
// failed so the new order was not attempted, the new order refused, the answer lost after the
// venue executed it) ends with the gateway's reports and the venue's open orders agreeing: no
// duplicate order, no ghost, nothing resent. Also measures the replace round trip with and
// without it.
#include "venue_process.hpp"

#include "gateway_test_support.hpp"

#include "quoter/exec/binance_client_id.hpp"
#include "quoter/exec/binance_spot_gateway.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

using namespace quoter;
using namespace std::chrono_literals;

namespace {

using namespace gateway_test;

struct replace_fixture {
    explicit replace_fixture(bool user_stream = true, std::int64_t timeout_ms = 2'000)
        : venue({"--symbols", "BTCUSDT", "--rate-hz", "5"}),
          client(loop, net::testing::venue_rest_config(venue)) {
        config.url = venue.ws_url() + "/ws-api/v3";
        config.api_key = std::string(api_key);
        config.secret = std::string(secret);
        config.id_tag = "rpl";
        config.start_us = wall_ns() / 1'000;
        config.request_timeout_ms = timeout_ms;
        config.user_data_stream = user_stream;
        config.cancel_replace = true;
        gateway.emplace(config, symbols);
        gateway->set_report_sink(&sink);
        gateway->start();
        REQUIRE(poll_until(
            *gateway,
            [&] { return gateway->ready() && (!user_stream || gateway->user_stream_subscribed()); },
            5s));
    }
    ~replace_fixture() { gateway->stop(); }

    [[nodiscard]] std::string stats() {
        return net::testing::control(loop, client, "/control/stats").body;
    }
    [[nodiscard]] long long stat(const std::string& body, std::string_view key) const {
        return net::testing::json_int(body, key);
    }
    /// The venue's text of one of this gateway's client order ids.
    [[nodiscard]] std::string venue_id(std::uint64_t id) const {
        const exec::client_id_factory ids(config.id_tag, config.start_us);
        return std::string(ids.format(exec::client_order_id{id}).view());
    }
    /// Polls until a report of `kind` for `id` came.
    bool await(exec::exec_kind kind, std::uint64_t id, std::chrono::milliseconds timeout = 5s) {
        return poll_until(
            *gateway, [&] { return sink.count(kind, id) > 0; }, timeout);
    }
    /// Keeps polling for `span` (reports that should not come get their chance).
    void settle(std::chrono::milliseconds span) {
        const auto until = std::chrono::steady_clock::now() + span;
        (void)poll_until(
            *gateway, [&] { return std::chrono::steady_clock::now() >= until; }, span + 1s);
    }

    net::testing::venue_process venue;
    net::io_loop loop;
    net::rest_client client;
    std::array<core::symbol_spec, 1> symbols{btcusdt()};
    exec::binance_spot_gateway_config config;
    std::optional<exec::binance_spot_gateway> gateway;
    recording_sink sink;
};

exec::order_request bid(std::uint64_t id, std::int64_t price_ticks) {
    exec::order_request order;
    order.id = exec::client_order_id{id};
    order.side = core::side::buy;
    order.post_only = true;
    order.price = core::price{price_ticks}; // far below any synthetic bid: rests
    order.qty = core::qty{1000};            // 0.01
    return order;
}

/// A post-only bid above any synthetic ask: refused (-2010 would match).
exec::order_request crossing_maker_bid(std::uint64_t id) {
    return bid(id, 100'000'000);
}

/// A taker buy that trades at once (IOC above any ask).
exec::order_request taker_buy(std::uint64_t id) {
    exec::order_request order = bid(id, 100'000'000);
    order.post_only = false;
    order.tif = exec::time_in_force::ioc;
    order.qty = core::qty{100};
    return order;
}

} // namespace

TEST_CASE("order.cancelReplace: both halves succeed; the old order is cancelled and the new one "
          "rests, alone on the venue",
          "[binance_gateway][replace][tsan]") {
    replace_fixture f;
    REQUIRE(f.gateway->replaces_in_one_request());
    REQUIRE(f.gateway->submit(bid(1, 100), wall_ns()) == exec::gateway_error::none);
    REQUIRE(f.await(exec::exec_kind::ack, 1));
    REQUIRE(f.gateway->replace(0, exec::client_order_id{1}, bid(2, 101), wall_ns()) ==
            exec::gateway_error::none);
    REQUIRE(f.await(exec::exec_kind::ack, 2));
    REQUIRE(f.await(exec::exec_kind::cancelled, 1));
    f.settle(200ms);
    // Each told once, though both the answer and the stream told it.
    CHECK(f.sink.count(exec::exec_kind::cancelled, 1) == 1);
    CHECK(f.sink.count(exec::exec_kind::ack, 2) == 1);
    CHECK(f.sink.count(exec::exec_kind::reject) == 0);
    CHECK(f.sink.count(exec::exec_kind::cancel_reject) == 0);
    CHECK(f.gateway->counters().replaces_sent.load() == 1);
    const std::string stats = f.stats();
    CHECK(f.stat(stats, "replace_requests") == 1);
    CHECK(f.stat(stats, "replaces_done") == 1);
    CHECK(f.stat(stats, "open_orders") == 1);
    CHECK(stats.find(f.venue_id(2)) != std::string::npos);
    CHECK(stats.find(f.venue_id(1)) == std::string::npos);
}

TEST_CASE("order.cancelReplace: the old order had filled, so the cancel fails and the new order "
          "is not attempted; the query books the fill once",
          "[binance_gateway][replace][tsan]") {
    replace_fixture f(false); // no stream: only the query can tell the fill
    REQUIRE(f.gateway->submit(taker_buy(5), wall_ns()) == exec::gateway_error::none);
    REQUIRE(f.await(exec::exec_kind::ack, 5));
    CHECK(f.sink.count(exec::exec_kind::fill, 5) == 0); // an ACK answer says nothing of it
    REQUIRE(f.gateway->replace(0, exec::client_order_id{5}, bid(6, 100), wall_ns()) ==
            exec::gateway_error::none);
    REQUIRE(f.await(exec::exec_kind::reject, 6));
    REQUIRE(f.await(exec::exec_kind::cancel_reject, 5));
    REQUIRE(f.await(exec::exec_kind::fill, 5));
    f.settle(200ms);
    for (const auto& r : f.sink.reports) {
        if (r.client_id.value == 6) {
            CHECK(r.reason == exec::reject_reason::unknown_order);
        }
    }
    CHECK(f.sink.count(exec::exec_kind::fill, 5) == 1);
    CHECK(f.sink.count(exec::exec_kind::ack, 6) == 0);
    CHECK(f.gateway->counters().status_queries.load() == 1);
    const std::string stats = f.stats();
    CHECK(f.stat(stats, "replace_requests") == 1);
    CHECK(f.stat(stats, "replaces_done") == 0);
    CHECK(f.stat(stats, "orders_placed") == 1); // the taker only: the replacement never was
    CHECK(f.stat(stats, "open_orders") == 0);
}

TEST_CASE("order.cancelReplace: the old order is cancelled, the new post-only one would match "
          "and is refused: nothing rests",
          "[binance_gateway][replace][tsan]") {
    replace_fixture f;
    REQUIRE(f.gateway->submit(bid(1, 100), wall_ns()) == exec::gateway_error::none);
    REQUIRE(f.await(exec::exec_kind::ack, 1));
    REQUIRE(f.gateway->replace(0, exec::client_order_id{1}, crossing_maker_bid(2), wall_ns()) ==
            exec::gateway_error::none);
    REQUIRE(f.await(exec::exec_kind::reject, 2));
    REQUIRE(f.await(exec::exec_kind::cancelled, 1));
    f.settle(200ms);
    for (const auto& r : f.sink.reports) {
        if (r.client_id.value == 2) {
            CHECK(r.reason == exec::reject_reason::post_only_would_cross);
        }
    }
    CHECK(f.sink.count(exec::exec_kind::cancelled, 1) == 1);
    CHECK(f.sink.count(exec::exec_kind::reject, 2) == 1);
    CHECK(f.sink.count(exec::exec_kind::ack, 2) == 0);
    const std::string stats = f.stats();
    CHECK(f.stat(stats, "open_orders") == 0);
}

TEST_CASE("order.cancelReplace answered late, 5xx or never after the venue executed it: "
          "unknown, both orders queried, never resent; no duplicate, no ghost",
          "[binance_gateway][replace][tsan]") {
    const auto [fault, user_stream] = GENERATE(table<std::string, bool>({
        {"/control/order_drop?count=1", false},
        {"/control/order_fail_after_execute?count=1", false},
        {"/control/order_delay?ms=1500&count=1", false},
        {"/control/order_drop?count=1", true},
    }));
    CAPTURE(fault, user_stream);
    replace_fixture f(user_stream, 300);
    REQUIRE(f.gateway->submit(bid(1, 100), wall_ns()) == exec::gateway_error::none);
    REQUIRE(f.await(exec::exec_kind::ack, 1));
    REQUIRE(net::testing::control(f.loop, f.client, fault).status == 200);
    REQUIRE(f.gateway->replace(0, exec::client_order_id{1}, bid(2, 101), wall_ns()) ==
            exec::gateway_error::none);
    REQUIRE(f.await(exec::exec_kind::ack, 2));
    REQUIRE(f.await(exec::exec_kind::cancelled, 1));
    f.settle(1'800ms); // past a late answer: it adds nothing
    CHECK(f.sink.count(exec::exec_kind::ack, 2) == 1);
    CHECK(f.sink.count(exec::exec_kind::cancelled, 1) == 1);
    CHECK(f.sink.count(exec::exec_kind::reject) == 0);
    CHECK(f.sink.count(exec::exec_kind::cancel_reject) == 0);
    if (!user_stream) {
        // Only the queries could tell: the new order was unknown until then.
        CHECK(f.sink.count(exec::exec_kind::unknown, 2) == 1);
        CHECK(f.gateway->counters().status_queries.load() == 2);
    }
    std::string stats = f.stats();
    CHECK(f.stat(stats, "replace_requests") == 1); // never resent
    CHECK(f.stat(stats, "place_requests") == 1);   // nor placed again on its own
    CHECK(f.stat(stats, "open_orders") == 1);
    CHECK(stats.find(f.venue_id(2)) != std::string::npos);
    // The cancel-all finds exactly that one order.
    REQUIRE(f.gateway->cancel_all(0, wall_ns()) == exec::gateway_error::none);
    REQUIRE(f.await(exec::exec_kind::cancelled, 2));
    stats = f.stats();
    CHECK(f.stat(stats, "open_orders") == 0);
}

TEST_CASE("order.cancelReplace whose new order's half says \"execution status unknown\": the new "
          "order is queried, not taken as refused, and found resting",
          "[binance_gateway][replace][tsan]") {
    replace_fixture f(false, 300); // no stream: only the query can tell
    REQUIRE(f.gateway->submit(bid(1, 100), wall_ns()) == exec::gateway_error::none);
    REQUIRE(f.await(exec::exec_kind::ack, 1));
    REQUIRE(
        net::testing::control(f.loop, f.client, "/control/replace_new_unknown?count=1").status ==
        200);
    REQUIRE(f.gateway->replace(0, exec::client_order_id{1}, bid(2, 101), wall_ns()) ==
            exec::gateway_error::none);
    REQUIRE(f.await(exec::exec_kind::cancelled, 1));
    REQUIRE(f.await(exec::exec_kind::ack, 2));
    f.settle(500ms);
    CHECK(f.sink.count(exec::exec_kind::unknown, 2) == 1);
    CHECK(f.sink.count(exec::exec_kind::reject, 2) == 0);
    std::string stats = f.stats();
    CHECK(f.stat(stats, "replace_halves_unknown") == 1);
    CHECK(f.stat(stats, "replace_requests") == 1); // never resent
    CHECK(f.stat(stats, "open_orders") == 1);
    // The cancel-all finds exactly that one order.
    REQUIRE(f.gateway->cancel_all(0, wall_ns()) == exec::gateway_error::none);
    REQUIRE(f.await(exec::exec_kind::cancelled, 2));
    stats = f.stats();
    CHECK(f.stat(stats, "open_orders") == 0);
}

TEST_CASE("replace round trip against quoter-venue: order.cancelReplace against cancel, "
          "cancelled, then place",
          "[binance_gateway][replace][latency]") {
    replace_fixture f;
    constexpr std::uint64_t rounds = 40; // 81 orders: within the default 90 of 10 s
    std::uint64_t id = 1;
    REQUIRE(f.gateway->submit(bid(id, 100), wall_ns()) == exec::gateway_error::none);
    REQUIRE(f.await(exec::exec_kind::ack, id));
    std::vector<std::int64_t> one_request_us;
    std::vector<std::int64_t> two_requests_us;
    const auto elapsed_us = [](auto from) {
        return std::chrono::duration_cast<std::chrono::microseconds>(
                   std::chrono::steady_clock::now() - from)
            .count();
    };
    for (std::uint64_t round = 0; round < rounds; ++round) {
        // Replace decision to the new order's ack, one request.
        const std::uint64_t next = id + 1;
        auto t0 = std::chrono::steady_clock::now();
        REQUIRE(f.gateway->replace(0, exec::client_order_id{id},
                                   bid(next, 100 + static_cast<std::int64_t>(next % 2)),
                                   wall_ns()) == exec::gateway_error::none);
        REQUIRE(f.await(exec::exec_kind::ack, next));
        one_request_us.push_back(elapsed_us(t0));
        id = next;
        // The same by cancel, wait for the cancelled report, then place.
        const std::uint64_t after = id + 1;
        t0 = std::chrono::steady_clock::now();
        REQUIRE(f.gateway->cancel(0, exec::client_order_id{id}, wall_ns()) ==
                exec::gateway_error::none);
        REQUIRE(f.await(exec::exec_kind::cancelled, id));
        REQUIRE(f.gateway->submit(bid(after, 100 + static_cast<std::int64_t>(after % 2)),
                                  wall_ns()) == exec::gateway_error::none);
        REQUIRE(f.await(exec::exec_kind::ack, after));
        two_requests_us.push_back(elapsed_us(t0));
        id = after;
    }
    const auto report = [](const char* what, std::vector<std::int64_t>& v) {
        std::sort(v.begin(), v.end());
        std::printf("%s: p50 %lld us, p99 %lld us (n=%zu)\n", what,
                    static_cast<long long>(v[v.size() / 2]),
                    static_cast<long long>(v[v.size() * 99 / 100]), v.size());
    };
    report("replace by order.cancelReplace, decision to new ack", one_request_us);
    report("replace by cancel, cancelled, place, decision to new ack", two_requests_us);
    CHECK(f.gateway->counters().replaces_sent.load() == rounds);
}
