#include "quoter/exec/quote_manager.hpp"

#include <algorithm>
#include <cstdlib>

namespace quoter::exec {
namespace {

constexpr unsigned tag_shift = 56;
constexpr unsigned seq_shift = 8;
constexpr std::uint64_t seq_mask = (std::uint64_t{1} << 48U) - 1;

// Keep-or-replace compares gap * scale with tolerance * the order's price (or size) in doubles.
constexpr double bps_scale = 1e4;
constexpr double pct_scale = 100.0;
// Kept gaps are exact integers up to here; a gap beyond is compared in doubles.
constexpr std::int64_t exact_gap_limit = std::int64_t{1} << 52;

/// The largest gap g >= 0 for which `g * scale > limit` is false in doubles: every gap up to it
/// keeps the order and every larger one does not, since the product never decreases as g
/// grows. -1 when even 0 exceeds (a negative limit); exact_gap_limit when the answer is that
/// large or larger (or limit is NaN), where the caller compares in doubles.
[[nodiscard]] std::int64_t largest_kept_gap(double limit, double scale) noexcept {
    const auto exceeds = [&](std::int64_t gap) { return static_cast<double>(gap) * scale > limit; };
    if (exceeds(0)) {
        return -1;
    }
    if (!exceeds(exact_gap_limit)) {
        return exact_gap_limit;
    }
    // limit / scale is below about 2^52 here: an estimate within a step or two of the answer.
    auto gap = static_cast<std::int64_t>(limit / scale);
    while (gap > 0 && exceeds(gap)) {
        --gap;
    }
    while (!exceeds(gap + 1)) {
        ++gap;
    }
    return gap;
}

} // namespace

quote_manager::quote_manager(const quote_manager_config& config, order_gateway& gateway) noexcept
    : config_(config), gateway_(gateway) {
    orphans_.reserve(orphans_reserved);
    config_.levels =
        static_cast<std::uint8_t>(std::clamp<std::size_t>(config_.levels, 1, max_quote_levels));
    refresh_ns_ = std::max<std::int64_t>(config_.refresh_ms, 0) * core::ns_per_ms;
    max_age_ns_ = std::max<std::int64_t>(config_.max_order_age_ms, 0) * core::ns_per_ms;
    cancel_retry_ns_ = std::max<std::int64_t>(config_.cancel_retry_ms, 0) * core::ns_per_ms;
    config_.max_cancel_attempts = std::max<std::uint32_t>(config_.max_cancel_attempts, 1);
    for (std::size_t level = 0; level < max_quote_levels; ++level) {
        for (const core::side side : {core::side::buy, core::side::sell}) {
            slot_state& slot = slots_[slot_index(side, level)];
            slot.side = side;
            slot.level = static_cast<std::uint8_t>(level);
        }
    }
}

client_order_id quote_manager::next_id(std::size_t slot) noexcept {
    const std::uint64_t seq = next_seq_++ & seq_mask;
    return client_order_id{(std::uint64_t{config_.id_tag} << tag_shift) | (seq << seq_shift) |
                           static_cast<std::uint64_t>(slot)};
}

std::size_t quote_manager::open_orders() const noexcept {
    const auto held = [](const auto& order) { return order.status != order_status::none; };
    return static_cast<std::size_t>(
        std::count_if(slots_.begin(), slots_.end(), [&](const auto& s) { return held(s.order); }) +
        std::count_if(slots_.begin(), slots_.end(),
                      [&](const auto& s) { return held(s.incoming); }));
}

std::size_t quote_manager::abandoned_orders() const noexcept {
    return static_cast<std::size_t>(std::count_if(slots_.begin(), slots_.end(), [](const auto& s) {
        return s.order.status != order_status::none && (s.cancel_gave_up || s.cancel_overdue);
    }));
}

void quote_manager::update(const desired_quotes& desired, core::timestamp_ns now) noexcept {
    if (halted_) {
        return;
    }
    awaiting_update_ = false;
    // Most updates keep every order: decided here by keeps(), without a call. From the first
    // slot that needs more on, manage_from() decides in full, in the same slot order.
    for (std::size_t level = 0; level < config_.levels; ++level) {
        slot_state& bid = slots_[slot_index(core::side::buy, level)];
        bid.desired = desired.bids[level];
        if (!keeps(bid, now)) {
            return manage_from(desired, now, level, core::side::buy);
        }
        slot_state& ask = slots_[slot_index(core::side::sell, level)];
        ask.desired = desired.asks[level];
        if (!keeps(ask, now)) {
            return manage_from(desired, now, level, core::side::sell);
        }
    }
}

void quote_manager::manage_from(const desired_quotes& desired, core::timestamp_ns now,
                                std::size_t level, core::side side) noexcept {
    // keeps() is asked again before each slot: manage() of the slots before it may have moved
    // it (a report delivered meanwhile).
    const auto next = [&](slot_state& slot, const side_quote& wanted) {
        slot.desired = wanted;
        if (!keeps(slot, now)) {
            manage(slot, now);
        }
    };
    manage(slots_[slot_index(side, level)], now); // its desired quote is set
    if (side == core::side::buy) {
        next(slots_[slot_index(core::side::sell, level)], desired.asks[level]);
    }
    for (++level; level < config_.levels; ++level) {
        next(slots_[slot_index(core::side::buy, level)], desired.bids[level]);
        next(slots_[slot_index(core::side::sell, level)], desired.asks[level]);
    }
}

bool quote_manager::may_send(const slot_state& slot, core::timestamp_ns now) const noexcept {
    return !slot.ever_sent || now - slot.last_sent_ts >= refresh_ns_;
}

void quote_manager::manage(slot_state& slot, core::timestamp_ns now) noexcept {
    if (!slot.desired.active()) {
        cancel_work_possible_ = true; // a pulled quote's order must go
    }
    if (slot.order.status == order_status::none) {
        try_place(slot, now);
        return;
    }
    if (slot.order.cancel_pending || replacing(slot)) {
        return;
    }
    if (!slot.desired.active()) {
        send_cancel(slot, now);
        return;
    }
    if (needs_replace(slot, now) && may_send(slot, now)) {
        ++counters_.replacements;
        if (gateway_.replaces_in_one_request()) {
            send_replace(slot, now);
        } else {
            send_cancel(slot, now);
        }
    }
}

bool quote_manager::needs_replace(slot_state& slot, core::timestamp_ns now) const noexcept {
    const working_order& order = slot.order;
    if (max_age_ns_ > 0 && now - order.sent_ts >= max_age_ns_) {
        return true;
    }
    if (slot.kept_price_gap == gap_unknown) [[unlikely]] {
        derive_kept_gaps(slot);
    }
    const std::int64_t price_gap = std::llabs(slot.desired.price - order.price);
    const std::int64_t size_gap = std::llabs((slot.desired.qty - order.qty).lots());
    if (price_gap <= slot.kept_price_gap && size_gap <= slot.kept_size_gap) {
        return false; // the common case: within both tolerances
    }
    return beyond_tolerance(slot, price_gap, size_gap);
}

// Within tolerance: |desired - working| * scale <= tolerance * working, in doubles.
double quote_manager::price_tolerance(const working_order& order) const noexcept {
    return config_.refresh_tolerance_bps * static_cast<double>(order.price.ticks());
}

double quote_manager::size_tolerance(const working_order& order) const noexcept {
    return config_.size_tolerance_pct * static_cast<double>(order.qty.lots());
}

void quote_manager::derive_kept_gaps(slot_state& slot) const noexcept {
    const working_order& order = slot.order;
    // The values within a kept gap of the order's (an active quote's, >= 1): what keeps()
    // compares the desired quote with. The order's price and size are >= 1 (sent for an active
    // quote) and a kept gap is at most exact_gap_limit, so only the sums can overflow.
    const auto bound = [](std::int64_t value, std::int64_t gap) {
        if (gap < 0) {
            return int_range{}; // none: even the order's own value is beyond tolerance
        }
        constexpr std::int64_t max = std::numeric_limits<std::int64_t>::max();
        return int_range::between(std::max<std::int64_t>(value - gap, 1),
                                  value > max - gap ? max : value + gap);
    };
    slot.kept_price_gap = largest_kept_gap(price_tolerance(order), bps_scale);
    slot.kept_prices = bound(order.price.ticks(), slot.kept_price_gap);
    // The size gap depends on the order's size alone, which most orders of a slot share.
    if (slot.kept_size_gap == gap_unknown || order.qty != slot.kept_size_of) {
        slot.kept_size_gap = largest_kept_gap(size_tolerance(order), pct_scale);
        slot.kept_sizes = bound(order.qty.lots(), slot.kept_size_gap);
        slot.kept_size_of = order.qty;
    }
    // needs_replace() replaces from now - sent_ts >= max_age_ns_ on; a sum past the largest
    // time keeps it for good, as that test does.
    constexpr core::timestamp_ns never = std::numeric_limits<core::timestamp_ns>::max();
    slot.keep_until = max_age_ns_ == 0                     ? never
                      : order.sent_ts > never - max_age_ns_ ? never
                                                             : order.sent_ts + max_age_ns_;
}

bool quote_manager::beyond_tolerance(const slot_state& slot, std::int64_t price_gap,
                                     std::int64_t size_gap) const noexcept {
    const auto beyond = [](std::int64_t gap, std::int64_t kept, double scale, double tolerance) {
        return gap > kept &&
               (kept < exact_gap_limit || static_cast<double>(gap) * scale > tolerance);
    };
    return beyond(price_gap, slot.kept_price_gap, bps_scale, price_tolerance(slot.order)) ||
           beyond(size_gap, slot.kept_size_gap, pct_scale, size_tolerance(slot.order));
}

order_request quote_manager::request_for(const slot_state& slot,
                                         client_order_id id) const noexcept {
    order_request request;
    request.id = id;
    request.symbol = config_.symbol;
    request.side = slot.side;
    request.post_only = config_.post_only;
    request.tif = config_.tif;
    request.level = slot.level;
    request.price = slot.desired.price;
    request.qty = slot.desired.qty;
    return request;
}

void quote_manager::on_unknown(working_order& order) noexcept {
    // Only a placement can become unknown; an order already known to rest stays as it is.
    if (order.status == order_status::pending_new) {
        ++counters_.unknowns;
        order.status = order_status::unknown;
    }
}

void quote_manager::on_ack(working_order& order, core::timestamp_ns at) noexcept {
    ++counters_.acks;
    if (order.status == order_status::pending_new || order.status == order_status::unknown) {
        order.status = order_status::acked;
    }
    order.acked_ts = at;
}

void quote_manager::on_reject(working_order& order, const exec_report& report) noexcept {
    ++counters_.rejects;
    if (report.reason == reject_reason::post_only_would_cross) {
        ++counters_.post_only_rejects;
    }
    order = working_order{};
    if (report.reason == reject_reason::risk_refused) {
        hold_new_orders(report.local_ts);
    }
}

void quote_manager::hold_new_orders(core::timestamp_ns now) noexcept {
    const core::timestamp_ns until = gateway_.new_orders_held_until();
    if (until <= now) {
        return; // refused for something else: the next update asks again
    }
    if (new_orders_held_until_ <= now) {
        // A new hold: the last one, if any, ran its full length.
        ++counters_.rate_holds;
        ended_holds_ns_ += new_orders_held_until_ - hold_started_;
        hold_started_ = now;
    }
    new_orders_held_until_ = std::max(new_orders_held_until_, until);
}

bool quote_manager::on_fill(working_order& order, const exec_report& report) noexcept {
    ++counters_.fills;
    counters_.filled_lots += report.fill_qty.lots();
    counters_.fee_units += report.fee_units;
    if (order.cancel_pending) {
        ++counters_.fills_racing_cancel;
    }
    order.cum_qty = report.cum_qty;
    // Every desired quote was computed for the position before this fill: place nothing more
    // until the owner requotes.
    awaiting_update_ = true;
    if (report.kind == exec_kind::partial_fill) {
        order.status = order_status::partially_filled;
        return false;
    }
    ++counters_.orders_filled;
    order = working_order{};
    return true;
}

void quote_manager::try_place(slot_state& slot, core::timestamp_ns now) noexcept {
    if (halted_ || awaiting_update_ || !slot.desired.active() || !may_place(slot, now)) {
        return;
    }
    const std::size_t index = slot_index(slot.side, slot.level);
    const order_request request = request_for(slot, next_id(index));
    // Throttle failures too, so a full queue is not hammered on every update.
    slot.last_sent_ts = now;
    slot.ever_sent = true;
    if (gateway_.submit(request, now) != gateway_error::none) {
        ++counters_.gateway_errors;
        return;
    }
    ++counters_.orders_sent;
    working_order order;
    order.id = request.id;
    order.status = order_status::pending_new;
    order.price = request.price;
    order.qty = request.qty;
    order.sent_ts = now;
    take_order(slot, order);
    slot.cancel_via_all = false;
    reset_cancel_budget(slot);
}

void quote_manager::reset_cancel_budget(slot_state& slot) noexcept {
    slot.next_cancel_ts = std::numeric_limits<core::timestamp_ns>::min();
    slot.cancel_attempts = 0;
    slot.cancel_gave_up = false;
    slot.cancel_overdue = false;
}

void quote_manager::send_cancel(slot_state& slot, core::timestamp_ns now) noexcept {
    // After a refusal or a cancel_reject the order may still be open (or its fill is on the
    // way): retry, but no more often than cancel_retry_ms and only while the budget lasts.
    if (now < slot.next_cancel_ts || slot.cancel_gave_up) {
        return;
    }
    cancel_work_possible_ = true;
    ++slot.cancel_attempts;
    slot.next_cancel_ts = now + cancel_retry_ns_;
    if (gateway_.cancel(config_.symbol, slot.order.id, now) != gateway_error::none) {
        ++counters_.gateway_errors;
        return;
    }
    ++counters_.cancels_sent;
    slot.order.cancel_pending = true;
    slot.order.cancel_sent_ts = now;
}

std::size_t quote_manager::retry_pending_cancels(core::timestamp_ns now) noexcept {
    std::size_t gave_up = 0;
    // Only the slots of the configured levels can hold an order (visited in slot order, bids
    // then asks). A replacement whose cancel was refused or rejected is decided again by
    // update(); an order that must go, or a cancel without answer, is this loop's.
    for (std::size_t level = 0; level < config_.levels; ++level) {
        slot_state& slot = slots_[slot_index(core::side::buy, level)];
        if (has_cancel_work(slot)) {
            gave_up += retry_cancel(slot, now) ? 1 : 0;
        }
    }
    for (std::size_t level = 0; level < config_.levels; ++level) {
        slot_state& slot = slots_[slot_index(core::side::sell, level)];
        if (has_cancel_work(slot)) {
            gave_up += retry_cancel(slot, now) ? 1 : 0;
        }
    }
    for (orphan_order& orphan : orphans_) {
        if (now >= orphan.next_cancel_ts) {
            ++counters_.cancel_retries;
            cancel_orphan(orphan, now);
        }
    }
    return gave_up;
}

bool quote_manager::retry_cancel(slot_state& slot, core::timestamp_ns now) noexcept {
    const working_order& order = slot.order;
    if (now < slot.next_cancel_ts ||
        (order.cancel_pending && now - order.cancel_sent_ts < cancel_retry_ns_)) {
        return false; // paced, or the answer may still come
    }
    bool gave_up = false;
    if (slot.cancel_attempts >= config_.max_cancel_attempts && !slot.cancel_overdue) {
        ++counters_.cancel_give_ups;
        gave_up = true;
        if (!halted_) {
            slot.cancel_gave_up = true;
            return gave_up;
        }
        // A kill keeps cancelling until the venue confirms (the connection may come back): said
        // once, then less often.
        slot.cancel_overdue = true;
    }
    // Sent again in its own name: a cancel-all that missed it is no longer relied upon.
    slot.cancel_via_all = false;
    ++counters_.cancel_retries;
    send_cancel(slot, now);
    if (slot.cancel_overdue) {
        slot.next_cancel_ts = now + overdue_cancel_factor * cancel_retry_ns_;
    }
    return gave_up;
}

void quote_manager::cancel_orphan(orphan_order& orphan, core::timestamp_ns now) noexcept {
    cancel_work_possible_ = true;
    orphan.next_cancel_ts = now + cancel_retry_ns_;
    if (gateway_.cancel(config_.symbol, orphan.id, now) != gateway_error::none) {
        ++counters_.gateway_errors;
    }
}

bool quote_manager::on_orphan_report(const exec_report& report) noexcept {
    for (std::size_t i = 0; i < orphans_.size(); ++i) {
        if (orphans_[i].id != report.client_id) {
            continue;
        }
        // Gone: cancelled, filled, rejected, or a cancel the venue answered "no such order".
        // Anything else (a partial fill, a cancel held back or refused) leaves it to the retries.
        const bool gone = report.is_terminal() || (report.kind == exec_kind::cancel_reject &&
                                                   report.reason == reject_reason::unknown_order);
        if (gone) {
            orphans_[i] = orphans_.back();
            orphans_.pop_back();
        }
        return true;
    }
    return false;
}

void quote_manager::resume() noexcept {
    halted_ = false;
    cancel_all_unsent_ = false;
    cancel_work_possible_ = true; // cancel budgets start afresh
    for (slot_state& slot : slots_) {
        reset_cancel_budget(slot);
    }
}

bool quote_manager::send_cancel_all(core::timestamp_ns now) noexcept {
    const gateway_error error = gateway_.cancel_all(config_.symbol, now);
    // queue_full: the request never left the process. Any other refusal was taken (held while
    // the connection is down, and confirmed after it is back) or will not change by asking again.
    cancel_all_unsent_ = error == gateway_error::queue_full;
    cancel_all_retry_ts_ = now + cancel_retry_ns_;
    if (error != gateway_error::none) {
        ++counters_.gateway_errors;
        return false;
    }
    ++counters_.cancel_alls_sent;
    return true;
}

void quote_manager::retry_cancel_all(core::timestamp_ns now) noexcept {
    if (!halted_) {
        cancel_all_unsent_ = false; // trading resumed: the cancel-all is no longer wanted
        return;
    }
    if (now >= cancel_all_retry_ts_) {
        ++counters_.cancel_retries;
        (void)send_cancel_all(now);
    }
}

void quote_manager::cancel_all(core::timestamp_ns now) noexcept {
    halted_ = true;
    cancel_work_possible_ = true;
    for (slot_state& slot : slots_) {
        reset_cancel_budget(slot); // a new kill gets a new budget
    }
    const bool sent = send_cancel_all(now);
    for (slot_state& slot : slots_) {
        slot.desired = side_quote{};
        if (slot.order.status == order_status::none) {
            continue;
        }
        if (sent) {
            ++counters_.cancels_sent;
            ++slot.cancel_attempts;
            slot.order.cancel_pending = true;
            slot.order.cancel_sent_ts = now;
            slot.next_cancel_ts = now + cancel_retry_ns_;
            slot.cancel_via_all = true;
        } else {
            send_cancel(slot, now);
        }
    }
}

void quote_manager::on_exec_report(const exec_report& report) noexcept {
    const std::uint64_t id = report.client_id.value;
    if (report.symbol != config_.symbol || (id >> tag_shift) != config_.id_tag) {
        return;
    }
    const bool is_fill = report.kind == exec_kind::partial_fill || report.kind == exec_kind::fill;
    if (is_fill && trade_ids_.seen_before(report.trade_id, report.side)) {
        // Also after the order's last fill emptied the slot: a repeat is not a stale report.
        ++counters_.duplicate_fills;
        return;
    }
    const std::size_t index = id & 0xffU;
    if (index >= slot_count) {
        on_untracked_report(report, false);
        return;
    }
    slot_state& slot = slots_[index];
    if (replacing(slot) && slot.incoming.id == report.client_id) {
        on_incoming_report(slot, slot.incoming, report);
        return;
    }
    if (slot.order.status == order_status::none || slot.order.id != report.client_id) {
        on_untracked_report(report, true);
        return;
    }
    on_slot_report(slot, report);
}

void quote_manager::on_untracked_report(const exec_report& report, bool of_a_slot) noexcept {
    if (on_orphan_report(report)) {
        return;
    }
    if (report.kind == exec_kind::ack && of_a_slot) {
        // One of this manager's orders it no longer tracks, yet the venue holds it: taken after
        // it was reported never taken (a late placement of unknown outcome, or one a
        // reconciliation found listed, however long after). A gateway reports an order's ack
        // once, before its end, so no other ack comes this way. Nothing would manage it:
        // cancelled, and again until a report says it is gone.
        ++counters_.orphans_cancelled;
        cancel_orphan(orphans_.emplace_back(orphan_order{.id = report.client_id}), report.local_ts);
        return;
    }
    // Normal after a race: the cancel reached the venue after the order was done.
    ++(report.kind == exec_kind::cancel_reject ? counters_.cancel_rejects
                                               : counters_.stale_reports);
}

void quote_manager::on_slot_report(slot_state& slot, const exec_report& report) noexcept {
    working_order& order = slot.order;
    const core::timestamp_ns now = report.local_ts;
    switch (report.kind) {
    case exec_kind::unknown:
        on_unknown(order);
        return;
    case exec_kind::ack:
        on_ack(order, now);
        if (slot.cancel_via_all) {
            // The cancel-all may have reached the venue before this order did.
            slot.cancel_via_all = false;
            slot.next_cancel_ts = std::numeric_limits<core::timestamp_ns>::min();
            order.cancel_pending = false;
            send_cancel(slot, now);
        } else if (!order.cancel_pending && (halted_ || !slot.desired.active())) {
            send_cancel(slot, now);
        }
        if (slot.kept_price_gap == gap_unknown) {
            // Taken, so update() will look at it: derived now, keeps() can answer at once.
            derive_kept_gaps(slot);
        }
        return;
    case exec_kind::reject:
        // No immediate retry: the next update re-quotes, throttled by refresh_ms.
        on_reject(order, report);
        stop_keeping(slot);
        (void)promote_incoming(slot, now);
        return;
    case exec_kind::partial_fill:
    case exec_kind::fill:
        if (on_fill(order, report)) {
            stop_keeping(slot);
            (void)promote_incoming(slot, now);
        }
        return;
    case exec_kind::cancelled:
        ++counters_.cancelled;
        order = working_order{};
        stop_keeping(slot);
        if (!promote_incoming(slot, now)) {
            try_place(slot, now);
        }
        return;
    case exec_kind::cancel_reject:
        // The order is still ours: either still open (the cancel overtook it, or the venue
        // refused) or its terminal report is still on the way. The next update decides again;
        // an order that must go is cancelled again by retry_cancels().
        ++counters_.cancel_rejects;
        order.cancel_pending = false;
        slot.cancel_via_all = false;
        if (report.reason == reject_reason::held_back && slot.cancel_attempts > 0) {
            // Held back by the gateway's limiter, it never reached the venue: not an attempt
            // that failed, so it does not spend the budget that gives up on a cancel.
            --slot.cancel_attempts;
        }
        return;
    }
}

// ---- replace in one request ----------------------------------------------------------------

void quote_manager::send_replace(slot_state& slot, core::timestamp_ns now) noexcept {
    // The cancel half is a cancel attempt of the old order: paced and budgeted as one.
    if (now < slot.next_cancel_ts || slot.cancel_gave_up) {
        return;
    }
    const std::size_t index = slot_index(slot.side, slot.level);
    const order_request request = request_for(slot, next_id(index));
    cancel_work_possible_ = true;
    ++slot.cancel_attempts;
    slot.next_cancel_ts = now + cancel_retry_ns_;
    slot.last_sent_ts = now;
    slot.ever_sent = true;
    if (gateway_.replace(config_.symbol, slot.order.id, request, now) != gateway_error::none) {
        ++counters_.gateway_errors;
        return;
    }
    ++counters_.orders_sent;
    ++counters_.cancels_sent;
    ++counters_.replaces_sent;
    slot.order.cancel_pending = true;
    slot.order.cancel_sent_ts = now;
    working_order& next = slot.incoming;
    next = working_order{};
    next.id = request.id;
    next.status = order_status::pending_new;
    next.price = request.price;
    next.qty = request.qty;
    next.sent_ts = now;
}

void quote_manager::on_incoming_report(slot_state& /*slot*/, working_order& order,
                                       const exec_report& report) noexcept {
    switch (report.kind) {
    case exec_kind::unknown:
        on_unknown(order);
        return;
    case exec_kind::ack:
        on_ack(order, report.local_ts);
        return; // a cancel it may need is decided when it takes the slot
    case exec_kind::reject:
        // Also the replacement not attempted because the cancel failed: the old order stays.
        on_reject(order, report);
        return;
    case exec_kind::partial_fill:
    case exec_kind::fill:
        (void)on_fill(order, report);
        return;
    case exec_kind::cancelled:
        ++counters_.cancelled; // a kill's cancel-all reached it before it took the slot
        order = working_order{};
        return;
    case exec_kind::cancel_reject:
        ++counters_.cancel_rejects; // never asked for: nothing to undo
        return;
    }
}

bool quote_manager::promote_incoming(slot_state& slot, core::timestamp_ns now) noexcept {
    working_order& next = slot.incoming;
    if (next.status == order_status::none) {
        return false;
    }
    take_order(slot, next);
    next = working_order{};
    cancel_work_possible_ = true; // it may have to go at once
    slot.cancel_via_all = false;
    reset_cancel_budget(slot);
    // Halted or pulled while it flew: a resting one goes now (one still in flight is cancelled
    // on its ack; retry_cancels() covers the rest).
    const bool resting = slot.order.status == order_status::acked ||
                         slot.order.status == order_status::partially_filled;
    if (resting && (halted_ || !slot.desired.active())) {
        send_cancel(slot, now);
    }
    return true;
}

// ---------------------------------------------------------------------------------------------
// Dry run (engine::order_path_warmer): update()'s decisions, without acting on them.

std::size_t quote_manager::rehearse(const desired_quotes& desired, core::timestamp_ns now,
                                    std::span<rehearsed_order> out) const noexcept {
    std::size_t written = 0;
    for (std::size_t level = 0; level < config_.levels; ++level) {
        for (const core::side side : {core::side::buy, core::side::sell}) {
            const side_quote& wanted =
                side == core::side::buy ? desired.bids[level] : desired.asks[level];
            if (!wanted.active() || written == out.size()) {
                continue;
            }
            const std::size_t index = slot_index(side, level);
            // The slot as update() would see it: its desired quote replaced by this one.
            slot_state slot = slots_[index];
            slot.desired = wanted;
            slot_action action = slot_action::keep;
            if (halted_) {
                action = slot_action::wait;
            } else if (slot.order.status == order_status::none) {
                action = may_place(slot, now) ? slot_action::place : slot_action::wait;
            } else if (slot.order.cancel_pending || replacing(slot)) {
                action = slot_action::wait;
            } else if (needs_replace(slot, now)) {
                action = may_send(slot, now) ? slot_action::replace : slot_action::keep;
            }
            rehearsed_order& order = out[written++];
            order.action = action;
            order.replaces = action == slot_action::replace ? slot.order.id : client_order_id{};
            // The id update() would give it, the slots' orders numbered in this order from
            // next_seq_ (which does not move).
            const std::uint64_t seq = (next_seq_ + written - 1) & seq_mask;
            order.request = request_for(
                slot, client_order_id{(std::uint64_t{config_.id_tag} << tag_shift) |
                                      (seq << seq_shift) | static_cast<std::uint64_t>(index)});
        }
    }
    return written;
}

} // namespace quoter::exec
