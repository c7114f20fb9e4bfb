// Online estimate of the order-arrival intensity lambda(delta) = A * exp(-k * delta) that the
// Avellaneda–Stoikov and GLFT models assume: the rate (per second) at which a resting quote at
// distance delta (ticks) from the mid gets hit by market orders.
//
// Method. Each trade print (or fill) contributes its distance from the mid at the time of the
// trade. A quote at distance delta is reached by every trade at distance >= delta, so the
// intensity at the lower edge delta_i = i * bucket_ticks of bucket i is
//   lambda(delta_i) = (trades at distance >= delta_i) / observed time.
// Counts decay exponentially with time constant decay_ns (an exponentially weighted window),
// and the observed time is the matching effective duration decay * (1 - exp(-elapsed/decay)).
// A weighted least-squares fit of ln(count_i) = c - k * delta_i over the buckets (weights
// count_i, since var(ln n) ~ 1/n) gives k and, with the observed time, A = exp(c) / time.
//
// The estimate is reported as not fitted (callers then fall back to configured A and k) until
// at least min_trades trades were seen, min_buckets buckets have a count of at least 1, and the
// fitted k is positive.
//
// Invariants: fixed capacity (max_buckets), no allocation, trivially copyable. Recording a
// trade is O(bucket_count); fitting is O(bucket_count) and runs inside estimate() only when a
// trade arrived since the previous fit and refit_interval_ns has passed. Core thread only.
#pragma once

#include "quoter/core/time.hpp"

#include <array>
#include <cstddef>
#include <cstdint>

namespace quoter::strategy {

struct intensity_estimator_config {
    /// Width of a distance bucket, in ticks.
    double bucket_ticks = 1.0;
    /// Number of buckets (1..intensity_estimator::max_buckets); distances beyond the last
    /// bucket's lower edge count in the last bucket.
    std::uint32_t bucket_count = 16;
    /// Time constant of the exponential forgetting of old trades, in ns (0: never forget).
    core::duration_ns decay_ns = core::duration_ns{10} * 60 * core::ns_per_s;
    /// Effective (decayed) trade count needed before the fit is trusted.
    double min_trades = 50.0;
    /// Buckets with a cumulative count of at least 1 needed for the regression (>= 2).
    std::uint32_t min_buckets = 3;
    /// Minimum time between two fits, in ns. Trades in between are counted and enter the
    /// estimate at the next fit; 0 refits whenever a trade arrived since the last one.
    core::duration_ns refit_interval_ns = core::ns_per_s;
};

/// A fitted intensity. When fitted is false, a_per_s and k_per_tick are 0 and the caller uses
/// its configured values.
struct intensity_estimate {
    /// Arrival intensity at distance 0, per second.
    double a_per_s = 0.0;
    /// Decay of the intensity with distance from the mid, per tick.
    double k_per_tick = 0.0;
    /// Effective number of trades behind the estimate.
    double trades = 0.0;
    bool fitted = false;
};

class intensity_estimator {
public:
    static constexpr std::size_t max_buckets = 64;

    explicit intensity_estimator(const intensity_estimator_config& config = {}) noexcept;

    /// Marks the start of observation (e.g. the first book update); the observed time is
    /// measured from here. Implicit at the first trade otherwise.
    void start(core::timestamp_ns time) noexcept;

    /// Records a trade at `distance_ticks` (sign ignored) from the mid, at `time` (ns,
    /// non-decreasing).
    void record_trade(core::timestamp_ns time, double distance_ticks) noexcept;

    /// The intensity fitted from the trades so far, as seen at `now` (>= the last trade).
    [[nodiscard]] intensity_estimate estimate(core::timestamp_ns now) const noexcept;

    [[nodiscard]] const intensity_estimator_config& config() const noexcept { return config_; }

    void reset() noexcept;

private:
    void decay_to(core::timestamp_ns time) noexcept;
    void refit() const noexcept;
    [[nodiscard]] double decay_factor(core::duration_ns elapsed) const noexcept;
    [[nodiscard]] double observed_seconds(core::timestamp_ns now) const noexcept;

    intensity_estimator_config config_;
    std::array<double, max_buckets> counts_{};
    core::timestamp_ns start_time_ = 0;
    core::timestamp_ns last_time_ = 0;
    bool started_ = false;

    // Cached fit of the counts as of last_time_, refreshed lazily by estimate().
    mutable core::timestamp_ns fit_time_ = 0;
    mutable double fit_log_count_ = 0.0;
    mutable double fit_k_per_tick_ = 0.0;
    mutable double fit_trades_ = 0.0;
    mutable bool fit_ok_ = false;
    mutable bool has_fit_ = false;
    mutable bool dirty_ = false;
};

} // namespace quoter::strategy
