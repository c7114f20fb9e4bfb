// latency_histogram: a fixed-size log-linear histogram of non-negative nanosecond durations,
// for latency percentiles recorded on the hot path and read elsewhere.
//
// Buckets: values below 2^(sub_bucket_bits + 1) = 256 ns have one bucket each (exact). Above,
// every power-of-two range [2^k, 2^(k+1)) is split into 2^sub_bucket_bits = 128 equal buckets,
// so a bucket is at most 1/128 of the values it holds wide. Percentiles report the highest value
// of the bucket the rank falls into (never below the true sample), clamped to the exact recorded
// max, so the relative error is below 1/128 < 0.8%. Values up to 2^43 - 1 ns (about 2.4 hours)
// are tracked; larger ones are counted in the last bucket, while max() stays exact.
//
// record() is branch-light, allocation-free and touches one counter line plus the summary line.
// A histogram is owned by one thread; merge copies are taken elsewhere.
#pragma once

#include "quoter/core/time.hpp"

#include <array>
#include <bit>
#include <cstdint>
#include <limits>

namespace quoter::core {

/// The usual latency percentiles in nanoseconds.
struct latency_summary {
    std::uint64_t count = 0;
    duration_ns min = 0;
    duration_ns p50 = 0;
    duration_ns p90 = 0;
    duration_ns p99 = 0;
    duration_ns p999 = 0;
    duration_ns max = 0;
    double mean = 0.0;
};

class latency_histogram {
public:
    /// log2 of the number of linear buckets per power of two.
    static constexpr int sub_bucket_bits = 7;
    static constexpr std::uint64_t sub_bucket_count = std::uint64_t{1} << sub_bucket_bits;
    /// Values at or above this many ns share the last bucket.
    static constexpr int value_bits = 43;
    static constexpr duration_ns max_trackable_ns = (duration_ns{1} << value_bits) - 1;
    /// Two exact ranges of sub_bucket_count values, then one range per further power of two.
    static constexpr std::size_t bucket_count =
        static_cast<std::size_t>((value_bits - sub_bucket_bits + 1) * sub_bucket_count);

    /// Records one duration in ns. Negative values (clock steps) count as 0. Owning thread only.
    void record(duration_ns value) noexcept {
        const auto v = static_cast<std::uint64_t>(value < 0 ? 0 : value);
        ++counts_[bucket_index(v)];
        ++count_;
        sum_ += v;
        min_ = v < min_ ? v : min_;
        max_ = v > max_ ? v : max_;
    }

    /// Records `times` equal durations (e.g. from a coordinated-omission correction).
    void record(duration_ns value, std::uint64_t times) noexcept;

    /// Adds every sample of other to this histogram.
    void merge(const latency_histogram& other) noexcept;

    /// Forgets every sample.
    void reset() noexcept;

    [[nodiscard]] std::uint64_t count() const noexcept { return count_; }
    /// Exact smallest sample, 0 when empty.
    [[nodiscard]] duration_ns min() const noexcept {
        return count_ == 0 ? 0 : static_cast<duration_ns>(min_);
    }
    /// Exact largest sample, 0 when empty.
    [[nodiscard]] duration_ns max() const noexcept { return static_cast<duration_ns>(max_); }
    /// Exact arithmetic mean in ns, 0 when empty.
    [[nodiscard]] double mean() const noexcept;

    /// The value at quantile q in [0, 1] (nearest rank: the smallest recorded value v with at
    /// least ceil(q * count) samples <= v), within +0.8% of the exact value. q <= 0 gives min(),
    /// q >= 1 gives max(); 0 when empty.
    [[nodiscard]] duration_ns percentile(double q) const noexcept;

    [[nodiscard]] duration_ns p50() const noexcept { return percentile(0.5); }
    [[nodiscard]] duration_ns p90() const noexcept { return percentile(0.9); }
    [[nodiscard]] duration_ns p99() const noexcept { return percentile(0.99); }
    [[nodiscard]] duration_ns p999() const noexcept { return percentile(0.999); }

    /// count, min, p50, p90, p99, p99.9, max and mean in one pass over the buckets.
    [[nodiscard]] latency_summary summary() const noexcept;

    /// Bucket a value falls into; exposed for tests.
    [[nodiscard]] static constexpr std::size_t bucket_index(std::uint64_t value) noexcept {
        if (value > static_cast<std::uint64_t>(max_trackable_ns)) {
            value = static_cast<std::uint64_t>(max_trackable_ns);
        }
        // Power-of-two range above the exact region; 0 for values below 2 * sub_bucket_count.
        const int width = static_cast<int>(std::bit_width(value));
        const int shift = width > sub_bucket_bits + 1 ? width - (sub_bucket_bits + 1) : 0;
        return static_cast<std::size_t>(static_cast<std::uint64_t>(shift) * sub_bucket_count +
                                        (value >> shift));
    }

    /// Largest value that maps to the bucket; exposed for tests.
    [[nodiscard]] static constexpr std::uint64_t bucket_highest(std::size_t index) noexcept {
        if (index < 2 * sub_bucket_count) {
            return index;
        }
        const std::uint64_t shift = index / sub_bucket_count - 1;
        const std::uint64_t mantissa = index - shift * sub_bucket_count;
        return ((mantissa + 1) << shift) - 1;
    }

private:
    std::uint64_t count_ = 0;
    std::uint64_t sum_ = 0;
    std::uint64_t min_ = std::numeric_limits<std::uint64_t>::max();
    std::uint64_t max_ = 0;
    std::array<std::uint64_t, bucket_count> counts_{};
};

} // namespace quoter::core
