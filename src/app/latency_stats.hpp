// Wall-clock latency measurement for the paced simulation: a monotonic nanosecond clock and a
// fixed-size log-linear histogram of durations.
//
// The histogram keeps 16 linear sub-buckets per power of two, so a percentile it reports is
// within 1/16 (about 6%) above the true value; recording is a few instructions and never
// allocates. Single-threaded.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <cstdint>

namespace quoter::app {

/// Monotonic time in ns (steady_clock); only differences are meaningful.
[[nodiscard]] inline std::int64_t monotonic_ns() noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

class latency_histogram {
public:
    /// Adds one duration in ns (negative values count as 0).
    void record(std::int64_t ns) noexcept {
        const auto value = static_cast<std::uint64_t>(std::max<std::int64_t>(ns, 0));
        ++counts_[index_of(value)];
        ++count_;
        max_ = std::max(max_, value);
    }

    [[nodiscard]] std::uint64_t count() const noexcept { return count_; }
    [[nodiscard]] std::uint64_t max() const noexcept { return max_; }

    /// The q-quantile (0 <= q <= 1) in ns: the upper edge of the bucket that holds it, capped
    /// at the maximum seen; 0 when empty.
    [[nodiscard]] std::uint64_t percentile(double q) const noexcept {
        if (count_ == 0) {
            return 0;
        }
        const auto rank = static_cast<std::uint64_t>(q * static_cast<double>(count_ - 1)) + 1;
        std::uint64_t seen = 0;
        for (std::size_t i = 0; i < counts_.size(); ++i) {
            seen += counts_[i];
            if (seen >= rank) {
                return std::min(upper_edge(i), max_);
            }
        }
        return max_;
    }

    void reset() noexcept { *this = latency_histogram{}; }

private:
    static constexpr unsigned sub_bits = 4;
    static constexpr std::uint64_t sub_count = std::uint64_t{1} << sub_bits;

    // Values below 16 have a bucket each; above, bucket = (exponent, top four bits below the
    // leading one).
    static std::size_t index_of(std::uint64_t value) noexcept {
        if (value < sub_count) {
            return static_cast<std::size_t>(value);
        }
        const unsigned exponent = 63U - static_cast<unsigned>(std::countl_zero(value));
        const std::uint64_t sub = (value >> (exponent - sub_bits)) & (sub_count - 1);
        return static_cast<std::size_t>((exponent - sub_bits + 1) * sub_count + sub);
    }

    static std::uint64_t upper_edge(std::size_t index) noexcept {
        if (index < sub_count) {
            return index;
        }
        const std::uint64_t exponent = index / sub_count + sub_bits - 1;
        const std::uint64_t sub = index % sub_count;
        const std::uint64_t width = std::uint64_t{1} << (exponent - sub_bits);
        return (std::uint64_t{1} << exponent) + (sub + 1) * width - 1;
    }

    std::array<std::uint64_t, (64 - sub_bits + 1) * sub_count> counts_{};
    std::uint64_t count_ = 0;
    std::uint64_t max_ = 0;
};

} // namespace quoter::app
