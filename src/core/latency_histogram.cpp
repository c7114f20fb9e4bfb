// The parts of latency_histogram that scan the bucket array; none of them is on the hot path.
#include "quoter/core/latency_histogram.hpp"

#include <algorithm>
#include <array>
#include <cmath>

namespace quoter::core {
namespace {

// Nearest rank (1-based) of quantile q among count samples.
std::uint64_t rank_of(double q, std::uint64_t count) noexcept {
    const double exact = std::ceil(q * static_cast<double>(count));
    if (!(exact >= 1.0)) {
        return 1;
    }
    if (exact >= static_cast<double>(count)) {
        return count;
    }
    return static_cast<std::uint64_t>(exact);
}

} // namespace

void latency_histogram::record(duration_ns value, std::uint64_t times) noexcept {
    if (times == 0) {
        return;
    }
    const auto v = static_cast<std::uint64_t>(value < 0 ? 0 : value);
    counts_[bucket_index(v)] += times;
    count_ += times;
    sum_ += v * times;
    min_ = std::min(min_, v);
    max_ = std::max(max_, v);
}

void latency_histogram::merge(const latency_histogram& other) noexcept {
    for (std::size_t i = 0; i < bucket_count; ++i) {
        counts_[i] += other.counts_[i];
    }
    count_ += other.count_;
    sum_ += other.sum_;
    min_ = std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
}

void latency_histogram::reset() noexcept {
    counts_.fill(0);
    count_ = 0;
    sum_ = 0;
    min_ = std::numeric_limits<std::uint64_t>::max();
    max_ = 0;
}

double latency_histogram::mean() const noexcept {
    return count_ == 0 ? 0.0 : static_cast<double>(sum_) / static_cast<double>(count_);
}

duration_ns latency_histogram::percentile(double q) const noexcept {
    if (count_ == 0) {
        return 0;
    }
    if (q <= 0.0) {
        return min();
    }
    if (q >= 1.0) {
        return max();
    }
    const std::uint64_t rank = rank_of(q, count_);
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < bucket_count; ++i) {
        seen += counts_[i];
        if (seen >= rank) {
            // The bucket's top can exceed every sample in it; the exact extremes bound it.
            const std::uint64_t top = std::clamp(bucket_highest(i), min_, max_);
            return static_cast<duration_ns>(top);
        }
    }
    return max();
}

latency_summary latency_histogram::summary() const noexcept {
    latency_summary out;
    out.count = count_;
    out.min = min();
    out.max = max();
    out.mean = mean();
    if (count_ == 0) {
        return out;
    }
    const std::array<double, 4> quantiles{0.5, 0.9, 0.99, 0.999};
    std::array<duration_ns*, 4> targets{&out.p50, &out.p90, &out.p99, &out.p999};
    std::size_t next = 0;
    std::uint64_t rank = rank_of(quantiles[0], count_);
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < bucket_count && next < quantiles.size(); ++i) {
        seen += counts_[i];
        while (next < quantiles.size() && seen >= rank) {
            *targets[next] = static_cast<duration_ns>(std::clamp(bucket_highest(i), min_, max_));
            if (++next < quantiles.size()) {
                rank = rank_of(quantiles[next], count_);
            }
        }
    }
    return out;
}

} // namespace quoter::core
