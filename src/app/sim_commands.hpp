// The simulation subcommands behind the command line: `quoter backtest` on the synthetic market
// (one path or many) and `quoter run --mode sim`, the same market paced to wall time.
#pragma once

#include "quoter/sim/report.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include <filesystem>

namespace quoter::app {

struct backtest_command {
    std::string config_path;
    std::string profile;
    /// Overrides backtest.paths / backtest.seed when set.
    std::optional<std::uint32_t> paths;
    std::optional<std::uint64_t> seed;
    std::string out_dir = "out/backtest";
};

/// Runs the backtest, writes the report files into out_dir and prints a summary and where the
/// report is. Returns the process exit code (2: invalid configuration, 1: files not written).
int run_backtest_command(const backtest_command& command);

/// Removes the files an earlier report (synthetic or replay) wrote into out_dir, so that a run
/// never leaves another run's files beside its own; false, with a message on stderr, when one
/// cannot be removed.
[[nodiscard]] bool remove_earlier_report(const std::filesystem::path& out_dir);

/// The provenance a report shows: the configuration file as given, quoter's version and the
/// current UTC date and time.
[[nodiscard]] sim::report_provenance report_provenance_for(const std::string& config_path);

/// Prints the alerts a run raised as a summary on stdout: one line of counts by kind, then up
/// to a few examples of each kind; nothing when there were none.
void print_alert_summary(std::span<const sim::report_alert> alerts);

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
};

/// Paces the synthetic market to wall time with a live status line on stderr until the
/// duration ends or SIGINT/SIGTERM arrives, then cancels every order and prints the summary.
/// Returns the process exit code (0 after a signal too).
int run_sim_command(const sim_run_command& command);

} // namespace quoter::app
