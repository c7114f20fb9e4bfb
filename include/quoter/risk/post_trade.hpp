// Post-trade monitoring: alarms that tell a human something looks wrong without stopping trading
// (fill ratio too low, cancel/trade ratio too high, losses piling up on one side, slippage,
// delayed fills). Alarms go to the alert sink; each kind is raised again at most once per
// alarm_cooldown_ms while its condition persists.
//
// Thread ownership: core thread only; no allocation.
#pragma once

#include "quoter/core/fixed_point.hpp"
#include "quoter/core/time.hpp"
#include "quoter/core/window_counter.hpp"
#include "quoter/risk/alert.hpp"
#include "quoter/risk/limits.hpp"

#include <array>
#include <cstdint>
#include <limits>
#include <optional>

namespace quoter::risk {

/// A fill as the risk layer needs it. expected_price is what the engine expected to trade at: the
/// order's price for a resting order, the touch at send time for a marketable one.
struct fill_report {
    core::timestamp_ns exchange_time = 0; ///< Trade time reported by the exchange.
    core::timestamp_ns received_time = 0; ///< Local time the report arrived.
    std::uint16_t symbol_id = 0;
    core::side side = core::side::buy;
    core::price price;
    core::price expected_price;
    core::qty qty;
};

/// Ticks by which a fill is worse than expected (negative when better).
[[nodiscard]] constexpr std::int64_t adverse_slippage_ticks(const fill_report& fill) noexcept {
    return fill.side == core::side::buy ? fill.price - fill.expected_price
                                        : fill.expected_price - fill.price;
}

class post_trade_monitor {
public:
    /// alerts must outlive the monitor.
    post_trade_monitor(const alarm_thresholds& thresholds, alert_sink& alerts) noexcept;

    void on_new_order(core::timestamp_ns now) noexcept;
    void on_cancels(core::timestamp_ns now, std::uint32_t count) noexcept;
    /// Counts the fill and raises the slippage and delayed-fill alarms.
    void on_fill(const fill_report& fill) noexcept;
    /// PnL attributed to a trade on the given side (a markout or a realized round trip): a run of
    /// losses on one side raises the one-sided-loss alarm.
    void on_trade_outcome(core::side side, double pnl, core::timestamp_ns now) noexcept;
    /// Evaluates the ratio alarms. Inline: the loop polls on every event, and the verdicts
    /// change only when a count changes (an event, or a bucket leaving a window) or a cooldown
    /// ends; until the earliest of those, polling again would repeat them.
    void poll(core::timestamp_ns now) noexcept {
        if (covered(now)) {
            return;
        }
        evaluate(now);
    }

    /// Fills per new order over the window, in % (100 when no orders).
    [[nodiscard]] double fill_ratio_pct(core::timestamp_ns now) noexcept;
    /// Cancels per fill over the window.
    [[nodiscard]] double cancel_trade_ratio(core::timestamp_ns now) noexcept;
    /// Current losing streak on a side.
    [[nodiscard]] std::uint32_t losing_streak(core::side side) const noexcept {
        return streak_[static_cast<std::size_t>(side)];
    }
    [[nodiscard]] std::uint64_t alarms_raised() const noexcept { return alarms_raised_; }

private:
    static constexpr core::timestamp_ns never = std::numeric_limits<core::timestamp_ns>::min();
    static constexpr std::size_t kind_count = alert_kind_count;

    /// Raises unless the same kind was raised less than the cooldown ago.
    void raise(alert_kind kind, core::timestamp_ns now, double value, double threshold,
               std::uint16_t symbol_id = 0) noexcept;
    /// poll()'s evaluation, out of line.
    [[gnu::noinline]] void evaluate(core::timestamp_ns now) noexcept;
    /// An event was counted: the next poll() evaluates the alarms again.
    void counts_changed() noexcept;
    /// Whether now falls in the span the last evaluation covers (see poll()).
    [[nodiscard]] bool covered(core::timestamp_ns now) const noexcept {
        return now >= poll_from_ && now < poll_until_;
    }
    /// covered(now), with every counter holding events at the last evaluation: an event counted
    /// at now moves none of their buckets (see on_new_order()).
    [[nodiscard]] bool settled(core::timestamp_ns now) const noexcept {
        return counters_held_events_ && covered(now);
    }
    /// The fill ratio in %, when the low-fill-ratio alarm's condition holds for these counts.
    [[nodiscard]] std::optional<double> low_fill_ratio(std::uint64_t orders,
                                                       std::uint64_t fills) const noexcept;
    /// The cancel/trade ratio, when the high-cancel-trade-ratio alarm's condition holds.
    [[nodiscard]] std::optional<double> high_cancel_trade_ratio(std::uint64_t cancels,
                                                                std::uint64_t fills) const noexcept;

    alarm_thresholds thresholds_;
    alert_sink* alerts_;
    core::window_counter<60> orders_;
    core::window_counter<60> fills_;
    core::window_counter<60> cancels_;
    std::array<std::uint32_t, 2> streak_{};
    std::array<core::timestamp_ns, kind_count> last_raised_{};
    std::uint64_t alarms_raised_ = 0;
    /// poll() at a time in [poll_from_, poll_until_) would find what the last one found.
    core::timestamp_ns poll_from_ = 0;
    core::timestamp_ns poll_until_ = std::numeric_limits<core::timestamp_ns>::min();
    /// Every counter held events at the last evaluation, and none has moved since but by the
    /// events counted (see on_new_order()).
    bool counters_held_events_ = false;
};

} // namespace quoter::risk
