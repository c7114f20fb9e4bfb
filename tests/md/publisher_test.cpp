#include "quoter/md/feed_handler.hpp"
#include "quoter/md/publisher.hpp"

#include "md/test_support.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <random>
#include <string>
#include <vector>

using namespace quoter;
using namespace quoter::md;
using quoter::md::testing::btc;
using quoter::md::testing::eth;

namespace {

constexpr core::timestamp_ns ms = core::ns_per_ms;

/// Keeps every event and, when asked for depth (the default), each valid book event's record:
/// depths[i] goes with events[i] (a default record for an event without one).
struct collecting_sink final : md_event_sink {
    explicit collecting_sink(bool depth = true) { want_depth(depth); }
    std::vector<md_event> events;
    std::vector<md_depth> depths;
    void on_event(const md_event& event) noexcept override {
        events.push_back(event);
        depths.emplace_back();
    }
    void on_event_depth(const md_event& event, const md_depth& depth) noexcept override {
        events.push_back(event);
        depths.push_back(depth);
    }
};

std::string depth(std::uint64_t first, std::uint64_t last, std::string_view bids,
                  std::string_view asks) {
    return R"({"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1723161255308,)"
           R"("s":"BTCUSDT","U":)" +
           std::to_string(first) + R"(,"u":)" + std::to_string(last) + R"(,"b":[)" +
           std::string(bids) + R"(],"a":[)" + std::string(asks) + "]}}";
}

constexpr std::string_view snapshot_body =
    R"({"lastUpdateId":107,"bids":[["100.00","1"],["99.00","2"]],"asks":[["101.00","3"],)"
    R"(["102.00","4"]]})";

struct feed_fixture {
    symbol_registry registry = testing::make_registry();
    collecting_sink sink;
    feed_handler feed{registry, sink};

    /// Connects and syncs BTCUSDT at update id 110.
    void sync_btc() {
        feed.on_connected(0);
        (void)feed.on_message_copy(depth(100, 110, R"(["100.00","5"])", ""), 1 * ms);
        REQUIRE(feed.take_due_snapshot(1 * ms) == btc);
        // The others' snapshots wait for their first diffs.
        REQUIRE(feed.take_due_snapshot(1 * ms) == invalid_symbol);
        (void)feed.on_snapshot_copy(btc, snapshot_body, 2 * ms);
        REQUIRE(feed.sync(btc).state() == feed_state::synced);
    }
};

} // namespace

TEST_CASE("md_event is a compact trivially copyable POD, md_depth carries the levels",
          "[publisher]") {
    STATIC_REQUIRE(std::is_trivially_copyable_v<md_event>);
    STATIC_REQUIRE(std::is_trivially_copyable_v<md_depth>);
    STATIC_REQUIRE(md_depth::top_levels == 10);
    // With the ring slot's sequence word it fills two cache lines: one ring slot of 128 bytes.
    STATIC_REQUIRE(sizeof(md_event) == 120);
    STATIC_REQUIRE(core::spsc_ring<md_event, 4>::slot_bytes == 2 * 64);
    md_event a;
    CHECK(a.best_bid() == core::book_level{});
    a.top.ask = {core::price{5}, core::qty{6}};
    a.ask_count = 1;
    const md_event b = a;
    CHECK(b.best_ask().qty == core::qty{6});
    md_depth d;
    d.bids[3] = {core::price{5}, core::qty{6}};
    const md_depth e = d;
    CHECK(e.bids[3].qty == core::qty{6});
}

TEST_CASE("the feed publishes state changes and valid top-K books", "[publisher]") {
    feed_fixture f;
    f.sync_btc();
    // connecting -> syncing for every symbol, then synced for BTCUSDT.
    REQUIRE(f.sink.events.size() >= 4);
    CHECK(f.sink.events[0].kind == md_event_kind::state);
    CHECK(f.sink.events[0].state == feed_state::syncing);
    CHECK_FALSE(f.sink.events[0].book_valid());
    const md_event& synced = f.sink.events.back();
    CHECK(synced.kind == md_event_kind::state);
    CHECK(synced.state == feed_state::synced);
    CHECK(synced.book_valid());
    CHECK((synced.flags & md_flags::snapshot) != 0);
    CHECK(synced.symbol == btc);
    CHECK(synced.update_id == 110);
    CHECK(synced.bid_count == 2);
    CHECK(synced.ask_count == 2);
    CHECK(synced.top.bid.px == core::price{10000});
    CHECK(synced.top.bid.qty == core::qty{500000000});
    CHECK(synced.top.ask.px == core::price{10100});
    // A book turning synced comes with its depth record too.
    REQUIRE(synced.has_depth());
    CHECK(f.sink.depths.back().asks[1].px == core::price{10200});
    CHECK(f.sink.depths.back().sequence == synced.sequence);
    CHECK(synced.local_ns == 2 * ms);
    CHECK(synced.exchange_ns == 1723161255308LL * ms);
    for (std::size_t i = 1; i < f.sink.events.size(); ++i) {
        CHECK(f.sink.events[i].sequence == f.sink.events[i - 1].sequence + 1);
    }

    const std::size_t before = f.sink.events.size();
    (void)f.feed.on_message_copy(depth(111, 112, R"(["100.50","1"])", ""), 3 * ms);
    REQUIRE(f.sink.events.size() == before + 1);
    const md_event& book = f.sink.events.back();
    CHECK(book.kind == md_event_kind::book);
    CHECK(book.book_valid());
    CHECK(book.top.bid.px == core::price{10050});
    CHECK(book.bid_count == 3);
    // The book event's record: the same sequence, counts and top, and the levels below.
    REQUIRE(book.has_depth());
    const md_depth& levels = f.sink.depths.back();
    CHECK(levels.sequence == book.sequence);
    CHECK(levels.symbol == btc);
    CHECK(levels.bid_count == 3);
    CHECK(levels.ask_count == 2);
    CHECK(levels.bids[0] == book.top.bid);
    CHECK(levels.asks[0] == book.top.ask);
    CHECK(levels.bids[1].px == core::price{10000});
    CHECK(levels.bids[2].px == core::price{9900});
    CHECK(levels.asks[1].px == core::price{10200});
}

TEST_CASE("a sink that does not ask for depth gets none", "[publisher]") {
    symbol_registry registry = testing::make_registry();
    collecting_sink sink(/*depth=*/false);
    feed_handler feed{registry, sink};
    feed.on_connected(0);
    (void)feed.on_message_copy(depth(100, 110, R"(["100.00","5"])", ""), 1 * ms);
    (void)feed.on_snapshot_copy(btc, snapshot_body, 2 * ms);
    REQUIRE(feed.sync(btc).state() == feed_state::synced);
    (void)feed.on_message_copy(depth(111, 112, R"(["100.50","1"])", ""), 3 * ms);
    const md_event& book = sink.events.back();
    REQUIRE(book.kind == md_event_kind::book);
    // The top and the counts as with depth, but no record and no flag.
    CHECK(book.top.bid.px == core::price{10050});
    CHECK(book.top.ask.px == core::price{10100});
    CHECK(book.bid_count == 3);
    for (std::size_t i = 0; i < sink.events.size(); ++i) {
        CHECK_FALSE(sink.events[i].has_depth());
        CHECK(sink.depths[i].sequence == 0); // every event came through on_event
    }
}

TEST_CASE("malformed messages neither touch the book nor publish", "[publisher]") {
    feed_fixture f;
    f.sync_btc();
    const std::size_t before = f.sink.events.size();
    const auto top = f.feed.sync(btc).book().best_bid();
    (void)f.feed.on_message_copy(depth(111, 112, R"(["100.50","1"],["oops","1"])", ""), 3 * ms);
    (void)f.feed.on_message_copy(depth(111, 112, R"(["100.50","1"])", "").substr(0, 90), 4 * ms);
    (void)f.feed.on_message_copy("\x01\x02garbage", 5 * ms);
    CHECK(f.sink.events.size() == before);
    CHECK(f.feed.sync(btc).book().best_bid() == top);
    CHECK(f.feed.sync(btc).state() == feed_state::synced);
    CHECK(f.feed.sync(btc).update_id() == 110);
    CHECK(f.feed.decoder().stats().malformed() == 3);
    // The chain is intact: the real diff still applies.
    (void)f.feed.on_message_copy(depth(111, 112, R"(["100.50","1"])", ""), 6 * ms);
    CHECK(f.feed.sync(btc).state() == feed_state::synced);
}

TEST_CASE("crossed books are published without the valid flag", "[publisher]") {
    feed_fixture f;
    f.sync_btc();
    (void)f.feed.on_message_copy(depth(111, 112, R"(["101.00","1"])", ""), 3 * ms);
    const md_event& event = f.sink.events.back();
    CHECK(event.kind == md_event_kind::book);
    CHECK_FALSE(event.book_valid());
    CHECK((event.flags & md_flags::crossed) != 0);
    CHECK(event.bid_count == 0); // no levels from an invalid book
}

TEST_CASE("trades are published with the feed state", "[publisher]") {
    feed_fixture f;
    f.sync_btc();
    (void)f.feed.on_message_copy(
        R"({"stream":"btcusdt@trade","data":{"e":"trade","E":5,"s":"BTCUSDT","t":77,)"
        R"("p":"100.00","q":"0.5","T":4,"m":false,"M":true}})",
        3 * ms);
    const md_event& event = f.sink.events.back();
    CHECK(event.kind == md_event_kind::trade);
    CHECK(event.state == feed_state::synced);
    CHECK(event.trade.px == core::price{10000});
    CHECK(event.trade.qty == core::qty{50000000});
    CHECK(event.trade.aggressor == core::side::buy);
    CHECK(event.trade.count == 1);
    CHECK(event.trade.trade_id == 77);
    CHECK(event.exchange_ns == 4 * ms);
}

TEST_CASE("gap, snapshot requests, backoff and shutdown notices reach the transport",
          "[publisher]") {
    feed_fixture f;
    f.sync_btc();
    CHECK(f.feed.take_due_snapshot(3 * ms) == invalid_symbol);
    (void)f.feed.on_message_copy(depth(120, 125, "", ""), 3 * ms); // gap
    CHECK(f.sink.events.back().state == feed_state::resyncing);
    CHECK_FALSE(f.sink.events.back().book_valid());
    CHECK(f.feed.sync(btc).stats().resyncs == 1);
    CHECK(f.feed.next_snapshot_due() == 3 * ms + 250 * ms);
    CHECK(f.feed.take_due_snapshot(100 * ms) == invalid_symbol);
    CHECK(f.feed.take_due_snapshot(253 * ms) == btc);

    // A body that is not a snapshot counts as a failed request.
    (void)f.feed.on_snapshot_copy(btc, R"({"code":-1003,"msg":"Too many requests"})", 260 * ms);
    CHECK(f.feed.sync(btc).stats().snapshot_failures == 1);
    CHECK(f.feed.take_due_snapshot(261 * ms) == invalid_symbol);

    CHECK_FALSE(f.feed.take_shutdown_notice());
    (void)f.feed.on_message_copy(R"({"e":"serverShutdown","E":1})", 300 * ms);
    CHECK(f.feed.take_shutdown_notice());
    CHECK_FALSE(f.feed.take_shutdown_notice());

    f.feed.on_disconnected(400 * ms);
    CHECK(f.sink.events.back().state == feed_state::connecting);
}

TEST_CASE("ring_event_sink with a depth ring drops an event and its record together",
          "[publisher]") {
    core::spsc_ring<md_event, 8> ring;
    core::spsc_ring<md_depth, 2> depths;
    ring_event_sink<8, 2> sink(ring, depths);
    symbol_registry registry = testing::make_registry();
    feed_handler feed(registry, sink);
    feed.on_connected(0);
    (void)feed.on_message_copy(depth(100, 110, R"(["100.00","5"])", ""), 1 * ms);
    (void)feed.on_snapshot_copy(btc, snapshot_body, 2 * ms);
    REQUIRE(feed.sync(btc).state() == feed_state::synced);
    const std::size_t states = ring.size_approx();
    CHECK(depths.size_approx() == 1); // the synced state's: the only valid book so far
    // Three book events: the depth ring holds two, so the first fits and the next two are
    // dropped with their records.
    for (std::uint64_t id = 111; id <= 113; ++id) {
        (void)feed.on_message_copy(
            depth(id, id, "[\"100." + std::to_string(id - 100) + "\",\"1\"]", ""),
            static_cast<core::timestamp_ns>(id) * ms);
    }
    CHECK(sink.dropped() == 2);
    CHECK(ring.size_approx() == states + 1);
    CHECK(depths.size_approx() == 2);
    // Drained in order, every event flagged with depth meets its own record at the front.
    std::size_t paired = 0;
    while (const md_event* event = ring.front()) {
        if (event->has_depth()) {
            const md_depth* record = depths.front();
            REQUIRE(record != nullptr);
            CHECK(record->sequence == event->sequence);
            CHECK(record->bids[0] == event->top.bid);
            depths.pop();
            ++paired;
        }
        ring.pop();
    }
    CHECK(paired == 2);
    CHECK(depths.front() == nullptr);
    // With room again, event and record go through together.
    (void)feed.on_message_copy(depth(114, 114, R"(["100.20","1"])", ""), 114 * ms);
    CHECK(sink.dropped() == 2);
    REQUIRE(ring.front() != nullptr);
    REQUIRE(depths.front() != nullptr);
    CHECK(depths.front()->sequence == ring.front()->sequence);
}

TEST_CASE("a full event ring drops the event and leaves its record unpublished", "[publisher]") {
    core::spsc_ring<md_event, 8> ring;
    core::spsc_ring<md_depth, 8> depths;
    ring_event_sink<8, 8> sink(ring, depths);
    symbol_registry registry = testing::make_registry();
    feed_handler feed(registry, sink);
    feed.on_connected(0); // three state events
    (void)feed.on_message_copy(depth(100, 110, R"(["100.00","5"])", ""), 1 * ms);
    (void)feed.on_snapshot_copy(btc, snapshot_body, 2 * ms);
    REQUIRE(feed.sync(btc).state() == feed_state::synced);
    const std::size_t before = ring.size_approx();
    const std::size_t records_before = depths.size_approx(); // the synced state's
    REQUIRE(before < 8);
    for (std::uint64_t id = 111; ring.size_approx() < 8; ++id) {
        (void)feed.on_message_copy(
            depth(id, id, "[\"100." + std::to_string(id - 100) + "\",\"1\"]", ""),
            static_cast<core::timestamp_ns>(id) * ms);
    }
    const std::size_t records = depths.size_approx();
    CHECK(records == records_before + 8 - before);
    // The event ring is full: the next book event and its record are both dropped.
    (void)feed.on_message_copy(depth(130, 130, R"(["100.30","1"])", ""), 130 * ms);
    CHECK(sink.dropped() == 1);
    CHECK(depths.size_approx() == records);
    std::size_t paired = 0;
    while (const md_event* event = ring.front()) {
        if (event->has_depth()) {
            REQUIRE(depths.front() != nullptr);
            CHECK(depths.front()->sequence == event->sequence);
            depths.pop();
            ++paired;
        }
        ring.pop();
    }
    CHECK(paired == records);
    CHECK(depths.front() == nullptr);
}

TEST_CASE("ring_event_sink pushes into the SPSC ring and counts drops", "[publisher]") {
    core::spsc_ring<md_event, 4> ring;
    ring_event_sink<4> sink(ring);
    const auto registry = testing::make_registry();
    feed_handler feed(registry, sink);
    feed.on_connected(0);    // three state events
    feed.on_disconnected(1); // three more: one does not fit
    CHECK(ring.size_approx() == 4);
    CHECK(sink.dropped() == 2);
    md_event event;
    REQUIRE(ring.try_pop(event));
    CHECK(event.kind == md_event_kind::state);
    CHECK(event.sequence == 1);
}

TEST_CASE("each symbol's events are numbered from 1 without holes", "[publisher]") {
    feed_fixture f;
    f.sync_btc();
    (void)f.feed.on_message_copy(depth(111, 112, R"(["100.50","1"])", ""), 3 * ms);
    f.feed.check_stale(2 * ms + 6000 * ms);
    f.feed.on_disconnected(7000 * ms);
    std::array<std::uint64_t, 3> last{};
    std::array<int, 3> seen{};
    for (const md_event& event : f.sink.events) {
        REQUIRE(event.symbol < last.size());
        CHECK(event.symbol_sequence == last[event.symbol] + 1);
        last[event.symbol] = event.symbol_sequence;
        ++seen[event.symbol];
    }
    // Interleaved symbols: the publisher-wide sequence has no meaning per symbol.
    CHECK(seen[btc] >= 4);
    CHECK(seen[eth] >= 2);
    CHECK(f.feed.publisher().published(btc) == last[btc]);
    CHECK(f.feed.publisher().published() == f.sink.events.size());
}

TEST_CASE("an event the ring drops leaves a hole in its symbol's numbers", "[publisher]") {
    core::spsc_ring<md_event, 4> ring;
    ring_event_sink<4> sink(ring);
    const auto registry = testing::make_registry();
    feed_handler feed(registry, sink);
    feed.on_connected(0); // one state event per symbol: they fit
    std::array<std::uint64_t, 3> last{};
    md_event event;
    while (ring.try_pop(event)) {
        last[event.symbol] = event.symbol_sequence;
    }
    CHECK(last == std::array<std::uint64_t, 3>{1, 1, 1});
    // Fill the ring so that the disconnect of one symbol is lost.
    feed.on_disconnected(1);      // three events
    feed.on_connected(eth, 2);    // one event: the ring holds 4
    feed.on_disconnected(eth, 3); // dropped
    feed.on_connected(eth, 4);    // dropped
    CHECK(sink.dropped() == 2);
    while (ring.try_pop(event)) {
        last[event.symbol] = event.symbol_sequence;
    }
    CHECK(last[eth] == 3);
    feed.on_disconnected(eth, 5);
    REQUIRE(ring.try_pop(event));
    CHECK(event.symbol == eth);
    CHECK(event.symbol_sequence == 6); // 4 and 5 were lost: the consumer sees the hole
}

TEST_CASE("stale books are published by check_stale", "[publisher]") {
    feed_fixture f;
    f.sync_btc();
    f.feed.check_stale(2 * ms + 6000 * ms);
    CHECK(f.sink.events.back().state == feed_state::stale);
    CHECK_FALSE(f.sink.events.back().book_valid());
}

TEST_CASE("every event equals a freshly built one: unused levels are zero", "[publisher]") {
    feed_fixture f;
    f.sync_btc();
    // The record of the last event (a default one for an event without depth).
    const auto unused_levels_are_zero = [&](const md_event& event) {
        const md_depth& record = f.sink.depths.back();
        for (std::size_t i = event.bid_count; i < md_depth::top_levels; ++i) {
            REQUIRE(record.bids[i] == core::book_level{});
        }
        for (std::size_t i = event.ask_count; i < md_depth::top_levels; ++i) {
            REQUIRE(record.asks[i] == core::book_level{});
        }
        if (event.kind != md_event_kind::trade) {
            CHECK(event.best_bid() == (event.bid_count == 0 ? core::book_level{} : record.bids[0]));
        }
    };
    // A full top-K on the bid side...
    std::string bids;
    for (int i = 0; i < 12; ++i) {
        bids += (i == 0 ? "[\"" : ",[\"") + std::to_string(80 + i) + R"(.00","1"])";
    }
    (void)f.feed.on_message_copy(depth(111, 112, bids, ""), 3 * ms);
    REQUIRE(f.sink.events.back().bid_count == md_depth::top_levels);
    REQUIRE(f.sink.events.back().ask_count == 2);
    unused_levels_are_zero(f.sink.events.back());
    // ...then a crossed book: no levels at all...
    (void)f.feed.on_message_copy(depth(113, 113, R"(["101.50","1"])", ""), 4 * ms);
    const md_event& crossed = f.sink.events.back();
    REQUIRE_FALSE(crossed.book_valid());
    CHECK(crossed.bid_count == 0);
    CHECK(crossed.ask_count == 0);
    unused_levels_are_zero(crossed);
    // ...then fewer levels than before.
    (void)f.feed.on_message_copy(depth(114, 114, R"(["101.50","0"])", R"(["101.00","0"])"), 5 * ms);
    const md_event& smaller = f.sink.events.back();
    REQUIRE(smaller.book_valid());
    CHECK(smaller.ask_count == 1);
    CHECK(smaller.top.ask.px == core::price{10200});
    CHECK(f.sink.depths.back().asks[0].px == core::price{10200});
    unused_levels_are_zero(smaller);
    // Trades never carry levels or depth.
    (void)f.feed.on_message_copy(
        R"({"stream":"btcusdt@trade","data":{"e":"trade","E":5,"s":"BTCUSDT","t":77,)"
        R"("p":"100.00","q":"0.5","T":4,"m":true,"M":true}})",
        6 * ms);
    const md_event& trade = f.sink.events.back();
    REQUIRE(trade.kind == md_event_kind::trade);
    CHECK(trade.flags == 0);
    CHECK(trade.bid_count == 0);
    CHECK(trade.ask_count == 0);
    CHECK(trade.best_bid() == core::book_level{});
    CHECK_FALSE(trade.has_depth());
    unused_levels_are_zero(trade);
}

TEST_CASE("events reusing unchanged or requantified levels equal freshly built ones",
          "[publisher][property]") {
    // Two symbols alternate into one publisher, with random diffs (deep and near the top) and
    // bookTickers (same top, new quantity, new price); every book event must carry exactly the
    // book's current top levels, whatever the publisher kept from earlier events.
    symbol_registry registry = testing::make_registry();
    collecting_sink sink;
    feed_handler feed(registry, sink);
    feed.on_connected(0);
    std::mt19937_64 rng(17);
    const auto text_px = [](std::int64_t ticks) {
        return std::to_string(ticks / 100) + "." + std::to_string(ticks % 100 / 10) +
               std::to_string(ticks % 10) + "000000";
    };
    std::uint64_t update_id[2] = {1000, 1000};
    std::int64_t mid[2] = {6'000'000, 260'000};
    for (const symbol_id symbol : {btc, eth}) {
        const std::string name = symbol == btc ? "BTCUSDT" : "ETHUSDT";
        const std::string stream = symbol == btc ? "btcusdt" : "ethusdt";
        std::string bids;
        std::string asks;
        for (int i = 0; i < 200; ++i) {
            bids += (i == 0 ? "" : ",") + std::string(R"([")") + text_px(mid[symbol] - 1 - i * 3) +
                    R"(","1.00000000"])";
            asks += (i == 0 ? "" : ",") + std::string(R"([")") + text_px(mid[symbol] + 1 + i * 3) +
                    R"(","1.00000000"])";
        }
        (void)feed.on_message_copy(R"({"stream":")" + stream +
                                       R"(@depth","data":{"e":"depthUpdate","E":1,"s":")" + name +
                                       R"(","U":1001,"u":1001,"b":[],"a":[]}})",
                                   1 * ms);
        (void)feed.on_snapshot_copy(
            symbol, R"({"lastUpdateId":1000,"bids":[)" + bids + R"(],"asks":[)" + asks + "]}",
            2 * ms);
        update_id[symbol] = 1001;
        REQUIRE(feed.sync(symbol).state() == feed_state::synced);
    }
    std::size_t checked = 0;
    for (int step = 0; step < 4000; ++step) {
        const symbol_id symbol = (rng() % 3 == 0) ? eth : btc;
        const std::string name = symbol == btc ? "BTCUSDT" : "ETHUSDT";
        const std::string stream = symbol == btc ? "btcusdt" : "ethusdt";
        const core::book_level bid = feed.sync(symbol).book().best_bid();
        const core::book_level ask = feed.sync(symbol).book().best_ask();
        const std::size_t before = sink.events.size();
        if (rng() % 2 == 0) {
            std::string levels[2];
            for (int side_index = 0; side_index < 2; ++side_index) {
                for (std::size_t i = 0, n = rng() % 6; i < n; ++i) {
                    const auto distance =
                        static_cast<std::int64_t>(rng() % 4 == 0 ? rng() % 2000 : rng() % 30);
                    const std::int64_t px =
                        side_index == 0 ? bid.px.ticks() - distance : ask.px.ticks() + distance;
                    const std::string lots = rng() % 3 == 0
                                                 ? "0.00000000"
                                                 : "0.0000" + std::to_string(1000 + rng() % 9000);
                    levels[side_index] += (i == 0 ? "" : ",") + std::string(R"([")") + text_px(px) +
                                          R"(",")" + lots + R"("])";
                }
            }
            const std::uint64_t id = ++update_id[symbol];
            (void)feed.on_message_copy(
                R"({"stream":")" + stream +
                    R"(@depth@100ms","data":{"e":"depthUpdate","E":1,"s":")" + name + R"(","U":)" +
                    std::to_string(id) + R"(,"u":)" + std::to_string(id) + R"(,"b":[)" + levels[0] +
                    R"(],"a":[)" + levels[1] + "]}}",
                3 * ms);
        } else {
            // A bookTicker at the current top (same or new quantity) or one tick inside it.
            const std::int64_t bid_px = bid.px.ticks() - (rng() % 4 == 0 ? 1 : 0);
            const std::string bid_qty = rng() % 2 == 0 ? "0.00005000" : "0.00007000";
            const std::uint64_t id = update_id[symbol] + 1 + rng() % 3;
            (void)feed.on_message_copy(R"({"stream":")" + stream + R"(@bookTicker","data":{"u":)" +
                                           std::to_string(id) + R"(,"s":")" + name + R"(","b":")" +
                                           text_px(bid_px) + R"(","B":")" + bid_qty + R"(","a":")" +
                                           text_px(ask.px.ticks()) + R"(","A":"0.00003000"}})",
                                       3 * ms);
        }
        for (std::size_t e = before; e < sink.events.size(); ++e) {
            const md_event& event = sink.events[e];
            if (event.kind == md_event_kind::trade || !event.book_valid()) {
                continue;
            }
            const order_book& book = feed.sync(event.symbol).book();
            std::array<core::book_level, md_top_levels> fresh{};
            const md_depth& record = sink.depths[e];
            REQUIRE(event.bid_count == book.top(core::side::buy, fresh));
            REQUIRE(event.top.bid == fresh[0]);
            REQUIRE(event.has_depth());
            REQUIRE(record.sequence == event.sequence);
            REQUIRE(record.bid_count == event.bid_count);
            for (std::size_t i = 0; i < event.bid_count; ++i) {
                REQUIRE(record.bids[i] == fresh[i]);
            }
            REQUIRE(event.ask_count == book.top(core::side::sell, fresh));
            REQUIRE(event.top.ask == fresh[0]);
            REQUIRE(record.ask_count == event.ask_count);
            for (std::size_t i = 0; i < event.ask_count; ++i) {
                REQUIRE(record.asks[i] == fresh[i]);
            }
            for (std::size_t i = event.bid_count; i < md_top_levels; ++i) {
                REQUIRE(record.bids[i] == core::book_level{});
            }
            ++checked;
        }
        REQUIRE(feed.sync(symbol).state() == feed_state::synced);
    }
    CHECK(checked > 2000);
}
