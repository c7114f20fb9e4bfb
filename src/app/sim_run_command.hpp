// `quoter run --mode sim`: the synthetic market paced to wall time, with a live status line,
// manual control (keys, signals) and, when configured, the operations services of a session.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace quoter::app {

struct sim_run_command {
    std::string config_path;
    std::string profile;
    /// Overrides engine.symbol when not empty.
    std::string symbol;
    /// Overrides backtest.speed when set.
    std::optional<double> speed;
    /// Wall-clock seconds to run; 0: until SIGINT or SIGTERM.
    double duration_s = 0.0;
    /// --mode was not given: engine.mode decides, and only sim is built.
    bool mode_from_config = false;
    /// Captures the market of a symbol without a start price is fitted to (app/market_fit.hpp).
    std::vector<std::string> market_from;
    /// The report written at exit (several symbols: a folder each and the portfolio's).
    std::string out_dir = "out/sim";
};

/// Paces the synthetic market to wall time with a live status line on stderr until the
/// duration ends or SIGINT/SIGTERM arrives, then cancels every order, prints the summary and
/// writes the report into out_dir, as a backtest's. Returns the process exit code (0 after a
/// signal too; 1 when the report cannot be written).
int run_sim_command(const sim_run_command& command);

} // namespace quoter::app
