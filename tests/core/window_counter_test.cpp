#include "quoter/core/window_counter.hpp"

#include <catch2/catch.hpp>

#include <deque>
#include <random>

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
