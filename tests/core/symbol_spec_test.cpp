#include "quoter/core/symbol_spec.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <cmath>
#include <limits>
#include <string>

using namespace quoter::core;

namespace {

symbol_spec make_spec(std::string_view tick, std::string_view step, std::string_view notional) {
    const auto spec = symbol_spec::from_text(
        {.name = "BTCUSDT", .tick_size = tick, .step_size = step, .min_notional = notional});
    REQUIRE(spec.has_value());
    return *spec;
}

symbol_spec btcusdt() {
    return make_spec("0.01000000", "0.00001000", "5.00000000");
}

} // namespace

TEST_CASE("a spec derives precisions and units from exchangeInfo text", "[symbol_spec]") {
    const auto spec = btcusdt();
    CHECK(spec.name().view() == "BTCUSDT");
    CHECK(spec.price_decimals() == 2);
    CHECK(spec.qty_decimals() == 5);
    CHECK(spec.tick_units() == 1);
    CHECK(spec.step_units() == 1);
    CHECK(spec.min_notional_units() == 5'0000000); // 5 with 7 decimals
    CHECK(spec.tick_size() == Approx(0.01));
    CHECK(spec.step_size() == Approx(0.00001));

    const auto coarse = make_spec("0.05", "10", "");
    CHECK(coarse.price_decimals() == 2);
    CHECK(coarse.tick_units() == 5);
    CHECK(coarse.qty_decimals() == 0);
    CHECK(coarse.step_units() == 10);
    CHECK(coarse.min_notional_units() == 0);
}

TEST_CASE("invalid filters are rejected", "[symbol_spec]") {
    const auto make = [](std::string_view tick, std::string_view step, std::string_view notional) {
        return symbol_spec::from_text(
            {.name = "X", .tick_size = tick, .step_size = step, .min_notional = notional});
    };
    CHECK(make("0", "1", "").error() == spec_error::bad_tick_size);
    CHECK(make("-0.01", "1", "").error() == spec_error::bad_tick_size);
    CHECK(make("abc", "1", "").error() == spec_error::bad_tick_size);
    CHECK(make("0.01", "0.0", "").error() == spec_error::bad_step_size);
    CHECK(make("0.01", "1", "x").error() == spec_error::bad_min_notional);
    CHECK(make("0.000000001", "0.0000000001", "").error() == spec_error::too_precise);
    CHECK(make("0.01", "1", "0.001").error() == spec_error::bad_min_notional);
}

TEST_CASE("prices and quantities parse onto the tick and step grid", "[symbol_spec]") {
    const auto spec = btcusdt();
    CHECK(spec.parse_price("61737.63000000")->ticks() == 6173763);
    CHECK(spec.parse_qty("0.00100000")->lots() == 100);
    CHECK(spec.parse_qty("0.00000000")->lots() == 0);
    CHECK(spec.parse_price("61737.631").error() == decimal_error::too_many_decimals);
    CHECK(spec.parse_price("-1").error() == decimal_error::sign_not_allowed);
    CHECK(spec.parse_price("").error() == decimal_error::empty);

    const auto coarse = make_spec("0.05", "10", "");
    CHECK(coarse.parse_price("1.05")->ticks() == 21);
    CHECK(coarse.parse_price("1.07").error() == decimal_error::off_grid);
    CHECK(coarse.parse_qty("30")->lots() == 3);
    CHECK(coarse.parse_qty("35").error() == decimal_error::off_grid);
}

TEST_CASE("formatting uses the symbol's precision", "[symbol_spec]") {
    const auto spec = btcusdt();
    std::array<char, 48> buffer{};
    CHECK(spec.format_price(price{6173763}, buffer) == "61737.63");
    CHECK(spec.format_qty(qty{100}, buffer) == "0.00100");
    const auto coarse = make_spec("0.05", "10", "");
    CHECK(coarse.format_price(price{21}, buffer) == "1.05");
    CHECK(coarse.format_qty(qty{3}, buffer) == "30");
}

TEST_CASE("bids round down, asks round up, quantities round down", "[symbol_spec]") {
    const auto spec = btcusdt();
    CHECK(spec.round_bid(100.019).ticks() == 10001);
    CHECK(spec.round_ask(100.011).ticks() == 10002);
    CHECK(spec.round_nearest(100.016).ticks() == 10002);
    // On-grid values stay put despite binary floating-point noise.
    CHECK(spec.round_bid(100.00).ticks() == 10000);
    CHECK(spec.round_ask(100.00).ticks() == 10000);
    CHECK(spec.round_bid(0.29).ticks() == 29);
    CHECK(spec.round_ask(0.29).ticks() == 29);
    CHECK(spec.round_ask(61737.63).ticks() == 6173763);
    CHECK(spec.round_qty_down(0.0012345).lots() == 123);
    CHECK(spec.round_qty_down(0.003).lots() == 300);
    CHECK(spec.round_qty_down(-0.0012345).lots() == -124);

    const auto coarse = make_spec("0.05", "10", "");
    CHECK(coarse.round_bid(1.09).ticks() == 21);
    CHECK(coarse.round_ask(1.01).ticks() == 21);
    CHECK(coarse.round_qty_down(39.9).lots() == 3);

    // Out-of-range doubles saturate instead of invoking undefined behaviour.
    CHECK(spec.round_ask(1e300).ticks() == std::numeric_limits<std::int64_t>::max());
    CHECK(spec.round_bid(-1e300).ticks() == std::numeric_limits<std::int64_t>::min());
    CHECK(spec.round_bid(std::numeric_limits<double>::quiet_NaN()).ticks() == 0);
}

TEST_CASE("rounding is exact at large tick counts: bids never up, asks never down",
          "[symbol_spec][rounding]") {
    const auto spec = btcusdt();
    // 10^7 ticks (100000.00) and 0.005 tick off the grid on either side.
    CHECK(spec.round_bid(99'999.99995).ticks() == 9'999'999);
    CHECK(spec.round_ask(99'999.99995).ticks() == 10'000'000);
    CHECK(spec.round_bid(100'000.00005).ticks() == 10'000'000);
    CHECK(spec.round_ask(100'000.00005).ticks() == 10'000'001);
    CHECK(spec.round_bid(100'000.00).ticks() == 10'000'000);
    CHECK(spec.round_ask(100'000.00).ticks() == 10'000'000);
    // Quantities never round up to the next step either (10^7 lots = 100 BTC).
    CHECK(spec.round_qty_down(99.9999999).lots() == 9'999'999);
    CHECK(spec.round_qty_down(100.0).lots() == 10'000'000);

    // Every grid point up to 10^12 ticks, and the doubles right next to it: the rounded price,
    // converted back the way the grid point's text would be, sits on the correct side.
    const auto grid = [](std::int64_t ticks) { return static_cast<double>(ticks) / 100.0; };
    for (std::int64_t ticks = 1; ticks <= 1'000'000'000'000; ticks = ticks * 3 + 7) {
        const double on = grid(ticks);
        const double below = std::nextafter(on, 0.0);
        const double above = std::nextafter(on, 1e300);
        INFO("ticks " << ticks);
        CHECK(spec.round_bid(on).ticks() == ticks);
        CHECK(spec.round_ask(on).ticks() == ticks);
        CHECK(spec.round_bid(below).ticks() == ticks - 1);
        CHECK(spec.round_ask(above).ticks() == ticks + 1);
        const double mid_gap = on + 0.005;
        CHECK(grid(spec.round_bid(mid_gap).ticks()) <= mid_gap);
        CHECK(grid(spec.round_ask(mid_gap).ticks()) >= mid_gap);
        CHECK(spec.round_ask(mid_gap).ticks() - spec.round_bid(mid_gap).ticks() <= 1);
    }
}

TEST_CASE("notional is exact and checked against the minimum", "[symbol_spec]") {
    const auto spec = btcusdt();
    const price p{6173763};                               // 61737.63
    CHECK(spec.notional_units(p, qty{100}) == 617376300); // 61.7376300 with 7 decimals
    CHECK(spec.notional(p, qty{100}) == Approx(61.73763));
    CHECK(spec.meets_min_notional(p, qty{9}));               // 5.556...
    CHECK_FALSE(spec.meets_min_notional(p, qty{8}));         // 4.939...
    CHECK(spec.meets_min_notional(price{500000}, qty{100})); // exactly 5.00000
    CHECK_FALSE(spec.meets_min_notional(price{499999}, qty{100}));
    CHECK(spec.notional_units(price{std::numeric_limits<std::int64_t>::max()}, qty{2}) ==
          std::numeric_limits<std::int64_t>::max());
}

TEST_CASE("fixed-point types keep prices and quantities apart", "[fixed_point]") {
    STATIC_REQUIRE(std::is_trivially_copyable_v<price>);
    STATIC_REQUIRE(std::is_trivially_copyable_v<qty>);
    STATIC_REQUIRE(!std::is_convertible_v<qty, price>);
    STATIC_REQUIRE(!std::is_convertible_v<std::int64_t, price>);
    CHECK(price{10} + 5 == price{15});
    CHECK(price{10} - price{4} == 6);
    CHECK(qty{3} + qty{4} == qty{7});
    CHECK(-qty{3} == qty{-3});
    CHECK(opposite(side::buy) == side::sell);
    CHECK(sign(side::sell) == -1);
    STATIC_REQUIRE(std::is_trivially_copyable_v<symbol_name>);
    CHECK(symbol_name("ETHUSDT") == symbol_name("ETHUSDT"));
    CHECK(symbol_name(std::string(40, 'A')).view().size() == symbol_name::capacity);
}

namespace {

/// The definition the roundings implement, searched from scratch: the largest grid index whose
/// grid point's double is <= value (bid, quantity) or the smallest whose is >= value (ask).
std::int64_t reference_grid(const symbol_spec& spec, double value, bool price_grid, bool up) {
    const std::int64_t units = price_grid ? spec.tick_units() : spec.step_units();
    const int decimals = price_grid ? spec.price_decimals() : spec.qty_decimals();
    const double scale = std::pow(10.0, decimals);
    const auto point = [&](std::int64_t k) { return static_cast<double>(k * units) / scale; };
    auto k = static_cast<std::int64_t>(std::floor(value * scale / static_cast<double>(units))) - 2;
    while (point(k + 1) <= value) {
        ++k;
    }
    // k: the largest index with point(k) <= value.
    if (!up) {
        return k;
    }
    return point(k) == value ? k : k + 1;
}

/// xorshift64: a fixed stream of test values from a seed.
struct xorshift64 {
    std::uint64_t state;
    std::uint64_t operator()() noexcept {
        state ^= state << 13U;
        state ^= state >> 7U;
        state ^= state << 17U;
        return state;
    }
};

} // namespace

TEST_CASE("roundings agree with the exact grid search on and off the grid",
          "[symbol_spec][rounding]") {
    const std::array specs{btcusdt(), make_spec("0.05", "10", ""), make_spec("0.1", "0.001", ""),
                           make_spec("0.00001", "1", "")};
    xorshift64 next{88172645463325252ULL};
    for (const symbol_spec& spec : specs) {
        for (int i = 0; i < 20'000; ++i) {
            const double magnitude = std::pow(10.0, static_cast<double>(next() % 9) - 3.0);
            double value = magnitude * static_cast<double>(next() % 1'000'000) / 1e5;
            if (i % 3 == 0) { // a grid point written as a decimal, or one ulp beside it
                const double tick = spec.tick_size();
                value = static_cast<double>(static_cast<std::int64_t>(value / tick)) * tick;
                value = i % 2 == 0 ? std::nextafter(value, 0.0) : value;
            }
            INFO("value " << value << " tick " << spec.tick_size());
            CHECK(spec.round_bid(value).ticks() == reference_grid(spec, value, true, false));
            CHECK(spec.round_ask(value).ticks() == reference_grid(spec, value, true, true));
            CHECK(spec.round_qty_down(value).lots() == reference_grid(spec, value, false, false));
        }
    }
}

TEST_CASE("a quote's two sides round together as they round apart", "[symbol_spec][rounding]") {
    const std::array specs{btcusdt(), make_spec("0.05", "10", ""), make_spec("0.1", "0.001", ""),
                           make_spec("0.00001", "1", "")};
    const std::array odd{0.0,
                         -0.0,
                         -100.0,
                         1e300,
                         -1e300,
                         0x1p50,
                         std::numeric_limits<double>::infinity(),
                         std::numeric_limits<double>::quiet_NaN()};
    xorshift64 next{2463534242ULL};
    for (const symbol_spec& spec : specs) {
        const auto value = [&](int i) {
            if (i % 17 == 0) {
                return odd[next() % odd.size()];
            }
            const double magnitude = std::pow(10.0, static_cast<double>(next() % 9) - 3.0);
            const double v = magnitude * static_cast<double>(next() % 1'000'000) / 1e5;
            if (i % 3 == 0) { // a grid point written as a decimal, or one ulp beside it
                const double on =
                    static_cast<double>(static_cast<std::int64_t>(v / spec.tick_size())) *
                    spec.tick_size();
                return i % 2 == 0 ? std::nextafter(on, 0.0) : on;
            }
            return v;
        };
        for (int i = 0; i < 20'000; ++i) {
            const double bid = value(i);
            const double ask = i % 5 == 0 ? bid : value(i + 1);
            INFO("bid " << bid << " ask " << ask << " tick " << spec.tick_size());
            const auto [bid_on_grid, ask_on_grid] = spec.round_bid_ask(bid, ask);
            CHECK(bid_on_grid == spec.round_bid(bid));
            CHECK(ask_on_grid == spec.round_ask(ask));
        }
    }
}
