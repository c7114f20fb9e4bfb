// `quoter run --mode live` against quoter-venue with small request limits: the venue counts
// request weight per minute and new orders per 10 s as Binance does (fixed windows of the UTC
// clock) and refuses what goes over with 429, so its peaks say whether quoter ever sent more than
// the account may. A fast market makes quoter want more orders than the limit allows; the first
// case holds quoter's limiter to the venue's limits, the second tells quoter a larger one than
// the venue enforces, and the venue catches it. USD-M futures (REST) is held to its limits the
// same way.
#include "live_test_support.hpp"
#include "net/venue_process.hpp"
#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using quoter::net::testing::venue_process;
using namespace quoter::test::live;

constexpr int venue_weight_limit = 300;
constexpr int venue_order_limit_10s = 10;

/// The venue: one symbol moving 50 times a second (quoter wants a new quote on most moves),
/// with small limits (of the spot or the futures API).
venue_process limited_venue(bool futures = false) {
    if (futures) {
        return venue_process({"--symbols", "BTCUSDT", "--rate-hz", "50", "--seed", "48",
                              "--futures", "--futures-weight-limit",
                              std::to_string(venue_weight_limit), "--futures-order-limit-10s",
                              std::to_string(venue_order_limit_10s)});
    }
    return venue_process({"--symbols", "BTCUSDT", "--rate-hz", "50", "--seed", "47",
                          "--weight-limit", std::to_string(venue_weight_limit), "--order-limit-10s",
                          std::to_string(venue_order_limit_10s)});
}

/// A live configuration at the venue (spot, or USD-M futures); exchange_limits: the [exchange]
/// rate-limit lines. The API error storm trigger keeps its default (five errors kill) unless
/// storm_trigger is false.
std::string limited_config(const venue_process& venue, const std::string& exchange_limits,
                           bool futures = false, bool storm_trigger = true) {
    return "[engine]\nmode = \"live\"\nmarket = \"" +
           std::string(futures ? "usdm_futures" : "spot") +
           "\"\nsymbol = \"BTCUSDT\"\ntestnet = true\n\n[exchange]\n" + exchange_limits +
           (futures ? "\n[exchange.usdm_futures_testnet]\n" : "\n[exchange.spot_testnet]\n") +
           "rest_url = \"" + venue.http_url() + "\"\nws_url = \"" + venue.ws_url() +
           "\"\nws_api_url = \"" + venue.ws_url() + (futures ? "/ws-fapi/v1" : "/ws-api/v3") +
           "\"\n\n[strategy.linear]\nspread_bps = 1.0\n\n"
           // Every move of the mid is a new quote.
           "[quotes]\nrefresh_tolerance_bps = 0.0\n" +
           (storm_trigger ? std::string() : "\n[risk.triggers]\napi_error_storm_count = 0\n");
}

/// The number before `label` in text ("3 answered 429" -> 3), or -1.
long long count_before(const std::string& text, const std::string& label) {
    const std::size_t at = text.find(" " + label);
    if (at == std::string::npos || at == 0) {
        return -1;
    }
    const std::size_t start = text.find_last_of(" :", at - 1);
    return std::atoll(text.c_str() + (start == std::string::npos ? 0 : start + 1));
}

/// Runs quoter until the venue's counter has passed above, then stops it; what it printed (exit
/// summary, alerts). By default: until the venue accepted more than one 10 s window's worth of
/// orders, so that quoter has run into the limit at least once. The stop must be clean (exit 0)
/// even right after the venue's order-count 429: that 429 holds back new orders, not the stop's
/// cancels and queries.
std::string run_until_limited(const fs::path& config, venue_stats& stats,
                              const char* counter = "orders_placed",
                              long long above = venue_order_limit_10s + 2) {
    auto quoter = start_live_quoter(config, "app-live-rate-limit");
    CHECK(stats.wait_for(
              counter, [above](long long n) { return n > above; }, 40s) > above);
    quoter.signal(SIGTERM);
    const int code = quoter.wait(40s);
    INFO(quoter.out() << quoter.err());
    REQUIRE(code == 0);
    // Both streams: alerts (a kill among them) go to stderr.
    return quoter.out() + quoter.err();
}

} // namespace

TEST_CASE("live: quoter keeps to the venue's request limits; the venue catches a client that "
          "does not",
          "[app][venue][live][rate_limit]") {
    SECTION("limiter told the venue's limits: peaks within them, no over-limit 429") {
        venue_process venue = limited_venue();
        quoter::test::temp_dir dir("app-live-rate-limit");
        const fs::path config = write_config(
            dir, limited_config(venue, "weight_limit_1m = " + std::to_string(venue_weight_limit) +
                                           "\norder_limit_10s = " +
                                           std::to_string(venue_order_limit_10s) + "\n"));
        venue_stats stats(venue);
        const std::string out = run_until_limited(config, stats);
        const std::string counters = stats.read();
        INFO(out << counters);
        CHECK(stats.get("peak_orders_10s") >= 1);
        CHECK(stats.get("peak_orders_10s") <= venue_order_limit_10s);
        CHECK(stats.get("peak_weight_1m") <= venue_weight_limit);
        CHECK(stats.get("order_limit_answers") == 0);
        CHECK(stats.get("weight_limit_answers") == 0);
        CHECK(stats.get("answers_429") == 0);
        // quoter wanted more than it sent: its limiter held requests back.
        CHECK(summary_count(out, "orders") >= 1);
        CHECK(summary_count(out, "rate limits:") > 0);
        CHECK(count_before(out, "answered 429") == 0);
        // Held back is throttled, not an API error: the storm trigger (five) never killed.
        CHECK(out.find("api_error_storm") == std::string::npos);
        CHECK(out.find("open orders at stop: none") != std::string::npos);
    }

    SECTION("limiter told ten times the venue's order limit: the venue refuses the excess") {
        venue_process venue = limited_venue();
        quoter::test::temp_dir dir("app-live-rate-limit");
        const fs::path config = write_config(
            dir, limited_config(
                     venue,
                     "weight_limit_1m = " + std::to_string(venue_weight_limit) +
                         "\norder_limit_10s = " + std::to_string(10 * venue_order_limit_10s) + "\n",
                     false, false));
        venue_stats stats(venue);
        // The venue's 429s are API errors: the storm trigger is off so that quoter keeps
        // sending into them. Until the venue refused an order: the windows are fixed 10 s of the
        // clock, so a burst of accepted orders may straddle two of them without filling either.
        const std::string out = run_until_limited(config, stats, "order_limit_answers", 0);
        const std::string counters = stats.read();
        INFO(out << counters);
        // The venue never lets more through than its limit, and counts what it refused.
        CHECK(stats.get("peak_orders_10s") == venue_order_limit_10s);
        CHECK(stats.get("order_limit_answers") >= 1);
        CHECK(count_before(out, "answered 429") >= 1);
        // Every order was cancelled and confirmed before the exit, 429 or not.
        CHECK(out.find("open orders at stop: none") != std::string::npos);
        CHECK(stats.get("requests_in_backoff") == 0);
        CHECK(stats.get("answers_418") == 0);
    }

    SECTION("limiter told ten times the venue's request weight: its 429 is waited out, so the "
            "venue, which bans a client that sends again before the 429 ends, never does") {
        // A request weight the first orders use up.
        constexpr int small_weight_limit = 30; // the reconciliation takes 28
        venue_process venue({"--symbols", "BTCUSDT", "--rate-hz", "50", "--seed", "47",
                             "--weight-limit", std::to_string(small_weight_limit),
                             "--order-limit-10s", std::to_string(venue_order_limit_10s)});
        quoter::test::temp_dir dir("app-live-rate-limit");
        const fs::path config = write_config(
            dir, limited_config(venue,
                                "weight_limit_1m = " + std::to_string(10 * small_weight_limit) +
                                    "\norder_limit_10s = " + std::to_string(venue_order_limit_10s) +
                                    "\n",
                                false, false));
        venue_stats stats(venue);
        auto quoter = start_live_quoter(config, "app-live-rate-limit");
        CHECK(stats.wait_for(
                  "weight_limit_answers", [](long long n) { return n > 0; }, 40s) > 0);
        // Some time inside the backoff, which lasts to the end of the venue's minute.
        std::this_thread::sleep_for(2s);
        quoter.signal(SIGTERM);
        // The stop's cancels wait for the backoff too: the run may end before the venue
        // confirms them (exit 1), never with a ban.
        const int code = quoter.wait(40s);
        INFO(quoter.out() << quoter.err() << stats.read());
        CHECK((code == 0 || code == 1));
        CHECK(stats.get("weight_limit_answers") >= 1);
        CHECK(stats.get("requests_in_backoff") == 0);
        CHECK(stats.get("answers_418") == 0);
        CHECK(count_before(quoter.out(), "answered 418") == 0);
    }
}

TEST_CASE("live futures: quoter keeps to the venue's request limits",
          "[app][venue][live][rate_limit]") {
    venue_process venue = limited_venue(true);
    quoter::test::temp_dir dir("app-live-rate-limit");
    const fs::path config = write_config(
        dir,
        limited_config(venue,
                       "weight_limit_1m = " + std::to_string(venue_weight_limit) +
                           "\norder_limit_10s = " + std::to_string(venue_order_limit_10s) + "\n",
                       true));
    venue_stats stats(venue);
    const std::string out = run_until_limited(config, stats, "futures_orders_placed");
    const std::string counters = stats.read();
    INFO(out << counters);
    CHECK(stats.get("futures_peak_orders_10s") >= 1);
    CHECK(stats.get("futures_peak_orders_10s") <= venue_order_limit_10s);
    CHECK(stats.get("futures_peak_weight_1m") <= venue_weight_limit);
    CHECK(stats.get("futures_order_limit_answers") == 0);
    CHECK(stats.get("futures_weight_limit_answers") == 0);
    CHECK(stats.get("futures_answers_429") == 0);
    CHECK(summary_count(out, "rate limits:") > 0);
    CHECK(count_before(out, "answered 429") == 0);
    CHECK(out.find("api_error_storm") == std::string::npos);
    CHECK(out.find("open orders at stop: none") != std::string::npos);
}
