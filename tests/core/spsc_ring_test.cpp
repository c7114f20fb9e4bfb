// Single-thread semantics of spsc_ring: full and empty, FIFO order across index wrap-around, and
// the limits of pop_batch. The two-thread test lives in spsc_ring_stress_test.cpp.
#include "quoter/core/spsc_ring.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <deque>
#include <random>
#include <vector>

using quoter::core::spsc_ring;

namespace {

struct order_event {
    std::uint64_t sequence = 0;
    std::int64_t price_ticks = 0;
    std::int64_t qty_lots = 0;
};

std::vector<int> drain(auto& ring, std::size_t max_items) {
    std::vector<int> seen;
    const std::size_t handled = ring.pop_batch([&](const int& v) { seen.push_back(v); }, max_items);
    CHECK(handled == seen.size());
    return seen;
}

} // namespace

TEST_CASE("a new ring is empty", "[spsc_ring]") {
    spsc_ring<int, 8> ring;
    int out = 42;
    CHECK_FALSE(ring.try_pop(out));
    CHECK(out == 42); // untouched on failure
    CHECK(ring.size_approx() == 0);
    CHECK(ring.empty_approx());
    bool called = false;
    CHECK(ring.pop_batch([&](const int&) { called = true; }) == 0);
    CHECK_FALSE(called);
}

TEST_CASE("a full ring rejects pushes and keeps its contents", "[spsc_ring]") {
    spsc_ring<int, 8> ring;
    STATIC_REQUIRE(decltype(ring)::capacity == 8);
    for (int i = 0; i < 8; ++i) {
        REQUIRE(ring.try_push(i));
    }
    CHECK(ring.size_approx() == 8);
    CHECK_FALSE(ring.try_push(99));
    CHECK_FALSE(ring.try_push(100));
    CHECK(ring.size_approx() == 8);

    // One pop frees exactly one slot.
    int out = -1;
    REQUIRE(ring.try_pop(out));
    CHECK(out == 0);
    CHECK(ring.try_push(8));
    CHECK_FALSE(ring.try_push(9));

    for (int expected = 1; expected <= 8; ++expected) {
        REQUIRE(ring.try_pop(out));
        CHECK(out == expected);
    }
    CHECK_FALSE(ring.try_pop(out));
    CHECK(ring.empty_approx());
}

TEST_CASE("the smallest ring holds two elements", "[spsc_ring]") {
    spsc_ring<std::uint8_t, 2> ring;
    std::uint8_t out = 0;
    for (int round = 0; round < 1000; ++round) {
        const auto value = static_cast<std::uint8_t>(round);
        REQUIRE(ring.try_push(value));
        REQUIRE(ring.try_push(static_cast<std::uint8_t>(value + 1)));
        REQUIRE_FALSE(ring.try_push(0));
        REQUIRE(ring.try_pop(out));
        REQUIRE(out == value);
        REQUIRE(ring.try_pop(out));
        REQUIRE(out == static_cast<std::uint8_t>(value + 1));
        REQUIRE_FALSE(ring.try_pop(out));
    }
}

TEST_CASE("order survives many wrap-arounds", "[spsc_ring]") {
    spsc_ring<order_event, 16> ring;
    std::uint64_t next_push = 0;
    std::uint64_t next_pop = 0;
    // Fill levels of 1..16 so that the full boundary falls on every slot.
    for (int round = 0; round < 2000; ++round) {
        const int fill = 1 + round % 16;
        for (int i = 0; i < fill; ++i) {
            const auto s = static_cast<std::int64_t>(next_push);
            REQUIRE(ring.try_push({next_push, s * 3, -s}));
            ++next_push;
        }
        if (fill == 16) {
            REQUIRE_FALSE(ring.try_push({}));
        }
        order_event out;
        for (int i = 0; i < fill; ++i) {
            REQUIRE(ring.try_pop(out));
            REQUIRE(out.sequence == next_pop);
            REQUIRE(out.price_ticks == static_cast<std::int64_t>(next_pop) * 3);
            REQUIRE(out.qty_lots == -static_cast<std::int64_t>(next_pop));
            ++next_pop;
        }
        REQUIRE_FALSE(ring.try_pop(out));
    }
    CHECK(next_pop > 16'000U);
}

TEST_CASE("random operations match a FIFO model", "[spsc_ring]") {
    spsc_ring<int, 32> ring;
    std::deque<int> model;
    std::mt19937_64 rng(20240611);
    std::uniform_int_distribution<int> op(0, 9);
    std::uniform_int_distribution<int> batch(0, 40);
    int next = 0;
    for (int step = 0; step < 200'000; ++step) {
        const int choice = op(rng);
        if (choice < 5) {
            const bool pushed = ring.try_push(next);
            REQUIRE(pushed == (model.size() < 32));
            if (pushed) {
                model.push_back(next++);
            }
        } else if (choice < 8) {
            int out = -1;
            const bool popped = ring.try_pop(out);
            REQUIRE(popped == !model.empty());
            if (popped) {
                REQUIRE(out == model.front());
                model.pop_front();
            }
        } else {
            const auto limit = static_cast<std::size_t>(batch(rng));
            std::vector<int> seen;
            const std::size_t handled =
                ring.pop_batch([&](const int& v) { seen.push_back(v); }, limit);
            REQUIRE(handled == seen.size());
            REQUIRE(handled <= limit);
            REQUIRE(handled == std::min(limit, model.size()));
            for (const int v : seen) {
                REQUIRE(v == model.front());
                model.pop_front();
            }
        }
        REQUIRE(ring.size_approx() == model.size());
    }
}

TEST_CASE("pop_batch honours its limit and releases the slots it handled", "[spsc_ring]") {
    spsc_ring<int, 8> ring;
    for (int i = 0; i < 8; ++i) {
        REQUIRE(ring.try_push(i));
    }

    SECTION("a limit of zero handles nothing") {
        CHECK(drain(ring, 0).empty());
        CHECK(ring.size_approx() == 8);
    }
    SECTION("a limit below the fill level handles exactly the limit") {
        CHECK(drain(ring, 3) == std::vector<int>{0, 1, 2});
        CHECK(ring.size_approx() == 5);
        // The three released slots are writable again, and no more.
        CHECK(ring.try_push(8));
        CHECK(ring.try_push(9));
        CHECK(ring.try_push(10));
        CHECK_FALSE(ring.try_push(11));
        CHECK(drain(ring, 100) == std::vector<int>{3, 4, 5, 6, 7, 8, 9, 10});
    }
    SECTION("a limit above the fill level handles what is there") {
        CHECK(drain(ring, 100) == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7});
        CHECK(drain(ring, 100).empty());
    }
    SECTION("the default limit is the capacity") {
        CHECK(drain(ring, decltype(ring)::capacity).size() == 8);
    }
    SECTION("a batch spanning the end of the slot array keeps order") {
        CHECK(drain(ring, 6).size() == 6); // head at slot 6
        for (int i = 8; i < 14; ++i) {
            REQUIRE(ring.try_push(i)); // slots 0..5 after the wrap
        }
        CHECK(drain(ring, 100) == std::vector<int>{6, 7, 8, 9, 10, 11, 12, 13});
    }
    SECTION("try_pop and pop_batch interleave") {
        int out = -1;
        REQUIRE(ring.try_pop(out));
        CHECK(out == 0);
        CHECK(drain(ring, 2) == std::vector<int>{1, 2});
        REQUIRE(ring.try_pop(out));
        CHECK(out == 3);
        CHECK(drain(ring, 100) == std::vector<int>{4, 5, 6, 7});
    }
}

TEST_CASE("pop_batch sees elements pushed after an empty poll", "[spsc_ring]") {
    spsc_ring<int, 4> ring;
    CHECK(drain(ring, 4).empty());
    REQUIRE(ring.try_push(1));
    CHECK(drain(ring, 4) == std::vector<int>{1});
    REQUIRE(ring.try_push(2));
    REQUIRE(ring.try_push(3));
    int out = 0;
    REQUIRE(ring.try_pop(out));
    CHECK(out == 2);
    CHECK(drain(ring, 4) == std::vector<int>{3});
}

TEST_CASE("a claimed slot is invisible until committed", "[spsc_ring]") {
    spsc_ring<order_event, 4> ring;
    order_event* slot = ring.try_claim();
    REQUIRE(slot != nullptr);
    slot->sequence = 7;
    CHECK(ring.front() == nullptr);
    CHECK(ring.size_approx() == 0);
    CHECK(ring.try_claim() == slot); // claiming again without a commit: the same slot
    ring.commit();
    const order_event* front = ring.front();
    REQUIRE(front != nullptr);
    CHECK(front == slot); // read where it was built: no copy on either side
    CHECK(front->sequence == 7);
    CHECK(ring.front() == front); // front does not consume
    ring.pop();
    CHECK(ring.front() == nullptr);
    CHECK(ring.empty_approx());
}

TEST_CASE("try_claim and try_emplace refuse a full ring", "[spsc_ring]") {
    spsc_ring<int, 4> ring;
    for (int i = 0; i < 4; ++i) {
        REQUIRE(ring.try_emplace([i](int& slot) { slot = i; }));
    }
    CHECK(ring.try_claim() == nullptr);
    bool called = false;
    CHECK_FALSE(ring.try_emplace([&](int&) { called = true; }));
    CHECK_FALSE(called);
    CHECK_FALSE(ring.try_push(99));
    int seen = -1;
    REQUIRE(ring.consume([&](const int& v) { seen = v; }));
    CHECK(seen == 0);
    REQUIRE(ring.try_claim() != nullptr); // the released slot is free again
}

TEST_CASE("consume hands out each element once, in order, and nothing when empty", "[spsc_ring]") {
    spsc_ring<int, 8> ring;
    bool called = false;
    CHECK_FALSE(ring.consume([&](const int&) { called = true; }));
    CHECK_FALSE(called);
    std::vector<int> seen;
    // Several laps, so every slot is reused with a stale sequence word from the lap before.
    for (int i = 0; i < 50; ++i) {
        REQUIRE(ring.try_emplace([i](int& slot) { slot = i; }));
        if (i % 3 == 2) {
            while (ring.consume([&](const int& v) { seen.push_back(v); })) {
            }
        }
    }
    while (ring.consume([&](const int& v) { seen.push_back(v); })) {
    }
    REQUIRE(seen.size() == 50);
    for (int i = 0; i < 50; ++i) {
        CHECK(seen[static_cast<std::size_t>(i)] == i);
    }
}

TEST_CASE("single pops and batches mix in any order", "[spsc_ring]") {
    spsc_ring<int, 8> ring;
    int next_in = 0;
    int next_out = 0;
    std::mt19937 rng(7);
    for (int round = 0; round < 500; ++round) {
        const int pushes = static_cast<int>(rng() % 6);
        for (int i = 0; i < pushes && ring.try_push(next_in); ++i) {
            ++next_in;
        }
        const unsigned how = rng() % 3;
        if (how == 0) {
            for (const int v : drain(ring, 1 + rng() % 9)) {
                REQUIRE(v == next_out++);
            }
        } else if (how == 1) {
            int v = -1;
            if (ring.try_pop(v)) {
                REQUIRE(v == next_out++);
            }
        } else if (const int* v = ring.front(); v != nullptr) {
            REQUIRE(*v == next_out++);
            ring.pop();
        }
        REQUIRE(ring.size_approx() == static_cast<std::size_t>(next_in - next_out));
    }
    for (const int v : drain(ring, 8)) {
        REQUIRE(v == next_out++);
    }
    CHECK(next_out == next_in);
}

TEST_CASE("an element of up to 56 bytes shares one cache line with its sequence", "[spsc_ring]") {
    struct seven_words {
        std::uint64_t w[7];
    };
    struct alignas(64) full_line {
        std::uint64_t w[8];
    };
    CHECK(spsc_ring<seven_words, 4>::slot_bytes == 64);
    CHECK(spsc_ring<int, 4>::slot_bytes == 64);
    CHECK(spsc_ring<full_line, 4>::slot_bytes == 128);
}
