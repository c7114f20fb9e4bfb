#include "quoter/risk/post_trade.hpp"

#include <algorithm>
#include <limits>
#include <optional>

namespace quoter::risk {
namespace {

[[nodiscard]] core::duration_ns window_ns(std::int64_t ms) noexcept {
    return ms > 0 ? ms * core::ns_per_ms : core::ns_per_ms;
}

} // namespace

post_trade_monitor::post_trade_monitor(const alarm_thresholds& thresholds,
                                       alert_sink& alerts) noexcept
    : thresholds_(thresholds), alerts_(&alerts), orders_(window_ns(thresholds.alarm_window_ms)),
      fills_(window_ns(thresholds.alarm_window_ms)),
      cancels_(window_ns(thresholds.alarm_window_ms)) {
    last_raised_.fill(never);
}

// Every event below may change the verdicts: the next poll() evaluates them again, unless the
// event falls in the span the last evaluation covers, every counter held events then, and the
// event leaves every alarm unable to fire in the span. The counters then move no bucket before
// the span ends (their next drop), so the span still holds with the event counted. Its
// evaluation found each alarm either not due or held by its cooldown past the span's end; an
// event moves one ratio, and one way only:
//   - a new order lowers the fill ratio: the low-fill verdict is worked out again;
//   - a cancel raises the cancel/trade ratio: the high-cancel verdict is worked out again;
//   - a fill raises the fill ratio and lowers the cancel/trade ratio: no alarm falls due.
// (Division and multiplication round monotonically, so a ratio moves as its exact value does.)
// An evaluation anywhere in the span, with these counts, would raise nothing and move nothing.

void post_trade_monitor::on_new_order(core::timestamp_ns now) noexcept {
    orders_.add(now);
    if (!settled(now) || low_fill_ratio(orders_.count(now), fills_.count(now))) {
        counts_changed();
    }
}

void post_trade_monitor::on_cancels(core::timestamp_ns now, std::uint32_t count) noexcept {
    cancels_.add(now, count);
    if (!settled(now) || high_cancel_trade_ratio(cancels_.count(now), fills_.count(now))) {
        counts_changed();
    }
}

void post_trade_monitor::on_fill(const fill_report& fill) noexcept {
    const core::timestamp_ns now = fill.received_time;
    fills_.add(now);
    if (!settled(now)) {
        counts_changed();
    }
    const std::int64_t slippage = adverse_slippage_ticks(fill);
    if (slippage > thresholds_.slippage_alarm_ticks) {
        raise(alert_kind::slippage, now, static_cast<double>(slippage),
              static_cast<double>(thresholds_.slippage_alarm_ticks), fill.symbol_id);
    }
    const core::duration_ns delay = fill.received_time - fill.exchange_time;
    if (delay > thresholds_.fill_delay_alarm_ms * core::ns_per_ms) {
        raise(alert_kind::delayed_fill, now,
              static_cast<double>(delay) / static_cast<double>(core::ns_per_ms),
              static_cast<double>(thresholds_.fill_delay_alarm_ms), fill.symbol_id);
    }
}

void post_trade_monitor::on_trade_outcome(core::side side, double pnl,
                                          core::timestamp_ns now) noexcept {
    auto& streak = streak_[static_cast<std::size_t>(side)];
    streak = pnl < 0.0 ? streak + 1 : 0;
    if (thresholds_.one_sided_loss_streak != 0 && streak >= thresholds_.one_sided_loss_streak) {
        raise(alert_kind::one_sided_losses, now, static_cast<double>(streak),
              static_cast<double>(thresholds_.one_sided_loss_streak));
    }
}

void post_trade_monitor::evaluate(core::timestamp_ns now) noexcept {
    poll_from_ = now;
    const std::uint64_t orders = orders_.count(now);
    const std::uint64_t cancels = cancels_.count(now);
    const std::uint64_t fills = fills_.count(now);
    // Windows moved up to now first, so that their next drops lie ahead of it.
    core::timestamp_ns until =
        std::min({orders_.next_drop(), fills_.next_drop(), cancels_.next_drop()});
    const auto cooled_at = [&](alert_kind kind) {
        const core::timestamp_ns last = last_raised_[static_cast<std::size_t>(kind)];
        return last == never ? now : last + thresholds_.alarm_cooldown_ms * core::ns_per_ms;
    };
    if (const std::optional<double> ratio = low_fill_ratio(orders, fills)) {
        raise(alert_kind::low_fill_ratio, now, *ratio, thresholds_.min_fill_ratio_pct);
        until = std::min(until, cooled_at(alert_kind::low_fill_ratio));
    }
    if (const std::optional<double> ratio = high_cancel_trade_ratio(cancels, fills)) {
        raise(alert_kind::high_cancel_trade_ratio, now, *ratio,
              thresholds_.max_cancel_trade_ratio);
        until = std::min(until, cooled_at(alert_kind::high_cancel_trade_ratio));
    }
    poll_until_ = until;
    counters_held_events_ = orders > 0 && cancels > 0 && fills > 0;
}

// The ratios as fill_ratio_pct() and cancel_trade_ratio() give them.
std::optional<double> post_trade_monitor::low_fill_ratio(std::uint64_t orders,
                                                         std::uint64_t fills) const noexcept {
    if (orders >= thresholds_.fill_ratio_min_orders && orders > 0) {
        const double ratio = static_cast<double>(fills) / static_cast<double>(orders) * 100.0;
        if (ratio < thresholds_.min_fill_ratio_pct) {
            return ratio;
        }
    }
    return std::nullopt;
}

std::optional<double>
post_trade_monitor::high_cancel_trade_ratio(std::uint64_t cancels,
                                            std::uint64_t fills) const noexcept {
    if (cancels >= thresholds_.cancel_trade_min_cancels && cancels > 0) {
        const double ratio =
            static_cast<double>(cancels) / static_cast<double>(fills > 0 ? fills : 1);
        if (ratio > thresholds_.max_cancel_trade_ratio) {
            return ratio;
        }
    }
    return std::nullopt;
}

void post_trade_monitor::counts_changed() noexcept {
    poll_until_ = std::numeric_limits<core::timestamp_ns>::min();
}

// The two below move the windows to now, past the evaluated span perhaps: until the next
// evaluation, every event is counted as it was before the span could be kept.
double post_trade_monitor::fill_ratio_pct(core::timestamp_ns now) noexcept {
    counters_held_events_ = false;
    const std::uint64_t orders = orders_.count(now);
    if (orders == 0) {
        return 100.0;
    }
    return static_cast<double>(fills_.count(now)) / static_cast<double>(orders) * 100.0;
}

double post_trade_monitor::cancel_trade_ratio(core::timestamp_ns now) noexcept {
    counters_held_events_ = false;
    const std::uint64_t fills = fills_.count(now);
    return static_cast<double>(cancels_.count(now)) / static_cast<double>(fills > 0 ? fills : 1);
}

void post_trade_monitor::raise(alert_kind kind, core::timestamp_ns now, double value,
                               double threshold, std::uint16_t symbol_id) noexcept {
    auto& last = last_raised_[static_cast<std::size_t>(kind)];
    if (last != never && now - last < thresholds_.alarm_cooldown_ms * core::ns_per_ms) {
        return;
    }
    last = now;
    ++alarms_raised_;
    alerts_->raise({.time = now,
                    .kind = kind,
                    .severity = alert_severity::warning,
                    .reason = halt_reason::none,
                    .symbol_id = symbol_id,
                    .value = value,
                    .threshold = threshold});
}

} // namespace quoter::risk
