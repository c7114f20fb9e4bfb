// risk_engine: the one object the core talks to about risk. It runs the pre-trade checks, owns
// the kill switch, watches the automatic triggers and feeds the post-trade alarms.
//
// Triggers and what they do:
//   daily loss, hard drawdown, inventory kill   -> kill; the condition, re-evaluated by every
//                                                  on_account call, blocks resume while it holds
//   API error storm (429/418/5xx/timeouts,      -> kill once api_error_storm_count fall within
//   venue rejects of orders our checks passed,     api_error_window_ms; blocks resume until the
//   requests the gateway could not send)           window has slid past them (poll)
//   stale market data                           -> pause while no update for stale_market_data_ms
//                                                  (poll); resumes by itself on the next update
//   resync                                      -> pause while the book resynchronises
//   cancels above max_cancels_per_s             -> pause while the last second holds more
//                                                  (poll); resumes by itself. Cancels are never
//                                                  refused, so a kill or pause always gets its
//                                                  cancels out; the pause stops the quoting that
//                                                  caused them.
//   slippage beyond max_slippage_ticks          -> kill (an event: resume allowed at once)
//   ack slower than max_ack_delay_ms            -> kill; an order still unacknowledged after it
//                                                  (poll) blocks resume until acknowledged
//   fill later than max_fill_delay_ms           -> kill (an event)
//
// The trading day. "Daily" loss is counted from the start of the trading day, which begins at
// risk_limits::daily_reset_utc_minute after 00:00 UTC (times are ns since the Unix epoch). The
// first day starts at process start: until the first reset the account views' own figures
// (realized_pnl_today, day_start_equity) are used. At each reset, on_account anchors the day:
// the realized + unrealized PnL it is given becomes the zero of the day's PnL and its equity the
// start-of-day equity; check_order and on_account judge the daily loss against that anchor.
//
// Thread ownership: core thread only. Time is always passed in (injected clock).
#pragma once

#include "quoter/core/symbol_spec.hpp"
#include "quoter/core/time.hpp"
#include "quoter/core/window_counter.hpp"
#include "quoter/risk/alert.hpp"
#include "quoter/risk/kill_switch.hpp"
#include "quoter/risk/limits.hpp"
#include "quoter/risk/post_trade.hpp"
#include "quoter/risk/pre_trade.hpp"

#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>

namespace quoter::risk {

/// Outcome of one exchange API request, for the error-storm trigger.
enum class api_outcome : std::uint8_t {
    ok,
    client_error, ///< Other 4xx: the request was wrong, not the exchange overloaded.
    rate_limited, ///< HTTP 429.
    banned,       ///< HTTP 418 (IP ban after ignoring 429s).
    server_error, ///< HTTP 5xx.
    timeout,      ///< No response in time, or the connection dropped.
    venue_reject, ///< The venue refused an order or a cancel that passed our own checks.
    send_failed,  ///< The gateway could not send a request (queue full, rate limit, no session).
};

[[nodiscard]] std::string_view to_string(api_outcome outcome) noexcept;

/// Maps an HTTP status to an outcome; status <= 0 means no response (timeout).
[[nodiscard]] constexpr api_outcome classify_http_status(int status) noexcept {
    if (status <= 0) {
        return api_outcome::timeout;
    }
    if (status == 429) {
        return api_outcome::rate_limited;
    }
    if (status == 418) {
        return api_outcome::banned;
    }
    if (status >= 500) {
        return api_outcome::server_error;
    }
    return status >= 400 ? api_outcome::client_error : api_outcome::ok;
}

/// True for the outcomes the error-storm trigger counts: everything but ok and other 4xx.
[[nodiscard]] constexpr bool counts_toward_storm(api_outcome outcome) noexcept {
    return outcome != api_outcome::ok && outcome != api_outcome::client_error;
}

/// poll() argument when no order is waiting for an acknowledgement.
inline constexpr core::timestamp_ns no_pending_ack = std::numeric_limits<core::timestamp_ns>::max();

/// Symbols tracked separately for the inventory kill condition; ids at or above share the last.
inline constexpr std::size_t tracked_symbols = 64;

class risk_engine {
public:
    /// actions, alerts and rejections must outlive the engine.
    risk_engine(const risk_config& config, engine_actions& actions, alert_sink& alerts,
                rejection_sink& rejections) noexcept;
    risk_engine(const risk_engine&) = delete;
    risk_engine& operator=(const risk_engine&) = delete;

    // Orders.
    /// Pre-trade check of one new order (see pre_trade_checker::check). A daily-loss, drawdown or
    /// inventory-kill rejection also engages the kill switch. Hot path: inline, so that the
    /// caller calls the checks themselves.
    [[nodiscard]] reject_reason check_order(const core::symbol_spec& spec,
                                            const order_request& order, const market_view& market,
                                            const account_view& account,
                                            core::timestamp_ns now) noexcept {
        follow_shared_cancels(now);
        // today() copies the view only once a new day re-anchored it.
        const reject_reason reason = day_anchored_
                                         ? checker_.check(spec, order, market, today(account), now)
                                         : checker_.check(spec, order, market, account, now);
        if (reason == reject_reason::none) [[likely]] {
            post_trade_.on_new_order(now);
        } else {
            on_refused(order, reason, now);
        }
        return reason;
    }
    /// Dry run of check_order (engine::order_path_warmer): the same checks on scratch (see
    /// pre_trade_checker::rehearse); nothing is counted or recorded and the kill switch, the
    /// alarms and the rate limits are left as they are. Hot path.
    [[nodiscard]] reject_reason rehearse_order(const core::symbol_spec& spec,
                                               const order_request& order,
                                               const market_view& market,
                                               const account_view& account, core::timestamp_ns now,
                                               pre_trade_checker& scratch) const noexcept {
        return checker_.rehearse(spec, order, market, today(account), now, scratch);
    }
    /// One cancel about to be sent. Never refused; counted for the cancel rate and the ratios. A
    /// rate above max_cancels_per_s pauses trading (halt_reason::cancel_rate) until poll() sees
    /// it back at or below the limit. Returns whether the rate is above the limit. Hot path:
    /// inline, as check_order.
    bool on_cancel(core::timestamp_ns now) noexcept {
        post_trade_.on_cancels(now, 1);
        const bool exceeded = checker_.note_cancel(now);
        if (exceeded && !switch_.condition_active(halt_reason::cancel_rate)) [[unlikely]] {
            switch_.set_condition(halt_reason::cancel_rate, true, now);
        }
        return exceeded;
    }
    /// The session's cancel rate, when the order-rate windows are shared: other symbols'
    /// cancels count there too and pause this one as well (halt_reason::cancel_rate) as soon
    /// as the rate is above max_cancels_per_s, not at this symbol's next cancel. poll() and
    /// check_order() call it; call it also before quoting. Inline: one branch without sharing.
    void follow_shared_cancels(core::timestamp_ns now) noexcept {
        if (checker_.shares_order_rates()) [[unlikely]] {
            follow_shared_cancel_rate(now);
        }
    }
    /// Cancels sent without on_cancel (the kill switch's cancel-all), for the ratios.
    void on_cancels_sent(core::timestamp_ns now, std::uint32_t count) noexcept;

    // Market data.
    /// A consistent book update arrived: the feed is alive. Inline: called on every book.
    void on_market_data(core::timestamp_ns now) noexcept {
        last_market_data_ = now;
        has_market_data_ = true;
        if (switch_.condition_active(halt_reason::stale_market_data)) [[unlikely]] {
            switch_.set_condition(halt_reason::stale_market_data, false, now);
        }
    }
    /// The book is (or no longer is) resynchronising.
    void on_resync(bool resyncing, core::timestamp_ns now) noexcept;

    // Account.
    /// Re-evaluates the loss, drawdown and inventory kill conditions for one symbol's view; the
    /// first call of a new trading day anchors the day (see the header comment). Inline: called
    /// on every book; the kill switch is reached (out of line) only when a verdict may change.
    void on_account(const core::symbol_spec& spec, std::uint16_t symbol_id,
                    const market_view& market, const account_view& account,
                    core::timestamp_ns now) noexcept {
        // Still the current day (the common case): no call. The range is empty until roll_day()
        // sets the first day, so it also stands for has_day_.
        if (now < day_begin_ns_ || now >= day_end_ns_) [[unlikely]] {
            roll_day(account, now);
        }
        // Until a reset anchors the day the views' own figures hold; day_pnl_base_ is 0.0 until
        // then, and subtracting 0.0 leaves every double as it was.
        const exposure e =
            measure(spec, market, account.realized_pnl_today - day_pnl_base_,
                    day_anchored_ ? day_start_equity_ : account.day_start_equity, account);
        const bool daily_loss = e.daily_loss_above(daily_loss_limit_);
        const bool drawdown_hard = e.drawdown_above(drawdown_hard_limit_);
        reducing_ = e.drawdown_above(drawdown_soft_limit_);
        const bool valued = e.mid > 0.0; // an empty book cannot value the position
        // Clearing a condition that is not set changes nothing: every limit holding, with none
        // of their conditions active and no symbol in breach, leaves everything as it is. The
        // inventory verdict counts only where the book values the position; apply() leaves a
        // breach as it is where the book does not.
        if (daily_loss || drawdown_hard || switch_.condition_active(halt_reason::daily_loss) ||
            switch_.condition_active(halt_reason::drawdown_hard) ||
            switch_.condition_active(halt_reason::inventory_kill) || inventory_breaches_ != 0 ||
            (valued && e.inventory_above(inventory_kill_limit_))) [[unlikely]] {
            apply({.daily_loss = daily_loss,
                   .drawdown_hard = drawdown_hard,
                   .valued = valued,
                   .inventory_kill = e.inventory_above(inventory_kill_limit_)},
                  symbol_id, now);
        }
    }

    // Exchange.
    void on_api_response(api_outcome outcome, core::timestamp_ns now) noexcept;
    /// An acknowledgement for an order sent at `sent` arrived at `acked`.
    void on_ack(core::timestamp_ns sent, core::timestamp_ns acked) noexcept;
    void on_fill(const fill_report& fill) noexcept;
    /// PnL attributed to a trade (see post_trade_monitor::on_trade_outcome).
    void on_trade_outcome(core::side side, double pnl, core::timestamp_ns now) noexcept;

    /// Time-driven checks: stale market data, error-storm expiry, unacknowledged orders, ratio
    /// alarms. Call once per core loop iteration or at least every few milliseconds.
    /// oldest_unacked_sent: send time of the oldest order still waiting for an acknowledgement.
    /// Inline: the loop polls on every iteration; the conditions are reached (out of line) only
    /// when one may change.
    void poll(core::timestamp_ns now,
              core::timestamp_ns oldest_unacked_sent = no_pending_ack) noexcept {
        const bool stale = has_market_data_ && now - last_market_data_ > stale_after_ns_;
        const bool overdue =
            oldest_unacked_sent != no_pending_ack && now - oldest_unacked_sent > ack_overdue_ns_;
        if (stale || overdue || switch_.condition_active(halt_reason::cancel_rate) ||
            switch_.condition_active(halt_reason::api_error_storm) ||
            switch_.condition_active(halt_reason::ack_delay)) [[unlikely]] {
            poll_conditions(now, oldest_unacked_sent);
        }
        follow_shared_cancels(now);
        post_trade_.poll(now);
    }

    // Manual control.
    bool trigger_kill_switch(halt_reason reason, core::timestamp_ns now) noexcept {
        return switch_.trigger_kill_switch(reason, now);
    }
    void pause(core::timestamp_ns now) noexcept { switch_.pause(now); }
    resume_result resume(core::timestamp_ns now) noexcept { return switch_.resume(now); }
    /// Whether the venue has yet to confirm the cancel-all of the kill that holds: a resume is
    /// refused (halt_reason::kill_unconfirmed) while it has not. Only a kill holds it: outside
    /// one it would itself kill, so it is cleared and nothing else.
    void set_kill_unconfirmed(bool unconfirmed, core::timestamp_ns now) noexcept {
        switch_.set_condition(halt_reason::kill_unconfirmed,
                              unconfirmed && state() == trading_state::killed, now);
    }

    // State.
    [[nodiscard]] trading_state state() const noexcept { return switch_.state(); }
    /// The drawdown from the equity peak was past drawdown_soft_pct at the last on_account():
    /// reduce mode, in which only orders that reduce the position pass the pre-trade checks
    /// and the strategy widens its spread by reduce_spread_multiplier.
    [[nodiscard]] bool reducing() const noexcept { return reducing_; }
    [[nodiscard]] trading_mode mode(const core::symbol_spec& spec, const market_view& market,
                                    const account_view& account) const noexcept {
        return checker_.mode(spec, market, account);
    }
    [[nodiscard]] const kill_switch& switch_state() const noexcept { return switch_; }
    [[nodiscard]] const pre_trade_checker& checker() const noexcept { return checker_; }
    [[nodiscard]] const post_trade_monitor& alarms() const noexcept { return post_trade_; }
    [[nodiscard]] const risk_config& config() const noexcept { return config_; }
    /// The account as the daily-loss limit sees it: realized_pnl_today and day_start_equity
    /// counted from the start of the current trading day.
    [[nodiscard]] account_view today(const account_view& account) const noexcept;
    /// Index of the current trading day (days since the epoch, shifted by the reset time);
    /// nothing before the first on_account.
    [[nodiscard]] std::optional<std::int64_t> trading_day() const noexcept {
        return has_day_ ? std::optional<std::int64_t>(day_) : std::nullopt;
    }
    /// Puts back the trading day saved before a restart: day (a trading_day() index) starts
    /// anchored at pnl_base (realized + unrealized PnL at its start, as the account views count
    /// it) and start_equity, so a daily loss made before the restart still counts. When the
    /// first on_account falls on a later day, that day starts as usual. Call before it.
    void restore_day(std::int64_t day, double pnl_base, double start_equity) noexcept {
        has_day_ = true;
        set_day(day); // its bounds too: an update within it then finds it without a division
        day_anchored_ = true;
        day_pnl_base_ = pnl_base;
        day_start_equity_ = start_equity;
    }

    /// restore_day for the state a save made at saved_ns holds: its day is the one saved_ns
    /// falls in by this engine's reset time. The saved day index was counted with the reset time
    /// of the run that saved it, which may have changed since; the day the save falls in keeps
    /// the saved anchor and every loss since, even one made before this day began by the new
    /// reset time.
    void restore_day_saved_at(core::timestamp_ns saved_ns, double pnl_base,
                              double start_equity) noexcept;

    /// The account was counted afresh after restore_day: a live restart adopts the venue's
    /// holdings, and its PnL starts again at pnl_now (realized + unrealized, as the account views
    /// count it) with equity_now. The day's PnL so far becomes equity_now minus the restored
    /// start-of-day equity, so a loss made earlier that day still counts against the daily
    /// limit. Nothing when no day was restored (or one has started since).
    void rebase_day(double pnl_now, double equity_now) noexcept {
        if (day_anchored_ && day_start_equity_ > 0.0) {
            day_pnl_base_ = pnl_now - (equity_now - day_start_equity_);
        }
    }

    /// Money from outside the account (a deposit) raised the equity by `amount`: a day anchored
    /// by a reset starts that much higher, so its loss limit stays a share of the money at stake.
    void add_capital(double amount) noexcept {
        if (day_anchored_) {
            day_start_equity_ += amount;
        }
    }

    /// Puts back the order and cancel counts of the rate windows saved before a restart
    /// (pre_trade_checker::restore_rates). Call before the first order.
    void restore_rates(const rate_memory& memory) noexcept { checker_.restore_rates(memory); }
    /// New orders count against `shared` for the order-rate limits
    /// (pre_trade_checker::share_order_rates); nullptr: against this engine's own again.
    void share_order_rates(order_rate_windows* shared) noexcept {
        checker_.share_order_rates(shared);
    }

private:
    /// on_account()'s verdicts for one view.
    struct account_verdicts {
        bool daily_loss = false;
        bool drawdown_hard = false;
        bool valued = false; ///< The book values the position: the inventory verdict counts.
        bool inventory_kill = false;
    };
    /// on_account() once a verdict may change the kill switch's conditions.
    [[gnu::noinline]] void apply(const account_verdicts& verdicts, std::uint16_t symbol_id,
                                 core::timestamp_ns now) noexcept;
    /// follow_shared_cancels() with sharing: sets the cancel-rate pause while the shared window
    /// is above the limit (poll_conditions() lifts it).
    [[gnu::noinline]] void follow_shared_cancel_rate(core::timestamp_ns now) noexcept;
    /// poll()'s conditions, once one may change.
    [[gnu::noinline]] void poll_conditions(core::timestamp_ns now,
                                           core::timestamp_ns oldest_unacked_sent) noexcept;
    /// check_order()'s part of a refusal: a daily-loss, drawdown or inventory-kill one engages
    /// the kill switch.
    [[gnu::noinline]] void on_refused(const order_request& order, reject_reason reason,
                                      core::timestamp_ns now) noexcept;
    void set_inventory_breach(std::uint16_t symbol_id, bool breached,
                              core::timestamp_ns now) noexcept;
    /// Starts a new trading day when now is past the current one's end.
    void roll_day(const account_view& account, core::timestamp_ns now) noexcept;
    /// Makes day (a trading_day() index) the current one, with its [begin, end) in ns.
    void set_day(std::int64_t day) noexcept;

    risk_config config_;
    /// The limits on_account() checks on every book update.
    armed_pct daily_loss_limit_{config_.limits.daily_loss_pct};
    armed_pct drawdown_hard_limit_{config_.limits.drawdown_hard_pct};
    armed_pct drawdown_soft_limit_{config_.limits.drawdown_soft_pct};
    /// The soft drawdown was past its limit at the last on_account() (see reducing()).
    bool reducing_ = false;
    armed_pct inventory_kill_limit_{config_.limits.inventory_kill_pct};
    pre_trade_checker checker_;
    kill_switch switch_;
    post_trade_monitor post_trade_;
    core::window_counter<50> api_errors_;
    /// stale_market_data_ms and max_ack_delay_ms in ns; the largest duration when disabled (0).
    core::duration_ns stale_after_ns_ = 0;
    core::duration_ns ack_overdue_ns_ = 0;
    core::timestamp_ns last_market_data_ = 0;
    bool has_market_data_ = false;
    std::uint64_t inventory_breaches_ = 0; ///< Bit per tracked symbol.
    std::int64_t day_ = 0;                 ///< Current trading day (valid when has_day_).
    core::timestamp_ns day_begin_ns_ = 0;  ///< [begin, end) of the current trading day.
    core::timestamp_ns day_end_ns_ = 0;
    bool has_day_ = false;
    bool day_anchored_ = false; ///< A reset happened: the fields below replace the views'.
    /// realized + unrealized PnL at the start of the day; 0.0 until day_anchored_.
    double day_pnl_base_ = 0.0;
    double day_start_equity_ = 0.0;
};

} // namespace quoter::risk
