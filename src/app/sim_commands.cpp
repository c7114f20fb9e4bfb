// `quoter backtest` and `quoter run --mode sim`. Both build the simulated run from the loaded
// configuration (make_backtest_config) and drive engine::synthetic_run, the synthetic market
// feeding engine::core_loop (the loop that replays captures and paper-trades): the backtest as
// fast as it goes, on every core for many paths; the paced run step by step against the wall
// clock, measuring tick-to-quote (book in -> orders out) around each book event the loop
// handles. Every order passes the loop's risk gate; the paced run also journals ([journal]
// path) and hands manual commands (signals, keys) to the loop through ops::control_channel,
// waking from its pacing wait so that a kill never waits for the market.
#include "sim_commands.hpp"

#include "exit_codes.hpp"
#include "quoter/app/app_config.hpp"
#include "quoter/core/clock.hpp"
#include "quoter/core/latency_histogram.hpp"
#include "quoter/engine/risk_gate.hpp"
#include "quoter/engine/sim_backtest.hpp"
#include "quoter/exec/flattener.hpp"
#include "quoter/ops/alerts.hpp"
#include "quoter/ops/control.hpp"
#include "quoter/ops/journal.hpp"
#include "quoter/ops/terminal.hpp"
#include "quoter/risk/risk_engine.hpp"
#include "quoter/sim/path_runner.hpp"
#include "quoter/sim/random.hpp"
#include "quoter/sim/report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <vector>

#include <poll.h>
#include <unistd.h>

namespace quoter::app {
namespace {

using core::latency_histogram;

/// Monotonic ns on the process clock; only differences are meaningful.
[[nodiscard]] core::timestamp_ns monotonic_ns() noexcept {
    return core::tsc_clock::process().now();
}

constexpr int exit_write_failed = 1;
constexpr int exit_invalid_config = 2;

// ---------------------------------------------------------------------------------------------
// Shared

/// The configuration keys that shape a simulated run, as the report echoes them.
std::vector<sim::report_parameter> report_parameters(const engine_config& config,
                                                     std::uint32_t paths, std::uint64_t seed) {
    constexpr std::array<std::string_view, 7> prefixes{
        "engine.symbol", "symbol.", "strategy.", "market.",
        "sim_exchange.", "quotes.", "backtest."};
    std::vector<sim::report_parameter> out;
    for (const auto& key : config.resolved.keys) {
        const bool wanted = std::any_of(prefixes.begin(), prefixes.end(), [&](std::string_view p) {
            return std::string_view(key.key).starts_with(p);
        });
        if (!wanted) {
            continue;
        }
        std::string value = key.value_text;
        if (key.key == "backtest.paths") {
            value = std::to_string(paths); // as run, after --paths
        } else if (key.key == "backtest.seed") {
            value = std::to_string(seed);
        }
        out.push_back({key.key, std::move(value)});
    }
    return out;
}

std::string signed_money(double value) {
    return fmt::format("{:+.4f}", value);
}

std::string clock_text(core::timestamp_ns ns) {
    const std::int64_t seconds = ns / core::ns_per_s;
    return fmt::format("{:02}:{:02}:{:02}", seconds / 3600, seconds / 60 % 60, seconds % 60);
}

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

/// "  risk: ..., orders refused N: reason n, ..." from a run's refusal counts.
void print_refusals(const engine::backtest_counters& counters) {
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
    double total_pnl = 0.0;
    std::string folders;
    for (std::size_t i = 0; i < results.size(); ++i) {
        const engine::backtest_result& result = results[i];
        const std::string& name = config.symbols[i].name;
        std::vector<sim::report_parameter> own = parameters;
        own.push_back({"report.symbol", name});
        auto report = engine::make_run_report(
            result, symbols[i].spec,
            fmt::format("quoter backtest: {} ({} of {} symbols in one loop) on a synthetic market, "
                        "{} model",
                        name, i + 1, results.size(), strategy::to_string(config.strategy.model)),
            std::move(own));
        report.provenance = report_provenance_for(config_path);
        const auto written = sim::write_run_report(out_dir / name, report);
        if (!written) {
            std::fprintf(stderr, "quoter backtest: cannot write %s: %s\n",
                         written.error().path.c_str(), written.error().reason.c_str());
            return exit_write_failed;
        }
        const sim::run_metrics& m = result.metrics;
        std::printf("  %-10s PnL %s (%+.4f%% of its %.2f), fills %llu, orders %llu, final "
                    "inventory %.8g, max drawdown %.4f\n",
                    name.c_str(), signed_money(m.total_pnl).c_str(), m.total_return_pct,
                    run.initial_cash / static_cast<double>(results.size()),
                    static_cast<unsigned long long>(m.fills),
                    static_cast<unsigned long long>(m.orders_submitted), m.final_inventory,
                    m.max_drawdown);
        total_pnl += m.total_pnl;
        folders += (folders.empty() ? "" : ", ") + (out_dir / name / "report.html").string();
    }
    std::printf("  portfolio PnL %s (%+.4f%% of %.2f)\n", signed_money(total_pnl).c_str(),
                run.initial_cash > 0 ? 100.0 * total_pnl / run.initial_cash : 0.0,
                run.initial_cash);
    print_refusals(results.front().counters);
    for (std::size_t i = 0; i < results.size(); ++i) {
        if (results[i].alerts.total() != 0) {
            std::printf("  %s:\n", config.symbols[i].name.c_str());
            print_alert_summary(engine::report_alerts(results[i].alerts));
        }
    }
    std::printf("report: one folder per symbol: %s\n", folders.c_str());
    return 0;
}

/// Writes one multi-path report (out_dir: report.html, paths.csv, ...; path 0 in
/// out_dir/path_0). False (after saying why) when a file cannot be written.
bool write_paths_report(const engine::multi_path_result& result, const core::symbol_spec& spec,
                        const std::string& title, std::uint32_t paths,
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
    report.alerts = engine::report_alerts(result.alerts);
    report.provenance = report_provenance_for(config_path);
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
                paths, own, out_dir / name, config_path)) {
            return exit_write_failed;
        }
    }
    std::vector<sim::report_parameter> whole = parameters;
    whole.push_back({"report.symbol", "portfolio: " + names});
    // Portfolio figures are quote-asset amounts: the first symbol's quote format fits them.
    if (!write_paths_report(result.portfolio, symbols.front().spec,
                            fmt::format("quoter backtest: portfolio of {} in one loop on a "
                                        "synthetic market, {} model",
                                        names, model),
                            paths, whole, out_dir, config_path)) {
        return exit_write_failed;
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
    std::printf("  risk: orders refused %llu over all paths, %llu of %u paths halted at least "
                "once\n",
                static_cast<unsigned long long>(p.risk_refusals),
                static_cast<unsigned long long>(p.halted_paths), paths);
    print_alert_summary(engine::report_alerts(p.alerts));
    std::printf("report: portfolio %s (per-path table %s), one folder per symbol in %s\n",
                (out_dir / "report.html").string().c_str(),
                (out_dir / "paths.csv").string().c_str(), out_dir.string().c_str());
    return 0;
}

} // namespace

sim::report_provenance report_provenance_for(const std::string& config_path) {
    const std::time_t now = std::time(nullptr);
    std::tm utc{};
    (void)::gmtime_r(&now, &utc);
    std::array<char, 32> date{};
    const std::size_t length =
        std::strftime(date.data(), date.size(), "%Y-%m-%d %H:%M:%S UTC", &utc);
    return {.config_file = config_path,
            .version = QUOTER_VERSION,
            .generated = std::string(date.data(), length)};
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

bool remove_earlier_report(const std::filesystem::path& out_dir) {
    constexpr std::array<std::string_view, 7> files{"pnl.csv",     "fills.csv", "orders.csv",
                                                    "report.json", "report.md", "report.html",
                                                    "paths.csv"};
    std::error_code error;
    for (const std::string_view name : files) {
        const auto path = out_dir / name;
        if (std::filesystem::remove(path, error); error) {
            std::fprintf(stderr, "quoter backtest: cannot remove %s: %s\n", path.c_str(),
                         error.message().c_str());
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
            std::fprintf(stderr, "quoter backtest: cannot remove %s: %s\n", folder.c_str(),
                         error.message().c_str());
            return false;
        }
    }
    return true;
}

int run_backtest_command(const backtest_command& command) {
    const auto loaded =
        load_config_for_command(command.config_path, command.profile, {}, "backtest");
    if (!loaded) {
        return exit_invalid_config;
    }
    const engine_config& config = *loaded;
    if (const std::string problem = synthetic_market_problem(config); !problem.empty()) {
        std::fprintf(stderr, "quoter backtest: %s\n", problem.c_str());
        return exit_invalid_config;
    }
    const engine::backtest_config run = make_backtest_config(config);
    const std::uint32_t paths = command.paths.value_or(config.backtest.paths);
    const std::uint64_t seed = command.seed.value_or(config.backtest.seed);
    const auto parameters = report_parameters(config, paths, seed);
    const std::filesystem::path out_dir = command.out_dir;
    const std::string title =
        fmt::format("quoter backtest: {} on a synthetic market, {} model{}", config.engine.symbol,
                    strategy::to_string(config.strategy.model),
                    config.strategy.symmetric ? " (symmetric)" : "");

    // The report folder holds this run's files only: a single run after a multi-path one (or a
    // replay's) must not leave the other's charts and tables beside its own.
    if (!remove_earlier_report(out_dir)) {
        return exit_write_failed;
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
        auto report = engine::make_run_report(result, config.spec, title, parameters);
        report.provenance = report_provenance_for(command.config_path);
        const auto written = sim::write_run_report(out_dir, report);
        if (!written) {
            std::fprintf(stderr, "quoter backtest: cannot write %s: %s\n",
                         written.error().path.c_str(), written.error().reason.c_str());
            return exit_write_failed;
        }
        print_single_summary(result, run, wall_s);
        print_refusals(result.counters);
        print_alert_summary(report.alerts);
        std::printf("report: %s (with pnl.csv, fills.csv, orders.csv, report.json, report.md)\n",
                    (out_dir / "report.html").string().c_str());
        return 0;
    }

    sim::path_runner runner(sim::path_runner_options{.threads = config.backtest.threads});
    const std::int64_t start = monotonic_ns();
    const auto result = engine::run_backtest_paths(run, config.spec, seed, paths, runner);
    const double wall_s = static_cast<double>(monotonic_ns() - start) * 1e-9;

    auto example = engine::make_run_report(
        result.example, config.spec,
        fmt::format("path 0 of {} (seed {})", paths, result.example.seed), parameters);
    example.provenance = report_provenance_for(command.config_path);
    sim::multi_path_report report;
    report.title = fmt::format("{}, {} paths", title, paths);
    report.paths = result.paths;
    report.metrics = result.metrics;
    report.parameters = parameters;
    report.alerts = engine::report_alerts(result.alerts);
    report.provenance = report_provenance_for(command.config_path);
    report.spread = result.spread;
    report.format = sim::report_format_for(config.spec);
    report.representative = &example;
    auto written = sim::write_multi_path_report(out_dir, report);
    if (written) {
        written = sim::write_run_report(out_dir / "path_0", example);
    }
    if (!written) {
        std::fprintf(stderr, "quoter backtest: cannot write %s: %s\n", written.error().path.c_str(),
                     written.error().reason.c_str());
        return exit_write_failed;
    }
    print_multi_summary(result, run, runner.threads(), wall_s);
    std::printf("  risk: orders refused %llu over all paths, %llu of %u paths halted at least "
                "once\n",
                static_cast<unsigned long long>(result.risk_refusals),
                static_cast<unsigned long long>(result.halted_paths), paths);
    print_alert_summary(report.alerts);
    std::printf("report: %s (per-path table %s, path 0 in full in %s)\n",
                (out_dir / "report.html").string().c_str(),
                (out_dir / "paths.csv").string().c_str(), (out_dir / "path_0").string().c_str());
    return 0;
}

// ---------------------------------------------------------------------------------------------
// quoter run --mode sim

namespace {

/// Installs the SIGINT/SIGTERM/SIGUSR1 handlers for its lifetime.
class signal_guard {
public:
    explicit signal_guard(ops::control_channel& channel) noexcept
        : installed_(ops::install_signal_handlers(channel)) {}
    signal_guard(const signal_guard&) = delete;
    signal_guard& operator=(const signal_guard&) = delete;
    ~signal_guard() {
        if (installed_) {
            ops::remove_signal_handlers();
        }
    }
    [[nodiscard]] bool installed() const noexcept { return installed_; }

private:
    bool installed_;
};

/// Waits up to `ns` for a control command (a signal or a key), or sleeps when the channel has no
/// wake-up fd.
void wait_for_control(const ops::control_channel& channel, std::int64_t ns) {
    if (ns <= 0) {
        return;
    }
    if (channel.wake_fd() < 0) {
        std::this_thread::sleep_for(std::chrono::nanoseconds(ns));
        return;
    }
    pollfd fd{channel.wake_fd(), POLLIN, 0};
    const timespec timeout{static_cast<time_t>(ns / core::ns_per_s),
                           static_cast<long>(ns % core::ns_per_s)};
    (void)::ppoll(&fd, 1, &timeout, nullptr);
}

std::string symbol_list(const engine_config& config) {
    std::string out;
    for (const auto& entry : config.symbols) {
        out += (out.empty() ? "" : ", ") + entry.name;
    }
    return out;
}

std::string price_text(const core::symbol_spec& spec, core::price p) {
    if (p.ticks() <= 0) {
        return "-";
    }
    std::array<char, 48> buffer{};
    return std::string(spec.format_price(p, buffer));
}

std::string status_line(const engine::synthetic_run& run, double speed,
                        const latency_histogram& window) {
    const auto& spec = run.spec();
    const auto& account = run.account();
    return fmt::format(
        "sim {} x{:g}  mid {:.{}f}  bid {}  ask {}  inv {:.{}f}{}  pnl {}  fills {}  "
        "t2q p50 {:.1f} us p99 {:.1f} us",
        clock_text(run.now()), speed, run.mid(), spec.price_decimals() + 1,
        price_text(spec, run.working_bid()), price_text(spec, run.working_ask()),
        account.position_base(), spec.qty_decimals(),
        run.loop().state() == risk::trading_state::running
            ? std::string()
            : fmt::format(" ({})", risk::to_string(run.loop().state())),
        signed_money(account.total_pnl()), account.fill_count(),
        static_cast<double>(window.percentile(0.50)) * 1e-3,
        static_cast<double>(window.percentile(0.99)) * 1e-3);
}

void print_risk_summary(const engine::synthetic_run& run, const ops::journal* journal) {
    const risk::kill_switch& state = run.loop().risk().switch_state();
    const engine::backtest_counters counters = run.counters();
    std::printf("  risk: state %s", std::string(risk::to_string(state.state())).c_str());
    if (state.state() == risk::trading_state::killed) {
        std::printf(" (%s)", std::string(risk::to_string(state.kill_reason())).c_str());
    }
    std::printf(", halts %llu, orders refused %llu",
                static_cast<unsigned long long>(state.kill_count()),
                static_cast<unsigned long long>(counters.risk_refusals));
    const char* separator = ": ";
    for (std::size_t r = 0; r < risk::reject_reason_count; ++r) {
        if (counters.refusals_by_reason[r] != 0) {
            std::printf("%s%s %llu", separator,
                        std::string(risk::to_string(static_cast<risk::reject_reason>(r))).c_str(),
                        static_cast<unsigned long long>(counters.refusals_by_reason[r]));
            separator = ", ";
        }
    }
    std::printf("\n");
    const exec::flattener& flattener = run.loop().flattener();
    if (flattener.orders_sent() != 0 || flattener.state() != exec::flatten_state::idle) {
        std::printf("  flatten on kill: %s, %llu orders, %.*f filled\n",
                    std::string(exec::to_string(flattener.state())).c_str(),
                    static_cast<unsigned long long>(flattener.orders_sent()),
                    run.spec().qty_decimals(), run.spec().to_double(flattener.filled_qty()));
    }
    if (journal != nullptr) {
        std::printf("  journal: %s (%llu lines, %llu dropped)\n", journal->path().c_str(),
                    static_cast<unsigned long long>(journal->lines_flushed()),
                    static_cast<unsigned long long>(journal->dropped()));
    }
}

void print_run_summary(const engine::synthetic_run& run, double speed, double wall_s,
                       const latency_histogram& tick_to_quote, std::string_view stopped_by) {
    const auto& account = run.account();
    const auto& activity = run.recorder().activity();
    const auto& quotes = run.loop().quotes().counters();
    const double initial =
        static_cast<double>(account.initial_cash_units()) /
        static_cast<double>(core::pow10(run.spec().price_decimals() + run.spec().qty_decimals()));
    std::printf("quoter run --mode sim: stopped by %s after %.1f s wall, %.1f s simulated (x%g), "
                "%llu steps\n",
                std::string(stopped_by).c_str(), wall_s, static_cast<double>(run.now()) * 1e-9,
                speed, static_cast<unsigned long long>(run.counters().steps));
    if (run.symbol_count() > 1) {
        // The two lines below are the first symbol's; every symbol gets its own line after.
        std::printf("  %s (the first of %zu symbols):\n",
                    std::string(run.spec().name().view()).c_str(), run.symbol_count());
    }
    std::printf("  PnL %s (%+.4f%%), equity %.4f, spread capture %s, inventory PnL %s, "
                "net fees %.4f\n",
                signed_money(account.total_pnl()).c_str(),
                initial > 0 ? 100.0 * account.total_pnl() / initial : 0.0, account.equity(),
                signed_money(account.spread_capture_pnl()).c_str(),
                signed_money(account.inventory_pnl()).c_str(), account.fees());
    std::printf("  fills %llu, orders %llu, cancels %llu, rejects %llu, cancel/trade %.2f, "
                "final inventory %.*f\n",
                static_cast<unsigned long long>(account.fill_count()),
                static_cast<unsigned long long>(activity.orders_submitted),
                static_cast<unsigned long long>(activity.cancels),
                static_cast<unsigned long long>(activity.rejects), quotes.cancel_to_trade_ratio(),
                run.spec().qty_decimals(), account.position_base());
    std::printf("  tick-to-quote (book update to orders sent, %llu updates): p50 %.2f us, "
                "p99 %.2f us, max %.2f us\n",
                static_cast<unsigned long long>(tick_to_quote.count()),
                static_cast<double>(tick_to_quote.percentile(0.50)) * 1e-3,
                static_cast<double>(tick_to_quote.percentile(0.99)) * 1e-3,
                static_cast<double>(tick_to_quote.max()) * 1e-3);
    for (std::size_t i = 1; run.symbol_count() > 1 && i <= run.symbol_count(); ++i) {
        // Symbol 0 leads the lines above; every symbol gets its own line when there are several.
        const std::size_t k = i - 1;
        const auto& a = run.account(k);
        std::printf("  %-10s PnL %s, fills %llu, orders %llu, final inventory %.*f, state %s\n",
                    std::string(run.spec(k).name().view()).c_str(),
                    signed_money(a.total_pnl()).c_str(),
                    static_cast<unsigned long long>(a.fill_count()),
                    static_cast<unsigned long long>(run.recorder(k).activity().orders_submitted),
                    run.spec(k).qty_decimals(), a.position_base(),
                    std::string(risk::to_string(run.loop(k).state())).c_str());
    }
    std::printf("  open orders after the final cancel-all: %zu\n",
                run.exchange().open_order_count());
}

} // namespace

int run_sim_command(const sim_run_command& command) {
    const auto loaded =
        load_config_for_command(command.config_path, command.profile, command.symbol, "run");
    if (!loaded) {
        return exit_invalid_config;
    }
    const engine_config& config = *loaded;
    if (command.mode_from_config && config.engine.mode != engine_mode::sim) {
        std::fprintf(stderr, "quoter run --mode %s: not built yet\n",
                     std::string(to_string(config.engine.mode)).c_str());
        return exit_not_built;
    }
    if (const std::string problem = synthetic_market_problem(config); !problem.empty()) {
        std::fprintf(stderr, "quoter run: %s\n", problem.c_str());
        return exit_invalid_config;
    }
    const double speed = command.speed.value_or(config.backtest.speed);
    const engine::backtest_config run = make_backtest_config(config);
    const auto symbols = make_backtest_symbols(config);

    std::unique_ptr<ops::journal> journal;
    if (!config.journal.path.empty()) {
        ops::journal_config journal_config;
        journal_config.path = config.journal.path;
        journal_config.fdatasync_interval_ms = config.journal.flush_interval_ms.count();
        for (const auto& symbol : symbols) {
            journal_config.symbols.push_back(symbol.spec);
        }
        journal_config.stamp_wall_clock = true; // "ts" is simulated time
        auto opened = ops::journal::open(std::move(journal_config));
        if (!opened) {
            std::fprintf(stderr, "quoter run: cannot open the journal %s: %s\n",
                         config.journal.path.c_str(), std::strerror(opened.error().error_number));
            return exit_write_failed;
        }
        journal = std::move(*opened);
        if (!journal->start()) {
            std::fprintf(stderr, "quoter run: cannot start the journal writer\n");
            return exit_write_failed;
        }
    }
    ops::control_channel channel;
    const signal_guard signals(channel);
    if (!signals.installed()) {
        std::fprintf(stderr, "quoter run: cannot install the signal handlers\n");
    }
    // Keys only in an interactive terminal; the reader restores the terminal when it stops
    // (its destructor, on every return below) and the signal handlers on a forced exit.
    ops::terminal_key_reader keys(channel);
    const bool interactive =
        ::isatty(STDIN_FILENO) != 0 && keys.start() == ops::terminal_error::none;

    // The core loop takes the manual commands itself (kill, pause, resume, quit) on every step
    // and poll; no records: a paced run may last for days, its summary comes from the account.
    auto sim_run = std::make_unique<engine::synthetic_run>(
        run, symbols, sim::derive_path_seed(config.backtest.seed, 0),
        engine::record_options{.pnl = false, .fills = false, .orders = false}, journal.get(),
        &channel);

    const bool terminal = ::isatty(STDERR_FILENO) != 0;
    std::fprintf(
        stderr, "quoter run --mode sim: %s on a synthetic market at x%g wall speed%s; %s\n",
        symbol_list(config).c_str(), speed,
        command.duration_s > 0 ? fmt::format(", for {:g} s", command.duration_s).c_str() : "",
        interactive ? "keys: k kill, p pause, r resume, q quit; Ctrl-C stops"
                    : "Ctrl-C stops, SIGUSR1 kills");
    std::fflush(stderr);
    // A terminal gets a line redrawn in place a few times a second; logs get one line now and
    // then.
    const std::int64_t status_every = terminal ? 250 * core::ns_per_ms : 5 * core::ns_per_s;
    constexpr std::int64_t max_sleep_ns = 20 * core::ns_per_ms;
    constexpr int max_steps_per_round = 1 << 16; // keeps signals and the status responsive

    const auto take_control = [&] {
        (void)sim_run->poll();
        channel.clear_wake();
        return sim_run->loop().stop_requested();
    };

    latency_histogram tick_to_quote;
    latency_histogram window;
    const std::int64_t wall_start = monotonic_ns();
    const std::int64_t wall_end =
        command.duration_s > 0 ? wall_start + static_cast<std::int64_t>(command.duration_s * 1e9)
                               : std::numeric_limits<std::int64_t>::max();
    std::int64_t next_status = wall_start + status_every;
    std::size_t status_width = 0;

    bool quit = take_control();
    while (!quit) {
        const std::int64_t wall = monotonic_ns();
        if (wall >= wall_end) {
            break;
        }
        const double due = static_cast<double>(wall - wall_start) * speed;
        for (int i = 0;
             i < max_steps_per_round && static_cast<double>(sim_run->now() + run.step_ns) <= due &&
             !channel.kill_requested() && !channel.stop_requested();
             ++i) {
            const bool book = sim_run->advance_market();
            const std::int64_t before = monotonic_ns();
            sim_run->react(book);
            const std::int64_t reacted = monotonic_ns() - before;
            if (book) {
                tick_to_quote.record(reacted);
                window.record(reacted);
            }
            sim_run->flow();
        }
        quit = take_control();
        if (quit) {
            break;
        }
        if (wall >= next_status) {
            const std::string line = status_line(*sim_run, speed, window);
            if (terminal) {
                status_width = std::max(status_width, line.size());
                std::fprintf(stderr, "\r%-*s", static_cast<int>(status_width), line.c_str());
            } else {
                std::fprintf(stderr, "%s\n", line.c_str());
            }
            std::fflush(stderr);
            window.reset();
            next_status = wall + status_every;
        }
        const double next_step_wall = static_cast<double>(wall_start) +
                                      static_cast<double>(sim_run->now() + run.step_ns) / speed;
        const auto sleep_ns = static_cast<std::int64_t>(
            std::clamp(next_step_wall - static_cast<double>(monotonic_ns()), 0.0,
                       static_cast<double>(max_sleep_ns)));
        // The wait wakes on a command, so a kill never waits for the next market step.
        wait_for_control(channel,
                         std::min(sleep_ns, std::max<std::int64_t>(wall_end - monotonic_ns(), 0)));
    }
    const std::string_view stopped_by = !quit ? std::string_view("--duration")
                                        : channel.stop_source()
                                            ? (*channel.stop_source() == ops::command_source::signal
                                                   ? std::string_view("SIGINT/SIGTERM")
                                                   : std::string_view("a stop request"))
                                            : std::string_view("the q key");
    const double wall_s = static_cast<double>(monotonic_ns() - wall_start) * 1e-9;
    sim_run->stop();
    keys.stop();
    if (journal != nullptr) {
        journal->stop();
    }
    if (terminal && status_width > 0) {
        std::fprintf(stderr, "\r%-*s\r", static_cast<int>(status_width), "");
        std::fflush(stderr);
    }
    print_run_summary(*sim_run, speed, wall_s, tick_to_quote, stopped_by);
    print_risk_summary(*sim_run, journal.get());
    engine::alert_tally alerts;
    for (std::size_t i = 0; i < sim_run->symbol_count(); ++i) {
        alerts.merge(sim_run->recorder(i).alerts());
    }
    print_alert_summary(engine::report_alerts(alerts));
    std::fflush(stdout);
    return 0;
}

} // namespace quoter::app
