// The md -> core hand-off with depth on two threads: a feed_handler on the producer thread
// publishes random diffs and bookTickers through ring_event_sink into an event ring and a depth
// ring; the consumer drains the event ring in place and takes each flagged event's record from the
// depth ring. Every record must arrive with its own event (same sequence, same top and counts),
// in order, with the levels the producer published; a full ring drops an event and its record
// together. Small enough for ThreadSanitizer (tsan preset).
#include "quoter/core/cpu.hpp"
#include "quoter/core/spsc_ring.hpp"
#include "quoter/md/feed_handler.hpp"
#include "quoter/md/publisher.hpp"

#include "md/test_support.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

using namespace quoter;
using namespace quoter::md;
using quoter::md::testing::btc;

namespace {

constexpr core::timestamp_ns ms = core::ns_per_ms;
constexpr std::size_t event_slots = 64;
constexpr std::size_t depth_slots = 16; // smaller: a burst fills it first

/// The producer side: the ring sink, and a copy of every record it handed on (read by the test
/// thread after the producer joined).
class tee_sink final : public md_event_sink {
public:
    tee_sink(core::spsc_ring<md_event, event_slots>& events,
             core::spsc_ring<md_depth, depth_slots>& depths)
        : ring_(events, depths) {
        want_depth(true);
        sent.reserve(20'000);
    }
    void on_event(const md_event& event) noexcept override {
        const std::uint64_t dropped = ring_.dropped();
        ring_.on_event(event);
        dropped_events += ring_.dropped() - dropped;
    }
    void on_event_depth(const md_event& event, const md_depth& depth) noexcept override {
        const std::uint64_t dropped = ring_.dropped();
        ring_.on_event_depth(event, depth);
        if (ring_.dropped() == dropped) {
            sent.push_back(depth);
        } else {
            ++dropped_with_depth;
        }
    }
    std::vector<md_depth> sent; ///< Records that went into the ring, in order.
    std::uint64_t dropped_events = 0;
    std::uint64_t dropped_with_depth = 0;

private:
    ring_event_sink<event_slots, depth_slots> ring_;
};

std::string diff(std::uint64_t id, const std::string& bids, const std::string& asks) {
    return R"({"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":)" +
           std::to_string(id) + R"(,"u":)" + std::to_string(id) + R"(,"b":[)" + bids +
           R"(],"a":[)" + asks + "]}}";
}

std::string level(std::int64_t ticks, const std::string& qty) {
    return R"([")" + std::to_string(ticks / 100) + "." + (ticks % 100 < 10 ? "0" : "") +
           std::to_string(ticks % 100) + R"(",")" + qty + R"("])";
}

} // namespace

TEST_CASE("depth records cross threads with their events, in order", "[publisher][threaded]") {
    const symbol_registry registry = testing::make_registry();
    auto events = std::make_unique<core::spsc_ring<md_event, event_slots>>();
    auto depths = std::make_unique<core::spsc_ring<md_depth, depth_slots>>();
    tee_sink sink(*events, *depths);
    feed_handler feed(registry, sink);

    // Producer: sync BTCUSDT, then random diffs around the top.
    std::mt19937_64 rng(7);
    feed.on_connected(0);
    (void)feed.on_message_copy(diff(100, "", ""), 1 * ms);
    (void)feed.on_snapshot_copy(btc,
                                R"({"lastUpdateId":99,"bids":[["100.00","1"],["99.00","2"]],)"
                                R"("asks":[["101.00","3"],["102.00","4"]]})",
                                2 * ms);
    REQUIRE(feed.sync(btc).state() == feed_state::synced);
    std::atomic<bool> done{false};
    std::vector<md_event> got_events;
    std::vector<md_depth> got_depths;
    std::uint64_t mismatches = 0;
    got_events.reserve(30'000);
    got_depths.reserve(20'000);

    std::thread core([&] {
        const auto drain = [&] {
            bool any = false;
            while (const md_event* event = events->front()) {
                any = true;
                got_events.push_back(*event);
                if (event->has_depth()) {
                    const md_depth* record = depths->front();
                    if (record == nullptr) {
                        ++mismatches; // published after its event: never
                    } else {
                        mismatches += static_cast<std::uint64_t>(
                            record->sequence != event->sequence ||
                            record->bid_count != event->bid_count ||
                            record->ask_count != event->ask_count ||
                            record->bids[0] != event->top.bid || record->asks[0] != event->top.ask);
                        got_depths.push_back(*record);
                        depths->pop();
                    }
                }
                events->pop();
            }
            return any;
        };
        for (;;) {
            if (drain()) {
                continue;
            }
            if (done.load(std::memory_order_acquire)) {
                while (drain()) {
                }
                break;
            }
            core::cpu_relax();
        }
    });

    std::uint64_t id = 100;
    for (int i = 0; i < 6'000; ++i) {
        std::string bids;
        std::string asks;
        for (std::size_t n = rng() % 4, k = 0; k < n; ++k) {
            const auto ticks = 10'000 - static_cast<std::int64_t>(rng() % 40);
            bids += (k == 0 ? "" : ",") + level(ticks, rng() % 4 == 0 ? "0" : "0.5");
        }
        for (std::size_t n = rng() % 4, k = 0; k < n; ++k) {
            const auto ticks = 10'100 + static_cast<std::int64_t>(rng() % 40);
            asks += (k == 0 ? "" : ",") + level(ticks, rng() % 4 == 0 ? "0" : "0.5");
        }
        ++id;
        // Mostly the producer waits for room (every record gets through); one message in ten
        // goes in a burst regardless, where a full ring drops event and record together.
        if (i % 10 != 0) {
            while (events->size_approx() >= event_slots - 4 ||
                   depths->size_approx() >= depth_slots - 1) {
                std::this_thread::yield();
            }
        }
        (void)feed.on_message_copy(diff(id, bids, asks), static_cast<core::timestamp_ns>(3 + i));
    }
    done.store(true, std::memory_order_release);
    core.join();

    CHECK(mismatches == 0);
    CHECK(depths->front() == nullptr); // no record left without its event
    // Every event the ring took arrived, in order; every record the ring took arrived, intact.
    CHECK(got_events.size() ==
          feed.publisher().published() - sink.dropped_events - sink.dropped_with_depth);
    for (std::size_t i = 1; i < got_events.size(); ++i) {
        REQUIRE(got_events[i].sequence > got_events[i - 1].sequence);
    }
    REQUIRE(got_depths.size() == sink.sent.size());
    for (std::size_t i = 0; i < got_depths.size(); ++i) {
        REQUIRE(std::memcmp(&got_depths[i], &sink.sent[i], sizeof(md_depth)) == 0);
    }
    CHECK(got_depths.size() > 1'000);
    INFO("dropped with depth " << sink.dropped_with_depth);
}

TEST_CASE("a consumer that does not ask for depth gets no records and the producer writes none",
          "[publisher][threaded]") {
    const symbol_registry registry = testing::make_registry();
    auto events = std::make_unique<core::spsc_ring<md_event, event_slots>>();
    auto depths = std::make_unique<core::spsc_ring<md_depth, depth_slots>>();
    ring_event_sink<event_slots> sink(*events); // no depth ring: no depth wanted
    CHECK_FALSE(sink.wants_depth());
    feed_handler feed(registry, sink);
    feed.on_connected(0);
    (void)feed.on_message_copy(diff(100, "", ""), 1 * ms);
    (void)feed.on_snapshot_copy(btc,
                                R"({"lastUpdateId":99,"bids":[["100.00","1"],["99.00","2"]],)"
                                R"("asks":[["101.00","3"],["102.00","4"]]})",
                                2 * ms);
    std::uint64_t books = 0;
    for (std::uint64_t id = 101; id < 140; ++id) {
        (void)feed.on_message_copy(
            diff(id, level(9'990 + static_cast<std::int64_t>(id % 7), "1"), ""),
            static_cast<core::timestamp_ns>(id) * ms);
        while (const md_event* event = events->front()) {
            CHECK_FALSE(event->has_depth());
            books += static_cast<std::uint64_t>(event->kind == md_event_kind::book);
            events->pop();
        }
    }
    CHECK(books > 30);
    CHECK(depths->size_approx() == 0);
    CHECK(sink.dropped() == 0);
}
