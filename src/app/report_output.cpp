#include "report_output.hpp"

#include "quoter/app/app_config.hpp"
#include "quoter/core/clock.hpp"
#include "quoter/core/utc_time.hpp"
#include "quoter/engine/risk_gate.hpp"
#include "quoter/engine/sim_backtest.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace quoter::app {

sim::run_report portfolio_report(std::string title, const portfolio_records& whole,
                                 std::span<const symbol_records> symbols,
                                 const std::string& config_path,
                                 const core::symbol_spec& first_symbol,
                                 std::vector<sim::report_parameter> parameters,
                                 std::span<const sim::report_parameter> more) {
    sim::run_report report;
    report.title = std::move(title);
    report.pnl = whole.pnl;
    report.fills = whole.fills;
    report.orders = whole.orders;
    report.metrics = whole.metrics;
    engine::alert_tally alerts;
    engine::gate_counts gate;
    bool has_gate = false;
    std::string names;
    for (const auto& symbol : symbols) {
        if (symbol.alerts != nullptr) {
            alerts.merge(*symbol.alerts);
        }
        if (symbol.gate != nullptr) {
            gate += *symbol.gate;
            has_gate = true;
        }
        names += (names.empty() ? "" : ", ") + std::string(symbol.name);
    }
    if (has_gate) {
        report.counters = engine::report_counters(gate);
    }
    report.alerts = engine::report_alerts(alerts);
    report.provenance = report_provenance_for(config_path);
    report.format = sim::report_format_for(first_symbol);
    report.parameters = std::move(parameters);
    report.parameters.push_back({"report.symbol", "portfolio: " + names});
    report.parameters.push_back({"inventory", "net notional, quote asset"});
    report.parameters.insert(report.parameters.end(), more.begin(), more.end());
    return report;
}

std::vector<sim::report_parameter> config_parameters(const engine_config& config,
                                                     std::span<const std::string_view> prefixes) {
    std::vector<sim::report_parameter> out;
    for (const auto& key : config.resolved.keys) {
        const bool wanted = std::any_of(prefixes.begin(), prefixes.end(), [&](std::string_view p) {
            return std::string_view(key.key).starts_with(p);
        });
        if (wanted) {
            out.push_back({key.key, key.value_text});
        }
    }
    return out;
}

std::vector<sim::report_parameter> market_data_run_parameters(const engine_config& config) {
    constexpr std::array<std::string_view, 6> prefixes{
        "symbol.", "strategy.", "quotes.", "risk.", "sim_exchange.", "backtest.initial_cash"};
    return config_parameters(config, prefixes);
}

std::string signed_money(double value) {
    return fmt::format("{:+.4f}", value);
}

sim::report_provenance report_provenance_for(const std::string& config_path) {
    // Reports read "2026-12-04 21:33:26 UTC": the ISO text with a space for 'T' and " UTC" for 'Z'.
    const core::utc_text iso =
        core::format_utc(core::wall_clock{}.now(), core::utc_precision::seconds);
    std::string date(iso.view());
    date[10] = ' ';
    date.back() = ' ';
    date += "UTC";
    return {.config_file = config_path, .version = QUOTER_VERSION, .generated = std::move(date)};
}

std::string rate_holds_text(std::uint64_t holds, double held_s, double held_pct) {
    if (holds == 0) {
        return {};
    }
    return fmt::format("new orders held {} time{} for {:.1f} s ({:.1f}% of the quoting time)",
                       holds, holds == 1 ? "" : "s", held_s, held_pct);
}

void print_alert_summary(std::span<const sim::report_alert> alerts) {
    if (alerts.empty()) {
        return;
    }
    std::uint64_t total = 0;
    std::string kinds;
    for (const sim::report_alert& a : alerts) {
        total += a.count;
        kinds += fmt::format("{}{} {}", kinds.empty() ? "" : ", ", a.kind, a.count);
    }
    std::printf("  alerts %llu: %s\n", static_cast<unsigned long long>(total), kinds.c_str());
    for (const sim::report_alert& a : alerts) {
        std::string examples;
        for (const std::string& example : a.examples) {
            examples += (examples.empty() ? "" : "; ") + example;
        }
        std::printf("    %s%s: %s\n", a.kind.c_str(), a.count > a.examples.size() ? ", first" : "",
                    examples.c_str());
    }
}

bool remove_earlier_report(const std::filesystem::path& out_dir, std::string_view command) {
    constexpr std::array<std::string_view, 7> files{"pnl.csv",     "fills.csv", "orders.csv",
                                                    "report.json", "report.md", "report.html",
                                                    "paths.csv"};
    std::error_code error;
    for (const std::string_view name : files) {
        const auto path = out_dir / name;
        if (std::filesystem::remove(path, error); error) {
            std::fprintf(stderr, "%.*s: cannot remove %s: %s\n", static_cast<int>(command.size()),
                         command.data(), path.c_str(), error.message().c_str());
            return false;
        }
    }
    // path_0 of a multi-path run, and the per-symbol folders of a many-symbol run: every
    // sub-folder that holds a report.
    std::vector<std::filesystem::path> folders{out_dir / "path_0"};
    for (std::filesystem::directory_iterator it(out_dir, error), end; !error && it != end;
         it.increment(error)) {
        if (it->is_directory() && std::filesystem::exists(it->path() / "report.json")) {
            folders.push_back(it->path());
        }
    }
    error.clear();
    for (const auto& folder : folders) {
        if (std::filesystem::remove_all(folder, error); error) {
            std::fprintf(stderr, "%.*s: cannot remove %s: %s\n", static_cast<int>(command.size()),
                         command.data(), folder.c_str(), error.message().c_str());
            return false;
        }
    }
    return true;
}

symbol_records synthetic_symbol_records(const engine::backtest_result& result,
                                        std::string_view name, double initial_cash) {
    return {.pnl = result.pnl,
            .fills = result.fills,
            .orders = result.orders,
            .activity = sim::count_activity(result.orders),
            .metrics = result.metrics,
            .initial_cash = initial_cash,
            .name = name,
            .alerts = &result.alerts,
            .gate = &result.gate};
}

sim::metrics_config portfolio_metrics_settings(const strategy::inventory_bands& bands) noexcept {
    sim::metrics_config settings;
    settings.soft_limit_pct = bands.soft_limit_pct;
    settings.hard_limit_pct = bands.hard_limit_pct;
    return settings;
}

portfolio_records combine_portfolio(std::span<const symbol_records> symbols,
                                    sim::metrics_config settings) {
    portfolio_records out;
    std::vector<core::timestamp_ns> times;
    double capital = 0.0;
    for (const symbol_records& s : symbols) {
        capital += s.initial_cash;
        for (const sim::pnl_sample& p : s.pnl) {
            times.push_back(p.time_ns);
        }
    }
    std::sort(times.begin(), times.end());
    times.erase(std::unique(times.begin(), times.end()), times.end());
    // Per symbol, the position of its next sample not yet taken into account.
    std::vector<std::size_t> next(symbols.size(), 0);
    out.pnl.reserve(times.size());
    for (const core::timestamp_ns t : times) {
        sim::pnl_sample p;
        p.time_ns = t;
        p.mid = 1.0;
        for (std::size_t i = 0; i < symbols.size(); ++i) {
            const auto& pnl = symbols[i].pnl;
            while (next[i] < pnl.size() && pnl[next[i]].time_ns <= t) {
                ++next[i];
            }
            if (next[i] == 0) {
                p.cash += symbols[i].initial_cash;
                p.equity += symbols[i].initial_cash;
                continue;
            }
            const sim::pnl_sample& x = pnl[next[i] - 1];
            p.inventory += x.inventory * x.mid;
            p.cash += x.cash;
            p.equity += x.equity;
            p.realized_pnl += x.realized_pnl;
            p.unrealized_pnl += x.unrealized_pnl;
            p.fees += x.fees;
        }
        out.pnl.push_back(p);
    }
    for (const symbol_records& s : symbols) {
        out.fills.insert(out.fills.end(), s.fills.begin(), s.fills.end());
        out.orders.insert(out.orders.end(), s.orders.begin(), s.orders.end());
        out.activity.orders_submitted += s.activity.orders_submitted;
        out.activity.orders_filled += s.activity.orders_filled;
        out.activity.cancels += s.activity.cancels;
        out.activity.rejects += s.activity.rejects;
    }
    const auto by_time = [](const auto& a, const auto& b) { return a.time_ns < b.time_ns; };
    std::stable_sort(out.fills.begin(), out.fills.end(), by_time);
    std::stable_sort(out.orders.begin(), out.orders.end(), by_time);
    settings.initial_capital = capital;
    out.metrics = sim::compute_metrics(out.pnl, out.fills, out.activity, settings);
    // Markouts are sums over fills: the portfolio's are the symbols' summed (NaN: none kept).
    const auto sum = [&](double sim::run_metrics::*field) {
        double total = std::numeric_limits<double>::quiet_NaN();
        for (const symbol_records& s : symbols) {
            const double v = s.metrics.*field;
            if (!std::isnan(v)) {
                total = std::isnan(total) ? v : total + v;
            }
        }
        return total;
    };
    out.metrics.adverse_selection_1s = sum(&sim::run_metrics::adverse_selection_1s);
    out.metrics.adverse_selection_10s = sum(&sim::run_metrics::adverse_selection_10s);
    out.metrics.adverse_selection_60s = sum(&sim::run_metrics::adverse_selection_60s);
    // Each symbol's quote manager holds its own new orders: holds and time held add up, a
    // share of the symbols' quoting time together.
    std::uint64_t rate_holds = 0;
    double rate_held_s = 0.0;
    for (const symbol_records& s : symbols) {
        rate_holds += s.metrics.rate_holds;
        rate_held_s += s.metrics.rate_held_s;
    }
    sim::set_rate_holds(out.metrics, rate_holds, rate_held_s, symbols.size());
    return out;
}

bool write_report(const std::filesystem::path& dir, const sim::run_report& report,
                  std::string_view command) {
    if (const auto written = sim::write_run_report(dir, report); !written) {
        std::fprintf(stderr, "%.*s: cannot write %s: %s\n", static_cast<int>(command.size()),
                     command.data(), written.error().path.c_str(), written.error().reason.c_str());
        return false;
    }
    return true;
}

bool write_single_report(const engine_config& config, const engine::backtest_result& result,
                         std::string title, std::vector<sim::report_parameter> parameters,
                         const std::filesystem::path& out_dir, const std::string& config_path,
                         std::string_view command) {
    auto report =
        engine::make_run_report(result, config.spec, std::move(title), std::move(parameters));
    report.provenance = report_provenance_for(config_path);
    return write_report(out_dir, report, command);
}

bool write_symbols_reports(const engine_config& config, const engine::backtest_config& run,
                           std::span<const engine::backtest_result> results,
                           const std::vector<sim::report_parameter>& parameters,
                           const std::filesystem::path& out_dir, const std::string& config_path,
                           std::string_view command) {
    const std::string model(strategy::to_string(config.strategy.model));
    std::string names;
    std::vector<symbol_records> parts;
    for (std::size_t i = 0; i < results.size(); ++i) {
        const engine::backtest_result& result = results[i];
        const std::string& name = config.symbols[i].name;
        std::vector<sim::report_parameter> own = parameters;
        own.push_back({"report.symbol", name});
        auto report = engine::make_run_report(
            result, config.symbols[i].spec,
            fmt::format("{}: {} ({} of {} symbols in one loop) on a synthetic market, {} model",
                        command, name, i + 1, results.size(), model),
            std::move(own));
        report.provenance = report_provenance_for(config_path);
        if (!write_report(out_dir / name, report, command)) {
            return false;
        }
        names += (names.empty() ? "" : ", ") + name;
        parts.push_back(synthetic_symbol_records(
            result, name, run.initial_cash / static_cast<double>(results.size())));
    }
    // The portfolio's report in out_dir, as a replay or a paper session of several symbols.
    const portfolio_records whole =
        combine_portfolio(parts, portfolio_metrics_settings(config.strategy.bands));
    const sim::run_report portfolio = portfolio_report(
        fmt::format("{}: portfolio of {} in one loop on a synthetic market, {} model", command,
                    names, model),
        whole, parts, config_path, config.symbols.front().spec, parameters);
    return write_report(out_dir, portfolio, command);
}

std::string symbol_report_list(const engine_config& config, const std::filesystem::path& out_dir) {
    std::string out;
    for (const symbol_entry& entry : config.symbols) {
        out += (out.empty() ? "" : ", ") + (out_dir / entry.name / "report.html").string();
    }
    return out;
}

} // namespace quoter::app
