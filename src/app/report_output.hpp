// What every report-writing command prints and shares: the report's provenance, the alert
// summary, the removal of an earlier report's files, money as the summaries print it, the
// portfolio records of a run of several symbols (replay or paper session), and the writers of a
// synthetic run's reports (a backtest's path, `quoter run --mode sim`).
#pragma once

#include "quoter/core/symbol_spec.hpp"
#include "quoter/engine/run_recorder.hpp"
#include "quoter/sim/report.hpp"
#include "quoter/strategy/strategy_config.hpp"

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace quoter::engine {
struct backtest_config;
struct backtest_result;
struct gate_counts;
} // namespace quoter::engine

namespace quoter::app {

struct engine_config;

/// Removes the files an earlier report (synthetic or replay) wrote into out_dir, so that a run
/// never leaves another run's files beside its own; false, with a message on stderr that starts
/// with `command` ("quoter backtest"), when one cannot be removed.
[[nodiscard]] bool remove_earlier_report(const std::filesystem::path& out_dir,
                                         std::string_view command);

/// The provenance a report shows: the configuration file as given, quoter's version and the
/// current UTC date and time.
[[nodiscard]] sim::report_provenance report_provenance_for(const std::string& config_path);

/// The resolved configuration keys (file, profile and environment) that start with one of
/// `prefixes`, in the configuration's order, as a report echoes what shaped its run.
[[nodiscard]] std::vector<sim::report_parameter>
config_parameters(const engine_config& config, std::span<const std::string_view> prefixes);

/// config_parameters() of a run on recorded or live market data (a replay, a paper session):
/// the symbols' filters, the strategy, the quote lifecycle, the limits, the simulated exchange
/// (a replay's fills) and the capital.
[[nodiscard]] std::vector<sim::report_parameter>
market_data_run_parameters(const engine_config& config);

/// Prints the alerts a run raised as a summary on stdout: one line of counts by kind, then up
/// to a few examples of each kind; nothing when there were none.
void print_alert_summary(std::span<const sim::report_alert> alerts);

/// "new orders held N times for S s (P% of the quoting time)": how long the order-rate limits
/// held quoting, as the summaries print it; empty when they never did.
[[nodiscard]] std::string rate_holds_text(std::uint64_t holds, double held_s, double held_pct);

/// One symbol's records of a run of several symbols, for the portfolio's.
struct symbol_records {
    std::span<const sim::pnl_sample> pnl;
    std::span<const sim::fill_record> fills;
    std::span<const sim::order_record> orders;
    sim::activity_counts activity;
    /// The symbol's metrics: its markouts (adverse_selection_*) add up to the portfolio's.
    sim::run_metrics metrics;
    /// Its share of the capital, quote asset: its equity before its first sample.
    double initial_cash = 0.0;
    std::string_view name; ///< "BTCUSDT"
    /// The alerts it raised; the portfolio's report counts every symbol's. Null: none.
    const engine::alert_tally* alerts = nullptr;
    /// Its orders sent and refused; the portfolio's report sums every symbol's. Null: none.
    const engine::gate_counts* gate = nullptr;
};

/// The portfolio of a run of several symbols sharing one quote asset.
struct portfolio_records {
    /// A sample at every time any symbol sampled: sums of every symbol's last sample at or before
    /// it (cash, equity, PnL parts, fees; a symbol not sampled yet counts as its initial cash),
    /// inventory as net notional (sum of position * mid, quote asset) with mid 1 and no quotes.
    std::vector<sim::pnl_sample> pnl;
    std::vector<sim::fill_record> fills;   ///< every symbol's, by time (stable)
    std::vector<sim::order_record> orders; ///< every symbol's, by time (stable)
    sim::activity_counts activity;         ///< summed
    /// Over the records above with the summed capital; markouts and order-rate holds summed
    /// over the symbols (the share held is of their quoting time together).
    sim::run_metrics metrics;
};

/// The records of one symbol of a synthetic run of several symbols (engine::run_backtest), with
/// its share of the capital; they point into `result`, which must outlive them.
[[nodiscard]] symbol_records synthetic_symbol_records(const engine::backtest_result& result,
                                                      std::string_view name, double initial_cash);

/// The metrics settings of a portfolio of several symbols: the inventory bands of `bands`.
[[nodiscard]] sim::metrics_config
portfolio_metrics_settings(const strategy::inventory_bands& bands) noexcept;

/// Combines the symbols' records; settings.initial_capital is replaced by the summed capital.
/// Deterministic: depends only on the records, in the order given.
[[nodiscard]] portfolio_records combine_portfolio(std::span<const symbol_records> symbols,
                                                  sim::metrics_config settings);

/// The portfolio's report of a run of several symbols (synthetic backtest, replay or paper
/// session), written in the run's report folder beside one folder per symbol: the records and
/// metrics of `whole` (combine_portfolio of `symbols`; the report points into it, so it must
/// outlive the report), every symbol's alerts, the provenance, the first symbol's quote format
/// (portfolio figures are quote-asset amounts), the symbols' orders sent and refused summed (as
/// run counts, when any symbol has them), and as parameters `parameters`, then
/// "report.symbol" = "portfolio: <names>" and "inventory" = "net notional, quote asset", then
/// `more`.
[[nodiscard]] sim::run_report portfolio_report(std::string title, const portfolio_records& whole,
                                               std::span<const symbol_records> symbols,
                                               const std::string& config_path,
                                               const core::symbol_spec& first_symbol,
                                               std::vector<sim::report_parameter> parameters,
                                               std::span<const sim::report_parameter> more = {});

/// Money with its sign and four decimals ("+0.1050"), as every summary prints it.
[[nodiscard]] std::string signed_money(double value);

/// Writes `report`'s files into dir; false, after saying which file and why on stderr (the line
/// starts with `command`, "quoter backtest"), when one cannot be written.
[[nodiscard]] bool write_report(const std::filesystem::path& dir, const sim::run_report& report,
                                std::string_view command);

/// Writes the report of a one-symbol synthetic run into out_dir; false, after saying why on
/// stderr (the line starts with `command`), when a file cannot be written.
[[nodiscard]] bool write_single_report(const engine_config& config,
                                       const engine::backtest_result& result, std::string title,
                                       std::vector<sim::report_parameter> parameters,
                                       const std::filesystem::path& out_dir,
                                       const std::string& config_path, std::string_view command);

/// Writes the reports of one synthetic path of several symbols (results in config.symbols'
/// order): each symbol's into out_dir/<SYMBOL>/ and the portfolio's into out_dir; false as above.
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
