#include "replay_command.hpp"
#include "exit_codes.hpp"

#include "live_settings.hpp"
#include "quoter/app/app_config.hpp"
#include "quoter/engine/backtest.hpp"
#include "quoter/md/capture.hpp"
#include "quoter/md/exchange_info.hpp"
#include "quoter/sim/report.hpp"
#include "replay_registry.hpp"
#include "report_output.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace quoter::app {
namespace {

/// The registry of a many-symbol replay: every symbol of engine.symbols, in order (id i is
/// config.symbols[i]), from the exchangeInfo cache beside the first file when it lists them all,
/// else from the [symbol.<NAME>] filters.
std::optional<md::symbol_registry> make_symbols_registry(const engine_config& config,
                                                         const std::string& first_file) {
    const md::market venue = to_md_market(config.engine.market);
    const std::filesystem::path cache =
        std::filesystem::path(first_file).parent_path() /
        (venue == md::market::spot ? "spot-exchangeInfo.json" : "futures-exchangeInfo.json");
    std::vector<std::string_view> names;
    for (const symbol_entry& entry : config.symbols) {
        names.push_back(entry.name);
    }
    if (std::filesystem::exists(cache)) {
        const auto info = md::load_exchange_info_file(cache.string(), venue);
        const bool all = info && std::all_of(names.begin(), names.end(), [&](std::string_view n) {
                             return info->find(n) != nullptr;
                         });
        md::symbol_registry registry;
        if (all && md::register_symbols(registry, *info, names)) {
            return registry;
        }
    }
    md::symbol_registry registry;
    for (std::size_t i = 0; i < config.symbols.size(); ++i) {
        const symbol_entry& entry = config.symbols[i];
        // Binance book quantities carry 8 decimals.
        const auto book = md::make_book_spec(entry.name, entry.filters.tick_size, 8);
        if (!book ||
            registry.add({.book_spec = *book, .trading_spec = entry.spec, .venue = venue}) != i) {
            return std::nullopt;
        }
    }
    return registry;
}

std::string joined(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& name : names) {
        out += (out.empty() ? "" : ", ") + name;
    }
    return out;
}

/// What the replay's capture lines decoded to, as report counts: the whole replay's, whatever
/// symbols it traded.
std::vector<sim::report_counter> message_counters(const engine::backtest_summary& s) {
    return {
        {"lines", "Capture lines", s.lines},
        {"bad_lines", "Bad lines (not \"<ns> <json>\")", s.bad_lines},
        {"market_data", "Market-data messages", s.replay.market_data},
        {"snapshots", "Depth snapshots", s.replay.snapshots},
        {"malformed", "Malformed messages", s.replay.malformed},
        {"unrecognised", "Unrecognised messages", s.replay.unrecognised},
        {"other_symbols", "Messages of other symbols", s.replay.unknown_symbol},
    };
}

/// The report of a replay: the synthetic run's files and metrics, plus the replay's counts:
/// those of the capture's messages when `with_messages` (a replay of one symbol; a replay of
/// several gives them in the portfolio's report), then the symbol's book and orders. Its
/// parameters end with the configuration's (market_data_run_parameters).
sim::run_report make_replay_report(const std::string& symbol, const core::symbol_spec& spec,
                                   const engine_config& config, const replay_command& command,
                                   const engine::backtest_summary& s, bool with_messages) {
    sim::run_report report;
    report.title =
        fmt::format("quoter backtest: {} replay of {} capture file{}", symbol,
                    command.data_files.size(), command.data_files.size() == 1 ? "" : "s");
    if (s.book_never_synced) {
        report.title += fmt::format(": the {} book never synced (no depth snapshot in the "
                                    "capture?), no quotes were made",
                                    symbol);
    }
    report.pnl = s.pnl;
    report.fills = s.fills;
    report.orders = s.orders;
    report.metrics = s.metrics;
    report.format = sim::report_format_for(spec);
    report.parameters.push_back({"config", command.config_path});
    report.parameters.push_back({"engine.symbol", symbol});
    for (std::size_t i = 0; i < command.data_files.size(); ++i) {
        report.parameters.push_back({fmt::format("data[{}]", i), command.data_files[i]});
    }
    report.alerts = engine::report_alerts(s.alerts);
    report.provenance = report_provenance_for(command.config_path);
    report.parameters.push_back({"fill_digest", fmt::format("{:016x}", s.loop.fill_digest)});
    report.parameters.push_back({"final_state", std::string(risk::to_string(s.final_state))});
    for (auto& parameter : market_data_run_parameters(config)) {
        report.parameters.push_back(std::move(parameter));
    }
    if (with_messages) {
        report.counters = message_counters(s);
    }
    report.counters.push_back({"gaps", "Book gaps", s.gaps});
    report.counters.push_back({"resyncs", "Book resyncs", s.resyncs});
    for (auto& counter : engine::report_counters(s.gate)) {
        report.counters.push_back(std::move(counter));
    }
    return report;
}

/// `quoter backtest --data` of several symbols (engine.symbols) in one loop: the files merge
/// by time, each symbol trades its own book on its share of backtest.initial_cash; one report
/// folder per symbol (out_dir/<SYMBOL>/), a summary line each and the portfolio's total.
int run_symbols_replay(const engine_config& config, const replay_command& command) {
    const auto registry = make_symbols_registry(config, command.data_files.front());
    if (!registry) {
        std::fprintf(stderr, "quoter backtest: invalid filters in a [symbol.<NAME>] table\n");
        return exit_invalid;
    }
    const engine::core_loop_config base = make_core_loop_config(config);
    const double share = base.account.initial_cash / static_cast<double>(config.symbols.size());
    std::vector<engine::core_loop_config> loops;
    for (std::size_t i = 0; i < config.symbols.size(); ++i) {
        engine::core_loop_config loop = base;
        loop.symbol = static_cast<md::symbol_id>(i);
        loop.account.initial_cash = share;
        loop.strategy = config.symbols[i].strategy;
        loop.risk.limits = config.symbols[i].limits;
        loop.journal_path = i == 0 ? base.journal_path : std::string();
        loops.push_back(std::move(loop));
    }
    const auto summaries = engine::run_replay_backtest(*registry, command.data_files, loops);
    const engine::backtest_summary& all = summaries.front();
    if (!all.ok) {
        std::fprintf(stderr, "quoter backtest: %s\n", all.error.c_str());
        return exit_invalid;
    }
    std::string missing;
    for (std::size_t i = 0; i < summaries.size(); ++i) {
        // Feed-state events reach every symbol; book and trade events only a captured one.
        if (summaries[i].loop.book_events + summaries[i].loop.trade_events == 0) {
            missing += (missing.empty() ? "" : ", ") + config.symbols[i].name;
        }
    }
    if (!missing.empty()) {
        const auto held = capture_symbols(command.data_files);
        std::fprintf(stderr,
                     "quoter backtest: the capture holds no market data for %s (it holds %s); "
                     "give a capture of every symbol in engine.symbols\n",
                     missing.c_str(), held.empty() ? "no symbol" : joined(held).c_str());
        return exit_invalid;
    }
    const std::filesystem::path out_dir = command.out_dir;
    if (!remove_earlier_report(out_dir, "quoter backtest")) {
        return exit_failed;
    }
    std::printf("quoter backtest: %zu symbols in one loop, replay of %zu file%s, %.0f s of "
                "capture in %.2f s\n",
                summaries.size(), command.data_files.size(),
                command.data_files.size() == 1 ? "" : "s",
                static_cast<double>(all.last_ns - all.first_ns) * 1e-9, all.wall_seconds);
    std::printf("  messages %llu (%llu bad lines, %llu malformed, %llu unrecognised, %llu other "
                "symbols), %.0f messages/s\n",
                static_cast<unsigned long long>(all.lines),
                static_cast<unsigned long long>(all.bad_lines),
                static_cast<unsigned long long>(all.replay.malformed),
                static_cast<unsigned long long>(all.replay.unrecognised),
                static_cast<unsigned long long>(all.replay.unknown_symbol), all.messages_per_s);
    double total_pnl = 0.0;
    double fees = 0.0;
    std::string folders;
    std::string names;
    std::vector<symbol_records> parts;
    for (std::size_t i = 0; i < summaries.size(); ++i) {
        const engine::backtest_summary& s = summaries[i];
        const std::string& name = config.symbols[i].name;
        const sim::run_report report =
            make_replay_report(name, config.symbols[i].spec, config, command, s, false);
        if (!write_report(out_dir / name, report, "quoter backtest")) {
            return exit_failed;
        }
        std::printf("  %-10s PnL %s (of its %.2f), fees %.4f, orders %llu, fills %llu, risk "
                    "rejects %llu, gaps %llu, resyncs %llu, final state %s\n",
                    name.c_str(), signed_money(s.total_pnl).c_str(), share, s.fees,
                    static_cast<unsigned long long>(s.gate.quote_orders_sent),
                    static_cast<unsigned long long>(s.loop.fills),
                    static_cast<unsigned long long>(s.gate.risk_refusals),
                    static_cast<unsigned long long>(s.gaps),
                    static_cast<unsigned long long>(s.resyncs),
                    std::string(risk::to_string(s.final_state)).c_str());
        if (const std::string held = rate_holds_text(s.metrics.rate_holds, s.metrics.rate_held_s,
                                                     s.metrics.rate_held_pct);
            !held.empty()) {
            std::printf("             %s\n", held.c_str());
        }
        if (s.book_never_synced) {
            std::printf("    the %s book never synced (no depth snapshot in the capture?): no "
                        "quotes were made\n",
                        name.c_str());
        }
        if (s.alerts.total() != 0) {
            print_alert_summary(report.alerts);
        }
        total_pnl += s.total_pnl;
        fees += s.fees;
        folders += (folders.empty() ? "" : ", ") + (out_dir / name / "report.html").string();
        names += (names.empty() ? "" : ", ") + name;
        parts.push_back({.pnl = s.pnl,
                         .fills = s.fills,
                         .orders = s.orders,
                         .activity = s.activity,
                         .metrics = s.metrics,
                         .initial_cash = share,
                         .name = name,
                         .alerts = &s.alerts,
                         .gate = &s.gate});
    }
    // The portfolio's report in out_dir, as a synthetic run of several symbols writes it.
    std::vector<sim::report_parameter> files;
    for (std::size_t i = 0; i < command.data_files.size(); ++i) {
        files.push_back({fmt::format("data[{}]", i), command.data_files[i]});
    }
    for (auto& parameter : market_data_run_parameters(config)) {
        files.push_back(std::move(parameter));
    }
    const portfolio_records whole =
        combine_portfolio(parts, portfolio_metrics_settings(base.strategy.bands));
    sim::run_report report = portfolio_report(
        fmt::format("quoter backtest: portfolio of {} in one loop, replay of {} capture file{}",
                    names, command.data_files.size(), command.data_files.size() == 1 ? "" : "s"),
        whole, parts, command.config_path, config.symbols.front().spec,
        {{"config", command.config_path}}, files);
    std::vector<sim::report_counter> counters = message_counters(all);
    counters.insert(counters.end(), report.counters.begin(), report.counters.end());
    report.counters = std::move(counters);
    if (!write_report(out_dir, report, "quoter backtest")) {
        return exit_failed;
    }
    std::printf("  portfolio PnL %s (%+.4f%% of %.2f), fees %.4f\n",
                signed_money(total_pnl).c_str(),
                base.account.initial_cash > 0 ? 100.0 * total_pnl / base.account.initial_cash : 0.0,
                base.account.initial_cash, fees);
    std::printf("report: portfolio %s, one folder per symbol: %s\n",
                (out_dir / "report.html").string().c_str(), folders.c_str());
    return 0;
}

} // namespace

int run_replay_command(const replay_command& command) {
    for (const auto& file : command.data_files) {
        if (const auto problem = md::check_capture_file(file); problem != md::capture_error::none) {
            std::fprintf(stderr, "quoter backtest: capture file %s: %s\n", file.c_str(),
                         std::string(md::describe(problem)).c_str());
            return exit_invalid;
        }
    }
    auto loaded = load_config_for_command(command.config_path, command.profile, {}, "backtest");
    if (!loaded) {
        return exit_invalid;
    }
    if (loaded->symbols.size() > 1) {
        return run_symbols_replay(*loaded, command);
    }
    if (!loaded->engine.symbol_named) {
        // No symbol named: replay the one the capture holds.
        const auto held = capture_symbols(command.data_files);
        if (held.size() > 1) {
            std::fprintf(stderr,
                         "quoter backtest: the configuration names no symbol and the capture "
                         "holds %s; set engine.symbol to the one to replay\n",
                         joined(held).c_str());
            return exit_invalid;
        }
        if (held.size() == 1 && held.front() != loaded->engine.symbol) {
            std::fprintf(stderr,
                         "quoter backtest: the configuration names no symbol; replaying the "
                         "captured %s\n",
                         held.front().c_str());
            loaded = load_config_for_command(command.config_path, command.profile, held.front(),
                                             "backtest");
            if (!loaded) {
                return exit_invalid;
            }
        }
    }
    const engine_config& config = *loaded;
    const auto registry = replay_registry(config, command.data_files.front());
    if (!registry) {
        std::fprintf(stderr, "quoter backtest: invalid filters for %s in [symbol]\n",
                     config.engine.symbol.c_str());
        return exit_invalid;
    }
    const engine::core_loop_config loop = make_core_loop_config(config);
    const engine::backtest_summary s =
        engine::run_replay_backtest(*registry, command.data_files, loop);
    if (!s.ok) {
        if (s.replay.market_data == 0 && s.replay.unknown_symbol != 0) {
            const auto held = capture_symbols(command.data_files);
            std::fprintf(stderr,
                         "quoter backtest: the capture holds no market data for %s (it holds %s); "
                         "set engine.symbol to the captured symbol\n",
                         config.engine.symbol.c_str(),
                         held.empty() ? "other symbols" : joined(held).c_str());
        } else {
            std::fprintf(stderr, "quoter backtest: %s\n", s.error.c_str());
        }
        return exit_invalid;
    }
    const std::filesystem::path out_dir = command.out_dir;
    if (!remove_earlier_report(out_dir, "quoter backtest")) {
        return exit_failed;
    }
    const sim::run_report report =
        make_replay_report(config.engine.symbol, config.spec, config, command, s, true);
    if (!write_report(out_dir, report, "quoter backtest")) {
        return exit_failed;
    }
    std::printf("quoter backtest: %s replay of %zu file%s, %.0f s of capture in %.2f s\n",
                config.engine.symbol.c_str(), command.data_files.size(),
                command.data_files.size() == 1 ? "" : "s",
                static_cast<double>(s.last_ns - s.first_ns) * 1e-9, s.wall_seconds);
    std::printf(
        "  messages %llu (%llu bad lines, %llu malformed, %llu unrecognised, %llu other "
        "symbols), %.0f messages/s, gaps %llu, resyncs %llu\n",
        static_cast<unsigned long long>(s.lines), static_cast<unsigned long long>(s.bad_lines),
        static_cast<unsigned long long>(s.replay.malformed),
        static_cast<unsigned long long>(s.replay.unrecognised),
        static_cast<unsigned long long>(s.replay.unknown_symbol), s.messages_per_s,
        static_cast<unsigned long long>(s.gaps), static_cast<unsigned long long>(s.resyncs));
    std::printf("  orders %llu, fills %llu, cancels %llu, risk rejects %llu, final state %s\n",
                static_cast<unsigned long long>(s.gate.quote_orders_sent),
                static_cast<unsigned long long>(s.loop.fills),
                static_cast<unsigned long long>(s.quotes.cancels_sent),
                static_cast<unsigned long long>(s.gate.risk_refusals),
                std::string(risk::to_string(s.final_state)).c_str());
    std::printf("  PnL %s, fees %.4f, equity %.4f\n", signed_money(s.total_pnl).c_str(), s.fees,
                s.equity);
    if (const std::string held =
            rate_holds_text(s.metrics.rate_holds, s.metrics.rate_held_s, s.metrics.rate_held_pct);
        !held.empty()) {
        std::printf("  %s\n", held.c_str());
    }
    if (s.gate.risk_refusals != 0) {
        std::printf("  orders refused %llu:",
                    static_cast<unsigned long long>(s.gate.risk_refusals));
        for (std::size_t r = 0; r < s.gate.refusals_by_reason.size(); ++r) {
            if (s.gate.refusals_by_reason[r] != 0) {
                std::printf(
                    " %s %llu",
                    std::string(risk::to_string(static_cast<risk::reject_reason>(r))).c_str(),
                    static_cast<unsigned long long>(s.gate.refusals_by_reason[r]));
            }
        }
        std::printf("\n");
    }
    print_alert_summary(report.alerts);
    if (s.book_never_synced) {
        std::printf("  the %s book never synced (no depth snapshot in the capture?): no quotes "
                    "were made\n",
                    config.engine.symbol.c_str());
    }
    std::printf("report: %s (with pnl.csv, fills.csv, orders.csv, report.json, report.md)\n",
                (out_dir / "report.html").string().c_str());
    return 0;
}

} // namespace quoter::app
