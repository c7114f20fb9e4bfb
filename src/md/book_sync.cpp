#include "quoter/md/book_sync.hpp"

#include <algorithm>
#include <cstring>

namespace quoter::md {

book_sync::book_sync(symbol_id symbol, market venue, book_sync_config config)
    : symbol_(symbol), venue_(venue), config_(config),
      book_(config.max_levels_per_side, config.window_ticks) {
    config_.max_buffered_diffs = std::max<std::size_t>(config_.max_buffered_diffs, 1);
    buffered_.reserve(config_.max_buffered_diffs);
    pool_.resize(std::max<std::size_t>(config_.max_buffered_levels, 1));
}

void book_sync::set_state(feed_state next, sync_outcome& outcome) noexcept {
    if (next != state_) {
        state_ = next;
        outcome.state_changed = true;
        outcome.book_changed = true; // validity follows the state
    }
}

// -- transport events ----------------------------------------------------------------------

sync_outcome book_sync::on_connected(core::timestamp_ns now) noexcept {
    sync_outcome outcome;
    book_.clear();
    buffered_.clear();
    pool_used_ = 0;
    snapshot_loaded_ = false;
    snapshot_in_flight_ = false;
    ticker_active_ = false;
    last_update_id_ = 0;
    consecutive_crossed_ = 0;
    consecutive_unknown_top_ = 0;
    consecutive_duplicates_ = 0;
    last_activity_ns_ = now;
    schedule_snapshot(now, false);
    awaiting_first_diff_ = true;
    first_diff_deadline_ =
        now + std::max<std::int64_t>(config_.first_diff_wait_ms, 0) * core::ns_per_ms;
    set_state(feed_state::syncing, outcome);
    return outcome;
}

sync_outcome book_sync::on_disconnected(core::timestamp_ns now) noexcept {
    sync_outcome outcome = on_connected(now);
    set_state(feed_state::connecting, outcome);
    return outcome;
}

void book_sync::on_snapshot_requested(core::timestamp_ns /*now*/) noexcept {
    snapshot_in_flight_ = true;
}

void book_sync::on_snapshot_failed(core::timestamp_ns now) noexcept {
    snapshot_in_flight_ = false;
    ++stats_.snapshot_failures;
    schedule_snapshot(now, true);
}

bool book_sync::snapshot_wanted() const noexcept {
    return (state_ == feed_state::syncing || state_ == feed_state::resyncing) &&
           !snapshot_loaded_ && !snapshot_in_flight_;
}

void book_sync::schedule_snapshot(core::timestamp_ns now, bool failure) noexcept {
    if (failure) {
        ++consecutive_failures_;
    }
    if (consecutive_failures_ == 0) {
        backoff_ns_ = 0;
    } else {
        const std::uint32_t doublings = std::min<std::uint32_t>(consecutive_failures_ - 1, 30);
        const core::duration_ns max_ns = config_.snapshot_backoff_max_ms * core::ns_per_ms;
        const core::duration_ns initial_ns = config_.snapshot_backoff_initial_ms * core::ns_per_ms;
        backoff_ns_ = std::min(max_ns, initial_ns << doublings);
        if (backoff_ns_ < 0) {
            backoff_ns_ = max_ns;
        }
    }
    snapshot_not_before_ = now + backoff_ns_;
}

// -- sync rules ----------------------------------------------------------------------------

bool book_sync::covered_by_snapshot(std::uint64_t final_id) const noexcept {
    return venue_ == market::spot ? final_id <= last_update_id_ : final_id < last_update_id_;
}

bool book_sync::straddles(std::uint64_t first, std::uint64_t final_id) const noexcept {
    const std::uint64_t boundary = venue_ == market::spot ? last_update_id_ + 1 : last_update_id_;
    return first <= boundary && boundary <= final_id;
}

book_sync::chain book_sync::check_chain(std::uint64_t first, std::uint64_t final_id,
                                        std::uint64_t prev, bool has_prev) const noexcept {
    if (final_id <= last_update_id_) {
        return chain::duplicate;
    }
    // A futures diff whose pu is the book's id follows it by the venue's own word, however far
    // its u: futures ids are not contiguous per symbol, and a quiet symbol's next diff can be
    // millions of ids on. Were that u corrupt, the stream would fall below the book's id and
    // the run of duplicates resyncs it.
    if (venue_ == market::usdm_futures && has_prev && prev == last_update_id_) {
        return chain::continues;
    }
    if (jumps_too_far(last_update_id_, final_id)) {
        return chain::jump;
    }
    if (venue_ == market::usdm_futures) {
        return chain::gap;
    }
    return first == last_update_id_ + 1 ? chain::continues : chain::gap;
}

void book_sync::apply_levels(std::span<const core::book_level> bids,
                             std::span<const core::book_level> asks) noexcept {
    book_.apply(core::side::buy, bids);
    book_.apply(core::side::sell, asks);
}

void book_sync::apply_ticker_levels() noexcept {
    // A top that already shows the ticker's level (the usual case) needs no change, and one at
    // the ticker's price (a new quantity, the next most usual) has no better level to remove:
    // only the best level's quantity changes.
    if (const core::book_level best = book_.best_bid();
        ticker_.bid.qty.lots() > 0 && best != ticker_.bid) {
        if (best.px == ticker_.bid.px && !book_.empty(core::side::buy)) {
            (void)book_.set_best_qty(core::side::buy, ticker_.bid.qty);
        } else {
            if (best.px > ticker_.bid.px) {
                book_.erase_better_than(core::side::buy, ticker_.bid.px);
            }
            book_.set(core::side::buy, ticker_.bid.px, ticker_.bid.qty);
        }
    }
    if (const core::book_level best = book_.best_ask();
        ticker_.ask.qty.lots() > 0 && best != ticker_.ask) {
        if (best.px == ticker_.ask.px && !book_.empty(core::side::sell)) {
            (void)book_.set_best_qty(core::side::sell, ticker_.ask.qty);
        } else {
            if (best.px < ticker_.ask.px) { // an empty side reads as price 0: nothing to remove
                book_.erase_better_than(core::side::sell, ticker_.ask.px);
            }
            book_.set(core::side::sell, ticker_.ask.px, ticker_.ask.qty);
        }
    }
}

void book_sync::start_resync(core::timestamp_ns now, sync_outcome& outcome,
                             bool keep_buffer) noexcept {
    ++stats_.resyncs;
    if (state_ == feed_state::synced || state_ == feed_state::stale) {
        if (now - synced_since_ns_ >= config_.backoff_reset_after_ms * core::ns_per_ms) {
            consecutive_failures_ = 0;
        }
    }
    book_.clear();
    if (!keep_buffer) {
        buffered_.clear();
        pool_used_ = 0;
    }
    snapshot_loaded_ = false;
    ticker_active_ = false;
    consecutive_crossed_ = 0;
    consecutive_unknown_top_ = 0;
    consecutive_duplicates_ = 0;
    schedule_snapshot(now, true);
    set_state(feed_state::resyncing, outcome);
}

void book_sync::reject_jump(core::timestamp_ns now, sync_outcome& outcome) noexcept {
    ++stats_.id_jumps;
    ++stats_.gaps;
    start_resync(now, outcome);
}

void book_sync::become_synced(core::timestamp_ns now, sync_outcome& outcome) noexcept {
    snapshot_loaded_ = false;
    synced_since_ns_ = now;
    last_activity_ns_ = now;
    consecutive_duplicates_ = 0;
    set_state(feed_state::synced, outcome);
}

void book_sync::mark_cut_side(core::side s, std::span<const core::book_level> levels) noexcept {
    if (config_.snapshot_limit == 0 || levels.size() < config_.snapshot_limit) {
        return; // the whole side
    }
    const auto by_price = [](const core::book_level& a, const core::book_level& b) {
        return a.px < b.px;
    };
    // Its worst level: the lowest bid, the highest ask.
    const auto worst = s == core::side::buy
                           ? std::min_element(levels.begin(), levels.end(), by_price)
                           : std::max_element(levels.begin(), levels.end(), by_price);
    book_.mark_incomplete_beyond(s, worst->px);
}

bool book_sync::top_known(core::side s) const noexcept {
    if (book_.top_complete(s)) {
        return true;
    }
    // A bookTicker newer than the diffs set this side's top, and it is the venue's.
    return ticker_active_ && (s == core::side::buy ? ticker_.bid : ticker_.ask).qty.lots() > 0;
}

void book_sync::after_book_change(core::timestamp_ns now, sync_outcome& outcome) noexcept {
    outcome.book_changed = true;
    if (top_known(core::side::buy) && top_known(core::side::sell)) {
        consecutive_unknown_top_ = 0;
    } else {
        ++stats_.unknown_top_updates;
        if (++consecutive_unknown_top_ > config_.max_unknown_top_updates) {
            ++stats_.unknown_top_resyncs;
            start_resync(now, outcome);
            return;
        }
    }
    if (!book_.crossed()) {
        consecutive_crossed_ = 0;
        return;
    }
    ++stats_.crossed_updates;
    if (++consecutive_crossed_ > config_.max_crossed_updates) {
        ++stats_.gaps;
        start_resync(now, outcome);
    }
}

// -- buffering -----------------------------------------------------------------------------

void book_sync::drop_oldest_buffered(std::size_t count) noexcept {
    count = std::min(count, buffered_.size());
    if (count == 0) {
        return;
    }
    if (count == buffered_.size()) {
        buffered_.clear();
        pool_used_ = 0;
        return;
    }
    const std::size_t keep_from = buffered_[count].bid_offset;
    std::memmove(pool_.data(), pool_.data() + keep_from,
                 (pool_used_ - keep_from) * sizeof(core::book_level));
    pool_used_ -= keep_from;
    buffered_.erase(buffered_.begin(), buffered_.begin() + static_cast<std::ptrdiff_t>(count));
    for (buffered_diff& diff : buffered_) {
        diff.bid_offset -= keep_from;
        diff.ask_offset -= keep_from;
    }
}

void book_sync::buffer(const decoded_depth& diff) noexcept {
    awaiting_first_diff_ = false;
    const std::size_t needed = diff.bids.size() + diff.asks.size();
    if (needed > pool_.size()) {
        // Cannot be kept at all: the chain check after the snapshot will see the hole.
        stats_.diffs_dropped_overflow += buffered_.size() + 1;
        buffered_.clear();
        pool_used_ = 0;
        return;
    }
    while (!buffered_.empty() &&
           (buffered_.size() >= config_.max_buffered_diffs || pool_used_ + needed > pool_.size())) {
        drop_oldest_buffered(1);
        ++stats_.diffs_dropped_overflow;
    }
    buffered_diff header{};
    header.first_update_id = diff.first_update_id;
    header.final_update_id = diff.final_update_id;
    header.prev_final_update_id = diff.prev_final_update_id;
    header.has_prev = diff.has_prev_final_update_id;
    header.exchange_ns = diff.exchange_ns;
    header.bid_offset = pool_used_;
    header.bid_count = diff.bids.size();
    std::copy(diff.bids.begin(), diff.bids.end(),
              pool_.begin() + static_cast<std::ptrdiff_t>(pool_used_));
    pool_used_ += diff.bids.size();
    header.ask_offset = pool_used_;
    header.ask_count = diff.asks.size();
    std::copy(diff.asks.begin(), diff.asks.end(),
              pool_.begin() + static_cast<std::ptrdiff_t>(pool_used_));
    pool_used_ += diff.asks.size();
    buffered_.push_back(header);
    ++stats_.diffs_buffered;
}

void book_sync::drain_buffer(core::timestamp_ns now, sync_outcome& outcome) noexcept {
    std::size_t first = 0;
    while (first < buffered_.size() && covered_by_snapshot(buffered_[first].final_update_id)) {
        ++first;
    }
    stats_.diffs_dropped_by_snapshot += first;
    drop_oldest_buffered(first);
    if (buffered_.empty()) {
        return; // wait for the straddling diff on the stream
    }
    const buffered_diff& head = buffered_.front();
    if (!straddles(head.first_update_id, head.final_update_id)) {
        // The stream is already past the snapshot: it is too old.
        ++stats_.snapshots_too_old;
        snapshot_loaded_ = false;
        book_.clear();
        schedule_snapshot(now, true);
        return;
    }
    if (jumps_too_far(last_update_id_, head.final_update_id)) {
        reject_jump(now, outcome);
        return;
    }
    for (std::size_t i = 0; i < buffered_.size(); ++i) {
        const buffered_diff& diff = buffered_[i];
        if (i > 0) {
            const chain link = check_chain(diff.first_update_id, diff.final_update_id,
                                           diff.prev_final_update_id, diff.has_prev);
            if (link == chain::duplicate) {
                ++stats_.diffs_duplicate;
                continue;
            }
            if (link == chain::jump) {
                reject_jump(now, outcome); // the buffer holds the bad diff: drop it all
                return;
            }
            if (link == chain::gap) {
                // Keep the diffs from the gap on: they start the next attempt's buffer.
                ++stats_.gaps;
                drop_oldest_buffered(i);
                start_resync(now, outcome, true);
                return;
            }
        }
        apply_levels({pool_.data() + diff.bid_offset, diff.bid_count},
                     {pool_.data() + diff.ask_offset, diff.ask_count});
        last_update_id_ = diff.final_update_id;
        if (diff.exchange_ns != 0) {
            exchange_ns_ = diff.exchange_ns;
        }
        ++stats_.diffs_applied;
    }
    buffered_.clear();
    pool_used_ = 0;
    become_synced(now, outcome);
    after_book_change(now, outcome);
}

// -- messages ------------------------------------------------------------------------------

sync_outcome book_sync::on_depth_update(const decoded_depth& diff,
                                        core::timestamp_ns local_ns) noexcept {
    sync_outcome outcome;
    if (state_ == feed_state::connecting) {
        outcome = on_connected(local_ns); // a stream message proves the subscription
    }

    if (state_ == feed_state::syncing || state_ == feed_state::resyncing) {
        if (!snapshot_loaded_) {
            buffer(diff);
            return outcome;
        }
        // A snapshot is loaded and waits for the diff that straddles it.
        if (covered_by_snapshot(diff.final_update_id)) {
            ++stats_.diffs_dropped_by_snapshot;
            return outcome;
        }
        if (!straddles(diff.first_update_id, diff.final_update_id)) {
            ++stats_.snapshots_too_old;
            snapshot_loaded_ = false;
            book_.clear();
            schedule_snapshot(local_ns, true);
            buffer(diff);
            return outcome;
        }
        if (jumps_too_far(last_update_id_, diff.final_update_id)) {
            reject_jump(local_ns, outcome);
            return outcome;
        }
        apply_levels(diff.bids, diff.asks);
        last_update_id_ = diff.final_update_id;
        if (diff.exchange_ns != 0) {
            exchange_ns_ = diff.exchange_ns;
        }
        ++stats_.diffs_applied;
        become_synced(local_ns, outcome);
        after_book_change(local_ns, outcome);
        return outcome;
    }

    // synced or stale
    switch (check_chain(diff.first_update_id, diff.final_update_id, diff.prev_final_update_id,
                        diff.has_prev_final_update_id)) {
    case chain::duplicate:
        ++stats_.diffs_duplicate;
        if (++consecutive_duplicates_ > config_.max_duplicate_diffs) {
            ++stats_.gaps;
            start_resync(local_ns, outcome);
        }
        return outcome;
    case chain::jump:
        reject_jump(local_ns, outcome);
        return outcome;
    case chain::gap:
        ++stats_.gaps;
        start_resync(local_ns, outcome);
        buffer(diff);
        return outcome;
    case chain::continues:
        break;
    }
    consecutive_duplicates_ = 0;
    last_activity_ns_ = local_ns;
    apply_levels(diff.bids, diff.asks);
    last_update_id_ = diff.final_update_id;
    if (diff.exchange_ns != 0) {
        exchange_ns_ = diff.exchange_ns;
    }
    ++stats_.diffs_applied;
    if (ticker_active_) {
        if (ticker_.update_id > last_update_id_) {
            apply_ticker_levels(); // the ticker is newer than this diff: keep its top
            outcome.from_ticker = true;
        } else {
            ticker_active_ = false;
        }
    }
    set_state(feed_state::synced, outcome);
    after_book_change(local_ns, outcome);
    return outcome;
}

sync_outcome book_sync::on_snapshot(const decoded_depth& snapshot,
                                    core::timestamp_ns local_ns) noexcept {
    sync_outcome outcome;
    if (state_ == feed_state::connecting) {
        outcome = on_connected(local_ns);
    }
    if (state_ != feed_state::syncing && state_ != feed_state::resyncing) {
        ++stats_.snapshots_ignored;
        return outcome;
    }
    snapshot_in_flight_ = false;
    book_.clear();
    book_.assign(core::side::buy, snapshot.bids);
    book_.assign(core::side::sell, snapshot.asks);
    mark_cut_side(core::side::buy, snapshot.bids);
    mark_cut_side(core::side::sell, snapshot.asks);
    last_update_id_ = snapshot.final_update_id;
    ticker_active_ = false;
    if (snapshot.exchange_ns != 0) {
        exchange_ns_ = snapshot.exchange_ns;
    }
    snapshot_loaded_ = true;
    ++stats_.snapshots_applied;
    outcome.snapshot_applied = true;
    drain_buffer(local_ns, outcome);
    return outcome;
}

sync_outcome book_sync::on_book_ticker(const decoded_book_ticker& ticker,
                                       core::timestamp_ns local_ns) noexcept {
    sync_outcome outcome;
    if (!config_.apply_book_ticker ||
        (state_ != feed_state::synced && state_ != feed_state::stale)) {
        return outcome;
    }
    if (ticker.update_id <= update_id()) {
        ++stats_.tickers_stale;
        return outcome;
    }
    if (jumps_too_far(update_id(), ticker.update_id)) {
        // Ignored, not a resync: on futures a quiet symbol's ticker can lead its book that far,
        // and the diff that follows brings the book up. Applied, a corrupt id would pin the top.
        ++stats_.id_jumps;
        return outcome;
    }
    last_activity_ns_ = local_ns;
    ticker_ = ticker;
    ticker_active_ = true;
    apply_ticker_levels();
    if (ticker.exchange_ns != 0) {
        exchange_ns_ = ticker.exchange_ns;
    }
    ++stats_.tickers_applied;
    outcome.from_ticker = true;
    set_state(feed_state::synced, outcome);
    after_book_change(local_ns, outcome);
    return outcome;
}

void book_sync::on_activity(core::timestamp_ns local_ns) noexcept {
    // USD-M futures trades come over the "/market" connection, the diffs over "/public": a
    // trade proves nothing about the diff stream, so only spot trades keep a book fresh.
    if (venue_ == market::spot) {
        last_activity_ns_ = local_ns;
    }
}

sync_outcome book_sync::check_stale(core::timestamp_ns now) noexcept {
    sync_outcome outcome;
    if (state_ == feed_state::synced &&
        now - last_activity_ns_ > config_.stale_after_ms * core::ns_per_ms) {
        ++stats_.stale_transitions;
        set_state(feed_state::stale, outcome);
    }
    return outcome;
}

} // namespace quoter::md
