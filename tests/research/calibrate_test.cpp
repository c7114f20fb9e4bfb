// Calibration from captures: the decimal grid, the volatility and the intensity fit on
// observations with known answers.
#include "quoter/research/calibrate.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <string>

using namespace quoter;
using research::calibrator;

TEST_CASE("decimal text in units of 1e-8, both ways", "[research][calibrate]") {
    std::uint64_t u = 0;
    REQUIRE(research::parse_e8("61837.63000000", u));
    CHECK(u == 6'183'763'000'000ULL);
    REQUIRE(research::parse_e8("0.00001", u));
    CHECK(u == 1000);
    CHECK_FALSE(research::parse_e8("1.2.3", u));
    CHECK_FALSE(research::parse_e8("0.000000001", u));
    CHECK_FALSE(research::parse_e8("", u));
    CHECK(research::format_e8(1'000'000) == "0.01");
    CHECK(research::format_e8(1000) == "0.00001");
    CHECK(research::format_e8(100'000'000) == "1");
    CHECK(research::format_e8(250'000'000) == "2.5");
}

TEST_CASE("calibration recovers the tick, step, volatility, A and k it was built with",
          "[research][calibrate]") {
    // A market on a 0.01 grid with a one-tick spread; the mid does +/- 0.5 every second
    // (sigma = 0.5 per sqrt(s)); market orders arrive at 2/s, and an order's depth beyond the
    // touch is exponential with rate k = 40 per price unit, on whole ticks.
    constexpr double a = 2.0;
    constexpr double k = 40.0;
    std::mt19937_64 rng(7);
    std::exponential_distribution<double> gap(a);
    std::exponential_distribution<double> extra(k);
    std::bernoulli_distribution coin(0.5);
    calibrator cal;
    cal.set_symbol("TEST");
    cal.begin_file();
    std::int64_t mid_cents_x2 = 2 * 10'000'00 + 1; // mid 10000.005: bid 10000.00, ask 10000.01
    double t = 0.0;
    double next_move = 1.0;
    std::int64_t trade_ms = 0;
    const auto ticker = [&](double at) {
        const std::int64_t bid = (mid_cents_x2 - 1) / 2;
        const auto price = [](std::int64_t cents) {
            return std::to_string(cents / 100) + "." + (cents % 100 < 10 ? "0" : "") +
                   std::to_string(cents % 100);
        };
        cal.on_line(static_cast<core::timestamp_ns>(at * 1e9));
        cal.on_ticker(static_cast<core::timestamp_ns>(at * 1e9), price(bid), "1.00030",
                      price(bid + 1), "0.00020");
    };
    ticker(0.0);
    const double end = 4000.0;
    while (t < end) {
        t += gap(rng);
        while (next_move <= t && next_move < end) {
            mid_cents_x2 += coin(rng) ? 100 : -100;
            ticker(next_move);
            next_move += 1.0;
        }
        if (t >= end) {
            break;
        }
        const bool sell = coin(rng);
        const std::int64_t bid = (mid_cents_x2 - 1) / 2;
        const auto ticks_beyond = static_cast<std::int64_t>(std::floor(extra(rng) / 0.01));
        const std::int64_t cents = sell ? bid - ticks_beyond : bid + 1 + ticks_beyond;
        const std::string price = std::to_string(cents / 100) + "." +
                                  (cents % 100 < 10 ? "0" : "") + std::to_string(cents % 100);
        cal.on_line(static_cast<core::timestamp_ns>(t * 1e9));
        cal.on_trade(static_cast<core::timestamp_ns>(t * 1e9), ++trade_ms, price, "0.00150", sell);
    }
    cal.on_line(static_cast<core::timestamp_ns>(end * 1e9));
    const auto fitted = cal.finish({});
    REQUIRE(fitted.has_value());
    const auto& c = *fitted;
    CHECK(c.symbol == "TEST");
    CHECK(c.tick_text == "0.01");
    CHECK(c.step_text == "0.0001");
    CHECK(c.mean_spread == Approx(0.01));
    CHECK(c.sigma_abs_per_sqrt_s == Approx(0.5).epsilon(0.02));
    CHECK(c.sigma_rel_per_sqrt_s == Approx(0.5 / 10'000.0).epsilon(0.05));
    // An order's depth is half a tick plus m whole ticks with P(m >= j) = exp(-k 0.01 j), so
    // the orders reaching delta = 0.01 j arrive at a exp(-k delta): A = a.
    CHECK(c.k_per_price_unit == Approx(k).epsilon(0.1));
    CHECK(c.a_per_s == Approx(a).epsilon(0.15));
    CHECK(c.fit_r2 > 0.95);
}

TEST_CASE("calibration says what is missing", "[research][calibrate]") {
    calibrator empty;
    const auto none = empty.finish({});
    REQUIRE_FALSE(none.has_value());
    CHECK(none.error().find("bookTicker") != std::string::npos);
}

TEST_CASE("a calibration's market takes the measured price, volatility, spread and order flow",
          "[research][calibrate]") {
    sim::market_config configured;
    configured.process = sim::price_process::random_walk;
    configured.fill_probability = sim::fill_probability_model::linear;
    configured.informed_share = 0.25;
    research::calibration fit;
    fit.first_mid = 61837.635;
    fit.sigma_rel_per_sqrt_s = 0.0001;
    fit.sigma_abs_per_sqrt_s = 6.2;
    fit.median_spread = 0.03;
    fit.a_per_s = 2.5;
    fit.k_per_price_unit = 0.4;
    fit.tick_size = 0.01;

    const sim::market_config m = research::fitted_market(fit, configured, 0.01);
    CHECK(m.initial_mid_price == 61837.635);
    CHECK(m.gbm_sigma_per_sqrt_year == Approx(0.0001 * std::sqrt(365.0 * 24 * 3600)));
    CHECK(m.walk_sigma_per_sqrt_s == 6.2);
    CHECK(m.market_spread_ticks == Approx(3.0));
    CHECK(m.order_flow_a_per_s == 2.5);
    CHECK(m.order_flow_k_per_price_unit == 0.4);
    // What a calibration does not measure stays as configured.
    CHECK(m.process == sim::price_process::random_walk);
    CHECK(m.fill_probability == sim::fill_probability_model::linear);
    CHECK(m.informed_share == 0.25);
    // The fragment's [market] keys are the same numbers.
    const std::string toml = research::calibration_toml(fit, {"a.gz"});
    CHECK(toml.find("start_price = 61837.635\n") != std::string::npos);
    CHECK(toml.find("a_per_s = 2.5\n") != std::string::npos);
}
