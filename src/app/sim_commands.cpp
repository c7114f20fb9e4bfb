// `quoter backtest` and `quoter run --mode sim`. Both build the simulated run from the loaded
// configuration (make_backtest_config) and drive sim::backtest_engine: the backtest as fast as
// it goes, on every core for many paths; the paced run step by step against the wall clock,
// measuring tick-to-quote (book in -> orders out) around each step's reaction.
#include "sim_commands.hpp"

#include "latency_stats.hpp"
#include "quoter/app/app_config.hpp"
#include "quoter/sim/backtest.hpp"
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
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string_view>
#include <thread>
#include <vector>

#include <unistd.h>

namespace quoter::app {
namespace {

constexpr int exit_write_failed = 1;
constexpr int exit_invalid_config = 2;
constexpr int exit_not_built = 3;

// ---------------------------------------------------------------------------------------------
// Shared

/// Loads and validates; on failure prints every problem like `config check` does.
std::optional<engine_config> load_for_simulation(const std::string& path,
                                                 const std::string& profile,
                                                 const std::string& symbol, const char* command) {
    config::load_options options{.profile = profile};
    if (!symbol.empty()) {
        std::map<std::string, std::string> vars(options.env.vars().begin(),
                                                options.env.vars().end());
        vars["QUOTER_ENGINE_SYMBOL"] = symbol;
        options.env = config::environment::from_map(std::move(vars));
    }
    auto loaded = load_engine_config(path, std::move(options));
    if (!loaded) {
        std::size_t errors = 0;
        for (const auto& problem : loaded.error()) {
            std::fprintf(stderr, "%s\n", config::to_string(problem).c_str());
            errors += problem.level == config::severity::error ? 1 : 0;
        }
        std::fprintf(stderr, "quoter %s: %zu error%s in %s\n", command, errors,
                     errors == 1 ? "" : "s", path.c_str());
        return std::nullopt;
    }
    for (const auto& warning : loaded->resolved.warnings) {
        std::fprintf(stderr, "%s\n", config::to_string(warning).c_str());
    }
    return std::move(*loaded);
}

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

// ---------------------------------------------------------------------------------------------
// quoter backtest

void print_single_summary(const sim::backtest_result& result, const sim::backtest_config& config,
                          double wall_s) {
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

void print_multi_summary(const sim::multi_path_result& result, const sim::backtest_config& config,
                         unsigned threads, double wall_s) {
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

} // namespace

int run_backtest_command(const backtest_command& command) {
    const auto loaded = load_for_simulation(command.config_path, command.profile, {}, "backtest");
    if (!loaded) {
        return exit_invalid_config;
    }
    const engine_config& config = *loaded;
    const sim::backtest_config run = make_backtest_config(config);
    const std::uint32_t paths = command.paths.value_or(config.backtest.paths);
    const std::uint64_t seed = command.seed.value_or(config.backtest.seed);
    const auto parameters = report_parameters(config, paths, seed);
    const std::filesystem::path out_dir = command.out_dir;
    const std::string title =
        fmt::format("quoter backtest: {} on a synthetic market, {} model{}", config.engine.symbol,
                    strategy::to_string(config.strategy.model),
                    config.strategy.symmetric ? " (symmetric)" : "");

    if (paths == 1) {
        progress_line progress("simulated s");
        const std::int64_t start = monotonic_ns();
        const auto result =
            sim::run_backtest(run, config.spec, sim::derive_path_seed(seed, 0),
                              [&](core::timestamp_ns now, core::timestamp_ns end) {
                                  progress.update(static_cast<std::size_t>(now / core::ns_per_s),
                                                  static_cast<std::size_t>(end / core::ns_per_s));
                              });
        const double wall_s = static_cast<double>(monotonic_ns() - start) * 1e-9;
        progress.finish();
        const auto report = sim::make_run_report(result, config.spec, title, parameters);
        const auto written = sim::write_run_report(out_dir, report);
        if (!written) {
            std::fprintf(stderr, "quoter backtest: cannot write %s: %s\n",
                         written.error().path.c_str(), written.error().reason.c_str());
            return exit_write_failed;
        }
        print_single_summary(result, run, wall_s);
        std::printf("report: %s (with pnl.csv, fills.csv, orders.csv, report.json, report.md)\n",
                    (out_dir / "report.html").string().c_str());
        return 0;
    }

    sim::path_runner runner(sim::path_runner_options{.threads = config.backtest.threads});
    const std::int64_t start = monotonic_ns();
    const auto result = sim::run_backtest_paths(run, config.spec, seed, paths, runner);
    const double wall_s = static_cast<double>(monotonic_ns() - start) * 1e-9;

    const auto example = sim::make_run_report(
        result.example, config.spec,
        fmt::format("path 0 of {} (seed {})", paths, result.example.seed), parameters);
    sim::multi_path_report report;
    report.title = fmt::format("{}, {} paths", title, paths);
    report.paths = result.paths;
    report.metrics = result.metrics;
    report.parameters = parameters;
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
    std::printf("report: %s (per-path table %s, path 0 in full in %s)\n",
                (out_dir / "report.html").string().c_str(),
                (out_dir / "paths.csv").string().c_str(), (out_dir / "path_0").string().c_str());
    return 0;
}

// ---------------------------------------------------------------------------------------------
// quoter run --mode sim

namespace {

// Set by SIGINT/SIGTERM; a lock-free atomic is safe to store from a signal handler.
std::atomic<int> stop_signal{0};
static_assert(std::atomic<int>::is_always_lock_free);

extern "C" void on_stop_signal(int signal) {
    stop_signal.store(signal, std::memory_order_relaxed);
}

/// Installs the stop handlers for its lifetime.
class stop_signals {
public:
    stop_signals() {
        stop_signal.store(0);
        struct sigaction action {};
        action.sa_handler = &on_stop_signal;
        sigemptyset(&action.sa_mask);
        ::sigaction(SIGINT, &action, &previous_int_);
        ::sigaction(SIGTERM, &action, &previous_term_);
    }
    stop_signals(const stop_signals&) = delete;
    stop_signals& operator=(const stop_signals&) = delete;
    ~stop_signals() {
        ::sigaction(SIGINT, &previous_int_, nullptr);
        ::sigaction(SIGTERM, &previous_term_, nullptr);
    }

private:
    struct sigaction previous_int_ {};
    struct sigaction previous_term_ {};
};

std::string price_text(const core::symbol_spec& spec, core::price p) {
    if (p.ticks() <= 0) {
        return "-";
    }
    std::array<char, 48> buffer{};
    return std::string(spec.format_price(p, buffer));
}

std::string status_line(const sim::backtest_engine& engine, double speed,
                        const latency_histogram& window) {
    const auto& spec = engine.spec();
    const auto& account = engine.account();
    const auto mode = engine.quote_mode();
    return fmt::format(
        "sim {} x{:g}  mid {:.{}f}  bid {}  ask {}  inv {:.{}f}{}  pnl {}  fills {}  "
        "t2q p50 {:.1f} us p99 {:.1f} us",
        clock_text(engine.now()), speed, engine.mid(), spec.price_decimals() + 1,
        price_text(spec, engine.working_bid()), price_text(spec, engine.working_ask()),
        account.position_base(), spec.qty_decimals(),
        mode == strategy::quote_mode::normal ? std::string()
                                             : fmt::format(" ({})", strategy::to_string(mode)),
        signed_money(account.total_pnl()), account.fill_count(),
        static_cast<double>(window.percentile(0.50)) * 1e-3,
        static_cast<double>(window.percentile(0.99)) * 1e-3);
}

void print_run_summary(const sim::backtest_engine& engine, double speed, double wall_s,
                       const latency_histogram& tick_to_quote, int signal) {
    const auto& account = engine.account();
    const auto& activity = engine.activity();
    const auto& quotes = engine.quote_manager().counters();
    const double initial = static_cast<double>(account.initial_cash_units()) /
                           static_cast<double>(core::pow10(engine.spec().price_decimals() +
                                                           engine.spec().qty_decimals()));
    std::printf("quoter run --mode sim: stopped by %s after %.1f s wall, %.1f s simulated (x%g), "
                "%llu steps\n",
                signal == SIGINT    ? "SIGINT"
                : signal == SIGTERM ? "SIGTERM"
                                    : "--duration",
                wall_s, static_cast<double>(engine.now()) * 1e-9, speed,
                static_cast<unsigned long long>(engine.counters().steps));
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
                engine.spec().qty_decimals(), account.position_base());
    std::printf("  tick-to-quote (book update to orders sent, %llu updates): p50 %.2f us, "
                "p99 %.2f us, max %.2f us\n",
                static_cast<unsigned long long>(tick_to_quote.count()),
                static_cast<double>(tick_to_quote.percentile(0.50)) * 1e-3,
                static_cast<double>(tick_to_quote.percentile(0.99)) * 1e-3,
                static_cast<double>(tick_to_quote.max()) * 1e-3);
    std::printf("  open orders after the final cancel-all: %zu\n",
                engine.exchange().open_order_count());
}

} // namespace

int run_sim_command(const sim_run_command& command) {
    const auto loaded =
        load_for_simulation(command.config_path, command.profile, command.symbol, "run");
    if (!loaded) {
        return exit_invalid_config;
    }
    const engine_config& config = *loaded;
    if (command.mode_from_config && config.engine.mode != engine_mode::sim) {
        std::fprintf(stderr, "quoter run --mode %s: not built yet\n",
                     std::string(to_string(config.engine.mode)).c_str());
        return exit_not_built;
    }
    const double speed = command.speed.value_or(config.backtest.speed);
    const sim::backtest_config run = make_backtest_config(config);
    // No records: a paced run may last for days; the summary comes from the account.
    auto engine = std::make_unique<sim::backtest_engine>(
        run, config.spec, sim::derive_path_seed(config.backtest.seed, 0),
        sim::record_options{.pnl = false, .fills = false, .orders = false});

    const stop_signals signals;
    const bool terminal = ::isatty(STDERR_FILENO) != 0;
    std::fprintf(stderr,
                 "quoter run --mode sim: %s on a synthetic market at x%g wall speed%s; "
                 "Ctrl-C stops\n",
                 config.engine.symbol.c_str(), speed,
                 command.duration_s > 0 ? fmt::format(", for {:g} s", command.duration_s).c_str()
                                        : "");
    std::fflush(stderr);
    // A terminal gets a line redrawn in place a few times a second; logs get one line now and
    // then.
    const std::int64_t status_every = terminal ? 250 * core::ns_per_ms : 5 * core::ns_per_s;
    constexpr std::int64_t max_sleep_ns = 20 * core::ns_per_ms;
    constexpr int max_steps_per_round = 1 << 16; // keeps signals and the status responsive

    latency_histogram tick_to_quote;
    latency_histogram window;
    const std::int64_t wall_start = monotonic_ns();
    const std::int64_t wall_end =
        command.duration_s > 0 ? wall_start + static_cast<std::int64_t>(command.duration_s * 1e9)
                               : std::numeric_limits<std::int64_t>::max();
    std::int64_t next_status = wall_start + status_every;
    std::size_t status_width = 0;

    while (stop_signal.load(std::memory_order_relaxed) == 0) {
        const std::int64_t wall = monotonic_ns();
        if (wall >= wall_end) {
            break;
        }
        const double due = static_cast<double>(wall - wall_start) * speed;
        for (int i = 0;
             i < max_steps_per_round && static_cast<double>(engine->now() + run.step_ns) <= due &&
             stop_signal.load(std::memory_order_relaxed) == 0;
             ++i) {
            engine->advance_market();
            const std::int64_t before = monotonic_ns();
            engine->react();
            const std::int64_t reacted = monotonic_ns() - before;
            tick_to_quote.record(reacted);
            window.record(reacted);
            engine->simulate_order_flow();
        }
        if (wall >= next_status) {
            const std::string line = status_line(*engine, speed, window);
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
                                      static_cast<double>(engine->now() + run.step_ns) / speed;
        const auto sleep_ns = static_cast<std::int64_t>(
            std::clamp(next_step_wall - static_cast<double>(monotonic_ns()), 0.0,
                       static_cast<double>(max_sleep_ns)));
        if (sleep_ns > 0) {
            std::this_thread::sleep_for(std::chrono::nanoseconds(
                std::min(sleep_ns, std::max<std::int64_t>(wall_end - monotonic_ns(), 0))));
        }
    }
    const int signal = stop_signal.load();
    const double wall_s = static_cast<double>(monotonic_ns() - wall_start) * 1e-9;
    engine->stop();
    if (terminal && status_width > 0) {
        std::fprintf(stderr, "\r%-*s\r", static_cast<int>(status_width), "");
        std::fflush(stderr);
    }
    print_run_summary(*engine, speed, wall_s, tick_to_quote, signal);
    std::fflush(stdout);
    return 0;
}

} // namespace quoter::app
