#include "quoter/exec/binance_report_funnel.hpp"

#include "quoter/exec/binance_holdings.hpp"

#include <algorithm>

namespace quoter::exec {

order_report_funnel::order_report_funnel(report_funnel_output& output,
                                         std::atomic<std::uint64_t>& fills, std::size_t slots)
    : output_(&output), fills_(&fills), tracks_(std::max<std::size_t>(slots, 1)) {}

namespace {

/// An order's home track. Client ids keep the quote manager's slot in their low byte and its
/// sequence above it, so the whole id is mixed: one slot's orders spread over the table instead
/// of sharing a handful of tracks.
std::size_t home_of(std::uint64_t id, std::size_t size) noexcept {
    return static_cast<std::size_t>((id * 0x9e3779b97f4a7c15ULL) >> 32) % size;
}

} // namespace

std::size_t order_report_funnel::index_of(std::uint64_t id) const noexcept {
    const std::size_t size = tracks_.size();
    if (id == 0) {
        return size;
    }
    const std::size_t home = home_of(id, size);
    for (std::size_t probe = 0; probe <= longest_probe_; ++probe) {
        const std::size_t index = (home + probe) % size;
        if (tracks_[index].id == id) {
            return index;
        }
    }
    return size;
}

order_report_funnel::track* order_report_funnel::find(client_order_id id) noexcept {
    const std::size_t index = index_of(id.value);
    return index < tracks_.size() ? &tracks_[index] : nullptr;
}

const order_report_funnel::track* order_report_funnel::find(client_order_id id) const noexcept {
    const std::size_t index = index_of(id.value);
    return index < tracks_.size() ? &tracks_[index] : nullptr;
}

void order_report_funnel::open(const order_request& order) noexcept {
    // An order still open is never forgotten: a report of it found without its record would
    // count its whole executed quantity again. The first free or finished track from the home
    // takes the new one (not one ended unseen, which a late ack may reopen); with every track
    // taken (never expected) the home's is given up.
    const std::size_t size = tracks_.size();
    const std::size_t home = home_of(order.id.value, size);
    std::size_t chosen = index_of(order.id.value);
    for (std::size_t probe = 0; chosen == size && probe < size; ++probe) {
        const std::size_t index = (home + probe) % size;
        const track& t = tracks_[index];
        if (t.id == 0 || (t.done && !t.ended_unseen)) {
            chosen = index;
            longest_probe_ = std::max(longest_probe_, probe);
        }
    }
    track& t = tracks_[chosen < size ? chosen : home];
    if (t.id != 0 && t.id != order.id.value) {
        finished_[next_finished_] = {.id = t.id, .reported_cum = t.reported_cum};
        next_finished_ = (next_finished_ + 1) % finished_.size();
    }
    t = track{};
    t.id = order.id.value;
    t.order = order;
}

order_report_funnel::finished_order*
order_report_funnel::find_finished(client_order_id id) noexcept {
    if (id.value == 0) {
        return nullptr;
    }
    for (finished_order& f : finished_) {
        if (f.id == id.value) {
            return &f;
        }
    }
    return nullptr;
}

bool order_report_funnel::outcome_known(client_order_id id) const noexcept {
    const track* t = find(id);
    return t != nullptr && (t->acked || t->done);
}

bool order_report_funnel::acked_and_open(client_order_id id) const noexcept {
    const track* t = find(id);
    return t != nullptr && t->acked && !t->done;
}

order_request order_report_funnel::tracked_order(const order_request& fallback) const noexcept {
    const track* t = find(fallback.id);
    return t != nullptr ? t->order : fallback;
}

exec_report order_report_funnel::report_of(const order_request& order, exec_kind kind) noexcept {
    exec_report r;
    r.kind = kind;
    r.client_id = order.id;
    r.symbol = order.symbol;
    r.side = order.side;
    r.level = order.level;
    r.price = order.price;
    r.leaves_qty = order.qty;
    return r;
}

order_request order_report_funnel::order_of(const answered_order& o, order_request base) noexcept {
    base.symbol = o.symbol;
    base.side = o.side;
    base.price = o.price;
    if (o.orig_qty.lots() > 0) {
        base.qty = o.orig_qty;
    }
    return base;
}

placement_window order_report_funnel::window_of(std::int64_t signed_ms, std::int64_t recv_window_ms,
                                                std::int64_t now_venue_ms) noexcept {
    if (signed_ms <= 0) {
        return placement_window::closed;
    }
    return now_venue_ms <= signed_ms + recv_window_ms + clock_margin_ms ? placement_window::open
                                                                        : placement_window::closed;
}

void order_report_funnel::reopen(track& t, std::uint64_t exchange_id) {
    t.done = false;
    t.ended_unseen = false;
    t.acked = true;
    if (exchange_id != 0) {
        t.exchange_id = exchange_id;
    }
    exec_report r = report_of(t.order, exec_kind::ack);
    r.exchange_id = exchange_id;
    output_->deliver(r);
}

void order_report_funnel::ack(const order_request& order, std::uint64_t exchange_id) {
    track* t = find(order.id);
    if (t != nullptr) {
        if (t->done && t->ended_unseen) {
            reopen(*t, exchange_id); // "no such order" was wrong: it is on the venue
            return;
        }
        if (t->acked || t->done) {
            return;
        }
        t->acked = true;
    }
    exec_report r = report_of(tracked_order(order), exec_kind::ack);
    r.exchange_id = exchange_id;
    output_->deliver(r);
}

void order_report_funnel::fills_to(const order_request& order, core::qty cum, core::price price,
                                   std::int64_t trade_id, std::uint64_t exchange_id,
                                   liquidity_role liquidity, std::int64_t venue_time_ms,
                                   core::timestamp_ns exchange_ts, fill_commission commission) {
    track* t = find(order.id);
    finished_order* const finished = t == nullptr ? find_finished(order.id) : nullptr;
    const core::qty before = t != nullptr          ? t->reported_cum
                             : finished != nullptr ? finished->reported_cum
                                                   : core::qty{0};
    if (cum.lots() <= before.lots()) {
        return;
    }
    if (t != nullptr && t->done && t->ended_unseen) {
        reopen(*t, exchange_id); // ended as never taken, yet it traded: every fill counts
    }
    if (t != nullptr && t->done) {
        return;
    }
    const order_request o = tracked_order(order);
    const bool complete = cum.lots() >= o.qty.lots();
    exec_report r = report_of(o, complete ? exec_kind::fill : exec_kind::partial_fill);
    r.price = price;
    r.fill_qty = core::qty{cum.lots() - before.lots()};
    r.cum_qty = cum;
    r.leaves_qty = core::qty{complete ? 0 : o.qty.lots() - cum.lots()};
    r.trade_id = trade_id;
    r.exchange_id = exchange_id;
    r.liquidity = liquidity;
    // Without the trade's local time (a trade list, an answer) it is stamped when delivered.
    r.exchange_ts = exchange_ts;
    r.venue_time_ms = venue_time_ms;
    r.commission_e8 = commission.amount_e8;
    r.commission_asset = commission.asset;
    if (t != nullptr) {
        t->reported_cum = cum;
        t->acked = true;
        t->done = complete;
    } else if (finished != nullptr) {
        finished->reported_cum = cum;
    }
    fills_->fetch_add(1, std::memory_order_relaxed);
    output_->deliver(r);
}

void order_report_funnel::stream_trade(const order_request& order, core::qty cum, core::qty last,
                                       core::price price, std::int64_t trade_id,
                                       std::uint64_t exchange_id, liquidity_role liquidity,
                                       std::int64_t venue_time_ms, core::timestamp_ns exchange_ts,
                                       fill_commission commission) {
    const track* t = find(order.id);
    if (t != nullptr && !t->done && cum.lots() - last.lots() > t->reported_cum.lots()) {
        answered_fills_to(order, cum, price, exchange_id, venue_time_ms);
        return;
    }
    fills_to(order, cum, price, trade_id, exchange_id, liquidity, venue_time_ms, exchange_ts,
             commission);
}

void order_report_funnel::stream_trade(const order_request& order, const order_update& u,
                                       std::int64_t offset_ms, const core::symbol_spec& spec) {
    // The trade's venue time, on the local clock: what the fill-delay trigger measures.
    stream_trade(
        order, u.cum_qty, u.last_qty, u.last_price, u.trade_id, u.order_id,
        u.maker ? liquidity_role::maker : liquidity_role::taker, u.transaction_time_ms,
        (u.transaction_time_ms - offset_ms) * core::ns_per_ms,
        {.amount_e8 = u.commission_e8, .asset = fee_asset_of(u.commission_asset.view(), spec)});
}

void order_report_funnel::listed_open(client_order_id id, const answered_order& listed) {
    const track* t = find(id);
    if (t == nullptr || (t->done && !t->ended_unseen)) {
        return;
    }
    const order_request order = order_of(listed, t->order);
    ack(order, listed.order_id);
    answered_fills_to(order, listed.executed_qty, listed.price, listed.order_id,
                      listed.transact_time_ms);
}

void order_report_funnel::terminal(const order_request& order, exec_kind kind, reject_reason reason,
                                   core::qty cum, std::uint64_t exchange_id) {
    track* t = find(order.id);
    if (t == nullptr && find_finished(order.id) != nullptr) {
        return; // finished, and its end reported, before its track went to a later order
    }
    if (t != nullptr) {
        if (t->done) {
            return;
        }
        if (cum.lots() > std::max(t->reported_cum.lots(), t->answered_cum.lots())) {
            // The end tells of fills never reported (traded while the stream was away): they
            // come from the order's trades, as an answer's do, and the end waits for them.
            answered_fills_to(order, cum, tracked_order(order).price, exchange_id, 0);
        }
        if (t->answered_cum.lots() > t->reported_cum.lots()) {
            // Fills an answer told are still to come from the trades: the end waits for them.
            t->terminal_held = true;
            t->held_kind = kind;
            t->held_reason = reason;
            t->held_cum = cum;
            if (exchange_id != 0) {
                t->exchange_id = exchange_id;
            }
            return;
        }
        t->done = true;
    }
    exec_report r = report_of(tracked_order(order), kind);
    r.reason = reason;
    r.cum_qty = cum;
    r.leaves_qty = core::qty{std::max<std::int64_t>(0, r.leaves_qty.lots() - cum.lots())};
    r.exchange_id = exchange_id;
    output_->deliver(r);
}

void order_report_funnel::answered_fills_to(const order_request& order, core::qty cum,
                                            core::price price, std::uint64_t exchange_id,
                                            std::int64_t venue_time_ms) {
    track* t = find(order.id);
    if (t == nullptr) {
        // Not remembered (an earlier run's order, or one of this run finished long ago): no
        // trades to wait for; fills_to counts what was reported of a finished one.
        fills_to(order, cum, price, -1, exchange_id, liquidity_role::maker, venue_time_ms);
        return;
    }
    if (cum.lots() <= t->reported_cum.lots()) {
        return;
    }
    if (t->done && t->ended_unseen) {
        reopen(*t, exchange_id); // ended as never taken, yet it traded
    }
    if (t->done) {
        return;
    }
    ack(order, exchange_id); // the order is on the venue; its fills follow
    if (cum.lots() > t->answered_cum.lots()) {
        t->answered_cum = cum;
        t->answered_price = price;
        t->answered_ms = venue_time_ms;
    }
    if (exchange_id != 0) {
        t->exchange_id = exchange_id;
    }
    if (!t->trades_asked) {
        t->trades_asked = true;
        output_->want_trades(order, t->exchange_id);
    }
}

void order_report_funnel::finished(const order_request& order, const answered_order& o,
                                   exec_kind kind) {
    answered_fills_to(order, o.executed_qty, o.price, o.order_id, o.transact_time_ms);
    terminal(order, kind, reject_reason::user_cancel, o.executed_qty, o.order_id);
}

status_resolution order_report_funnel::trades_answered(const order_request& order,
                                                       std::span<const venue_trade> trades,
                                                       std::uint32_t attempt,
                                                       std::span<const core::symbol_spec> symbols) {
    track* t = find(order.id);
    if (t == nullptr || !t->trades_asked) {
        return status_resolution::resolved; // forgotten, or settled already
    }
    std::int64_t cum = 0;
    for (const venue_trade& trade : trades) {
        if (t->exchange_id != 0 && trade.order_id != t->exchange_id) {
            continue;
        }
        cum += trade.qty.lots();
        const fill_commission commission{
            .amount_e8 = trade.commission_e8,
            .asset = trade.symbol < symbols.size()
                         ? fee_asset_of(trade.commission_asset.view(), symbols[trade.symbol])
                         : fee_asset::none};
        fills_to(t->order, core::qty{cum}, trade.price, trade.trade_id, trade.order_id,
                 trade.maker ? liquidity_role::maker : liquidity_role::taker, trade.time_ms, 0,
                 commission);
    }
    if (!t->done && t->reported_cum.lots() < t->answered_cum.lots() &&
        attempt < max_trade_attempts) {
        return status_resolution::ask_again;
    }
    release_answered(*t);
    return status_resolution::resolved;
}

void order_report_funnel::end_unseen(const order_request& order, reject_reason reason) {
    track* t = find(order.id);
    const bool ended_before = t != nullptr && t->done;
    terminal(order, exec_kind::reject, reason);
    if (t != nullptr && t->done && !ended_before) {
        t->ended_unseen = true; // only this reject: an order that ended otherwise stays ended
    }
}

void order_report_funnel::release_answered(track& t) {
    t.trades_asked = false;
    const core::qty answered = t.answered_cum;
    t.answered_cum = core::qty{0};
    if (!t.done && answered.lots() > t.reported_cum.lots()) {
        // The trades did not come: the fill as the answer told it.
        fills_to(t.order, answered, t.answered_price, -1, t.exchange_id, liquidity_role::maker,
                 t.answered_ms);
    }
    if (t.terminal_held) {
        t.terminal_held = false;
        terminal(t.order, t.held_kind, t.held_reason, t.held_cum, t.exchange_id);
    }
}

status_resolution order_report_funnel::resolve_status(const order_request& base, bool for_cancel,
                                                      const api_answer& answer,
                                                      placement_window window) {
    if (answer.outcome == answer_outcome::unknown || answer.outcome == answer_outcome::malformed ||
        answer.outcome == answer_outcome::retry_after || answer.outcome == answer_outcome::banned ||
        answer.outcome == answer_outcome::clock_skew) {
        return status_resolution::ask_again; // says nothing about the order
    }
    if (answer.outcome == answer_outcome::unknown_order) {
        // A cancel's order is gone. A placement's was not taken: not yet while the venue may
        // still execute its request, never after that.
        if (for_cancel) {
            exec_report r = report_of(base, exec_kind::cancel_reject);
            r.reason = reject_reason::unknown_order;
            output_->deliver(r);
            return status_resolution::resolved;
        }
        if (window == placement_window::open) {
            return status_resolution::not_yet;
        }
        end_unseen(base, reject_reason::unknown_order);
        return status_resolution::resolved;
    }
    if (answer.outcome != answer_outcome::ok || !answer.has_order) {
        // Refused (a firewall's 403, a key the venue no longer takes) or unreadable: the
        // answer is neither the order nor "no such order".
        if (for_cancel) {
            output_->deliver(report_of(base, exec_kind::cancel_reject));
            return status_resolution::resolved;
        }
        if (acked_and_open(base.id)) {
            // The venue took it: it rests or traded, and only an answer about it may end it.
            return status_resolution::ask_again;
        }
        if (window == placement_window::open) {
            return status_resolution::not_yet; // the venue may still take the placement
        }
        end_unseen(base, reject_reason::none);
        return status_resolution::resolved;
    }
    const answered_order& o = answer.order;
    const order_request order = order_of(o, base);
    switch (o.status) {
    case venue_order_status::new_order:
    case venue_order_status::partially_filled:
    case venue_order_status::pending_cancel:
    case venue_order_status::unknown:
        ack(order, o.order_id);
        answered_fills_to(order, o.executed_qty, o.price, o.order_id, o.transact_time_ms);
        if (for_cancel) {
            // Still open: the cancel did not take; the owner's retries send another.
            output_->deliver(report_of(order, exec_kind::cancel_reject));
        }
        break;
    case venue_order_status::filled:
        answered_fills_to(order, o.executed_qty, o.price, o.order_id, o.transact_time_ms);
        break;
    case venue_order_status::canceled:
    case venue_order_status::expired:
    case venue_order_status::expired_in_match:
        finished(order, o, exec_kind::cancelled);
        break;
    case venue_order_status::rejected:
        terminal(order, exec_kind::reject, reject_reason::none);
        break;
    }
    return status_resolution::resolved;
}

} // namespace quoter::exec
