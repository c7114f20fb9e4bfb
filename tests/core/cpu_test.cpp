// CPU pinning, checked against the kernel's own view: after a successful pin the thread's
// affinity mask (read with sched_getaffinity, not through quoter) holds exactly that CPU and
// sched_getcpu() reports it; a refused pin leaves the mask as it was; CPUs that do not exist are
// refused with invalid_cpu, up to the exact boundary. A spin-wait on cpu_relax ends when another
// thread releases it. Pinning happens on scratch threads so the test runner's affinity stays
// untouched.
#include "quoter/core/cpu.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include <sched.h>
#include <unistd.h>

using namespace quoter::core;

namespace {

template <class F> void on_scratch_thread(F&& body) {
    std::thread worker(std::forward<F>(body));
    worker.join();
}

/// The calling thread's affinity mask as the kernel reports it.
cpu_set_t kernel_mask() {
    cpu_set_t mask;
    CPU_ZERO(&mask);
    REQUIRE(sched_getaffinity(0, sizeof(mask), &mask) == 0);
    return mask;
}

std::vector<int> cpus_in(const cpu_set_t& mask) {
    std::vector<int> cpus;
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
        if (CPU_ISSET(cpu, &mask)) {
            cpus.push_back(cpu);
        }
    }
    return cpus;
}

/// What one pin attempt did, seen from the pinned thread.
struct pin_attempt {
    result<int, pin_error> outcome = unexpected{pin_error::none};
    std::vector<int> mask_after;  ///< The thread's CPUs after the attempt.
    bool mask_unchanged = false;  ///< Same mask as before the attempt.
    int running_on = -2;          ///< sched_getcpu() after the attempt.
    int allowed_count_after = -1; ///< allowed_cpu_count() after the attempt.
};

pin_attempt attempt_pin(int cpu) {
    pin_attempt attempt;
    on_scratch_thread([&] {
        const cpu_set_t before = kernel_mask();
        attempt.outcome = pin_current_thread(cpu);
        const cpu_set_t after = kernel_mask();
        attempt.mask_after = cpus_in(after);
        attempt.mask_unchanged = CPU_EQUAL(&before, &after) != 0;
        attempt.running_on = sched_getcpu();
        attempt.allowed_count_after = allowed_cpu_count();
    });
    return attempt;
}

} // namespace

TEST_CASE("allowed_cpu_count is the size of the kernel's affinity mask", "[cpu]") {
    int counted = 0;
    int expected = 0;
    on_scratch_thread([&] {
        const cpu_set_t mask = kernel_mask();
        expected = CPU_COUNT(&mask);
        counted = allowed_cpu_count();
    });
    REQUIRE(expected >= 1);
    CHECK(counted == expected);
}

TEST_CASE("pinning to each allowed CPU restricts the thread to it and runs it there", "[cpu]") {
    const std::vector<int> allowed = cpus_in(kernel_mask());
    REQUIRE_FALSE(allowed.empty());
    for (const int cpu : allowed) {
        CAPTURE(cpu);
        const pin_attempt attempt = attempt_pin(cpu);
        REQUIRE(attempt.outcome.has_value());
        CHECK(*attempt.outcome == cpu);
        CHECK(attempt.mask_after == std::vector<int>{cpu});
        CHECK(attempt.running_on == cpu);
        CHECK(current_cpu() >= 0);
        CHECK(attempt.allowed_count_after == 1);
    }
}

TEST_CASE("pinning to a CPU that does not exist is refused and changes nothing", "[cpu]") {
    const long configured = sysconf(_SC_NPROCESSORS_CONF);
    REQUIRE(configured >= 1);
    // The first id past the CPUs the kernel knows, a negative id, and one far out of range.
    for (const int cpu : {static_cast<int>(configured), -1, 1 << 20}) {
        CAPTURE(cpu);
        const pin_attempt attempt = attempt_pin(cpu);
        REQUIRE_FALSE(attempt.outcome.has_value());
        CHECK(attempt.outcome.error() == pin_error::invalid_cpu);
        CHECK(attempt.mask_unchanged);
    }
    CHECK_FALSE(describe(pin_error::invalid_cpu).empty());
    CHECK(describe(pin_error::cpu_not_allowed) != describe(pin_error::invalid_cpu));
}

TEST_CASE("every configured CPU is either pinned to or refused as not allowed", "[cpu]") {
    // CPUs outside this process's cpuset (or offline) exist but cannot be used: they must be
    // reported as cpu_not_allowed, leaving the mask alone, never as a success or invalid_cpu.
    const long configured = sysconf(_SC_NPROCESSORS_CONF);
    for (int cpu = 0; cpu < static_cast<int>(configured) && cpu < CPU_SETSIZE; ++cpu) {
        CAPTURE(cpu);
        const pin_attempt attempt = attempt_pin(cpu);
        if (attempt.outcome.has_value()) {
            CHECK(attempt.mask_after == std::vector<int>{cpu});
            CHECK(attempt.running_on == cpu);
        } else {
            CHECK(attempt.outcome.error() == pin_error::cpu_not_allowed);
            CHECK(attempt.mask_unchanged);
        }
    }
}

TEST_CASE("a spin-wait with cpu_relax sees another thread's release", "[cpu]") {
    std::atomic<bool> released{false};
    std::atomic<long> spins{0};
    std::thread waiter([&] {
        while (!released.load(std::memory_order_acquire)) {
            cpu_relax();
            spins.fetch_add(1, std::memory_order_relaxed);
        }
    });
    // Release only once the waiter is seen spinning, so that the loop is really exercised.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (spins.load(std::memory_order_relaxed) == 0 &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::yield();
    }
    const long before_release = spins.load(std::memory_order_relaxed);
    released.store(true, std::memory_order_release);
    waiter.join(); // a wait that missed the release would hang here (the test timeout fails it)
    CHECK(before_release > 0);
}
