// risk_gate: an order_gateway decorator that runs every new order through
// risk::risk_engine::check_order before it reaches the venue gateway behind it, and feeds the
// risk engine what the venue answers.
//
// A refused order never leaves the process: the gate answers it with an exec reject report
// (reason exec::reject_reason::risk_refused; the risk reason is counted here and handed to the
// risk engine's rejection sink with the values that failed). The reject is queued and
// delivered on the next poll(), never from inside submit(), because callers such as
// exec::quote_manager record the order after submit() returns. Such an order is counted as
// refused, never as sent: orders_sent() counts only orders the venue gateway took.
//
// Cancels are never refused (only they take risk off the book, and a kill or a pause must get
// all of its cancels out). Each one is counted by risk_engine::on_cancel; a cancel rate above
// max_cancels_per_s pauses trading, which stops the quoting that caused it.
//
// Working orders. The gate keeps every order it sent until its terminal report (fixed
// capacity), with its side, unfilled quantity and expected fill price, and the fills since the
// owner last pushed its views. The checks see the owner's views with the position moved by those
// fills and the working quantity of each side at least what the gate knows: orders sent in one
// round, replacements sent from inside a report, and flatten orders all count toward
// risk::reduces_position even before the owner's next set_views.
//
// Venue answers. The gate sits between the venue gateway and the owner's report sink: every
// fill goes to risk_engine::on_fill (expected price: the touch at decision time for a taker
// order, i.e. IOC/FOK, flatten or marketable; the order's price for a resting one), every venue
// reject and cancel reject (classified by classify_venue_error), and every request the venue
// gateway could not send, to risk_engine::on_api_response (the API error storm), before the
// owner sees the report. Requests the venue gateway's own rate limiter held back (reason
// held_back, or gateway_error::rate_limited) are throttling, not errors, and are not counted:
// a strategy that wants more than the limits allow is slowed down, not killed; nor are new
// orders held while the venue gateway reconciles (gateway_error::reconciling). An owner that is
// handed the venue's reports by a router of its own takes them through deliver(), the same
// steps with its handler called directly.
//
// Replace in one request. When the venue gateway can (replaces_in_one_request()), replace()
// runs the new order through the same checks first, with the order it replaces still counted as
// working: until that order's terminal report both are (conservative), whatever the venue does
// with the cancel. A refused replacement is not sent: the old order is cancelled alone (as
// cancel-then-place would have cancelled it before its new order was refused) and the new one
// gets the refusal's reject on the next poll().
//
// The market and account views the checks use are pushed by the owner (set_views) before each
// round of quoting.
//
// Threading: core thread only. No allocation after construction, no exceptions.
#pragma once

#include "quoter/core/symbol_spec.hpp"
#include "quoter/core/tick_latency.hpp"
#include "quoter/exec/flattener.hpp"
#include "quoter/exec/order_gateway.hpp"
#include "quoter/exec/order_types.hpp"
#include "quoter/exec/quote_manager.hpp"
#include "quoter/risk/post_trade.hpp"
#include "quoter/risk/reasons.hpp"
#include "quoter/risk/risk_engine.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace quoter::engine {

/// What a risk gate sent and refused over its life, as summaries and reports count it.
struct gate_counts {
    std::uint64_t quote_orders_sent = 0;   ///< risk_gate::orders_sent(order_intent::quote)
    std::uint64_t flatten_orders_sent = 0; ///< risk_gate::orders_sent(order_intent::flatten)
    std::uint64_t risk_refusals = 0;       ///< risk_gate::risk_rejects()
    /// Refusals by reason (index: risk::reject_reason; `none` stays 0).
    std::array<std::uint64_t, risk::reject_reason_count> refusals_by_reason{};

    gate_counts& operator+=(const gate_counts& other) noexcept;
};

/// What the limits of a session's symbols judge together: the exposure of every symbol one
/// process trades, for the portfolio-level limit (risk_limits::portfolio_net_notional_pct), and
/// their new orders, for the order-rate limits. Each symbol's risk gate writes its own slot as
/// soon as its position, working orders or views move, and reads the others' at every check, so
/// that an order one symbol sent a moment ago counts in the next symbol's check. Shared by the
/// loops of one core thread only.
struct portfolio_exposure {
    static constexpr std::size_t max_symbols = 64;

    /// One symbol, quote asset at its mark.
    struct symbol_exposure {
        double position = 0.0;   ///< Signed position.
        double open_buys = 0.0;  ///< Unfilled quantity of the working buy orders.
        double open_sells = 0.0; ///< Unfilled quantity of the working sell orders.
        double equity = 0.0;     ///< The symbol's account equity.

        /// |net notional| once every working order of one side fills, the worse side.
        [[nodiscard]] double worst_net() const noexcept;
    };

    /// Sum of worst_net() over every symbol but `self`.
    [[nodiscard]] double others_worst_net(std::size_t self) const noexcept;
    /// Sum of the symbols' equity: what the portfolio limit is a percentage of.
    [[nodiscard]] double equity() const noexcept;

    std::array<symbol_exposure, max_symbols> symbols{};
    /// Slots in use.
    std::size_t count = 0;
    /// Every symbol's new orders: max_new_orders_per_s, max_new_orders_per_min and
    /// max_orders_per_day count them all (risk::pre_trade_checker::share_order_rates).
    risk::order_rate_windows new_orders;
};

/// The risk layer's view of an order request: what pre_trade_checker::check looks at.
[[nodiscard]] risk::order_request to_risk_order(const exec::order_request& request,
                                                std::uint16_t symbol_id,
                                                risk::order_intent intent) noexcept;

/// True when the order is expected to take liquidity: IOC/FOK, a flatten order, or a limit
/// price at or through the opposite touch without post-only.
[[nodiscard]] bool is_taker(const exec::order_request& request, const risk::market_view& market,
                            risk::order_intent intent) noexcept;

/// The price a fill of the order is expected at, decided when it is sent: the touch it takes
/// (best ask for a buy, best bid for a sell) for a taker order, its own price for a resting one.
[[nodiscard]] core::price expected_fill_price(const exec::order_request& request,
                                              const risk::market_view& market,
                                              risk::order_intent intent) noexcept;

/// How a venue reject or cancel reject counts for the API error storm. The routine answers of a
/// moving market are client errors (fed, not counted): a post-only order the book moved into, a
/// cancel that raced a fill or an expiry (unknown_order). too_many_open_orders and rate_limited
/// are the venue's limits. Every other reason refuses an order our own checks passed, which should
/// never happen: venue_reject (counted).
[[nodiscard]] risk::api_outcome classify_venue_error(const exec::exec_report& report) noexcept;

/// The risk layer's view of a fill report received at `received`, expected at expected_price
/// (see expected_fill_price).
[[nodiscard]] risk::fill_report to_risk_fill(const exec::exec_report& report,
                                             std::uint16_t symbol_id, core::timestamp_ns received,
                                             core::price expected_price) noexcept;

/// The next order of a flattener working on account.position, capped at what is left to close
/// once the working orders on the closing side fill (nothing while they cover the position: it
/// waits for them to end, e.g. for the cancels of a kill) and at the largest order the size
/// limits pass at the price it is sent at (through the touch). When flattening has just given up,
/// raises the critical flatten_gave_up alert (value: the position left, base asset; threshold: the
/// attempt budget) and stops the flattener.
[[nodiscard]] std::optional<exec::order_request>
next_flatten_order(exec::flattener& flattener, const core::symbol_spec& spec,
                   const risk::risk_limits& limits, const risk::account_view& account,
                   const risk::market_view& market, std::uint16_t symbol_id,
                   risk::alert_sink& alerts, core::timestamp_ns now) noexcept;

/// Sees every request that passes the gate (for the journal and ack timing).
class gate_listener {
public:
    /// A new order passed the checks and was handed to the venue gateway (accepted by it).
    virtual void on_order_sent(const exec::order_request& request, risk::order_intent intent,
                               core::timestamp_ns now) noexcept = 0;
    /// A cancel of one order was handed to the venue gateway.
    virtual void on_cancel_sent(exec::client_order_id id, core::timestamp_ns now) noexcept = 0;

protected:
    gate_listener() = default;
    gate_listener(const gate_listener&) = default;
    gate_listener& operator=(const gate_listener&) = default;
    ~gate_listener() = default;
};

class risk_gate final : public exec::order_gateway, private exec::exec_report_sink {
public:
    /// Refused orders waiting for poll(); more in one round are answered by the refusal of
    /// submit() itself (gateway_error::queue_full).
    static constexpr std::size_t reject_queue_capacity = 64;
    /// Orders sent and not yet terminal that the gate tracks; a new order beyond them is not
    /// sent (gateway_error::queue_full), since its risk could not be followed.
    static constexpr std::size_t working_capacity = 64;

    /// inner, risk and spec must outlive the gate. symbol_id is the id the risk engine and the
    /// journal know the symbol by; venue_symbol its index on the venue gateway, which its
    /// requests and reports carry (not always the same number).
    risk_gate(exec::order_gateway& inner, risk::risk_engine& risk, const core::symbol_spec& spec,
              std::uint16_t symbol_id, std::uint32_t venue_symbol) noexcept;

    void set_listener(gate_listener* listener) noexcept { listener_ = listener; }
    /// While set, the first order that passes the checks stamps risk_passed, and encoded when
    /// the venue gateway took it (tick-to-order latency); nullptr between ticks.
    void set_tick_stamps(core::tick_stamps* stamps) noexcept { stamps_ = stamps; }
    /// Views used by the next checks (ticks, lots and quote asset; see risk::pre_trade). The
    /// account must include every fill reported so far.
    void set_views(const risk::market_view& market, const risk::account_view& account) noexcept {
        market_ = market;
        account_ = account;
        fills_since_views_ = 0;
        publish_exposure();
    }
    /// set_views() for an owner whose views moved with the mark alone since it last pushed them:
    /// only the market and the account's figures valued at it (equity, unrealized PnL, equity
    /// peak, position price) are taken from account, the rest is as pushed last. On every book
    /// update, so that most of them copy a few fields rather than whole views.
    void set_revalued_views(const risk::market_view& market,
                            const risk::account_view& account) noexcept {
        market_ = market;
        account_.equity = account.equity;
        account_.unrealized_pnl = account.unrealized_pnl;
        account_.peak_equity = account.peak_equity;
        account_.position_price = account.position_price;
        fills_since_views_ = 0;
        publish_exposure();
    }
    /// The account the next check sees: the owner's view, moved by the fills since it was
    /// pushed, with at least the working quantity the gate knows on each side; with a
    /// portfolio, the other symbols' exposure and the portfolio's equity as they are now.
    [[nodiscard]] risk::account_view account() const noexcept;
    /// Joins the portfolio of several symbols as its slot `slot` (< max_symbols); nullptr:
    /// trades alone. The exposure must outlive the gate.
    void set_portfolio(portfolio_exposure* exposure, std::size_t slot) noexcept;
    [[nodiscard]] bool in_portfolio() const noexcept { return exposure_ != nullptr; }
    /// Joins the kill domain of several symbols (engine::kill_domain): `kill_pending`, shared by
    /// their gates, is set by note_kill() of any of them and cleared by the domain once the kill
    /// reached every symbol. While it is set, new orders other than flatten orders are refused as
    /// `killed`. nullptr: trades alone. It must outlive the gate.
    void set_domain_kill(bool* kill_pending) noexcept { domain_kill_ = kill_pending; }
    /// This symbol's kill engaged: the other symbols of its domain stop quoting at once, not
    /// when the kill reaches them.
    void note_kill() noexcept {
        if (domain_kill_ != nullptr) {
            *domain_kill_ = true;
        }
    }

    // order_gateway
    void set_report_sink(exec::exec_report_sink* sink) noexcept override;
    [[nodiscard]] exec::gateway_error submit(const exec::order_request& request,
                                             core::timestamp_ns now) noexcept override;
    [[nodiscard]] exec::gateway_error cancel(std::uint32_t symbol, exec::client_order_id id,
                                             core::timestamp_ns now) noexcept override;
    [[nodiscard]] exec::gateway_error cancel_all(std::uint32_t symbol,
                                                 core::timestamp_ns now) noexcept override;
    [[nodiscard]] bool replaces_in_one_request() const noexcept override {
        return inner_.replaces_in_one_request();
    }
    /// When the pre-trade order-rate windows (orders per second, minute, day) have room again.
    [[nodiscard]] core::timestamp_ns new_orders_held_until() const noexcept override {
        return risk_.checker().new_orders_admitted_at();
    }
    [[nodiscard]] bool kill_unconfirmed(std::uint32_t symbol) const noexcept override {
        return inner_.kill_unconfirmed(symbol);
    }
    /// The new order passes the checks (the old one counted as working), then both go out in
    /// one request; refused: the old order is cancelled alone (see above).
    [[nodiscard]] exec::gateway_error replace(std::uint32_t symbol, exec::client_order_id old_id,
                                              const exec::order_request& request,
                                              core::timestamp_ns now) noexcept override;
    /// Sends a flatten order (risk::order_intent::flatten): the same checks, except that a
    /// reducing flatten order may pass a kill when flatten_on_kill is set.
    [[nodiscard]] exec::gateway_error submit_flatten(const exec::order_request& request,
                                                     core::timestamp_ns now) noexcept {
        return submit_checked(request, now, risk::order_intent::flatten);
    }
    /// Dry run of submit() (order_path_warmer): the pre-trade checks on the would-be order
    /// (risk_engine::rehearse_order, on scratch) and the venue gateway's rehearse_submit. Records
    /// nothing: no counter, working order, refusal, listener call, tick stamp or risk state
    /// moves, and nothing is sent.
    struct rehearsal {
        risk::reject_reason reason = risk::reject_reason::none; ///< The checks' verdict.
        bool encoded = false; ///< The venue gateway encoded it (rehearse_submit).
    };
    /// replaces: the order the request would replace (the venue gateway then rehearses the
    /// replace: order.cancelReplace where it sends one), or none (a new order).
    [[nodiscard]] rehearsal rehearse(const exec::order_request& request, core::timestamp_ns now,
                                     risk::pre_trade_checker& scratch,
                                     exec::client_order_id replaces = {}) const noexcept;

    /// Delivers the queued refusals, then the venue gateway's reports due by now. Inline: the
    /// owner polls on every event, and there are refusals to deliver only now and then.
    std::size_t poll(core::timestamp_ns now) noexcept override {
        return reject_count_ == 0 ? inner_.poll(now) : deliver_refusals(now);
    }

    /// A venue report on its way through the gate to `owner` (a callable taking the report)
    /// instead of the report sink: for the owner that is the gate's sink and is handed the venue
    /// gateway's reports by a router that knows it (core_loop::take_venue_report). The same as
    /// the venue gateway calling the gate, which runs this with the sink as owner; inline, so
    /// that the owner's handler is called directly.
    template <typename Owner>
    void deliver(const exec::exec_report& report, Owner&& owner) noexcept {
        const admission admitted = admit(report);
        if (!admitted.deliver) [[unlikely]] {
            return;
        }
        owner(report);
        if (admitted.ended != nullptr) {
            forget(report.client_id.value, admitted.ended);
        }
    }

    /// Fill reports of a trade already counted (the same trade id told again), dropped before
    /// the account, the checks and the owner see them.
    [[nodiscard]] std::uint64_t duplicate_fills() const noexcept { return duplicate_fills_; }
    /// Orders refused by the risk checks, in total and by reason.
    [[nodiscard]] std::uint64_t risk_rejects() const noexcept { return risk_rejects_; }
    [[nodiscard]] std::uint64_t risk_rejects(risk::reject_reason reason) const noexcept {
        return by_reason_[static_cast<std::size_t>(reason)];
    }
    /// The counts above and orders_sent() of both intents together.
    [[nodiscard]] gate_counts counts() const noexcept;
    /// Reason of the latest refusal (none before the first).
    [[nodiscard]] risk::reject_reason last_reason() const noexcept { return last_reason_; }
    /// Orders that passed the checks and were sent.
    [[nodiscard]] std::uint64_t orders_passed() const noexcept { return passed_; }
    /// Orders of one intent that passed the checks and that the venue gateway took (risk
    /// refusals and gateway errors excluded): what a summary reports as sent.
    [[nodiscard]] std::uint64_t orders_sent(risk::order_intent intent) const noexcept {
        return sent_[static_cast<std::size_t>(intent)];
    }
    /// Orders sent and not yet terminal, and their unfilled quantity on one side (lots).
    [[nodiscard]] std::size_t working_orders() const noexcept { return working_count_; }
    /// Of those, the ones on one side (a walk over them: for status, not the hot path).
    [[nodiscard]] std::size_t working_orders(core::side side) const noexcept {
        return static_cast<std::size_t>(
            std::count_if(working_.begin(), working_.begin() + working_count_,
                          [side](const working_order& order) { return order.side == side; }));
    }
    [[nodiscard]] core::qty working_qty(core::side side) const noexcept {
        return core::qty{working_lots_[side == core::side::buy ? 0 : 1]};
    }

private:
    /// An order the gate sent, until its terminal report.
    struct working_order {
        std::uint64_t id = 0;
        std::int64_t leaves = 0; ///< Lots not yet filled (0 once terminal).
        core::price expected;    ///< Expected fill price (see expected_fill_price).
        core::side side = core::side::buy;
    };

    // exec_report_sink: the venue gateway's reports, on their way to the owner's sink.
    void on_exec_report(const exec::exec_report& report) noexcept override;
    /// Each failed request is an API error toward api_error_storm_count.
    void on_venue_failures(std::uint32_t count, core::timestamp_ns now) noexcept override;
    /// What a venue report did to the gate before the owner sees it (see deliver()).
    struct admission {
        /// The working order the report ended, forgotten once the owner has seen the report.
        working_order* ended = nullptr;
        bool deliver = true; ///< False: a fill of a trade counted already, dropped here.
    };
    /// The gate's part of a venue report before the owner's: the checks' state and the risk
    /// engine follow it. Inline for the reports that come most, the ack or the cancel of an
    /// order the gate knows, which only look their order up: what admit_report() does with them.
    [[nodiscard]] admission admit(const exec::exec_report& report) noexcept {
        const bool cancelled = report.kind == exec::exec_kind::cancelled;
        if (cancelled || report.kind == exec::exec_kind::ack) [[likely]] {
            if (working_order* const order = find(report.client_id.value); order != nullptr) {
                if (cancelled) {
                    set_leaves(*order, 0); // no longer working, even for a replacement
                }
                publish_exposure();
                return {.ended = cancelled ? order : nullptr, .deliver = true};
            }
        }
        return admit_report(report);
    }
    /// admit() of every report.
    [[nodiscard]] admission admit_report(const exec::exec_report& report) noexcept;
    /// Forgets the order a terminal report ended. The owner may have added orders behind it,
    /// never moved it, unless a report it caused already did (then it is looked up again).
    void forget(std::uint64_t id, working_order* order) noexcept {
        if (order->id != id) {
            order = find(id);
        }
        if (order != nullptr) {
            *order = working_[--working_count_];
        }
    }

    /// poll() with refusals queued: delivers them, then polls the venue gateway.
    std::size_t deliver_refusals(core::timestamp_ns now) noexcept;
    [[nodiscard]] exec::gateway_error submit_checked(const exec::order_request& request,
                                                     core::timestamp_ns now,
                                                     risk::order_intent intent) noexcept;
    /// Tracks an order the inner gateway took as working (submit or replace) and tells the
    /// listener.
    void record_sent(const exec::order_request& request, risk::order_intent intent,
                     core::price expected, core::timestamp_ns now) noexcept;
    /// Counts a refusal and queues its reject for the next poll().
    void note_send_error(exec::gateway_error error, core::timestamp_ns now) noexcept;
    [[nodiscard]] exec::gateway_error refuse(const exec::order_request& request,
                                             risk::reject_reason reason,
                                             core::timestamp_ns now) noexcept;
    [[nodiscard]] working_order* find(std::uint64_t id) noexcept {
        for (std::size_t i = 0; i < working_count_; ++i) {
            if (working_[i].id == id) {
                return &working_[i];
            }
        }
        return nullptr;
    }
    /// Sets an order's unfilled quantity, keeping working_lots_.
    void set_leaves(working_order& order, std::int64_t leaves) noexcept {
        working_lots_[order.side == core::side::buy ? 0 : 1] += leaves - order.leaves;
        order.leaves = leaves;
    }
    /// The owner's view, moved by the fills since it was pushed, with at least the working
    /// quantity the gate knows on each side: this symbol alone.
    [[nodiscard]] risk::account_view own_account() const noexcept;
    /// Writes this symbol's slot of the portfolio exposure (nothing when trading alone).
    void publish_exposure() noexcept {
        if (exposure_ != nullptr) {
            write_exposure();
        }
    }
    void write_exposure() noexcept;

    exec::order_gateway& inner_;
    risk::risk_engine& risk_;
    const core::symbol_spec& spec_;
    std::uint16_t symbol_id_;
    std::uint32_t venue_symbol_;
    exec::exec_report_sink* sink_ = nullptr;
    gate_listener* listener_ = nullptr;
    core::tick_stamps* stamps_ = nullptr;
    risk::market_view market_{};
    risk::account_view account_{};
    std::int64_t fills_since_views_ = 0; ///< Signed lots filled since set_views.
    std::array<working_order, working_capacity> working_{};
    std::size_t working_count_ = 0;
    /// Sum of the working orders' leaves per side (buy, sell), lots.
    std::array<std::int64_t, 2> working_lots_{};
    std::array<std::uint64_t, 2> sent_{}; ///< By risk::order_intent.
    std::array<exec::exec_report, reject_queue_capacity> rejects_{};
    std::size_t reject_count_ = 0;
    std::uint64_t risk_rejects_ = 0;
    std::uint64_t passed_ = 0;
    exec::recent_trade_ids trade_ids_; ///< This symbol's latest trade ids.
    std::uint64_t duplicate_fills_ = 0;
    risk::reject_reason last_reason_ = risk::reject_reason::none;
    std::array<std::uint64_t, risk::reject_reason_count> by_reason_{};
    portfolio_exposure* exposure_ = nullptr;
    std::size_t exposure_slot_ = 0;
    double lot_value_ = 0.0;      ///< One lot at the last mark (the mid), quote asset.
    bool* domain_kill_ = nullptr; ///< See set_domain_kill().

    /// The pre-trade verdict on a new order: `killed` while another symbol's kill has not
    /// reached this one (flatten orders excepted), else the risk engine's checks.
    [[nodiscard]] risk::reject_reason check_new_order(const exec::order_request& request,
                                                      risk::order_intent intent,
                                                      core::timestamp_ns now) noexcept;
};

} // namespace quoter::engine
