// metrics: a registry of named counters, gauges and histograms, updated by the core thread and
// written out in the Prometheus text exposition format (version 0.0.4) by the HTTP thread.
//
// Invariants: every series is created at set-up (registration allocates and may throw on an
// invalid name); after that the registry's shape never changes, so the exposition writer walks
// it without a lock. A series has exactly one writer thread (the core); its values are relaxed
// atomics, so an update is a plain load and store (no lock prefix, no allocation, no syscall)
// and a reader sees each value whole. Different series of one scrape may come from slightly
// different moments, as with any Prometheus client.
#pragma once

#include "quoter/core/time.hpp"

#include <atomic>
#include <bit>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace quoter::ops {

enum class metric_type : std::uint8_t { counter, gauge, histogram };

[[nodiscard]] std::string_view to_string(metric_type type) noexcept;

/// One label of a series, e.g. {"reason", "price_band"}.
struct metric_label {
    std::string name;
    std::string value;
};

/// A monotonically increasing count. Single writer.
class counter_metric {
public:
    /// Adds n. Writer thread only.
    void add(std::uint64_t n = 1) noexcept {
        value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
    /// Publishes a running total kept elsewhere (e.g. a stats struct of the core loop); a total
    /// below the current value is ignored, so the counter never goes backwards.
    void set_total(std::uint64_t total) noexcept {
        if (total > value_.load(std::memory_order_relaxed)) {
            value_.store(total, std::memory_order_relaxed);
        }
    }
    [[nodiscard]] std::uint64_t value() const noexcept {
        return value_.load(std::memory_order_relaxed);
    }

private:
    std::atomic<std::uint64_t> value_{0};
};

/// A value that goes up and down. Single writer.
class gauge_metric {
public:
    void set(double value) noexcept {
        bits_.store(std::bit_cast<std::uint64_t>(value), std::memory_order_relaxed);
    }
    [[nodiscard]] double value() const noexcept {
        return std::bit_cast<double>(bits_.load(std::memory_order_relaxed));
    }

private:
    std::atomic<std::uint64_t> bits_{0}; // bit pattern of 0.0
};

/// Fixed-bucket histogram of nanosecond durations, exposed in seconds. Bucket bounds are fixed
/// at registration; observe() costs a short search over them and three relaxed stores.
/// Percentiles for /status come from core::latency_histogram, which keeps every sample's
/// precision; this type only feeds Prometheus, whose buckets are few and fixed.
class histogram_metric {
public:
    static constexpr std::size_t max_buckets = 32;

    /// bounds_ns: strictly increasing upper bounds (inclusive), at most max_buckets.
    explicit histogram_metric(std::span<const core::duration_ns> bounds_ns);

    /// Records one duration; negative values count as 0. Writer thread only.
    void observe(core::duration_ns value) noexcept {
        const std::uint64_t v = value < 0 ? 0 : static_cast<std::uint64_t>(value);
        std::size_t index = 0;
        while (index < bucket_count_ && v > bounds_ns_[index]) {
            ++index;
        }
        bump(counts_[index], 1);
        bump(sum_ns_, v);
        bump(count_, 1);
    }

    [[nodiscard]] std::size_t bucket_count() const noexcept { return bucket_count_; }
    [[nodiscard]] std::uint64_t bound_ns(std::size_t i) const noexcept { return bounds_ns_[i]; }
    /// Samples in bucket i (not cumulative); i == bucket_count() is the +Inf overflow.
    [[nodiscard]] std::uint64_t bucket(std::size_t i) const noexcept {
        return counts_[i].load(std::memory_order_relaxed);
    }
    [[nodiscard]] std::uint64_t count() const noexcept {
        return count_.load(std::memory_order_relaxed);
    }
    [[nodiscard]] std::uint64_t sum_ns() const noexcept {
        return sum_ns_.load(std::memory_order_relaxed);
    }

private:
    static void bump(std::atomic<std::uint64_t>& a, std::uint64_t n) noexcept {
        a.store(a.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }

    std::size_t bucket_count_ = 0;
    std::uint64_t bounds_ns_[max_buckets] = {};
    std::atomic<std::uint64_t> counts_[max_buckets + 1] = {};
    std::atomic<std::uint64_t> sum_ns_{0};
    std::atomic<std::uint64_t> count_{0};
};

/// Default latency buckets: 1 us to 1 s, roughly 1-2.5-5 per decade.
[[nodiscard]] std::span<const core::duration_ns> default_latency_buckets_ns() noexcept;

/// The set of metric families. Register at set-up (not thread-safe, allocates, throws
/// std::invalid_argument on an invalid or conflicting name); afterwards update from the writer
/// thread and write_exposition() from any one reader thread.
class metrics_registry {
public:
    metrics_registry();
    ~metrics_registry();
    metrics_registry(const metrics_registry&) = delete;
    metrics_registry& operator=(const metrics_registry&) = delete;

    /// Registers a series of family `name` (a counter's name should end in "_total"). Calling
    /// again with the same name and different labels adds a series to the family; the help
    /// and type must match. The returned reference stays valid for the registry's lifetime.
    counter_metric& counter(std::string_view name, std::string_view help,
                            std::vector<metric_label> labels = {});
    /// A counter of time: counted (add, set_total) in ns, exposed in seconds, so a name ending
    /// in "_seconds_total". Its family holds only such counters.
    counter_metric& seconds_counter(std::string_view name, std::string_view help,
                                    std::vector<metric_label> labels = {});
    gauge_metric& gauge(std::string_view name, std::string_view help,
                        std::vector<metric_label> labels = {});
    histogram_metric& histogram(std::string_view name, std::string_view help,
                                std::span<const core::duration_ns> bounds_ns,
                                std::vector<metric_label> labels = {});

    /// Appends the text exposition format 0.0.4 of every family to out. Reader thread.
    void write_exposition(std::string& out) const;
    [[nodiscard]] std::string exposition() const {
        std::string out;
        write_exposition(out);
        return out;
    }

    /// Every sample name the exposition can contain: counters and gauges by family name,
    /// histograms as name_bucket, name_sum and name_count.
    [[nodiscard]] std::vector<std::string> sample_names() const;

    /// Content-Type of the exposition.
    static constexpr std::string_view content_type = "text/plain; version=0.0.4; charset=utf-8";

private:
    struct family;
    struct series;
    series& add(std::string_view name, std::string_view help, metric_type type,
                std::vector<metric_label> labels, bool ns_in_seconds = false);

    std::vector<std::unique_ptr<family>> families_;
};

/// True for a valid Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*).
[[nodiscard]] bool valid_metric_name(std::string_view name) noexcept;
/// True for a valid label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with "__").
[[nodiscard]] bool valid_label_name(std::string_view name) noexcept;

} // namespace quoter::ops
