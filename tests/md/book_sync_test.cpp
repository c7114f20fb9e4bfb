// Tests of md::book_sync, Binance's local-book procedure: snapshots, buffering, gaps, id
// jumps, duplicates and resyncs for spot and futures. One component, so one file.
#include "quoter/md/book_sync.hpp"

#include <catch2/catch.hpp>

#include <vector>

using namespace quoter;
using namespace quoter::md;
using quoter::core::price;
using quoter::core::qty;
using quoter::core::side;

namespace {

constexpr core::timestamp_ns ms = core::ns_per_ms;

/// A diff or snapshot with its own level storage.
struct depth_message {
    std::uint64_t first = 0;
    std::uint64_t last = 0;
    std::vector<core::book_level> bids;
    std::vector<core::book_level> asks;
    std::uint64_t prev = 0;
    bool has_prev = false;

    [[nodiscard]] decoded_depth view() const {
        decoded_depth d;
        d.first_update_id = first;
        d.final_update_id = last;
        d.prev_final_update_id = prev;
        d.has_prev_final_update_id = has_prev;
        d.bids = bids;
        d.asks = asks;
        return d;
    }
};

depth_message diff(std::uint64_t first, std::uint64_t last, std::vector<core::book_level> bids = {},
                   std::vector<core::book_level> asks = {}) {
    return {first, last, std::move(bids), std::move(asks)};
}

depth_message futures_diff(std::uint64_t first, std::uint64_t last, std::uint64_t prev,
                           std::vector<core::book_level> bids = {},
                           std::vector<core::book_level> asks = {}) {
    return {first, last, std::move(bids), std::move(asks), prev, true};
}

depth_message snapshot(std::uint64_t id, std::vector<core::book_level> bids,
                       std::vector<core::book_level> asks) {
    return {id, id, std::move(bids), std::move(asks)};
}

core::book_level lvl(std::int64_t px, std::int64_t lots) {
    return {price{px}, qty{lots}};
}

depth_message standard_snapshot(std::uint64_t id) {
    return snapshot(id, {lvl(100, 10), lvl(99, 20), lvl(98, 30)},
                    {lvl(101, 11), lvl(102, 21), lvl(103, 31)});
}

/// A spot book synced at update id 110 with bids 100/99/98 and asks 101/102/103.
book_sync synced_spot(book_sync_config config = {}) {
    book_sync sync(0, market::spot, config);
    (void)sync.on_connected(0);
    (void)sync.on_depth_update(diff(105, 109).view(), 1 * ms);
    (void)sync.on_snapshot(standard_snapshot(108).view(), 2 * ms);
    (void)sync.on_depth_update(diff(110, 110).view(), 3 * ms);
    REQUIRE(sync.state() == feed_state::synced);
    REQUIRE(sync.update_id() == 110);
    return sync;
}

/// A futures book synced at update id 405 (snapshot 400, then the diff 400..405 that straddles
/// it) with bids 100 (7 lots)/99/98 and asks 101/102/103.
book_sync synced_futures(book_sync_config config = {}) {
    book_sync sync(0, market::usdm_futures, config);
    (void)sync.on_connected(0);
    (void)sync.on_depth_update(futures_diff(390, 399, 385).view(), 1 * ms);
    (void)sync.on_depth_update(futures_diff(400, 405, 399, {lvl(100, 7)}).view(), 2 * ms);
    (void)sync.on_snapshot(standard_snapshot(400).view(), 3 * ms);
    REQUIRE(sync.state() == feed_state::synced);
    REQUIRE(sync.update_id() == 405);
    return sync;
}

} // namespace

TEST_CASE("initial sync: buffer, snapshot, drop covered diffs, straddle, continue", "[book_sync]") {
    book_sync sync(7, market::spot);
    CHECK(sync.state() == feed_state::connecting);
    CHECK_FALSE(sync.snapshot_wanted());

    auto outcome = sync.on_connected(0);
    CHECK(outcome.state_changed);
    CHECK(sync.state() == feed_state::syncing);
    CHECK_FALSE(sync.snapshot_due(0)); // not before the stream delivers
    CHECK(sync.snapshot_backoff_ns() == 0);

    (void)sync.on_depth_update(diff(100, 105, {lvl(100, 1)}).view(), 1 * ms);
    CHECK(sync.snapshot_due(1 * ms)); // the first diff is buffered: at once
    (void)sync.on_depth_update(diff(106, 110, {lvl(100, 2)}, {lvl(101, 0)}).view(), 2 * ms);
    (void)sync.on_depth_update(diff(111, 115, {}, {lvl(104, 5)}).view(), 3 * ms);
    CHECK(sync.buffered_diffs() == 3);
    CHECK_FALSE(sync.book_valid());

    sync.on_snapshot_requested(3 * ms);
    CHECK_FALSE(sync.snapshot_wanted());
    outcome = sync.on_snapshot(standard_snapshot(107).view(), 4 * ms);
    CHECK(outcome.snapshot_applied);
    CHECK(outcome.state_changed);
    CHECK(sync.state() == feed_state::synced);
    CHECK(sync.book_valid());
    CHECK(sync.update_id() == 115);
    CHECK(sync.buffered_diffs() == 0);
    CHECK(sync.stats().diffs_dropped_by_snapshot == 1);
    CHECK(sync.stats().diffs_applied == 2);

    const order_book& book = sync.book();
    CHECK(book.best_bid() == lvl(100, 2));  // from diff 106..110, not the dropped 100..105
    CHECK(book.best_ask() == lvl(102, 21)); // 101 removed
    CHECK(book.qty_at(side::sell, price{104}) == qty{5});

    outcome = sync.on_depth_update(diff(116, 118, {lvl(100, 0)}).view(), 5 * ms);
    CHECK(outcome.book_changed);
    CHECK_FALSE(outcome.state_changed);
    CHECK(sync.book().best_bid() == lvl(99, 20));
}

TEST_CASE("a snapshot older than the buffered diffs is discarded and requested again",
          "[book_sync]") {
    book_sync sync(0, market::spot);
    (void)sync.on_connected(0);
    (void)sync.on_depth_update(diff(200, 210).view(), 1 * ms);
    sync.on_snapshot_requested(1 * ms);
    const auto outcome = sync.on_snapshot(standard_snapshot(150).view(), 2 * ms);
    CHECK_FALSE(outcome.state_changed);
    CHECK(sync.state() == feed_state::syncing);
    CHECK(sync.stats().snapshots_too_old == 1);
    CHECK(sync.book().empty(side::buy));
    CHECK(sync.snapshot_wanted());
    CHECK(sync.snapshot_backoff_ns() == 250 * ms);
    CHECK_FALSE(sync.snapshot_due(2 * ms));
    CHECK(sync.snapshot_due(252 * ms));
    CHECK(sync.buffered_diffs() == 1); // kept for the next snapshot

    (void)sync.on_depth_update(diff(211, 215).view(), 300 * ms);
    (void)sync.on_snapshot(standard_snapshot(212).view(), 400 * ms);
    CHECK(sync.state() == feed_state::synced);
    CHECK(sync.update_id() == 215);
}

TEST_CASE("a snapshot newer than every buffered diff waits for the straddling diff",
          "[book_sync]") {
    book_sync sync(0, market::spot);
    (void)sync.on_connected(0);
    (void)sync.on_depth_update(diff(100, 105).view(), 1 * ms);
    (void)sync.on_snapshot(standard_snapshot(120).view(), 2 * ms);
    CHECK(sync.state() == feed_state::syncing);
    CHECK_FALSE(sync.book_valid());
    CHECK_FALSE(sync.snapshot_wanted()); // loaded, waiting on the stream
    CHECK(sync.stats().diffs_dropped_by_snapshot == 1);

    (void)sync.on_depth_update(diff(106, 120).view(), 3 * ms); // still covered
    CHECK(sync.state() == feed_state::syncing);
    const auto outcome = sync.on_depth_update(diff(121, 125, {lvl(100, 5)}).view(), 4 * ms);
    CHECK(outcome.state_changed);
    CHECK(sync.state() == feed_state::synced);
    CHECK(sync.book().best_bid() == lvl(100, 5));

    SECTION("but a first diff past the snapshot means it was too old") {
        book_sync other(0, market::spot);
        (void)other.on_connected(0);
        (void)other.on_snapshot(standard_snapshot(120).view(), 1 * ms);
        (void)other.on_depth_update(diff(130, 135).view(), 2 * ms);
        CHECK(other.state() == feed_state::syncing);
        CHECK(other.stats().snapshots_too_old == 1);
        CHECK(other.snapshot_wanted());
        CHECK(other.buffered_diffs() == 1);
    }
}

TEST_CASE("a gap turns the book resyncing, counts it, and recovers on a new snapshot",
          "[book_sync]") {
    auto sync = synced_spot();
    // Duplicates are ignored, not gaps.
    auto outcome = sync.on_depth_update(diff(105, 110).view(), 4 * ms);
    CHECK_FALSE(outcome.book_changed);
    CHECK(sync.stats().diffs_duplicate == 1);

    outcome = sync.on_depth_update(diff(112, 115, {lvl(100, 3)}).view(), 5 * ms);
    CHECK(outcome.state_changed);
    CHECK(sync.state() == feed_state::resyncing);
    CHECK_FALSE(sync.book_valid());
    CHECK(sync.book().empty(side::buy));
    CHECK(sync.stats().gaps == 1);
    CHECK(sync.stats().resyncs == 1);
    CHECK(sync.snapshot_wanted());
    CHECK(sync.snapshot_backoff_ns() == 250 * ms);
    CHECK_FALSE(sync.snapshot_due(5 * ms));
    CHECK(sync.snapshot_due(255 * ms));
    CHECK(sync.buffered_diffs() == 1);

    sync.on_snapshot_requested(255 * ms);
    (void)sync.on_depth_update(diff(116, 117).view(), 260 * ms);
    outcome = sync.on_snapshot(standard_snapshot(113).view(), 300 * ms);
    CHECK(outcome.state_changed);
    CHECK(sync.state() == feed_state::synced);
    CHECK(sync.update_id() == 117);
    CHECK(sync.book().best_bid() == lvl(100, 3));
}

TEST_CASE("a gap inside the buffer after a snapshot resyncs", "[book_sync]") {
    book_sync sync(0, market::spot);
    (void)sync.on_connected(0);
    (void)sync.on_depth_update(diff(100, 110).view(), 1 * ms);
    (void)sync.on_depth_update(diff(115, 120).view(), 2 * ms); // 111..114 missing
    (void)sync.on_snapshot(standard_snapshot(105).view(), 3 * ms);
    CHECK(sync.state() == feed_state::resyncing);
    CHECK(sync.stats().resyncs == 1);
    CHECK(sync.buffered_diffs() == 1); // the diffs from the gap on stay buffered
    CHECK_FALSE(sync.book_valid());
}

TEST_CASE("snapshot requests back off exponentially up to the maximum", "[book_sync]") {
    book_sync sync(0, market::spot,
                   {.snapshot_backoff_initial_ms = 100, .snapshot_backoff_max_ms = 1000});
    (void)sync.on_connected(0);
    (void)sync.on_depth_update(diff(100, 105).view(), 0);
    CHECK(sync.snapshot_backoff_ns() == 0);
    const std::int64_t expected_ms[] = {100, 200, 400, 800, 1000, 1000};
    core::timestamp_ns now = 0;
    for (const std::int64_t delay : expected_ms) {
        REQUIRE(sync.snapshot_due(now));
        sync.on_snapshot_requested(now);
        CHECK_FALSE(sync.snapshot_wanted());
        sync.on_snapshot_failed(now);
        CHECK(sync.snapshot_backoff_ns() == delay * ms);
        CHECK_FALSE(sync.snapshot_due(now + delay * ms - 1));
        now += delay * ms;
    }
    CHECK(sync.stats().snapshot_failures == 6);
}

TEST_CASE("futures diffs chain by pu and straddle lastUpdateId itself", "[book_sync]") {
    book_sync sync(0, market::usdm_futures);
    (void)sync.on_connected(0);
    (void)sync.on_depth_update(futures_diff(380, 389, 379).view(), 1 * ms);
    (void)sync.on_depth_update(futures_diff(390, 399, 389).view(), 2 * ms);
    (void)sync.on_depth_update(futures_diff(400, 405, 399, {lvl(100, 7)}).view(), 3 * ms);
    (void)sync.on_snapshot(standard_snapshot(400).view(), 4 * ms);
    CHECK(sync.stats().diffs_dropped_by_snapshot == 2); // u < 400
    CHECK(sync.state() == feed_state::synced);          // 400 <= 400 <= 405
    CHECK(sync.book().best_bid() == lvl(100, 7));

    // pu == last u continues even if U skips ids (futures ids are not contiguous).
    (void)sync.on_depth_update(futures_diff(420, 430, 405, {lvl(100, 8)}).view(), 5 * ms);
    CHECK(sync.state() == feed_state::synced);
    CHECK(sync.update_id() == 430);
    CHECK(sync.book().best_bid() == lvl(100, 8));

    (void)sync.on_depth_update(futures_diff(431, 440, 429).view(), 6 * ms);
    CHECK(sync.state() == feed_state::resyncing);
    CHECK(sync.stats().resyncs == 1);

    SECTION("a diff without pu cannot continue a futures chain") {
        book_sync other(0, market::usdm_futures);
        (void)other.on_connected(0);
        (void)other.on_snapshot(standard_snapshot(400).view(), 1 * ms);
        (void)other.on_depth_update(futures_diff(399, 401, 398).view(), 2 * ms);
        REQUIRE(other.state() == feed_state::synced);
        (void)other.on_depth_update(diff(402, 405).view(), 3 * ms);
        CHECK(other.state() == feed_state::resyncing);
    }
}

TEST_CASE("futures: the first diff may end at lastUpdateId but must not begin after it",
          "[book_sync]") {
    SECTION("u == lastUpdateId straddles (spot would drop it as covered)") {
        book_sync sync(0, market::usdm_futures);
        (void)sync.on_connected(0);
        (void)sync.on_snapshot(standard_snapshot(400).view(), 1 * ms);
        (void)sync.on_depth_update(futures_diff(390, 399, 385).view(), 2 * ms); // u < 400
        CHECK(sync.state() == feed_state::syncing);
        CHECK(sync.stats().diffs_dropped_by_snapshot == 1);
        (void)sync.on_depth_update(futures_diff(395, 400, 399, {lvl(100, 7)}).view(), 3 * ms);
        CHECK(sync.state() == feed_state::synced);
        CHECK(sync.update_id() == 400);
        CHECK(sync.book().best_bid() == lvl(100, 7));
        // And the chain goes on from it.
        (void)sync.on_depth_update(futures_diff(403, 404, 400).view(), 4 * ms);
        CHECK(sync.state() == feed_state::synced);
        CHECK(sync.update_id() == 404);
    }
    SECTION("U == lastUpdateId + 1 on the stream: the snapshot is too old, as documented") {
        book_sync sync(0, market::usdm_futures);
        (void)sync.on_connected(0);
        sync.on_snapshot_requested(0);
        (void)sync.on_snapshot(standard_snapshot(400).view(), 1 * ms);
        (void)sync.on_depth_update(futures_diff(401, 405, 400).view(), 2 * ms);
        CHECK(sync.state() == feed_state::syncing);
        CHECK(sync.stats().snapshots_too_old == 1);
        CHECK(sync.book().empty(side::buy));
        CHECK(sync.buffered_diffs() == 1); // kept for the next snapshot
        CHECK(sync.snapshot_wanted());
        CHECK_FALSE(sync.snapshot_due(2 * ms)); // after the backoff
        CHECK(sync.snapshot_due(252 * ms));

        sync.on_snapshot_requested(252 * ms);
        (void)sync.on_snapshot(standard_snapshot(403).view(), 260 * ms);
        CHECK(sync.state() == feed_state::synced); // 401 <= 403 <= 405
        CHECK(sync.update_id() == 405);
    }
    SECTION("U == lastUpdateId + 1 in the buffer: too old as well (spot would accept it)") {
        book_sync sync(0, market::usdm_futures);
        (void)sync.on_connected(0);
        (void)sync.on_depth_update(futures_diff(401, 405, 400).view(), 1 * ms);
        (void)sync.on_snapshot(standard_snapshot(400).view(), 2 * ms);
        CHECK(sync.state() == feed_state::syncing);
        CHECK(sync.stats().snapshots_too_old == 1);
        CHECK(sync.buffered_diffs() == 1);

        book_sync spot(0, market::spot);
        (void)spot.on_connected(0);
        (void)spot.on_depth_update(diff(401, 405).view(), 1 * ms);
        (void)spot.on_snapshot(standard_snapshot(400).view(), 2 * ms);
        CHECK(spot.state() == feed_state::synced);
    }
}

TEST_CASE("futures: pu decides the chain, not U", "[book_sync]") {
    auto sync = synced_futures();

    // At or below the book's id: a duplicate, whatever its pu says.
    auto outcome = sync.on_depth_update(futures_diff(401, 405, 399).view(), 4 * ms);
    CHECK_FALSE(outcome.book_changed);
    CHECK(sync.stats().diffs_duplicate == 1);
    CHECK(sync.state() == feed_state::synced);

    // U == last u + 1 would continue a spot chain; here pu names an update the book never saw.
    outcome = sync.on_depth_update(futures_diff(406, 410, 404, {lvl(100, 3)}).view(), 5 * ms);
    CHECK(outcome.state_changed);
    CHECK(sync.state() == feed_state::resyncing);
    CHECK_FALSE(sync.book_valid());
    CHECK(sync.book().empty(side::buy));
    CHECK(sync.stats().gaps == 1);
    CHECK(sync.stats().resyncs == 1);
    CHECK(sync.buffered_diffs() == 1); // the diff after the gap starts the next attempt
    CHECK(sync.snapshot_wanted());

    // The kept diff straddles the next snapshot; later diffs chain by pu across skipped ids.
    sync.on_snapshot_requested(300 * ms);
    outcome = sync.on_snapshot(standard_snapshot(408).view(), 310 * ms);
    CHECK(outcome.state_changed);
    CHECK(sync.state() == feed_state::synced);
    CHECK(sync.update_id() == 410);
    CHECK(sync.book().best_bid() == lvl(100, 3));
    (void)sync.on_depth_update(futures_diff(415, 420, 410).view(), 320 * ms);
    CHECK(sync.state() == feed_state::synced);
    CHECK(sync.update_id() == 420);
    CHECK(sync.stats().resyncs == 1);
}

TEST_CASE("futures: a pu break inside the buffer after the snapshot resyncs", "[book_sync]") {
    book_sync sync(0, market::usdm_futures);
    (void)sync.on_connected(0);
    (void)sync.on_depth_update(futures_diff(395, 401, 390).view(), 1 * ms);
    (void)sync.on_depth_update(futures_diff(405, 410, 403).view(), 2 * ms); // pu 403 != 401
    (void)sync.on_snapshot(standard_snapshot(398).view(), 3 * ms);
    CHECK(sync.state() == feed_state::resyncing);
    CHECK(sync.stats().gaps == 1);
    CHECK(sync.stats().resyncs == 1);
    CHECK(sync.buffered_diffs() == 1);
    CHECK_FALSE(sync.book_valid());

    sync.on_snapshot_requested(300 * ms);
    (void)sync.on_snapshot(standard_snapshot(407).view(), 310 * ms);
    CHECK(sync.state() == feed_state::synced);
    CHECK(sync.update_id() == 410);
}

TEST_CASE("futures: pu is checked against the last diff, not a newer bookTicker", "[book_sync]") {
    auto sync = synced_futures(); // diffs up to 405

    decoded_book_ticker ticker;
    ticker.update_id = 408;
    ticker.bid = lvl(100, 9);
    ticker.ask = lvl(101, 4);
    auto outcome = sync.on_book_ticker(ticker, 4 * ms);
    CHECK(outcome.from_ticker);
    CHECK(sync.update_id() == 408);
    CHECK(sync.last_diff_update_id() == 405);

    SECTION("the diff that carries the ticker's update continues from the last diff") {
        outcome = sync.on_depth_update(
            futures_diff(406, 408, 405, {lvl(100, 9)}, {lvl(101, 4)}).view(), 5 * ms);
        CHECK(outcome.book_changed);
        CHECK(sync.state() == feed_state::synced);
        CHECK(sync.stats().gaps == 0);
        CHECK(sync.update_id() == 408);
        CHECK(sync.last_diff_update_id() == 408);
        CHECK_FALSE(sync.on_book_ticker(ticker, 6 * ms).book_changed); // no longer newer
        (void)sync.on_depth_update(futures_diff(409, 412, 408).view(), 7 * ms);
        CHECK(sync.state() == feed_state::synced);
        CHECK(sync.update_id() == 412);
    }
    SECTION("a diff chained to the ticker's id while the diff 406..408 is missing is a gap") {
        (void)sync.on_depth_update(futures_diff(409, 412, 408).view(), 5 * ms);
        CHECK(sync.state() == feed_state::resyncing);
        CHECK(sync.stats().gaps == 1);
    }
}

TEST_CASE("futures: trades do not keep a book fresh", "[book_sync]") {
    // Futures trades arrive on the "/market" connection; only the diffs' own connection, silent
    // here, tells whether the book is current.
    auto sync = synced_futures({.stale_after_ms = 1000});
    sync.on_activity(900 * ms);
    const auto outcome = sync.check_stale(1100 * ms);
    CHECK(outcome.state_changed);
    CHECK(sync.state() == feed_state::stale);
    CHECK_FALSE(sync.book_valid());

    // A bookTicker newer than the book (same connection as the diffs) does count, and so does
    // the next diff; one not newer than the book was dropped and proves nothing.
    auto other = synced_futures({.stale_after_ms = 1000});
    decoded_book_ticker ticker;
    ticker.update_id = 401; // not newer: dropped
    ticker.bid = lvl(100, 7);
    ticker.ask = lvl(101, 11);
    (void)other.on_book_ticker(ticker, 500 * ms);
    CHECK(other.stats().tickers_stale == 1);
    ticker.update_id = 406;
    (void)other.on_book_ticker(ticker, 900 * ms);
    CHECK(other.stats().tickers_applied == 1);
    CHECK_FALSE(other.check_stale(1100 * ms).state_changed);
    CHECK(other.check_stale(1901 * ms).state_changed);
    (void)other.on_depth_update(futures_diff(407, 409, 405).view(), 2000 * ms);
    CHECK(other.state() == feed_state::synced);
    CHECK(other.book_valid());
}

TEST_CASE("spot straddling uses lastUpdateId + 1", "[book_sync]") {
    book_sync sync(0, market::spot);
    (void)sync.on_connected(0);
    (void)sync.on_snapshot(standard_snapshot(100).view(), 1 * ms);
    (void)sync.on_depth_update(diff(95, 100).view(), 2 * ms); // u == lastUpdateId: covered
    CHECK(sync.state() == feed_state::syncing);
    CHECK(sync.stats().diffs_dropped_by_snapshot == 1);
    (void)sync.on_depth_update(diff(101, 103).view(), 3 * ms);
    CHECK(sync.state() == feed_state::synced);
}

TEST_CASE("bookTicker refreshes the top only when newer than the book", "[book_sync]") {
    auto sync = synced_spot(); // at 110: bids 100/99/98, asks 101/102/103

    decoded_book_ticker ticker;
    ticker.update_id = 109;
    ticker.bid = lvl(100, 1);
    ticker.ask = lvl(101, 1);
    auto outcome = sync.on_book_ticker(ticker, 4 * ms);
    CHECK_FALSE(outcome.book_changed);
    CHECK(sync.stats().tickers_stale == 1);
    CHECK(sync.book().best_bid() == lvl(100, 10));

    ticker.update_id = 115;
    ticker.bid = lvl(100, 7);
    ticker.ask = lvl(102, 3); // 101 is gone as of 115
    outcome = sync.on_book_ticker(ticker, 5 * ms);
    CHECK(outcome.book_changed);
    CHECK(outcome.from_ticker);
    CHECK(sync.update_id() == 115);
    CHECK(sync.last_diff_update_id() == 110);
    CHECK(sync.book().best_bid() == lvl(100, 7));
    CHECK(sync.book().best_ask() == lvl(102, 3));
    CHECK(sync.book().qty_at(side::sell, price{101}) == qty{0});

    // The same id again is not newer.
    CHECK_FALSE(sync.on_book_ticker(ticker, 6 * ms).book_changed);

    // A diff up to 113 is older than the ticker: its top must not step back.
    outcome = sync.on_depth_update(diff(111, 113, {lvl(100, 9)}, {lvl(101, 5)}).view(), 7 * ms);
    CHECK(outcome.book_changed);
    CHECK(sync.book().best_ask() == lvl(102, 3));
    CHECK(sync.book().best_bid() == lvl(100, 7));
    CHECK(sync.update_id() == 115);

    // A diff past the ticker supersedes it.
    (void)sync.on_depth_update(diff(114, 120, {}, {lvl(101, 4)}).view(), 8 * ms);
    CHECK(sync.book().best_ask() == lvl(101, 4));
    CHECK(sync.update_id() == 120);
    CHECK(sync.state() == feed_state::synced);

    SECTION("tickers are ignored while not synced or when disabled") {
        book_sync syncing(0, market::spot);
        (void)syncing.on_connected(0);
        CHECK_FALSE(syncing.on_book_ticker(ticker, 1).book_changed);
        CHECK(syncing.book().empty(side::buy));

        auto disabled = synced_spot({.apply_book_ticker = false});
        CHECK_FALSE(disabled.on_book_ticker(ticker, 9 * ms).book_changed);
        CHECK(disabled.book().best_bid() == lvl(100, 10));
    }
}

TEST_CASE("a crossed book is never valid and resyncs when it persists", "[book_sync]") {
    auto sync = synced_spot({.max_crossed_updates = 2});
    auto outcome = sync.on_depth_update(diff(111, 111, {lvl(101, 5)}).view(), 4 * ms);
    CHECK(outcome.book_changed);
    CHECK(sync.book().crossed());
    CHECK(sync.state() == feed_state::synced);
    CHECK_FALSE(sync.book_valid());
    (void)sync.on_depth_update(diff(112, 112).view(), 5 * ms);
    CHECK_FALSE(sync.book_valid());
    (void)sync.on_depth_update(diff(113, 113).view(), 6 * ms);
    CHECK(sync.state() == feed_state::resyncing);
    CHECK(sync.stats().crossed_updates == 3);

    auto healed = synced_spot({.max_crossed_updates = 2});
    (void)healed.on_depth_update(diff(111, 111, {lvl(101, 5)}).view(), 4 * ms);
    CHECK_FALSE(healed.book_valid());
    (void)healed.on_depth_update(diff(112, 112, {lvl(101, 0)}).view(), 5 * ms);
    CHECK(healed.book_valid());
}

TEST_CASE("a top past a cut snapshot's last level resyncs unless tickers confirm it",
          "[book_sync]") {
    // The standard snapshot holds 3 levels a side: with a limit of 3 it may be cut, so bids
    // below 98 and asks above 103 are unknown until they change.
    auto sync = synced_spot({.snapshot_limit = 3, .max_unknown_top_updates = 2});
    // The bids fall past the snapshot's last one, onto 96, which the diff itself brings: a bid
    // at 97 could rest unseen.
    (void)sync.on_depth_update(
        diff(111, 111, {lvl(100, 0), lvl(99, 0), lvl(98, 0), lvl(96, 5)}).view(), 4 * ms);
    CHECK(sync.book().best_bid() == lvl(96, 5));
    CHECK(sync.stats().unknown_top_updates == 1);
    CHECK(sync.book_valid()); // one such update is not a gap
    (void)sync.on_depth_update(diff(112, 112).view(), 5 * ms);
    CHECK(sync.state() == feed_state::synced);

    SECTION("without a ticker it persists and the book takes a new snapshot") {
        (void)sync.on_depth_update(diff(113, 113).view(), 6 * ms);
        CHECK(sync.state() == feed_state::resyncing);
        CHECK(sync.stats().unknown_top_resyncs == 1);
        CHECK(sync.stats().gaps == 0);
        // The new snapshot covers the levels around the new price.
        (void)sync.on_depth_update(diff(114, 120).view(), 7 * ms);
        (void)sync.on_snapshot(
            snapshot(118, {lvl(96, 5), lvl(95, 1), lvl(94, 1)}, {lvl(101, 11), lvl(102, 21)})
                .view(),
            8 * ms);
        CHECK(sync.state() == feed_state::synced);
        (void)sync.on_depth_update(diff(121, 121, {lvl(96, 0)}).view(), 9 * ms);
        CHECK(sync.stats().unknown_top_updates == 3); // 95 lies inside the new snapshot
    }
    SECTION("a newer bookTicker confirms the top") {
        decoded_book_ticker ticker;
        ticker.update_id = 113;
        ticker.bid = lvl(96, 5);
        ticker.ask = lvl(101, 11);
        (void)sync.on_book_ticker(ticker, 6 * ms);
        // The count starts again: two more unknown updates are tolerated.
        (void)sync.on_depth_update(diff(113, 114).view(), 7 * ms);
        (void)sync.on_depth_update(diff(115, 115).view(), 8 * ms);
        CHECK(sync.state() == feed_state::synced);
        CHECK(sync.stats().unknown_top_updates == 4);
        CHECK(sync.stats().unknown_top_resyncs == 0);
    }
    SECTION("the asks are watched the same way") {
        auto asks = synced_spot({.snapshot_limit = 3, .max_unknown_top_updates = 0});
        (void)asks.on_depth_update(
            diff(111, 111, {}, {lvl(101, 0), lvl(102, 0), lvl(103, 0), lvl(105, 1)}).view(),
            4 * ms);
        CHECK(asks.state() == feed_state::resyncing);
    }
    SECTION("a snapshot shorter than the limit is the whole book") {
        auto whole = synced_spot({.snapshot_limit = 4, .max_unknown_top_updates = 0});
        (void)whole.on_depth_update(
            diff(111, 111, {lvl(100, 0), lvl(99, 0), lvl(98, 0), lvl(96, 5)}).view(), 4 * ms);
        CHECK(whole.state() == feed_state::synced);
        CHECK(whole.stats().unknown_top_updates == 0);
        auto unlimited = synced_spot({.snapshot_limit = 0, .max_unknown_top_updates = 0});
        (void)unlimited.on_depth_update(
            diff(111, 111, {lvl(100, 0), lvl(99, 0), lvl(98, 0), lvl(96, 5)}).view(), 4 * ms);
        CHECK(unlimited.state() == feed_state::synced);
    }
}

TEST_CASE("a silent synced book turns stale and recovers on the next diff", "[book_sync]") {
    auto sync = synced_spot({.stale_after_ms = 1000});
    CHECK_FALSE(sync.check_stale(500 * ms).state_changed);
    sync.on_activity(900 * ms);
    CHECK_FALSE(sync.check_stale(1800 * ms).state_changed);
    const auto outcome = sync.check_stale(1901 * ms);
    CHECK(outcome.state_changed);
    CHECK(sync.state() == feed_state::stale);
    CHECK_FALSE(sync.book_valid());
    CHECK(sync.stats().stale_transitions == 1);

    (void)sync.on_depth_update(diff(111, 112).view(), 2000 * ms);
    CHECK(sync.state() == feed_state::synced);
    CHECK(sync.book_valid());
}

TEST_CASE("a disconnect drops the book until the next connection", "[book_sync]") {
    auto sync = synced_spot();
    const auto outcome = sync.on_disconnected(10 * ms);
    CHECK(outcome.state_changed);
    CHECK(sync.state() == feed_state::connecting);
    CHECK(sync.book().empty(side::buy));
    CHECK_FALSE(sync.snapshot_wanted());
    CHECK(sync.stats().snapshots_ignored == 0);
    (void)sync.on_connected(20 * ms);
    CHECK(sync.state() == feed_state::syncing);
    CHECK_FALSE(sync.snapshot_due(20 * ms));
    (void)sync.on_depth_update(diff(300, 305).view(), 21 * ms);
    CHECK(sync.snapshot_due(21 * ms));
}

TEST_CASE("the first snapshot waits for the first diff, as Binance's procedure has it",
          "[book_sync]") {
    // Asked at the connect, the snapshot can predate the stream's first diff: refused as too
    // old, and asked again only after the backoff.
    book_sync sync(0, market::spot, {.first_diff_wait_ms = 1000});
    (void)sync.on_connected(0);
    CHECK(sync.snapshot_wanted());
    CHECK_FALSE(sync.snapshot_due(0));
    CHECK(sync.snapshot_not_before() == 1000 * ms);
    (void)sync.on_depth_update(diff(200, 210).view(), 40 * ms);
    CHECK(sync.snapshot_due(40 * ms));
    CHECK(sync.snapshot_not_before() == 0);
    sync.on_snapshot_requested(40 * ms);
    (void)sync.on_snapshot(standard_snapshot(205).view(), 60 * ms);
    CHECK(sync.state() == feed_state::synced);
    CHECK(sync.stats().snapshots_too_old == 0);

    SECTION("a quiet stream: asked anyway once the wait is over") {
        book_sync quiet(1, market::usdm_futures, {.first_diff_wait_ms = 1000});
        (void)quiet.on_connected(5 * ms);
        CHECK_FALSE(quiet.snapshot_due(1004 * ms));
        CHECK(quiet.snapshot_due(1005 * ms));
        // The snapshot arrives first; the next diff straddles it.
        quiet.on_snapshot_requested(1005 * ms);
        (void)quiet.on_snapshot(standard_snapshot(400).view(), 1010 * ms);
        (void)quiet.on_depth_update(futures_diff(399, 402, 398).view(), 2000 * ms);
        CHECK(quiet.state() == feed_state::synced);
    }
    SECTION("a reconnect waits again") {
        (void)sync.on_disconnected(100 * ms);
        (void)sync.on_connected(200 * ms);
        CHECK_FALSE(sync.snapshot_due(200 * ms));
        CHECK(sync.snapshot_due(1200 * ms));
    }
}

TEST_CASE("unsolicited snapshots are ignored while synced", "[book_sync]") {
    auto sync = synced_spot();
    (void)sync.on_snapshot(snapshot(500, {lvl(1, 1)}, {lvl(2, 1)}).view(), 10 * ms);
    CHECK(sync.stats().snapshots_ignored == 1);
    CHECK(sync.book().best_bid() == lvl(100, 10));
}

TEST_CASE("the diff buffer is bounded and drops its oldest diffs", "[book_sync]") {
    book_sync sync(0, market::spot, {.max_buffered_diffs = 3, .max_buffered_levels = 4});
    (void)sync.on_connected(0);
    for (std::uint64_t i = 0; i < 5; ++i) {
        (void)sync.on_depth_update(
            diff(100 + 10 * i, 109 + 10 * i, {lvl(100, static_cast<std::int64_t>(i) + 1)}).view(),
            1);
    }
    CHECK(sync.buffered_diffs() == 3);
    CHECK(sync.stats().diffs_dropped_overflow == 2);
    // Level budget: a diff with 3 levels pushes out older ones.
    (void)sync.on_depth_update(diff(150, 159, {lvl(1, 1), lvl(2, 1), lvl(3, 1)}).view(), 1);
    CHECK(sync.buffered_diffs() == 2);
    // Snapshot inside the kept range: the kept diffs still apply in order.
    (void)sync.on_snapshot(standard_snapshot(145).view(), 2);
    CHECK(sync.state() == feed_state::synced);
    CHECK(sync.book().qty_at(side::buy, price{100}) == qty{5});
    CHECK(sync.book().qty_at(side::buy, price{3}) == qty{1});

    book_sync tiny(0, market::spot, {.max_buffered_levels = 2});
    (void)tiny.on_connected(0);
    (void)tiny.on_depth_update(diff(1, 2, {lvl(1, 1), lvl(2, 1), lvl(3, 1)}).view(), 1);
    CHECK(tiny.buffered_diffs() == 0);
    CHECK(tiny.stats().diffs_dropped_overflow == 1);
}

// -- update ids that jump far ahead ------------------------------------------------------------

TEST_CASE("a spot diff whose u jumps far ahead resyncs instead of freezing the book",
          "[book_sync][id_jump]") {
    auto sync = synced_spot({.stale_after_ms = 1000});
    constexpr std::uint64_t far = 110 + 10'000'000'000ULL;
    // Continues the chain (U == 111) but claims ten billion updates at once.
    auto outcome = sync.on_depth_update(diff(111, far, {lvl(100, 99)}).view(), 4 * ms);
    CHECK(outcome.state_changed);
    CHECK(sync.state() == feed_state::resyncing);
    CHECK_FALSE(sync.book_valid());
    CHECK(sync.stats().id_jumps == 1);
    CHECK(sync.stats().resyncs == 1);
    CHECK(sync.snapshot_wanted());
    // The poisoned diff is not kept for the next attempt: the next snapshot syncs normally.
    sync.on_snapshot_requested(5 * ms);
    (void)sync.on_depth_update(diff(111, 112).view(), 6 * ms);
    (void)sync.on_snapshot(standard_snapshot(111).view(), 7 * ms);
    CHECK(sync.state() == feed_state::synced);
    CHECK(sync.update_id() == 112);
}

TEST_CASE("a futures diff that continues the pu chain is applied however far its u jumps",
          "[book_sync][id_jump]") {
    // Futures ids are not contiguous per symbol: a quiet symbol's next diff can be millions of
    // ids on. pu == the book's id is the venue saying the diff follows it.
    auto sync = synced_futures({.max_duplicate_diffs = 3});
    constexpr std::uint64_t far = 405 + 10'000'000'000ULL;
    (void)sync.on_depth_update(futures_diff(far - 5, far, 405, {lvl(100, 2)}).view(), 4 * ms);
    CHECK(sync.state() == feed_state::synced);
    CHECK(sync.update_id() == far);
    CHECK(sync.book().best_bid() == lvl(100, 2));
    CHECK(sync.stats().id_jumps == 0);
    (void)sync.on_depth_update(futures_diff(far + 3, far + 9, far).view(), 5 * ms);
    CHECK(sync.update_id() == far + 9);

    SECTION("an id that ran ahead of the stream still resyncs, after a run of duplicates") {
        // Had that u been corrupt, the real stream now sits below the book's id.
        for (std::uint64_t u = 410; u < 413; ++u) {
            (void)sync.on_depth_update(futures_diff(u, u, u - 1).view(), 6 * ms);
            CHECK(sync.state() == feed_state::synced);
        }
        (void)sync.on_depth_update(futures_diff(413, 413, 412).view(), 7 * ms);
        CHECK(sync.state() == feed_state::resyncing);
    }
    SECTION("a far diff that does not continue the chain is still a gap") {
        (void)sync.on_depth_update(futures_diff(far + 20, far + 10'000'000'000ULL, far + 15).view(),
                                   6 * ms);
        CHECK(sync.state() == feed_state::resyncing);
    }
}

TEST_CASE("a jump within the bound is applied; the bound is configurable", "[book_sync][id_jump]") {
    auto sync = synced_spot({.max_update_id_jump = 1000});
    (void)sync.on_depth_update(diff(111, 1110).view(), 4 * ms); // exactly 1000 ids
    CHECK(sync.state() == feed_state::synced);
    CHECK(sync.update_id() == 1110);
    (void)sync.on_depth_update(diff(1111, 2111).view(), 5 * ms); // 1001 ids
    CHECK(sync.state() == feed_state::resyncing);
    CHECK(sync.stats().id_jumps == 1);
}

TEST_CASE("a bookTicker whose u jumps far ahead is ignored instead of pinning the top",
          "[book_sync][id_jump]") {
    // Ignored, not resynced: on futures a quiet symbol's ticker can run that far ahead of its
    // book legitimately, and the diff that follows brings the book there.
    auto sync = synced_futures();
    const core::book_level best_bid = sync.book().best_bid();
    const std::uint64_t far = 405 + 10'000'000'000ULL;
    decoded_book_ticker ticker;
    ticker.update_id = far;
    ticker.bid = lvl(50, 1);
    ticker.ask = lvl(51, 1);
    const auto outcome = sync.on_book_ticker(ticker, 4 * ms);
    CHECK_FALSE(outcome.book_changed);
    CHECK_FALSE(outcome.state_changed);
    CHECK(sync.state() == feed_state::synced);
    CHECK(sync.book().best_bid() == best_bid);
    CHECK(sync.stats().id_jumps == 1);
    CHECK(sync.stats().tickers_applied == 0);
    // The diff arrives; the next ticker applies.
    (void)sync.on_depth_update(futures_diff(far - 5, far, 405).view(), 5 * ms);
    ticker.update_id = far + 1;
    ticker.bid = lvl(100, 1);
    ticker.ask = lvl(102, 1);
    (void)sync.on_book_ticker(ticker, 6 * ms);
    CHECK(sync.stats().tickers_applied == 1);
    CHECK(sync.book().best_bid() == lvl(100, 1));
}

TEST_CASE("a straddling diff that jumps far past the snapshot is not applied",
          "[book_sync][id_jump]") {
    SECTION("diff buffered before the snapshot") {
        book_sync sync(0, market::spot);
        (void)sync.on_connected(0);
        (void)sync.on_depth_update(diff(105, 10'000'000'000ULL).view(), 1 * ms);
        sync.on_snapshot_requested(1 * ms);
        (void)sync.on_snapshot(standard_snapshot(108).view(), 2 * ms);
        CHECK(sync.state() != feed_state::synced);
        CHECK(sync.stats().id_jumps == 1);
        CHECK(sync.stats().diffs_applied == 0);
    }
    SECTION("diff arriving after the snapshot") {
        book_sync sync(0, market::spot);
        (void)sync.on_connected(0);
        sync.on_snapshot_requested(0);
        (void)sync.on_snapshot(standard_snapshot(108).view(), 2 * ms);
        (void)sync.on_depth_update(diff(105, 10'000'000'000ULL).view(), 3 * ms);
        CHECK(sync.state() != feed_state::synced);
        CHECK(sync.stats().id_jumps == 1);
        CHECK(sync.stats().diffs_applied == 0);
    }
}

TEST_CASE("dropped diffs and stale tickers do not keep a book fresh", "[book_sync][id_jump]") {
    auto sync = synced_spot({.stale_after_ms = 1000});
    // Duplicates (and tickers not newer than the book) keep arriving; nothing is applied.
    decoded_book_ticker old_ticker;
    old_ticker.update_id = 110;
    old_ticker.bid = lvl(100, 10);
    old_ticker.ask = lvl(101, 11);
    for (int i = 1; i <= 4; ++i) {
        (void)sync.on_depth_update(diff(100, 110).view(), (3 + 200 * i) * ms);
        (void)sync.on_book_ticker(old_ticker, (103 + 200 * i) * ms);
    }
    CHECK(sync.stats().diffs_duplicate >= 1);
    CHECK(sync.check_stale(1004 * ms).state_changed);
    CHECK(sync.state() == feed_state::stale);
}

TEST_CASE("a run of duplicate diffs while synced means the book is ahead of the stream: resync",
          "[book_sync][id_jump]") {
    auto sync = synced_spot({.max_duplicate_diffs = 3});
    // A diff within the jump bound took the book ahead; the real stream now looks duplicate.
    (void)sync.on_depth_update(diff(111, 5000).view(), 4 * ms);
    REQUIRE(sync.state() == feed_state::synced);
    for (std::uint64_t u = 112; u < 115; ++u) {
        (void)sync.on_depth_update(diff(u, u).view(), 5 * ms);
        CHECK(sync.state() == feed_state::synced);
    }
    (void)sync.on_depth_update(diff(115, 115).view(), 6 * ms);
    CHECK(sync.state() == feed_state::resyncing);
    CHECK(sync.stats().diffs_duplicate == 4);
}
