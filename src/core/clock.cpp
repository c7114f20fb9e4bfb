// TSC detection and calibration. The rate is the TSC distance between two (TSC, steady_clock)
// pairs taken `duration` apart; each pair brackets the steady_clock read between two TSC reads
// and keeps the tightest of several tries, so a preemption during one read does not skew it.
#include "quoter/core/clock.hpp"

#include <cmath>
#include <thread>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace quoter::core {
namespace {

// Plausible TSC rates; anything outside means the counter is virtualised badly or broken.
constexpr double min_plausible_hz = 1e8;
constexpr double max_plausible_hz = 1e10;
constexpr int pair_tries = 7;

struct clock_pair {
    std::uint64_t tsc = 0;
    timestamp_ns steady_ns = 0;
    std::uint64_t bracket_ticks = ~std::uint64_t{0}; // TSC ticks the steady read took
};

timestamp_ns steady_now_ns() noexcept {
    return std::chrono::steady_clock::now().time_since_epoch().count();
}

clock_pair read_pair() noexcept {
    clock_pair best;
    for (int i = 0; i < pair_tries; ++i) {
        const std::uint64_t before = read_tsc();
        const timestamp_ns steady = steady_now_ns();
        const std::uint64_t after = read_tsc();
        if (after >= before && after - before < best.bracket_ticks) {
            best = {before + (after - before) / 2, steady, after - before};
        }
    }
    return best;
}

} // namespace

std::string_view describe(tsc_status status) noexcept {
    switch (status) {
    case tsc_status::invariant: return "invariant TSC";
    case tsc_status::not_invariant: return "TSC not invariant, using steady_clock";
    case tsc_status::not_x86: return "no TSC on this CPU, using steady_clock";
    case tsc_status::calibration_failed: return "TSC calibration implausible, using steady_clock";
    case tsc_status::not_requested: return "steady_clock";
    }
    return "unknown";
}

bool cpu_has_invariant_tsc() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    unsigned eax = 0;
    unsigned ebx = 0;
    unsigned ecx = 0;
    unsigned edx = 0;
    if (__get_cpuid(0x80000000U, &eax, &ebx, &ecx, &edx) == 0 || eax < 0x80000007U) {
        return false;
    }
    if (__get_cpuid(0x80000007U, &eax, &ebx, &ecx, &edx) == 0) {
        return false;
    }
    return (edx & (1U << 8)) != 0;
#else
    return false;
#endif
}

tsc_clock tsc_clock::steady_fallback() noexcept {
    const auto now = steady_now_ns();
    return {std::int64_t{1} << fraction_bits, static_cast<std::uint64_t>(now), now,
            tsc_status::not_requested};
}

tsc_clock tsc_clock::calibrate(std::chrono::nanoseconds duration) noexcept {
    auto fallback = [](tsc_status why) {
        tsc_clock clock = steady_fallback();
        clock.status_ = why;
        return clock;
    };
#if !defined(__x86_64__) && !defined(__i386__)
    (void)duration;
    return fallback(tsc_status::not_x86);
#else
    if (!cpu_has_invariant_tsc()) {
        return fallback(tsc_status::not_invariant);
    }
    const clock_pair start = read_pair();
    std::this_thread::sleep_for(duration);
    const clock_pair end = read_pair();
    if (end.tsc <= start.tsc || end.steady_ns <= start.steady_ns) {
        return fallback(tsc_status::calibration_failed);
    }
    const auto ticks = static_cast<double>(end.tsc - start.tsc);
    const auto nanoseconds = static_cast<double>(end.steady_ns - start.steady_ns);
    const double hz = ticks * 1e9 / nanoseconds;
    if (!(hz >= min_plausible_hz && hz <= max_plausible_hz)) {
        return fallback(tsc_status::calibration_failed);
    }
    const double ns_per_tick_q32 = std::ldexp(nanoseconds / ticks, fraction_bits);
    return {static_cast<std::int64_t>(std::llround(ns_per_tick_q32)), end.tsc, end.steady_ns,
            tsc_status::invariant};
#endif
}

const tsc_clock& tsc_clock::process() noexcept {
    static const tsc_clock clock = calibrate();
    return clock;
}

double tsc_clock::ticks_per_second() const noexcept {
    return std::ldexp(1e9 / static_cast<double>(ns_per_tick_q32_), fraction_bits);
}

} // namespace quoter::core
