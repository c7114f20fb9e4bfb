// `quoter run --mode sim`: drives engine::synthetic_run step by step against the wall clock,
// measuring tick-to-quote (book in -> orders out) around each book event the loop handles.
// Every order passes the loop's risk gate; the run journals ([journal] path) and hands manual
// commands (signals, keys) to the loop through ops::control_channel, waking from its pacing
// wait so that a kill never waits for the market.
#include "sim_run_command.hpp"

#include "backtest_command.hpp"
#include "exit_codes.hpp"
#include "quoter/app/app_config.hpp"
#include "quoter/app/market_fit.hpp"
#include "quoter/core/clock.hpp"
#include "quoter/core/latency_histogram.hpp"
#include "quoter/engine/session_services.hpp"
#include "quoter/engine/sim_backtest.hpp"
#include "quoter/exec/flattener.hpp"
#include "quoter/ops/control.hpp"
#include "quoter/ops/journal.hpp"
#include "quoter/ops/status_line.hpp"
#include "quoter/ops/terminal.hpp"
#include "quoter/risk/risk_engine.hpp"
#include "quoter/sim/random.hpp"
#include "report_output.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <string_view>
#include <vector>

#include <unistd.h>

namespace quoter::app {
namespace {

using core::latency_histogram;

/// Monotonic ns on the process clock; only differences are meaningful.
[[nodiscard]] core::timestamp_ns monotonic_ns() noexcept {
    return core::tsc_clock::process().now();
}

std::string clock_text(core::timestamp_ns ns) {
    const std::int64_t seconds = ns / core::ns_per_s;
    return fmt::format("{:02}:{:02}:{:02}", seconds / 3600, seconds / 60 % 60, seconds % 60);
}

/// The synthetic market as /status and the metrics see it: a step is a message, and every
/// book is always in sync.
engine::feed_view sim_feed(const engine::synthetic_run& run) noexcept {
    return {.messages = run.counters().steps,
            .gaps = 0,
            .resyncs = 0,
            .synced_symbols = run.symbol_count(),
            .last_update_id = 0};
}

/// The simulated exchange: in process, so always connected.
engine::venue_view sim_venue(const engine::synthetic_run& run) noexcept {
    return {
        .working_orders = run.exchange().open_order_count(), .connected = true, .api_errors = 0};
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
    // The symbols' quoting time: the run so far, once per symbol.
    const double quoting_s =
        static_cast<double>(run.now()) * 1e-9 * static_cast<double>(run.symbol_count());
    const double held_s = static_cast<double>(counters.rate_held_ns) * 1e-9;
    const std::string held = rate_holds_text(counters.rate_holds, held_s,
                                             quoting_s > 0.0 ? 100.0 * held_s / quoting_s : 0.0);
    if (!held.empty()) {
        std::printf(", %s", held.c_str());
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

/// The report of the run, as `quoter backtest` writes it, with the pacing and how it ended.
bool write_run_reports(const engine_config& config, const sim_run_command& command,
                       engine::synthetic_run& sim_run, double speed, std::string_view stopped_by) {
    const std::filesystem::path out_dir = command.out_dir;
    // The report folder holds this run's files only; a run refused at start left it alone.
    if (!remove_earlier_report(out_dir, "quoter run --mode sim")) {
        return false;
    }
    auto parameters = synthetic_report_parameters(config, 1, config.backtest.seed);
    // A paced run is one path that lasts until it is stopped: its speed as run, no length or
    // path count of a backtest.
    std::erase_if(parameters, [](const sim::report_parameter& parameter) {
        return parameter.key == "backtest.duration_s" || parameter.key == "backtest.paths" ||
               parameter.key == "backtest.threads";
    });
    for (auto& parameter : parameters) {
        if (parameter.key == "backtest.speed") {
            parameter.value = fmt::format("{:g}", speed); // after --speed
        }
    }
    parameters.push_back({"run.stopped_by", std::string(stopped_by)});
    parameters.push_back(
        {"run.simulated_s", fmt::format("{:.1f}", static_cast<double>(sim_run.now()) * 1e-9)});
    const std::vector<engine::backtest_result> results = engine::take_results(sim_run);
    if (results.size() > 1) {
        if (!write_symbols_reports(config, sim_run.config(), results, parameters, out_dir,
                                   command.config_path, "quoter run --mode sim")) {
            return false;
        }
        std::printf("report: portfolio %s, one folder per symbol: %s\n",
                    (out_dir / "report.html").string().c_str(),
                    symbol_report_list(config, out_dir).c_str());
        return true;
    }
    const std::string title =
        fmt::format("quoter run --mode sim: {} on a synthetic market, {} model{}",
                    config.engine.symbol, strategy::to_string(config.strategy.model),
                    config.strategy.symmetric ? " (symmetric)" : "");
    if (!write_single_report(config, results.front(), title, std::move(parameters), out_dir,
                             command.config_path, "quoter run --mode sim")) {
        return false;
    }
    std::printf("report: %s (with pnl.csv, fills.csv, orders.csv, report.json, report.md)\n",
                (out_dir / "report.html").string().c_str());
    return true;
}

} // namespace

int run_sim_command(const sim_run_command& command) {
    auto loaded =
        load_config_for_command(command.config_path, command.profile, command.symbol, "run");
    if (!loaded) {
        return exit_invalid;
    }
    engine_config& config = *loaded;
    if (!fit_markets_for_command(config, command.market_from, "run")) {
        return exit_invalid;
    }
    if (command.mode_from_config && config.engine.mode != engine_mode::sim) {
        std::fprintf(stderr, "quoter run --mode %s: not built yet\n",
                     std::string(to_string(config.engine.mode)).c_str());
        return exit_not_built;
    }
    if (const std::string problem = synthetic_market_problem(config, synthetic_command::run);
        !problem.empty()) {
        std::fprintf(stderr, "quoter run: %s\n", problem.c_str());
        return exit_invalid;
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
            return exit_failed;
        }
        journal = std::move(*opened);
        if (!journal->start()) {
            std::fprintf(stderr, "quoter run: cannot start the journal writer\n");
            return exit_failed;
        }
    }
    // Operations services of [ops], [http], [alerts] and [state], as a paper session has them:
    // the instance lock and a state file per symbol before anything trades.
    std::vector<core::symbol_spec> specs;
    for (const auto& symbol : symbols) {
        specs.push_back(symbol.spec);
    }
    auto opened = engine::session_services::open(
        {.ops = config.ops,
         .mode_name = "sim",
         .state_session = {},
         .journal_path = {}, // the run keeps its own journal of every symbol
         .journal_flush_interval_ms = 0,
         .log =
             [](std::string_view line) {
                 std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data());
                 std::fflush(stderr);
             },
         .alerts_to_stderr = false},
        specs, 0);
    if (!opened) {
        std::fprintf(stderr, "quoter run --mode sim: %s\n", opened.error().c_str());
        return exit_failed;
    }
    engine::session_services& services = **opened;
    ops::control_channel channel;
    const ops::scoped_signal_handlers signals(channel);
    if (!signals.installed()) {
        std::fprintf(stderr, "quoter run: cannot install the signal handlers\n");
    }
    // Keys only in an interactive terminal; the reader restores the terminal when it stops
    // (its destructor, on every return below) and the signal handlers on a forced exit.
    ops::terminal_key_reader keys(channel);
    const bool interactive =
        ::isatty(STDIN_FILENO) != 0 && keys.start() == ops::terminal_error::none;

    // The core loop takes the manual commands itself (kill, pause, resume, quit) on every step
    // and poll. It keeps what the report at exit needs, as a paper session does: a pnl sample
    // every backtest.record_interval_ms, every fill and every order.
    auto sim_run = std::make_unique<engine::synthetic_run>(
        run, symbols, sim::derive_path_seed(config.backtest.seed, 0), engine::record_options{},
        journal.get(), &channel);
    for (std::size_t i = 0; i < sim_run->symbol_count(); ++i) {
        sim_run->recorder(i).alerts().set_next(&services.alerts());
    }
    // The synthetic market starts afresh; a kill latched before a restart stays latched.
    services.restore_kill(sim_run->loop(), sim_run->now());
    std::vector<engine::core_loop*> loops;
    for (std::size_t i = 0; i < sim_run->symbol_count(); ++i) {
        loops.push_back(&sim_run->loop(i));
    }
    if (const std::string failed =
            services.start(loops, &channel, sim_feed(*sim_run), sim_venue(*sim_run));
        !failed.empty()) {
        std::fprintf(stderr, "quoter run --mode sim: %s\n", failed.c_str());
        return exit_failed;
    }

    std::fprintf(
        stderr, "quoter run --mode sim: %s on a synthetic market at x%g wall speed%s; %s\n",
        symbol_list(config).c_str(), speed,
        command.duration_s > 0 ? fmt::format(", for {:g} s", command.duration_s).c_str() : "",
        std::string(ops::control_hint(interactive)).c_str());
    std::fflush(stderr);
    // A terminal gets a line redrawn in place a few times a second; logs get one line now and
    // then.
    ops::status_line_printer status(250 * core::ns_per_ms, 5 * core::ns_per_s);
    constexpr std::int64_t max_sleep_ns = 20 * core::ns_per_ms;
    constexpr int max_steps_per_round = 1 << 16; // keeps signals and the status responsive

    const auto take_control = [&] {
        (void)sim_run->poll();
        channel.clear_wake();
        if (services.publish_due(sim_run->loop(), monotonic_ns())) {
            services.publish(sim_run->loop(), sim_feed(*sim_run), sim_venue(*sim_run));
        }
        return sim_run->loop().stop_requested();
    };

    latency_histogram tick_to_quote;
    latency_histogram window;
    const std::int64_t wall_start = monotonic_ns();
    const std::int64_t wall_end =
        command.duration_s > 0 ? wall_start + static_cast<std::int64_t>(command.duration_s * 1e9)
                               : std::numeric_limits<std::int64_t>::max();
    status.arm(wall_start);

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
        if (status.due(wall)) {
            status.show(status_line(*sim_run, speed, window));
            window.reset();
        }
        const double next_step_wall = static_cast<double>(wall_start) +
                                      static_cast<double>(sim_run->now() + run.step_ns) / speed;
        const auto sleep_ns = static_cast<std::int64_t>(
            std::clamp(next_step_wall - static_cast<double>(monotonic_ns()), 0.0,
                       static_cast<double>(max_sleep_ns)));
        // The wait wakes on a command, so a kill never waits for the next market step.
        ops::wait_for_command(
            channel, std::min(sleep_ns, std::max<std::int64_t>(wall_end - monotonic_ns(), 0)));
    }
    const std::string_view stopped_by = !quit ? std::string_view("--duration")
                                        : channel.stop_source()
                                            ? (*channel.stop_source() == ops::command_source::signal
                                                   ? std::string_view("SIGINT/SIGTERM")
                                                   : std::string_view("a stop request"))
                                            : std::string_view("the q key");
    const double wall_s = static_cast<double>(monotonic_ns() - wall_start) * 1e-9;
    services.close_intake(); // the stop's polls take every command accepted
    sim_run->stop();
    services.stop(sim_run->loop(), sim_feed(*sim_run), sim_venue(*sim_run));
    keys.stop();
    if (journal != nullptr) {
        journal->stop();
    }
    status.clear();
    print_run_summary(*sim_run, speed, wall_s, tick_to_quote, stopped_by);
    print_risk_summary(*sim_run, journal.get());
    engine::alert_tally alerts;
    for (std::size_t i = 0; i < sim_run->symbol_count(); ++i) {
        alerts.merge(sim_run->recorder(i).alerts());
    }
    print_alert_summary(engine::report_alerts(alerts));
    std::fflush(stdout);
    return write_run_reports(config, command, *sim_run, speed, stopped_by) ? 0 : exit_failed;
}

} // namespace quoter::app
