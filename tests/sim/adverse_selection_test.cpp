// Informed order flow of the synthetic market (market_config::informed_share): adverse
// selection after a hit.
#include "quoter/sim/synthetic_market.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <cmath>

using namespace quoter;
using namespace quoter::sim;

namespace {

core::symbol_spec test_spec() {
    const auto spec = core::symbol_spec::from_text(
        {.name = "TESTUSDT", .tick_size = "0.01", .step_size = "0.001", .min_notional = ""});
    REQUIRE(spec.has_value());
    return *spec;
}

market_config frozen(double share, double impact_bps) {
    market_config config;
    config.gbm_sigma_per_sqrt_year = 0.0;
    config.initial_mid_price = 100.0;
    config.informed_share = share;
    config.informed_impact_bps = impact_bps;
    return config;
}

} // namespace

TEST_CASE("informed flow settings are validated", "[synthetic_market][adverse]") {
    CHECK(validate(frozen(0.3, 5.0)) == market_config_error::none);
    CHECK(validate(frozen(1.5, 5.0)) == market_config_error::bad_informed);
    CHECK(validate(frozen(-0.1, 5.0)) == market_config_error::bad_informed);
    CHECK(validate(frozen(0.3, -1.0)) == market_config_error::bad_informed);
    CHECK(validate(frozen(0.3, NAN)) == market_config_error::bad_informed);
    CHECK(describe(market_config_error::bad_informed).find("informed_share") !=
          std::string_view::npos);
}

TEST_CASE("an informed hit moves the mid against the filled quote", "[synthetic_market][adverse]") {
    synthetic_market market(frozen(1.0, 10.0), test_spec(), 7);
    CHECK(market.after_hit(core::side::buy)); // our bid was hit: the price falls
    CHECK(market.mid() == Approx(99.9));
    CHECK(market.after_hit(core::side::sell)); // our ask was lifted: the price rises
    CHECK(market.mid() == Approx(99.9 * 1.001));
}

TEST_CASE("without informed flow nothing moves and no random number is drawn",
          "[synthetic_market][adverse]") {
    synthetic_market with_calls(frozen(0.0, 10.0), test_spec(), 3);
    synthetic_market untouched(frozen(0.0, 10.0), test_spec(), 3);
    with_calls.step(core::ns_per_s / 10);
    untouched.step(core::ns_per_s / 10);
    for (int i = 0; i < 100; ++i) {
        CHECK_FALSE(with_calls.after_hit(i % 2 == 0 ? core::side::buy : core::side::sell));
    }
    CHECK(with_calls.mid() == 100.0);
    // The order-flow stream is where it was: the same fills follow.
    const std::array<core::quote_level, 1> quotes{
        core::quote_level{core::price{9990}, core::qty{1000}, core::price{10010}, core::qty{1000}}};
    for (int i = 0; i < 200; ++i) {
        std::array<level_fill, 1> a{};
        std::array<level_fill, 1> b{};
        (void)with_calls.sample_fills(quotes, a);
        (void)untouched.sample_fills(quotes, b);
        REQUIRE(a[0].bid_filled.lots() == b[0].bid_filled.lots());
        REQUIRE(a[0].ask_filled.lots() == b[0].ask_filled.lots());
    }
}

TEST_CASE("the informed share is the frequency of moves", "[synthetic_market][adverse]") {
    synthetic_market market(frozen(0.3, 1.0), test_spec(), 11);
    int moved = 0;
    constexpr int hits = 20000;
    for (int i = 0; i < hits; ++i) {
        moved += market.after_hit(i % 2 == 0 ? core::side::buy : core::side::sell) ? 1 : 0;
    }
    // Binomial(20000, 0.3): sd 65, so +/- 400 is over 6 sd.
    CHECK(std::abs(moved - 6000) < 400);
}
