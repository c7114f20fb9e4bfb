// Online volatility estimators of the mid price, used to widen spreads (linear model) and as
// sigma in the Avellaneda–Stoikov and GLFT models.
//
// Unit, everywhere in quoter::strategy: the standard deviation of the mid's log return per
// sqrt(second) ("relative volatility per sqrt(s)"). A mid that moves 0.01% per second has a
// volatility of 1e-4. annualized_volatility() converts for display.
//
// Both estimators sample the mid at most once per sample_interval (book updates arrive far more
// often than that; tick-level returns are dominated by bid/ask bounce) and turn each sample into
// a log return r over an elapsed time dt. Irregular gaps are handled by weighting with dt: the
// variance rate is sum(r^2) / sum(dt).
//
// Invariants: update() is O(1), never allocates and never throws; realized_volatility allocates
// its ring once, in the constructor. Both are single-threaded (the core thread).
#pragma once

#include "quoter/core/time.hpp"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace quoter::strategy {

/// Seconds in a 365-day year, the convention for annualizing crypto volatility (24/7 trading).
inline constexpr double seconds_per_year = 365.0 * 24.0 * 3600.0;

/// Converts a volatility per sqrt(second) to an annualized one (x sqrt(seconds_per_year)).
[[nodiscard]] inline double annualized_volatility(double vol_per_sqrt_s) noexcept {
    return vol_per_sqrt_s * std::sqrt(seconds_per_year);
}

/// Converts an annualized volatility to one per sqrt(second).
[[nodiscard]] inline double from_annualized_volatility(double annualized) noexcept {
    return annualized / std::sqrt(seconds_per_year);
}

struct realized_volatility_config {
    /// Length of the trailing window the variance is measured over, in ns.
    core::duration_ns window_ns = core::duration_ns{30} * 60 * core::ns_per_s;
    /// Minimum time between two samples of the mid, in ns.
    core::duration_ns sample_interval_ns = core::ns_per_s;
    /// Number of returns in the window before ready() reports true.
    std::uint32_t min_samples = 30;
};

/// Realized volatility over a trailing time window, kept as a running sum over a ring of sampled
/// log returns. Squared returns are stored as integers (units of 2^-62), so adding a sample and
/// later evicting it cancel exactly and the running sum never drifts, however long it runs.
/// A squared return above 1 (a mid that moved by a factor e or more in one sample) is clamped
/// to 1: such a sample is a data error, not volatility.
class realized_volatility {
public:
    explicit realized_volatility(const realized_volatility_config& config = {});

    /// Feeds the mid (quote asset per base unit, > 0) observed at `time` (ns, non-decreasing).
    /// Non-positive or non-finite mids are ignored. Core thread only.
    void update(core::timestamp_ns time, double mid) noexcept {
        // Most updates fall between two samples and evict nothing: one comparison, inline.
        if (due(time)) {
            take(time, mid);
        }
    }
    /// False when update(time, mid) would do nothing, whatever the mid: no sample is due and
    /// none leaves the window. Lets a caller skip computing the mid.
    [[nodiscard]] bool due(core::timestamp_ns time) const noexcept { return time >= next_due_ns_; }

    /// Variance of the log mid per second over the window; 0 without samples.
    [[nodiscard]] double variance_per_s() const noexcept;
    /// Volatility per sqrt(second); 0 without samples.
    [[nodiscard]] double volatility_per_sqrt_s() const noexcept { return volatility_; }
    /// True once the window holds at least min_samples returns.
    [[nodiscard]] bool ready() const noexcept { return size_ >= config_.min_samples; }
    /// Returns currently in the window.
    [[nodiscard]] std::size_t sample_count() const noexcept { return size_; }
    /// Sum of the elapsed times of the returns in the window, in ns.
    [[nodiscard]] core::duration_ns covered_ns() const noexcept { return covered_ns_; }
    /// Most samples the window can hold (window / sample_interval + 2).
    [[nodiscard]] std::size_t capacity() const noexcept { return ring_.size(); }
    [[nodiscard]] const realized_volatility_config& config() const noexcept { return config_; }

    /// Forgets every sample; keeps the ring's storage.
    void reset() noexcept;

    /// Fixed-point scale of stored squared returns (2^62).
    static constexpr double squared_return_scale = 4611686018427387904.0;

private:
    __extension__ using wide_sum = __int128;

    struct sample {
        core::timestamp_ns time;
        core::duration_ns elapsed_ns;
        std::int64_t squared_return;
    };

    /// update() at or after next_due_ns_: samples, evicts, and sets the next due time.
    void take(core::timestamp_ns time, double mid) noexcept;
    void push(const sample& s) noexcept;
    void pop_front() noexcept;

    realized_volatility_config config_;
    std::vector<sample> ring_;
    std::size_t head_ = 0;
    std::size_t size_ = 0;
    wide_sum squared_sum_ = 0;
    core::duration_ns covered_ns_ = 0;
    core::timestamp_ns last_time_ = 0;
    double last_log_mid_ = 0.0;
    /// sqrt(variance_per_s()), kept with the window: it is read on every quote but changes only
    /// when a sample enters or leaves (once per sample interval).
    double volatility_ = 0.0;
    /// The earliest time at which update() has work: the next sample or the next eviction
    /// (never later than either). Before the first mid, every update has work.
    core::timestamp_ns next_due_ns_ = std::numeric_limits<core::timestamp_ns>::min();
    bool has_last_ = false;
};

struct ewma_volatility_config {
    /// Time for a sample's weight to halve, in ns.
    core::duration_ns half_life_ns = core::duration_ns{5} * 60 * core::ns_per_s;
    /// Minimum time between two samples of the mid, in ns.
    core::duration_ns sample_interval_ns = core::ns_per_s;
    /// Number of returns seen before ready() reports true.
    std::uint32_t min_samples = 10;
};

/// Exponentially weighted variance rate with a time-based decay: for a return r over dt,
///   alpha = 1 - 2^(-dt / half_life),   var <- var + alpha * (r^2 / dt - var),
/// seeded with the first sample's r^2 / dt. Trivially copyable.
class ewma_volatility {
public:
    explicit ewma_volatility(const ewma_volatility_config& config = {}) noexcept
        : config_(config) {}

    /// Feeds the mid (> 0) observed at `time` (ns, non-decreasing). Core thread only.
    void update(core::timestamp_ns time, double mid) noexcept;

    /// Variance of the log mid per second; 0 without samples.
    [[nodiscard]] double variance_per_s() const noexcept { return variance_per_s_; }
    /// Volatility per sqrt(second); 0 without samples.
    [[nodiscard]] double volatility_per_sqrt_s() const noexcept {
        return std::sqrt(variance_per_s_);
    }
    [[nodiscard]] bool ready() const noexcept { return samples_ >= config_.min_samples; }
    [[nodiscard]] std::uint64_t sample_count() const noexcept { return samples_; }
    [[nodiscard]] const ewma_volatility_config& config() const noexcept { return config_; }

    void reset() noexcept;

private:
    ewma_volatility_config config_;
    double variance_per_s_ = 0.0;
    double last_log_mid_ = 0.0;
    core::timestamp_ns last_time_ = 0;
    std::uint64_t samples_ = 0;
    bool has_last_ = false;
};

} // namespace quoter::strategy
