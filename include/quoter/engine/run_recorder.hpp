// run_recorder: what a run did, for its metrics and reports, whatever fed the loop (synthetic
// market, capture replay, paper session). It sits between the core loop's risk gate and the
// venue as an exec::order_gateway decorator, so it sees exactly the orders that passed the
// pre-trade checks and every execution report before the loop does:
//   - order_record per lifecycle event (submitted, acknowledged, fills, cancel requested,
//     cancelled, rejected), with the order's quote level;
//   - fill_record per fill, with the fee, realized PnL and position the loop's account booked
//     (read from the attached account right after the report reached the loop);
//   - pnl_sample on request (sample()), from the account and the best resting quotes;
//   - markouts of every kept fill (sim::markout_tracker), from the mids the driver shows it with
//     observe_mid() after each book the loop took.
// Records are kept only as asked (record_options); counts (activity) are always kept.
//
// Threading: the loop's thread. Appends to vectors (allocates as they grow), never on a path
// that must not allocate in live trading: paper sessions record only what fits their report.
#pragma once

#include "quoter/core/symbol_spec.hpp"
#include "quoter/core/time.hpp"
#include "quoter/exec/order_gateway.hpp"
#include "quoter/exec/quote_manager.hpp"
#include "quoter/exec/sim_exchange.hpp"
#include "quoter/portfolio/account.hpp"
#include "quoter/risk/alert.hpp"
#include "quoter/sim/markouts.hpp"
#include "quoter/sim/metrics.hpp"
#include "quoter/sim/records.hpp"
#include "quoter/sim/report.hpp"

#include <array>
#include <cstdint>
#include <span>
#include <vector>

namespace quoter::engine {

/// Alerts a run raised, counted by kind with the first few of each kind kept whole: a long
/// backtest raises thousands of the same alarm, which a report summarises instead of listing.
/// An alert_sink for the core loop (core_loop::set_alert_sink); forwards to `next` when set.
/// No allocation: fixed arrays.
class alert_tally final : public risk::alert_sink {
public:
    static constexpr std::size_t kind_count = risk::alert_kind_count;
    static constexpr std::size_t examples_per_kind = 3;

    explicit alert_tally(risk::alert_sink* next = nullptr) noexcept : next_(next) {}
    void set_next(risk::alert_sink* next) noexcept { next_ = next; }
    void raise(const risk::alert& a) noexcept override;

    [[nodiscard]] std::uint64_t count(risk::alert_kind kind) const noexcept {
        return counts_[static_cast<std::size_t>(kind)];
    }
    [[nodiscard]] std::uint64_t total() const noexcept;
    /// The first alerts of a kind, oldest first (at most examples_per_kind).
    [[nodiscard]] std::span<const risk::alert> examples(risk::alert_kind kind) const noexcept;
    /// Adds another tally's counts (and examples while there is room): paths of one run.
    void merge(const alert_tally& other) noexcept;

private:
    risk::alert_sink* next_ = nullptr;
    std::array<std::uint64_t, kind_count> counts_{};
    std::array<std::array<risk::alert, examples_per_kind>, kind_count> examples_{};
};

/// The tally as the report shows it: kinds that were raised, in kind order, each with its count
/// and its examples as text (simulated time since the start, value and threshold).
[[nodiscard]] std::vector<sim::report_alert> report_alerts(const alert_tally& tally);

struct gate_counts;

/// A risk gate's counts as a report's "run_counts": orders sent (quote, flatten), the risk
/// refusals, then the refusals of every reason, zeros included, so that reports of every kind of
/// run carry the same keys ("risk_refusals_<reason>").
[[nodiscard]] std::vector<sim::report_counter> report_counters(const gate_counts& counts);

/// Which records a run keeps. Counts are always kept.
struct record_options {
    bool pnl = true;
    bool fills = true;
    bool orders = true;
};

class run_recorder final : public exec::order_gateway, private exec::exec_report_sink {
public:
    /// venue: the gateway orders go to; spec: the traded symbol's trading spec (records are in
    /// its quote and base units).
    run_recorder(exec::order_gateway& venue, const core::symbol_spec& spec,
                 record_options keep = {});
    /// In front of the simulated exchange (backtests, paper sessions): the same, with the
    /// exchange's requests and polls called directly.
    run_recorder(exec::sim_exchange& venue, const core::symbol_spec& spec,
                 record_options keep = {});
    run_recorder(const run_recorder&) = delete;
    run_recorder& operator=(const run_recorder&) = delete;

    /// The account the loop books fills to (read after each fill report). Must outlive use.
    void attach(const portfolio::account* account) noexcept { account_ = account; }

    // exec::order_gateway
    void set_report_sink(exec::exec_report_sink* sink) noexcept override;
    [[nodiscard]] exec::gateway_error submit(const exec::order_request& request,
                                             core::timestamp_ns now) noexcept override;
    [[nodiscard]] exec::gateway_error cancel(std::uint32_t symbol, exec::client_order_id id,
                                             core::timestamp_ns now) noexcept override;
    [[nodiscard]] exec::gateway_error cancel_all(std::uint32_t symbol,
                                                 core::timestamp_ns now) noexcept override;
    std::size_t poll(core::timestamp_ns now) noexcept override {
        return simulated_ != nullptr ? simulated_->poll(now) : venue_.poll(now);
    }
    /// Dry run: the venue's; nothing is recorded.
    [[nodiscard]] bool rehearse_submit(const exec::order_request& request,
                                       core::timestamp_ns now) noexcept override {
        return venue_.rehearse_submit(request, now);
    }
    [[nodiscard]] bool rehearse_replace(std::uint32_t symbol, exec::client_order_id old_id,
                                        const exec::order_request& request,
                                        core::timestamp_ns now) noexcept override {
        return venue_.rehearse_replace(symbol, old_id, request, now);
    }

    /// The sink the venue's reports enter through (set as the venue's sink by
    /// set_report_sink(); a router in front of a shared venue calls it directly).
    [[nodiscard]] exec::exec_report_sink& report_input() noexcept { return *this; }
    /// What report_input() does with a venue report, handing it on to `next` (a callable taking
    /// the report) instead of the sink set by set_report_sink(): for a router that knows where
    /// the recorder's reports go and calls there directly (synthetic_run). Inline, so that the
    /// call to next is direct.
    template <typename Next> void deliver(const exec::exec_report& report, Next&& next) noexcept {
        const bool is_fill =
            report.kind == exec::exec_kind::fill || report.kind == exec::exec_kind::partial_fill;
        if (is_fill && keep_.fills) {
            deliver_recording_fill(report, next);
            return;
        }
        track(report);
        next(report);
    }

    /// The account's mark at time (ns), after the loop took a book: settles the markouts due.
    void observe_mid(core::timestamp_ns time) noexcept {
        if (account_ != nullptr && account_->current_mark().half_ticks > 0) {
            markouts_.on_mid(time, account_->mark_value());
        }
    }
    /// Adverse selection of the fills so far (pending ones marked to the last mid observed).
    [[nodiscard]] sim::markout_totals markouts() const noexcept { return markouts_.totals(); }

    /// Records a pnl sample at time (ns) with our best working quotes (price 0: none).
    void sample(core::timestamp_ns time, core::price working_bid, core::price working_ask);

    /// The alert sink to give the loop: counts what it raises (see alert_tally).
    [[nodiscard]] alert_tally& alerts() noexcept { return alerts_; }
    [[nodiscard]] const alert_tally& alerts() const noexcept { return alerts_; }

    [[nodiscard]] const sim::activity_counts& activity() const noexcept { return activity_; }
    [[nodiscard]] std::span<const sim::pnl_sample> pnl() const noexcept { return pnl_; }
    [[nodiscard]] std::span<const sim::fill_record> fills() const noexcept { return fills_; }
    [[nodiscard]] std::span<const sim::order_record> orders() const noexcept { return orders_; }
    [[nodiscard]] std::vector<sim::pnl_sample> take_pnl() noexcept { return std::move(pnl_); }
    [[nodiscard]] std::vector<sim::fill_record> take_fills() noexcept { return std::move(fills_); }
    [[nodiscard]] std::vector<sim::order_record> take_orders() noexcept {
        return std::move(orders_);
    }
    /// Makes room for count pnl samples up front, so that the run never copies them to grow.
    void reserve_samples(std::size_t count);

private:
    /// What the recorder knows of one order, per quote-manager slot (client id & 0xff).
    struct tracked_order {
        exec::client_order_id id;
        core::side side = core::side::buy;
        std::uint8_t level = 0;
        core::price price;
        core::qty qty;
        core::qty cum;
        bool live = false;
        bool filled = false;
    };
    static constexpr std::size_t slot_count = 256;

    void on_exec_report(const exec::exec_report& report) noexcept override;
    void on_venue_failures(std::uint32_t count, core::timestamp_ns now) noexcept override {
        if (downstream_ != nullptr) {
            downstream_->on_venue_failures(count, now);
        }
    }
    /// The report's counts and, when orders are kept, its order events (inline: every report
    /// passes).
    [[gnu::always_inline]] inline void track(const exec::exec_report& report) noexcept;
    /// track() when orders are kept: the report's order events, and what the order records and
    /// the cancels' records use of the order (its filled quantity, whether it is live).
    void record_events(const exec::exec_report& report) noexcept;
    /// What the fill record compares the loop's account with once it has booked the fill.
    struct account_before_fill {
        double realized = 0.0;
        double fees = 0.0;
        portfolio::mark_price mid{};
    };
    /// deliver() of a fill whose record is kept: tracked, handed on, then recorded with what the
    /// loop's account made of it. Out of line, so that the other reports pass through without
    /// its frame.
    template <typename Next>
    [[gnu::noinline]] void deliver_recording_fill(const exec::exec_report& report,
                                                  Next& next) noexcept {
        const account_before_fill before = account_now();
        track(report);
        next(report); // the loop books the fill
        record_fill(report, before);
    }
    [[nodiscard]] account_before_fill account_now() const noexcept;
    /// The fill's record and markout, once the loop has booked it.
    void record_fill(const exec::exec_report& report, const account_before_fill& before) noexcept;
    /// Records an order event when orders are kept (the test inline: every request asks).
    void record_order(core::timestamp_ns time, const tracked_order& order, sim::order_event event,
                      core::qty cum) noexcept {
        if (keep_.orders) {
            append_order(time, order, event, cum);
        }
    }
    void append_order(core::timestamp_ns time, const tracked_order& order, sim::order_event event,
                      core::qty cum) noexcept;

    exec::order_gateway& venue_;
    /// The venue when it is the simulated exchange, called by its type (its calls are direct).
    exec::sim_exchange* simulated_ = nullptr;
    core::symbol_spec spec_;
    record_options keep_;
    exec::exec_report_sink* downstream_ = nullptr;
    const portfolio::account* account_ = nullptr;
    std::array<tracked_order, slot_count> tracked_{};
    sim::activity_counts activity_;
    alert_tally alerts_;
    std::vector<sim::pnl_sample> pnl_;
    std::vector<sim::fill_record> fills_;
    std::vector<sim::order_record> orders_;
    sim::markout_tracker markouts_;
};

/// Writes a quote manager's order-rate holds into its run's metrics (sim::set_rate_holds), after
/// compute_metrics(): the time new orders were held counted up to the recorder's last pnl
/// sample, where the report ends (to `now` when it kept none). Call before the samples are taken.
void set_rate_holds(sim::run_metrics& metrics, const exec::quote_manager& quotes,
                    const run_recorder& recorder, core::timestamp_ns now) noexcept;

void run_recorder::track(const exec::exec_report& report) noexcept {
    switch (report.kind) {
    case exec::exec_kind::reject:
        ++activity_.rejects;
        break;
    case exec::exec_kind::cancelled:
        ++activity_.cancels;
        break;
    case exec::exec_kind::partial_fill:
    case exec::exec_kind::fill: {
        tracked_order& order = tracked_[report.client_id.value & (slot_count - 1)];
        if (order.id == report.client_id && !order.filled) {
            order.filled = true;
            ++activity_.orders_filled;
        }
        break;
    }
    case exec::exec_kind::ack:
    case exec::exec_kind::cancel_reject:
    case exec::exec_kind::unknown:
        break;
    }
    if (keep_.orders) {
        record_events(report);
    }
}

} // namespace quoter::engine
