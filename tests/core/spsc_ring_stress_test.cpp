// Two-thread stress test of spsc_ring: one producer, one consumer, millions of 64-byte events
// whose sequence and payload the consumer checks. Small and tight rings force the full and
// empty transitions (and the cached-index refreshes) on almost every operation. Runs under
// ThreadSanitizer in the tsan preset, with fewer items there because TSan is ~50x slower.
#include "quoter/core/cpu.hpp"
#include "quoter/core/spsc_ring.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>

using quoter::core::spsc_ring;

namespace {

#if defined(__SANITIZE_THREAD__)
constexpr bool thread_sanitizer = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
constexpr bool thread_sanitizer = true;
#else
constexpr bool thread_sanitizer = false;
#endif
#else
constexpr bool thread_sanitizer = false;
#endif

constexpr std::uint64_t item_count = thread_sanitizer ? 1'000'000 : 4'000'000;
// A hung side gives up after this long so that a lost item fails the test instead of hanging it.
constexpr auto give_up_after = std::chrono::seconds(120);

struct alignas(64) stress_event {
    std::uint64_t sequence;
    std::array<std::uint64_t, 7> payload;
};
static_assert(sizeof(stress_event) == 64);

// Payload words are a mix of the sequence number, so a torn or stale slot shows up as a mismatch.
constexpr std::uint64_t payload_word(std::uint64_t sequence, std::size_t word) noexcept {
    std::uint64_t z = sequence * 0x9E3779B97F4A7C15ULL + word * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 30)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

stress_event make_event(std::uint64_t sequence) noexcept {
    stress_event e{sequence, {}};
    for (std::size_t w = 0; w < e.payload.size(); ++w) {
        e.payload[w] = payload_word(sequence, w);
    }
    return e;
}

// in_place: the producer rotates through try_push, try_emplace and try_claim/commit, building
// the element in the slot; the consumer through try_pop, consume, front/pop and pop_batch.
enum class consume_mode { single, batch, mixed, in_place };

struct stress_outcome {
    std::uint64_t received = 0;
    std::uint64_t first_bad_index = ~std::uint64_t{0};
    std::uint64_t bad_sequence = 0;
    bool timed_out = false;
};

// Backs off politely so the test also progresses on a loaded two-CPU machine: spins, then
// yields, then sleeps while the other side cannot run. With both CPUs busy (the other tests,
// a build), a side that only yields can hand its CPU to everything but its peer, and a run
// then took minutes.
struct backoff {
    unsigned failures = 0;
    void wait() noexcept {
        ++failures;
        if (failures < 64) {
            quoter::core::cpu_relax();
        } else if (failures < 1024) {
            std::this_thread::yield();
        } else {
            std::this_thread::sleep_for(std::chrono::microseconds(20));
        }
    }
    void progressed() noexcept { failures = 0; }
};

template <std::size_t Capacity> stress_outcome run_stress(consume_mode mode) {
    auto ring = std::make_unique<spsc_ring<stress_event, Capacity>>();
    std::atomic<bool> abort{false};
    const auto deadline = std::chrono::steady_clock::now() + give_up_after;

    std::thread producer([&] {
        backoff wait;
        for (std::uint64_t s = 0; s < item_count; ++s) {
            const stress_event e = make_event(s);
            const auto push = [&] {
                if (mode != consume_mode::in_place || s % 3 == 0) {
                    return ring->try_push(e);
                }
                if (s % 3 == 1) {
                    return ring->try_emplace([&](stress_event& slot) {
                        slot.sequence = s;
                        for (std::size_t w = 0; w < slot.payload.size(); ++w) {
                            slot.payload[w] = payload_word(s, w);
                        }
                    });
                }
                stress_event* slot = ring->try_claim();
                if (slot == nullptr) {
                    return false;
                }
                *slot = e;
                ring->commit();
                return true;
            };
            while (!push()) {
                if (abort.load(std::memory_order_relaxed)) {
                    return;
                }
                wait.wait();
            }
            wait.progressed();
        }
    });

    stress_outcome outcome;
    auto check = [&](const stress_event& e) {
        const std::uint64_t expected = outcome.received++;
        if (outcome.first_bad_index != ~std::uint64_t{0}) {
            return;
        }
        bool good = e.sequence == expected;
        for (std::size_t w = 0; good && w < e.payload.size(); ++w) {
            good = e.payload[w] == payload_word(expected, w);
        }
        if (!good) {
            outcome.first_bad_index = expected;
            outcome.bad_sequence = e.sequence;
        }
    };

    backoff wait;
    std::uint64_t polls = 0;
    while (outcome.received < item_count) {
        bool got = false;
        const bool use_batch =
            mode == consume_mode::batch || (mode == consume_mode::mixed && (polls & 1) != 0);
        if (mode == consume_mode::in_place) {
            switch (polls % 4) {
            case 0:
                got = ring->pop_batch(check, 1 + polls % 5) != 0;
                break;
            case 1:
                got = ring->consume(check);
                break;
            case 2:
                if (const stress_event* e = ring->front(); e != nullptr) {
                    check(*e);
                    ring->pop();
                    got = true;
                }
                break;
            default: {
                stress_event e{};
                got = ring->try_pop(e);
                if (got) {
                    check(e);
                }
            }
            }
        } else if (use_batch) {
            // Varying limits, including 1 and more than the capacity.
            const std::size_t limit = 1 + (polls * 7) % (Capacity + 3);
            got = ring->pop_batch(check, limit) != 0;
        } else {
            stress_event e{};
            got = ring->try_pop(e);
            if (got) {
                check(e);
            }
        }
        ++polls;
        if (got) {
            wait.progressed();
        } else {
            if ((polls & 1023) == 0 && std::chrono::steady_clock::now() > deadline) {
                outcome.timed_out = true;
                abort.store(true, std::memory_order_relaxed);
                break;
            }
            wait.wait();
        }
    }
    producer.join();
    return outcome;
}

void require_all_delivered(const stress_outcome& outcome) {
    INFO("items: " << item_count << (thread_sanitizer ? " (ThreadSanitizer build)" : ""));
    REQUIRE_FALSE(outcome.timed_out);
    INFO("first bad item " << outcome.first_bad_index << " carried sequence "
                           << outcome.bad_sequence);
    CHECK(outcome.first_bad_index == ~std::uint64_t{0});
    CHECK(outcome.received == item_count);
}

} // namespace

TEST_CASE("two threads pass every item in order through a tiny ring", "[spsc_ring][threads]") {
    require_all_delivered(run_stress<4>(consume_mode::mixed));
}

TEST_CASE("two threads pass every item in order with single pops", "[spsc_ring][threads]") {
    require_all_delivered(run_stress<256>(consume_mode::single));
}

TEST_CASE("two threads pass every item in order with batch pops", "[spsc_ring][threads]") {
    require_all_delivered(run_stress<1024>(consume_mode::batch));
}

TEST_CASE("two threads pass every item in order building and reading in place",
          "[spsc_ring][threads]") {
    require_all_delivered(run_stress<8>(consume_mode::in_place));
    require_all_delivered(run_stress<512>(consume_mode::in_place));
}
