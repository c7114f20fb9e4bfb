#include "quoter/app/market_fit.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <utility>

namespace quoter::app {
namespace {

constexpr double seconds_per_year = 365.0 * 24.0 * 3600.0;

[[nodiscard]] bool needs_fit(const engine_config& config, const symbol_entry& entry) noexcept {
    return !config.market.start_price_set && entry.start_price <= 0.0;
}

} // namespace

sim::market_config fitted_market_model(const sim::market_config& configured,
                                       const research::calibration& fit, double tick_size) {
    sim::market_config out = configured;
    out.initial_mid_price = fit.first_mid;
    out.gbm_sigma_per_sqrt_year = fit.sigma_rel_per_sqrt_s * std::sqrt(seconds_per_year);
    out.walk_sigma_per_sqrt_s = fit.sigma_abs_per_sqrt_s;
    // The venue's median spread in the configured symbol's ticks: the synthetic book rounds
    // mid -/+ spread / 2 outwards to that grid.
    out.market_spread_ticks = fit.median_spread / tick_size;
    out.order_flow_a_per_s = fit.a_per_s;
    out.order_flow_k_per_price_unit = fit.k_per_price_unit;
    return out;
}

market_fitter::market_fitter(std::vector<std::string> captures) : captures_(std::move(captures)) {
    for (const std::string& path : captures_) {
        sources_.push_back(std::filesystem::path(path).filename().string());
    }
}

core::result<std::vector<std::string>, std::string> market_fitter::fit(engine_config& config) {
    if (captures_.empty()) {
        return core::unexpected{std::string("--market-from needs at least one capture file")};
    }
    const std::vector<std::string>& sources = sources_;
    std::vector<std::pair<symbol_entry*, sim::market_config>> fitted;
    std::vector<std::string> lines;
    for (symbol_entry& entry : config.symbols) {
        if (!needs_fit(config, entry)) {
            continue;
        }
        auto known = fits_.find(entry.name);
        if (known == fits_.end()) {
            auto calibrated = research::calibrate_captures(captures_, entry.name);
            if (!calibrated) {
                return core::unexpected{
                    fmt::format("cannot fit a synthetic market for {} to {}: {}", entry.name,
                                fmt::join(sources, ", "), calibrated.error())};
            }
            known = fits_.emplace(entry.name, std::move(*calibrated)).first;
        }
        const research::calibration* fit = &known->second;
        const sim::market_config model =
            fitted_market_model(config.market.model, *fit, entry.spec.tick_size());
        if (const auto problem = sim::validate(model); problem != sim::market_config_error::none) {
            return core::unexpected{fmt::format("the market fitted for {} is not usable: {}",
                                                entry.name, sim::describe(problem))};
        }
        fitted.emplace_back(&entry, model);
        lines.push_back(fmt::format(
            "{}: synthetic market fitted to {:.1f} s of {}: start {:.10g}, volatility {:.1f}% a "
            "year ({:.6g} per sqrt(s)), spread {:.3g} ticks, order flow A {:.4g}/s and k {:.4g} "
            "per price unit (fit R^2 {:.3f})",
            entry.name, fit->duration_s, fmt::join(sources, ", "), model.initial_mid_price,
            model.gbm_sigma_per_sqrt_year * 100.0, model.walk_sigma_per_sqrt_s,
            model.market_spread_ticks, model.order_flow_a_per_s, model.order_flow_k_per_price_unit,
            fit->fit_r2));
    }
    if (fitted.empty()) {
        return core::unexpected{std::string(
            config.market.start_price_set
                ? "--market-from fits the market of a symbol without a start price, and "
                  "market.start_price is set: remove it (or the [market] table's price keys) to "
                  "fit the market to the captures"
                : "--market-from fits the market of a symbol without a start price, and every "
                  "symbol has symbol.<NAME>.start_price")};
    }
    for (auto& [entry, model] : fitted) {
        entry->fitted_market = model;
        entry->fitted_from = sources;
    }
    return lines;
}

bool fit_markets_for_command(engine_config& config, const std::vector<std::string>& captures,
                             const char* command) {
    if (captures.empty()) {
        return true;
    }
    market_fitter fitter(captures);
    const auto fitted = fitter.fit(config);
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
        const sim::market_config& m = *entry.fitted_market;
        const std::string prefix = "market.fitted." + entry.name + ".";
        out.push_back({prefix + "captures", fmt::format("{}", fmt::join(entry.fitted_from, ", "))});
        out.push_back({prefix + "start_price", fmt::format("{:.10g}", m.initial_mid_price)});
        out.push_back(
            {prefix + "sigma_per_sqrt_year", fmt::format("{:.6g}", m.gbm_sigma_per_sqrt_year)});
        out.push_back(
            {prefix + "walk_sigma_per_sqrt_s", fmt::format("{:.6g}", m.walk_sigma_per_sqrt_s)});
        out.push_back({prefix + "spread_ticks", fmt::format("{:.6g}", m.market_spread_ticks)});
        out.push_back({prefix + "a_per_s", fmt::format("{:.6g}", m.order_flow_a_per_s)});
        out.push_back(
            {prefix + "k_per_price_unit", fmt::format("{:.6g}", m.order_flow_k_per_price_unit)});
    }
    return out;
}

} // namespace quoter::app
