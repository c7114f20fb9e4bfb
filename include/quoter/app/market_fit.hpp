// A synthetic market fitted to a real symbol (`--market-from FILE...` of `quoter backtest`,
// `quoter run --mode sim` and `quoter sweep`): a symbol whose configuration names no synthetic
// start price trades the market research::calibrate measures on its own messages in the captures
// (research::fitted_market), so that a configuration without [market] trades a market of its
// symbol's price and behaviour instead of the built-in one at 100.
//
// Start-up code: reads files, allocates.
#pragma once

#include "quoter/app/app_config.hpp"
#include "quoter/core/result.hpp"
#include "quoter/research/calibrate.hpp"
#include "quoter/sim/report.hpp"

#include <array>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace quoter::app {

/// The [market] keys a fit replaces (research::fitted_market); the others apply as configured.
inline constexpr std::array<std::string_view, 6> fitted_market_keys{"market.start_price",
                                                                    "market.sigma_per_sqrt_year",
                                                                    "market.walk_sigma_per_sqrt_s",
                                                                    "market.spread_ticks",
                                                                    "market.a_per_s",
                                                                    "market.k_per_price_unit"};

/// Fits the market of every symbol of `config` that has no synthetic start price (neither
/// market.start_price nor symbol.<NAME>.start_price) to the captures. An error, and `config`
/// unchanged, when there is no capture, when no symbol needs a fit, when a capture cannot be
/// read, or when the captures hold too little of a symbol to fit it. On success one line per
/// fitted symbol describes its market.
[[nodiscard]] core::result<std::vector<std::string>, std::string>
fit_synthetic_markets(engine_config& config, const std::vector<std::string>& captures);

/// The calibrations of the symbols fitted so far, by name: a sweep's trials read each symbol's
/// captures once.
using calibrations_by_symbol = std::map<std::string, research::calibration, std::less<>>;

/// As above, with the calibrations of earlier configurations reused and new ones kept in
/// `known`.
[[nodiscard]] core::result<std::vector<std::string>, std::string>
fit_synthetic_markets(engine_config& config, const std::vector<std::string>& captures,
                      calibrations_by_symbol& known);

/// A command's use of the above: nothing when `captures` is empty; otherwise fits and prints
/// each fitted market's line on stderr, or the error, each prefixed with `quoter <command>: `.
/// False on an error (the command exits 2: invalid input, as a capture --data cannot replay).
[[nodiscard]] bool fit_markets_for_command(engine_config& config,
                                           const std::vector<std::string>& captures,
                                           const char* command);

/// The fitted markets as report parameters ("market.fitted.BTCUSDT.start_price", ...), with the
/// captures they came from; empty when no symbol was fitted.
[[nodiscard]] std::vector<sim::report_parameter>
fitted_market_parameters(const engine_config& config);

} // namespace quoter::app
