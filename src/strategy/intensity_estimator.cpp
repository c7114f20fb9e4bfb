#include "quoter/strategy/intensity_estimator.hpp"

#include <algorithm>
#include <cmath>

namespace quoter::strategy {
namespace {

constexpr double min_k_per_tick = 1e-9;

} // namespace

intensity_estimator::intensity_estimator(const intensity_estimator_config& config) noexcept
    : config_(config) {
    config_.bucket_count = std::clamp<std::uint32_t>(config_.bucket_count, 1, max_buckets);
    config_.min_buckets = std::max<std::uint32_t>(config_.min_buckets, 2);
    if (!(config_.bucket_ticks > 0.0)) {
        config_.bucket_ticks = 1.0;
    }
    if (config_.decay_ns < 0) {
        config_.decay_ns = 0;
    }
}

void intensity_estimator::start(core::timestamp_ns time) noexcept {
    if (!started_) {
        started_ = true;
        start_time_ = time;
        last_time_ = time;
    }
}

double intensity_estimator::decay_factor(core::duration_ns elapsed) const noexcept {
    if (config_.decay_ns == 0 || elapsed <= 0) {
        return 1.0;
    }
    return std::exp(-static_cast<double>(elapsed) / static_cast<double>(config_.decay_ns));
}

double intensity_estimator::observed_seconds(core::timestamp_ns now) const noexcept {
    const double elapsed_s = static_cast<double>(now - start_time_) * 1e-9;
    if (config_.decay_ns == 0) {
        return elapsed_s;
    }
    const double decay_s = static_cast<double>(config_.decay_ns) * 1e-9;
    return -decay_s * std::expm1(-elapsed_s / decay_s);
}

void intensity_estimator::decay_to(core::timestamp_ns time) noexcept {
    if (time <= last_time_) {
        return;
    }
    const double factor = decay_factor(time - last_time_);
    if (factor != 1.0) {
        for (std::uint32_t i = 0; i < config_.bucket_count; ++i) {
            counts_[i] *= factor;
        }
    }
    last_time_ = time;
}

void intensity_estimator::record_trade(core::timestamp_ns time, double distance_ticks) noexcept {
    if (!std::isfinite(distance_ticks)) {
        return;
    }
    start(time);
    decay_to(time);
    const double buckets = std::fabs(distance_ticks) / config_.bucket_ticks;
    const auto last = static_cast<double>(config_.bucket_count - 1);
    const auto bucket = static_cast<std::size_t>(std::min(std::floor(buckets), last));
    counts_[bucket] += 1.0;
    dirty_ = true;
}

void intensity_estimator::refit() const noexcept {
    dirty_ = false;
    has_fit_ = true;
    fit_time_ = last_time_;
    fit_ok_ = false;
    // Cumulative counts from the deepest bucket towards the mid: cumulative[i] counts the trades
    // at distance >= i * bucket_ticks.
    double sum_w = 0.0, sum_x = 0.0, sum_y = 0.0, sum_xx = 0.0, sum_xy = 0.0;
    double cumulative = 0.0;
    std::uint32_t points = 0;
    for (std::uint32_t i = config_.bucket_count; i-- > 0;) {
        cumulative += counts_[i];
        if (cumulative < 1.0) {
            continue;
        }
        const double x = static_cast<double>(i) * config_.bucket_ticks;
        const double y = std::log(cumulative);
        const double w = cumulative;
        sum_w += w;
        sum_x += w * x;
        sum_y += w * y;
        sum_xx += w * x * x;
        sum_xy += w * x * y;
        ++points;
    }
    fit_trades_ = cumulative;
    if (points < config_.min_buckets) {
        return;
    }
    const double denominator = sum_w * sum_xx - sum_x * sum_x;
    if (!(denominator > 0.0)) {
        return;
    }
    const double slope = (sum_w * sum_xy - sum_x * sum_y) / denominator;
    const double intercept = (sum_y - slope * sum_x) / sum_w;
    // A flat profile (all trades equally deep) fits k = 0 up to rounding: no decay to use.
    if (!(-slope > min_k_per_tick) || !std::isfinite(intercept)) {
        return;
    }
    fit_k_per_tick_ = -slope;
    fit_log_count_ = intercept;
    fit_ok_ = true;
}

intensity_estimate intensity_estimator::estimate(core::timestamp_ns now) const noexcept {
    if (!started_) {
        return {};
    }
    if (dirty_ && (!has_fit_ || now - fit_time_ >= config_.refit_interval_ns)) {
        refit();
    }
    // The cached fit describes the counts as of fit_time_; age it from there.
    now = std::max(now, fit_time_);
    const double decay = decay_factor(now - fit_time_);
    intensity_estimate result;
    result.trades = fit_trades_ * decay;
    const double seconds = observed_seconds(now);
    if (!fit_ok_ || result.trades < config_.min_trades || !(seconds > 0.0)) {
        return result;
    }
    result.a_per_s = std::exp(fit_log_count_) * decay / seconds;
    result.k_per_tick = fit_k_per_tick_;
    result.fitted = std::isfinite(result.a_per_s) && result.a_per_s > 0.0;
    if (!result.fitted) {
        result.a_per_s = 0.0;
        result.k_per_tick = 0.0;
    }
    return result;
}

void intensity_estimator::reset() noexcept {
    counts_.fill(0.0);
    start_time_ = 0;
    last_time_ = 0;
    started_ = false;
    fit_log_count_ = 0.0;
    fit_k_per_tick_ = 0.0;
    fit_trades_ = 0.0;
    fit_time_ = 0;
    fit_ok_ = false;
    has_fit_ = false;
    dirty_ = false;
}

} // namespace quoter::strategy
