// `quoter backtest` on the synthetic market: one path, many paths, or several symbols in one
// loop; writes the report files and prints a summary.
#pragma once

#include "quoter/app/app_config.hpp"
#include "quoter/engine/sim_backtest.hpp"
#include "quoter/sim/report.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
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

// What `quoter run --mode sim` shares with the backtest: its report.

/// The configuration keys that shape a synthetic run, as its report lists them (paths and seed
/// as run), with the fitted markets' values.
[[nodiscard]] std::vector<sim::report_parameter>
synthetic_report_parameters(const engine_config& config, std::uint32_t paths, std::uint64_t seed);

/// Writes the report of a one-symbol run into out_dir; false, after saying why on stderr (the
/// line starts with `command`), when a file cannot be written.
[[nodiscard]] bool write_single_report(const engine_config& config,
                                       const engine::backtest_result& result, std::string title,
                                       std::vector<sim::report_parameter> parameters,
                                       const std::filesystem::path& out_dir,
                                       const std::string& config_path, std::string_view command);

/// Writes the reports of one path of several symbols (results in config.symbols' order): each
/// symbol's into out_dir/<SYMBOL>/ and the portfolio's into out_dir; false as above.
[[nodiscard]] bool write_symbols_reports(const engine_config& config,
                                         const engine::backtest_config& run,
                                         std::span<const engine::backtest_result> results,
                                         const std::vector<sim::report_parameter>& parameters,
                                         const std::filesystem::path& out_dir,
                                         const std::string& config_path, std::string_view command);

/// The symbols' report pages under out_dir, comma-separated, as the summaries list them.
[[nodiscard]] std::string symbol_report_list(const engine_config& config,
                                             const std::filesystem::path& out_dir);

} // namespace quoter::app
