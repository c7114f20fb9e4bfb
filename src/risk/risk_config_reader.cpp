// Reading [risk], [risk.triggers] and [risk.alarms]. Every key is declared once, with the
// struct's own default; docs/config.md lists them (the app tests compare). Declaration order is
// the order `quoter config check` lists the keys in.
#include "quoter/risk/risk_config_reader.hpp"

#include "quoter/config/config.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace quoter::risk {
namespace {

/// A window or delay the limits keep as int64 milliseconds: at most a week.
std::int64_t read_ms(config::section& s, std::string_view key, std::int64_t fallback,
                     std::int64_t min, std::string_view doc) {
    return s
        .duration_ms(key, std::chrono::milliseconds(fallback),
                     {.min = min, .max = 7 * 86'400'000LL}, doc)
        .count();
}

/// "HH:MM" (24 h) to minutes after midnight; nothing when malformed or out of range.
std::optional<std::int32_t> parse_time_of_day(std::string_view text) {
    if (text.size() != 5 || text[2] != ':') {
        return std::nullopt;
    }
    const auto two_digits = [&](std::size_t at) -> int {
        const char hi = text[at];
        const char lo = text[at + 1];
        if (hi < '0' || hi > '9' || lo < '0' || lo > '9') {
            return -1;
        }
        return (hi - '0') * 10 + (lo - '0');
    };
    const int hours = two_digits(0);
    const int minutes = two_digits(3);
    if (hours < 0 || hours > 23 || minutes < 0 || minutes > 59) {
        return std::nullopt;
    }
    return hours * 60 + minutes;
}

/// A limit read both in [risk] (the account's, the default of every symbol) and in
/// [symbol.<NAME>.risk] (one symbol's): one declaration, a help text for each table.
struct shared_limit {
    std::string_view key;
    double risk_limits::*field;
    config::number_limits bounds;
    std::string_view account_doc; ///< in [risk]
    std::string_view symbol_doc;  ///< in [symbol.<NAME>.risk]
};

constexpr config::number_limits pct{.min = 0, .max = 1000, .unit = "%"};

/// In [risk] declaration order; [risk] reads other keys between some of them (see
/// read_risk_config), [symbol.<NAME>.risk] reads them all in this order.
const shared_limit shared_limits[] = {
    {"order_notional_pct", &risk_limits::order_notional_pct, pct,
     "Largest notional of one order, % of equity; 0: off",
     "Largest notional of one order of this symbol, % of equity; 0: off"},
    {"max_order_qty_base",
     &risk_limits::max_order_qty_base,
     {.min = 0, .unit = "base"},
     "Largest quantity of one order, base asset; 0: no limit beyond the notional one",
     "Largest quantity of one order of this symbol, base asset; 0: no limit beyond the notional "
     "one"},
    {"price_band_bps",
     &risk_limits::price_band_bps,
     {.min = 0, .max = 10000, .unit = "bps"},
     "Largest distance of a bid below the best bid (an ask above the best ask), and how far a "
     "marketable order may reach through; 0: orders only at or inside the touch",
     "Price band of this symbol's orders around its touch; 0: orders only at or inside it"},
    {"symbol_net_notional_pct", &risk_limits::symbol_net_notional_pct, pct,
     "Largest net position notional in one symbol, % of equity (resting orders of the side "
     "included); 0: off",
     "Largest net position notional in this symbol, % of equity; 0: off"},
    {"symbol_gross_notional_pct", &risk_limits::symbol_gross_notional_pct, pct,
     "Largest |position| + resting orders of both sides in one symbol, % of equity; 0: off",
     "Largest |position| + resting orders of both sides in this symbol, % of equity; 0: off"},
    {"inventory_flatten_pct", &risk_limits::inventory_flatten_pct, pct,
     "Position notional that enters flatten mode (only reducing orders pass), % of equity; 0: "
     "never",
     "This symbol's position notional that enters flatten mode, % of equity; 0: never"},
    {"inventory_kill_pct", &risk_limits::inventory_kill_pct, pct,
     "Position notional that kills, % of equity; 0: never",
     "This symbol's position notional that kills, % of equity; 0: never"},
};

enum class limit_table : std::uint8_t { account, symbol };

/// Reads shared_limits[first, last) in s.
void read_shared(config::section& s, risk_limits& l, std::size_t first, std::size_t last,
                 limit_table table) {
    for (std::size_t i = first; i < last; ++i) {
        const shared_limit& k = shared_limits[i];
        l.*k.field = s.number(k.key, l.*k.field, k.bounds,
                              table == limit_table::account ? k.account_doc : k.symbol_doc);
    }
}

/// Flatten mode must come before the kill, in either table.
void check_flatten_before_kill(config::section& s, const risk_limits& l) {
    if (l.inventory_kill_pct > 0 && l.inventory_flatten_pct > l.inventory_kill_pct) {
        s.error("inventory_flatten_pct", fmt::format("is above inventory_kill_pct ({}): flatten "
                                                     "mode would never come before the kill",
                                                     l.inventory_kill_pct));
    }
}

} // namespace

std::vector<std::string_view> symbol_limits_turned_off(const risk_limits& limits) {
    std::vector<std::string_view> off;
    for (const shared_limit& k : shared_limits) {
        // A zero band or order quantity is a limit (at the touch; none beyond the notional).
        if (k.field != &risk_limits::price_band_bps &&
            k.field != &risk_limits::max_order_qty_base && limits.*k.field == 0.0) {
            off.push_back(k.key);
        }
    }
    return off;
}

std::vector<std::string_view> limits_turned_off(const risk_config& config) {
    const risk_limits& l = config.limits;
    std::vector<std::string_view> off = symbol_limits_turned_off(l);
    const auto note = [&](bool zero, std::string_view key) {
        if (zero) {
            off.push_back(key);
        }
    };
    note(l.max_new_orders_per_s == 0, "max_new_orders_per_s");
    note(l.max_new_orders_per_min == 0, "max_new_orders_per_min");
    note(l.max_cancels_per_s == 0, "max_cancels_per_s");
    note(l.max_orders_per_day == 0, "max_orders_per_day");
    note(l.portfolio_net_notional_pct == 0.0, "portfolio_net_notional_pct");
    note(l.daily_loss_pct == 0.0, "daily_loss_pct");
    note(l.drawdown_soft_pct == 0.0, "drawdown_soft_pct");
    note(l.drawdown_hard_pct == 0.0, "drawdown_hard_pct");
    note(config.triggers.api_error_storm_count == 0, "triggers.api_error_storm_count");
    note(config.triggers.stale_market_data_ms == 0, "triggers.stale_market_data_ms");
    return off;
}

void read_risk_config(config::section s, risk_config& out) {
    risk_limits& l = out.limits;
    read_shared(s, l, 0, 3, limit_table::account);
    l.max_new_orders_per_s =
        s.integer("max_new_orders_per_s", l.max_new_orders_per_s, {.min = 0, .unit = "1/s"},
                  "New orders per second, every symbol's together; 0: off");
    l.max_new_orders_per_min =
        s.integer("max_new_orders_per_min", l.max_new_orders_per_min, {.min = 0, .unit = "1/min"},
                  "New orders per minute, every symbol's together; 0: off");
    l.max_cancels_per_s =
        s.integer("max_cancels_per_s", l.max_cancels_per_s, {.min = 0, .unit = "1/s"},
                  "Cancels per second above which trading pauses until the rate "
                  "is back under it; cancels always go out; 0: off");
    l.max_orders_per_day =
        s.integer("max_orders_per_day", l.max_orders_per_day, {.min = 0, .unit = "1/day"},
                  "New orders over a sliding 24 h window, every symbol's together; "
                  "0: off");
    l.cancel_trade_ratio_block =
        s.number("cancel_trade_ratio_block", l.cancel_trade_ratio_block, {.min = 0},
                 "Refuse new orders while cancels / max(fills, 1) is above this; 0: never "
                 "block (the alarm still fires)");
    l.cancel_trade_min_cancels =
        s.integer("cancel_trade_min_cancels", l.cancel_trade_min_cancels, {.min = 0},
                  "Cancels in the window before the ratio can block");
    l.cancel_trade_window_ms = read_ms(s, "cancel_trade_window_ms", l.cancel_trade_window_ms, 1,
                                       "Window over which the blocking ratio is counted");
    read_shared(s, l, 3, 5, limit_table::account);
    l.portfolio_net_notional_pct =
        s.number("portfolio_net_notional_pct", l.portfolio_net_notional_pct, pct,
                 "Largest sum over symbols of |net position| notional (each with its working "
                 "orders of the worse side filled), % of the portfolio's equity; 0: off");
    l.daily_loss_pct = s.number("daily_loss_pct", l.daily_loss_pct, pct,
                                "Kill when the day's loss (realized + unrealized) exceeds this "
                                "% of the start-of-day equity; 0: off");
    const std::string reset = s.string(
        "daily_reset_utc",
        fmt::format("{:02}:{:02}", l.daily_reset_utc_minute / 60, l.daily_reset_utc_minute % 60),
        "Time of day (HH:MM, UTC) at which the trading day, its "
        "loss and its start-of-day equity start again");
    if (const auto minute = parse_time_of_day(reset)) {
        l.daily_reset_utc_minute = *minute;
    } else {
        s.error("daily_reset_utc", fmt::format("\"{}\" is not a time of day HH:MM (00:00 to "
                                               "23:59)",
                                               reset));
    }
    l.drawdown_soft_pct = s.number("drawdown_soft_pct", l.drawdown_soft_pct, pct,
                                   "Drawdown from the equity peak that enters reduce mode; 0: off");
    l.drawdown_hard_pct = s.number("drawdown_hard_pct", l.drawdown_hard_pct, pct,
                                   "Drawdown from the equity peak that kills; 0: off");
    read_shared(s, l, 5, 7, limit_table::account);
    l.reduce_spread_multiplier =
        s.number("reduce_spread_multiplier", l.reduce_spread_multiplier,
                 {.min = 1, .max = 100, .unit = "x"}, "Spread multiplier in reduce mode");
    if (l.drawdown_soft_pct > l.drawdown_hard_pct) {
        s.error("drawdown_soft_pct", fmt::format("is above drawdown_hard_pct ({}): reduce mode "
                                                 "would never come before the kill",
                                                 l.drawdown_hard_pct));
    }
    check_flatten_before_kill(s, l);

    config::section t = s.sub("triggers");
    trigger_limits& g = out.triggers;
    g.api_error_storm_count =
        t.integer("api_error_storm_count", g.api_error_storm_count, {.min = 0},
                  "Kill after this many 429/418/5xx/timeout responses (of orders, cancels "
                  "and queries alike), venue rejects of checked orders or requests that could "
                  "not be sent (not those the rate limiter held back) within "
                  "api_error_window_ms; 0: off");
    g.api_error_window_ms = read_ms(t, "api_error_window_ms", g.api_error_window_ms, 1,
                                    "Window of the API error storm");
    g.stale_market_data_ms = read_ms(t, "stale_market_data_ms", g.stale_market_data_ms, 0,
                                     "Pause while no market data arrived for this long; 0: off");
    g.max_slippage_ticks =
        t.integer("max_slippage_ticks", g.max_slippage_ticks, {.min = 0, .unit = "ticks"},
                  "Kill on a fill worse than expected by more than this; 0: "
                  "off");
    g.max_ack_delay_ms = read_ms(t, "max_ack_delay_ms", g.max_ack_delay_ms, 0,
                                 "Kill when an acknowledgement takes longer than this; 0: off");
    g.max_fill_delay_ms = read_ms(t, "max_fill_delay_ms", g.max_fill_delay_ms, 0,
                                  "Kill when a fill arrives this long after its exchange time; "
                                  "0: off");
    g.flatten_on_kill = t.boolean("flatten_on_kill", g.flatten_on_kill,
                                  "On kill, also close the position with marketable reducing "
                                  "IOC orders that still pass the pre-trade checks");
    g.flatten_slippage_ticks =
        t.integer("flatten_slippage_ticks", g.flatten_slippage_ticks, {.min = 0, .unit = "ticks"},
                  "How far through the opposite touch a flatten order's limit price reaches");
    g.flatten_max_attempts =
        t.integer("flatten_max_attempts", g.flatten_max_attempts, {.min = 1},
                  "Flatten orders after one kill before giving up (each unfilled IOC and each "
                  "refusal by a price or size check counts; one held by a full order-rate window "
                  "waits for room, one the gateway cannot send is retried 500 ms later, and "
                  "neither counts; a kill restored after a restart goes on with what it had "
                  "left)");

    config::section a = s.sub("alarms");
    alarm_thresholds& m = out.alarms;
    m.min_fill_ratio_pct = a.number("min_fill_ratio_pct", m.min_fill_ratio_pct, pct,
                                    "Alarm when fills / new orders falls below this");
    m.fill_ratio_min_orders = a.integer("fill_ratio_min_orders", m.fill_ratio_min_orders,
                                        {.min = 0}, "New orders before the fill ratio is judged");
    m.max_cancel_trade_ratio =
        a.number("max_cancel_trade_ratio", m.max_cancel_trade_ratio, {.min = 0},
                 "Alarm when cancels / max(fills, 1) is above "
                 "this");
    m.cancel_trade_min_cancels =
        a.integer("cancel_trade_min_cancels", m.cancel_trade_min_cancels, {.min = 0},
                  "Cancels before the cancel/trade ratio is judged");
    m.alarm_window_ms = read_ms(a, "alarm_window_ms", m.alarm_window_ms, 1,
                                "Window of the fill and cancel/trade ratios");
    m.one_sided_loss_streak =
        a.integer("one_sided_loss_streak", m.one_sided_loss_streak, {.min = 0},
                  "Alarm after this many consecutive losing trades on one "
                  "side; 0: off");
    m.slippage_alarm_ticks =
        a.integer("slippage_alarm_ticks", m.slippage_alarm_ticks, {.min = 0, .unit = "ticks"},
                  "Alarm on a fill worse than expected by more than this");
    m.fill_delay_alarm_ms = read_ms(a, "fill_delay_alarm_ms", m.fill_delay_alarm_ms, 0,
                                    "Alarm on a fill that arrives this long after its exchange "
                                    "time");
    m.alarm_cooldown_ms = read_ms(a, "alarm_cooldown_ms", m.alarm_cooldown_ms, 0,
                                  "The same alarm repeats at most once per this interval");
}

void read_symbol_limits(config::section s, risk_limits& l) {
    read_shared(s, l, 0, std::size(shared_limits), limit_table::symbol);
    check_flatten_before_kill(s, l);
}

} // namespace quoter::risk
