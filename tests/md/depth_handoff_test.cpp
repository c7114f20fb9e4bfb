// The md -> core hand-off of depth (md/depth_handoff.hpp): depth_sender on the producer side,
// depth_receiver on the consumer side, an event ring and a depth ring between them.
//
// Single-threaded: hand-made depths whose levels change below the top or only at the top, two
// symbols sharing a table entry, and full rings; the receiver must rebuild exactly the depth the
// sender was handed for every event the ring delivered, and a record must cross only when the
// levels below the top changed.
//
// Two threads: a feed_handler on the producer thread publishes random diffs and bookTickers
// through ring_event_sink into the two rings; the consumer drains the event ring in place and
// asks the receiver for each event's depth. Every depth must arrive with its own event, in order,
// as the producer published it; a full ring drops an event and its record together. Small enough
// for ThreadSanitizer (tsan preset).
#include "quoter/core/cpu.hpp"
#include "quoter/core/spsc_ring.hpp"
#include "quoter/md/depth_handoff.hpp"
#include "quoter/md/feed_handler.hpp"
#include "quoter/md/publisher.hpp"

#include "md/test_support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using namespace quoter;
using namespace quoter::md;
using quoter::md::testing::btc;

namespace {

constexpr core::timestamp_ns ms = core::ns_per_ms;
constexpr std::size_t event_slots = 64;
constexpr std::size_t depth_slots = 16; // smaller: a burst fills it first

/// Levels of one side, best first: (price ticks, lots).
using side_levels = std::vector<std::pair<std::int64_t, std::int64_t>>;

/// A depth record of symbol with the given levels (the others empty).
md_depth depth_of(symbol_id symbol, const side_levels& bids, const side_levels& asks) {
    md_depth depth;
    depth.symbol = symbol;
    const auto fill = [](auto& levels, const side_levels& given) {
        for (std::size_t i = 0; i < given.size(); ++i) {
            levels[i] = {core::price{given[i].first}, core::qty{given[i].second}};
        }
        return static_cast<std::uint8_t>(given.size());
    };
    depth.bid_count = fill(depth.bids, bids);
    depth.ask_count = fill(depth.asks, asks);
    return depth;
}

/// The valid book event that goes with depth, as md_publisher builds it.
md_event event_of(const md_depth& depth, std::uint64_t sequence) {
    md_event event;
    event.kind = md_event_kind::book;
    event.state = feed_state::synced;
    event.flags = md_flags::book_valid | md_flags::has_depth;
    event.symbol = depth.symbol;
    event.bid_count = depth.bid_count;
    event.ask_count = depth.ask_count;
    event.sequence = sequence;
    event.top = {.bid = depth.bids[0], .ask = depth.asks[0]};
    return event;
}

/// What the consumer must end up with for an event of sequence handed depth.
md_depth numbered(md_depth depth, std::uint64_t sequence) {
    depth.sequence = sequence;
    return depth;
}

bool same(const md_depth& a, const md_depth& b) {
    return std::memcmp(&a, &b, sizeof(md_depth)) == 0;
}

/// A sender and a receiver with their two rings, both sides on the calling thread.
template <std::size_t EventSlots, std::size_t DepthSlots> struct handoff {
    core::spsc_ring<md_event, EventSlots> events;
    core::spsc_ring<md_depth, DepthSlots> depths;
    depth_sender sender;
    depth_receiver receiver;
    std::uint64_t sequence = 0;

    /// Pushes depth's event (numbered next); returns whether the rings took it.
    bool send(const md_depth& depth) {
        return sender.push(events, depths, event_of(depth, ++sequence), depth);
    }

    struct delivered {
        md_event event;
        std::optional<md_depth> depth;
    };
    /// The oldest event in the ring and the receiver's depth of it; nothing when empty.
    std::optional<delivered> receive() {
        const md_event* event = events.front();
        if (event == nullptr) {
            return std::nullopt;
        }
        delivered out{*event, std::nullopt};
        if (const md_depth* depth = receiver.take(*event, depths)) {
            out.depth = *depth;
        }
        events.pop();
        return out;
    }
    /// Receives the next event and requires depth (numbered with the event's sequence).
    void require_received(const md_depth& depth) {
        const auto got = receive();
        REQUIRE(got.has_value());
        REQUIRE(got->depth.has_value());
        REQUIRE(got->event.sequence == got->depth->sequence);
        REQUIRE(same(*got->depth, numbered(depth, got->event.sequence)));
    }
};

/// The producer side: the ring sink, and a copy of the depth of every event it handed on (read
/// by the test thread after the producer joined).
class tee_sink final : public md_event_sink {
public:
    tee_sink(core::spsc_ring<md_event, event_slots>& events,
             core::spsc_ring<md_depth, depth_slots>& depths)
        : ring_(events, depths) {
        want_depth(true);
        sent.reserve(30'000);
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
    [[nodiscard]] const depth_sender& sender() const noexcept { return ring_.depth_sent(); }
    std::vector<md_depth> sent; ///< Depths of the events that went into the ring, in order.
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

std::string text_px(std::int64_t ticks) {
    return std::to_string(ticks / 100) + "." + (ticks % 100 < 10 ? "0" : "") +
           std::to_string(ticks % 100);
}

std::string level(std::int64_t ticks, const std::string& qty) {
    return R"([")" + text_px(ticks) + R"(",")" + qty + R"("])";
}

std::string book_ticker(std::uint64_t id, std::int64_t bid_ticks, const std::string& bid_qty,
                        std::int64_t ask_ticks, const std::string& ask_qty) {
    return R"({"stream":"btcusdt@bookTicker","data":{"u":)" + std::to_string(id) +
           R"(,"s":"BTCUSDT","b":")" + text_px(bid_ticks) + R"(","B":")" + bid_qty + R"(","a":")" +
           text_px(ask_ticks) + R"(","A":")" + ask_qty + R"("}})";
}

} // namespace

TEST_CASE("a depth that changed only in its best levels crosses without a record",
          "[depth_handoff]") {
    handoff<16, 16> h;
    md_depth depth = depth_of(0, {{10'000, 5}, {9'990, 2}, {9'980, 1}}, {{10'010, 3}, {10'020, 4}});
    REQUIRE(h.send(depth));
    CHECK(h.depths.size_approx() == 1);
    REQUIRE(h.events.front()->has_depth());
    h.require_received(depth);

    // The best bid's quantity, then both best prices: the event carries them, no record crosses.
    depth.bids[0].qty = core::qty{7};
    REQUIRE(h.send(depth));
    depth.bids[0] = {core::price{10'005}, core::qty{1}};
    depth.asks[0] = {core::price{10'008}, core::qty{2}};
    REQUIRE(h.send(depth));
    REQUIRE(h.send(depth)); // unchanged
    CHECK(h.depths.size_approx() == 0);
    for (int i = 0; i < 3; ++i) {
        const md_event* event = h.events.front();
        REQUIRE(event != nullptr);
        CHECK(event->depth_kept());
        CHECK_FALSE(event->has_depth());
    }
    h.require_received(
        depth_of(0, {{10'000, 7}, {9'990, 2}, {9'980, 1}}, {{10'010, 3}, {10'020, 4}}));
    h.require_received(depth);
    h.require_received(depth);

    // A level below the best, then a count: a record each time.
    depth.bids[2].qty = core::qty{9};
    REQUIRE(h.send(depth));
    depth.asks[1] = {};
    depth.ask_count = 1;
    REQUIRE(h.send(depth));
    CHECK(h.depths.size_approx() == 2);
    h.require_received(
        depth_of(0, {{10'005, 1}, {9'990, 2}, {9'980, 9}}, {{10'008, 2}, {10'020, 4}}));
    h.require_received(depth);
    // A side that loses its only level: the levels below the best are empty before and after,
    // and the event's top says the best is gone, but the count changed.
    depth.bids = {};
    depth.bids[0] = {core::price{10'005}, core::qty{1}};
    depth.bid_count = 1;
    REQUIRE(h.send(depth));
    h.require_received(depth);
    depth.bids[0] = {};
    depth.bid_count = 0;
    REQUIRE(h.send(depth));
    CHECK(h.depths.size_approx() == 1);
    h.require_received(depth);
    CHECK(h.sender.records() == 5);
    CHECK(h.sender.kept_events() == 3);
    CHECK(h.depths.front() == nullptr);
}

TEST_CASE("symbols keep their own depth, also when they share a table entry", "[depth_handoff]") {
    handoff<32, 32> h;
    const symbol_id a = 0;
    const symbol_id b = 1;
    const symbol_id shares_a = depth_handoff_symbols; // the same entry as a
    const auto book = [](symbol_id symbol, std::int64_t best_qty) {
        const std::int64_t base = 1'000 * (symbol + 1);
        return depth_of(symbol, {{base, best_qty}, {base - 1, 1}},
                        {{base + 1, best_qty}, {base + 2, 1}});
    };
    // Entries apart: each symbol's second event keeps its own first record.
    REQUIRE(h.send(book(a, 1)));
    REQUIRE(h.send(book(b, 1)));
    REQUIRE(h.send(book(a, 2)));
    REQUIRE(h.send(book(b, 2)));
    CHECK(h.depths.size_approx() == 2);
    // One entry: a's levels below the top are the same as before, but the entry holds
    // shares_a's record in between, so a's depth crosses again.
    REQUIRE(h.send(book(shares_a, 1)));
    REQUIRE(h.send(book(a, 3)));
    REQUIRE(h.send(book(a, 4)));
    CHECK(h.depths.size_approx() == 4);
    for (const md_depth& expected : {book(a, 1), book(b, 1), book(a, 2), book(b, 2),
                                     book(shares_a, 1), book(a, 3), book(a, 4)}) {
        h.require_received(expected);
    }
    CHECK(h.sender.records() == 4);
    CHECK(h.sender.kept_events() == 3);
}

TEST_CASE("a dropped event leaves the sender's and the receiver's depths in step",
          "[depth_handoff]") {
    const md_depth first = depth_of(0, {{100, 1}, {99, 1}}, {{101, 1}, {102, 1}});
    md_depth second = first;
    second.bids[1].qty = core::qty{2};
    md_depth third = second;
    third.asks[1].qty = core::qty{3};
    md_depth third_new_top = third;
    third_new_top.bids[0].qty = core::qty{5};

    SECTION("the event ring is full") {
        handoff<2, 4> h;
        REQUIRE(h.send(first));
        REQUIRE(h.send(second));
        CHECK_FALSE(h.send(third)); // dropped with its record
        h.require_received(first);
        h.require_received(second);
        // Only the top differs from the dropped depth, not from the last one that crossed: a
        // record, or the consumer would rebuild `second`'s levels.
        REQUIRE(h.send(third_new_top));
        REQUIRE(h.events.front()->has_depth());
        h.require_received(third_new_top);
    }
    SECTION("the depth ring is full, the event ring is not") {
        handoff<8, 2> h;
        REQUIRE(h.send(first));
        REQUIRE(h.send(second));
        CHECK_FALSE(h.send(third)); // its record has no room: dropped
        CHECK(h.events.size_approx() == 2);
        // A depth the consumer can rebuild still crosses: it needs no room in the depth ring.
        md_depth second_new_top = second;
        second_new_top.asks[0].qty = core::qty{8};
        REQUIRE(h.send(second_new_top));
        CHECK(h.events.front()->has_depth());
        h.require_received(first);
        h.require_received(second);
        REQUIRE(h.events.front()->depth_kept());
        h.require_received(second_new_top);
        REQUIRE(h.send(third_new_top));
        h.require_received(third_new_top);
    }
}

TEST_CASE("random depths of several symbols arrive as handed, whatever the rings drop",
          "[depth_handoff][property]") {
    handoff<8, 4> h;
    std::mt19937_64 rng(23);
    const std::array<symbol_id, 4> symbols{0, 1, depth_handoff_symbols, depth_handoff_symbols + 1};
    std::array<md_depth, 4> books{};
    for (std::size_t s = 0; s < symbols.size(); ++s) {
        books[s] = depth_of(symbols[s], {{1'000, 1}, {999, 1}, {998, 1}}, {{1'001, 1}, {1'002, 1}});
    }
    std::deque<md_depth> expected; ///< Depths of the events in the ring, oldest first.
    std::uint64_t delivered = 0;
    std::uint64_t dropped = 0;
    for (int step = 0; step < 20'000; ++step) {
        const std::size_t s = rng() % symbols.size();
        md_depth& book = books[s];
        const std::uint64_t change = rng() % 10;
        auto& levels = rng() % 2 == 0 ? book.bids : book.asks;
        std::uint8_t& count = &levels == &book.bids ? book.bid_count : book.ask_count;
        if (change < 5) {
            levels[0].qty = core::qty{static_cast<std::int64_t>(1 + rng() % 5)}; // the top only
        } else if (change < 6) {
            levels[0].px = core::price{levels[0].px.ticks() + (rng() % 2 == 0 ? 1 : -1)};
        } else if (change < 9) {
            const std::size_t i = 1 + rng() % (md_depth::top_levels - 1);
            levels[i] = {core::price{static_cast<std::int64_t>(900 + i)},
                         core::qty{static_cast<std::int64_t>(rng() % 3)}};
            count = std::max<std::uint8_t>(count, static_cast<std::uint8_t>(i + 1));
        } // else: unchanged
        if (h.send(book)) {
            expected.push_back(numbered(book, h.sequence));
        } else {
            ++dropped;
        }
        for (std::uint64_t n = rng() % 3; n > 0; --n) {
            const auto got = h.receive();
            if (!got.has_value()) {
                break;
            }
            REQUIRE(!expected.empty());
            REQUIRE(got->depth.has_value());
            REQUIRE(same(*got->depth, expected.front()));
            expected.pop_front();
            ++delivered;
        }
    }
    while (const auto got = h.receive()) {
        REQUIRE(got->depth.has_value());
        REQUIRE(same(*got->depth, expected.front()));
        expected.pop_front();
        ++delivered;
    }
    CHECK(expected.empty());
    CHECK(h.depths.front() == nullptr);
    CHECK(delivered == h.sender.records() + h.sender.kept_events());
    CHECK(h.sender.records() > 1'000);
    CHECK(h.sender.kept_events() > 1'000);
    CHECK(dropped > 100);
}

TEST_CASE("depths cross threads with their events, in order", "[publisher][threaded]") {
    const symbol_registry registry = testing::make_registry();
    auto events = std::make_unique<core::spsc_ring<md_event, event_slots>>();
    auto depths = std::make_unique<core::spsc_ring<md_depth, depth_slots>>();
    tee_sink sink(*events, *depths);
    feed_handler feed(registry, sink);

    // Producer: sync BTCUSDT, then random diffs around the top and bookTickers.
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
    got_depths.reserve(30'000);

    std::thread core([&] {
        depth_receiver receiver;
        const auto drain = [&] {
            bool any = false;
            while (const md_event* event = events->front()) {
                any = true;
                got_events.push_back(*event);
                const md_depth* depth = receiver.take(*event, *depths);
                if (event->has_depth() || event->depth_kept()) {
                    if (depth == nullptr) {
                        ++mismatches; // a record published after its event: never
                    } else {
                        mismatches += static_cast<std::uint64_t>(
                            depth->sequence != event->sequence ||
                            depth->bid_count != event->bid_count ||
                            depth->ask_count != event->ask_count ||
                            depth->bids[0] != event->top.bid || depth->asks[0] != event->top.ask);
                        got_depths.push_back(*depth);
                    }
                } else {
                    mismatches += static_cast<std::uint64_t>(depth != nullptr);
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
    for (int i = 0; i < 8'000; ++i) {
        std::string message;
        if (i % 2 == 0) {
            ++id;
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
            message = diff(id, bids, asks);
        } else {
            // A bookTicker at the current top (ahead of the diffs' update ids, which stay
            // contiguous): a new best quantity, the levels below unchanged.
            const order_book& book = feed.sync(btc).book();
            message =
                book_ticker(id + 1, book.best_bid().px.ticks(), rng() % 2 == 0 ? "0.7" : "0.9",
                            book.best_ask().px.ticks(), "0.3");
        }
        // Mostly the producer waits for room (every record gets through); one message in ten
        // goes in a burst regardless, where a full ring drops event and record together.
        if (i % 10 != 0) {
            while (events->size_approx() >= event_slots - 4 ||
                   depths->size_approx() >= depth_slots - 1) {
                std::this_thread::yield();
            }
        }
        (void)feed.on_message_copy(message, static_cast<core::timestamp_ns>(3 + i));
    }
    done.store(true, std::memory_order_release);
    core.join();

    CHECK(mismatches == 0);
    CHECK(depths->front() == nullptr); // no record left without its event
    // Every event the ring took arrived, in order; every depth the ring took arrived, intact,
    // whether its record crossed or the receiver rebuilt it.
    CHECK(got_events.size() ==
          feed.publisher().published() - sink.dropped_events - sink.dropped_with_depth);
    for (std::size_t i = 1; i < got_events.size(); ++i) {
        REQUIRE(got_events[i].sequence > got_events[i - 1].sequence);
    }
    REQUIRE(got_depths.size() == sink.sent.size());
    for (std::size_t i = 0; i < got_depths.size(); ++i) {
        REQUIRE(same(got_depths[i], sink.sent[i]));
    }
    CHECK(sink.sender().records() > 1'000);
    CHECK(sink.sender().kept_events() > 1'000);
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
