// binance_spot_gateway with an Ed25519 key against the real quoter-venue binary: session.logon
// once per connection, then unsigned requests and userDataStream.subscribe; a key the venue does
// not know is refused and nothing else is sent. Key pairs are made by the test (OpenSSL).
#include "ed25519_test_keys.hpp"
#include "venue_process.hpp"

#include "gateway_test_support.hpp"

#include "quoter/exec/binance_spot_gateway.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

using namespace quoter;
using namespace std::chrono_literals;

namespace {

using namespace gateway_test;

exec::binance_spot_gateway_config ed25519_config(const net::testing::venue_process& venue,
                                                 const std::string& private_pem) {
    exec::binance_spot_gateway_config config;
    config.url = venue.ws_url() + "/ws-api/v3";
    config.api_key = std::string(api_key);
    config.key_type = exec::api_key_type::ed25519;
    config.private_key = private_pem;
    config.id_tag = "edt";
    config.start_us = wall_ns() / 1'000;
    config.request_timeout_ms = 2'000;
    return config;
}

exec::order_request order(std::uint64_t id, bool crossing) {
    exec::order_request out;
    out.id = exec::client_order_id{id};
    out.side = core::side::buy;
    out.post_only = !crossing;
    out.tif = crossing ? exec::time_in_force::ioc : exec::time_in_force::gtc;
    // Crossing: 1,000,000.00, above any synthetic ask; resting: 1.00, below any bid.
    out.price = crossing ? core::price{100'000'000} : core::price{100};
    out.qty = crossing ? core::qty{100} : core::qty{1000};
    return out;
}

} // namespace

TEST_CASE("an Ed25519 key logs on once per connection, then places, cancels and receives user "
          "data without per-request signatures",
          "[binance_gateway][ed25519][tsan]") {
    const testing::ed25519_test_keys keys;
    net::testing::venue_process venue(
        {"--symbols", "BTCUSDT", "--rate-hz", "5", "--api-ed25519-key", keys.public_file()});
    const std::array symbols{btcusdt()};
    exec::binance_spot_gateway gateway(ed25519_config(venue, keys.private_pem()), symbols);
    recording_sink sink;
    gateway.set_report_sink(&sink);
    gateway.start();
    REQUIRE(poll_until(
        gateway, [&] { return gateway.ready() && gateway.user_stream_subscribed(); }, 10s));
    CHECK(gateway.counters().logons.load() == 1);
    CHECK(gateway.counters().logon_failures.load() == 0);

    // A resting order: acknowledged, then cancelled.
    REQUIRE(gateway.submit(order(1, false), wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::ack) == 1; }, 5s));
    REQUIRE(gateway.cancel(0, exec::client_order_id{1}, wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::cancelled) == 1; }, 5s));

    // An IOC that trades: its fill comes with the trade id of the user stream's executionReport.
    REQUIRE(gateway.submit(order(2, true), wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::fill) == 1; }, 5s));
    REQUIRE(poll_until(
        gateway, [&] { return gateway.counters().balance_updates.load() >= 1; }, 5s));
    CHECK(gateway.counters().user_events.load() >= 3);
    for (const auto& r : sink.reports) {
        if (r.kind == exec::exec_kind::fill) {
            CHECK(r.trade_id >= 1);
        }
    }

    // The venue: one logon, one subscription, every request authenticated by the session (none
    // refused for a missing key or signature), no signature failure, nothing left open.
    net::io_loop loop;
    net::rest_client client(loop, net::testing::venue_rest_config(venue));
    const std::string stats = net::testing::control(loop, client, "/control/stats").body;
    CHECK(net::testing::json_int(stats, "logons") == 1);
    CHECK(net::testing::json_int(stats, "user_subscriptions") == 1);
    CHECK(net::testing::json_int(stats, "unauthenticated_requests") == 0);
    CHECK(net::testing::json_int(stats, "ws_api_signature_failures") == 0);
    CHECK(net::testing::json_int(stats, "open_orders") == 0);
    CHECK(net::testing::json_int(stats, "trades") == 1);

    // A dropped connection: the next one logs on again before anything else.
    REQUIRE(net::testing::control(loop, client, "/control/drop").status == 200);
    REQUIRE(poll_until(
        gateway, [&] { return gateway.counters().logons.load() == 2 && gateway.ready(); }, 10s));
    REQUIRE(gateway.submit(order(3, false), wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::ack) == 2; }, 5s));
    REQUIRE(gateway.cancel_all(0, wall_ns()) == exec::gateway_error::none);
    REQUIRE(poll_until(
        gateway, [&] { return sink.count(exec::exec_kind::cancelled) == 2; }, 5s));
    gateway.stop();
    const std::string after = net::testing::control(loop, client, "/control/stats").body;
    CHECK(net::testing::json_int(after, "logons") == 2);
    CHECK(net::testing::json_int(after, "unauthenticated_requests") == 0);
    CHECK(net::testing::json_int(after, "open_orders") == 0);
    CHECK(sink.count(exec::exec_kind::reject) == 0);
    CHECK(sink.count(exec::exec_kind::unknown) == 0);
}

TEST_CASE("a wrong Ed25519 key is refused at logon: never ready, nothing else sent",
          "[binance_gateway][ed25519][tsan]") {
    const testing::ed25519_test_keys venue_keys;
    const testing::ed25519_test_keys other_keys; // not the account's key
    net::testing::venue_process venue(
        {"--symbols", "BTCUSDT", "--rate-hz", "5", "--api-ed25519-key", venue_keys.public_file()});
    const std::array symbols{btcusdt()};
    exec::binance_spot_gateway gateway(ed25519_config(venue, other_keys.private_pem()), symbols);
    recording_sink sink;
    gateway.set_report_sink(&sink);
    gateway.start();
    REQUIRE(poll_until(
        gateway, [&] { return gateway.counters().logon_failures.load() == 1; }, 10s));
    CHECK_FALSE(gateway.connected());
    CHECK_FALSE(gateway.ready());
    CHECK(gateway.submit(order(1, false), wall_ns()) == exec::gateway_error::disconnected);
    CHECK(gateway.cancel_all(0, wall_ns()) == exec::gateway_error::disconnected);
    gateway.stop();
    CHECK(gateway.counters().logons.load() == 0);
    CHECK(gateway.counters().sent.load() == 1); // the logon

    net::io_loop loop;
    net::rest_client client(loop, net::testing::venue_rest_config(venue));
    const std::string stats = net::testing::control(loop, client, "/control/stats").body;
    CHECK(net::testing::json_int(stats, "logons") == 0);
    CHECK(net::testing::json_int(stats, "ws_api_signature_failures") == 1);
    CHECK(net::testing::json_int(stats, "ws_api_requests") == 1); // the logon, nothing else
    CHECK(net::testing::json_int(stats, "place_requests") == 0);
}
