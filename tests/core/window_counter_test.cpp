#include "quoter/core/window_counter.hpp"

#include "support/random_steps.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <deque>
#include <limits>
#include <random>
#include <utility>
#include <vector>

using quoter::core::duration_ns;
using quoter::core::ns_per_ms;
using quoter::core::ns_per_s;
using quoter::core::timestamp_ns;
using quoter::core::window_counter;

TEST_CASE("a window counter counts events inside the window and forgets old ones",
          "[window_counter]") {
    window_counter<10> counter(ns_per_s); // 100 ms buckets
    CHECK(counter.bucket_width() == 100 * ns_per_ms);
    CHECK(counter.count(0) == 0);
    counter.add(10 * ns_per_ms);
    counter.add(20 * ns_per_ms, 2);
    CHECK(counter.count(500 * ns_per_ms) == 3);
    // Within window + one bucket the events may still count, never before the window ends.
    CHECK(counter.count(1'000 * ns_per_ms) == 3);
    CHECK(counter.count(1'100 * ns_per_ms) == 0);
}

TEST_CASE("try_add admits up to the limit", "[window_counter]") {
    window_counter<20> counter(ns_per_s);
    for (int i = 0; i < 10; ++i) {
        CHECK(counter.try_add(i * ns_per_ms, 10));
    }
    CHECK_FALSE(counter.try_add(11 * ns_per_ms, 10));
    CHECK(counter.count(11 * ns_per_ms) == 10);
    CHECK(counter.try_add(ns_per_s + 50 * ns_per_ms, 10));
}

TEST_CASE("a jump longer than the window clears everything", "[window_counter]") {
    window_counter<4> counter(4 * ns_per_s);
    counter.add(0, 5);
    counter.add(3 * ns_per_s, 7);
    CHECK(counter.count(3 * ns_per_s) == 12);
    CHECK(counter.count(100 * ns_per_s) == 0);
    counter.add(100 * ns_per_s);
    CHECK(counter.count(100 * ns_per_s) == 1);
}

TEST_CASE("time going backwards counts in the current bucket", "[window_counter]") {
    window_counter<10> counter(ns_per_s);
    counter.add(500 * ns_per_ms);
    counter.add(400 * ns_per_ms);
    CHECK(counter.count(500 * ns_per_ms) == 2);
}

TEST_CASE("the count is never below the exact sliding count nor above window + one bucket",
          "[window_counter]") {
    constexpr timestamp_ns window = ns_per_s;
    window_counter<20> counter(window);
    const timestamp_ns width = counter.bucket_width();
    std::mt19937_64 rng(7);
    std::uniform_int_distribution<timestamp_ns> gap(0, 120 * ns_per_ms);
    std::deque<timestamp_ns> events;
    timestamp_ns now = 1'000 * ns_per_s;
    for (int i = 0; i < 5'000; ++i) {
        now += gap(rng);
        counter.add(now);
        events.push_back(now);
        while (!events.empty() && events.front() <= now - window - width) {
            events.pop_front();
        }
        std::uint64_t exact = 0;
        for (const auto t : events) {
            exact += t > now - window ? 1 : 0;
        }
        const std::uint64_t counted = counter.count(now);
        REQUIRE(counted >= exact);
        REQUIRE(counted <= events.size());
    }
}

TEST_CASE("a window counter's buckets, replayed into a fresh counter, count and expire the same",
          "[window_counter]") {
    window_counter<4> counter(4 * ns_per_s); // 1 s buckets
    counter.add(500 * ns_per_ms, 2);
    counter.add(2'100 * ns_per_ms, 3);
    counter.add(4'900 * ns_per_ms, 1);
    std::vector<std::pair<timestamp_ns, std::uint32_t>> buckets;
    counter.for_each_bucket([&](timestamp_ns start, std::uint32_t events) {
        buckets.emplace_back(start, events);
    });
    REQUIRE(buckets.size() == 3);
    CHECK(buckets[0] == std::pair<timestamp_ns, std::uint32_t>{0, 2});
    CHECK(buckets[1] == std::pair<timestamp_ns, std::uint32_t>{2 * ns_per_s, 3});
    CHECK(buckets[2] == std::pair<timestamp_ns, std::uint32_t>{4 * ns_per_s, 1});
    window_counter<4> restored(4 * ns_per_s);
    for (const auto& [start, events] : buckets) {
        restored.add(start, events);
    }
    for (const timestamp_ns t : {5 * ns_per_s, 6 * ns_per_s + 1, 7 * ns_per_s, 9 * ns_per_s,
                                 20 * ns_per_s}) {
        CHECK(restored.count(t) == counter.count(t));
    }
}

TEST_CASE("earliest_count_at_most is the first time the count falls to n without adds",
          "[window_counter]") {
    // Random histories; the answer is checked against count() itself on copies of the counter:
    // above n just before the answer, at most n from it on.
    std::mt19937_64 rng(11);
    for (int history = 0; history < 200; ++history) {
        window_counter<6> counter(600 * ns_per_ms); // 100 ms buckets, 7 kept
        timestamp_ns now = 0;
        const int events = static_cast<int>(rng() % 40);
        for (int i = 0; i < events; ++i) {
            now += static_cast<timestamp_ns>(rng() % (150 * ns_per_ms));
            counter.add(now, 1 + static_cast<std::uint32_t>(rng() % 3));
        }
        const std::uint64_t total = counter.count(now);
        for (std::uint64_t n = 0; n <= total + 1; ++n) {
            const timestamp_ns at = counter.earliest_count_at_most(n);
            if (total <= n) {
                CHECK(at == std::numeric_limits<timestamp_ns>::min());
                continue;
            }
            REQUIRE(at > now);
            window_counter<6> before = counter;
            window_counter<6> from = counter;
            CHECK(before.count(at - 1) > n);
            CHECK(from.count(at) <= n);
        }
    }
}

TEST_CASE("a counter that absorbs another counts as one that saw both histories",
          "[window_counter]") {
    // Two random histories, interleaved in time and each advanced by counts of its own, against
    // one counter that recorded every event in time order. Absorbing either into the other must
    // give that counter's counts and expiry times from then on.
    std::mt19937_64 rng(23);
    for (int history = 0; history < 200; ++history) {
        window_counter<6> first(600 * ns_per_ms); // 100 ms buckets, 7 kept
        window_counter<6> second(600 * ns_per_ms);
        window_counter<6> both(600 * ns_per_ms);
        timestamp_ns now = static_cast<timestamp_ns>(rng() % (2 * ns_per_s));
        const int events = static_cast<int>(rng() % 60);
        for (int i = 0; i < events; ++i) {
            now += static_cast<timestamp_ns>(rng() % (80 * ns_per_ms));
            const auto n = 1 + static_cast<std::uint32_t>(rng() % 3);
            window_counter<6>& own = rng() % 2 == 0 ? first : second;
            own.add(now, n);
            both.add(now, n);
            if (rng() % 4 == 0) {
                (void)(rng() % 2 == 0 ? first : second).count(now);
            }
        }
        window_counter<6> merged = history % 2 == 0 ? first : second;
        merged.absorb(history % 2 == 0 ? second : first);
        for (std::uint64_t n = 0; n < 8; ++n) {
            CHECK(merged.earliest_count_at_most(n) == both.earliest_count_at_most(n));
        }
        for (timestamp_ns t = now; t < now + ns_per_s; t += 37 * ns_per_ms) {
            REQUIRE(merged.count(t) == both.count(t));
        }
    }
}

TEST_CASE("absorbing an empty counter, or into one, changes no count", "[window_counter]") {
    window_counter<4> counter(4 * ns_per_s);
    counter.add(500 * ns_per_ms, 2);
    counter.add(2'100 * ns_per_ms, 3);
    const window_counter<4> unchanged = counter;
    window_counter<4> into_empty(4 * ns_per_s);
    into_empty.absorb(counter);
    counter.absorb(window_counter<4>(4 * ns_per_s));
    for (const timestamp_ns t : {3 * ns_per_s, 4 * ns_per_s + 1, 6 * ns_per_s, 9 * ns_per_s}) {
        window_counter<4> reference = unchanged;
        const std::uint64_t expected = reference.count(t);
        CHECK(counter.count(t) == expected);
        CHECK(into_empty.count(t) == expected);
    }
}

TEST_CASE("add_counted and counted right after count or add match add and count at that time",
          "[window_counter]") {
    // Two counters see the same times, in steps that stay in a bucket, cross one or several
    // buckets, jump past the window or go backwards; one uses add(now) and count(now)
    // throughout, the other add_counted() after count(now) and counted() after add(now).
    std::mt19937_64 rng(7);
    constexpr std::array<duration_ns, 6> steps{
        1, 37 * ns_per_ms, 180 * ns_per_ms, 3 * ns_per_s, -20 * ns_per_ms, 0};
    window_counter<20> plain(ns_per_s);
    window_counter<20> fast(ns_per_s);
    timestamp_ns now = 123;
    for (int i = 0; i < 5'000; ++i) {
        now += quoter::test::random_step(rng, steps);
        const std::uint32_t n = static_cast<std::uint32_t>(i % 3) + 1;
        if (i % 2 == 0) {
            REQUIRE(fast.count(now) == plain.count(now));
            fast.add_counted(n);
            plain.add(now, n);
        } else {
            fast.add(now, n);
            plain.add(now, n);
            REQUIRE(fast.counted() == plain.count(now));
        }
        REQUIRE(fast.next_drop() == plain.next_drop());
        REQUIRE(fast.earliest_count_at_most(2) == plain.earliest_count_at_most(2));
    }
}
