// sim_backtest: backtests on the synthetic market through the core loop. The synthetic market is
// a market-data source (sim::synthetic_feed) like a capture or the live feed; its order flow
// fills resting orders on the simulated exchange beside it (sim::order_flow), so fills reach the
// loop as execution reports; a run_recorder between the loop's risk gate and the exchange
// records what happened for the metrics and reports. The loop is the one that replays captures
// and paper-trades: same strategy, quote manager, risk checks, account and journal.
//
// One step of step_ns, in this order:
//   1. the market moves; when the visible top changed (or a heartbeat is due, or the strategy's
//      output moves with time alone) the loop gets the book event, otherwise a poll: either way
//      the exchange delivers the reports due by now and the risk engine runs its time checks;
//   2. order flow: the market decides which resting orders are hit during the step; their fill
//      reports reach the loop after the exchange's report latency. Requests and reports due by
//      now (zero latencies) are settled first, so a quote replaced in step 1 is the one the
//      order flow meets, not the one it replaced;
//   3. a pnl sample every record_interval_ns of simulated time.
// Time 0 is a step of its own without a market move (the first quotes, their order flow when they
// already rest, and the first sample). With market.fills_at_end false the step reaching the end
// draws no order flow.
//
// Invariants:
// - No wall clock: time is the synthetic market's. The same config and seed give the same
//   records, byte for byte once formatted, on every run (the exchange's latency stream is
//   derived from the seed, independent of the market's streams).
// - Every pnl sample satisfies equity = cash + inventory * mid up to one notional unit.
//
// Threading: a run belongs to one thread; separate runs (one per path) run in parallel.
#pragma once

#include "quoter/core/symbol_spec.hpp"
#include "quoter/core/time.hpp"
#include "quoter/engine/core_loop.hpp"
#include "quoter/engine/kill_domain.hpp"
#include "quoter/engine/run_recorder.hpp"
#include "quoter/exec/quote_manager.hpp"
#include "quoter/exec/sim_exchange.hpp"
#include "quoter/md/instrument.hpp"
#include "quoter/risk/risk_engine.hpp"
#include "quoter/sim/metrics.hpp"
#include "quoter/sim/order_flow.hpp"
#include "quoter/sim/path_runner.hpp"
#include "quoter/sim/report.hpp"
#include "quoter/sim/synthetic_feed.hpp"
#include "quoter/sim/synthetic_market.hpp"
#include "quoter/strategy/strategy_config.hpp"

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace quoter::engine {

/// Everything one simulated run needs, as plain module configs.
struct backtest_config {
    strategy::strategy_config strategy;
    sim::market_config market;
    exec::sim_exchange_config exchange;
    /// Quote levels beyond quotes.levels are not quoted; keep it >= strategy.levels.count.
    exec::quote_manager_config quotes;
    /// Pre-trade checks, triggers and alarms of the loop.
    risk::risk_config risk;
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

/// Risk limits that never refuse an order or halt trading, for runs that study the strategy
/// alone.
[[nodiscard]] risk::risk_config permissive_risk() noexcept;

/// Counts of one run beyond the records.
struct backtest_counters {
    std::uint64_t steps = 0;         ///< market steps after time 0
    std::uint64_t book_events = 0;   ///< book events the loop got
    std::uint64_t risk_refusals = 0; ///< orders the pre-trade checks refused
    /// Refusals by reason (index: risk::reject_reason).
    std::array<std::uint64_t, risk::reject_reason_count> refusals_by_reason{};
    /// Holds of new orders after an order-rate refusal (exec::quote_counters::rate_holds), and
    /// the time they lasted up to the run's time, ns (exec::quote_manager::held_ns), summed over
    /// the symbols.
    std::uint64_t rate_holds = 0;
    core::duration_ns rate_held_ns = 0;
    bool killed = false; ///< trading was halted (kill or pause) at least once
};

/// One more symbol of a many-symbol run: its filters and its synthetic market. The quote and
/// exchange settings are the run's; the strategy and the risk limits are the run's unless the
/// symbol has its own (the portfolio-level limit, portfolio_net_notional_pct, is read from
/// every symbol's limits and applies across them; give every symbol the same).
struct backtest_symbol {
    core::symbol_spec spec;
    sim::market_config market;
    /// This symbol's strategy instead of the run's.
    std::optional<strategy::strategy_config> strategy{};
    /// This symbol's limits instead of the run's risk.limits (triggers and alarms stay the run's).
    std::optional<risk::risk_limits> limits{};
};

class synthetic_run {
public:
    /// Builds the run at time 0 and takes the time-0 step. seed drives the market and the
    /// exchange's latencies (derived streams). journal (optional) receives the loop's journal
    /// and control (optional) its commands; both must outlive the run.
    synthetic_run(const backtest_config& config, const core::symbol_spec& spec, std::uint64_t seed,
                  record_options keep = {}, ops::journal* journal = nullptr,
                  ops::control_channel* control = nullptr);
    /// Many symbols in one loop: `symbols` (at least one; the first is the single-symbol run's
    /// symbol on the same seed) each get their own market, strategy, quote manager, account
    /// (initial_cash split evenly) and risk limits on one simulated exchange; the
    /// portfolio-level limits see every symbol's exposure. Symbol i is md symbol id i and
    /// exchange symbol index i. The control channel reaches symbol 0's loop (a kill there is
    /// forwarded to every symbol at the next step).
    synthetic_run(const backtest_config& config, std::span<const backtest_symbol> symbols,
                  std::uint64_t seed, record_options keep = {}, ops::journal* journal = nullptr,
                  ops::control_channel* control = nullptr);
    synthetic_run(const synthetic_run&) = delete;
    synthetic_run& operator=(const synthetic_run&) = delete;
    ~synthetic_run();

    /// One market step, order flow and sample (see the file comment).
    void step() noexcept;
    /// Moves every symbol's market one step without the loop's reaction (react() follows).
    /// Returns true when symbol 0's book changed.
    [[nodiscard]] bool advance_market() noexcept;
    /// Step 1 for every symbol: book events (or polls) into the loop. book: symbol 0's
    /// advance_market() result.
    void react(bool book) noexcept;
    /// Steps 2 and 3.
    void flow() noexcept;
    /// Steps until simulated time reaches end (ns).
    void run_until(core::timestamp_ns end) noexcept;
    /// Steps until config.duration_ns, then records the final sample if not on the grid.
    void run();
    /// Commands and time checks between steps (a kill cancels without waiting for the market).
    bool poll() noexcept;
    /// Graceful end: cancels every order, lets the exchange answer (its time alone moves,
    /// bounded) and records a last sample.
    void stop();

    [[nodiscard]] std::size_t symbol_count() const noexcept { return lanes_.size(); }
    [[nodiscard]] core::timestamp_ns now() const noexcept { return now_; }
    [[nodiscard]] const core_loop& loop(std::size_t symbol = 0) const noexcept;
    [[nodiscard]] core_loop& loop(std::size_t symbol = 0) noexcept;
    [[nodiscard]] const exec::sim_exchange& exchange() const noexcept { return *exchange_; }
    [[nodiscard]] const sim::synthetic_market& market(std::size_t symbol = 0) const noexcept;
    [[nodiscard]] const run_recorder& recorder(std::size_t symbol = 0) const noexcept;
    [[nodiscard]] run_recorder& recorder(std::size_t symbol = 0) noexcept;
    [[nodiscard]] const portfolio::account& account(std::size_t symbol = 0) const noexcept {
        return loop(symbol).account();
    }
    [[nodiscard]] const backtest_config& config() const noexcept { return config_; }
    [[nodiscard]] const core::symbol_spec& spec(std::size_t symbol = 0) const noexcept;
    [[nodiscard]] std::uint64_t seed() const noexcept { return seed_; }
    [[nodiscard]] const portfolio_exposure& exposure() const noexcept { return exposure_; }
    /// Counters over every symbol, refusals and halts included.
    [[nodiscard]] backtest_counters counters() const noexcept;
    /// Best resting bid and ask of ours on the exchange (price 0: none).
    [[nodiscard]] core::price working_bid(std::size_t symbol = 0) const noexcept;
    [[nodiscard]] core::price working_ask(std::size_t symbol = 0) const noexcept;
    /// Book mid, quote asset per base unit.
    [[nodiscard]] double mid(std::size_t symbol = 0) const noexcept;

    [[nodiscard]] sim::metrics_config metrics_settings() const noexcept;
    /// Metrics of one symbol's recorded samples and fills (needs both kept), with the mean
    /// quoted spread the order flow met and its order-rate holds up to the last sample.
    [[nodiscard]] sim::run_metrics metrics(std::size_t symbol = 0) const;
    /// Average best ask - best bid of ours when the order flow was drawn with both sides
    /// quoted, quote units per base unit; NaN when never.
    [[nodiscard]] double mean_quoted_spread(std::size_t symbol = 0) const noexcept;

private:
    struct lane;
    /// Routes the exchange's reports to the recorder of their symbol and on to its loop, in
    /// direct calls (run_recorder::deliver, core_loop::take_venue_report).
    class report_router final : public exec::exec_report_sink {
    public:
        explicit report_router(synthetic_run& run) noexcept : run_(run) {}
        void on_exec_report(const exec::exec_report& report) noexcept override;

    private:
        synthetic_run& run_;
    };

    void record_sample(core::timestamp_ns time);

    backtest_config config_;
    std::uint64_t seed_;
    std::unique_ptr<exec::sim_exchange> exchange_;
    portfolio_exposure exposure_;
    std::vector<std::unique_ptr<lane>> lanes_;
    report_router router_{*this};
    ops::control_channel* control_ = nullptr;
    bool requote_every_step_ = false;
    core::timestamp_ns now_ = 0;
    /// Order flow is drawn in the steps before this time (market.fills_at_end).
    core::timestamp_ns flow_end_ = 0;
    core::timestamp_ns next_record_ = 0;
    std::uint64_t sequence_ = 0;
    std::uint64_t steps_ = 0;
    std::uint64_t book_events_ = 0;
    /// The symbols are one kill domain; symbol 0's loop takes the control channel's commands.
    kill_domain kills_;
};

/// A whole single-path run and its records.
struct backtest_result {
    std::uint64_t seed = 0;
    backtest_counters counters;
    exec::quote_counters quotes;
    exec::sim_exchange_stats exchange;
    core_loop_stats loop;
    /// The symbol's orders sent and refused (the portfolio's: every symbol's).
    gate_counts gate;
    sim::run_metrics metrics;
    std::vector<sim::pnl_sample> pnl;
    std::vector<sim::fill_record> fills;
    std::vector<sim::order_record> orders;
    /// Alerts the loop raised, counted by kind with the first few kept.
    alert_tally alerts;
};

/// Called between slices of a run (about 256 per run) with the simulated time reached and the
/// end, ns; for progress displays.
using progress_callback = std::function<void(core::timestamp_ns now, core::timestamp_ns end)>;

/// Runs one path of config.duration_ns with this seed, keeping every record.
[[nodiscard]] backtest_result run_backtest(const backtest_config& config,
                                           const core::symbol_spec& spec, std::uint64_t seed,
                                           const progress_callback& progress = {});

/// Runs one path of several symbols in one loop (see synthetic_run), keeping every record: one
/// result per symbol, in the order given, each with that symbol's metrics and records (seed,
/// counters and exchange statistics are the run's). One symbol gives exactly run_backtest's.
[[nodiscard]] std::vector<backtest_result> run_backtest(const backtest_config& config,
                                                        std::span<const backtest_symbol> symbols,
                                                        std::uint64_t seed,
                                                        const progress_callback& progress = {});

/// One result per symbol of a run that kept its records (record_options), as run_backtest
/// returns them: the metrics, counters and records up to the run's last sample. Takes the
/// records out of the run's recorders.
[[nodiscard]] std::vector<backtest_result> take_results(synthetic_run& run);

/// The outcome of a multi-path run: one summary per path, their aggregate, and path 0 in full.
struct multi_path_result {
    std::vector<sim::path_summary> paths;
    sim::multi_path_metrics metrics;
    backtest_result example;
    std::uint64_t total_steps = 0;
    gate_counts gate;               ///< sent and refused over every path
    std::uint64_t halted_paths = 0; ///< paths that were halted at least once
    alert_tally alerts;             ///< over every path (examples from the first paths)
    sim::equity_spread spread;      ///< PnL quantiles across paths over time
    /// Order-rate holds and the time they lasted, ns, over every path (backtest_counters).
    std::uint64_t rate_holds = 0;
    core::duration_ns rate_held_ns = 0;
};

/// Runs path_count independent paths on the runner's workers; path i uses
/// derive_path_seed(base_seed, i), so the result does not depend on the thread count. Only path
/// 0 keeps its order records.
[[nodiscard]] multi_path_result run_backtest_paths(const backtest_config& config,
                                                   const core::symbol_spec& spec,
                                                   std::uint64_t base_seed, std::size_t path_count,
                                                   sim::path_runner& runner);

/// The outcome of a multi-path run of several symbols in one loop (see synthetic_run): per
/// symbol what run_backtest_paths gives for one (the symbol's records, metrics on its share of
/// initial_cash), and the portfolio's. Portfolio samples sum the symbols' cash, equity and PnL
/// at each sample time (every symbol samples on one grid) and value the inventory as net
/// notional: inventory = sum of position * mid, quote units, with mid 1; its fills and orders
/// are every symbol's, by time; its metrics are on the whole initial_cash. Refusals, halts,
/// steps and alerts are the run's (every symbol) in both.
struct multi_symbol_paths_result {
    std::vector<multi_path_result> symbols; ///< In the order given.
    multi_path_result portfolio;
};

/// Runs path_count independent paths of several symbols in one loop; path i uses
/// derive_path_seed(base_seed, i) as run_backtest_paths does, so one symbol gives its paths.
[[nodiscard]] multi_symbol_paths_result
run_backtest_paths(const backtest_config& config, std::span<const backtest_symbol> symbols,
                   std::uint64_t base_seed, std::size_t path_count, sim::path_runner& runner);

/// A single-run report over a result's records; the result must outlive the report.
[[nodiscard]] sim::run_report make_run_report(const backtest_result& result,
                                              const core::symbol_spec& spec, std::string title,
                                              std::vector<sim::report_parameter> parameters);

} // namespace quoter::engine
