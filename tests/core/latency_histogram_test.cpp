// latency_histogram against exact percentiles of the same samples: the reported value is never
// below the exact nearest-rank percentile and at most 1% above it, for several distributions;
// merging equals recording everything in one histogram; edge values (0, 1, the tracking limit,
// beyond it, negative) behave as documented.
#include "quoter/core/latency_histogram.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <random>
#include <vector>

using quoter::core::duration_ns;
using quoter::core::latency_histogram;
using quoter::core::ns_per_s;

namespace {

// Nearest-rank percentile of sorted samples, the definition the histogram follows.
duration_ns exact_percentile(const std::vector<duration_ns>& sorted, double q) {
    auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
    rank = std::clamp<std::size_t>(rank, 1, sorted.size());
    return sorted[rank - 1];
}

// Histograms are ~37 KiB; keep them off the stack.
std::unique_ptr<latency_histogram> make_histogram() {
    return std::make_unique<latency_histogram>();
}

void check_within_one_percent(const latency_histogram& h, std::vector<duration_ns> samples) {
    std::sort(samples.begin(), samples.end());
    for (const double q : {0.0, 0.001, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 0.9999, 1.0}) {
        const duration_ns exact = exact_percentile(samples, q);
        const duration_ns reported = h.percentile(q);
        INFO("q=" << q << " exact=" << exact << " reported=" << reported);
        REQUIRE(reported >= exact);
        REQUIRE(static_cast<double>(reported - exact) <= 0.01 * static_cast<double>(exact));
    }
    const auto s = h.summary();
    CHECK(s.p50 == h.p50());
    CHECK(s.p90 == h.p90());
    CHECK(s.p99 == h.p99());
    CHECK(s.p999 == h.p999());
    CHECK(s.min == samples.front());
    CHECK(s.max == samples.back());
    CHECK(s.count == samples.size());
}

std::vector<duration_ns> log_uniform_samples(std::size_t n, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    // 1 ns .. ~1 hour, evenly spread in log space: exercises every bucket range.
    std::uniform_real_distribution<double> exponent(0.0, std::log(3600.0 * 1e9));
    std::vector<duration_ns> samples(n);
    for (auto& v : samples) {
        v = static_cast<duration_ns>(std::exp(exponent(rng)));
    }
    return samples;
}

} // namespace

TEST_CASE("bucket boundaries are contiguous and at most 1/128 of their values wide",
          "[latency_histogram]") {
    STATIC_REQUIRE(latency_histogram::max_trackable_ns >= 3600 * ns_per_s);
    std::uint64_t expected_low = 0;
    for (std::size_t i = 0; i < latency_histogram::bucket_count; ++i) {
        const std::uint64_t high = latency_histogram::bucket_highest(i);
        INFO("bucket " << i << " [" << expected_low << ", " << high << "]");
        REQUIRE(high >= expected_low);
        REQUIRE(latency_histogram::bucket_index(expected_low) == i);
        REQUIRE(latency_histogram::bucket_index(high) == i);
        REQUIRE(static_cast<double>(high - expected_low) <=
                static_cast<double>(expected_low) / 128.0);
        expected_low = high + 1;
    }
    CHECK(expected_low - 1 == static_cast<std::uint64_t>(latency_histogram::max_trackable_ns));
    CHECK(latency_histogram::bucket_index(std::numeric_limits<std::uint64_t>::max()) ==
          latency_histogram::bucket_count - 1);
}

TEST_CASE("an empty histogram reports zeros", "[latency_histogram]") {
    const auto h = make_histogram();
    CHECK(h->count() == 0);
    CHECK(h->min() == 0);
    CHECK(h->max() == 0);
    CHECK(h->mean() == 0.0);
    CHECK(h->percentile(0.5) == 0);
    CHECK(h->summary().p999 == 0);
}

TEST_CASE("percentiles are within 1% of exact ones on random data", "[latency_histogram]") {
    SECTION("log-uniform over 1 ns .. 1 hour") {
        const auto samples = log_uniform_samples(200'000, 1);
        const auto h = make_histogram();
        for (const auto v : samples) {
            h->record(v);
        }
        check_within_one_percent(*h, samples);
    }
    SECTION("a realistic latency shape: log-normal body with a heavy tail") {
        std::mt19937_64 rng(2);
        std::lognormal_distribution<double> body(std::log(800.0), 0.4);
        std::exponential_distribution<double> tail(1.0 / 200'000.0);
        std::bernoulli_distribution is_tail(0.002);
        std::vector<duration_ns> samples(300'000);
        const auto h = make_histogram();
        for (auto& v : samples) {
            v = static_cast<duration_ns>(is_tail(rng) ? tail(rng) : body(rng));
            h->record(v);
        }
        check_within_one_percent(*h, samples);
    }
    SECTION("few samples") {
        const std::vector<duration_ns> samples{1'234'567, 89, 300, 4'000'000'000};
        const auto h = make_histogram();
        for (const auto v : samples) {
            h->record(v);
        }
        check_within_one_percent(*h, samples);
        CHECK(h->percentile(1.0) == 4'000'000'000);
        CHECK(h->percentile(0.0) == 89);
    }
}

TEST_CASE("count, min, max and mean are exact", "[latency_histogram]") {
    const auto h = make_histogram();
    const auto samples = log_uniform_samples(10'000, 3);
    long double sum = 0;
    for (const auto v : samples) {
        h->record(v);
        sum += static_cast<long double>(v);
    }
    CHECK(h->count() == samples.size());
    CHECK(h->min() == *std::min_element(samples.begin(), samples.end()));
    CHECK(h->max() == *std::max_element(samples.begin(), samples.end()));
    CHECK(h->mean() == Approx(static_cast<double>(sum / samples.size())).epsilon(1e-12));
}

TEST_CASE("merging equals recording everything in one histogram", "[latency_histogram]") {
    const auto a_samples = log_uniform_samples(50'000, 4);
    const auto b_samples = log_uniform_samples(30'000, 5);
    const auto a = make_histogram();
    const auto b = make_histogram();
    const auto all = make_histogram();
    for (const auto v : a_samples) {
        a->record(v);
        all->record(v);
    }
    for (const auto v : b_samples) {
        b->record(v + 1'000);
        all->record(v + 1'000);
    }
    a->merge(*b);
    CHECK(a->count() == all->count());
    CHECK(a->min() == all->min());
    CHECK(a->max() == all->max());
    CHECK(a->mean() == all->mean());
    for (const double q : {0.0, 0.01, 0.5, 0.9, 0.99, 0.999, 1.0}) {
        CHECK(a->percentile(q) == all->percentile(q));
    }

    SECTION("merging an empty histogram changes nothing") {
        const auto before = a->summary();
        a->merge(*make_histogram());
        const auto after = a->summary();
        CHECK(after.count == before.count);
        CHECK(after.min == before.min);
        CHECK(after.p99 == before.p99);
        CHECK(after.max == before.max);
    }
    SECTION("merging into an empty histogram copies") {
        const auto empty = make_histogram();
        empty->merge(*b);
        CHECK(empty->count() == b->count());
        CHECK(empty->min() == b->min());
        CHECK(empty->p50() == b->p50());
        CHECK(empty->max() == b->max());
    }
}

TEST_CASE("edge values", "[latency_histogram]") {
    const auto h = make_histogram();
    SECTION("zero") {
        h->record(0);
        CHECK(h->count() == 1);
        CHECK(h->min() == 0);
        CHECK(h->max() == 0);
        CHECK(h->p50() == 0);
        CHECK(h->p999() == 0);
    }
    SECTION("one") {
        h->record(1);
        h->record(1);
        CHECK(h->p50() == 1);
        CHECK(h->max() == 1);
        CHECK(h->mean() == 1.0);
    }
    SECTION("small values are exact") {
        for (duration_ns v = 0; v < 256; ++v) {
            h->record(v);
        }
        CHECK(h->p50() == 127);
        CHECK(h->percentile(0.9) == 230);
        CHECK(h->max() == 255);
    }
    SECTION("an hour and the tracking limit") {
        const duration_ns hour = 3600 * ns_per_s;
        h->record(hour);
        CHECK(h->p50() == hour); // clamped to the exact max
        h->record(latency_histogram::max_trackable_ns);
        CHECK(h->max() == latency_histogram::max_trackable_ns);
        CHECK(h->p50() >= hour);
        CHECK(static_cast<double>(h->p50() - hour) <= 0.01 * static_cast<double>(hour));
        CHECK(h->percentile(1.0) == latency_histogram::max_trackable_ns);
    }
    SECTION("beyond the tracking limit: counted, max exact") {
        const duration_ns huge = std::numeric_limits<duration_ns>::max();
        h->record(10);
        h->record(huge);
        CHECK(h->count() == 2);
        CHECK(h->max() == huge);
        CHECK(h->p50() == 10);
        CHECK(h->percentile(1.0) == huge);
        CHECK(h->percentile(0.99) >= latency_histogram::max_trackable_ns);
    }
    SECTION("negative durations count as zero") {
        h->record(-5);
        CHECK(h->count() == 1);
        CHECK(h->min() == 0);
        CHECK(h->max() == 0);
    }
    SECTION("record with a repeat count") {
        h->record(1'000, 99);
        h->record(1'000'000, 1);
        h->record(5, 0);
        CHECK(h->count() == 100);
        CHECK(h->min() == 1'000);
        CHECK(h->p50() == 1'003); // top of the bucket [1000, 1003]
        CHECK(h->p99() == h->p50());
        CHECK(h->percentile(1.0) == 1'000'000);
        CHECK(h->mean() == Approx((99.0 * 1'000 + 1'000'000) / 100));
    }
    SECTION("reset forgets everything") {
        h->record(123);
        h->record(456'789);
        h->reset();
        CHECK(h->count() == 0);
        CHECK(h->max() == 0);
        CHECK(h->p99() == 0);
        h->record(7);
        CHECK(h->min() == 7);
        CHECK(h->p50() == 7);
    }
}
