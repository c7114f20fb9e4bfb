// Named reasons: why the pre-trade check refused an order (reject_reason) and why trading is
// halted (halt_reason). Their to_string names are stable: they appear in the journal and in
// alerts, and operators grep for them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace quoter::risk {

/// Outcome of a pre-trade check; `none` means the order passed.
enum class reject_reason : std::uint8_t {
    none,
    // Trading state.
    killed, ///< The kill switch is engaged.
    paused, ///< Trading is paused (manual, stale feed, resync).
    // Exchange filters. Prices and quantities are on the tick/step grid by construction, so
    // those filters reduce to positivity.
    invalid_price,      ///< Price at or below zero ticks.
    invalid_qty,        ///< Quantity at or below zero lots.
    below_min_notional, ///< price * qty below the symbol's minimum notional.
    venue_max_qty,      ///< Quantity above the venue's largest order (LOT_SIZE maxQty).
    venue_max_notional, ///< price * qty above the venue's largest (NOTIONAL maxNotional).
    // Order size.
    max_order_qty,      ///< Quantity above max_order_qty_base.
    max_order_notional, ///< Notional above equity * order_notional_pct.
    // Price band.
    no_market,             ///< Best bid or best ask missing: the band cannot be judged.
    price_band,            ///< Bid too far below the best bid / ask too far above the ask.
    price_through_market,  ///< Marketable order reaching too far through the touch.
    post_only_would_cross, ///< Post-only order at or through the opposite touch.
    // Loss limits and modes.
    daily_loss,                 ///< Daily loss above the limit (the engine kills).
    drawdown_hard,              ///< Drawdown above the hard limit (the engine kills).
    inventory_kill,             ///< |position| above the inventory kill limit (the engine kills).
    reduce_mode,                ///< Soft drawdown: the order would not reduce the position.
    flatten_mode,               ///< Inventory hard limit: the order would not reduce it.
    reduce_only_would_increase, ///< Order flagged reduce-only that does not reduce.
    flatten_not_reducing,       ///< A flatten order that does not reduce the position.
    // Position limits.
    symbol_net_notional,
    symbol_gross_notional,
    portfolio_net_notional,
    // Rate limits.
    new_orders_per_s,
    new_orders_per_min,
    orders_per_day,
    cancel_trade_ratio,
};

inline constexpr std::size_t reject_reason_count =
    static_cast<std::size_t>(reject_reason::cancel_trade_ratio) + 1;

/// Stable snake_case name ("max_order_notional").
[[nodiscard]] std::string_view to_string(reject_reason reason) noexcept;
/// A refusal by an order-rate window, which admits again once its oldest orders leave it
/// (pre_trade_checker::new_orders_admitted_at): waiting clears it, retrying sooner does not.
[[nodiscard]] constexpr bool clears_with_time(reject_reason reason) noexcept {
    return reason == reject_reason::new_orders_per_s ||
           reason == reject_reason::new_orders_per_min || reason == reject_reason::orders_per_day;
}
/// Unit of the limit and actual values recorded with a rejection: "quote", "base", "bps",
/// "ticks", "pct", "count" or "ratio"; empty when the rejection carries no values.
[[nodiscard]] std::string_view value_unit(reject_reason reason) noexcept;

/// Why trading stopped. Kill reasons latch until an explicit resume; pause reasons clear by
/// themselves (except manual_pause, cleared by resume).
enum class halt_reason : std::uint8_t {
    none,
    // Kill reasons.
    manual_kill, ///< Operator: key `k`, SIGUSR1 or a control command.
    daily_loss,
    drawdown_hard,
    inventory_kill,
    api_error_storm,
    slippage,
    ack_delay,
    fill_delay,
    /// Not a trigger: a resume of a kill is refused with it while the venue has not confirmed
    /// the kill's cancel-all (engine::core_loop::resume).
    kill_unconfirmed,
    // Pause reasons.
    manual_pause, ///< Operator: key `p`.
    stale_market_data,
    resync,      ///< The order book is being resynchronised.
    cancel_rate, ///< Cancels above max_cancels_per_s within the last second.
};

inline constexpr std::size_t halt_reason_count =
    static_cast<std::size_t>(halt_reason::cancel_rate) + 1;

[[nodiscard]] constexpr bool is_pause_reason(halt_reason reason) noexcept {
    return reason >= halt_reason::manual_pause;
}
[[nodiscard]] constexpr bool is_kill_reason(halt_reason reason) noexcept {
    return reason != halt_reason::none && !is_pause_reason(reason);
}

/// Stable snake_case name ("api_error_storm").
[[nodiscard]] std::string_view to_string(halt_reason reason) noexcept;

} // namespace quoter::risk
