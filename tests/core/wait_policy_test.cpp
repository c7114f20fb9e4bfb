// wait_policy: spin and yield return at once, block sleeps until the producer's notify() or its
// deadline, and a notify with nobody asleep makes no system call. The two-thread test checks that
// no wake-up is lost between the consumer's announcement and the producer's publish.
#include "quoter/core/spsc_ring.hpp"
#include "quoter/core/wait_policy.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>

using namespace quoter::core;
using std::chrono::steady_clock;

namespace {

constexpr std::int64_t ms = 1'000'000;

double elapsed_ms(steady_clock::time_point since) {
    return std::chrono::duration<double, std::milli>(steady_clock::now() - since).count();
}

} // namespace

TEST_CASE("spin and yield never sleep", "[wait_policy]") {
    // Only the blocking path re-checks the inputs before it sleeps; with an hour-long deadline a
    // single sleep would also hang the test, so a pass means no call slept.
    for (const idle_policy policy : {idle_policy::spin, idle_policy::yield}) {
        idle_waiter waiter(policy);
        int rechecks = 0;
        for (int i = 0; i < 1000; ++i) {
            waiter.idle(
                [&] {
                    ++rechecks;
                    return false;
                },
                3'60'000 * ms);
        }
        CHECK(rechecks == 0);
    }
}

TEST_CASE("block without a wake-up signal falls back to yield", "[wait_policy]") {
    CHECK(idle_waiter(idle_policy::block).policy() == idle_policy::yield);
    wakeup signal;
    CHECK(idle_waiter(idle_policy::block, &signal).policy() == idle_policy::block);
}

TEST_CASE("block sleeps until its deadline when nothing is published", "[wait_policy]") {
    wakeup signal;
    const auto start = steady_clock::now();
    CHECK_FALSE(signal.wait_for([] { return false; }, 30 * ms));
    CHECK(elapsed_ms(start) >= 29.0);
}

TEST_CASE("block does not sleep when the re-check finds input", "[wait_policy]") {
    // Had it slept, the wait would have run into its hour-long deadline and returned false.
    wakeup signal;
    CHECK(signal.wait_for([] { return true; }, 3'60'000 * ms));
}

TEST_CASE("notify makes no system call while the consumer is awake", "[wait_policy]") {
    wakeup signal;
    for (int i = 0; i < 100; ++i) {
        signal.notify();
    }
    CHECK(signal.wakes_sent() == 0);
}

TEST_CASE("notify wakes a blocked consumer long before its deadline", "[wait_policy][threads]") {
    wakeup signal;
    std::atomic<bool> published{false};
    std::atomic<bool> asleep_soon{false};
    bool woken = false;
    std::thread consumer([&] {
        asleep_soon.store(true);
        // false would mean the wait ran into its deadline: the notify was lost.
        woken = signal.wait_for([&] { return published.load(); }, 60'000 * ms);
    });
    while (!asleep_soon.load()) {
        std::this_thread::yield();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    published.store(true);
    signal.notify();
    consumer.join();
    CHECK(woken);
}

TEST_CASE("a blocking consumer loses no wake-up across many hand-offs", "[wait_policy][threads]") {
    // Every idle wait would run into its (long) deadline if a publish slipped between the
    // consumer's re-check and its sleep; the consumer counts such timeouts.
    constexpr std::uint64_t items = 20'000;
    auto ring = std::make_unique<spsc_ring<std::uint64_t, 16>>();
    wakeup signal;
    std::uint64_t timeouts = 0;
    std::uint64_t bad = 0;
    std::thread consumer([&] {
        for (std::uint64_t expected = 0; expected < items;) {
            if (ring->consume([&](const std::uint64_t& v) { bad += v != expected; })) {
                ++expected;
                continue;
            }
            if (!signal.wait_for([&] { return ring->front() != nullptr; }, 2000 * ms)) {
                ++timeouts;
            }
        }
    });
    for (std::uint64_t i = 0; i < items; ++i) {
        while (!ring->try_push(i)) {
            std::this_thread::yield();
        }
        signal.notify();
        if (i % 64 == 0) {
            std::this_thread::yield(); // let the consumer catch up and go to sleep now and then
        }
    }
    consumer.join();
    CHECK(bad == 0);
    CHECK(timeouts == 0);
    CHECK(signal.wakes_sent() > 0); // the consumer really slept and was woken
}
