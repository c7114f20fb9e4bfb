// quoting_strategy: estimators wired to the models, with fallbacks until they are ready.
#include "quoter/strategy/quoting_strategy.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <random>

using namespace quoter;
using namespace quoter::strategy;

namespace {

core::symbol_spec test_spec() {
    const auto spec = core::symbol_spec::from_text(
        {.name = "TESTUSDT", .tick_size = "0.01", .step_size = "0.001", .min_notional = "5"});
    REQUIRE(spec.has_value());
    return *spec;
}

} // namespace

TEST_CASE("no quotes before the first valid book", "[strategy][quoting_strategy]") {
    const auto spec = test_spec();
    quoting_strategy strategy({}, spec);
    CHECK(strategy.quote(0, core::qty{0}, 1e4).status == quote_status::invalid_book);
    strategy.on_book(0, core::price{10001}, core::price{10000}); // crossed: ignored
    CHECK(strategy.quote(0, core::qty{0}, 1e4).status == quote_status::invalid_book);
    strategy.on_trade(0, core::price{10000}); // no mid yet: ignored
    const auto quotes =
        strategy.on_book_update(0, core::price{9999}, core::price{10001}, core::qty{0}, 1e4);
    CHECK(quotes.status == quote_status::ok);
    CHECK(quotes.any());
}

TEST_CASE("a spread multiplier widens the model's half spread, for the common shape and the "
          "general path alike",
          "[strategy][quoting_strategy]") {
    const auto spec = test_spec();
    for (const std::uint32_t levels : {1U, 2U}) {
        CAPTURE(levels);
        strategy_config config;
        config.levels.count = levels; // 1: the common shape's inline path
        quoting_strategy strategy(config, spec);
        strategy.on_book(0, core::price{99'990}, core::price{100'010});
        const quote_set plain = strategy.quote(0, core::qty{0}, 1e5);
        strategy.set_spread_multiplier(3.0);
        const quote_set wide = strategy.quote(0, core::qty{0}, 1e5);
        strategy.set_spread_multiplier(1.0);
        const quote_set again = strategy.quote(0, core::qty{0}, 1e5);
        REQUIRE(plain.status == quote_status::ok);
        CHECK(wide.model.half_spread == 3.0 * plain.model.half_spread);
        CHECK(wide.levels[0].bid_price < plain.levels[0].bid_price);
        CHECK(wide.levels[0].ask_price > plain.levels[0].ask_price);
        CHECK(again.levels[0].bid_price == plain.levels[0].bid_price);
        CHECK(again.levels[0].ask_price == plain.levels[0].ask_price);
    }
}

TEST_CASE("the volatility estimate replaces the configured sigma once ready",
          "[strategy][quoting_strategy]") {
    const auto spec = test_spec();
    for (const auto kind : {volatility_kind::realized, volatility_kind::ewma}) {
        CAPTURE(to_string(kind));
        strategy_config config;
        config.model = model_kind::avellaneda_stoikov;
        config.volatility.sigma_per_sqrt_s = 1e-4;
        config.estimators.volatility = kind;
        config.estimators.realized.min_samples = 30;
        config.estimators.ewma.min_samples = 30;
        quoting_strategy strategy(config, spec);

        std::mt19937_64 rng(17);
        std::normal_distribution<double> shock(0.0, 5.0);
        core::timestamp_ns time = 0;
        double mid_ticks = 10'000.0;
        quote_set quotes;
        // 250 ms updates: a return per second, ready after 30 s.
        for (int i = 0; i < 4 * 29; ++i, time += 250 * core::ns_per_ms) {
            mid_ticks += shock(rng) / 2.0;
            const auto bid = static_cast<std::int64_t>(std::floor(mid_ticks));
            quotes = strategy.on_book_update(time, core::price{bid}, core::price{bid + 1},
                                             core::qty{0}, 1e4);
            REQUIRE(quotes.status == quote_status::ok);
        }
        CHECK_FALSE(strategy.volatility_ready());
        CHECK_FALSE(quotes.model.sigma_estimated);
        CHECK(quotes.model.sigma_per_sqrt_s == 1e-4);
        for (int i = 0; i < 4 * 60; ++i, time += 250 * core::ns_per_ms) {
            mid_ticks += shock(rng) / 2.0;
            const auto bid = static_cast<std::int64_t>(std::floor(mid_ticks));
            quotes = strategy.on_book_update(time, core::price{bid}, core::price{bid + 1},
                                             core::qty{0}, 1e4);
        }
        CHECK(strategy.volatility_ready());
        CHECK(quotes.model.sigma_estimated);
        CHECK(quotes.model.sigma_per_sqrt_s == strategy.volatility_per_sqrt_s());
        // About 5 ticks per second on a 100.00 mid: 5e-4 per sqrt(s), within sampling noise.
        CHECK(quotes.model.sigma_per_sqrt_s == Approx(5e-4).epsilon(0.35));
    }
}

TEST_CASE("trade prints feed the intensity used by GLFT", "[strategy][quoting_strategy]") {
    const auto spec = test_spec();
    strategy_config config;
    config.model = model_kind::glft;
    config.intensity.use_estimate = true;
    config.intensity.a_per_s = 1.0;
    config.intensity.k_per_tick = 0.5;
    config.estimators.intensity.decay_ns = 0;
    quoting_strategy strategy(config, spec);

    std::mt19937_64 rng(23);
    std::exponential_distribution<double> depth(0.25);
    std::bernoulli_distribution buy(0.5);
    core::timestamp_ns time = 0;
    strategy.on_book(time, core::price{9999}, core::price{10001}); // mid 10'000 ticks
    auto quotes = strategy.quote(time, core::qty{0}, 1e4);
    CHECK_FALSE(quotes.model.intensity_estimated);
    CHECK(quotes.model.k_per_tick == 0.5);

    // Four trades a second for 1000 s, at exponentially distributed depths (k = 0.25 per tick).
    for (int i = 0; i < 4'000; ++i) {
        time += 250 * core::ns_per_ms;
        const auto distance = static_cast<std::int64_t>(std::llround(depth(rng)));
        strategy.on_trade(time, core::price{buy(rng) ? 10'000 + distance : 10'000 - distance});
    }
    quotes = strategy.quote(time, core::qty{0}, 1e4);
    CHECK(quotes.model.intensity_estimated);
    // Rounding depths to whole ticks shifts A but keeps the exponential's k.
    CHECK(quotes.model.k_per_tick == Approx(0.25).epsilon(0.15));
    CHECK(quotes.model.a_per_s > 1.0);
    CHECK(strategy.intensity(time).fitted);

    // Retuning keeps the estimators.
    auto retuned = config;
    retuned.intensity.use_estimate = false;
    strategy.set_quoting_config(retuned);
    CHECK_FALSE(strategy.quote(time, core::qty{0}, 1e4).model.intensity_estimated);
    CHECK(strategy.intensity(time).fitted);
}
