// Risk configuration: plain structs with defaults, filled from TOML by risk_config_reader.hpp.
// Every field carries its unit in its name (_pct of equity, _bps, _per_s, _per_min, _per_day,
// _ms, _ticks).
//
// Threshold convention, the same for every limit: a value AT the limit passes, a value strictly
// ABOVE it is a breach. Count triggers ("N errors within a window") fire when the count reaches
// N. A limit of 0 disables that check unless its comment says otherwise.
#pragma once

#include <cstdint>

namespace quoter::risk {

/// Pre-trade, position and loss limits. Percentages are of the account equity in the quote asset
/// (5.0 means 5 %).
struct risk_limits {
    // Order size.
    /// Largest notional of one order: equity * order_notional_pct / 100.
    double order_notional_pct = 5.0;
    /// Largest quantity of one order in base-asset units (0: no limit beyond the notional one).
    double max_order_qty_base = 0.0;

    // Price band.
    /// A bid may sit at most this far below the best bid and an ask at most this far above the
    /// best ask; a marketable order may reach at most this far through the opposite touch.
    double price_band_bps = 50.0;

    // Rate limits, over sliding windows (see window_counter for the granularity).
    std::uint32_t max_new_orders_per_s = 10;
    std::uint32_t max_new_orders_per_min = 300;
    /// Cancels in the last second above this pause trading until the rate is back at or below
    /// it; the cancels themselves always go out (only they take risk off the book).
    std::uint32_t max_cancels_per_s = 20;
    /// Over a sliding 24 h window.
    std::uint32_t max_orders_per_day = 100'000;
    /// New orders are refused while cancels / max(fills, 1) over the ratio window is above this
    /// (0: never block; the post-trade alarm still fires at alarm_thresholds' ratio).
    double cancel_trade_ratio_block = 0.0;
    /// The ratio counts as meaningful only once this many cancels are in the window.
    std::uint32_t cancel_trade_min_cancels = 100;
    /// Length of the window over which cancels and fills are counted for the ratio.
    std::int64_t cancel_trade_window_ms = 3'600'000;

    // Position limits, valued at the mid price; they include the resting orders on the order's
    // side and the order itself (the exposure if all of them fill). Orders that reduce the
    // position, net of the working orders on their side (risk::reduces_position), are exempt.
    /// Largest |net position| notional in one symbol.
    double symbol_net_notional_pct = 30.0;
    /// Largest |position| + resting orders of both sides in one symbol.
    double symbol_gross_notional_pct = 60.0;
    /// Largest sum over symbols of |net position| notional.
    double portfolio_net_notional_pct = 50.0;

    // Loss limits.
    /// Daily loss (-(realized today + unrealized)) above this share of the start-of-day equity
    /// kills.
    double daily_loss_pct = 1.0;
    /// When the trading day starts, in minutes after 00:00 UTC, [0, 1440): the daily loss and the
    /// start-of-day equity start again then (the first day starts at process start).
    std::int32_t daily_reset_utc_minute = 0;
    /// Drawdown from the equity peak above this enters reduce mode: only orders that reduce the
    /// position pass and the strategy widens by reduce_spread_multiplier.
    double drawdown_soft_pct = 10.0;
    /// Drawdown from the equity peak above this kills.
    double drawdown_hard_pct = 15.0;
    /// |position| notional in one symbol above this enters flatten mode: only orders that reduce
    /// the position pass.
    double inventory_flatten_pct = 40.0;
    /// |position| notional in one symbol above this kills (0: never).
    double inventory_kill_pct = 50.0;
    /// Spread multiplier the strategy applies in reduce mode (read by the strategy, not checked).
    double reduce_spread_multiplier = 2.0;
};

/// Automatic kill and pause triggers.
struct trigger_limits {
    /// Kill once this many API errors fall within api_error_window_ms (0: off): 429/418/5xx,
    /// timeouts, and venue rejects of orders the pre-trade checks passed (docs/operations.md).
    std::uint32_t api_error_storm_count = 5;
    std::int64_t api_error_window_ms = 10'000;
    /// Pause when no market data arrived for more than this; resume by itself when it does.
    std::int64_t stale_market_data_ms = 2'000;
    /// Kill on a fill worse than its expected price by more than this many ticks (0: off).
    std::int64_t max_slippage_ticks = 3;
    /// Kill when an acknowledgement takes longer than this, or an order waits longer than this
    /// for one (0: off).
    std::int64_t max_ack_delay_ms = 2'000;
    /// Kill when a fill reaches us more than this after its exchange time (0: off).
    std::int64_t max_fill_delay_ms = 2'000;
    /// On kill, ask the engine to close positions with marketable orders; they must still pass
    /// the price band, size, filter and rate checks.
    bool flatten_on_kill = false;
    /// How far through the opposite touch a flatten order may reach (its limit price), ticks.
    std::int64_t flatten_slippage_ticks = 2;
    /// Flatten orders sent after one kill before giving up (each unfilled IOC counts one).
    std::uint32_t flatten_max_attempts = 20;
};

/// Post-trade alarms: raised to the alert sink, never blocking.
struct alarm_thresholds {
    /// Alarm when fills / new orders over the alarm window falls below this.
    double min_fill_ratio_pct = 5.0;
    /// Fill ratio is judged only once this many new orders are in the window.
    std::uint32_t fill_ratio_min_orders = 200;
    /// Alarm when cancels / max(fills, 1) over the alarm window is above this.
    double max_cancel_trade_ratio = 50.0;
    /// The ratio is judged only once this many cancels are in the window.
    std::uint32_t cancel_trade_min_cancels = 100;
    /// Window for the two ratios above.
    std::int64_t alarm_window_ms = 3'600'000;
    /// Alarm when this many consecutive losing trades fall on the same side (0: off).
    std::uint32_t one_sided_loss_streak = 10;
    /// Alarm on a fill worse than its expected price by more than this many ticks.
    std::int64_t slippage_alarm_ticks = 3;
    /// Alarm on a fill that reaches us more than this after its exchange time.
    std::int64_t fill_delay_alarm_ms = 500;
    /// The same alarm is raised again at most once per this interval.
    std::int64_t alarm_cooldown_ms = 60'000;
};

/// Everything the risk engine is configured with.
struct risk_config {
    risk_limits limits;
    trigger_limits triggers;
    alarm_thresholds alarms;
};

} // namespace quoter::risk
