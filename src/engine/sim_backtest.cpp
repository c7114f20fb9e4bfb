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

core_loop_config loop_config_for(const backtest_config& config, std::uint64_t seed) {
    core_loop_config out;
    out.symbol = 0;
    out.strategy = config.strategy;
    auto& horizon = out.strategy.avellaneda_stoikov;
    if (horizon.horizon == strategy::horizon_kind::finite && horizon.terminal_time_ns <= 0) {
        horizon.terminal_time_ns = config.duration_ns; // the run ends at T
    }
    out.quotes = config.quotes;
    out.quotes.symbol = 0;
    out.exchange = config.exchange;
    out.exchange.seed = sim::mix64(seed ^ exchange_stream);
    out.risk = config.risk;
    out.account = {.initial_cash = config.initial_cash,
                   .maker_fee_bps = config.exchange.maker_fee_bps,
                   .taker_fee_bps = config.exchange.taker_fee_bps};
    return out;
}

core::price best_resting(const exec::sim_exchange& exchange, core::side side) noexcept {
    core::price best{0};
    bool found = false;
    exchange.for_each_open_order(0, side, [&](const exec::sim_order& order) {
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

synthetic_run::synthetic_run(const backtest_config& config, const core::symbol_spec& spec,
                             std::uint64_t seed, record_options keep, ops::journal* journal,
                             ops::control_channel* control)
    : config_(config),
      spec_(spec), instrument_{.book_spec = spec, .trading_spec = spec, .venue = md::market::spot},
      seed_(seed),
      feed_(config.market, spec, 0, seed,
            sim::synthetic_feed_config{.step_ns = std::max<core::duration_ns>(config.step_ns, 1)}),
      exchange_(loop_config_for(config, seed).exchange, {&spec_, 1}),
      recorder_(exchange_, spec_, keep),
      loop_(loop_config_for(config, seed), instrument_, recorder_, &exchange_, journal, control),
      flow_(0, config.quotes.levels > 0 ? config.quotes.levels
                                        : static_cast<std::size_t>(config.strategy.levels.count)) {
    config_.step_ns = std::max<core::duration_ns>(config_.step_ns, 1);
    config_.record_interval_ns = std::max<core::duration_ns>(config_.record_interval_ns, 1);
    recorder_.attach(&loop_.account());
    // Outputs that move with time alone must be recomputed on every step.
    const auto& s = config_.strategy;
    requote_every_step_ = (s.model == strategy::model_kind::avellaneda_stoikov &&
                           s.avellaneda_stoikov.horizon == strategy::horizon_kind::finite) ||
                          (s.model != strategy::model_kind::linear && s.intensity.use_estimate);
    if (keep.pnl) {
        const auto expected = static_cast<std::size_t>(
            std::max<core::duration_ns>(config_.duration_ns, 0) / config_.record_interval_ns + 2);
        recorder_.reserve_samples(std::min(expected, max_reserved_samples));
    }
    // Time 0: the first book, the first quotes, the first sample; the market has not moved.
    event_ = feed_.first();
    event_.sequence = ++sequence_;
    ++counters_.book_events;
    loop_.on_event(event_, 0);
    flow();
}

void synthetic_run::record_sample(core::timestamp_ns time) {
    recorder_.sample(time, working_bid(), working_ask());
    do {
        next_record_ += config_.record_interval_ns;
    } while (next_record_ <= time);
}

void synthetic_run::run() {
    run_until(config_.duration_ns);
    const auto pnl = recorder_.pnl();
    if (!pnl.empty() && pnl.back().time_ns < now_) {
        recorder_.sample(now_, working_bid(), working_ask());
    }
}

void synthetic_run::stop() {
    loop_.shutdown(now_);
    // Only the exchange's clock moves: the cancels arrive and their reports come back. Bounded,
    // since every round trip of a cancel-all may still meet orders that were in flight.
    for (int round = 0; round < 256 && exchange_.pending_events() != 0; ++round) {
        (void)loop_.poll(exchange_.next_event_time());
    }
    const core::timestamp_ns end = std::max(now_, exchange_.now());
    const auto pnl = recorder_.pnl();
    if (pnl.empty() || pnl.back().time_ns < end) {
        recorder_.sample(end, working_bid(), working_ask());
    }
}

backtest_counters synthetic_run::counters() const noexcept {
    backtest_counters out = counters_;
    out.risk_refusals = loop_.gate().risk_rejects();
    for (std::size_t i = 0; i < out.refusals_by_reason.size(); ++i) {
        out.refusals_by_reason[i] = loop_.gate().risk_rejects(static_cast<risk::reject_reason>(i));
    }
    out.killed = loop_.risk().switch_state().state() != risk::trading_state::running ||
                 loop_.stats().pauses != 0 || loop_.risk().switch_state().kill_count() != 0;
    return out;
}

core::price synthetic_run::working_bid() const noexcept {
    return best_resting(exchange_, core::side::buy);
}

core::price synthetic_run::working_ask() const noexcept {
    return best_resting(exchange_, core::side::sell);
}

double synthetic_run::mid() const noexcept {
    const risk::market_view m = loop_.market();
    return 0.5 * static_cast<double>(m.best_bid.ticks() + m.best_ask.ticks()) * spec_.tick_size();
}

sim::metrics_config synthetic_run::metrics_settings() const noexcept {
    sim::metrics_config settings;
    settings.initial_capital = config_.initial_cash;
    settings.return_period_s = config_.return_period_s;
    settings.soft_limit_pct = config_.strategy.bands.soft_limit_pct;
    settings.hard_limit_pct = config_.strategy.bands.hard_limit_pct;
    return settings;
}

sim::run_metrics synthetic_run::metrics() const {
    return sim::compute_metrics(recorder_.pnl(), recorder_.fills(), recorder_.activity(),
                                metrics_settings());
}

// ---------------------------------------------------------------------------------------------
// Whole runs

namespace {

backtest_result collect(synthetic_run& run, const sim::run_metrics& metrics) {
    backtest_result result;
    result.seed = run.seed();
    result.counters = run.counters();
    result.quotes = run.loop().quotes().counters();
    result.exchange = run.exchange().stats();
    result.loop = run.loop().stats();
    result.metrics = metrics;
    result.pnl = run.recorder().take_pnl();
    result.fills = run.recorder().take_fills();
    result.orders = run.recorder().take_orders();
    return result;
}

struct path_outcome {
    sim::path_summary summary;
    std::uint64_t steps = 0;
    std::uint64_t refusals = 0;
    bool halted = false;
};

} // namespace

backtest_result run_backtest(const backtest_config& config, const core::symbol_spec& spec,
                             std::uint64_t seed, const progress_callback& progress) {
    const auto run = std::make_unique<synthetic_run>(config, spec, seed);
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
    const sim::run_metrics metrics = run->metrics();
    return collect(*run, metrics);
}

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
        const backtest_counters counters = run->counters();
        if (is_example) {
            example.emplace(collect(*run, metrics)); // only path 0 writes it
        }
        return path_outcome{sim::summarize_path(path.index, path.seed, metrics), counters.steps,
                            counters.risk_refusals, counters.killed};
    });
    multi_path_result result;
    result.paths.reserve(outcomes.size());
    for (const auto& outcome : outcomes) {
        result.paths.push_back(outcome.summary);
        result.total_steps += outcome.steps;
        result.risk_refusals += outcome.refusals;
        result.halted_paths += outcome.halted ? 1 : 0;
    }
    result.metrics = sim::aggregate_paths(result.paths);
    if (example) {
        result.example = std::move(*example);
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
    report.format = sim::report_format_for(spec);
    return report;
}

} // namespace quoter::engine
