#include "quoter/risk/reasons.hpp"
#include "quoter/risk/alert.hpp"
#include "quoter/risk/pre_trade.hpp"

namespace quoter::risk {

std::string_view to_string(reject_reason reason) noexcept {
    switch (reason) {
    case reject_reason::none:
        return "none";
    case reject_reason::killed:
        return "killed";
    case reject_reason::paused:
        return "paused";
    case reject_reason::invalid_price:
        return "invalid_price";
    case reject_reason::invalid_qty:
        return "invalid_qty";
    case reject_reason::below_min_notional:
        return "below_min_notional";
    case reject_reason::venue_max_qty:
        return "venue_max_qty";
    case reject_reason::venue_max_notional:
        return "venue_max_notional";
    case reject_reason::max_order_qty:
        return "max_order_qty";
    case reject_reason::max_order_notional:
        return "max_order_notional";
    case reject_reason::no_market:
        return "no_market";
    case reject_reason::price_band:
        return "price_band";
    case reject_reason::price_through_market:
        return "price_through_market";
    case reject_reason::post_only_would_cross:
        return "post_only_would_cross";
    case reject_reason::daily_loss:
        return "daily_loss";
    case reject_reason::drawdown_hard:
        return "drawdown_hard";
    case reject_reason::inventory_kill:
        return "inventory_kill";
    case reject_reason::reduce_mode:
        return "reduce_mode";
    case reject_reason::flatten_mode:
        return "flatten_mode";
    case reject_reason::reduce_only_would_increase:
        return "reduce_only_would_increase";
    case reject_reason::flatten_not_reducing:
        return "flatten_not_reducing";
    case reject_reason::symbol_net_notional:
        return "symbol_net_notional";
    case reject_reason::symbol_gross_notional:
        return "symbol_gross_notional";
    case reject_reason::portfolio_net_notional:
        return "portfolio_net_notional";
    case reject_reason::new_orders_per_s:
        return "new_orders_per_s";
    case reject_reason::new_orders_per_min:
        return "new_orders_per_min";
    case reject_reason::orders_per_day:
        return "orders_per_day";
    case reject_reason::cancel_trade_ratio:
        return "cancel_trade_ratio";
    }
    return "unknown";
}

std::string_view value_unit(reject_reason reason) noexcept {
    switch (reason) {
    case reject_reason::none:
    case reject_reason::killed:
    case reject_reason::paused:
    case reject_reason::no_market:
        return "";
    case reject_reason::invalid_price:
        return "ticks";
    case reject_reason::invalid_qty:
        return "lots";
    case reject_reason::below_min_notional:
    case reject_reason::venue_max_notional:
    case reject_reason::max_order_notional:
    case reject_reason::daily_loss:
    case reject_reason::inventory_kill:
    case reject_reason::flatten_mode:
    case reject_reason::symbol_net_notional:
    case reject_reason::symbol_gross_notional:
    case reject_reason::portfolio_net_notional:
        return "quote";
    case reject_reason::max_order_qty:
    case reject_reason::venue_max_qty:
    case reject_reason::reduce_only_would_increase:
    case reject_reason::flatten_not_reducing:
        return "base";
    case reject_reason::price_band:
    case reject_reason::price_through_market:
        return "bps";
    case reject_reason::post_only_would_cross:
        return "price";
    case reject_reason::drawdown_hard:
    case reject_reason::reduce_mode:
        return "pct";
    case reject_reason::new_orders_per_s:
    case reject_reason::new_orders_per_min:
    case reject_reason::orders_per_day:
        return "count";
    case reject_reason::cancel_trade_ratio:
        return "ratio";
    }
    return "";
}

std::string_view to_string(halt_reason reason) noexcept {
    switch (reason) {
    case halt_reason::none:
        return "none";
    case halt_reason::manual_kill:
        return "manual_kill";
    case halt_reason::daily_loss:
        return "daily_loss";
    case halt_reason::drawdown_hard:
        return "drawdown_hard";
    case halt_reason::inventory_kill:
        return "inventory_kill";
    case halt_reason::api_error_storm:
        return "api_error_storm";
    case halt_reason::slippage:
        return "slippage";
    case halt_reason::ack_delay:
        return "ack_delay";
    case halt_reason::fill_delay:
        return "fill_delay";
    case halt_reason::kill_unconfirmed:
        return "kill_unconfirmed";
    case halt_reason::manual_pause:
        return "manual_pause";
    case halt_reason::stale_market_data:
        return "stale_market_data";
    case halt_reason::resync:
        return "resync";
    case halt_reason::cancel_rate:
        return "cancel_rate";
    }
    return "unknown";
}

std::string_view to_string(order_intent intent) noexcept {
    switch (intent) {
    case order_intent::quote:
        return "quote";
    case order_intent::flatten:
        return "flatten";
    }
    return "unknown";
}

std::string_view to_string(trading_mode mode) noexcept {
    switch (mode) {
    case trading_mode::normal:
        return "normal";
    case trading_mode::reduce:
        return "reduce";
    case trading_mode::flatten:
        return "flatten";
    }
    return "unknown";
}

std::string_view to_string(alert_kind kind) noexcept {
    switch (kind) {
    case alert_kind::kill:
        return "kill";
    case alert_kind::pause:
        return "pause";
    case alert_kind::resume:
        return "resume";
    case alert_kind::resume_refused:
        return "resume_refused";
    case alert_kind::low_fill_ratio:
        return "low_fill_ratio";
    case alert_kind::high_cancel_trade_ratio:
        return "high_cancel_trade_ratio";
    case alert_kind::one_sided_losses:
        return "one_sided_losses";
    case alert_kind::slippage:
        return "slippage";
    case alert_kind::delayed_fill:
        return "delayed_fill";
    case alert_kind::venue_ban:
        return "venue_ban";
    case alert_kind::reconcile_gave_up:
        return "reconcile_gave_up";
    case alert_kind::logon_failed:
        return "logon_failed";
    case alert_kind::reports_lost:
        return "reports_lost";
    case alert_kind::stop_unconfirmed:
        return "stop_unconfirmed";
    case alert_kind::state_not_saved:
        return "state_not_saved";
    case alert_kind::flatten_gave_up:
        return "flatten_gave_up";
    case alert_kind::cancel_gave_up:
        return "cancel_gave_up";
    }
    return "unknown";
}

std::string_view to_string(alert_severity severity) noexcept {
    switch (severity) {
    case alert_severity::info:
        return "info";
    case alert_severity::warning:
        return "warning";
    case alert_severity::critical:
        return "critical";
    }
    return "unknown";
}

} // namespace quoter::risk
