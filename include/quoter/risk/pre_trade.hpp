// Pre-trade checks: every order the engine wants to send goes through pre_trade_checker::check,
// which either passes it (and counts it against the rate limits) or names the first rule it
// breaks. Inputs are plain structs so that the checker does not depend on the execution layer.
//
// Order of the checks, which decides the reason reported when several rules are broken:
// trading state, exchange filters, order size, price band, loss limits and modes, reduce-only,
// position limits, rate limits. Rate-limit counters only move when an order passes, so refused
// orders never consume budget.
//
// Every rejection is counted by reason and described by a rejection_record (the reason, the
// limit, the value that broke it, the order) handed to a rejection_sink.
//
// Thread ownership: one instance per engine, used on the core thread only. No allocation, no
// locks, no syscalls on any path.
#pragma once

#include "quoter/core/fixed_point.hpp"
#include "quoter/core/symbol_spec.hpp"
#include "quoter/core/time.hpp"
#include "quoter/core/window_counter.hpp"
#include "quoter/risk/limits.hpp"
#include "quoter/risk/reasons.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <optional>
#include <string_view>

namespace quoter::risk {

/// Why an order is being sent: flatten orders are the marketable reducing orders the engine sends
/// after a kill when flatten_on_kill is set. Then, and only then, they pass the killed gate; they
/// skip the loss-mode gates when they reduce the position, and every other check still applies.
enum class order_intent : std::uint8_t { quote, flatten };

[[nodiscard]] std::string_view to_string(order_intent intent) noexcept;

/// The order to check. Price in ticks and quantity in lots of the symbol.
struct order_request {
    std::uint64_t client_order_id = 0;
    std::uint16_t symbol_id = 0;
    core::side side = core::side::buy;
    core::price price;
    core::qty qty;
    bool post_only = false;
    bool reduce_only = false;
    order_intent intent = order_intent::quote;
};

/// Top of the book for the order's symbol; a price at or below zero ticks means that side is
/// empty.
struct market_view {
    core::price best_bid;
    core::price best_ask;
};

/// Account state as the portfolio sees it when the order is checked. Money in the quote asset.
struct account_view {
    core::qty position;      ///< Net position in the order's symbol (negative: short).
    core::qty open_buy_qty;  ///< Resting buy orders in the symbol, not counting this one.
    core::qty open_sell_qty; ///< Resting sell orders in the symbol, not counting this one.
    /// Sum over every other symbol one process trades of its |net notional| once the working
    /// orders of its worse side fill, quote asset.
    double other_symbols_net_notional = 0.0;
    double equity = 0.0; ///< Current equity, marked to market.
    /// Quote asset per base unit the position is valued at when no two-sided book is known yet
    /// (a restored position: its mark, else its entry price); 0: none.
    double position_price = 0.0;
    /// Several symbols: the sum of their equity, which the portfolio limit is a percentage of
    /// (with in_portfolio; alone, equity).
    double portfolio_equity = 0.0;
    bool in_portfolio = false;
    double day_start_equity = 0.0; ///< Equity at the start of the trading day (0: use equity).
    double peak_equity = 0.0;      ///< Highest equity so far (0: no drawdown check).
    double realized_pnl_today = 0.0;
    double unrealized_pnl = 0.0;
};

/// What the risk layer allows besides the trading state; the strategy reads it to decide how to
/// quote (reduce: widen and quote only the reducing side; flatten: work the position down).
enum class trading_mode : std::uint8_t { normal, reduce, flatten };

[[nodiscard]] std::string_view to_string(trading_mode mode) noexcept;

/// A refused order with the values that failed; fixed size, so it can cross a ring to the
/// journal. Units of limit_value/actual_value: value_unit(reason).
struct rejection_record {
    core::timestamp_ns time = 0;
    double limit_value = 0.0;
    double actual_value = 0.0;
    std::uint64_t client_order_id = 0;
    core::price price;
    core::qty qty;
    std::uint16_t symbol_id = 0;
    reject_reason reason = reject_reason::none;
    core::side side = core::side::buy;
    bool post_only = false;
    bool reduce_only = false;
    order_intent intent = order_intent::quote;
};

/// Receives every rejection. Called on the core thread; must not block (push to a ring).
class rejection_sink {
public:
    virtual void on_rejection(const rejection_record& record) noexcept = 0;

protected:
    rejection_sink() = default;
    rejection_sink(const rejection_sink&) = default;
    rejection_sink& operator=(const rejection_sink&) = default;
    ~rejection_sink() = default;
};

/// Trading state as the checker's first gate sees it (kept in sync by the risk engine).
enum class order_gate : std::uint8_t { open, paused, killed };

/// value > base * pct / 100, compared without dividing (exact when the operands are integral);
/// false when pct <= 0, which disables a limit.
[[nodiscard]] constexpr bool exceeds_pct(double value, double base, double pct) noexcept {
    return pct > 0.0 && value * 100.0 > base * pct;
}

/// A percentage limit checked on every book update: exceeds_pct() with its pct > 0 test taken
/// once, here. A limit that is off holds NaN, and every comparison with NaN is false, so
/// exceeded_by(value, base) is exceeds_pct(value, base, pct) for every value and base (the same
/// products, compared the same way, when the limit is on).
class armed_pct {
public:
    constexpr explicit armed_pct(double pct) noexcept
        : pct_(pct > 0.0 ? pct : std::numeric_limits<double>::quiet_NaN()) {}

    [[nodiscard]] constexpr bool exceeded_by(double value, double base) const noexcept {
        return value * 100.0 > base * pct_;
    }

private:
    double pct_;
};

/// The account values the loss limits and modes look at, for one symbol's view.
struct exposure {
    double mid = 0.0;               ///< Mid price in the quote asset (0 when the book is empty).
    double position_notional = 0.0; ///< |position| * mid.
    double daily_loss = 0.0;        ///< -(realized today + unrealized); negative when winning.
    double loss_reference = 0.0;    ///< Equity the daily-loss limit is a share of.
    double equity = 0.0;
    double peak_equity = 0.0;

    [[nodiscard]] constexpr bool daily_loss_above(double pct) const noexcept {
        return exceeds_pct(daily_loss, loss_reference, pct);
    }
    [[nodiscard]] constexpr bool drawdown_above(double pct) const noexcept {
        return peak_equity > 0.0 && exceeds_pct(peak_equity - equity, peak_equity, pct);
    }
    [[nodiscard]] constexpr bool inventory_above(double pct) const noexcept {
        return exceeds_pct(position_notional, equity, pct);
    }
    [[nodiscard]] constexpr bool daily_loss_above(armed_pct limit) const noexcept {
        return limit.exceeded_by(daily_loss, loss_reference);
    }
    [[nodiscard]] constexpr bool drawdown_above(armed_pct limit) const noexcept {
        return peak_equity > 0.0 && limit.exceeded_by(peak_equity - equity, peak_equity);
    }
    [[nodiscard]] constexpr bool inventory_above(armed_pct limit) const noexcept {
        return limit.exceeded_by(position_notional, equity);
    }
    /// (peak - equity) / peak in %, for records and reports.
    [[nodiscard]] constexpr double drawdown_pct() const noexcept {
        return peak_equity > 0.0 ? (peak_equity - equity) * 100.0 / peak_equity : 0.0;
    }
};

/// measure() with the day's realized PnL and start equity given apart from the view's (the risk
/// engine's own once a reset anchored the day).
[[nodiscard]] inline exposure measure(const core::symbol_spec& spec, const market_view& market,
                                      double realized_pnl_today, double day_start_equity,
                                      const account_view& account) noexcept {
    exposure e;
    const std::int64_t bid = market.best_bid.ticks();
    const std::int64_t ask = market.best_ask.ticks();
    // Both sides (the lower one above zero), else the one side there is (the higher one).
    if (std::min(bid, ask) > 0) {
        e.mid = static_cast<double>(bid + ask) * 0.5 * spec.tick_size();
    } else if (std::max(bid, ask) > 0) {
        e.mid = static_cast<double>(std::max(bid, ask)) * spec.tick_size();
    }
    e.position_notional =
        static_cast<double>(std::llabs(account.position.lots())) * spec.step_size() * e.mid;
    e.daily_loss = -(realized_pnl_today + account.unrealized_pnl);
    e.loss_reference = day_start_equity > 0.0 ? day_start_equity : account.equity;
    e.equity = account.equity;
    e.peak_equity = account.peak_equity;
    return e;
}

/// Inline: the risk engine measures on every book update and every order check.
[[nodiscard]] inline exposure measure(const core::symbol_spec& spec, const market_view& market,
                                      const account_view& account) noexcept {
    return measure(spec, market, account.realized_pnl_today, account.day_start_equity, account);
}

/// True when a fill of the order can only bring the position closer to zero, even if every
/// working order on the same side fills first: position minus the working quantity of the side
/// minus this order stays on the same side of zero (or at zero). Orders on the other side are
/// not counted, since their fills would only make the position larger.
[[nodiscard]] constexpr bool reduces_position(core::side side, core::qty qty,
                                              const account_view& account) noexcept {
    const std::int64_t position = account.position.lots();
    return side == core::side::buy
               ? position < 0 && account.open_buy_qty.lots() + qty.lots() <= -position
               : position > 0 && account.open_sell_qty.lots() + qty.lots() <= position;
}

/// Largest quantity in lots that one order at price may have under max_order_qty_base and
/// order_notional_pct of equity; nothing when neither limit is set (no cap).
[[nodiscard]] std::optional<core::qty> largest_order_qty(const core::symbol_spec& spec,
                                                         const risk_limits& limits,
                                                         core::price price, double equity) noexcept;

/// The sliding windows the checker counts orders and cancels in: the order rate limits, the
/// cancel rate and the two sides of the cancel/trade ratio.
enum class rate_window : std::uint8_t {
    orders_per_s,
    orders_per_min,
    orders_per_day,
    cancels_per_s,
    ratio_cancels,
    ratio_fills,
};
inline constexpr std::size_t rate_window_count = 6;

/// Stable snake_case name ("orders_per_day"), as the state file writes it.
[[nodiscard]] std::string_view to_string(rate_window window) noexcept;
[[nodiscard]] std::optional<rate_window> rate_window_from(std::string_view name) noexcept;

/// What the rate windows remember: every bucket holding events, oldest first per window. Saved
/// with the engine's state so that the orders and cancels sent before a restart still count
/// against the limits after it (a restart must not reset max_orders_per_day). Fixed size: it
/// crosses to the state saver by copy.
struct rate_memory {
    struct bucket {
        core::timestamp_ns start = 0; ///< Start of the bucket, the clock the checker runs on.
        std::uint32_t events = 0;
        rate_window window = rate_window::orders_per_s;

        friend bool operator==(const bucket&, const bucket&) = default;
    };
    /// Every bucket of every window (21 + 61 + 25 + 21 + 61 + 61).
    static constexpr std::size_t max_buckets = 250;

    std::array<bucket, max_buckets> buckets{};
    std::size_t count = 0;

    friend bool operator==(const rate_memory&, const rate_memory&) = default;
};

/// The requests the session's rate limits count: new orders (max_new_orders_per_s,
/// max_new_orders_per_min, max_orders_per_day) and cancels (max_cancels_per_s). Several symbols'
/// checkers may count against one set (share_order_rates): the limits then hold for the requests
/// of every symbol together.
struct order_rate_windows {
    static constexpr core::duration_ns second = core::ns_per_s;
    static constexpr core::duration_ns minute = 60 * core::ns_per_s;
    static constexpr core::duration_ns day = 86'400 * core::ns_per_s;

    core::window_counter<20> per_s{second};
    core::window_counter<60> per_min{minute};
    core::window_counter<24> per_day{day};
    core::window_counter<20> cancels_per_s{second};

    /// One new order at now.
    void add(core::timestamp_ns now) noexcept {
        per_s.add(now);
        per_min.add(now);
        per_day.add(now);
    }
    /// add(now) right after every order window's count(now) at the same now
    /// (core::window_counter::add_counted).
    void add_counted() noexcept {
        per_s.add_counted();
        per_min.add_counted();
        per_day.add_counted();
    }
    /// Counts other's orders and cancels too, each in its own bucket
    /// (core::window_counter::absorb).
    void absorb(const order_rate_windows& other) noexcept {
        per_s.absorb(other.per_s);
        per_min.absorb(other.per_min);
        per_day.absorb(other.per_day);
        cancels_per_s.absorb(other.cancels_per_s);
    }
};

/// The most new orders the order rate limits of `limits` let through within `span`: a limit of
/// n a window lets n through in any window, so n for every whole window in the span and n more.
/// 0 when no order rate is limited.
[[nodiscard]] std::uint32_t most_new_orders_within(const risk_limits& limits,
                                                   core::duration_ns span) noexcept;

class pre_trade_checker {
public:
    /// The sink must outlive the checker.
    pre_trade_checker(const risk_limits& limits, rejection_sink& sink) noexcept;

    /// Checks one new order at time now; returns reject_reason::none when it may be sent, in
    /// which case it has been counted against the order rate limits. Hot path.
    [[nodiscard]] reject_reason check(const core::symbol_spec& spec, const order_request& order,
                                      const market_view& market, const account_view& account,
                                      core::timestamp_ns now) noexcept;

    /// Dry run of check() (engine::order_path_warmer): the same checks on scratch, a copy of
    /// this checker made here, whose rejections go nowhere. This checker records nothing: no
    /// rate-limit window, counter or rejection moves. scratch is the caller's (core thread).
    /// Hot path, no allocation.
    [[nodiscard]] reject_reason rehearse(const core::symbol_spec& spec, const order_request& order,
                                         const market_view& market, const account_view& account,
                                         core::timestamp_ns now,
                                         pre_trade_checker& scratch) const noexcept;

    /// Counts one cancel sent at now (for max_cancels_per_s and the cancel/trade ratio). Cancels
    /// are never refused, since only they take risk off the book; returns whether the cancels of
    /// the last second, this one included, are above max_cancels_per_s (the risk engine pauses).
    /// Shared windows count every symbol's cancels. Inline: on every cancel sent.
    [[nodiscard]] bool note_cancel(core::timestamp_ns now) noexcept {
        core::window_counter<20>& counted = counted_orders().cancels_per_s;
        counted.add(now);
        if (shared_orders_ != nullptr) {
            orders_.cancels_per_s.add(now);
        }
        ratio_cancels_.add(now);
        // cancel_rate_exceeded(now), on the window the add above moved to now.
        return cancel_rate_above(counted.counted());
    }
    /// Whether the cancels of the last second (every sharing symbol's) are above
    /// max_cancels_per_s.
    [[nodiscard]] bool cancel_rate_exceeded(core::timestamp_ns now) noexcept;

    /// Counts cancels that bypass the rate check (the kill switch's cancel-all) in the ratio.
    void note_cancels(core::timestamp_ns now, std::uint32_t count) noexcept;
    /// Counts a fill for the cancel/trade ratio.
    void note_fill(core::timestamp_ns now) noexcept;

    /// Mode the account is in: reduce (soft drawdown), flatten (inventory hard limit) or normal.
    [[nodiscard]] trading_mode mode(const core::symbol_spec& spec, const market_view& market,
                                    const account_view& account) const noexcept;

    void set_gate(order_gate gate) noexcept { gate_ = gate; }
    /// Whether reducing flatten orders may pass the killed gate (trigger_limits::flatten_on_kill).
    void set_flatten_on_kill(bool allowed) noexcept { flatten_on_kill_ = allowed; }
    [[nodiscard]] order_gate gate() const noexcept { return gate_; }

    /// Cancels per fill over the ratio window (0 below cancel_trade_min_cancels cancels).
    [[nodiscard]] double cancel_trade_ratio(core::timestamp_ns now) noexcept;

    /// Earliest time at which max_new_orders_per_s, _per_min and max_orders_per_day would all
    /// let one more order through, if no order passes before: every check() before it refuses a
    /// new order. The minimum timestamp when they would now. What holds a caller's new orders
    /// back instead of asking on every update (quote_manager), never later than needed.
    [[nodiscard]] core::timestamp_ns new_orders_admitted_at() const noexcept;

    /// Counts new orders and cancels against `shared` (nullptr: this checker's own windows
    /// again) from now on, so that the order-rate limits and max_cancels_per_s hold for every
    /// checker sharing it together. The orders and cancels this checker counted so far join it.
    /// Its own windows go on counting its own: they are what remembered_rates() saves, one
    /// symbol's share of the total. The cancel/trade ratio stays the symbol's own. Core thread
    /// only; `shared` must outlive the sharing.
    void share_order_rates(order_rate_windows* shared) noexcept;
    /// Whether the order-rate windows are shared (share_order_rates).
    [[nodiscard]] bool shares_order_rates() const noexcept { return shared_orders_ != nullptr; }

    /// The rate windows' buckets, for the state file: this checker's own orders, also when it
    /// shares its order-rate windows.
    [[nodiscard]] rate_memory remembered_rates() const noexcept;
    /// Puts back what remembered_rates() gave before a restart, into this checker's own windows
    /// and, when it shares them, into the shared order-rate windows too (so that the symbols'
    /// saved counts add up there). Call before the first order or cancel.
    void restore_rates(const rate_memory& memory) noexcept;

    /// Rejections so far with this reason.
    [[nodiscard]] std::uint64_t rejections(reject_reason reason) const noexcept {
        return rejections_[static_cast<std::size_t>(reason)];
    }
    [[nodiscard]] std::uint64_t total_rejections() const noexcept;
    [[nodiscard]] std::uint64_t passed() const noexcept { return passed_; }

    [[nodiscard]] const risk_limits& limits() const noexcept { return limits_; }

private:
    /// Counts and records a rejection; kept out of line so the passing path stays compact.
    [[gnu::cold, gnu::noinline]] reject_reason reject(reject_reason reason, double limit_value,
                                                      double actual_value,
                                                      const order_request& order,
                                                      core::timestamp_ns now) noexcept;

    risk_limits limits_;
    rejection_sink* sink_;
    order_gate gate_ = order_gate::open;
    bool flatten_on_kill_ = false;
    /// Whether `cancels` in the last second are above max_cancels_per_s.
    [[nodiscard]] bool cancel_rate_above(std::uint64_t cancels) const noexcept {
        return limits_.max_cancels_per_s != 0 && cancels > limits_.max_cancels_per_s;
    }
    /// The windows the rate limits read: shared_orders_ when shared, else orders_.
    [[nodiscard]] const order_rate_windows& counted_orders() const noexcept {
        return shared_orders_ != nullptr ? *shared_orders_ : orders_;
    }
    [[nodiscard]] order_rate_windows& counted_orders() noexcept {
        return shared_orders_ != nullptr ? *shared_orders_ : orders_;
    }

    order_rate_windows orders_; ///< This checker's own new orders and cancels.
    /// Several checkers' new orders and cancels, or none.
    order_rate_windows* shared_orders_ = nullptr;
    core::window_counter<60> ratio_cancels_;
    core::window_counter<60> ratio_fills_;
    std::uint64_t passed_ = 0;
    std::array<std::uint64_t, reject_reason_count> rejections_{};
};

} // namespace quoter::risk
