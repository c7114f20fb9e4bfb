#include "quoter/strategy/volatility.hpp"

#include <algorithm>

namespace quoter::strategy {
namespace {

core::timestamp_ns saturating_add(core::timestamp_ns time, core::duration_ns duration) noexcept {
    core::timestamp_ns sum = 0;
    return __builtin_add_overflow(time, duration, &sum)
               ? std::numeric_limits<core::timestamp_ns>::max()
               : sum;
}

std::int64_t to_squared_return_units(double log_return) noexcept {
    const double squared = std::min(log_return * log_return, 1.0);
    return static_cast<std::int64_t>(
        std::nearbyint(squared * realized_volatility::squared_return_scale));
}

} // namespace

realized_volatility::realized_volatility(const realized_volatility_config& config)
    : config_(config) {
    if (config_.sample_interval_ns <= 0) {
        config_.sample_interval_ns = 1;
    }
    if (config_.window_ns < config_.sample_interval_ns) {
        config_.window_ns = config_.sample_interval_ns;
    }
    // Samples are at least sample_interval apart and all lie within (now - window, now], so the
    // window never holds more than window / interval + 1 of them.
    const auto capacity =
        static_cast<std::size_t>(config_.window_ns / config_.sample_interval_ns) + 2;
    ring_.resize(capacity);
}

void realized_volatility::take(core::timestamp_ns time, double mid) noexcept {
    if (!(mid > 0.0) || !std::isfinite(mid)) {
        return;
    }
    if (!has_last_) {
        has_last_ = true;
        last_time_ = time;
        last_log_mid_ = std::log(mid);
    } else {
        const core::duration_ns elapsed = time - last_time_;
        bool changed = false;
        if (elapsed >= config_.sample_interval_ns) {
            const double log_mid = std::log(mid);
            push({time, elapsed, to_squared_return_units(log_mid - last_log_mid_)});
            last_time_ = time;
            last_log_mid_ = log_mid;
            changed = true;
        }
        // The window trails the latest update, not the latest sample.
        const core::timestamp_ns cutoff = time - config_.window_ns;
        while (size_ != 0 && ring_[head_].time <= cutoff) {
            pop_front();
            changed = true;
        }
        if (changed) {
            volatility_ = std::sqrt(variance_per_s());
        }
    }
    // Nothing happens before the next sample is due or the oldest one leaves the window.
    next_due_ns_ = saturating_add(last_time_, config_.sample_interval_ns);
    if (size_ != 0) {
        next_due_ns_ = std::min(next_due_ns_, saturating_add(ring_[head_].time, config_.window_ns));
    }
}

void realized_volatility::push(const sample& s) noexcept {
    if (size_ == ring_.size()) {
        pop_front();
    }
    std::size_t slot = head_ + size_;
    if (slot >= ring_.size()) {
        slot -= ring_.size();
    }
    ring_[slot] = s;
    ++size_;
    squared_sum_ += s.squared_return;
    covered_ns_ += s.elapsed_ns;
}

void realized_volatility::pop_front() noexcept {
    const sample& oldest = ring_[head_];
    squared_sum_ -= oldest.squared_return;
    covered_ns_ -= oldest.elapsed_ns;
    if (++head_ == ring_.size()) {
        head_ = 0;
    }
    --size_;
}

double realized_volatility::variance_per_s() const noexcept {
    if (covered_ns_ <= 0) {
        return 0.0;
    }
    // The sum nearly always fits in an int64, whose conversion is one instruction where an
    // __int128's is a library call; both round the same integer to the nearest double.
    const auto narrow = static_cast<std::int64_t>(squared_sum_);
    const double squared_sum =
        (narrow == squared_sum_ ? static_cast<double>(narrow) : static_cast<double>(squared_sum_)) /
        squared_return_scale;
    return squared_sum / (static_cast<double>(covered_ns_) * 1e-9);
}

void realized_volatility::reset() noexcept {
    next_due_ns_ = std::numeric_limits<core::timestamp_ns>::min();
    head_ = 0;
    size_ = 0;
    squared_sum_ = 0;
    covered_ns_ = 0;
    last_time_ = 0;
    last_log_mid_ = 0.0;
    volatility_ = 0.0;
    has_last_ = false;
}

void ewma_volatility::update(core::timestamp_ns time, double mid) noexcept {
    if (!(mid > 0.0) || !std::isfinite(mid)) {
        return;
    }
    if (!has_last_) {
        has_last_ = true;
        last_time_ = time;
        last_log_mid_ = std::log(mid);
        return;
    }
    const core::duration_ns elapsed = time - last_time_;
    if (elapsed < config_.sample_interval_ns || elapsed <= 0) {
        return;
    }
    const double log_mid = std::log(mid);
    const double log_return = log_mid - last_log_mid_;
    const double elapsed_s = static_cast<double>(elapsed) * 1e-9;
    const double rate = std::min(log_return * log_return, 1.0) / elapsed_s;
    if (samples_ == 0) {
        variance_per_s_ = rate;
    } else {
        const double half_lives =
            static_cast<double>(elapsed) /
            static_cast<double>(std::max<core::duration_ns>(config_.half_life_ns, 1));
        const double alpha = -std::expm1(-half_lives * std::log(2.0));
        variance_per_s_ += alpha * (rate - variance_per_s_);
    }
    ++samples_;
    last_time_ = time;
    last_log_mid_ = log_mid;
}

void ewma_volatility::reset() noexcept {
    variance_per_s_ = 0.0;
    last_log_mid_ = 0.0;
    last_time_ = 0;
    samples_ = 0;
    has_last_ = false;
}

} // namespace quoter::strategy
