// Clock tests: the TSC clock is monotonic and agrees with steady_clock, the fallback is
// steady_clock, manual_clock moves only when told, and code written against clock_source or
// clock_ref runs unchanged on each of them.
#include "quoter/core/clock.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <thread>

using namespace quoter::core;

namespace {

std::int64_t steady_ns() {
    return std::chrono::steady_clock::now().time_since_epoch().count();
}

// A piece of core-thread code written once against any clock: a simple staleness check.
template <clock_source Clock> class staleness_guard {
public:
    staleness_guard(const Clock& clock, duration_ns max_age_ns)
        : clock_(clock), max_age_ns_(max_age_ns) {}
    void on_update(timestamp_ns event_ns) { last_ns_ = event_ns; }
    [[nodiscard]] bool stale() const { return clock_.now() - last_ns_ > max_age_ns_; }

private:
    const Clock& clock_;
    duration_ns max_age_ns_;
    timestamp_ns last_ns_ = 0;
};

// The same check for code that is not a template.
bool is_stale(clock_ref clock, timestamp_ns last_ns, duration_ns max_age_ns) {
    return clock.now() - last_ns > max_age_ns;
}

struct paired_reading {
    std::int64_t steady = 0;
    timestamp_ns clock = 0;
};

// Reads the clock between two steady_clock reads and keeps a tight bracket, so that preemption
// on a busy machine does not show up as a rate error.
paired_reading read_paired(const tsc_clock& clock) {
    paired_reading best;
    std::int64_t best_width = std::numeric_limits<std::int64_t>::max();
    for (int attempt = 0; attempt < 1000 && best_width > 20 * ns_per_us; ++attempt) {
        const std::int64_t before = steady_ns();
        const timestamp_ns reading = clock.now();
        const std::int64_t after = steady_ns();
        if (after - before < best_width) {
            best_width = after - before;
            best = {before + (after - before) / 2, reading};
        }
    }
    return best;
}

void check_agrees_with_steady_clock(const tsc_clock& clock) {
    const paired_reading start = read_paired(clock);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const paired_reading end = read_paired(clock);

    const auto steady_elapsed = static_cast<double>(end.steady - start.steady);
    const auto clock_elapsed = static_cast<double>(end.clock - start.clock);
    INFO("steady " << steady_elapsed << " ns, clock " << clock_elapsed << " ns, "
                   << describe(clock.status()));
    CHECK(steady_elapsed >= 50e6);
    CHECK(clock_elapsed == Approx(steady_elapsed).epsilon(0.02));
    // The clock shares steady_clock's epoch.
    CHECK(std::abs(end.clock - end.steady) < ns_per_ms);
}

} // namespace

TEST_CASE("the calibrated clock reports why it uses the TSC or not", "[clock]") {
    const tsc_clock clock = tsc_clock::calibrate(std::chrono::milliseconds(20));
    if (cpu_has_invariant_tsc()) {
        // Calibration can still fail on a broken hypervisor; then it must say so.
        CHECK((clock.status() == tsc_status::invariant ||
               clock.status() == tsc_status::calibration_failed));
    } else {
        CHECK_FALSE(clock.uses_tsc());
    }
    CHECK(clock.uses_tsc() == (clock.status() == tsc_status::invariant));
    if (clock.uses_tsc()) {
        CHECK(clock.ticks_per_second() > 1e8);
        CHECK(clock.ticks_per_second() < 1e10);
    }
    CHECK_FALSE(describe(clock.status()).empty());
}

TEST_CASE("the TSC clock is monotonic", "[clock]") {
    const tsc_clock& clock = tsc_clock::process();
    timestamp_ns previous = clock.now();
    std::uint64_t previous_ticks = clock.ticks();
    int backward_steps = 0;
    int forward_steps = 0;
    for (int i = 0; i < 1'000'000; ++i) {
        const timestamp_ns t = clock.now();
        const std::uint64_t ticks = clock.ticks();
        backward_steps += static_cast<int>(t < previous) + static_cast<int>(ticks < previous_ticks);
        forward_steps += static_cast<int>(t > previous);
        previous = t;
        previous_ticks = ticks;
    }
    CHECK(backward_steps == 0);
    CHECK(forward_steps > 0);
}

TEST_CASE("the TSC clock agrees with steady_clock within a few percent over 50 ms", "[clock]") {
    check_agrees_with_steady_clock(tsc_clock::process());
}

TEST_CASE("the steady_clock fallback counts steady_clock nanoseconds", "[clock]") {
    const tsc_clock clock = tsc_clock::steady_fallback();
    CHECK_FALSE(clock.uses_tsc());
    CHECK(clock.status() == tsc_status::not_requested);
    CHECK(clock.ticks_per_second() == Approx(1e9));
    CHECK(clock.to_ns(12345) == 12345);
    CHECK(clock.to_ns(-7) == -7);
    const std::uint64_t t0 = clock.ticks();
    const std::int64_t s = steady_ns();
    const std::uint64_t t1 = clock.ticks();
    CHECK(static_cast<std::int64_t>(t0) <= s);
    CHECK(s <= static_cast<std::int64_t>(t1));
    check_agrees_with_steady_clock(clock);
}

TEST_CASE("tick differences convert to nanoseconds at the calibrated rate", "[clock]") {
    const tsc_clock& clock = tsc_clock::process();
    const double rate = clock.ticks_per_second();
    const auto one_second_ticks = static_cast<std::int64_t>(rate);
    CHECK(clock.to_ns(0) == 0);
    CHECK(static_cast<double>(clock.to_ns(one_second_ticks)) == Approx(1e9).epsilon(1e-6));
    CHECK(static_cast<double>(clock.to_ns(3600 * one_second_ticks)) ==
          Approx(3600e9).epsilon(1e-6));
    CHECK(clock.elapsed_ns(1000, 1000 + static_cast<std::uint64_t>(one_second_ticks)) ==
          clock.to_ns(one_second_ticks));
}

TEST_CASE("wall_clock is Unix-epoch nanoseconds", "[clock]") {
    const wall_clock clock;
    const timestamp_ns now = clock.now();
    // Between 2020-01-01 and 2100-01-01.
    CHECK(now > 1'577'836'800LL * ns_per_s);
    CHECK(now < 4'102'444'800LL * ns_per_s);
    const auto system = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    CHECK(std::abs(system - now) < ns_per_s);
}

TEST_CASE("monotonic_clock reads steady_clock and never goes back", "[clock]") {
    const monotonic_clock clock;
    const std::int64_t before = steady_ns();
    timestamp_ns last = clock.now();
    CHECK(last >= before);
    for (int i = 0; i < 1000; ++i) {
        const timestamp_ns now = clock.now();
        REQUIRE(now >= last);
        last = now;
    }
    CHECK(steady_ns() >= last);
}

TEST_CASE("thread_cpu_clock counts the calling thread's CPU time", "[clock]") {
    const thread_cpu_clock clock;
    const timestamp_ns start = clock.now();
    CHECK(start >= 0);
    // Spin until the thread has used at least 2 ms of CPU (a lower bound; no upper bound).
    volatile std::uint64_t sink = 0;
    while (clock.now() - start < 2 * ns_per_ms) {
        for (int i = 0; i < 1000; ++i) {
            sink = sink + static_cast<std::uint64_t>(i);
        }
    }
    // Sleeping costs wall time, not CPU time: a 50 ms sleep adds far less than 50 ms of CPU.
    const timestamp_ns before_sleep = clock.now();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    CHECK(clock.now() - before_sleep < 50 * ns_per_ms);
}

TEST_CASE("manual_clock moves only when told", "[clock]") {
    manual_clock clock;
    CHECK(clock.now() == 0);
    CHECK(clock.now() == 0);
    clock.set(1'700'000'000 * ns_per_s);
    CHECK(clock.now() == 1'700'000'000 * ns_per_s);
    CHECK(clock.advance(250 * ns_per_us) == 1'700'000'000 * ns_per_s + 250'000);
    CHECK(clock.now() == 1'700'000'000 * ns_per_s + 250'000);
    clock.set(5); // replays may step back
    CHECK(clock.now() == 5);
    CHECK(manual_clock{42}.now() == 42);
}

TEST_CASE("the same code runs on simulated and real clocks", "[clock]") {
    manual_clock simulated{1'000 * ns_per_s};
    staleness_guard guard(simulated, 500 * ns_per_ms);
    guard.on_update(simulated.now());
    CHECK_FALSE(guard.stale());
    simulated.advance(500 * ns_per_ms);
    CHECK_FALSE(guard.stale());
    simulated.advance(1);
    CHECK(guard.stale());

    CHECK_FALSE(is_stale(simulated, simulated.now() - 10, 10));
    CHECK(is_stale(simulated, simulated.now() - 11, 10));

    const tsc_clock& real = tsc_clock::process();
    staleness_guard live_guard(real, 60 * ns_per_s);
    live_guard.on_update(real.now());
    CHECK_FALSE(live_guard.stale());
    CHECK(is_stale(real, real.now() - 2 * ns_per_s, ns_per_s));
    const wall_clock wall;
    CHECK_FALSE(is_stale(wall, wall.now(), ns_per_s));
}

TEST_CASE("clock_ref reads the clock it refers to", "[clock]") {
    manual_clock clock{7};
    const clock_ref ref = clock;
    const clock_ref copy = ref; // copies the handle, not a handle to a handle
    CHECK(ref.now() == 7);
    clock.advance(3);
    CHECK(ref.now() == 10);
    CHECK(copy.now() == 10);
}
