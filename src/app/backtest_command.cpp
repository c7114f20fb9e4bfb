// `quoter backtest` (synthetic): builds the simulated run from the loaded configuration
// (make_backtest_config) and drives engine::synthetic_run, the synthetic market feeding
// engine::core_loop (the loop that replays captures and paper-trades), as fast as it goes: one
// path on this thread, many paths on every core, several symbols in one loop.
#include "backtest_command.hpp"
#include "exit_codes.hpp"

#include "quoter/app/app_config.hpp"
#include "quoter/app/market_fit.hpp"
#include "quoter/core/clock.hpp"
#include "quoter/engine/sim_backtest.hpp"
#include "quoter/sim/path_runner.hpp"
#include "quoter/sim/random.hpp"
#include "quoter/sim/report.hpp"
#include "report_output.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <string_view>
#include <vector>

#include <unistd.h>

namespace quoter::app {
namespace {

/// Monotonic ns on the process clock; only differences are meaningful.
[[nodiscard]] core::timestamp_ns monotonic_ns() noexcept {
    return core::tsc_clock::process().now();
}

// Shared

std::string rate_text(double per_s) {
    if (per_s >= 1e6) {
        return fmt::format("{:.1f} M", per_s / 1e6);
    }
    if (per_s >= 1e3) {
        return fmt::format("{:.1f} k", per_s / 1e3);
    }
    return fmt::format("{:.0f} ", per_s);
}

/// Redraws a one-line progress bar on a terminal's stderr once a run has lasted a second.
class progress_line {
public:
    explicit progress_line(std::string label)
        : label_(std::move(label)), start_(monotonic_ns()), enabled_(::isatty(STDERR_FILENO) != 0) {
    }
    void update(std::size_t done, std::size_t total) {
        const std::int64_t now = monotonic_ns();
        if (!enabled_ || now - start_ < core::ns_per_s || now - last_ < 100 * core::ns_per_ms) {
            return;
        }
        last_ = now;
        shown_ = true;
        const std::string line = sim::render_progress_line(
            label_, done, total, static_cast<double>(now - start_) * 1e-9);
        std::fprintf(stderr, "\r%-78s", line.c_str());
        std::fflush(stderr);
    }
    void finish() {
        if (shown_) {
            std::fprintf(stderr, "\n");
        }
    }

private:
    std::string label_;
    std::int64_t start_;
    std::int64_t last_ = 0;
    bool enabled_;
    bool shown_ = false;
};

/// ", new orders held N times for S s (P% of the quoting time)" when an order-rate limit held
/// them; quoting_ns: the run's duration times the symbols quoted.
void print_rate_holds(std::uint64_t holds, core::duration_ns held_ns,
                      core::duration_ns quoting_ns) {
    const std::string text = rate_holds_text(holds, static_cast<double>(held_ns) * 1e-9,
                                             quoting_ns > 0 ? 100.0 * static_cast<double>(held_ns) /
                                                                  static_cast<double>(quoting_ns)
                                                            : 0.0);
    if (!text.empty()) {
        std::printf(", %s", text.c_str());
    }
}

/// "  risk: ..., orders refused N: reason n, ..." from a run's refusal counts, then its
/// order-rate holds; quoting_ns: the run's duration times the symbols quoted.
void print_refusals(const engine::backtest_counters& counters, core::duration_ns quoting_ns) {
    std::printf("  risk: %s, orders refused %llu",
                counters.killed ? "trading halted at least once" : "never halted",
                static_cast<unsigned long long>(counters.risk_refusals));
    const char* separator = ": ";
    for (std::size_t r = 0; r < risk::reject_reason_count; ++r) {
        const auto reason = static_cast<risk::reject_reason>(r);
        if (counters.refusals_by_reason[r] != 0) {
            std::printf("%s%s %llu", separator, std::string(risk::to_string(reason)).c_str(),
                        static_cast<unsigned long long>(counters.refusals_by_reason[r]));
            separator = ", ";
        }
    }
    print_rate_holds(counters.rate_holds, counters.rate_held_ns, quoting_ns);
    std::printf("\n");
}

// ---------------------------------------------------------------------------------------------
// quoter backtest

void print_single_summary(const engine::backtest_result& result,
                          const engine::backtest_config& config, double wall_s) {
    const sim::run_metrics& m = result.metrics;
    const double steps = static_cast<double>(result.counters.steps);
    std::printf("quoter backtest: 1 path, %.0f s simulated (%.0f steps) in %.2f s, %ssteps/s\n",
                static_cast<double>(config.duration_ns) * 1e-9, steps, wall_s,
                rate_text(wall_s > 0 ? steps / wall_s : 0.0).c_str());
    std::printf("  PnL %s (%+.4f%%), Sharpe %.2f, max drawdown %.4f (%.4f%%)\n",
                signed_money(m.total_pnl).c_str(), m.total_return_pct, m.sharpe, m.max_drawdown,
                m.max_drawdown_pct);
    std::printf("  spread capture %s, inventory PnL %s, net fees %.4f\n",
                signed_money(m.spread_capture_pnl).c_str(), signed_money(m.inventory_pnl).c_str(),
                m.net_fees);
    std::printf(
        "  fills %llu (buy %llu, sell %llu), orders %llu, cancels %llu, cancel/trade %.2f\n",
        static_cast<unsigned long long>(m.fills), static_cast<unsigned long long>(m.buy_fills),
        static_cast<unsigned long long>(m.sell_fills),
        static_cast<unsigned long long>(m.orders_submitted),
        static_cast<unsigned long long>(m.cancels), m.cancel_to_trade);
    std::printf("  inventory: final %.8g, mean |q| %.8g, max |q| %.8g\n", m.final_inventory,
                m.mean_abs_inventory, m.max_abs_inventory);
}

void print_multi_summary(const engine::multi_path_result& result,
                         const engine::backtest_config& config, unsigned threads, double wall_s) {
    const double steps = static_cast<double>(result.total_steps);
    std::printf("quoter backtest: %zu paths of %.0f s simulated (%.0f steps) in %.2f s on %u "
                "thread%s, %ssteps/s\n",
                result.paths.size(), static_cast<double>(config.duration_ns) * 1e-9, steps, wall_s,
                threads, threads == 1 ? "" : "s",
                rate_text(wall_s > 0 ? steps / wall_s : 0.0).c_str());
    const auto row = [](const char* name, const sim::distribution_stats& d) {
        std::printf("  %-16s mean %+.6g  std %.6g  [p05 %.6g, median %.6g, p95 %.6g]\n", name,
                    d.mean, d.stddev, d.p05, d.median, d.p95);
    };
    row("final PnL", result.metrics.final_pnl);
    row("final inventory", result.metrics.final_inventory);
    row("Sharpe", result.metrics.sharpe);
    row("fills", result.metrics.fills);
}

/// `quoter backtest` of several symbols in one loop: one report folder per symbol
/// (out_dir/<SYMBOL>/), a summary line each and the portfolio's total.
int run_symbols_backtest(const engine_config& config, const engine::backtest_config& run,
                         std::uint64_t seed, const std::vector<sim::report_parameter>& parameters,
                         const std::filesystem::path& out_dir, const std::string& config_path) {
    const auto symbols = make_backtest_symbols(config);
    progress_line progress("simulated s");
    const std::int64_t start = monotonic_ns();
    const auto results =
        engine::run_backtest(run, symbols, sim::derive_path_seed(seed, 0),
                             [&](core::timestamp_ns now, core::timestamp_ns end) {
                                 progress.update(static_cast<std::size_t>(now / core::ns_per_s),
                                                 static_cast<std::size_t>(end / core::ns_per_s));
                             });
    const double wall_s = static_cast<double>(monotonic_ns() - start) * 1e-9;
    progress.finish();
    const double steps = static_cast<double>(results.front().counters.steps);
    std::printf("quoter backtest: %zu symbols in one loop, 1 path, %.0f s simulated (%.0f steps) "
                "in %.2f s\n",
                results.size(), static_cast<double>(run.duration_ns) * 1e-9, steps, wall_s);
    if (!write_symbols_reports(config, run, results, parameters, out_dir, config_path,
                               "quoter backtest")) {
        return exit_failed;
    }
    double total_pnl = 0.0;
    for (std::size_t i = 0; i < results.size(); ++i) {
        const sim::run_metrics& m = results[i].metrics;
        std::printf("  %-10s PnL %s (%+.4f%% of its %.2f), fills %llu, orders %llu, final "
                    "inventory %.8g, max drawdown %.4f\n",
                    config.symbols[i].name.c_str(), signed_money(m.total_pnl).c_str(),
                    m.total_return_pct, run.initial_cash / static_cast<double>(results.size()),
                    static_cast<unsigned long long>(m.fills),
                    static_cast<unsigned long long>(m.orders_submitted), m.final_inventory,
                    m.max_drawdown);
        total_pnl += m.total_pnl;
    }
    std::printf("  portfolio PnL %s (%+.4f%% of %.2f)\n", signed_money(total_pnl).c_str(),
                run.initial_cash > 0 ? 100.0 * total_pnl / run.initial_cash : 0.0,
                run.initial_cash);
    print_refusals(results.front().counters,
                   run.duration_ns * static_cast<core::duration_ns>(results.size()));
    for (std::size_t i = 0; i < results.size(); ++i) {
        if (results[i].alerts.total() != 0) {
            std::printf("  %s:\n", config.symbols[i].name.c_str());
            print_alert_summary(engine::report_alerts(results[i].alerts));
        }
    }
    std::printf("report: portfolio %s, one folder per symbol: %s\n",
                (out_dir / "report.html").string().c_str(),
                symbol_report_list(config, out_dir).c_str());
    return 0;
}

/// Writes one multi-path report (out_dir: report.html, paths.csv, ...; path 0 in
/// out_dir/path_0). False (after saying why) when a file cannot be written.
bool write_paths_report(const engine::multi_path_result& result, const core::symbol_spec& spec,
                        const std::string& title, std::uint32_t paths,
                        core::duration_ns path_duration_ns,
                        const std::vector<sim::report_parameter>& parameters,
                        const std::filesystem::path& out_dir, const std::string& config_path) {
    auto example = engine::make_run_report(
        result.example, spec, fmt::format("path 0 of {} (seed {})", paths, result.example.seed),
        parameters);
    example.provenance = report_provenance_for(config_path);
    sim::multi_path_report report;
    report.title = fmt::format("{}, {} paths", title, paths);
    report.paths = result.paths;
    report.metrics = result.metrics;
    report.parameters = parameters;
    report.counters = engine::report_counters(result.gate);
    report.alerts = engine::report_alerts(result.alerts);
    report.provenance = report_provenance_for(config_path);
    report.path_duration_s = static_cast<double>(path_duration_ns) * 1e-9;
    report.spread = result.spread;
    report.format = sim::report_format_for(spec);
    report.representative = &example;
    auto written = sim::write_multi_path_report(out_dir, report);
    if (written) {
        written = sim::write_run_report(out_dir / "path_0", example);
    }
    if (!written) {
        std::fprintf(stderr, "quoter backtest: cannot write %s: %s\n", written.error().path.c_str(),
                     written.error().reason.c_str());
        return false;
    }
    return true;
}

/// `quoter backtest --paths N` of several symbols in one loop: every path runs every symbol.
/// One multi-path report per symbol (out_dir/<SYMBOL>/) and the portfolio's in out_dir (its
/// samples sum the symbols' equity; its inventory is net notional in quote units).
int run_symbols_paths(const engine_config& config, const engine::backtest_config& run,
                      std::uint64_t seed, std::uint32_t paths,
                      const std::vector<sim::report_parameter>& parameters,
                      const std::filesystem::path& out_dir, const std::string& config_path) {
    const auto symbols = make_backtest_symbols(config);
    sim::path_runner runner(sim::path_runner_options{.threads = config.backtest.threads});
    const std::int64_t start = monotonic_ns();
    const auto result = engine::run_backtest_paths(run, symbols, seed, paths, runner);
    const double wall_s = static_cast<double>(monotonic_ns() - start) * 1e-9;
    const std::string model = std::string(strategy::to_string(config.strategy.model));
    std::string names;
    for (std::size_t i = 0; i < result.symbols.size(); ++i) {
        const std::string& name = config.symbols[i].name;
        names += (names.empty() ? "" : ", ") + name;
        std::vector<sim::report_parameter> own = parameters;
        own.push_back({"report.symbol", name});
        if (!write_paths_report(
                result.symbols[i], symbols[i].spec,
                fmt::format("quoter backtest: {} ({} of {} symbols in one loop) on a synthetic "
                            "market, {} model",
                            name, i + 1, result.symbols.size(), model),
                paths, run.duration_ns, own, out_dir / name, config_path)) {
            return exit_failed;
        }
    }
    std::vector<sim::report_parameter> whole = parameters;
    whole.push_back({"report.symbol", "portfolio: " + names});
    // Portfolio figures are quote-asset amounts: the first symbol's quote format fits them.
    if (!write_paths_report(result.portfolio, symbols.front().spec,
                            fmt::format("quoter backtest: portfolio of {} in one loop on a "
                                        "synthetic market, {} model",
                                        names, model),
                            paths, run.duration_ns, whole, out_dir, config_path)) {
        return exit_failed;
    }
    const engine::multi_path_result& p = result.portfolio;
    const double steps = static_cast<double>(p.total_steps);
    std::printf("quoter backtest: %zu symbols in one loop, %u paths of %.0f s simulated (%.0f "
                "steps) in %.2f s on %u thread%s\n",
                result.symbols.size(), paths, static_cast<double>(run.duration_ns) * 1e-9, steps,
                wall_s, runner.threads(), runner.threads() == 1 ? "" : "s");
    const auto row = [](const std::string& name, const engine::multi_path_result& r) {
        std::printf("  %-10s final PnL mean %+.6g std %.6g [p05 %.6g, p95 %.6g], Sharpe median "
                    "%.4g, fills mean %.4g\n",
                    name.c_str(), r.metrics.final_pnl.mean, r.metrics.final_pnl.stddev,
                    r.metrics.final_pnl.p05, r.metrics.final_pnl.p95, r.metrics.sharpe.median,
                    r.metrics.fills.mean);
    };
    for (std::size_t i = 0; i < result.symbols.size(); ++i) {
        row(config.symbols[i].name, result.symbols[i]);
    }
    row("portfolio", p);
    std::printf("  risk: orders refused %llu over all paths",
                static_cast<unsigned long long>(p.gate.risk_refusals));
    print_rate_holds(p.rate_holds, p.rate_held_ns,
                     run.duration_ns * static_cast<core::duration_ns>(paths) *
                         static_cast<core::duration_ns>(result.symbols.size()));
    std::printf(", %llu of %u paths halted at least once\n",
                static_cast<unsigned long long>(p.halted_paths), paths);
    print_alert_summary(engine::report_alerts(p.alerts));
    std::printf("report: portfolio %s (per-path table %s), one folder per symbol in %s\n",
                (out_dir / "report.html").string().c_str(),
                (out_dir / "paths.csv").string().c_str(), out_dir.string().c_str());
    return 0;
}

} // namespace

std::vector<sim::report_parameter>
synthetic_report_parameters(const engine_config& config, std::uint32_t paths, std::uint64_t seed) {
    constexpr std::array<std::string_view, 8> prefixes{
        "engine.symbol", "symbol.", "strategy.", "market.",
        "sim_exchange.", "quotes.", "risk.",     "backtest."};
    std::vector<sim::report_parameter> out = config_parameters(config, prefixes);
    for (auto& parameter : out) {
        if (parameter.key == "backtest.paths") {
            parameter.value = std::to_string(paths); // as run, after --paths
        } else if (parameter.key == "backtest.seed") {
            parameter.value = std::to_string(seed);
        }
    }
    // Markets fitted to captures replace the [market] keys they measure: when every symbol's
    // is fitted, the configured values of those keys shaped nothing and are left out.
    const bool every_market_fitted =
        std::all_of(config.symbols.begin(), config.symbols.end(),
                    [](const symbol_entry& entry) { return entry.fitted_market.has_value(); });
    if (every_market_fitted) {
        std::erase_if(out, [&](const sim::report_parameter& parameter) {
            return std::find(fitted_market_keys.begin(), fitted_market_keys.end(), parameter.key) !=
                   fitted_market_keys.end();
        });
    }
    const auto fitted = fitted_market_parameters(config);
    out.insert(out.end(), fitted.begin(), fitted.end());
    return out;
}

int run_backtest_command(const backtest_command& command) {
    auto loaded = load_config_for_command(command.config_path, command.profile, {}, "backtest");
    if (!loaded) {
        return exit_invalid;
    }
    engine_config& config = *loaded;
    if (!fit_markets_for_command(config, command.market_from, "backtest")) {
        return exit_invalid;
    }
    if (const std::string problem = synthetic_market_problem(config, synthetic_command::backtest);
        !problem.empty()) {
        std::fprintf(stderr, "quoter backtest: %s\n", problem.c_str());
        return exit_invalid;
    }
    const engine::backtest_config run = make_backtest_config(config);
    const std::uint32_t paths = command.paths.value_or(config.backtest.paths);
    const std::uint64_t seed = command.seed.value_or(config.backtest.seed);
    const auto parameters = synthetic_report_parameters(config, paths, seed);
    const std::filesystem::path out_dir = command.out_dir;
    const std::string title =
        fmt::format("quoter backtest: {} on a synthetic market, {} model{}", config.engine.symbol,
                    strategy::to_string(config.strategy.model),
                    config.strategy.symmetric ? " (symmetric)" : "");

    // The report folder holds this run's files only: a single run after a multi-path one (or a
    // replay's) must not leave the other's charts and tables beside its own.
    if (!remove_earlier_report(out_dir, "quoter backtest")) {
        return exit_failed;
    }
    if (config.symbols.size() > 1 && paths > 1) {
        return run_symbols_paths(config, run, seed, paths, parameters, out_dir,
                                 command.config_path);
    }
    if (config.symbols.size() > 1) {
        return run_symbols_backtest(config, run, seed, parameters, out_dir, command.config_path);
    }
    if (paths == 1) {
        progress_line progress("simulated s");
        const std::int64_t start = monotonic_ns();
        const auto result = engine::run_backtest(
            run, config.spec, sim::derive_path_seed(seed, 0),
            [&](core::timestamp_ns now, core::timestamp_ns end) {
                progress.update(static_cast<std::size_t>(now / core::ns_per_s),
                                static_cast<std::size_t>(end / core::ns_per_s));
            });
        const double wall_s = static_cast<double>(monotonic_ns() - start) * 1e-9;
        progress.finish();
        if (!write_single_report(config, result, title, parameters, out_dir, command.config_path,
                                 "quoter backtest")) {
            return exit_failed;
        }
        print_single_summary(result, run, wall_s);
        print_refusals(result.counters, run.duration_ns);
        print_alert_summary(engine::report_alerts(result.alerts));
        std::printf("report: %s (with pnl.csv, fills.csv, orders.csv, report.json, report.md)\n",
                    (out_dir / "report.html").string().c_str());
        return 0;
    }

    sim::path_runner runner(sim::path_runner_options{.threads = config.backtest.threads});
    const std::int64_t start = monotonic_ns();
    const auto result = engine::run_backtest_paths(run, config.spec, seed, paths, runner);
    const double wall_s = static_cast<double>(monotonic_ns() - start) * 1e-9;

    if (!write_paths_report(result, config.spec, title, paths, run.duration_ns, parameters, out_dir,
                            command.config_path)) {
        return exit_failed;
    }
    print_multi_summary(result, run, runner.threads(), wall_s);
    std::printf("  risk: orders refused %llu over all paths",
                static_cast<unsigned long long>(result.gate.risk_refusals));
    print_rate_holds(result.rate_holds, result.rate_held_ns,
                     run.duration_ns * static_cast<core::duration_ns>(paths));
    std::printf(", %llu of %u paths halted at least once\n",
                static_cast<unsigned long long>(result.halted_paths), paths);
    print_alert_summary(engine::report_alerts(result.alerts));
    std::printf("report: %s (per-path table %s, path 0 in full in %s)\n",
                (out_dir / "report.html").string().c_str(),
                (out_dir / "paths.csv").string().c_str(), (out_dir / "path_0").string().c_str());
    return 0;
}

} // namespace quoter::app
