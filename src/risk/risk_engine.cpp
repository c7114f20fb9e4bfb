#include "quoter/risk/risk_engine.hpp"

namespace quoter::risk {
namespace {

[[nodiscard]] core::duration_ns window_ns(std::int64_t ms) noexcept {
    return ms > 0 ? ms * core::ns_per_ms : core::ns_per_ms;
}

constexpr core::duration_ns ns_per_day = 86'400 * core::ns_per_s;

/// Days since the epoch of the trading day that contains now (floor division, so times before
/// the epoch or before the reset fall on the previous day).
[[nodiscard]] std::int64_t day_of(core::timestamp_ns now, std::int32_t reset_minute) noexcept {
    const core::timestamp_ns shifted = now - std::int64_t{reset_minute} * 60 * core::ns_per_s;
    const std::int64_t day = shifted / ns_per_day;
    return shifted % ns_per_day < 0 ? day - 1 : day;
}

} // namespace

std::string_view to_string(api_outcome outcome) noexcept {
    switch (outcome) {
    case api_outcome::ok:
        return "ok";
    case api_outcome::client_error:
        return "client_error";
    case api_outcome::rate_limited:
        return "rate_limited";
    case api_outcome::banned:
        return "banned";
    case api_outcome::server_error:
        return "server_error";
    case api_outcome::timeout:
        return "timeout";
    case api_outcome::venue_reject:
        return "venue_reject";
    case api_outcome::send_failed:
        return "send_failed";
    }
    return "unknown";
}

risk_engine::risk_engine(const risk_config& config, engine_actions& actions, alert_sink& alerts,
                         rejection_sink& rejections) noexcept
    : config_(config), checker_(config.limits, rejections),
      switch_(actions, alerts, config.triggers.flatten_on_kill, &checker_),
      post_trade_(config.alarms, alerts),
      api_errors_(window_ns(config.triggers.api_error_window_ms)) {
    checker_.set_flatten_on_kill(config.triggers.flatten_on_kill);
    const auto after = [](std::int64_t ms) {
        return ms > 0 ? ms * core::ns_per_ms : std::numeric_limits<core::duration_ns>::max();
    };
    stale_after_ns_ = after(config.triggers.stale_market_data_ms);
    ack_overdue_ns_ = after(config.triggers.max_ack_delay_ms);
}

void risk_engine::on_refused(const order_request& order, reject_reason reason,
                             core::timestamp_ns now) noexcept {
    switch (reason) {
    case reject_reason::daily_loss:
        switch_.set_condition(halt_reason::daily_loss, true, now);
        break;
    case reject_reason::drawdown_hard:
        switch_.set_condition(halt_reason::drawdown_hard, true, now);
        break;
    case reject_reason::inventory_kill:
        set_inventory_breach(order.symbol_id, true, now);
        break;
    default:
        break;
    }
}

void risk_engine::on_cancels_sent(core::timestamp_ns now, std::uint32_t count) noexcept {
    checker_.note_cancels(now, count);
    post_trade_.on_cancels(now, count);
}

void risk_engine::on_resync(bool resyncing, core::timestamp_ns now) noexcept {
    switch_.set_condition(halt_reason::resync, resyncing, now);
}

void risk_engine::apply(const account_verdicts& verdicts, std::uint16_t symbol_id,
                        core::timestamp_ns now) noexcept {
    const auto set = [&](halt_reason reason, bool active) {
        if (active || switch_.condition_active(reason)) {
            switch_.set_condition(reason, active, now);
        }
    };
    set(halt_reason::daily_loss, verdicts.daily_loss);
    set(halt_reason::drawdown_hard, verdicts.drawdown_hard);
    if (verdicts.valued) { // an empty book cannot value the position: keep the last verdict
        set_inventory_breach(symbol_id, verdicts.inventory_kill, now);
    }
}

void risk_engine::roll_day(const account_view& account, core::timestamp_ns now) noexcept {
    if (has_day_ && now >= day_begin_ns_ && now < day_end_ns_) {
        return; // still the current day: no division on every account update
    }
    const std::int64_t day =
        day_of(now, static_cast<std::int32_t>(config_.limits.daily_reset_utc_minute));
    if (!has_day_) {
        has_day_ = true; // the first day started with the process: the views' figures hold
        set_day(day);
        return;
    }
    if (day <= day_) {
        return;
    }
    set_day(day);
    day_anchored_ = true;
    day_pnl_base_ = account.realized_pnl_today + account.unrealized_pnl;
    day_start_equity_ = account.equity;
}

void risk_engine::restore_day_saved_at(core::timestamp_ns saved_ns, double pnl_base,
                                       double start_equity) noexcept {
    restore_day(day_of(saved_ns, static_cast<std::int32_t>(config_.limits.daily_reset_utc_minute)),
                pnl_base, start_equity);
}

void risk_engine::set_day(std::int64_t day) noexcept {
    day_ = day;
    const std::int64_t reset_minute = config_.limits.daily_reset_utc_minute;
    day_begin_ns_ = day * ns_per_day + reset_minute * 60 * core::ns_per_s;
    day_end_ns_ = day_begin_ns_ + ns_per_day;
}

account_view risk_engine::today(const account_view& account) const noexcept {
    if (!day_anchored_) {
        return account;
    }
    account_view view = account;
    view.realized_pnl_today = account.realized_pnl_today - day_pnl_base_;
    view.day_start_equity = day_start_equity_;
    return view;
}

void risk_engine::set_inventory_breach(std::uint16_t symbol_id, bool breached,
                                       core::timestamp_ns now) noexcept {
    const std::size_t index = symbol_id < tracked_symbols ? symbol_id : tracked_symbols - 1;
    const std::uint64_t mask = std::uint64_t{1} << index;
    inventory_breaches_ = breached ? inventory_breaches_ | mask : inventory_breaches_ & ~mask;
    const bool active = inventory_breaches_ != 0;
    if (active || switch_.condition_active(halt_reason::inventory_kill)) {
        switch_.set_condition(halt_reason::inventory_kill, active, now);
    }
}

void risk_engine::on_api_response(api_outcome outcome, core::timestamp_ns now) noexcept {
    if (!counts_toward_storm(outcome)) {
        return;
    }
    api_errors_.add(now);
    const std::uint32_t storm = config_.triggers.api_error_storm_count;
    if (storm != 0 && api_errors_.count(now) >= storm) {
        switch_.set_condition(halt_reason::api_error_storm, true, now);
    }
}

void risk_engine::on_ack(core::timestamp_ns sent, core::timestamp_ns acked) noexcept {
    const std::int64_t max_ms = config_.triggers.max_ack_delay_ms;
    if (max_ms > 0 && acked - sent > max_ms * core::ns_per_ms) {
        switch_.trigger_kill_switch(halt_reason::ack_delay, acked);
    }
}

void risk_engine::on_fill(const fill_report& fill) noexcept {
    const core::timestamp_ns now = fill.received_time;
    checker_.note_fill(now);
    post_trade_.on_fill(fill);
    const trigger_limits& trig = config_.triggers;
    if (trig.max_slippage_ticks > 0 && adverse_slippage_ticks(fill) > trig.max_slippage_ticks) {
        switch_.trigger_kill_switch(halt_reason::slippage, now);
    }
    if (trig.max_fill_delay_ms > 0 &&
        fill.received_time - fill.exchange_time > trig.max_fill_delay_ms * core::ns_per_ms) {
        switch_.trigger_kill_switch(halt_reason::fill_delay, now);
    }
}

void risk_engine::on_trade_outcome(core::side side, double pnl, core::timestamp_ns now) noexcept {
    post_trade_.on_trade_outcome(side, pnl, now);
}

void risk_engine::follow_shared_cancel_rate(core::timestamp_ns now) noexcept {
    if (!switch_.condition_active(halt_reason::cancel_rate) && checker_.cancel_rate_exceeded(now)) {
        switch_.set_condition(halt_reason::cancel_rate, true, now);
    }
}

void risk_engine::poll_conditions(core::timestamp_ns now,
                                  core::timestamp_ns oldest_unacked_sent) noexcept {
    const trigger_limits& trig = config_.triggers;
    if (has_market_data_ && trig.stale_market_data_ms > 0 &&
        now - last_market_data_ > trig.stale_market_data_ms * core::ns_per_ms &&
        !switch_.condition_active(halt_reason::stale_market_data)) {
        switch_.set_condition(halt_reason::stale_market_data, true, now);
    }
    if (switch_.condition_active(halt_reason::cancel_rate) && !checker_.cancel_rate_exceeded(now)) {
        switch_.set_condition(halt_reason::cancel_rate, false, now);
    }
    if (switch_.condition_active(halt_reason::api_error_storm) &&
        api_errors_.count(now) < trig.api_error_storm_count) {
        switch_.set_condition(halt_reason::api_error_storm, false, now);
    }
    if (trig.max_ack_delay_ms > 0) {
        const bool overdue = oldest_unacked_sent != no_pending_ack &&
                             now - oldest_unacked_sent > trig.max_ack_delay_ms * core::ns_per_ms;
        if (overdue != switch_.condition_active(halt_reason::ack_delay)) {
            switch_.set_condition(halt_reason::ack_delay, overdue, now);
        }
    }
}

} // namespace quoter::risk
