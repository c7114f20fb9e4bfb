// Clocks: where every module gets the time from, so that the same strategy and risk code runs
// against simulated time in backtests and real time live.
//
// - tsc_clock: monotonic nanoseconds from the CPU's time-stamp counter, calibrated against
//   steady_clock; a read is one `rdtsc` and a 128-bit multiply, about half the cost of a
//   steady_clock read. Falls back to steady_clock when the TSC is not invariant (its rate
//   changes with frequency scaling or stops in deep sleep) or its calibration is implausible.
//   Its readings share steady_clock's epoch; the calibrated rate is fixed, so over hours it can
//   drift from steady_clock by the calibration error (about 1e-7).
// - monotonic_clock: steady_clock nanoseconds, for deadlines and pacing off the hot path.
// - wall_clock: realtime nanoseconds since the Unix epoch (exchange timestamps live there).
// - manual_clock: time that moves only when told to (simulations and tests).
// - thread_cpu_clock: CPU time of the calling thread (benchmarks on a shared machine).
//
// Injection follows abseil's SimulatedClock: code that needs the time takes a clock, either as a
// template parameter constrained by `clock_source` (zero overhead) or as a `clock_ref`, a
// non-owning handle with one indirect call per read for code that is not a template.
#pragma once

#include "quoter/core/time.hpp"

#include <atomic>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <ctime>
#include <string_view>
#include <type_traits>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

namespace quoter::core {

/// A time source: `now()` returns nanoseconds, is noexcept and callable on a const object.
template <class C>
concept clock_source = requires(const C& clock) {
    { clock.now() } noexcept -> std::same_as<timestamp_ns>;
};

/// Raw time-stamp counter, in ticks of an unspecified rate. Not ordered with surrounding loads
/// and stores (no fence), which is what interval measurement of more than a few ns wants. Where
/// there is no TSC it returns steady_clock nanoseconds.
[[nodiscard]] inline std::uint64_t read_tsc() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    return __rdtsc();
#else
    return static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
#endif
}

/// Why a tsc_clock does or does not count with the TSC.
enum class tsc_status : std::uint8_t {
    invariant,          ///< CPUID reports an invariant TSC and calibration was plausible.
    not_invariant,      ///< CPUID does not report an invariant TSC; steady_clock is used.
    not_x86,            ///< No TSC on this architecture; steady_clock is used.
    calibration_failed, ///< Rate outside 100 MHz..10 GHz or the counter went backwards.
    not_requested,      ///< Constructed as the steady_clock fallback on purpose.
};

/// A short English description of the status, for start-up messages.
[[nodiscard]] std::string_view describe(tsc_status status) noexcept;

/// True when CPUID leaf 0x80000007 reports an invariant TSC (constant rate in all P-, C- and
/// T-states). Hypervisors pass this bit through only when they keep the guest TSC stable.
[[nodiscard]] bool cpu_has_invariant_tsc() noexcept;

/// Monotonic nanoseconds from the TSC, or from steady_clock where the TSC is unusable. Small and
/// trivially copyable: copy it into the objects that read it, so the hot path reads no shared
/// state. All member functions are const and safe from any thread.
class tsc_clock {
public:
    /// Measures the TSC rate against steady_clock for `duration` (the call sleeps that long;
    /// longer is more exact: 20 ms calibrations agree within about 1e-7 of each other). Returns
    /// the steady_clock fallback when the TSC is not invariant or calibration is implausible.
    [[nodiscard]] static tsc_clock
    calibrate(std::chrono::nanoseconds duration = std::chrono::milliseconds(20)) noexcept;

    /// A clock that reads steady_clock; ticks are nanoseconds.
    [[nodiscard]] static tsc_clock steady_fallback() noexcept;

    /// The process-wide clock, calibrated on the first call (which blocks about 20 ms; make it
    /// at start-up). Thread-safe.
    [[nodiscard]] static const tsc_clock& process() noexcept;

    /// Nanoseconds on steady_clock's time line. Monotonic on one thread; across threads as far
    /// as the hardware keeps TSCs synchronised (invariant TSCs are, on one socket).
    [[nodiscard]] timestamp_ns now() const noexcept {
        return base_ns_ + to_ns(static_cast<std::int64_t>(ticks() - base_ticks_));
    }

    /// Raw counter value: TSC ticks, or steady_clock nanoseconds in the fallback. The cheapest
    /// read; convert differences with to_ns.
    [[nodiscard]] std::uint64_t ticks() const noexcept {
        if (uses_tsc_) [[likely]] {
            return read_tsc();
        }
        return static_cast<std::uint64_t>(
            std::chrono::steady_clock::now().time_since_epoch().count());
    }

    /// Converts a (signed) tick count to nanoseconds, truncating.
    [[nodiscard]] duration_ns to_ns(std::int64_t tick_count) const noexcept {
        __extension__ using int128 = __int128;
        return static_cast<duration_ns>((static_cast<int128>(tick_count) * ns_per_tick_q32_) >>
                                        fraction_bits);
    }

    /// Nanoseconds between two ticks() readings (end after begin).
    [[nodiscard]] duration_ns elapsed_ns(std::uint64_t begin_ticks,
                                         std::uint64_t end_ticks) const noexcept {
        return to_ns(static_cast<std::int64_t>(end_ticks - begin_ticks));
    }

    [[nodiscard]] bool uses_tsc() const noexcept { return uses_tsc_; }
    [[nodiscard]] tsc_status status() const noexcept { return status_; }
    /// Calibrated counter rate in ticks per second (1e9 in the fallback).
    [[nodiscard]] double ticks_per_second() const noexcept;

private:
    static constexpr int fraction_bits = 32;

    tsc_clock(std::int64_t ns_per_tick_q32, std::uint64_t base_ticks, timestamp_ns base_ns,
              tsc_status status) noexcept
        : ns_per_tick_q32_(ns_per_tick_q32), base_ticks_(base_ticks), base_ns_(base_ns),
          status_(status), uses_tsc_(status == tsc_status::invariant) {}

    std::int64_t ns_per_tick_q32_; // nanoseconds per tick, fixed point with 32 fraction bits
    std::uint64_t base_ticks_;     // ticks() at base_ns_
    timestamp_ns base_ns_;         // steady_clock nanoseconds at base_ticks_
    tsc_status status_;
    bool uses_tsc_;
};

static_assert(std::is_trivially_copyable_v<tsc_clock>);

/// Monotonic nanoseconds from std::chrono::steady_clock (CLOCK_MONOTONIC through the vDSO), on
/// tsc_clock's time line: for deadlines, pacing and intervals off the hot path, where no
/// calibration is worth having. Only differences are meaningful.
struct monotonic_clock {
    [[nodiscard]] timestamp_ns now() const noexcept {
        return std::chrono::duration_cast<std::chrono::nanoseconds>(
                   std::chrono::steady_clock::now().time_since_epoch())
            .count();
    }
};

/// Realtime nanoseconds since the Unix epoch (CLOCK_REALTIME through the vDSO, about twice the
/// cost of a tsc_clock read). Can jump when the system time is set; use it to compare with
/// exchange timestamps, not to time intervals.
struct wall_clock {
    [[nodiscard]] timestamp_ns now() const noexcept {
        return std::chrono::duration_cast<std::chrono::nanoseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
            .count();
    }
};

/// Time that changes only through set() and advance(): the clock of simulations, backtests
/// (set to each replayed event's timestamp) and tests. Any thread may move it and read it;
/// a reader sees some value that was set (relaxed ordering: it orders nothing else).
class manual_clock {
public:
    constexpr manual_clock() noexcept = default;
    constexpr explicit manual_clock(timestamp_ns start) noexcept : now_(start) {}

    [[nodiscard]] timestamp_ns now() const noexcept { return now_.load(std::memory_order_relaxed); }
    /// Jumps to t, which may be earlier than now() (a replay decides what time it is).
    void set(timestamp_ns t) noexcept { now_.store(t, std::memory_order_relaxed); }
    /// Moves forward by d nanoseconds; returns the new time.
    timestamp_ns advance(duration_ns d) noexcept {
        return now_.fetch_add(d, std::memory_order_relaxed) + d;
    }

private:
    std::atomic<timestamp_ns> now_{0};
};

/// CPU time the calling thread has used, in nanoseconds (CLOCK_THREAD_CPUTIME_ID): what a
/// benchmark on a machine shared with other work charges to the code under test, without the
/// time the thread spent descheduled. Readings of different threads are unrelated.
struct thread_cpu_clock {
    [[nodiscard]] timestamp_ns now() const noexcept {
        timespec now{};
        ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
        return static_cast<timestamp_ns>(now.tv_sec) * ns_per_s + now.tv_nsec;
    }
};

/// Non-owning handle to any clock_source, for code that is not a template. The clock must
/// outlive the handle. One indirect call per now().
class clock_ref {
public:
    template <clock_source C>
        requires(!std::same_as<C, clock_ref>)
    clock_ref(const C& clock) noexcept // NOLINT(google-explicit-constructor): a view, like span
        : clock_(&clock), read_(&read<C>) {}

    [[nodiscard]] timestamp_ns now() const noexcept { return read_(clock_); }

private:
    template <class C> static timestamp_ns read(const void* clock) noexcept {
        return static_cast<const C*>(clock)->now();
    }

    const void* clock_;
    timestamp_ns (*read_)(const void*) noexcept;
};

static_assert(clock_source<tsc_clock> && clock_source<monotonic_clock> &&
              clock_source<wall_clock> && clock_source<manual_clock> &&
              clock_source<thread_cpu_clock> && clock_source<clock_ref>);

} // namespace quoter::core
