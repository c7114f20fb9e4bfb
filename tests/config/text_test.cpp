#include "config/text.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace quoter::config::detail;

TEST_CASE("edit distance counts edits and neighbour swaps, ignoring case", "[text]") {
    CHECK(edit_distance("spread_bps", "spread_bps") == 0);
    CHECK(edit_distance("spred_bps", "spread_bps") == 1);  // deletion
    CHECK(edit_distance("spread_bsp", "spread_bps") == 1); // transposition
    CHECK(edit_distance("Spread_BPS", "spread_bps") == 0);
    CHECK(edit_distance("", "abc") == 3);
    CHECK(edit_distance("kitten", "sitting") == 3);
}

TEST_CASE("suggestions only for likely typos", "[text]") {
    const std::vector<std::string> keys{"spread_bps", "skew", "mode", "market"};
    CHECK(closest("spred_bps", keys) == "spread_bps");
    CHECK(closest("mdoe", keys) == "mode");
    CHECK(closest("markte", keys) == "market");
    CHECK_FALSE(closest("journal", keys).has_value());
    CHECK_FALSE(closest("xy", keys).has_value());
}

TEST_CASE("TOML literals", "[text]") {
    CHECK(quote("a\"b\\c\n") == "\"a\\\"b\\\\c\\n\"");
    CHECK(quote(std::string("\x01", 1)) == "\"\\u0001\"");
    CHECK(quote_short(std::string(50, 'x'), 10) == "\"xxxxxxxxxx\u2026\"");
    CHECK(float_literal(10.0) == "10.0");
    CHECK(float_literal(0.25) == "0.25");
    CHECK(float_literal(1e300) == "1e+300");
    CHECK(plain_number(10000.0) == "10000");
}

TEST_CASE("units follow the key name's suffix", "[text]") {
    CHECK(unit_from_name("spread_bps") == "bps");
    CHECK(unit_from_name("order_notional_pct") == "%");
    CHECK(unit_from_name("refresh_ms") == "ms");
    CHECK(unit_from_name("orders_per_s") == "1/s");
    CHECK(unit_from_name("horizon_s") == "s");
    CHECK(unit_from_name("slippage_ticks") == "ticks");
    CHECK(unit_from_name("gamma").empty());
    CHECK(env_suffix("exchange.spot.rest_url") == "EXCHANGE_SPOT_REST_URL");
}
