// Volatility estimators against direct computations over the same samples.
#include "quoter/strategy/volatility.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <vector>

using namespace quoter;
using namespace quoter::strategy;

namespace {

struct sampled_return {
    core::timestamp_ns time;
    core::duration_ns elapsed;
    double log_return;
};

// The sampling rule, restated: keep a mid when at least `interval` passed since the last kept
// one; each kept mid after the first makes a return.
class direct_sampler {
public:
    explicit direct_sampler(core::duration_ns interval) : interval_(interval) {}
    void update(core::timestamp_ns time, double mid) {
        if (!has_last_) {
            has_last_ = true;
            last_time_ = time;
            last_mid_ = mid;
            return;
        }
        if (time - last_time_ < interval_) {
            return;
        }
        samples.push_back({time, time - last_time_, std::log(mid / last_mid_)});
        last_time_ = time;
        last_mid_ = mid;
    }
    // sum(r^2) / sum(dt) over the returns with time > now - window, recomputed from scratch.
    [[nodiscard]] double variance_per_s(core::timestamp_ns now, core::duration_ns window) const {
        double squared = 0.0;
        core::duration_ns covered = 0;
        for (const auto& s : samples) {
            if (s.time > now - window) {
                squared += s.log_return * s.log_return;
                covered += s.elapsed;
            }
        }
        return covered > 0 ? squared / (static_cast<double>(covered) * 1e-9) : 0.0;
    }
    std::vector<sampled_return> samples;

private:
    core::duration_ns interval_;
    core::timestamp_ns last_time_ = 0;
    double last_mid_ = 0.0;
    bool has_last_ = false;
};

} // namespace

TEST_CASE("realized volatility equals a direct computation over the window", "[strategy][vol]") {
    realized_volatility_config config;
    config.window_ns = 60 * core::ns_per_s;
    config.sample_interval_ns = core::ns_per_s;
    config.min_samples = 5;
    realized_volatility vol(config);
    direct_sampler direct(config.sample_interval_ns);

    std::mt19937_64 rng(7);
    std::normal_distribution<double> shock(0.0, 3e-4);
    std::uniform_int_distribution<core::duration_ns> gap(50 * core::ns_per_ms,
                                                         2500 * core::ns_per_ms);
    core::timestamp_ns time = 1'700'000'000 * core::ns_per_s;
    double mid = 61'000.0;
    for (int i = 0; i < 5'000; ++i) {
        time += gap(rng);
        mid *= std::exp(shock(rng));
        vol.update(time, mid);
        direct.update(time, mid);
        const double expected = direct.variance_per_s(time, config.window_ns);
        REQUIRE(vol.variance_per_s() == Approx(expected).epsilon(1e-9).margin(1e-18));
    }
    CHECK(vol.ready());
    CHECK(vol.sample_count() <= vol.capacity());
    CHECK(vol.volatility_per_sqrt_s() == Approx(std::sqrt(vol.variance_per_s())));
}

TEST_CASE("realized volatility recovers a known volatility", "[strategy][vol]") {
    realized_volatility vol; // 30 minutes, 1 s samples
    std::mt19937_64 rng(11);
    const double sigma = 2e-4; // per sqrt(s)
    std::normal_distribution<double> shock(0.0, sigma * std::sqrt(0.1));
    core::timestamp_ns time = 0;
    double mid = 100.0;
    // 100 ms book updates for one hour; the estimate covers the last 30 minutes (1800 returns),
    // so its relative standard error is about 1/sqrt(2 * 1800) = 1.7%.
    for (int i = 0; i < 36'000; ++i) {
        time += 100 * core::ns_per_ms;
        mid *= std::exp(shock(rng));
        vol.update(time, mid);
    }
    CHECK(vol.sample_count() == 1800);
    CHECK(vol.covered_ns() == 1800 * core::ns_per_s);
    CHECK(vol.volatility_per_sqrt_s() == Approx(sigma).epsilon(0.06));
    CHECK(annualized_volatility(vol.volatility_per_sqrt_s()) ==
          Approx(vol.volatility_per_sqrt_s() * std::sqrt(365.0 * 86400.0)));
    CHECK(from_annualized_volatility(annualized_volatility(3e-4)) == Approx(3e-4));
}

TEST_CASE("realized volatility forgets returns older than the window", "[strategy][vol]") {
    realized_volatility_config config;
    config.window_ns = 10 * core::ns_per_s;
    config.min_samples = 3;
    realized_volatility vol(config);
    core::timestamp_ns time = 0;
    CHECK(vol.variance_per_s() == 0.0);
    CHECK_FALSE(vol.ready());
    // Alternating 100 / 101 each second: every return is +-ln(1.01).
    for (int i = 0; i < 20; ++i, time += core::ns_per_s) {
        vol.update(time, i % 2 == 0 ? 100.0 : 101.0);
    }
    const double r = std::log(1.01);
    CHECK(vol.ready());
    CHECK(vol.sample_count() == 10);
    CHECK(vol.variance_per_s() == Approx(r * r).epsilon(1e-12));
    // Then a flat mid: after one more window the estimate is exactly zero.
    for (int i = 0; i < 10; ++i, time += core::ns_per_s) {
        vol.update(time, 100.0);
    }
    CHECK(vol.variance_per_s() > 0.0);
    vol.update(time, 100.0);
    CHECK(vol.variance_per_s() == 0.0);
    // A long gap counts as one return over the whole gap.
    time += 5 * core::ns_per_s;
    vol.update(time, 101.0);
    // Returns at 26..30 s (1 s each) and 35 s (5 s) remain: 10 s covered.
    CHECK(vol.sample_count() == 6);
    CHECK(vol.covered_ns() == 10 * core::ns_per_s);

    // Bad mids are ignored; reset() starts over.
    vol.update(time + core::ns_per_s, -1.0);
    vol.update(time + core::ns_per_s, std::nan(""));
    CHECK(vol.sample_count() == 6);
    vol.reset();
    CHECK(vol.sample_count() == 0);
    CHECK(vol.variance_per_s() == 0.0);
}

TEST_CASE("realized volatility does not drift over a long run", "[strategy][vol]") {
    realized_volatility_config config;
    config.window_ns = 100 * core::ns_per_s;
    config.sample_interval_ns = core::ns_per_s;
    realized_volatility vol(config);
    direct_sampler direct(config.sample_interval_ns);
    std::mt19937_64 rng(3);
    std::normal_distribution<double> shock(0.0, 1e-3);
    core::timestamp_ns time = 0;
    double mid = 100.0;
    // Half a million returns added and evicted through a 100-sample ring.
    for (int i = 0; i < 500'000; ++i) {
        time += core::ns_per_s;
        mid *= std::exp(shock(rng));
        vol.update(time, mid);
        direct.update(time, mid);
        if (direct.samples.size() > 4096) {
            direct.samples.erase(direct.samples.begin(), direct.samples.end() - 200);
        }
    }
    CHECK(vol.variance_per_s() ==
          Approx(direct.variance_per_s(time, config.window_ns)).epsilon(1e-12));
}

TEST_CASE("realized volatility sums clamped returns beyond 64 bits", "[strategy][vol]") {
    realized_volatility_config config;
    config.window_ns = 10 * core::ns_per_s;
    config.min_samples = 1;
    realized_volatility vol(config);
    // The mid doubles and halves each second: every squared return (ln 2)^2 < 1 is kept, and
    // then one of e^3 is clamped to 1, so that the stored sum passes 2^63 units.
    core::timestamp_ns time = 0;
    vol.update(time, 100.0);
    const double r = std::log(2.0);
    for (int i = 1; i <= 4; ++i) {
        time += core::ns_per_s;
        vol.update(time, i % 2 == 0 ? 100.0 : 200.0);
    }
    CHECK(vol.variance_per_s() == Approx(r * r).epsilon(1e-12));
    for (int i = 0; i < 2; ++i) {
        time += core::ns_per_s;
        vol.update(time, i % 2 == 0 ? 100.0 * std::exp(3.0) : 100.0);
    }
    CHECK(vol.sample_count() == 6);
    CHECK(vol.variance_per_s() == Approx((4.0 * r * r + 2.0) / 6.0).epsilon(1e-12));
}

TEST_CASE("EWMA volatility equals the explicit weighted sum", "[strategy][vol]") {
    ewma_volatility_config config;
    config.half_life_ns = 20 * core::ns_per_s;
    config.sample_interval_ns = core::ns_per_s;
    config.min_samples = 4;
    ewma_volatility vol(config);
    direct_sampler direct(config.sample_interval_ns);

    std::mt19937_64 rng(5);
    std::normal_distribution<double> shock(0.0, 5e-4);
    std::uniform_int_distribution<core::duration_ns> gap(200 * core::ns_per_ms, 4 * core::ns_per_s);
    core::timestamp_ns time = 0;
    double mid = 2'500.0;
    for (int i = 0; i < 400; ++i) {
        time += gap(rng);
        mid *= std::exp(shock(rng));
        vol.update(time, mid);
        direct.update(time, mid);
    }
    REQUIRE(direct.samples.size() > 10);
    // var_n = x_0 * prod_{j>=1}(1 - a_j) + sum_{i>=1} a_i x_i prod_{j>i}(1 - a_j), where
    // x_i = r_i^2 / dt_i and a_i = 1 - 2^(-dt_i / half_life).
    const auto& s = direct.samples;
    double expected = 0.0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const double x =
            s[i].log_return * s[i].log_return / (static_cast<double>(s[i].elapsed) * 1e-9);
        double weight = i == 0 ? 1.0
                               : 1.0 - std::pow(2.0, -static_cast<double>(s[i].elapsed) /
                                                         static_cast<double>(config.half_life_ns));
        for (std::size_t j = i + 1; j < s.size(); ++j) {
            weight *= std::pow(2.0, -static_cast<double>(s[j].elapsed) /
                                        static_cast<double>(config.half_life_ns));
        }
        expected += weight * x;
    }
    CHECK(vol.sample_count() == s.size());
    CHECK(vol.ready());
    CHECK(vol.variance_per_s() == Approx(expected).epsilon(1e-9));

    vol.reset();
    CHECK(vol.variance_per_s() == 0.0);
    CHECK_FALSE(vol.ready());
}

TEST_CASE("EWMA volatility tracks a change of regime", "[strategy][vol]") {
    ewma_volatility vol; // 5-minute half-life
    std::mt19937_64 rng(9);
    std::normal_distribution<double> unit(0.0, 1.0);
    core::timestamp_ns time = 0;
    double mid = 100.0;
    const auto run = [&](double sigma, int seconds) {
        for (int i = 0; i < seconds; ++i) {
            time += core::ns_per_s;
            mid *= std::exp(sigma * unit(rng));
            vol.update(time, mid);
        }
    };
    run(1e-4, 3'600);
    CHECK(vol.volatility_per_sqrt_s() == Approx(1e-4).epsilon(0.15));
    run(4e-4, 3'600);
    CHECK(vol.volatility_per_sqrt_s() == Approx(4e-4).epsilon(0.15));
}
