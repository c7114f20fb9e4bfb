// Synthetic backtests over the one trading loop (the contract is in sim_backtest.hpp): one path,
// many paths on the path runner, several symbols in each. One piece, about 670 lines: the
// single-path run, the multi-path run and the multi-symbol portfolio share one step loop and
// one way of turning a finished run into its records, which must stay identical across them.
#include "quoter/engine/sim_backtest.hpp"

#include "quoter/sim/random.hpp"

#include <algorithm>
#include <limits>
#include <optional>
#include <utility>

namespace quoter::engine {

namespace {

// Stream tag of the exchange's latency generator, so that it is unrelated to the market's
// streams derived from the same seed.
constexpr std::uint64_t exchange_stream = 0x65786368616e6765ULL; // "exchange"

// Enough samples for most runs without reallocation; longer runs grow the vector.
constexpr std::size_t max_reserved_samples = std::size_t{1} << 20;

core_loop_config loop_config_for(const backtest_config& config, std::uint64_t seed,
                                 const backtest_symbol* symbol = nullptr) {
    core_loop_config out;
    out.symbol = 0;
    out.strategy = symbol != nullptr && symbol->strategy ? *symbol->strategy : config.strategy;
    auto& horizon = out.strategy.avellaneda_stoikov;
    if (horizon.horizon == strategy::horizon_kind::finite && horizon.terminal_time_ns <= 0) {
        horizon.terminal_time_ns = config.duration_ns; // the run ends at T
    }
    out.quotes = config.quotes;
    out.quotes.symbol = 0;
    out.exchange = config.exchange;
    out.exchange.seed = sim::mix64(seed ^ exchange_stream);
    out.risk = config.risk;
    if (symbol != nullptr && symbol->limits) {
        out.risk.limits = *symbol->limits;
    }
    out.account = {.initial_cash = config.initial_cash,
                   .maker_fee_bps = config.exchange.maker_fee_bps,
                   .taker_fee_bps = config.exchange.taker_fee_bps};
    return out;
}

core::price best_resting(const exec::sim_exchange& exchange, std::uint32_t symbol,
                         core::side side) noexcept {
    core::price best{0};
    bool found = false;
    exchange.for_each_open_order(symbol, side, [&](const exec::sim_order& order) {
        if (!found) {
            best = order.request.price;
            found = true;
        }
    });
    return best;
}

} // namespace

risk::risk_config permissive_risk() noexcept {
    risk::risk_config out;
    constexpr double unlimited_pct = 1e12;
    constexpr std::uint32_t unlimited_count = std::numeric_limits<std::uint32_t>::max() / 2;
    auto& l = out.limits;
    l.order_notional_pct = unlimited_pct;
    l.max_order_qty_base = 0.0;
    l.price_band_bps = unlimited_pct;
    l.max_new_orders_per_s = unlimited_count;
    l.max_new_orders_per_min = unlimited_count;
    l.max_cancels_per_s = unlimited_count;
    l.max_orders_per_day = unlimited_count;
    l.cancel_trade_ratio_block = 0.0;
    l.symbol_net_notional_pct = unlimited_pct;
    l.symbol_gross_notional_pct = unlimited_pct;
    l.portfolio_net_notional_pct = unlimited_pct;
    l.daily_loss_pct = unlimited_pct;
    l.drawdown_soft_pct = unlimited_pct;
    l.drawdown_hard_pct = unlimited_pct;
    l.inventory_flatten_pct = unlimited_pct;
    l.inventory_kill_pct = 0.0;
    auto& t = out.triggers;
    t.api_error_storm_count = 0;
    t.stale_market_data_ms = 0;
    t.max_slippage_ticks = 0;
    t.max_ack_delay_ms = 0;
    t.max_fill_delay_ms = 0;
    return out;
}

/// One symbol of a run: its market as a feed, the recorder in front of the exchange, its loop
/// and the order flow against its resting orders.
struct synthetic_run::lane {
    lane(const backtest_config& config, const backtest_symbol& symbol, std::size_t index,
         std::uint64_t seed, double cash, exec::sim_exchange& exchange, record_options keep,
         ops::journal* journal, ops::control_channel* control)
        : spec(symbol.spec), instrument{.book_spec = symbol.spec,
                                        .trading_spec = symbol.spec,
                                        .venue = md::market::spot},
          feed(symbol.market, spec, static_cast<md::symbol_id>(index),
               index == 0 ? seed : sim::mix64(seed ^ (lane_stream * index)),
               sim::synthetic_feed_config{.step_ns =
                                              std::max<core::duration_ns>(config.step_ns, 1)}),
          recorder(exchange, spec, keep), loop(lane_config(config, symbol, index, seed, cash),
                                               instrument, recorder, &exchange, journal, control),
          flow(static_cast<std::uint32_t>(index),
               config.quotes.levels > 0
                   ? config.quotes.levels
                   : static_cast<std::size_t>(
                         (symbol.strategy ? *symbol.strategy : config.strategy).levels.count)) {
        recorder.attach(&loop.account());
        loop.set_alert_sink(&recorder.alerts());
    }

    static core_loop_config lane_config(const backtest_config& config,
                                        const backtest_symbol& symbol, std::size_t index,
                                        std::uint64_t seed, double cash) {
        core_loop_config out = loop_config_for(config, seed, &symbol);
        out.symbol = static_cast<md::symbol_id>(index);
        set_exchange_lane(out, index);
        out.account.initial_cash = cash;
        return out;
    }

    static constexpr std::uint64_t lane_stream = 0x73796d626f6c0000ULL; // "symbol"

    core::symbol_spec spec;
    md::instrument instrument;
    sim::synthetic_feed feed;
    run_recorder recorder;
    core_loop loop;
    sim::order_flow flow;
    bool book = false; ///< The last advance_market() left a book event to deliver.
};

synthetic_run::synthetic_run(const backtest_config& config, const core::symbol_spec& spec,
                             std::uint64_t seed, record_options keep, ops::journal* journal,
                             ops::control_channel* control)
    : synthetic_run(config, std::array{backtest_symbol{spec, config.market}}, seed, keep, journal,
                    control) {}

synthetic_run::synthetic_run(const backtest_config& config,
                             std::span<const backtest_symbol> symbols, std::uint64_t seed,
                             record_options keep, ops::journal* journal,
                             ops::control_channel* control)
    : config_(config), seed_(seed), control_(control) {
    config_.step_ns = std::max<core::duration_ns>(config_.step_ns, 1);
    config_.record_interval_ns = std::max<core::duration_ns>(config_.record_interval_ns, 1);
    flow_end_ = config_.market.fills_at_end ? std::numeric_limits<core::timestamp_ns>::max()
                                            : config_.duration_ns;
    std::vector<core::symbol_spec> specs;
    for (const backtest_symbol& symbol : symbols) {
        specs.push_back(symbol.spec);
    }
    exec::sim_exchange_config exchange = loop_config_for(config_, seed).exchange;
    // Queue positions only decide how trade prints fill resting orders (sim_exchange::on_trade);
    // the synthetic feeds print none (the market's order flow fills through hit_order), so
    // tracking them on every book event would change nothing.
    exchange.queue_model = false;
    exchange_ = std::make_unique<exec::sim_exchange>(exchange, specs);
    const std::size_t count = std::min(symbols.size(), portfolio_exposure::max_symbols);
    const double cash = config_.initial_cash / static_cast<double>(std::max<std::size_t>(count, 1));
    for (std::size_t i = 0; i < count; ++i) {
        lanes_.push_back(std::make_unique<lane>(config_, symbols[i], i, seed, cash, *exchange_,
                                                keep, journal, i == 0 ? control : nullptr));
    }
    kills_ = kill_domain(lanes_);
    // Reports go to their symbol's recorder (each recorder set itself as the sink in turn).
    exchange_->set_report_sink(&router_);
    for (std::size_t i = 0; count > 1 && i < count; ++i) {
        lanes_[i]->loop.set_portfolio(&exposure_, i);
    }
    // Outputs that move with time alone must be recomputed on every step.
    const auto moves_with_time = [](const strategy::strategy_config& s) {
        return (s.model == strategy::model_kind::avellaneda_stoikov &&
                s.avellaneda_stoikov.horizon == strategy::horizon_kind::finite) ||
               (s.model != strategy::model_kind::linear && s.intensity.use_estimate);
    };
    requote_every_step_ = moves_with_time(config_.strategy);
    for (std::size_t i = 0; i < count; ++i) {
        if (symbols[i].strategy) {
            requote_every_step_ = requote_every_step_ || moves_with_time(*symbols[i].strategy);
        }
    }
    if (keep.pnl) {
        const auto expected = static_cast<std::size_t>(
            std::max<core::duration_ns>(config_.duration_ns, 0) / config_.record_interval_ns + 2);
        for (auto& l : lanes_) {
            l->recorder.reserve_samples(std::min(expected, max_reserved_samples));
        }
    }
    // Time 0: the first book, the first quotes, the first sample; the market has not moved.
    for (auto& l : lanes_) {
        md::md_event& event = l->feed.first();
        event.sequence = ++sequence_;
        event.symbol_sequence = 1;
        ++book_events_;
        l->loop.on_event(event, 0);
    }
    flow();
}

synthetic_run::~synthetic_run() = default;

void synthetic_run::report_router::on_exec_report(const exec::exec_report& report) noexcept {
    if (report.symbol < run_.lanes_.size()) {
        // The lane's loop trades through its recorder, so the recorder hands its reports to the
        // loop's risk gate: in direct calls here, the same path as report_input() takes.
        lane& l = *run_.lanes_[report.symbol];
        l.recorder.deliver(
            report, [&l](const exec::exec_report& tracked) { l.loop.take_venue_report(tracked); });
    }
}

bool synthetic_run::advance_market() noexcept {
    const bool always = requote_every_step_;
    for (const auto& l : lanes_) {
        l->book = l->feed.step(always);
    }
    now_ = lanes_[0]->feed.now();
    ++steps_;
    return lanes_[0]->book;
}

void synthetic_run::react(bool book) noexcept {
    (void)book;
    const core::timestamp_ns now = now_;
    for (const auto& owned : lanes_) {
        lane& l = *owned;
        if (l.book) {
            l.book = false;
            ++book_events_;
            md::md_event& event = l.feed.event();
            event.sequence = ++sequence_;
            ++event.symbol_sequence; // the lane's events are numbered from 1 in this event
            l.loop.on_event(event, now);
        } else {
            (void)l.loop.poll(now);
        }
        l.recorder.observe_mid(now);
    }
    kills_.follow(lanes_, now_);
}

void synthetic_run::flow() noexcept {
    if (now_ < flow_end_) {
        // With zero latencies the requests of step 1 (a replace's cancel and new order) and
        // their reports are due now: settle them, so the order flow meets the current quotes.
        if (exchange_->next_event_time() <= now_) [[unlikely]] {
            for (auto& l : lanes_) {
                (void)l->loop.poll(now_);
            }
        }
        for (auto& l : lanes_) {
            (void)l->flow.step(l->feed.market(), *exchange_, now_);
        }
    }
    if (now_ >= next_record_) [[unlikely]] {
        record_sample(now_);
    }
}

// The step's three parts in one body (flatten: they are inlined here), so that a step does not
// pay for three calls and their frames.
[[gnu::flatten]] void synthetic_run::step() noexcept {
    react(advance_market());
    flow();
}

void synthetic_run::run_until(core::timestamp_ns end) noexcept {
    while (now_ < end) {
        step();
    }
}

bool synthetic_run::poll() noexcept {
    bool running = true;
    for (auto& l : lanes_) {
        running = l->loop.poll(now_) && running;
    }
    kills_.follow(lanes_, now_);
    return running;
}

const core_loop& synthetic_run::loop(std::size_t symbol) const noexcept {
    return lanes_[symbol]->loop;
}
core_loop& synthetic_run::loop(std::size_t symbol) noexcept {
    return lanes_[symbol]->loop;
}
const sim::synthetic_market& synthetic_run::market(std::size_t symbol) const noexcept {
    return lanes_[symbol]->feed.market();
}
const run_recorder& synthetic_run::recorder(std::size_t symbol) const noexcept {
    return lanes_[symbol]->recorder;
}
run_recorder& synthetic_run::recorder(std::size_t symbol) noexcept {
    return lanes_[symbol]->recorder;
}
const core::symbol_spec& synthetic_run::spec(std::size_t symbol) const noexcept {
    return lanes_[symbol]->spec;
}

void synthetic_run::record_sample(core::timestamp_ns time) {
    for (std::size_t i = 0; i < lanes_.size(); ++i) {
        lanes_[i]->recorder.sample(time, working_bid(i), working_ask(i));
    }
    do {
        next_record_ += config_.record_interval_ns;
    } while (next_record_ <= time);
}

void synthetic_run::run() {
    run_until(config_.duration_ns);
    for (std::size_t i = 0; i < lanes_.size(); ++i) {
        const auto pnl = lanes_[i]->recorder.pnl();
        if (!pnl.empty() && pnl.back().time_ns < now_) {
            lanes_[i]->recorder.sample(now_, working_bid(i), working_ask(i));
        }
    }
}

void synthetic_run::stop() {
    for (auto& l : lanes_) {
        l->loop.shutdown(now_);
    }
    // Only the exchange's clock moves: the cancels arrive and their reports come back. Bounded,
    // since every round trip of a cancel-all may still meet orders that were in flight.
    for (int round = 0; round < 256 && exchange_->pending_events() != 0; ++round) {
        const core::timestamp_ns at = exchange_->next_event_time();
        for (auto& l : lanes_) {
            (void)l->loop.poll(at);
        }
    }
    const core::timestamp_ns end = std::max(now_, exchange_->now());
    for (std::size_t i = 0; i < lanes_.size(); ++i) {
        const auto pnl = lanes_[i]->recorder.pnl();
        if (pnl.empty() || pnl.back().time_ns < end) {
            lanes_[i]->recorder.sample(end, working_bid(i), working_ask(i));
        }
    }
}

backtest_counters synthetic_run::counters() const noexcept {
    backtest_counters out;
    out.steps = steps_;
    out.book_events = book_events_;
    for (const auto& l : lanes_) {
        const risk_gate& gate = l->loop.gate();
        out.risk_refusals += gate.risk_rejects();
        for (std::size_t i = 0; i < out.refusals_by_reason.size(); ++i) {
            out.refusals_by_reason[i] += gate.risk_rejects(static_cast<risk::reject_reason>(i));
        }
        const exec::quote_manager& quotes = l->loop.quotes();
        out.rate_holds += quotes.counters().rate_holds;
        out.rate_held_ns += quotes.held_ns(now_);
        const risk::kill_switch& state = l->loop.risk().switch_state();
        out.killed = out.killed || state.state() != risk::trading_state::running ||
                     state.kill_count() != 0 || l->loop.stats().pauses != 0;
    }
    return out;
}

core::price synthetic_run::working_bid(std::size_t symbol) const noexcept {
    return best_resting(*exchange_, static_cast<std::uint32_t>(symbol), core::side::buy);
}

core::price synthetic_run::working_ask(std::size_t symbol) const noexcept {
    return best_resting(*exchange_, static_cast<std::uint32_t>(symbol), core::side::sell);
}

double synthetic_run::mid(std::size_t symbol) const noexcept {
    const risk::market_view m = loop(symbol).market();
    return 0.5 * static_cast<double>(m.best_bid.ticks() + m.best_ask.ticks()) *
           spec(symbol).tick_size();
}

sim::metrics_config synthetic_run::metrics_settings() const noexcept {
    sim::metrics_config settings;
    settings.initial_capital = config_.initial_cash / static_cast<double>(lanes_.size());
    settings.return_period_s = config_.return_period_s;
    settings.soft_limit_pct = config_.strategy.bands.soft_limit_pct;
    settings.hard_limit_pct = config_.strategy.bands.hard_limit_pct;
    return settings;
}

sim::run_metrics synthetic_run::metrics(std::size_t symbol) const {
    const run_recorder& r = recorder(symbol);
    sim::run_metrics out =
        sim::compute_metrics(r.pnl(), r.fills(), r.activity(), metrics_settings());
    out.mean_quoted_spread = mean_quoted_spread(symbol);
    sim::set_markouts(out, r.markouts());
    set_rate_holds(out, loop(symbol).quotes(), r, now_);
    return out;
}

double synthetic_run::mean_quoted_spread(std::size_t symbol) const noexcept {
    const sim::order_flow& flow = lanes_[symbol]->flow;
    if (flow.two_sided_steps() == 0) {
        return std::numeric_limits<double>::quiet_NaN();
    }
    return static_cast<double>(flow.quoted_spread_ticks()) * spec(symbol).tick_size() /
           static_cast<double>(flow.two_sided_steps());
}

// ---------------------------------------------------------------------------------------------
// Whole runs

namespace {

backtest_result collect(synthetic_run& run, const sim::run_metrics& metrics,
                        std::size_t symbol = 0) {
    backtest_result result;
    result.seed = run.seed();
    result.counters = run.counters();
    result.quotes = run.loop(symbol).quotes().counters();
    result.exchange = run.exchange().stats();
    result.loop = run.loop(symbol).stats();
    result.gate = run.loop(symbol).gate().counts();
    result.metrics = metrics;
    result.pnl = run.recorder(symbol).take_pnl();
    result.fills = run.recorder(symbol).take_fills();
    result.orders = run.recorder(symbol).take_orders();
    result.alerts = run.recorder(symbol).alerts();
    return result;
}

struct path_outcome {
    sim::path_summary summary;
    std::uint64_t steps = 0;
    gate_counts gate;
    std::uint64_t rate_holds = 0;
    core::duration_ns rate_held_ns = 0;
    bool halted = false;
    alert_tally alerts;
    std::vector<double> pnl_grid; ///< PnL at spread_points evenly spaced samples
};

/// Points per path of the PnL spread chart.
constexpr std::size_t spread_points = 200;

/// PnL (equity - initial) at `points` evenly spaced samples, first and last included.
std::vector<double> pnl_on_grid(std::span<const sim::pnl_sample> pnl, double initial,
                                std::size_t points) {
    std::vector<double> out;
    if (pnl.empty()) {
        return out;
    }
    const std::size_t n = std::min(points, pnl.size());
    out.reserve(n);
    for (std::size_t k = 0; k < n; ++k) {
        const std::size_t i = n == 1 ? 0 : k * (pnl.size() - 1) / (n - 1);
        out.push_back(pnl[i].equity - initial);
    }
    return out;
}

} // namespace

backtest_result run_backtest(const backtest_config& config, const core::symbol_spec& spec,
                             std::uint64_t seed, const progress_callback& progress) {
    auto results =
        run_backtest(config, std::array{backtest_symbol{spec, config.market}}, seed, progress);
    return std::move(results.front());
}

std::vector<backtest_result> run_backtest(const backtest_config& config,
                                          std::span<const backtest_symbol> symbols,
                                          std::uint64_t seed, const progress_callback& progress) {
    const auto run = std::make_unique<synthetic_run>(config, symbols, seed);
    if (progress) {
        constexpr core::timestamp_ns slices = 256;
        const core::timestamp_ns end = config.duration_ns;
        const core::duration_ns slice = std::max<core::duration_ns>(end / slices, 1);
        while (run->now() < end) {
            run->run_until(std::min(run->now() + slice, end));
            progress(run->now(), end);
        }
    }
    run->run();
    return take_results(*run);
}

std::vector<backtest_result> take_results(synthetic_run& run) {
    std::vector<backtest_result> out;
    for (std::size_t i = 0; i < run.symbol_count(); ++i) {
        const sim::run_metrics metrics = run.metrics(i);
        out.push_back(collect(run, metrics, i));
    }
    return out;
}

namespace {

/// One path's outcome for one view (a symbol, or the portfolio) of a run.
path_outcome outcome_of(const sim::path_context& path, const sim::run_metrics& metrics,
                        const backtest_counters& counters, const gate_counts& orders,
                        std::span<const sim::pnl_sample> pnl, double initial_capital,
                        const alert_tally& alerts) {
    return path_outcome{sim::summarize_path(path.index, path.seed, metrics),
                        counters.steps,
                        orders,
                        counters.rate_holds,
                        counters.rate_held_ns,
                        counters.killed,
                        alerts,
                        pnl_on_grid(pnl, initial_capital, spread_points)};
}

/// The multi-path result of one view from its paths' outcomes, in path order, and path 0's
/// records.
multi_path_result assemble_paths(std::span<const path_outcome> outcomes,
                                 std::optional<backtest_result> example) {
    multi_path_result result;
    result.paths.reserve(outcomes.size());
    for (const auto& outcome : outcomes) {
        result.paths.push_back(outcome.summary);
        result.total_steps += outcome.steps;
        result.gate += outcome.gate;
        result.rate_holds += outcome.rate_holds;
        result.rate_held_ns += outcome.rate_held_ns;
        result.halted_paths += outcome.halted ? 1 : 0;
        result.alerts.merge(outcome.alerts); // path order: independent of the thread count
    }
    result.metrics = sim::aggregate_paths(result.paths);
    // Every path has the same sample times: path 0's give the grid's.
    std::vector<std::vector<double>> grids;
    grids.reserve(outcomes.size());
    for (const auto& outcome : outcomes) {
        grids.push_back(outcome.pnl_grid);
    }
    if (example && !grids.empty() && !grids.front().empty()) {
        const auto& pnl = example->pnl;
        const std::size_t n = grids.front().size();
        std::vector<double> x_s;
        x_s.reserve(n);
        for (std::size_t k = 0; k < n; ++k) {
            const std::size_t i = n == 1 ? 0 : k * (pnl.size() - 1) / (n - 1);
            x_s.push_back(static_cast<double>(pnl[i].time_ns - pnl.front().time_ns) * 1e-9);
        }
        result.spread = sim::make_equity_spread(std::move(x_s), grids);
    }
    if (example) {
        result.example = std::move(*example);
    }
    return result;
}

/// The portfolio's records of a many-symbol run (see multi_symbol_paths_result).
struct portfolio_records {
    std::vector<sim::pnl_sample> pnl;
    std::vector<sim::fill_record> fills;
    std::vector<sim::order_record> orders;
    sim::activity_counts activity;
    alert_tally alerts;
};

portfolio_records combine_symbols(const synthetic_run& run) {
    portfolio_records out;
    std::size_t samples = std::numeric_limits<std::size_t>::max();
    for (std::size_t s = 0; s < run.symbol_count(); ++s) {
        samples = std::min(samples, run.recorder(s).pnl().size());
    }
    samples = run.symbol_count() == 0 ? 0 : samples;
    out.pnl.resize(samples);
    for (std::size_t i = 0; i < samples; ++i) {
        sim::pnl_sample& p = out.pnl[i];
        p.time_ns = run.recorder(0).pnl()[i].time_ns;
        p.mid = 1.0;
        for (std::size_t s = 0; s < run.symbol_count(); ++s) {
            const sim::pnl_sample& x = run.recorder(s).pnl()[i];
            p.inventory += x.inventory * x.mid;
            p.cash += x.cash;
            p.equity += x.equity;
            p.realized_pnl += x.realized_pnl;
            p.unrealized_pnl += x.unrealized_pnl;
            p.fees += x.fees;
        }
    }
    for (std::size_t s = 0; s < run.symbol_count(); ++s) {
        const run_recorder& r = run.recorder(s);
        out.fills.insert(out.fills.end(), r.fills().begin(), r.fills().end());
        out.orders.insert(out.orders.end(), r.orders().begin(), r.orders().end());
        const sim::activity_counts& a = r.activity();
        out.activity.orders_submitted += a.orders_submitted;
        out.activity.orders_filled += a.orders_filled;
        out.activity.cancels += a.cancels;
        out.activity.rejects += a.rejects;
        out.alerts.merge(r.alerts());
    }
    const auto by_time = [](const auto& a, const auto& b) { return a.time_ns < b.time_ns; };
    std::stable_sort(out.fills.begin(), out.fills.end(), by_time);
    std::stable_sort(out.orders.begin(), out.orders.end(), by_time);
    return out;
}

} // namespace

multi_path_result run_backtest_paths(const backtest_config& config, const core::symbol_spec& spec,
                                     std::uint64_t base_seed, std::size_t path_count,
                                     sim::path_runner& runner) {
    std::optional<backtest_result> example;
    const auto outcomes = runner.run(path_count, base_seed, [&](const sim::path_context& path) {
        const bool is_example = path.index == 0;
        const auto run = std::make_unique<synthetic_run>(
            config, spec, path.seed,
            record_options{.pnl = true, .fills = true, .orders = is_example});
        run->run();
        const sim::run_metrics metrics = run->metrics();
        path_outcome outcome = outcome_of(
            path, metrics, run->counters(), run->loop().gate().counts(), run->recorder().pnl(),
            run->metrics_settings().initial_capital, run->recorder().alerts());
        if (is_example) {
            example.emplace(collect(*run, metrics)); // only path 0 writes it
        }
        return outcome;
    });
    return assemble_paths(outcomes, std::move(example));
}

multi_symbol_paths_result run_backtest_paths(const backtest_config& config,
                                             std::span<const backtest_symbol> symbols,
                                             std::uint64_t base_seed, std::size_t path_count,
                                             sim::path_runner& runner) {
    const std::size_t count = std::min(symbols.size(), portfolio_exposure::max_symbols);
    // Per path: one outcome per symbol, then the portfolio's.
    std::vector<std::optional<backtest_result>> examples(count + 1);
    const auto outcomes = runner.run(path_count, base_seed, [&](const sim::path_context& path) {
        const bool is_example = path.index == 0;
        const auto run = std::make_unique<synthetic_run>(
            config, symbols, path.seed,
            record_options{.pnl = true, .fills = true, .orders = is_example});
        run->run();
        const backtest_counters counters = run->counters();
        // Before collect() takes the symbols' records.
        portfolio_records whole = combine_symbols(*run);
        std::vector<path_outcome> out;
        out.reserve(count + 1);
        std::uint64_t rate_holds = 0;
        double rate_held_s = 0.0;
        gate_counts all_orders;
        for (std::size_t s = 0; s < count; ++s) {
            const sim::run_metrics metrics = run->metrics(s);
            rate_holds += metrics.rate_holds;
            rate_held_s += metrics.rate_held_s;
            const gate_counts orders = run->loop(s).gate().counts();
            all_orders += orders;
            out.push_back(outcome_of(path, metrics, counters, orders, run->recorder(s).pnl(),
                                     run->metrics_settings().initial_capital,
                                     run->recorder(s).alerts()));
            if (is_example) {
                examples[s].emplace(collect(*run, metrics, s)); // only path 0 writes them
            }
        }
        sim::metrics_config settings = run->metrics_settings();
        settings.initial_capital = config.initial_cash;
        sim::run_metrics metrics =
            sim::compute_metrics(whole.pnl, whole.fills, whole.activity, settings);
        sim::set_rate_holds(metrics, rate_holds, rate_held_s, count);
        out.push_back(outcome_of(path, metrics, counters, all_orders, whole.pnl,
                                 settings.initial_capital, whole.alerts));
        if (is_example) {
            backtest_result result;
            result.seed = run->seed();
            result.counters = counters;
            result.gate = all_orders;
            result.exchange = run->exchange().stats();
            result.metrics = metrics;
            result.pnl = std::move(whole.pnl);
            result.fills = std::move(whole.fills);
            result.orders = std::move(whole.orders);
            result.alerts = whole.alerts;
            examples[count].emplace(std::move(result));
        }
        return out;
    });
    multi_symbol_paths_result result;
    for (std::size_t view = 0; view <= count; ++view) {
        std::vector<path_outcome> paths;
        paths.reserve(outcomes.size());
        for (const auto& per_path : outcomes) {
            paths.push_back(per_path[view]);
        }
        multi_path_result assembled = assemble_paths(paths, std::move(examples[view]));
        if (view < count) {
            result.symbols.push_back(std::move(assembled));
        } else {
            result.portfolio = std::move(assembled);
        }
    }
    return result;
}

sim::run_report make_run_report(const backtest_result& result, const core::symbol_spec& spec,
                                std::string title, std::vector<sim::report_parameter> parameters) {
    sim::run_report report;
    report.title = std::move(title);
    report.pnl = result.pnl;
    report.fills = result.fills;
    report.orders = result.orders;
    report.metrics = result.metrics;
    report.parameters = std::move(parameters);
    report.counters = report_counters(result.gate);
    report.alerts = report_alerts(result.alerts);
    report.format = sim::report_format_for(spec);
    return report;
}

} // namespace quoter::engine
