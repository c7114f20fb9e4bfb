// backtest: the trading core (strategy, quote manager, portfolio) run against the synthetic market
// and the simulated exchange on simulated time, recording what happened for metrics and reports.
//
// One step of step_ns, in this order:
//   1. market update: the synthetic mid moves; the visible book is the mid -/+ half its spread;
//   2. the exchange sees the new book: reports due by now reach the client (the recorder, the
//      account, the risk hook and the quote manager, in that order), and resting orders the book
//      reaches fill by the exchange's cross_fill rule. The exchange reads the book only when a
//      request arrives and when it checks resting orders against it, so it is handed the book
//      only when that can happen: while anything is in flight, when the book reaches one of our
//      resting orders, and before a request leaves for it. The outcome is the same as updating
//      it on every step, at a fraction of the cost;
//   3. the account is marked to the book mid;
//   4. risk seam: the kill switch is polled (risk_hook);
//   5. strategy: the desired quotes are recomputed when an input changed (book, position or
//      cash; every step for a finite Avellaneda-Stoikov horizon or an online intensity fit,
//      whose output moves with time alone);
//   6. execution: the quote manager turns the desired quotes into orders and cancels; each new
//      order passes the risk hook's pre-trade check on its way to the exchange. The manager is
//      skipped while neither its input nor the reports changed, except once per refresh_ms so
//      that age limits and throttled replacements still fire (at most refresh_ms late);
//   7. order flow: the synthetic market decides which of the orders resting now are hit during
//      the coming step; the exchange fills them (the reports reach the client after the
//      market-data latency, so the account sees a fill at a later step, as it would live);
//   8. record: a pnl sample every record_interval_ns of simulated time.
// Time 0 is a step of its own without a market move (the first quotes and the first sample).
//
// Invariants:
// - No wall clock anywhere: time is the synthetic market's. The same config and seed give the
//   same records, byte for byte once formatted, on every run.
// - Records are in non-decreasing time order; every pnl sample satisfies
//   equity = cash + inventory * mid up to one notional unit (the account is exact in fixed point).
// - The loop does not allocate once the record vectors have grown; records are kept only as
//   asked (record_options), so a path of a large multi-path run keeps its pnl samples and fills
//   (which its metrics need) only until they are summarized.
//
// Threading: an engine belongs to one thread. Separate engines (one per path) run in parallel.
#pragma once

#include "quoter/core/fixed_point.hpp"
#include "quoter/core/symbol_spec.hpp"
#include "quoter/core/time.hpp"
#include "quoter/exec/order_gateway.hpp"
#include "quoter/exec/order_types.hpp"
#include "quoter/exec/quote_manager.hpp"
#include "quoter/exec/sim_exchange.hpp"
#include "quoter/portfolio/account.hpp"
#include "quoter/sim/metrics.hpp"
#include "quoter/sim/path_runner.hpp"
#include "quoter/sim/records.hpp"
#include "quoter/sim/report.hpp"
#include "quoter/sim/synthetic_market.hpp"
#include "quoter/strategy/quoting.hpp"
#include "quoter/strategy/quoting_strategy.hpp"
#include "quoter/strategy/strategy_config.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace quoter::sim {

/// Everything one simulated run needs, as plain module configs.
struct backtest_config {
    strategy::strategy_config strategy;
    market_config market;
    exec::sim_exchange_config exchange;
    /// Quote levels beyond quotes.levels are not quoted; keep it >= strategy.levels.count.
    exec::quote_manager_config quotes;
    /// Simulated time per step, ns (> 0).
    core::duration_ns step_ns = 100 * core::ns_per_ms;
    /// Simulated length of a run, ns.
    core::duration_ns duration_ns = core::duration_ns{3600} * core::ns_per_s;
    /// Cash at the start, quote asset; the capital returns are measured on.
    double initial_cash = 100'000.0;
    /// Simulated time between two pnl samples, ns (> 0).
    core::duration_ns record_interval_ns = core::ns_per_s;
    /// Return period of Sharpe, Sortino and volatility, seconds; 0 uses every pnl sample.
    double return_period_s = 0.0;
};

/// Which records an engine keeps. Counts (activity, fills, quote counters) are always kept.
struct record_options {
    bool pnl = true;
    bool fills = true;
    bool orders = true;
};

/// The seam where the risk engine plugs in: a pre-trade check on every new order, a kill switch
/// polled every step, and every execution report. The engine works without one (nullptr).
/// Called on the engine's thread only.
class risk_hook : public exec::exec_report_sink {
public:
    /// Pre-trade check of a new order before it leaves for the exchange. Anything but
    /// gateway_error::none refuses it: nothing is sent, the quote manager counts a gateway error
    /// and tries again no sooner than refresh_ms later. Cancels are never checked.
    [[nodiscard]] virtual exec::gateway_error check_order(const exec::order_request& request,
                                                          core::timestamp_ns now) noexcept = 0;

    /// Polled once per step, after the account was marked to the new mid, and by
    /// backtest_engine::poll_risk between steps. Returning true halts trading (a kill or a
    /// pause): every order is cancelled at once and no order is sent while it keeps returning
    /// true; returning false again resumes quoting.
    [[nodiscard]] virtual bool kill_switch(const portfolio::account& account,
                                           core::timestamp_ns now) noexcept = 0;

    /// Every change of the visible book (ticks), including the first one at time 0, before the
    /// kill-switch poll and the orders of that step.
    virtual void on_book(core::price bid, core::price ask, core::timestamp_ns now) noexcept {
        (void)bid;
        (void)ask;
        (void)now;
    }

    /// Every execution report, after the account booked it.
    void on_exec_report(const exec::exec_report& report) noexcept override { (void)report; }

    /// The model outputs behind the desired quotes, each time the strategy computes a quote set
    /// that is ok (before the orders it leads to are checked).
    virtual void on_model(const strategy::quote_diagnostics& model) noexcept { (void)model; }

    /// Polled once per step while trading is halted, after kill_switch(): an order that closes
    /// (part of) the position, already checked, or nothing. The engine sends it straight to the
    /// exchange, past the quote manager, and reports the outcome with on_flatten_sent().
    [[nodiscard]] virtual std::optional<exec::order_request>
    flatten_order(const portfolio::account& account, core::timestamp_ns now) noexcept {
        (void)account;
        (void)now;
        return std::nullopt;
    }
    /// Whether the exchange took the order flatten_order() returned.
    virtual void on_flatten_sent(const exec::order_request& request, bool accepted,
                                 core::timestamp_ns now) noexcept {
        (void)request;
        (void)accepted;
        (void)now;
    }

protected:
    ~risk_hook() = default;
};

/// Counts of one run beyond the records.
struct backtest_counters {
    std::uint64_t steps = 0;           ///< market steps after time 0
    std::uint64_t quote_updates = 0;   ///< strategy evaluations
    std::uint64_t manager_updates = 0; ///< quote_manager::update calls
    std::uint64_t risk_refusals = 0;   ///< orders the pre-trade check refused
    std::uint64_t halts = 0;           ///< times the risk hook halted trading
    std::uint64_t flatten_orders = 0;  ///< flatten orders sent while halted
    bool killed = false;               ///< the risk hook halted trading at least once
};

class backtest_engine final : private exec::exec_report_sink {
public:
    /// Builds the run at time 0 and takes the time-0 step (first quotes, first sample). seed
    /// drives the market and the exchange's latencies (derived streams). risk, if any, is in
    /// place before the first order and must outlive the engine's use of it. Allocates the
    /// record vectors' first blocks and the modules' fixed capacities.
    backtest_engine(const backtest_config& config, const core::symbol_spec& spec,
                    std::uint64_t seed, record_options keep = {}, risk_hook* risk = nullptr);
    backtest_engine(const backtest_engine&) = delete;
    backtest_engine& operator=(const backtest_engine&) = delete;
    ~backtest_engine() = default;

    /// Installs the risk seam (nullptr removes it); the hook must outlive its use.
    void set_risk_hook(risk_hook* hook) noexcept { risk_ = hook; }

    /// One whole step: advance_market(), react(), simulate_order_flow().
    void step() noexcept {
        advance_market();
        react();
        simulate_order_flow();
    }
    /// Steps until simulated time reaches `end` (ns).
    void run_until(core::timestamp_ns end) noexcept;
    /// Steps until config.duration_ns, then records the final sample if it is not on the
    /// record grid.
    void run() noexcept;

    // The phases of a step, for drivers that time them (tick-to-quote in paced runs).
    /// 1. The market moves by one step.
    void advance_market() noexcept;
    /// 2-6. Book to the exchange, reports to the client, mark, kill switch, strategy, quotes.
    void react() noexcept;
    /// 7-8. Order flow against the resting orders, then the pnl sample when one is due.
    void simulate_order_flow() noexcept;

    /// Asks the risk hook's kill switch now, between steps, so that a manual kill or pause
    /// cancels every order without waiting for the next market step (react() asks it too).
    void poll_risk() noexcept;
    /// True while the risk hook holds trading halted.
    [[nodiscard]] bool halted() const noexcept { return halted_; }

    /// Graceful end: cancels every order (quoting stops), lets the exchange answer by advancing
    /// only its time (bounded), and records a last sample.
    void stop() noexcept;

    // State.
    [[nodiscard]] core::timestamp_ns now() const noexcept { return now_; }
    [[nodiscard]] core::price best_bid() const noexcept { return best_bid_; }
    [[nodiscard]] core::price best_ask() const noexcept { return best_ask_; }
    /// Book mid, quote asset per base unit.
    [[nodiscard]] double mid() const noexcept;
    /// Best resting bid and ask of ours on the exchange (price 0: none).
    [[nodiscard]] core::price working_bid() const noexcept;
    [[nodiscard]] core::price working_ask() const noexcept;
    /// The inventory band and the status of the latest quotes the strategy computed.
    [[nodiscard]] strategy::quote_mode quote_mode() const noexcept { return quote_mode_; }
    [[nodiscard]] strategy::quote_status quote_status() const noexcept { return quote_status_; }
    [[nodiscard]] const portfolio::account& account() const noexcept { return account_; }
    [[nodiscard]] const exec::quote_manager& quote_manager() const noexcept { return manager_; }
    [[nodiscard]] const exec::sim_exchange& exchange() const noexcept { return exchange_; }
    [[nodiscard]] const synthetic_market& market() const noexcept { return market_; }
    [[nodiscard]] const backtest_counters& counters() const noexcept { return counters_; }
    [[nodiscard]] const activity_counts& activity() const noexcept { return activity_; }
    [[nodiscard]] const backtest_config& config() const noexcept { return config_; }
    [[nodiscard]] const core::symbol_spec& spec() const noexcept { return spec_; }
    [[nodiscard]] std::uint64_t seed() const noexcept { return seed_; }

    // Records (empty when not kept).
    [[nodiscard]] std::span<const pnl_sample> pnl() const noexcept { return pnl_; }
    [[nodiscard]] std::span<const fill_record> fills() const noexcept { return fills_; }
    [[nodiscard]] std::span<const order_record> orders() const noexcept { return orders_; }
    /// Moves the records out (the engine keeps recording into empty vectors).
    [[nodiscard]] std::vector<pnl_sample> take_pnl() noexcept { return std::move(pnl_); }
    [[nodiscard]] std::vector<fill_record> take_fills() noexcept { return std::move(fills_); }
    [[nodiscard]] std::vector<order_record> take_orders() noexcept { return std::move(orders_); }

    /// The metrics config this run is measured with (capital, return period, bands).
    [[nodiscard]] metrics_config metrics_settings() const noexcept;
    /// Metrics of the recorded pnl samples and fills (needs both kept).
    [[nodiscard]] run_metrics metrics() const;

private:
    /// The order_gateway the quote manager talks to: the pre-trade check and the order log in
    /// front of the simulated exchange.
    class checked_gateway final : public exec::order_gateway {
    public:
        checked_gateway(backtest_engine& engine, exec::sim_exchange& exchange) noexcept
            : engine_(engine), exchange_(exchange) {}
        void set_report_sink(exec::exec_report_sink* sink) noexcept override {
            exchange_.set_report_sink(sink);
        }
        [[nodiscard]] exec::gateway_error submit(const exec::order_request& request,
                                                 core::timestamp_ns now) noexcept override;
        [[nodiscard]] exec::gateway_error cancel(std::uint32_t symbol, exec::client_order_id id,
                                                 core::timestamp_ns now) noexcept override;
        [[nodiscard]] exec::gateway_error cancel_all(std::uint32_t symbol,
                                                     core::timestamp_ns now) noexcept override;
        std::size_t poll(core::timestamp_ns now) noexcept override { return exchange_.poll(now); }

    private:
        backtest_engine& engine_;
        exec::sim_exchange& exchange_;
    };

    /// What the engine knows of one of its orders, per quote-manager slot.
    struct tracked_order {
        exec::client_order_id id;
        core::side side = core::side::buy;
        std::uint8_t level = 0;
        core::price price;
        core::qty qty;
        core::qty cum;       ///< filled so far
        bool live = false;   ///< sent and not yet known to be done
        bool filled = false; ///< at least one fill (for the fill ratio)
    };

    /// A book mid at a time, for the mid at a fill's exchange time.
    struct mid_point {
        core::timestamp_ns time = 0;
        portfolio::mark_price mid;
    };
    static constexpr std::size_t mid_history_size = 64; // power of two

    static constexpr std::size_t slot_count = 2 * exec::max_quote_levels;

    void on_exec_report(const exec::exec_report& report) noexcept override;
    void on_book(core::price bid, core::price ask) noexcept;
    /// Hands the exchange the current book unless it has it (see step 2 above).
    void sync_exchange() noexcept;
    /// Rebuilds the view of our resting orders after the exchange processed anything.
    void refresh_resting() noexcept;
    void quote_and_manage() noexcept;
    void record_order(core::timestamp_ns time, const tracked_order& order, order_event event,
                      core::qty cum) noexcept;
    void record_sample(core::timestamp_ns time);
    [[nodiscard]] portfolio::mark_price mid_at(core::timestamp_ns time) const noexcept;
    [[nodiscard]] double base(core::qty q) const noexcept { return spec_.to_double(q); }
    [[nodiscard]] double quote_value(core::price p) const noexcept { return spec_.to_double(p); }

    backtest_config config_;
    core::symbol_spec spec_;
    std::uint64_t seed_ = 0;
    record_options keep_;
    double notional_unit_ = 1.0; // quote asset per notional unit

    synthetic_market market_;
    exec::sim_exchange exchange_;
    checked_gateway gateway_;
    strategy::quoting_strategy strategy_;
    portfolio::account account_;
    exec::quote_manager manager_;
    risk_hook* risk_ = nullptr;

    core::timestamp_ns now_ = 0;
    core::price best_bid_;
    core::price best_ask_;
    bool book_changed_ = true;
    bool halted_ = false;
    bool reports_since_update_ = false;
    bool requote_every_step_ = false;
    core::qty quoted_position_;
    std::int64_t quoted_cash_ = 0;
    strategy::quote_mode quote_mode_ = strategy::quote_mode::normal;
    strategy::quote_status quote_status_ = strategy::quote_status::ok;
    exec::desired_quotes last_desired_{};
    core::timestamp_ns manager_due_ = 0;
    core::duration_ns manager_refresh_ns_ = 0;
    core::timestamp_ns next_record_ = 0;

    // The book as the exchange last saw it.
    core::price exchange_bid_;
    core::price exchange_ask_;
    // Our resting orders per level as the order flow sees them, valid until the exchange next
    // processes anything; the best resting prices decide whether the book reaches them.
    std::array<quote_level, exec::max_quote_levels> resting_{};
    std::array<level_fill, exec::max_quote_levels> hits_{};
    core::price resting_bid_;
    core::price resting_ask_;
    bool any_resting_ = false;
    bool resting_dirty_ = true;
    bool syncing_ = false;
    bool in_report_ = false;

    std::array<tracked_order, slot_count> tracked_{};
    std::array<mid_point, mid_history_size> mid_history_{};
    std::uint64_t mid_history_count_ = 0;

    backtest_counters counters_;
    activity_counts activity_;
    std::vector<pnl_sample> pnl_;
    std::vector<fill_record> fills_;
    std::vector<order_record> orders_;
};

/// A whole single-path run and its records.
struct backtest_result {
    std::uint64_t seed = 0;
    backtest_counters counters;
    exec::quote_counters quotes;
    exec::sim_exchange_stats exchange;
    run_metrics metrics;
    std::vector<pnl_sample> pnl;
    std::vector<fill_record> fills;
    std::vector<order_record> orders;
};

/// Called between slices of a run (about 256 per run, never inside the step loop) with the
/// simulated time reached and the end, ns; for progress displays.
using progress_callback = std::function<void(core::timestamp_ns now, core::timestamp_ns end)>;

/// Makes the risk hook of one path (nullptr: none). Multi-path runs call it once per path on
/// the worker that runs the path, so it must be safe to call from several threads at once; the
/// hook lives as long as its path's engine.
using risk_hook_factory = std::function<std::shared_ptr<risk_hook>()>;

/// Runs one path of config.duration_ns with this seed, keeping every record.
[[nodiscard]] backtest_result run_backtest(const backtest_config& config,
                                           const core::symbol_spec& spec, std::uint64_t seed,
                                           const progress_callback& progress = {},
                                           const risk_hook_factory& risk = {});

/// The outcome of a multi-path run: one summary per path, their aggregate, and path 0 in full
/// (its records are the report's example charts).
struct multi_path_result {
    std::vector<path_summary> paths;
    multi_path_metrics metrics;
    backtest_result example;
    std::uint64_t total_steps = 0;
};

/// Runs `path_count` independent paths on the runner's workers; path i uses
/// derive_path_seed(base_seed, i), so the result does not depend on the thread count. Only
/// path 0 keeps its records; every other path keeps its pnl samples and fills only while it
/// computes its metrics.
[[nodiscard]] multi_path_result run_backtest_paths(const backtest_config& config,
                                                   const core::symbol_spec& spec,
                                                   std::uint64_t base_seed, std::size_t path_count,
                                                   path_runner& runner,
                                                   const risk_hook_factory& risk = {});

/// A single-run report over a result's records; the result must outlive the report.
[[nodiscard]] run_report make_run_report(const backtest_result& result,
                                         const core::symbol_spec& spec, std::string title,
                                         std::vector<report_parameter> parameters);

/// Report number formats for a symbol: prices at its tick precision, quantities at its step's.
[[nodiscard]] report_format report_format_for(const core::symbol_spec& spec) noexcept;

} // namespace quoter::sim
