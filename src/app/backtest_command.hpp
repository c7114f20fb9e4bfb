// `quoter backtest` on the synthetic market: one path, many paths, or several symbols in one
// loop; writes the report files and prints a summary. Its report parameters serve
// `quoter run --mode sim` too.
#pragma once

#include "quoter/app/app_config.hpp"
#include "quoter/sim/report.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace quoter::app {

struct backtest_command {
    std::string config_path;
    std::string profile;
    /// Overrides backtest.paths / backtest.seed when set.
    std::optional<std::uint32_t> paths;
    std::optional<std::uint64_t> seed;
    std::string out_dir = "out/backtest";
    /// Captures the market of a symbol without a start price is fitted to (app/market_fit.hpp).
    std::vector<std::string> market_from;
};

/// Runs the backtest, writes the report files into out_dir and prints a summary and where the
/// report is. Returns the process exit code (2: invalid configuration, 1: files not written).
int run_backtest_command(const backtest_command& command);

/// The configuration keys that shape a synthetic run, as its report lists them: paths and seed
/// as run, and the markets fitted to captures (market.fitted.<SYMBOL>.*) in place of the
/// [market] keys they replace. `quoter run --mode sim` lists them too.
[[nodiscard]] std::vector<sim::report_parameter>
synthetic_report_parameters(const engine_config& config, std::uint32_t paths, std::uint64_t seed);

} // namespace quoter::app
