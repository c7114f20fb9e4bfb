// rest_client against quoter-venue on 127.0.0.1: depth snapshots and exchangeInfo over HTTP and
// HTTPS, keep-alive reuse, errors and timeouts, and snapshots consistent with the stream
// position (synthetic and, when the captures are present, replayed).
#include "quoter/net/rest_client.hpp"

#include "support/capture_data.hpp"
#include "venue_process.hpp"

#include "quoter/net/ws_feed.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

using namespace quoter::net;
using namespace std::chrono_literals;
using testing::run_until;
using testing::venue_process;

namespace {

rest_response fetch(io_loop& loop, rest_client& client, const std::string& target) {
    rest_response answer;
    bool done = false;
    client.get(target, [&](rest_response&& response) {
        answer = std::move(response);
        done = true;
    });
    REQUIRE(run_until(
        loop, [&] { return done; }, 15s));
    return answer;
}

std::size_t count_levels(std::string_view body, std::string_view side) {
    const std::size_t start = body.find("\"" + std::string(side) + "\":[");
    if (start == std::string_view::npos) {
        return 0;
    }
    const std::size_t end = body.find("]]", start);
    std::size_t levels = 0;
    for (std::size_t i = start; i < end; ++i) {
        levels += body[i] == '[' ? 1 : 0;
    }
    return levels - 1; // the outer bracket
}

} // namespace

TEST_CASE("REST: depth snapshots and exchangeInfo from the venue", "[rest_client][integration]") {
    const bool tls = GENERATE(false, true);
    CAPTURE(tls);
    venue_process venue({"--synthetic", "2", "--rate-hz", "20"}, tls);
    io_loop loop;
    rest_client client(loop, testing::venue_rest_config(venue));

    const rest_response spot = fetch(loop, client, "/api/v3/depth?symbol=SYN000USDT&limit=5");
    REQUIRE(spot.ok());
    CHECK(spot.status == 200);
    CHECK(spot.body.starts_with("{\"lastUpdateId\":"));
    CHECK(testing::json_int(spot.body, "lastUpdateId") >= 1'000'000);
    CHECK(count_levels(spot.body, "bids") == 5);
    CHECK(count_levels(spot.body, "asks") == 5);
    CHECK(spot.header("content-type") == "application/json");
    CHECK(spot.received_ns >= spot.sent_ns);
    REQUIRE(spot.body.capacity() >= spot.body.size() + receive_padding);
    for (std::size_t i = 0; i < receive_padding; ++i) {
        CHECK(spot.body.data()[spot.body.size() + i] == '\0');
    }

    const rest_response futures =
        fetch(loop, client, "/fapi/v1/depth?symbol=syn001usdt&limit=1000");
    REQUIRE(futures.ok());
    CHECK(testing::json_int(futures.body, "E") > 0);
    CHECK(count_levels(futures.body, "bids") >= 10); // the random walk keeps about 20

    const rest_response info = fetch(loop, client, "/api/v3/exchangeInfo");
    REQUIRE(info.ok());
    CHECK(info.body.find("\"symbol\":\"SYN000USDT\"") != std::string::npos);
    CHECK(info.body.find("\"tickSize\":\"0.01000000\"") != std::string::npos);
    CHECK(info.body.find("\"filterType\":\"NOTIONAL\"") != std::string::npos);
    const rest_response futures_info = fetch(loop, client, "/fapi/v1/exchangeInfo");
    REQUIRE(futures_info.ok());
    CHECK(futures_info.body.find("\"contractType\":\"PERPETUAL\"") != std::string::npos);

    const rest_response unknown_symbol = fetch(loop, client, "/api/v3/depth?symbol=NOPE");
    CHECK(unknown_symbol.error == rest_error::none);
    CHECK(unknown_symbol.status == 400);
    CHECK_FALSE(unknown_symbol.ok());
    CHECK(testing::json_int(unknown_symbol.body, "code") == -1121);
    CHECK(fetch(loop, client, "/api/v3/nothing").status == 404);

    // Sequential requests share one keep-alive connection.
    CHECK(client.connections() == 1);
    CHECK(client.pending() == 0);
}

TEST_CASE("REST: concurrent requests use the pool, in order", "[rest_client][integration]") {
    venue_process venue({"--synthetic", "3", "--rate-hz", "20"});
    io_loop loop;
    rest_config config = testing::venue_rest_config(venue);
    config.max_connections = 2;
    rest_client client(loop, config);
    std::vector<int> statuses;
    for (int i = 0; i < 6; ++i) {
        client.get("/api/v3/depth?symbol=SYN00" + std::to_string(i % 3) + "USDT&limit=10",
                   [&](rest_response&& response) { statuses.push_back(response.status); });
    }
    CHECK(client.pending() == 6);
    REQUIRE(run_until(
        loop, [&] { return statuses.size() == 6; }, 15s));
    CHECK(statuses == std::vector<int>(6, 200));
    CHECK(client.connections() == 2);
}

TEST_CASE("REST: failures are reported, not thrown", "[rest_client][integration]") {
    io_loop loop;

    SECTION("connection refused") {
        rest_config config;
        config.base_url = "http://127.0.0.1:1";
        rest_client client(loop, config);
        const rest_response response = fetch(loop, client, "/api/v3/ping");
        CHECK(response.error == rest_error::connect_failed);
        CHECK(response.status == 0);
    }

    SECTION("bad URL") {
        rest_config config;
        config.base_url = "wss://127.0.0.1:1";
        rest_client client(loop, config);
        CHECK(fetch(loop, client, "/").error == rest_error::bad_url);
    }

    SECTION("untrusted certificate") {
        venue_process venue({"--synthetic", "1"}, true);
        rest_config config = testing::venue_rest_config(venue);
        config.tls.extra_ca_file.clear();
        rest_client client(loop, config);
        const rest_response response = fetch(loop, client, "/api/v3/ping");
        CHECK(response.error == rest_error::tls_failed);
        CHECK(response.error_detail.find("certificate verify failed") != std::string::npos);
    }

    SECTION("delayed snapshot and request timeout") {
        venue_process venue({"--synthetic", "1"});
        rest_config config = testing::venue_rest_config(venue);
        config.request_timeout_ms = 400;
        rest_client client(loop, config);
        rest_client control_client(loop, testing::venue_rest_config(venue));
        REQUIRE(testing::control(loop, control_client, "/control/snapshot_delay?ms=150").ok());
        const rest_response delayed = fetch(loop, client, "/api/v3/depth?symbol=SYN000USDT");
        REQUIRE(delayed.ok());
        CHECK(delayed.received_ns - delayed.sent_ns >= 140'000'000);

        REQUIRE(testing::control(loop, control_client, "/control/snapshot_delay?ms=2000").ok());
        const rest_response late = fetch(loop, client, "/api/v3/depth?symbol=SYN000USDT");
        CHECK(late.error == rest_error::timed_out);
        CHECK(late.received_ns - late.sent_ns < 1'500'000'000);
        // The client recovers with a fresh connection.
        CHECK(fetch(loop, client, "/api/v3/ping").ok());
    }
}

namespace {

struct diff_ids {
    long long first = 0;
    long long last = 0;
};

/// True when a book built from the snapshot can continue with the diffs: some diff straddles
/// lastUpdateId + 1, or ends exactly at lastUpdateId (the next one then starts right after).
bool syncable(const std::vector<diff_ids>& diffs, long long last_update_id) {
    for (const auto& diff : diffs) {
        if ((diff.first <= last_update_id + 1 && last_update_id + 1 <= diff.last) ||
            diff.last == last_update_id) {
            return true;
        }
    }
    return false;
}

} // namespace

TEST_CASE("REST: snapshots are consistent with the stream position", "[rest_client][integration]") {
    io_loop loop;
    std::vector<diff_ids> diffs;
    feed_handlers handlers;
    handlers.on_message = [&](const ws_message& message) {
        if (message.payload.find("depthUpdate") != std::string_view::npos) {
            diffs.push_back(
                {testing::json_int(message.payload, "U"), testing::json_int(message.payload, "u")});
        }
    };

    SECTION("synthetic market") {
        venue_process venue({"--synthetic", "1", "--rate-hz", "50"});
        feed_config config;
        config.base_url = venue.ws_url();
        config.streams = {"syn000usdt@depth@100ms"};
        ws_feed feed(loop, config, handlers);
        REQUIRE(feed.start().has_value());
        rest_client client(loop, testing::venue_rest_config(venue));
        REQUIRE(run_until(
            loop, [&] { return diffs.size() >= 5; }, 15s));
        for (int i = 0; i < 3; ++i) {
            const rest_response snapshot =
                fetch(loop, client, "/api/v3/depth?symbol=SYN000USDT&limit=1000");
            REQUIRE(snapshot.ok());
            const long long last_update_id = testing::json_int(snapshot.body, "lastUpdateId");
            const std::size_t seen = diffs.size();
            REQUIRE(run_until(
                loop, [&] { return diffs.size() >= seen + 3; }, 10s));
            CAPTURE(last_update_id);
            CHECK(syncable(diffs, last_update_id));
        }
    }

    SECTION("replayed capture") {
        const std::string dir = quoter::test::require_captures({"spot-btcusdt-20240808.gz"});
        if (dir.empty()) {
            return;
        }
        const auto capture = std::filesystem::path(dir) / "spot-btcusdt-20240808.gz";
        venue_process venue({"--replay", capture.string(), "--speed", "20"});
        feed_config config;
        config.base_url = venue.ws_url();
        config.streams = {"btcusdt@depth@100ms", "btcusdt@bookTicker", "btcusdt@trade"};
        ws_feed feed(loop, config, handlers);
        REQUIRE(feed.start().has_value());
        rest_client client(loop, testing::venue_rest_config(venue));
        // Requested before the replay reaches the capture's snapshot: answered once it has.
        const rest_response first = fetch(loop, client, "/api/v3/depth?symbol=BTCUSDT&limit=1000");
        REQUIRE(first.ok());
        // The capture's 1000-level snapshot, plus the diffs replayed since (some remove levels).
        CHECK(count_levels(first.body, "bids") > 900);
        CHECK(count_levels(first.body, "bids") <= 1000);
        REQUIRE(run_until(
            loop, [&] { return diffs.size() >= 30; }, 20s));
        const rest_response later = fetch(loop, client, "/api/v3/depth?symbol=BTCUSDT&limit=1000");
        REQUIRE(later.ok());
        const long long first_id = testing::json_int(first.body, "lastUpdateId");
        const long long later_id = testing::json_int(later.body, "lastUpdateId");
        CAPTURE(first_id, later_id);
        CHECK(later_id > first_id);
        const std::size_t seen = diffs.size();
        REQUIRE(run_until(
            loop, [&] { return diffs.size() >= seen + 3; }, 10s));
        CHECK(syncable(diffs, first_id));
        CHECK(syncable(diffs, later_id));
        for (std::size_t i = 1; i < diffs.size(); ++i) {
            CHECK(diffs[i].first == diffs[i - 1].last + 1); // the capture's chain, unbroken
        }
    }
}
