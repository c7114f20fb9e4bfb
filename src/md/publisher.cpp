#include "quoter/md/publisher.hpp"

#include <span>

namespace quoter::md {
namespace {

void clear_levels(std::span<core::book_level> levels, std::size_t from, std::size_t to) noexcept {
    for (std::size_t i = from; i < to; ++i) {
        levels[i] = {};
    }
}

} // namespace

std::size_t md_publisher::refresh_side(const order_book& book, core::side s, bool same_book,
                                       std::span<core::book_level> levels, std::size_t count,
                                       side_versions& versions) noexcept {
    const std::uint64_t version = book.top_version(s);
    const std::uint64_t layout = book.top_layout_version(s);
    if (same_book && version == versions.all) {
        return count;
    }
    if (same_book && layout == versions.layout) {
        book.refresh_quantities(s, levels.first(count));
    } else {
        count = book.watch_top(s, levels);
    }
    versions = {version, layout};
    return count;
}

void md_publisher::fill_book(const book_sync& sync, md_event_kind kind, std::uint8_t flags,
                             core::timestamp_ns local_ns) noexcept {
    md_event& event = book_event_;
    event.kind = kind;
    event.symbol = sync.symbol();
    event.venue = sync.venue();
    event.state = sync.state();
    event.update_id = sync.update_id();
    event.exchange_ns = sync.exchange_ns();
    event.local_ns = local_ns;
    const order_book& book = sync.book();
    if (book.crossed()) {
        flags |= md_flags::crossed;
    }
    md_depth& depth = depth_;
    std::size_t bids = 0;
    std::size_t asks = 0;
    if (sync.book_valid()) {
        flags |= md_flags::book_valid;
        // The record still holds this book's levels from its previous event: a side whose
        // watched levels did not change keeps them, and one whose prices stayed only re-reads
        // quantities.
        const bool same_book = levels_book_ == book.instance_id();
        bids = refresh_side(book, core::side::buy, same_book, depth.bids, depth.bid_count,
                            bid_versions_);
        asks = refresh_side(book, core::side::sell, same_book, depth.asks, depth.ask_count,
                            ask_versions_);
        levels_book_ = book.instance_id();
    } else {
        levels_book_ = 0;
    }
    // Levels the previous record used beyond this one's counts go back to zero.
    clear_levels(depth.bids, bids, depth.bid_count);
    clear_levels(depth.asks, asks, depth.ask_count);
    depth.bid_count = static_cast<std::uint8_t>(bids);
    depth.ask_count = static_cast<std::uint8_t>(asks);
    depth.symbol = event.symbol;
    event.bid_count = depth.bid_count;
    event.ask_count = depth.ask_count;
    // Levels beyond a count are empty, so the top needs no test of the counts.
    event.top = {.bid = depth.bids[0], .ask = depth.asks[0]};
    event.flags = flags;
}

void md_publisher::number(md_event& event) noexcept {
    event.sequence = ++sequence_;
    if (event.symbol >= symbol_sequences_.size()) {
        symbol_sequences_.resize(std::size_t{event.symbol} + 1, 0);
    }
    event.symbol_sequence = ++symbol_sequences_[event.symbol];
}

void md_publisher::emit(md_event& event) noexcept {
    number(event);
    sink_.on_event(event);
}

void md_publisher::emit_book() noexcept {
    md_event& event = book_event_;
    number(event);
    // Depth only for the consumer that asked for it, and only with a valid book (book events and
    // the state event of a book turning synced).
    if (event.book_valid() && sink_.wants_depth()) {
        event.flags |= md_flags::has_depth;
        depth_.sequence = event.sequence;
        sink_.on_event_depth(event, depth_);
        return;
    }
    sink_.on_event(event);
}

void md_publisher::publish(const book_sync& sync, const sync_outcome& outcome,
                           core::timestamp_ns local_ns) noexcept {
    if (!outcome.state_changed && !outcome.book_changed) {
        return;
    }
    std::uint8_t flags = 0;
    if (outcome.from_ticker) {
        flags |= md_flags::from_ticker;
    }
    if (outcome.snapshot_applied) {
        flags |= md_flags::snapshot;
    }
    fill_book(sync, outcome.state_changed ? md_event_kind::state : md_event_kind::book, flags,
              local_ns);
    emit_book();
}

void md_publisher::publish_state(const book_sync& sync, core::timestamp_ns local_ns) noexcept {
    fill_book(sync, md_event_kind::state, 0, local_ns);
    emit_book();
}

void md_publisher::publish_trade(const book_sync& sync, const decoded_trade& trade,
                                 core::timestamp_ns local_ns) noexcept {
    md_event& event = trade_event_;
    event.kind = md_event_kind::trade;
    event.symbol = sync.symbol();
    event.venue = sync.venue();
    event.state = sync.state();
    event.update_id = static_cast<std::uint64_t>(trade.trade_id);
    event.exchange_ns = trade.trade_ns != 0 ? trade.trade_ns : trade.exchange_ns;
    event.local_ns = local_ns;
    event.trade = {.px = trade.px,
                   .qty = trade.qty,
                   .trade_id = trade.trade_id,
                   .count = trade.count,
                   .aggressor = trade.aggressor};
    emit(event);
}

} // namespace quoter::md
