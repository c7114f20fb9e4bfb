#include "quoter/md/publisher.hpp"

namespace quoter::md {

void md_publisher::fill_book(const book_sync& sync, md_event& event) noexcept {
    event.symbol = sync.symbol();
    event.venue = sync.venue();
    event.state = sync.state();
    event.update_id = sync.update_id();
    event.exchange_ns = sync.exchange_ns();
    const order_book& book = sync.book();
    if (book.crossed()) {
        event.flags |= md_flags::crossed;
    }
    if (!sync.book_valid()) {
        return;
    }
    event.flags |= md_flags::book_valid;
    event.bid_count = static_cast<std::uint8_t>(book.top(core::side::buy, event.bids));
    event.ask_count = static_cast<std::uint8_t>(book.top(core::side::sell, event.asks));
}

void md_publisher::emit(md_event& event) noexcept {
    event.sequence = ++sequence_;
    sink_.on_event(event);
}

void md_publisher::publish(const book_sync& sync, const sync_outcome& outcome,
                           core::timestamp_ns local_ns) noexcept {
    if (!outcome.state_changed && !outcome.book_changed) {
        return;
    }
    md_event event;
    event.kind = outcome.state_changed ? md_event_kind::state : md_event_kind::book;
    event.local_ns = local_ns;
    if (outcome.from_ticker) {
        event.flags |= md_flags::from_ticker;
    }
    if (outcome.snapshot_applied) {
        event.flags |= md_flags::snapshot;
    }
    fill_book(sync, event);
    emit(event);
}

void md_publisher::publish_state(const book_sync& sync, core::timestamp_ns local_ns) noexcept {
    md_event event;
    event.kind = md_event_kind::state;
    event.local_ns = local_ns;
    fill_book(sync, event);
    emit(event);
}

void md_publisher::publish_trade(const book_sync& sync, const decoded_trade& trade,
                                 core::timestamp_ns local_ns) noexcept {
    md_event event;
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
