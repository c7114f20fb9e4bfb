// Reading [market] and [backtest]. Every key is declared once, with the struct's own default;
// docs/config.md lists them (the app tests compare). Declaration order is the order
// `quoter config check` lists the keys in.
#include "quoter/sim/sim_config.hpp"

#include "quoter/config/config.hpp"

#include <array>

namespace quoter::sim {
namespace {

constexpr std::array<config::choice_option<price_process>, 2> price_processes{{
    {"gbm", price_process::geometric_brownian},
    {"random_walk", price_process::random_walk},
}};
constexpr std::array<config::choice_option<fill_probability_model>, 2> fill_probabilities{{
    {"linear", fill_probability_model::linear},
    {"exponential", fill_probability_model::exponential},
}};
constexpr std::array<config::choice_option<fill_size_model>, 2> fill_sizes{{
    {"full", fill_size_model::full},
    {"fixed", fill_size_model::fixed},
}};

} // namespace

void read_market_settings(config::section s, market_settings& out) {
    market_config& m = out.model;
    m.process = s.choice("process", m.process, price_processes,
                         "Mid price process: gbm (geometric Brownian motion) or random_walk "
                         "(+/- sigma * sqrt(dt) each step)");
    m.initial_mid_price = s.number(
        "start_price", m.initial_mid_price, {.min = 0, .exclusive_min = true, .unit = "quote/base"},
        "Mid price at time 0; a synthetic run needs it (or symbol.<NAME>.start_price, or "
        "--market-from): the default fits no real symbol");
    out.start_price_set = s.is_set("start_price");
    out.step_ms = s.duration_ms("step_ms", out.step_ms, {.min = 1, .max = 3'600'000},
                                "Simulated time per step");
    m.gbm_mu_per_year = s.number("mu_per_year", m.gbm_mu_per_year, {.unit = "1/year"},
                                 "gbm: drift mu, fraction per (365-day) year");
    m.gbm_sigma_per_sqrt_year = s.number(
        "sigma_per_sqrt_year", m.gbm_sigma_per_sqrt_year, {.min = 0, .unit = "1/sqrt(year)"},
        "gbm: volatility sigma, fraction per sqrt(year) (0.5 = 50% annualised)");
    m.walk_sigma_per_sqrt_s = s.number(
        "walk_sigma_per_sqrt_s", m.walk_sigma_per_sqrt_s, {.min = 0, .unit = "quote/base/sqrt(s)"},
        "random_walk: mid move per sqrt(second), quote asset per base unit");
    m.market_spread_ticks = s.number("spread_ticks", m.market_spread_ticks, {.min = 0},
                                     "Visible book: bid/ask = mid -/+ spread/2, rounded "
                                     "outwards to ticks");
    m.order_flow_a_per_s = s.number("a_per_s", m.order_flow_a_per_s, {.min = 0},
                                    "Arrival rate A of market orders reaching a quote at the "
                                    "mid, per second");
    m.order_flow_k_per_price_unit =
        s.number("k_per_price_unit", m.order_flow_k_per_price_unit, {.min = 0, .unit = "1/quote"},
                 "Decay k of the arrival rate A * exp(-k * delta), per quote-asset unit of "
                 "distance from the mid");
    m.fill_probability =
        s.choice("fill_probability", m.fill_probability, fill_probabilities,
                 "Fill probability per step: linear (lambda * dt, capped at 1) or exponential "
                 "(1 - exp(-lambda * dt))");
    m.fill_size = s.choice("fill_size", m.fill_size, fill_sizes,
                           "Size of a hit: full (the whole order) or fixed (fixed_fill_lots)");
    m.fixed_fill_lots = s.integer("fixed_fill_lots", m.fixed_fill_lots, {.min = 1, .unit = "lots"},
                                  "fill_size = fixed: lots (of symbol.step_size) filled per hit");
    m.informed_share = s.number("informed_share", m.informed_share, {.min = 0, .max = 1},
                                "Share of the orders hitting a quote that are informed: the mid "
                                "then moves against the filled quote (adverse selection)");
    m.informed_impact_bps =
        s.number("informed_impact_bps", m.informed_impact_bps, {.min = 0, .max = 10000},
                 "Mid move after an informed hit, bps of the mid");
    m.fills_at_end = s.boolean("fills_at_end", m.fills_at_end,
                               "The backtest's last step draws order flow; false: fills are "
                               "drawn at t = 0, dt, ..., T - dt and the last step only moves "
                               "the mid to T");
}

void read_backtest_settings(config::section s, backtest_settings& out) {
    out.duration_s = s.number("duration_s", out.duration_s,
                              {.min = 0, .max = 365.0 * 24 * 3600, .exclusive_min = true},
                              "Simulated length of a backtest");
    out.initial_cash = s.number("initial_cash", out.initial_cash,
                                {.min = 0, .max = 1e12, .exclusive_min = true, .unit = "quote"},
                                "Cash at the start, quote asset; the capital returns and bands "
                                "are measured on");
    out.paths = s.integer("paths", out.paths, {.min = 1, .max = 1'000'000},
                          "Independent simulated paths (--paths overrides)");
    out.seed = s.integer("seed", out.seed, {.min = 0},
                         "Base random seed (--seed overrides); the same seed gives the same run");
    out.threads = s.integer("threads", out.threads, {.min = 0, .max = 1024},
                            "Worker threads for multi-path runs; 0: every hardware thread");
    out.speed =
        s.number("speed", out.speed, {.min = 0, .max = 1e6, .exclusive_min = true, .unit = "x"},
                 "quoter run --mode sim: simulated seconds per wall-clock second "
                 "(--speed overrides)");
    out.record_interval_ms =
        s.duration_ms("record_interval_ms", out.record_interval_ms, {.min = 1, .max = 86'400'000},
                      "Simulated time between two pnl.csv samples (at most one per step)");
    out.return_period_s = s.number("return_period_s", out.return_period_s, {.min = 0},
                                   "Return period of Sharpe, Sortino and volatility; 0: every "
                                   "pnl sample");
}

} // namespace quoter::sim
