// The arrival-intensity fit recovers A and k from simulated trade flow, and says when it cannot.
#include "quoter/strategy/intensity_estimator.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <random>

using namespace quoter;
using namespace quoter::strategy;

namespace {

// Market orders arrive as a Poisson process of rate a_per_s; each reaches an exponentially
// distributed distance (rate k per tick) from the mid. A quote at distance delta is then hit at
// rate a_per_s * P(distance >= delta) = a_per_s * exp(-k * delta): exactly the model.
core::timestamp_ns simulate(intensity_estimator& estimator, std::mt19937_64& rng,
                            core::timestamp_ns start, double a_per_s, double k_per_tick,
                            double seconds) {
    std::exponential_distribution<double> gap(a_per_s);
    std::exponential_distribution<double> depth(k_per_tick);
    double t = 0.0;
    while (true) {
        t += gap(rng);
        if (t > seconds) {
            break;
        }
        estimator.record_trade(start + static_cast<core::timestamp_ns>(t * 1e9), depth(rng));
    }
    return start + static_cast<core::timestamp_ns>(seconds * 1e9);
}

} // namespace

TEST_CASE("the fit recovers A and k without forgetting", "[strategy][intensity]") {
    intensity_estimator_config config;
    config.decay_ns = 0;
    config.bucket_ticks = 1.0;
    config.bucket_count = 16;
    intensity_estimator estimator(config);
    std::mt19937_64 rng(42);
    const core::timestamp_ns start = 1'000 * core::ns_per_s;
    estimator.start(start);
    const auto end = simulate(estimator, rng, start, 2.0, 0.3, 5'000.0);
    const auto fit = estimator.estimate(end);
    REQUIRE(fit.fitted);
    CHECK(fit.a_per_s == Approx(2.0).epsilon(0.05));
    CHECK(fit.k_per_tick == Approx(0.3).epsilon(0.05));
    CHECK(fit.trades == Approx(10'000.0).epsilon(0.05));
}

TEST_CASE("the fit works with wide buckets and forgetting", "[strategy][intensity]") {
    intensity_estimator_config config;
    config.decay_ns = 600 * core::ns_per_s;
    config.bucket_ticks = 5.0;
    config.bucket_count = 12;
    intensity_estimator estimator(config);
    std::mt19937_64 rng(4242);
    const core::timestamp_ns start = 0;
    estimator.start(start);
    // k = 0.05 per tick: 5-tick buckets see the count fall by exp(-0.25) each.
    auto end = simulate(estimator, rng, start, 5.0, 0.05, 3'600.0);
    auto fit = estimator.estimate(end);
    REQUIRE(fit.fitted);
    CHECK(fit.a_per_s == Approx(5.0).epsilon(0.1));
    CHECK(fit.k_per_tick == Approx(0.05).epsilon(0.1));

    // The market changes; after a few decay times the fit follows.
    end = simulate(estimator, rng, end, 1.0, 0.2, 3'600.0);
    fit = estimator.estimate(end);
    REQUIRE(fit.fitted);
    CHECK(fit.a_per_s == Approx(1.0).epsilon(0.15));
    CHECK(fit.k_per_tick == Approx(0.2).epsilon(0.15));

    // Silence: the effective count decays below min_trades and the fit is withdrawn.
    CHECK_FALSE(estimator.estimate(end + 3'600 * core::ns_per_s).fitted);
}

TEST_CASE("no estimate until there is enough data", "[strategy][intensity]") {
    intensity_estimator_config config;
    config.min_trades = 50.0;
    intensity_estimator estimator(config);
    CHECK_FALSE(estimator.estimate(0).fitted);

    estimator.start(0);
    // Too few trades.
    for (int i = 0; i < 20; ++i) {
        estimator.record_trade(i * core::ns_per_s, static_cast<double>(i % 5));
    }
    auto fit = estimator.estimate(20 * core::ns_per_s);
    CHECK_FALSE(fit.fitted);
    CHECK(fit.a_per_s == 0.0);
    CHECK(fit.k_per_tick == 0.0);

    // Enough trades, but all in one bucket: no slope to fit.
    estimator.reset();
    estimator.start(0);
    for (int i = 0; i < 200; ++i) {
        estimator.record_trade(i * core::ns_per_ms, 0.5);
    }
    CHECK_FALSE(estimator.estimate(core::ns_per_s).fitted);

    // Every trade reaches the deepest bucket: the profile is flat, there is no decay to fit.
    estimator.reset();
    estimator.start(0);
    for (int i = 0; i < 300; ++i) {
        estimator.record_trade(i * core::ns_per_ms, 15.0);
    }
    CHECK_FALSE(estimator.estimate(core::ns_per_s).fitted);
}

TEST_CASE("distances are symmetric and clamp into the last bucket", "[strategy][intensity]") {
    intensity_estimator_config config;
    config.decay_ns = 0;
    config.bucket_count = 4;
    config.min_trades = 1.0;
    config.min_buckets = 2;
    intensity_estimator a(config);
    intensity_estimator b(config);
    a.start(0);
    b.start(0);
    // Counts at distance >= 0, 1, 2, 3 ticks: 8, 4, 2, 1 -> exactly k = ln 2, A = 8 / 10 s.
    const double distances[] = {0.2, 0.3, 0.4, 0.5, 1.5, 1.7, 2.5, 3.5};
    for (const double d : distances) {
        a.record_trade(core::ns_per_s, d);
        b.record_trade(core::ns_per_s, d == 3.5 ? -40.0 : -d);
    }
    const auto fa = a.estimate(10 * core::ns_per_s);
    const auto fb = b.estimate(10 * core::ns_per_s);
    REQUIRE(fa.fitted);
    CHECK(fa.k_per_tick == Approx(std::log(2.0)).epsilon(1e-12));
    CHECK(fa.a_per_s == Approx(0.8).epsilon(1e-12));
    CHECK(fb.k_per_tick == fa.k_per_tick);
    CHECK(fb.a_per_s == fa.a_per_s);
}

TEST_CASE("fits are refreshed at most once per refit interval", "[strategy][intensity]") {
    intensity_estimator_config config;
    config.decay_ns = 0;
    config.bucket_count = 4;
    config.min_trades = 1.0;
    config.min_buckets = 2;
    config.refit_interval_ns = 5 * core::ns_per_s;
    intensity_estimator estimator(config);
    estimator.start(0);
    // Cumulative counts 8, 4, 2, 1: k = ln 2.
    for (const double d : {0.2, 0.3, 0.4, 0.5, 1.5, 1.7, 2.5, 3.5}) {
        estimator.record_trade(core::ns_per_s, d);
    }
    REQUIRE(estimator.estimate(2 * core::ns_per_s).k_per_tick == Approx(std::log(2.0)));
    // Eight more trades at the mid flatten nothing until the interval has passed.
    for (int i = 0; i < 8; ++i) {
        estimator.record_trade(3 * core::ns_per_s, 0.1);
    }
    CHECK(estimator.estimate(4 * core::ns_per_s).k_per_tick == Approx(std::log(2.0)));
    // At 6 s (5 s after the fit's counts): 16, 4, 2, 1 -> a steeper profile.
    CHECK(estimator.estimate(6 * core::ns_per_s).k_per_tick > std::log(2.0) * 1.1);
}
