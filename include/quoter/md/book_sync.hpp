// book_sync: keeps one symbol's local order book exact with Binance's documented procedure.
//
//   1. Subscribe to the diff stream and buffer its events (bounded: the oldest are dropped).
//   2. Fetch a REST depth snapshot once the first diff is buffered (the transport does; this
//      class says when: snapshot_due()). Asked earlier, it can predate that diff and be too
//      old; a symbol with no diff within first_diff_wait_ms gets its snapshot anyway.
//   3. Drop buffered diffs the snapshot already contains: u <= lastUpdateId on spot,
//      u < lastUpdateId on USD-M futures.
//   4. The first diff applied must straddle the snapshot: U <= lastUpdateId + 1 <= u on spot,
//      U <= lastUpdateId <= u on futures. A first diff beginning after that point means the
//      snapshot is too old: it is discarded and another is requested (with backoff).
//   5. Every later diff must continue the chain: U == last_u + 1 on spot, pu == last_u on
//      futures. A diff entirely at or below last_u is a duplicate and is ignored. Anything else
//      is a gap: the book is discarded, the state becomes `resyncing`, the resync is counted and
//      a new snapshot is requested after the backoff delay.
//
// bookTicker: while synced, a bookTicker whose update id is newer than the book's refreshes the
// top: its levels are set and every level better than them removed. Because a later diff can
// still cover only ids older than that ticker, the ticker is re-applied after such a diff, so
// the top never steps back in time.
//
// Update ids that jump: no message may advance the book's id by more than max_update_id_jump
// (checked on every diff and bookTicker, synced or straddling a snapshot); a diff that does is
// treated as a gap and the book resyncs without keeping it, a bookTicker is ignored. Otherwise
// one forged id far ahead would make every later diff a duplicate and freeze the book. A
// futures diff whose pu is the book's id is exempt: the venue links it, and futures ids are not
// contiguous per symbol. A run of more than max_duplicate_diffs duplicates while synced resyncs
// too, which also catches an id that ran ahead within those rules.
//
// Freshness: only messages that are applied (diffs, newer bookTickers, spot trades; see
// on_activity) count as activity for check_stale(). Duplicates, stale tickers and diffs
// buffered while not synced do not, so a book whose diffs are all dropped turns stale.
//
// Validity: book_valid() is true only in state `synced` with a book that is not crossed. A book
// that stays crossed for max_crossed_updates consecutive updates is treated as a gap.
//
// Known top: a snapshot holds at most snapshot_limit levels a side, and a full one says nothing
// of the levels beyond its last; a level there enters the book only if it changes. Once the
// price moves past a cut snapshot's last level (or past levels a full book dropped), a missing
// level could be better than the book's best, so the top is not known unless a bookTicker newer
// than the diffs set it. For the top to be wrong, a level untouched since before the snapshot
// must be the venue's best, so one such update is not taken as a gap (the next ticker settles
// it); a book whose top stays unknown for max_unknown_top_updates consecutive updates (the price
// has moved on without tickers to confirm it) takes a new snapshot, which covers the levels
// around the new price.
//
// Backoff: the n-th consecutive snapshot failure (too old, failed request, or a resync soon after
// the previous one) delays the next request by min(initial * 2^(n-1), max); the count resets
// once the book has stayed synced for backoff_reset_after_ms.
//
// Thread ownership: md thread only. No allocation after construction.
#pragma once

#include "quoter/core/book_level.hpp"
#include "quoter/core/time.hpp"
#include "quoter/md/binance_decoder.hpp"
#include "quoter/md/feed_state.hpp"
#include "quoter/md/instrument.hpp"
#include "quoter/md/order_book.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace quoter::md {

struct book_sync_config {
    /// Book capacity per side, in levels.
    std::size_t max_levels_per_side = order_book::default_max_levels;
    /// Width of each side's dense window at the top of the book, in ticks (8 bytes a tick a
    /// side). By default (order_book::auto_window) sized from the book's first price: 65536
    /// ticks (1 MiB a book) for BTCUSDT, the 4096-tick minimum for low-priced symbols.
    std::size_t window_ticks = order_book::auto_window;
    /// Diffs kept while waiting for a snapshot; the oldest are dropped beyond this.
    std::size_t max_buffered_diffs = 512;
    /// Levels kept across all buffered diffs; the oldest diffs are dropped beyond this.
    std::size_t max_buffered_levels = 1U << 14U;
    /// After a (re)connect, longest wait for the first diff before the snapshot is asked
    /// without it (a quiet symbol's stream may send nothing for a while), in milliseconds.
    std::int64_t first_diff_wait_ms = 1'000;
    /// Delay before the second consecutive snapshot request, in milliseconds.
    std::int64_t snapshot_backoff_initial_ms = 250;
    /// Longest delay between snapshot requests, in milliseconds.
    std::int64_t snapshot_backoff_max_ms = 30'000;
    /// Time synced after which the backoff starts again from zero, in milliseconds.
    std::int64_t backoff_reset_after_ms = 60'000;
    /// A synced book with no message for this long becomes stale, in milliseconds.
    std::int64_t stale_after_ms = 5'000;
    /// Consecutive crossed updates tolerated before the book is resynchronised.
    std::uint32_t max_crossed_updates = 10;
    /// Levels a side of a snapshot holds at most (the request's limit): a side this long may be
    /// cut, so levels beyond its last are not known. 0: every snapshot is whole.
    std::size_t snapshot_limit = 1000;
    /// Consecutive updates with a top that is not known (see "Known top") tolerated before the
    /// book is resynchronised.
    std::uint32_t max_unknown_top_updates = 10;
    /// Apply the bookTicker top-of-book refresh.
    bool apply_book_ticker = true;
    /// Largest step of the book's update id one message may make, in ids: a spot diff's u past
    /// the book's id, a straddling diff's u past the snapshot's lastUpdateId, a bookTicker's u
    /// past the book's id (a futures diff with pu == the book's id is not bounded). A busy spot
    /// book advances about 1.5 k ids per 100 ms diff, so 10^7 leaves room for bursts while a
    /// forged or corrupt id (u + 10^10) resyncs instead of making every later diff look like a
    /// duplicate.
    std::uint64_t max_update_id_jump = 10'000'000;
    /// Consecutive duplicate diffs (u at or below the book's id) tolerated while synced. The
    /// live stream never repeats itself once synced, so a run of them means the book's id ran
    /// ahead of the stream (a jump within max_update_id_jump): the book is resynchronised.
    std::uint32_t max_duplicate_diffs = 10;
};

/// What one input did; feed_handler turns it into md_events.
struct sync_outcome {
    bool book_changed = false;  ///< The book (or its validity) changed: publish it.
    bool state_changed = false; ///< state() differs from before the call.
    bool from_ticker = false;   ///< The change came from a bookTicker refresh.
    bool snapshot_applied = false;
};

struct book_sync_stats {
    std::uint64_t diffs_applied = 0;
    std::uint64_t diffs_buffered = 0;
    std::uint64_t diffs_dropped_by_snapshot = 0; ///< Buffered diffs covered by the snapshot.
    std::uint64_t diffs_dropped_overflow = 0;    ///< Buffered diffs dropped for space.
    std::uint64_t diffs_duplicate = 0;           ///< Diffs at or below the book's id.
    std::uint64_t gaps = 0;                      ///< Chain breaks while synced.
    /// Messages whose id ran beyond max_update_id_jump (a diff resyncs, a ticker is ignored).
    std::uint64_t id_jumps = 0;
    std::uint64_t resyncs = 0; ///< Transitions into resyncing.
    std::uint64_t snapshots_applied = 0;
    std::uint64_t snapshots_too_old = 0;
    std::uint64_t snapshots_ignored = 0; ///< Arrived while not wanted.
    std::uint64_t snapshot_failures = 0;
    std::uint64_t tickers_applied = 0;
    std::uint64_t tickers_stale = 0; ///< bookTicker not newer than the book.
    std::uint64_t crossed_updates = 0;
    /// Updates after which a side's top lay beyond the known levels, and the resyncs they caused.
    std::uint64_t unknown_top_updates = 0;
    std::uint64_t unknown_top_resyncs = 0;
    std::uint64_t stale_transitions = 0;
};

class book_sync {
public:
    /// Allocates the book and the diff buffer once.
    book_sync(symbol_id symbol, market venue, book_sync_config config = {});

    // -- transport events -------------------------------------------------------------------
    /// The diff stream is subscribed: start buffering and want a snapshot.
    sync_outcome on_connected(core::timestamp_ns now) noexcept;
    /// The stream is gone: drop the book and wait for on_connected().
    sync_outcome on_disconnected(core::timestamp_ns now) noexcept;
    /// The transport sent the snapshot request (snapshot_due() told it to).
    void on_snapshot_requested(core::timestamp_ns now) noexcept;
    /// The snapshot request failed (HTTP error, timeout, malformed body).
    void on_snapshot_failed(core::timestamp_ns now) noexcept;

    // -- decoded messages -------------------------------------------------------------------
    sync_outcome on_depth_update(const decoded_depth& diff, core::timestamp_ns local_ns) noexcept;
    sync_outcome on_snapshot(const decoded_depth& snapshot, core::timestamp_ns local_ns) noexcept;
    sync_outcome on_book_ticker(const decoded_book_ticker& ticker,
                                core::timestamp_ns local_ns) noexcept;
    /// Any other message for this symbol (trades): on spot it proves the diff stream's
    /// connection is alive; on USD-M futures trades travel on another connection, so it is
    /// ignored there.
    void on_activity(core::timestamp_ns local_ns) noexcept;
    /// Turns a synced book stale when nothing arrived for stale_after_ms. Call periodically.
    sync_outcome check_stale(core::timestamp_ns now) noexcept;

    // -- snapshot requests ------------------------------------------------------------------
    /// True when a snapshot is wanted and none is in flight (regardless of the delay).
    [[nodiscard]] bool snapshot_wanted() const noexcept;
    /// True when a snapshot is wanted, its backoff delay has passed at time now, and a diff
    /// was buffered since the connect (or first_diff_wait_ms passed without one).
    [[nodiscard]] bool snapshot_due(core::timestamp_ns now) const noexcept {
        return snapshot_wanted() && now >= snapshot_not_before();
    }
    /// Earliest time the next snapshot request may be sent, in ns; a diff buffered before it
    /// while the first is awaited makes it the backoff's end.
    [[nodiscard]] core::timestamp_ns snapshot_not_before() const noexcept {
        return awaiting_first_diff_ ? std::max(snapshot_not_before_, first_diff_deadline_)
                                    : snapshot_not_before_;
    }
    /// Current backoff delay that was applied to the pending request, in ns.
    [[nodiscard]] core::duration_ns snapshot_backoff_ns() const noexcept { return backoff_ns_; }

    // -- state ------------------------------------------------------------------------------
    [[nodiscard]] symbol_id symbol() const noexcept { return symbol_; }
    [[nodiscard]] market venue() const noexcept { return venue_; }
    [[nodiscard]] feed_state state() const noexcept { return state_; }
    [[nodiscard]] const order_book& book() const noexcept { return book_; }
    /// Synced and not crossed: the only condition under which the book may be traded on.
    [[nodiscard]] bool book_valid() const noexcept {
        return state_ == feed_state::synced && !book_.crossed();
    }
    /// Update id the book reflects: the last diff's u, or a newer bookTicker's u.
    [[nodiscard]] std::uint64_t update_id() const noexcept {
        return ticker_active_ && ticker_.update_id > last_update_id_ ? ticker_.update_id
                                                                     : last_update_id_;
    }
    /// u of the last applied diff (or the snapshot's lastUpdateId).
    [[nodiscard]] std::uint64_t last_diff_update_id() const noexcept { return last_update_id_; }
    /// Exchange time of the last applied diff or ticker, in ns (0 if none carried one).
    [[nodiscard]] core::timestamp_ns exchange_ns() const noexcept { return exchange_ns_; }
    [[nodiscard]] std::size_t buffered_diffs() const noexcept { return buffered_.size(); }
    [[nodiscard]] const book_sync_stats& stats() const noexcept { return stats_; }

private:
    struct buffered_diff {
        std::uint64_t first_update_id;
        std::uint64_t final_update_id;
        std::uint64_t prev_final_update_id;
        bool has_prev;
        core::timestamp_ns exchange_ns;
        std::size_t bid_offset;
        std::size_t bid_count;
        std::size_t ask_offset;
        std::size_t ask_count;
    };

    enum class chain : std::uint8_t { continues, duplicate, gap, jump };

    void set_state(feed_state next, sync_outcome& outcome) noexcept;
    void buffer(const decoded_depth& diff) noexcept;
    void drop_oldest_buffered(std::size_t count) noexcept;
    void apply_levels(std::span<const core::book_level> bids,
                      std::span<const core::book_level> asks) noexcept;
    [[nodiscard]] chain check_chain(std::uint64_t first, std::uint64_t final_id, std::uint64_t prev,
                                    bool has_prev) const noexcept;
    [[nodiscard]] bool straddles(std::uint64_t first, std::uint64_t final_id) const noexcept;
    [[nodiscard]] bool covered_by_snapshot(std::uint64_t final_id) const noexcept;
    /// True when final_id lies more than max_update_id_jump ids past from.
    [[nodiscard]] bool jumps_too_far(std::uint64_t from, std::uint64_t final_id) const noexcept {
        return final_id > from && final_id - from > config_.max_update_id_jump;
    }
    /// Records an input whose update id jumped too far and resyncs (discarding the buffer).
    void reject_jump(core::timestamp_ns now, sync_outcome& outcome) noexcept;
    /// Applies buffered diffs after a snapshot (or detects a too-old snapshot or a gap).
    void drain_buffer(core::timestamp_ns now, sync_outcome& outcome) noexcept;
    void apply_ticker_levels() noexcept;
    /// Discards the book and wants a new snapshot; keep_buffer keeps the buffered diffs.
    void start_resync(core::timestamp_ns now, sync_outcome& outcome,
                      bool keep_buffer = false) noexcept;
    void schedule_snapshot(core::timestamp_ns now, bool failure) noexcept;
    void after_book_change(core::timestamp_ns now, sync_outcome& outcome) noexcept;
    /// A snapshot side as long as snapshot_limit may be cut: levels beyond its worst are unknown.
    void mark_cut_side(core::side s, std::span<const core::book_level> levels) noexcept;
    /// No level better than side s's best can be missing from the book.
    [[nodiscard]] bool top_known(core::side s) const noexcept;
    void become_synced(core::timestamp_ns now, sync_outcome& outcome) noexcept;

    symbol_id symbol_;
    market venue_;
    book_sync_config config_;
    order_book book_;
    feed_state state_ = feed_state::connecting;

    // Sync progress.
    bool snapshot_loaded_ = false; ///< Book holds a snapshot awaiting its straddling diff.
    bool snapshot_in_flight_ = false;
    std::uint64_t last_update_id_ = 0;
    core::timestamp_ns exchange_ns_ = 0;
    core::timestamp_ns last_activity_ns_ = 0;
    core::timestamp_ns synced_since_ns_ = 0;
    core::timestamp_ns snapshot_not_before_ = 0;
    /// Since the connect no diff was buffered: the snapshot waits until first_diff_deadline_.
    bool awaiting_first_diff_ = false;
    core::timestamp_ns first_diff_deadline_ = 0;
    core::duration_ns backoff_ns_ = 0;
    std::uint32_t consecutive_failures_ = 0;
    std::uint32_t consecutive_crossed_ = 0;
    std::uint32_t consecutive_unknown_top_ = 0;
    std::uint32_t consecutive_duplicates_ = 0; ///< Duplicate diffs since the last applied one.

    // Latest bookTicker newer than the last diff, re-applied after older diffs.
    decoded_book_ticker ticker_{};
    bool ticker_active_ = false;

    // Buffered diffs: headers in arrival order, their levels in one pool.
    std::vector<buffered_diff> buffered_;
    std::vector<core::book_level> pool_;
    std::size_t pool_used_ = 0;

    book_sync_stats stats_;
};

} // namespace quoter::md
