// sim_config: the settings of simulated runs and their readers: [market] (the synthetic market
// of mode sim and of backtests) and [backtest] (length, capital, paths, seed, pacing and
// recording). The sim module owns these keys: each is declared once in sim_config.cpp with the
// struct's own default, range and description; the app only calls the readers while composing
// the engine configuration.
//
// Start-up code: allocates, never on the hot path.
#pragma once

#include "quoter/sim/synthetic_market.hpp"

#include <chrono>
#include <cstdint>

namespace quoter::config {
class section;
} // namespace quoter::config

namespace quoter::sim {

/// [market]: the synthetic market of mode sim and of backtests.
struct market_settings {
    /// Price process, start price, volatility, visible spread, order flow and fill rules.
    market_config model;
    /// market.start_price was set (file, profile or environment): its built-in 100 fits no
    /// real symbol, so a synthetic run without it refuses to start.
    bool start_price_set = false;
    /// Simulated time per step.
    std::chrono::milliseconds step_ms{100};
};

/// [backtest]: simulated runs: length, capital, paths, seed, pacing and recording.
struct backtest_settings {
    /// Simulated length of a backtest, seconds.
    double duration_s = 3600.0;
    /// Cash at the start, quote asset.
    double initial_cash = 100'000.0;
    /// Independent paths of `quoter backtest` (--paths overrides).
    std::uint32_t paths = 1;
    /// Base seed (--seed overrides); path i runs on a seed derived from it.
    std::uint64_t seed = 1;
    /// Worker threads of a multi-path run; 0: every hardware thread.
    std::uint32_t threads = 0;
    /// `quoter run --mode sim`: simulated seconds per wall-clock second (--speed overrides).
    double speed = 1.0;
    /// Simulated time between two pnl samples.
    std::chrono::milliseconds record_interval_ms{1000};
    /// Return period of Sharpe, Sortino and volatility, seconds; 0: every pnl sample.
    double return_period_s = 0.0;
};

/// Declares and reads [market] into `out`, whose values are the defaults. The model's own
/// consistency (sim::validate) is checked by the app once every section is read.
void read_market_settings(config::section s, market_settings& out);

/// Declares and reads [backtest] into `out`, whose values are the defaults.
void read_backtest_settings(config::section s, backtest_settings& out);

} // namespace quoter::sim
