#include "quoter/net/backoff.hpp"

#include <catch2/catch.hpp>

using namespace quoter::net;
using quoter::core::ns_per_ms;

TEST_CASE("backoff grows exponentially to its cap, with bounded jitter", "[backoff]") {
    backoff_config config;
    config.initial_ms = 100;
    config.max_ms = 1'000;
    config.multiplier = 2.0;
    config.jitter_pct = 50.0;
    backoff pacing(config, 7);
    const std::int64_t ceilings[] = {100, 200, 400, 800, 1'000, 1'000, 1'000};
    for (const std::int64_t ceiling : ceilings) {
        const std::int64_t delay = pacing.next_delay_ms();
        CAPTURE(ceiling, delay);
        CHECK(delay >= ceiling / 2);
        CHECK(delay <= ceiling);
    }
    CHECK(pacing.attempts() == 7);
    pacing.reset();
    CHECK(pacing.attempts() == 0);
    CHECK(pacing.next_delay_ms() <= 100);
}

TEST_CASE("backoff jitter spreads delays and is reproducible per seed", "[backoff]") {
    backoff_config config;
    config.initial_ms = 10'000;
    config.max_ms = 10'000;
    backoff a(config, 1);
    backoff b(config, 1);
    backoff c(config, 2);
    std::int64_t low = config.max_ms;
    std::int64_t high = 0;
    bool differs = false;
    for (int i = 0; i < 200; ++i) {
        const std::int64_t delay = a.next_delay_ms();
        CHECK(delay == b.next_delay_ms());
        differs = differs || delay != c.next_delay_ms();
        low = std::min(low, delay);
        high = std::max(high, delay);
    }
    CHECK(differs);
    CHECK(low < 6'000);
    CHECK(high > 9'000);

    config.jitter_pct = 0.0;
    backoff exact(config, 3);
    CHECK(exact.next_delay_ms() == 10'000);
}

TEST_CASE("attempt_limiter keeps a sliding window of attempts", "[backoff]") {
    attempt_limiter limiter({.max_attempts = 3, .window_ms = 1'000});
    const std::int64_t t0 = 1'000'000 * ns_per_ms;
    CHECK(limiter.wait_ms(t0) == 0);
    limiter.record(t0);
    limiter.record(t0 + 100 * ns_per_ms);
    limiter.record(t0 + 200 * ns_per_ms);
    // A fourth attempt must wait until the first leaves the window.
    CHECK(limiter.wait_ms(t0 + 300 * ns_per_ms) == 700);
    CHECK(limiter.wait_ms(t0 + 1'000 * ns_per_ms) == 0);
    limiter.record(t0 + 1'000 * ns_per_ms);
    CHECK(limiter.wait_ms(t0 + 1'050 * ns_per_ms) == 50);

    attempt_limiter unlimited({.max_attempts = 0, .window_ms = 1'000});
    for (int i = 0; i < 10; ++i) {
        unlimited.record(t0);
    }
    CHECK(unlimited.wait_ms(t0) == 0);
}
