#include "quoter/exec/flattener.hpp"

#include <algorithm>
#include <cstdlib>

namespace quoter::exec {

std::string_view to_string(flatten_state state) noexcept {
    switch (state) {
    case flatten_state::idle:
        return "idle";
    case flatten_state::working:
        return "working";
    case flatten_state::done:
        return "done";
    case flatten_state::gave_up:
        return "gave_up";
    }
    return "unknown";
}

flattener::flattener(const flatten_config& config, const core::symbol_spec& spec,
                     std::uint32_t symbol) noexcept
    : config_(config), spec_(&spec), symbol_(symbol) {}

void flattener::start(std::uint32_t attempts_spent) noexcept {
    state_ = flatten_state::working;
    attempts_ = attempts_spent;
    venue_rejects_in_a_row_ = 0;
    retry_at_ = std::numeric_limits<core::timestamp_ns>::min();
}

core::price flattener::limit_price(core::side side, core::price touch) const noexcept {
    const std::int64_t through = std::max<std::int64_t>(config_.slippage_ticks, 0);
    const core::price limit = side == core::side::sell ? touch - through : touch + through;
    return limit.ticks() > 0 ? limit : core::price{1};
}

void flattener::reopen() noexcept {
    if (state_ == flatten_state::done) {
        state_ = flatten_state::working;
        retry_at_ = std::numeric_limits<core::timestamp_ns>::min();
    }
}

void flattener::stop() noexcept {
    state_ = flatten_state::idle;
    pending_ = {};
}

std::optional<order_request> flattener::next_order(core::qty position, core::price best_bid,
                                                   core::price best_ask,
                                                   std::optional<core::qty> max_qty,
                                                   core::timestamp_ns now) noexcept {
    if (state_ != flatten_state::working || in_flight_.valid() || pending_.valid() ||
        now < retry_at_) {
        return std::nullopt;
    }
    if (position.lots() == 0) {
        state_ = flatten_state::done;
        return std::nullopt;
    }
    if (attempts_ >= config_.max_attempts || (max_qty && max_qty->lots() <= 0)) {
        state_ = flatten_state::gave_up;
        return std::nullopt;
    }
    // A long position sells into the bids, a short one buys from the asks.
    const core::side side = position.lots() > 0 ? core::side::sell : core::side::buy;
    const core::price touch = side == core::side::sell ? best_bid : best_ask;
    if (touch.ticks() <= 0) {
        return std::nullopt;
    }
    const core::price limit = limit_price(side, touch);
    std::int64_t lots = std::llabs(position.lots());
    if (max_qty) {
        lots = std::min(lots, max_qty->lots());
    }
    if (!spec_->meets_min_notional(limit, core::qty{std::llabs(position.lots())},
                                   /*reduce_only=*/true)) {
        state_ = flatten_state::done; // dust: the exchange would refuse any order for it
        return std::nullopt;
    }
    ++sequence_;
    order_request request;
    request.id = client_order_id{(std::uint64_t{config_.id_tag} << 56) |
                                 ((sequence_ & 0xffff'ffff'ffffULL) << 8) | 0xffU};
    request.symbol = symbol_;
    request.side = side;
    request.post_only = false;
    request.reduce_only = true;
    request.tif = time_in_force::ioc;
    request.level = 0;
    request.price = limit;
    request.qty = core::qty{lots};
    pending_ = request.id;
    ++attempts_;
    return request;
}

void flattener::on_sent(bool accepted, core::timestamp_ns now) noexcept {
    if (accepted && pending_.valid()) {
        in_flight_ = pending_;
        ++orders_sent_;
    } else if (pending_.valid()) {
        retry_at_ = now + config_.refusal_retry_ms * core::ns_per_ms;
    }
    pending_ = {};
}

void flattener::on_held(core::timestamp_ns now, core::timestamp_ns until) noexcept {
    if (pending_.valid() && attempts_ > 0) {
        --attempts_;
    }
    if (pending_.valid()) {
        retry_at_ = std::max(until, now + config_.refusal_retry_ms * core::ns_per_ms);
    }
    pending_ = {};
}

bool flattener::on_exec_report(const exec_report& report) noexcept {
    if (!owns(report.client_id)) {
        return false;
    }
    if (report.kind == exec_kind::fill || report.kind == exec_kind::partial_fill) {
        filled_ += report.fill_qty;
    }
    if (report.is_terminal() && report.client_id == in_flight_) {
        in_flight_ = {};
        const bool refused_before_the_book =
            report.kind == exec_kind::reject && (report.reason == reject_reason::risk_refused ||
                                                 report.reason == reject_reason::held_back ||
                                                 report.reason == reject_reason::rate_limited);
        if (refused_before_the_book) {
            retry_at_ = report.local_ts + config_.refusal_retry_ms * core::ns_per_ms;
        } else if (report.kind == exec_kind::reject) {
            // The venue saw it and said no: wait, longer with every reject in a row.
            const std::uint32_t doublings = std::min<std::uint32_t>(venue_rejects_in_a_row_, 16);
            ++venue_rejects_in_a_row_;
            const std::int64_t wait_ms =
                std::min(config_.refusal_retry_ms << doublings,
                         std::max(config_.max_reject_backoff_ms, config_.refusal_retry_ms));
            retry_at_ = report.local_ts + wait_ms * core::ns_per_ms;
        } else {
            venue_rejects_in_a_row_ = 0; // the venue took the last one (filled or expired)
        }
    }
    return true;
}

} // namespace quoter::exec
