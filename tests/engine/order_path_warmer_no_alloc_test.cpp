// The order path warm-up allocates nothing: a core loop with the warmer on, quoting against the
// simulated exchange, is polled idle so that every poll runs one dry run (strategy quotes, the
// quote manager's decision, the pre-trade checks on the scratch checker, the exchange's arrival
// checks); counting hooks on the global operator new (every form) and, in builds without
// ASan/TSan, on malloc/calloc/realloc count the allocations made meanwhile: zero.
//
// A program of its own: replacing the global allocation functions affects the whole binary.
#include "engine_test_support.hpp"

#include "quoter/engine/core_loop.hpp"
#include "quoter/exec/sim_exchange.hpp"
#include "support/counting_allocator.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace {

std::atomic<bool> counting{false};
std::atomic<std::uint64_t> allocations{0};

void count_if_counting() noexcept {
    if (counting.load(std::memory_order_relaxed)) {
        allocations.fetch_add(1, std::memory_order_relaxed);
    }
}

} // namespace

void quoter::test::count_allocation() noexcept {
    count_if_counting();
}

#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__) && defined(__GLIBC__)
// glibc's own entry points, so that the hooks can forward without recursing.
extern "C" void* __libc_malloc(std::size_t size);
extern "C" void* __libc_calloc(std::size_t count, std::size_t size);
extern "C" void* __libc_realloc(void* p, std::size_t size);
extern "C" void* malloc(std::size_t size) {
    count_if_counting();
    return __libc_malloc(size);
}
extern "C" void* calloc(std::size_t count, std::size_t size) {
    count_if_counting();
    return __libc_calloc(count, size);
}
extern "C" void* realloc(void* p, std::size_t size) {
    count_if_counting();
    return __libc_realloc(p, size);
}
#endif

namespace quoter::engine {

TEST_CASE("the order path's dry run allocates nothing", "[engine][warmer][no_alloc]") {
    constexpr core::timestamp_ns ms = core::ns_per_ms;
    constexpr core::timestamp_ns us = core::ns_per_us;
    const md::instrument instrument = testing::btcusdt();
    core_loop_config config;
    config.warm_order_path_us = 100;
    config.quotes.levels = 2;
    config.strategy.levels.count = 2;
    const std::array<core::symbol_spec, 1> specs{instrument.trading_spec};
    exec::sim_exchange exchange(config.exchange, specs);
    core_loop loop(config, instrument, exchange, &exchange);
    core::timestamp_ns t = 1'000 * ms;
    for (int i = 0; i < 50; ++i) { // warm-up: quotes placed and acknowledged, dry runs made
        loop.on_event(testing::book(6'000'000 + i % 3, 6'000'010 + i % 3), t);
        for (int p = 1; p <= 5; ++p) {
            (void)loop.poll(t + p * 100 * us);
        }
        t += 10 * ms;
    }
    const std::uint64_t runs = loop.warmer().stats().runs;
    const std::uint64_t orders = loop.warmer().stats().orders;
    REQUIRE(runs > 0);
    counting.store(true);
    for (int i = 1; i <= 1'000; ++i) {
        (void)loop.poll(t + i * 100 * us);
    }
    counting.store(false);
    CHECK(loop.warmer().stats().runs == runs + 1'000);
    CHECK(loop.warmer().stats().orders == orders + 4'000); // two levels, both sides
    CHECK(loop.warmer().stats().encoded > orders);
    CHECK(allocations.load() == 0);
}

} // namespace quoter::engine
