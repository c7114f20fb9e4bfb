// A synthetic market fitted to a real symbol (`--market-from FILE...` of `quoter backtest`,
// `quoter run --mode sim` and `quoter sweep`): a symbol whose configuration names no synthetic
// start price gets the mid, volatility, visible spread and order flow (A, k) that
// research::calibrate measures on its captures, so that a configuration without [market]
// trades a market of its own symbol's price and behaviour instead of the built-in one at 100.
//
// Start-up code: reads files, allocates.
#pragma once

#include "quoter/app/app_config.hpp"
#include "quoter/core/result.hpp"
#include "quoter/research/calibrate.hpp"
#include "quoter/sim/report.hpp"

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace quoter::app {

/// The [market] model of `config` (process, step, fill rules, informed flow as configured) with
/// the fitted keys from `fit`: start price (the capture's first mid), gbm and random-walk
/// volatility, spread in ticks of `tick_size`, and the order flow's A and k.
[[nodiscard]] sim::market_config fitted_market_model(const sim::market_config& configured,
                                                     const research::calibration& fit,
                                                     double tick_size);

/// Fits the market of every symbol of a configuration that has no synthetic start price
/// (neither market.start_price nor symbol.<NAME>.start_price) to the captures, each symbol to
/// its own messages in them. Each symbol's captures are read once: the configurations of a
/// sweep's trials reuse the first fit.
class market_fitter {
public:
    explicit market_fitter(std::vector<std::string> captures);

    /// Fits `config`'s symbols. An error, and `config` unchanged, when no symbol needs a fit
    /// (the configuration already names every market), when a capture cannot be read, or when
    /// the captures hold too little of a symbol to fit it. On success one line per fitted
    /// symbol describes its market.
    [[nodiscard]] core::result<std::vector<std::string>, std::string> fit(engine_config& config);

    /// The captures' file names, as reports list them.
    [[nodiscard]] const std::vector<std::string>& sources() const noexcept { return sources_; }

private:
    std::vector<std::string> captures_;
    std::vector<std::string> sources_;
    std::map<std::string, research::calibration, std::less<>> fits_;
};

/// A command's use of the above: nothing when `captures` is empty; otherwise fits, prints each
/// fitted market's line on stderr, or the error prefixed with `quoter <command>: `, and returns
/// false on an error.
[[nodiscard]] bool fit_markets_for_command(engine_config& config,
                                           const std::vector<std::string>& captures,
                                           const char* command);

/// The fitted markets as report parameters ("market.fitted.BTCUSDT.start_price", ...), with the
/// captures they came from; empty when no symbol was fitted.
[[nodiscard]] std::vector<sim::report_parameter>
fitted_market_parameters(const engine_config& config);

} // namespace quoter::app
