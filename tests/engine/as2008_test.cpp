// The Avellaneda-Stoikov (2008) experiment through the core loop, as config/as2008.toml sets it
// up: arithmetic mid +/- sigma sqrt(dt), fills with probability A e^(-k delta) dt capped at 1,
// one unit per order, no fees, no latency, quotes recomputed every step, fills drawn at
// t = 0, dt, ..., T - dt. Checks each option the experiment needs and its qualitative result.
#include "quoter/engine/sim_backtest.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstddef>
#include <map>
#include <vector>

using namespace quoter;

namespace {

// Prices on a 0.0001 grid (near-continuous, as in the paper), one unit per lot.
core::symbol_spec as_spec() {
    return *core::symbol_spec::from_text(
        {.name = "AS2008", .tick_size = "0.0001", .step_size = "1", .min_notional = "0"});
}

constexpr double tick = 1e-4;

/// config/as2008.toml in code: S0 = 100, T = 1 s, dt = 5 ms, sigma = 2, A = 140, k = 1.5.
engine::backtest_config as2008(double gamma, bool symmetric) {
    engine::backtest_config c;
    c.risk = engine::permissive_risk();
    auto& s = c.strategy;
    s.model = strategy::model_kind::avellaneda_stoikov;
    s.symmetric = symmetric;
    s.order_size_base = 1.0;
    s.clamp_to_book = false;
    s.volatility.use_estimate = false;
    s.volatility.absolute = true;
    s.volatility.sigma_per_sqrt_s = 2.0;
    s.intensity.use_estimate = false;
    s.intensity.a_per_s = 140.0;
    s.intensity.k_per_tick = 1.5 * tick;
    s.avellaneda_stoikov.gamma_per_tick = gamma * tick;
    s.avellaneda_stoikov.horizon = strategy::horizon_kind::finite;
    s.avellaneda_stoikov.terminal_time_ns = 0; // the run's end
    s.bands.soft_limit_pct = 1e9;
    s.bands.hard_limit_pct = 1e9;
    c.market.process = sim::price_process::random_walk;
    c.market.initial_mid_price = 100.0;
    c.market.walk_sigma_per_sqrt_s = 2.0;
    c.market.market_spread_ticks = 0.0;
    c.market.order_flow_a_per_s = 140.0;
    c.market.order_flow_k_per_price_unit = 1.5;
    c.market.fill_probability = sim::fill_probability_model::linear;
    c.market.fill_size = sim::fill_size_model::full;
    const exec::latency_config zero{exec::latency_distribution::constant, 0, 0};
    c.exchange.order_entry_latency = zero;
    c.exchange.cancel_latency = zero;
    c.exchange.market_data_latency = zero;
    c.exchange.maker_fee_bps = 0.0;
    c.exchange.taker_fee_bps = 0.0;
    c.exchange.cross_fill = exec::cross_fill_rule::never;
    c.exchange.match_book = false;
    c.quotes.refresh_ms = 0;
    c.quotes.refresh_tolerance_bps = 0.0;
    c.quotes.size_tolerance_pct = 0.0;
    c.quotes.max_order_age_ms = 0;
    c.quotes.post_only = false;
    c.step_ns = 5 * core::ns_per_ms;
    c.duration_ns = core::ns_per_s;
    c.initial_cash = 1e6;
    c.record_interval_ns = core::ns_per_s;
    c.fills_at_end = false;
    return c;
}

struct moments {
    double mean = 0;
    double stddev = 0;
};

template <class Field> moments over_paths(const engine::multi_path_result& result, Field field) {
    double sum = 0;
    for (const auto& p : result.paths) {
        sum += p.*field;
    }
    const double n = static_cast<double>(result.paths.size());
    const double mean = sum / n;
    double squares = 0;
    for (const auto& p : result.paths) {
        squares += (p.*field - mean) * (p.*field - mean);
    }
    return {mean, std::sqrt(squares / (n - 1))};
}

} // namespace

TEST_CASE("AS 2008: fills are drawn at t = 0, dt, ..., T - dt against the quotes of that step",
          "[backtest][as2008]") {
    // A so large that every quote is hit at every draw: 200 draws, two fills each.
    auto config = as2008(0.1, true);
    config.market.order_flow_a_per_s = 1e9;
    const auto result = engine::run_backtest(config, as_spec(), 3);
    std::map<core::timestamp_ns, int> per_step;
    for (const auto& fill : result.fills) {
        ++per_step[fill.time_ns];
    }
    CHECK(result.fills.size() == 400);
    CHECK(per_step.size() == 200);
    CHECK(per_step.begin()->first == 0);                                // the first step draws
    CHECK(per_step.rbegin()->first == core::ns_per_s - config.step_ns); // T is not a draw
    for (const auto& [time, count] : per_step) {
        CHECK(count == 2);
    }
    // Each fill is at the quote computed at its own step (symmetric: mid -/+ half the AS
    // spread, which shrinks as t -> T), never at a quote left over from the step before.
    for (const auto& fill : result.fills) {
        const double tau = 1.0 - static_cast<double>(fill.time_ns) * 1e-9;
        const double half = 0.5 * (0.1 * 4.0 * tau + 20.0 * std::log(1.0 + 0.1 / 1.5));
        INFO("fill at " << fill.time_ns << " price " << fill.price << " mid " << fill.mid);
        CHECK(std::fabs(std::fabs(fill.price - fill.mid) - half) < 3 * tick);
    }
    CHECK(result.exchange.rejects == 0);
    CHECK(result.counters.risk_refusals == 0);
}

TEST_CASE("AS 2008: an inventory strategy's quote through the mid rests there and fills",
          "[backtest][as2008]") {
    // gamma = 1: one unit of inventory moves the reservation price by 4 at t = 0, more than
    // the half spread, so a long position puts the ask below the mid.
    const auto config = as2008(1.0, false);
    std::size_t through = 0;
    for (std::uint64_t seed = 1; seed <= 10; ++seed) {
        const auto result = engine::run_backtest(config, as_spec(), seed);
        CHECK(result.exchange.rejects == 0);
        CHECK(result.counters.risk_refusals == 0);
        for (const auto& fill : result.fills) {
            CHECK(fill.role == sim::liquidity::maker); // the displayed book never trades
            through += (fill.side == core::side::sell && fill.price < fill.mid) ||
                       (fill.side == core::side::buy && fill.price > fill.mid);
        }
    }
    CHECK(through > 0);
}

TEST_CASE("AS 2008 experiment: the inventory strategy holds less inventory and less risk",
          "[backtest][as2008][paths]") {
    const auto spec = as_spec();
    sim::path_runner runner(
        sim::path_runner_options{.threads = 2, .progress = sim::progress_display::never});
    const auto inventory = engine::run_backtest_paths(as2008(0.1, false), spec, 1, 50, runner);
    const auto symmetric = engine::run_backtest_paths(as2008(0.1, true), spec, 1, 50, runner);
    const auto inv_q = over_paths(inventory, &sim::path_summary::final_inventory);
    const auto sym_q = over_paths(symmetric, &sim::path_summary::final_inventory);
    const auto inv_pnl = over_paths(inventory, &sim::path_summary::final_pnl);
    const auto sym_pnl = over_paths(symmetric, &sim::path_summary::final_pnl);
    const auto inv_spread = over_paths(inventory, &sim::path_summary::mean_quoted_spread);
    const auto sym_spread = over_paths(symmetric, &sim::path_summary::mean_quoted_spread);
    INFO("inventory: pnl " << inv_pnl.mean << " sd " << inv_pnl.stddev << ", q " << inv_q.mean
                           << " sd " << inv_q.stddev << ", spread " << inv_spread.mean);
    INFO("symmetric: pnl " << sym_pnl.mean << " sd " << sym_pnl.stddev << ", q " << sym_q.mean
                           << " sd " << sym_q.stddev << ", spread " << sym_spread.mean);
    CHECK(inv_q.stddev < sym_q.stddev);
    CHECK(inv_pnl.stddev < sym_pnl.stddev);
    // Both make money from the spread; the AS spread averages 0.2 + 1.29 over the horizon
    // (gamma sigma^2 (T - t) averages 0.2), and the symmetric strategy quotes the same one.
    CHECK(inv_pnl.mean > 0);
    CHECK(sym_pnl.mean > 0);
    CHECK(sym_spread.mean == Approx(0.2 + 20.0 * std::log(1.0 + 0.1 / 1.5)).margin(0.01));
    CHECK(inv_spread.mean == Approx(sym_spread.mean).margin(0.01));
}
