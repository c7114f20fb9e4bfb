// CPU pinning reports success or a reason and never aborts; cpu_relax is callable anywhere.
// Pinning happens on a scratch thread so the test runner's own affinity stays untouched.
#include "quoter/core/cpu.hpp"

#include <catch2/catch.hpp>

#include <thread>

using namespace quoter::core;

namespace {

template <class F> void on_scratch_thread(F&& body) {
    std::thread worker(std::forward<F>(body));
    worker.join();
}

} // namespace

TEST_CASE("pinning to an allowed CPU moves the thread there", "[cpu]") {
    REQUIRE(allowed_cpu_count() >= 1);
    result<int, pin_error> pinned = unexpected{pin_error::none};
    int cpu_after = -2;
    on_scratch_thread([&] {
        // The first CPU this process may use.
        for (int cpu = 0; cpu < 1024; ++cpu) {
            pinned = pin_current_thread(cpu);
            if (pinned) {
                break;
            }
        }
        cpu_after = current_cpu();
    });
    REQUIRE(pinned.has_value());
    CHECK(cpu_after == *pinned);
}

TEST_CASE("pinning to a CPU that does not exist fails with a reason", "[cpu]") {
    result<int, pin_error> negative = 0;
    result<int, pin_error> huge = 0;
    int allowed_after = 0;
    on_scratch_thread([&] {
        const int allowed_before = allowed_cpu_count();
        negative = pin_current_thread(-1);
        huge = pin_current_thread(1 << 20);
        allowed_after = allowed_cpu_count() - allowed_before; // unchanged on failure
    });
    REQUIRE_FALSE(negative.has_value());
    CHECK(negative.error() == pin_error::invalid_cpu);
    REQUIRE_FALSE(huge.has_value());
    CHECK(huge.error() == pin_error::invalid_cpu);
    CHECK(allowed_after == 0);
    CHECK_FALSE(describe(pin_error::invalid_cpu).empty());
    CHECK(describe(pin_error::cpu_not_allowed) != describe(pin_error::invalid_cpu));
}

TEST_CASE("cpu_relax returns", "[cpu]") {
    for (int i = 0; i < 1000; ++i) {
        cpu_relax();
    }
    SUCCEED();
}
