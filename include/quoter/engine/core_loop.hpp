// core_loop: the core thread's trading loop, driven by md_events, shared by paper trading on
// live data and backtests on recorded data.
//
// Per md_event (time `now` is the caller's clock: capture timestamps in a backtest, the local
// clock live):
//   1. the event's sequence is checked (see below);
//   2. the simulated exchange (when one is attached) gets the book sides and trade prints, in
//      trading lots; a valid book becomes the market view and the account is marked to its mid;
//   3. the gate delivers the reports due by now, so any order they trigger meets the current
//      book;
//   4. the risk engine sees the market data and the account;
//   5. the strategy sees the book (and trades) and computes desired quotes, which drive the
//      quote manager through the risk gate (exec::order_gateway decorator running
//      risk_engine::check_order on every new order).
// Reports pass the risk gate, then reach the quote manager, then the loop itself: account
// (fills), risk (acks, fills) and the journal when one is attached. The gate's sink is the loop,
// which hands each report to the quote manager first; a driver that routes the venue's reports
// itself (the synthetic run) hands them to take_venue_report(), the same path in direct calls.
//
// Venue holdings: a fill whose venue time (exec_report::venue_time_ms) the holdings adopted from
// the venue already hold (hold_fills_through) is counted and journaled but moves no position or
// money; every other fill is recorded with its venue time for the next adoption
// (portfolio/holdings_timeline.hpp).
//
// Fills: the loop refreshes the risk views (position, open orders, equity) on every fill, and
// the quote manager places nothing from quotes computed before it; after the reports of an
// event or a poll the loop requotes from the strategy with the post-fill position, so a
// replacement is priced and sized for the new inventory and checked against it.
//
// Views: the risk gate's market and account views (position, working quantities, equity, PnL)
// are refreshed when the top of book moves (a new mark), at once on every fill, and before the
// next check or quote when a report or a sent request may have moved the working orders; an
// event that changes none of these reuses them, since they would come out the same. Only what
// moved is computed again: a mark revalues the account, a report or a request counts the
// working orders again; the position and the day's PnL move only with fills (and a restore or
// added capital), which rebuild everything. The quote manager's working orders change only
// through its reports and the requests it sends through the gate, both of which pass here: the
// same count gives the oldest order waiting for its acknowledgement (the ack-delay trigger).
//
// Feed state: any book that is not synced and valid (connecting, syncing, resyncing, stale)
// pauses trading through risk_engine::on_resync (the kill switch pulls the quotes); the next
// synced, valid book resumes it by itself.
//
// Sequence: the publisher numbers each symbol's events (md_event::symbol_sequence, from 1). A
// hole (events lost between the md thread and the core, e.g. a full ring) may have hidden a
// resyncing or stale state, so it is treated as stale data: trading pauses as above until the
// next synced, valid book event. Events numbered 0 are not checked.
//
// Cancels: the quote manager's retry_cancels() runs on every event and poll, so a cancel the
// gateway refused or the venue rejected is retried until every order is confirmed gone, with or
// without market data; when it gives up on an order the loop raises a critical
// cancel_gave_up alert.
//
// Kill with flatten_on_kill: after the cancel-all, the loop closes the position with IOC
// reducing orders (exec::flattener) sent through the risk gate as flatten orders, one at a time,
// on every event and poll until the position is zero, dust, or the attempts run out; a resume
// stops it. Their reports reach the account and the journal like any other order's.
//
// Control: poll() checks the control channel's kill flag (one relaxed load) and drains its
// command ring; call it on every loop iteration, with or without an event, so that a kill never
// waits for market data. kill → trigger_kill_switch(manual_kill); pause/resume → the risk
// engine; quit → cancel everything and report stop_requested().
//
// Quantities: md_event sizes are book lots (md::instrument::book_spec); the exchange and the
// account use trading lots. Book and trade sizes are converted rounding down, so simulated fills
// are never larger than the venue's: a level smaller than one trading lot keeps its price (it
// still defines the touch and post-only crossing) with size 0, and a smaller print fills
// nothing.
//
// Threading: one thread (the core thread) owns the loop and everything attached to it. No
// allocation, no locks, no exceptions after construction.
#pragma once

#include "quoter/core/book_level.hpp"
#include "quoter/core/symbol_spec.hpp"
#include "quoter/core/time.hpp"
#include "quoter/engine/order_path_warmer.hpp"
#include "quoter/engine/risk_gate.hpp"
#include "quoter/exec/flattener.hpp"
#include "quoter/exec/order_gateway.hpp"
#include "quoter/exec/quote_manager.hpp"
#include "quoter/exec/sim_exchange.hpp"
#include "quoter/md/instrument.hpp"
#include "quoter/md/md_event.hpp"
#include "quoter/ops/control.hpp"
#include "quoter/ops/journal.hpp"
#include "quoter/portfolio/account.hpp"
#include "quoter/portfolio/holdings_timeline.hpp"
#include "quoter/risk/risk_engine.hpp"
#include "quoter/strategy/quoting_strategy.hpp"

#include <array>
#include <cstdint>
#include <string>

namespace quoter::engine {

/// Everything the core loop and the runners around it are configured with. Plain values with
/// working defaults; the config layer fills them from TOML.
struct core_loop_config {
    /// Symbol traded: its id in the market-data registry (events of other symbols are ignored).
    md::symbol_id symbol = 0;
    strategy::strategy_config strategy;
    /// quotes.symbol is the symbol index on the gateway (0 on the simulated exchange).
    exec::quote_manager_config quotes;
    /// Simulated exchange (paper trading and backtests). Queue model on by default.
    exec::sim_exchange_config exchange;
    risk::risk_config risk;
    /// Starting cash and fee rates; keep the fee rates equal to the exchange's.
    portfolio::account_config account{
        .initial_cash = 10'000.0, .maker_fee_bps = 1.0, .taker_fee_bps = 1.0};
    /// JSONL journal path; empty: no journal. Used by the runners (run_replay_backtest,
    /// run_paper_session), which open and own the journal.
    std::string journal_path;
    /// Journal fdatasync interval of a paper session (see ops::journal_config); backtests
    /// never sync.
    std::int64_t journal_flush_interval_ms = 1'000;
    /// Paper session: CPU of the core thread (-1: unpinned); the md thread's CPU is in the
    /// service config.
    int core_cpu = -1;
    /// Order path warm-up (order_path_warmer): after this many µs without an event, and as often
    /// while idle, poll() runs decide -> risk -> encode dry over the current book, sending and
    /// changing nothing. 0: off (backtests and replays); paper and live sessions take
    /// [engine] warm_order_path_us.
    std::int64_t warm_order_path_us = 0;
};

/// Makes config the loop of lane `lane` (0-based) of several symbols' loops that share one
/// simulated exchange: the lane is its symbol index there, and its orders carry a client id tag
/// of their own (1 + lane for quotes, and its flatten orders one of their own too), so that no
/// two loops ever send the exchange the same id. Lane 0 keeps the single-symbol ids.
void set_exchange_lane(core_loop_config& config, std::size_t lane) noexcept;

/// Counters of one loop, for summaries and tests.
struct core_loop_stats {
    std::uint64_t events = 0; ///< md_events of the traded symbol.
    std::uint64_t book_events = 0;
    std::uint64_t trade_events = 0;
    std::uint64_t state_events = 0;
    std::uint64_t invalid_books = 0; ///< Book events without book_valid.
    std::uint64_t quote_updates = 0; ///< quote_manager updates sent.
    std::uint64_t pauses = 0;        ///< Feed-state pauses (not synced).
    std::uint64_t resumes = 0;       ///< Feed back to synced after a pause.
    /// Operator kill and flatten requests taken from the control channel (signal, key, HTTP),
    /// also those that found the kill switch engaged already.
    std::uint64_t kills = 0;
    /// Operator resumes taken from the control channel, refused or not.
    std::uint64_t resume_requests = 0;
    /// Operator flatten commands taken (each also counts in kills).
    std::uint64_t flatten_requests = 0;
    std::uint64_t flatten_orders = 0; ///< Flatten orders that passed the risk gate and left.
    std::uint64_t fills = 0;          ///< Fill reports booked to the account.
    /// Of those, fills the venue's adopted holdings held already: counted, journaled, no
    /// position or money moved (portfolio/holdings_timeline.hpp).
    std::uint64_t fills_held = 0;
    std::uint64_t acks = 0;
    std::uint64_t exchange_rejects = 0; ///< Rejects from the venue (not the risk gate).
    std::uint64_t cancels_confirmed = 0;
    /// Holes in the traded symbol's event sequence (each pauses trading until a valid book).
    std::uint64_t sequence_gaps = 0;
    std::uint64_t events_lost = 0;     ///< Events missing in those holes.
    std::uint64_t cancel_give_ups = 0; ///< Orders the quote manager gave up cancelling.
    /// FNV-1a digest of every fill (time, side, price, quantity), to compare runs.
    std::uint64_t fill_digest = 14695981039346656037ULL;
};

class core_loop final : private exec::exec_report_sink,
                        private risk::engine_actions,
                        private risk::rejection_sink,
                        private risk::alert_sink,
                        private gate_listener {
public:
    /// instrument: specs of config.symbol (book spec for md sizes, trading spec for orders).
    /// gateway: the venue; sim: the same object when it is the simulated exchange (it then gets
    /// the market data), else nullptr. journal and control are optional. Everything passed by
    /// reference or pointer must outlive the loop. Allocates (strategy estimators).
    core_loop(const core_loop_config& config, const md::instrument& instrument,
              exec::order_gateway& gateway, exec::sim_exchange* sim,
              ops::journal* journal = nullptr, ops::control_channel* control = nullptr);
    core_loop(const core_loop&) = delete;
    core_loop& operator=(const core_loop&) = delete;

    /// The quote manager's desired quotes for its first `levels` levels (<= max_quote_levels)
    /// from the strategy's quote set (levels the set does not fill, or a side it leaves out,
    /// are empty).
    static void desired_from(const strategy::quote_set& set, std::size_t levels,
                             exec::desired_quotes& out) noexcept;

    /// Processes one market-data event at time now (ns, non-decreasing). depth: the event's
    /// top-K levels when it has them (its record, or md::depth_receiver's rebuild of it), fed to
    /// the simulated exchange; without it the exchange sees the event's top of book alone.
    void on_event(const md::md_event& event, const md::md_depth* depth,
                  core::timestamp_ns now) noexcept;
    /// An event without depth (a live venue, the synthetic market's one-level books).
    void on_event(const md::md_event& event, core::timestamp_ns now) noexcept {
        on_event(event, nullptr, now);
    }
    /// A report of the venue gateway, handed over directly by a driver that routes the venue's
    /// reports itself and knows this loop is where they go (synthetic_run's router, through the
    /// run_recorder the loop trades through): the same as the gateway delivering it to the
    /// loop's risk gate, in direct calls.
    void take_venue_report(const exec::exec_report& report) noexcept;
    /// Control commands, time-driven risk checks and due exec reports. Call on every loop
    /// iteration. Returns false once a stop (quit) was requested.
    bool poll(core::timestamp_ns now) noexcept;
    /// Joins a portfolio of loops on one thread: slot < exposure.max_symbols is this loop's.
    /// The exposure must outlive the loop.
    void set_portfolio(portfolio_exposure* exposure, std::size_t slot) noexcept;
    /// Joins the kill domain of loops on one thread (engine::kill_domain): a kill this loop
    /// engages sets `kill_pending` at once, and while it is set this loop sends no new order but
    /// flatten orders, until the domain carries the kill to every loop and clears it. It must
    /// outlive the loop.
    void join_kill_domain(bool* kill_pending) noexcept { gate_.set_domain_kill(kill_pending); }
    /// The operator's resume (risk::kill_switch::resume), but a kill whose cancel-all the venue
    /// has not confirmed yet (order_gateway::kill_unconfirmed) stays: refused with
    /// halt_reason::kill_unconfirmed, as while a kill condition of its own holds.
    risk::resume_result resume(core::timestamp_ns now) noexcept;
    /// The operator's flatten, as the control channel's command does: the kill engages
    /// (cancel-all) and, with flatten_on_kill, the flattener closes the position with a fresh
    /// budget, also under a kill latched earlier. The kill domain hands the lead's to the other
    /// symbols' loops.
    void flatten_by_operator(core::timestamp_ns now) noexcept;
    /// Cancels every open order (graceful stop) and stops quoting for good: no resume or
    /// cleared pause quotes again. A kill's flattening sends nothing more; a stop waits for
    /// flatten_in_flight() as for the cancels.
    void shutdown(core::timestamp_ns now) noexcept;
    /// Restores what a state file saved before a restart: the account's position, cost basis
    /// and cash (portfolio::account::restore) and the client order sequence (ids continue
    /// above it). Call before the first event. Core thread.
    void restore(core::qty position, std::int64_t cost_basis_units, std::int64_t cash_units,
                 std::uint64_t last_order_sequence) noexcept;
    /// The highest equity a state file saved: the drawdown limits measure from the higher of it
    /// and the restored account's equity (not the equity this loop was built with), so a
    /// restart does not reset them. After restore(); core thread, before the first event.
    void restore_peak_equity(double peak) noexcept;
    /// Flatten orders the kill latched before a restart had sent (the state file's
    /// flatten_attempts): that kill's flattening, once restored, starts with them spent, so
    /// risk.triggers.flatten_max_attempts holds across restarts. Before the kill is restored;
    /// a resume or an operator's flatten forgets them. Core thread.
    void restore_flatten_attempts(std::uint32_t spent) noexcept {
        restored_flatten_attempts_ = spent;
    }
    /// Money from outside the account (a deposit a reconciliation adopted), in notional units:
    /// the account's capital, the equity peak and the day's starting equity grow by it, so that
    /// it counts as neither PnL nor a recovery from a drawdown. Core thread.
    void add_capital(std::int64_t units) noexcept;
    /// Money that came in while the process was stopped, in notional units, before the venue's
    /// holdings replace a restored account: only the equity peak and the day's starting equity
    /// grow by it (the account starts from the venue's holdings, which hold it already), so that
    /// it counts as neither the day's profit nor a recovery from a drawdown. Core thread.
    void count_as_capital(std::int64_t units) noexcept;
    /// The venue's holdings as of venue_ms (its clock, ms) were adopted into the account (see
    /// engine/holdings_adoption.hpp): a fill report stamped no later moves no holdings again.
    /// Core thread.
    void hold_fills_through(std::int64_t venue_ms) noexcept {
        booked_fills_.hold_through(venue_ms);
    }
    /// The venue's balance of the third fee asset (BNB), 10^-8 units, adopted into the account
    /// (portfolio::account::restore_fee_asset). Core thread.
    void restore_fee_asset(std::int64_t held_e8) noexcept { account_.restore_fee_asset(held_e8); }
    /// The fills the account booked, by venue time, for the next adoption.
    [[nodiscard]] const portfolio::holdings_timeline& booked_fills() const noexcept {
        return booked_fills_;
    }
    /// Told of every order round trip (sent to acknowledged) and every venue reject or
    /// cancel reject (not the risk gate's refusals), e.g. by the operations metrics; nullptr:
    /// nobody. Core thread; the listener must outlive the loop and must not block.
    class exec_listener {
    public:
        virtual void on_round_trip(core::duration_ns sent_to_ack) noexcept = 0;
        virtual void on_venue_reject(exec::reject_reason reason) noexcept = 0;

    protected:
        ~exec_listener() = default;
    };
    void set_exec_listener(exec_listener* listener) noexcept { exec_listener_ = listener; }
    /// Also hands every alert to sink (after the journal), e.g. a fan-out to stderr and the
    /// alert dispatcher; nullptr: the journal only. Core thread; sink must outlive the loop.
    void set_alert_sink(risk::alert_sink* sink) noexcept { alert_forward_ = sink; }
    /// While set (around one on_event), the loop stamps the tick's core hops into stamps:
    /// decided when the strategy priced quotes, risk_passed and encoded for its first order.
    /// nullptr between ticks. Core thread.
    void set_tick_stamps(core::tick_stamps* stamps) noexcept {
        stamps_ = stamps;
        gate_.set_tick_stamps(stamps);
    }

    /// A stop was asked (quit, or the control channel's stop flag): no new order has gone out
    /// since; the session calls shutdown().
    [[nodiscard]] bool stop_requested() const noexcept { return stop_; }
    /// A flatten order has left and its outcome (fill, expiry) has not come back yet.
    [[nodiscard]] bool flatten_in_flight() const noexcept { return flattener_.in_flight(); }
    /// The latest time the loop was given (by an event, a poll or the shutdown), its clock.
    [[nodiscard]] core::timestamp_ns now() const noexcept { return now_; }
    [[nodiscard]] const core_loop_stats& stats() const noexcept { return stats_; }
    [[nodiscard]] const portfolio::account& account() const noexcept { return account_; }
    [[nodiscard]] const risk::risk_engine& risk() const noexcept { return risk_; }
    [[nodiscard]] risk::risk_engine& risk() noexcept { return risk_; }
    [[nodiscard]] const exec::quote_manager& quotes() const noexcept { return quotes_; }
    /// Flattening after a kill (risk.triggers.flatten_on_kill).
    [[nodiscard]] const exec::flattener& flattener() const noexcept { return flattener_; }
    [[nodiscard]] const risk_gate& gate() const noexcept { return gate_; }
    [[nodiscard]] const strategy::quoting_strategy& strategy() const noexcept { return strategy_; }
    /// The order path warm-up (core_loop_config::warm_order_path_us).
    [[nodiscard]] const order_path_warmer& warmer() const noexcept { return warmer_; }
    /// Last valid top of book (ticks; zero before the first).
    [[nodiscard]] risk::market_view market() const noexcept { return market_; }
    /// True while the feed is not synced (quotes pulled until it is).
    [[nodiscard]] bool feed_paused() const noexcept { return feed_paused_; }
    [[nodiscard]] risk::trading_state state() const noexcept { return risk_.state(); }

private:
    // exec_report_sink: the gate's reports (the venue's, and the gate's refusals).
    void on_exec_report(const exec::exec_report& report) noexcept override;
    /// A report the gate passed on: the quote manager moves its working orders, then the loop
    /// follows: risk (acks), account (fills), journal and counts.
    [[gnu::always_inline]] inline void take_gate_report(const exec::exec_report& report) noexcept;
    /// take_gate_report() of a fill: books it (and journals it). Out of line, as
    /// journal_report(), so that the other reports pass without their frames.
    [[gnu::noinline]] void book_fill(const exec::exec_report& report) noexcept;
    /// The kill's flattening again, when it had ended flat and a position is back (see .cpp).
    void reopen_flatten() noexcept;
    /// The journal's line of a report other than a fill; sent: an ack's send time.
    [[gnu::noinline]] void journal_report(const exec::exec_report& report,
                                          core::timestamp_ns sent) noexcept;
    /// What the venue charged for a fill, put on f (see the source).
    void charge_commission(const exec::exec_report& report, portfolio::fill& f) const noexcept;
    // engine_actions
    void cancel_all_orders(risk::halt_reason reason) noexcept override;
    void flatten_positions(risk::halt_reason reason) noexcept override;
    void set_new_orders_enabled(bool enabled) noexcept override;
    void on_state_change(const risk::state_change& change) noexcept override;
    // rejection_sink
    void on_rejection(const risk::rejection_record& record) noexcept override;
    // alert_sink
    void raise(const risk::alert& a) noexcept override;
    // gate_listener
    void on_order_sent(const exec::order_request& request, risk::order_intent intent,
                       core::timestamp_ns now) noexcept override;
    void on_cancel_sent(exec::client_order_id id, core::timestamp_ns now) noexcept override;

    // The steps of every event and poll below are inlined where they are called (always_inline,
    // defined in core_loop.cpp): each is short, and a call frame costs as much as its work.
    /// on_event() of a valid book with both sides: the loop's common case, which quotes.
    [[gnu::always_inline]] inline void on_tradable_book(const md::md_event& event,
                                                        const md::md_depth* depth,
                                                        core::timestamp_ns now) noexcept;
    /// on_event() of any other event: a feed state, a trade print, a book the loop cannot
    /// trade on.
    [[gnu::always_inline]] inline void on_other_event(const md::md_event& event,
                                                      const md::md_depth* depth,
                                                      core::timestamp_ns now) noexcept;
    /// The event's market data to the simulated exchange (sim_ set).
    [[gnu::always_inline]] inline void feed_exchange(const md::md_event& event,
                                                     const md::md_depth* depth,
                                                     core::timestamp_ns now) noexcept;
    /// feed_exchange() of a valid book.
    [[gnu::always_inline]] inline void feed_exchange_book(const md::md_event& event,
                                                          const md::md_depth* depth,
                                                          core::timestamp_ns now) noexcept;
    /// feed_exchange_book() of a book that needs its sizes converted or comes with depth.
    [[gnu::noinline]] void feed_book(const md::md_event& event, const md::md_depth* depth,
                                     core::timestamp_ns now) noexcept;
    /// Brings the views up to the mark and the working orders when either moved since the last
    /// push (the account's other figures cannot have: see refresh_views).
    [[gnu::always_inline]] inline void refresh_views_if_stale() noexcept;
    /// The views' figures valued at the mark, the equity peak; pushes the views to the gate
    /// (whole after a count of the working orders, else the valuation alone).
    [[gnu::always_inline]] inline void push_views(const portfolio::mark_values& marked) noexcept;
    [[gnu::always_inline]] inline void requote(core::timestamp_ns now) noexcept;
    /// After fills: requotes with the post-fill position when the market view allows it.
    [[gnu::always_inline]] inline void requote_after_fill(core::timestamp_ns now) noexcept;
    /// Retries refused or rejected cancels; raises cancel_gave_up when the manager gives up.
    [[gnu::always_inline]] inline void retry_cancels(core::timestamp_ns now) noexcept;
    void set_feed_paused(bool paused, core::timestamp_ns now) noexcept;
    /// Rebuilds the views from the account and the working orders and pushes them to the gate.
    /// Call at once whenever the account's position or money moves other than by the mark.
    void refresh_views() noexcept;
    /// The views' open quantities and oldest_unacked_ from the quote manager's working orders.
    void count_working_orders() noexcept;
    /// Checks event.symbol_sequence; on a hole pauses trading and returns true.
    bool check_sequence(const md::md_event& event, core::timestamp_ns now) noexcept;
    void take_control(core::timestamp_ns now) noexcept;
    /// A stop was asked: nothing new goes out from now on.
    void note_stop() noexcept;
    /// While flattening after a kill: sends the next flatten order when none is in flight.
    void work_flatten(core::timestamp_ns now) noexcept;
    [[nodiscard]] core::qty to_trading_lots(core::qty book_lots) const noexcept;
    /// Send time of the oldest working order not yet acknowledged (risk::no_pending_ack: none).
    [[nodiscard]] core::timestamp_ns oldest_unacked() noexcept;
    /// One dry run of the order path (order_path_warmer.cpp), when the loop would quote.
    void warm_order_path(core::timestamp_ns now) noexcept;

    core_loop_config config_;
    md::instrument instrument_;
    std::int64_t lot_ratio_ = 1;   ///< Book lots per trading lot.
    double lot_inverse_ = 1.0;     ///< 1 / lot_ratio_, rounded.
    std::size_t quote_levels_ = 1; ///< Levels per side the quote manager uses.
    exec::order_gateway& venue_;
    exec::sim_exchange* sim_;
    ops::journal* journal_;
    ops::control_channel* control_;
    risk::alert_sink* alert_forward_ = nullptr;
    core::tick_stamps* stamps_ = nullptr;
    exec_listener* exec_listener_ = nullptr;

    portfolio::account account_;
    portfolio::holdings_timeline booked_fills_;
    strategy::quoting_strategy strategy_;
    risk::risk_engine risk_;
    risk_gate gate_;
    exec::quote_manager quotes_;
    exec::flattener flattener_;
    std::uint32_t restored_flatten_attempts_ = 0;

    risk::market_view market_{};
    risk::account_view account_view_{};
    double day_start_equity_ = 0.0;
    double peak_equity_ = 0.0;
    core::timestamp_ns now_ = 0;
    bool feed_paused_ = false;
    /// Paused until the next synced, valid book: a hole in the event sequence was seen, or a
    /// book that cannot be traded on (crossed, a side empty), and no valid book has come since.
    bool awaiting_valid_book_ = false;
    /// The mark moved or the quote manager's working orders may have changed since the views
    /// were last pushed; fills refresh at once, so the position and cash are never stale.
    bool views_stale_ = false;
    /// The working orders may have changed since count_working_orders() last counted them.
    bool orders_stale_ = false;
    /// The gate holds the views as pushed last with the open quantities of the last count, and
    /// every other figure but the valuation at the mark as account_view_ has it.
    bool counts_pushed_ = false;
    /// Send time of the oldest working order waiting for its acknowledgement, as last counted.
    core::timestamp_ns oldest_unacked_ = risk::no_pending_ack;
    /// A fill arrived since the last requote: the desired quotes predate it.
    bool filled_since_quote_ = false;
    /// symbol_sequence of the last numbered event (0: none yet).
    std::uint64_t last_sequence_ = 0;
    bool orders_enabled_ = true;
    bool shut_down_ = false; ///< A stop was asked or shutdown() ran: new orders stay off for good.
    bool stop_ = false;
    /// The strategy's spread is widened by risk.reduce_spread_multiplier (reduce mode).
    bool spread_widened_ = false;
    /// Send time per quote slot, for the ack-delay trigger.
    std::array<core::timestamp_ns, 2 * exec::max_quote_levels> sent_ts_{};
    /// One book side as last fed to the simulated exchange: the depth record's levels (book lots)
    /// and their trading-lot conversions. Most events leave most levels as they were (a bookTicker
    /// moves one side's top quantity): only levels that differ from the previous event's are
    /// converted again. Index 0 bids, 1 asks. Unused while the lots are the same (lot_ratio_ 1):
    /// the exchange then gets the event's own levels.
    struct fed_side {
        std::array<core::book_level, md::md_top_levels> book{};
        std::array<core::book_level, md::md_top_levels> trading{};
    };
    std::array<fed_side, 2> fed_{};
    /// The latest desired quotes; levels beyond quote_levels_ are never written (empty).
    exec::desired_quotes desired_{};
    /// The strategy's latest output, kept so that an update rewrites only its levels in use.
    strategy::quote_set quote_set_{};
    /// Model outputs behind the latest desired quotes, for the journal's order intents (kept only
    /// with a journal).
    strategy::quote_diagnostics last_model_{};
    core_loop_stats stats_;
    /// Kept apart from everything above: it reads the loop, never writes it.
    order_path_warmer warmer_;
};

} // namespace quoter::engine
