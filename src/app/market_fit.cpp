// Fitting the synthetic markets of a configuration to captures: one calibration per symbol
// without a start price, the configuration changed only once every symbol has fitted.
#include "quoter/app/market_fit.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <utility>

namespace quoter::app {

core::result<std::vector<std::string>, std::string>
fit_synthetic_markets(engine_config& config, const std::vector<std::string>& captures) {
    calibrations_by_symbol known;
    return fit_synthetic_markets(config, captures, known);
}

core::result<std::vector<std::string>, std::string>
fit_synthetic_markets(engine_config& config, const std::vector<std::string>& captures,
                      calibrations_by_symbol& known) {
    if (captures.empty()) {
        return core::unexpected{std::string("--market-from needs at least one capture file")};
    }
    if (config.market.start_price_set) {
        return core::unexpected{std::string(
            "--market-from fits the market of a symbol without a synthetic start price, and "
            "market.start_price gives every symbol one (a symbol without its own "
            "symbol.<NAME>.start_price trades at it)")};
    }
    std::vector<std::string> sources;
    for (const std::string& path : captures) {
        sources.push_back(std::filesystem::path(path).filename().string());
    }
    std::vector<std::pair<symbol_entry*, sim::market_config>> fitted;
    std::vector<std::string> lines;
    for (symbol_entry& entry : config.symbols) {
        if (entry.start_price > 0.0) {
            continue;
        }
        auto found = known.find(entry.name);
        if (found == known.end()) {
            auto calibrated = research::calibrate_captures(captures, entry.name);
            if (!calibrated) {
                return core::unexpected{
                    fmt::format("cannot fit a synthetic market for {} to {}: {}", entry.name,
                                fmt::join(sources, ", "), calibrated.error())};
            }
            found = known.emplace(entry.name, std::move(*calibrated)).first;
        }
        const research::calibration& fit = found->second;
        const sim::market_config market =
            research::fitted_market(fit, config.market.model, entry.spec.tick_size());
        if (const auto problem = sim::validate(market); problem != sim::market_config_error::none) {
            return core::unexpected{fmt::format("the market fitted for {} is not usable: {}",
                                                entry.name, sim::describe(problem))};
        }
        fitted.emplace_back(&entry, market);
        lines.push_back(fmt::format(
            "{}: synthetic market fitted to {:.1f} s of {}: start {:.10g}, volatility {:.1f}% a "
            "year ({:.6g} per sqrt(s)), spread {:.3g} tick{}, order flow A {:.4g}/s and k {:.4g} "
            "per price unit (fit R^2 {:.3f})",
            entry.name, fit.duration_s, fmt::join(sources, ", "), market.initial_mid_price,
            market.gbm_sigma_per_sqrt_year * 100.0, market.walk_sigma_per_sqrt_s,
            market.market_spread_ticks, market.market_spread_ticks == 1.0 ? "" : "s",
            market.order_flow_a_per_s, market.order_flow_k_per_price_unit, fit.fit_r2));
    }
    if (fitted.empty()) {
        return core::unexpected{std::string(
            "--market-from fits the market of a symbol without a synthetic start price, and "
            "every symbol has symbol.<NAME>.start_price")};
    }
    for (auto& [entry, market] : fitted) {
        entry->fitted_market = market;
        entry->fitted_from = sources;
    }
    return lines;
}

bool fit_markets_for_command(engine_config& config, const std::vector<std::string>& captures,
                             const char* command) {
    if (captures.empty()) {
        return true;
    }
    const auto fitted = fit_synthetic_markets(config, captures);
    if (!fitted) {
        std::fprintf(stderr, "quoter %s: %s\n", command, fitted.error().c_str());
        return false;
    }
    for (const std::string& line : *fitted) {
        std::fprintf(stderr, "quoter %s: %s\n", command, line.c_str());
    }
    return true;
}

std::vector<sim::report_parameter> fitted_market_parameters(const engine_config& config) {
    std::vector<sim::report_parameter> out;
    for (const symbol_entry& entry : config.symbols) {
        if (!entry.fitted_market) {
            continue;
        }
        const sim::market_config& market = *entry.fitted_market;
        const std::string prefix = "market.fitted." + entry.name + ".";
        out.push_back({prefix + "captures", fmt::format("{}", fmt::join(entry.fitted_from, ", "))});
        out.push_back({prefix + "start_price", fmt::format("{:.10g}", market.initial_mid_price)});
        out.push_back({prefix + "sigma_per_sqrt_year",
                       fmt::format("{:.6g}", market.gbm_sigma_per_sqrt_year)});
        out.push_back({prefix + "walk_sigma_per_sqrt_s",
                       fmt::format("{:.6g}", market.walk_sigma_per_sqrt_s)});
        out.push_back({prefix + "spread_ticks", fmt::format("{:.6g}", market.market_spread_ticks)});
        out.push_back({prefix + "a_per_s", fmt::format("{:.6g}", market.order_flow_a_per_s)});
        out.push_back({prefix + "k_per_price_unit",
                       fmt::format("{:.6g}", market.order_flow_k_per_price_unit)});
    }
    return out;
}

} // namespace quoter::app
