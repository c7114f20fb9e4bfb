#include "quoter/exec/binance_report_funnel.hpp"

#include <algorithm>

namespace quoter::exec {

order_report_funnel::order_report_funnel(report_funnel_output& output,
                                         std::atomic<std::uint64_t>& fills, std::size_t slots)
    : output_(&output), fills_(&fills), tracks_(std::max<std::size_t>(slots, 1)) {}

order_report_funnel::track* order_report_funnel::find(client_order_id id) noexcept {
    track& t = tracks_[id.value % tracks_.size()];
    return t.id == id.value && id.value != 0 ? &t : nullptr;
}

const order_report_funnel::track* order_report_funnel::find(client_order_id id) const noexcept {
    const track& t = tracks_[id.value % tracks_.size()];
    return t.id == id.value && id.value != 0 ? &t : nullptr;
}

void order_report_funnel::open(const order_request& order) noexcept {
    track& t = tracks_[order.id.value % tracks_.size()];
    t = track{};
    t.id = order.id.value;
    t.order = order;
}

bool order_report_funnel::outcome_known(client_order_id id) const noexcept {
    const track* t = find(id);
    return t != nullptr && (t->acked || t->done);
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

void order_report_funnel::ack(const order_request& order, std::uint64_t exchange_id) {
    track* t = find(order.id);
    if (t != nullptr) {
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
                                   core::timestamp_ns exchange_ts) {
    track* t = find(order.id);
    const core::qty before = t != nullptr ? t->reported_cum : core::qty{0};
    if (cum.lots() <= before.lots() || (t != nullptr && t->done)) {
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
    // A fill learnt from a status query or a cancel answer has no trade time: it is stamped
    // when learnt, the earliest time the engine could know it.
    r.exchange_ts = exchange_ts;
    r.venue_time_ms = venue_time_ms;
    if (t != nullptr) {
        t->reported_cum = cum;
        t->acked = true;
        t->done = complete;
    }
    fills_->fetch_add(1, std::memory_order_relaxed);
    output_->deliver(r);
}

void order_report_funnel::terminal(const order_request& order, exec_kind kind, reject_reason reason,
                                   core::qty cum, std::uint64_t exchange_id) {
    track* t = find(order.id);
    if (t != nullptr) {
        if (t->done) {
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

void order_report_funnel::finished(const order_request& order, const answered_order& o,
                                   exec_kind kind) {
    fills_to(order, o.executed_qty, o.price, -1, o.order_id, liquidity_role::maker,
             o.transact_time_ms);
    terminal(order, kind, reject_reason::user_cancel, o.executed_qty, o.order_id);
}

status_resolution order_report_funnel::resolve_status(const order_request& base, bool for_cancel,
                                                      const api_answer& answer) {
    if (answer.outcome == answer_outcome::unknown || answer.outcome == answer_outcome::malformed ||
        answer.outcome == answer_outcome::retry_after || answer.outcome == answer_outcome::banned ||
        answer.outcome == answer_outcome::clock_skew) {
        return status_resolution::ask_again; // says nothing about the order
    }
    if (answer.outcome == answer_outcome::unknown_order) {
        // The venue never took it (placement) or it is gone (cancel).
        if (for_cancel) {
            exec_report r = report_of(base, exec_kind::cancel_reject);
            r.reason = reject_reason::unknown_order;
            output_->deliver(r);
        } else {
            terminal(base, exec_kind::reject, reject_reason::unknown_order);
        }
        return status_resolution::resolved;
    }
    if (answer.outcome != answer_outcome::ok || !answer.has_order) {
        if (for_cancel) {
            output_->deliver(report_of(base, exec_kind::cancel_reject));
        } else {
            terminal(base, exec_kind::reject, reject_reason::none);
        }
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
        fills_to(order, o.executed_qty, o.price, -1, o.order_id, liquidity_role::maker,
                 o.transact_time_ms);
        if (for_cancel) {
            // Still open: the cancel did not take; the owner's retries send another.
            output_->deliver(report_of(order, exec_kind::cancel_reject));
        }
        break;
    case venue_order_status::filled:
        fills_to(order, o.executed_qty, o.price, -1, o.order_id, liquidity_role::maker,
                 o.transact_time_ms);
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
