#include "paper_run_command.hpp"
#include "exit_codes.hpp"

#include "live_settings.hpp"
#include "quoter/app/app_config.hpp"
#include "quoter/core/tick_latency.hpp"
#include "quoter/engine/paper_session.hpp"
#include "quoter/sim/report.hpp"
#include "report_output.hpp"
#include "session_shell.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace quoter::app {
namespace {

std::string paper_status_line(const engine::paper_status& s, double elapsed_s) {
    const auto price = [](double p) { return p > 0.0 ? fmt::format("{:.8g}", p) : "-"; };
    const auto ms = [](core::duration_ns ns) {
        return ns > 0 ? fmt::format("{:.2f}", static_cast<double>(ns) / 1e6) : std::string("-");
    };
    return fmt::format("paper {:.0f}s  {}{}  mid {}  quotes {}/{}  inv {:.8g}  pnl {}  fills {}  "
                       "orders {}  open {}  rtt p50/p99 {}/{} ms  {}  msgs {}  synced {}",
                       elapsed_s, risk::to_string(s.state), s.feed_paused ? " (feed paused)" : "",
                       price(s.mid), price(s.quoted_bid), price(s.quoted_ask), s.inventory_base,
                       signed_money(s.total_pnl), s.loop.fills, s.orders_sent, s.open_orders,
                       ms(s.round_trip_p50_ns), ms(s.round_trip_p99_ns),
                       ops::latency_status_text(s.tick_to_order), s.market_data.messages,
                       s.market_data.synced_symbols);
}

/// The status line of a session of several symbols: the portfolio, then each symbol.
std::string symbols_status_line(const engine::paper_status& s, const engine_config& config,
                                double elapsed_s) {
    std::uint64_t fills = 0;
    std::uint64_t orders = 0;
    std::string each;
    for (const engine::paper_symbol_status& x : s.symbols) {
        fills += x.loop.fills;
        orders += x.orders_sent;
        const std::string& name =
            x.symbol < config.symbols.size() ? config.symbols[x.symbol].name : std::string("?");
        each += fmt::format("  {} {}{} pnl {}", name, risk::to_string(x.state),
                            x.open_orders != 0 ? fmt::format(" open {}", x.open_orders) : "",
                            signed_money(x.total_pnl));
    }
    return fmt::format("paper {:.0f}s  {} symbols  pnl {}  fills {}  orders {}  open {}  msgs {}  "
                       "synced {}{}",
                       elapsed_s, s.symbols.size(), signed_money(s.portfolio_pnl), fills, orders,
                       s.open_orders, s.market_data.messages, s.market_data.synced_symbols, each);
}

/// The report of one symbol of the session (or of its only one); its parameters end with the
/// configuration's (market_data_run_parameters).
sim::run_report make_paper_report(const engine::paper_report& recorded, const std::string& symbol,
                                  const core::symbol_spec& spec, const engine_config& config,
                                  const paper_run_command& command, risk::trading_state state) {
    sim::run_report report;
    report.title = fmt::format("quoter run --mode paper_exchange: {} paper session", symbol);
    report.pnl = recorded.pnl;
    report.fills = recorded.fills;
    report.orders = recorded.orders;
    report.metrics = recorded.metrics;
    report.counters = engine::report_counters(recorded.gate);
    report.alerts = engine::report_alerts(recorded.alerts);
    report.provenance = report_provenance_for(command.config_path);
    report.format = sim::report_format_for(spec);
    report.parameters.push_back({"config", command.config_path});
    report.parameters.push_back({"engine.symbol", symbol});
    report.parameters.push_back({"final_state", std::string(risk::to_string(state))});
    for (auto& parameter : market_data_run_parameters(config)) {
        report.parameters.push_back(std::move(parameter));
    }
    return report;
}

/// The exit summary and reports of a session of several symbols: a line per symbol, a report
/// folder per symbol (out_dir/<SYMBOL>/) and the portfolio's report in out_dir.
int finish_symbols_session(const engine_config& config, const paper_run_command& command,
                           const engine::paper_summary& summary, double share) {
    const engine::paper_status& s = summary.last;
    const std::filesystem::path out_dir = command.out_dir;
    if (!remove_earlier_report(out_dir, "quoter run --mode paper_exchange")) {
        return exit_failed;
    }
    std::vector<symbol_records> parts;
    std::string folders;
    std::string names;
    double fees = 0.0;
    for (std::size_t i = 0; i < s.symbols.size() && i < summary.reports.size(); ++i) {
        const engine::paper_symbol_status& x = s.symbols[i];
        const engine::paper_report& recorded = summary.reports[i];
        const std::string& name = config.symbols[i].name;
        std::printf("  %-10s PnL %s (of its %.2f), orders %llu, fills %llu, risk rejects %llu, "
                    "position %.8g, final state %s\n",
                    name.c_str(), signed_money(x.total_pnl).c_str(), share,
                    static_cast<unsigned long long>(x.orders_sent),
                    static_cast<unsigned long long>(x.loop.fills),
                    static_cast<unsigned long long>(x.risk_rejects),
                    config.symbols[i].spec.to_double(x.position),
                    std::string(risk::to_string(x.state)).c_str());
        const sim::run_report report =
            make_paper_report(recorded, name, config.symbols[i].spec, config, command, x.state);
        if (const std::string held =
                rate_holds_text(recorded.metrics.rate_holds, recorded.metrics.rate_held_s,
                                recorded.metrics.rate_held_pct);
            !held.empty()) {
            std::printf("             %s\n", held.c_str());
        }
        if (recorded.alerts.total() != 0) {
            print_alert_summary(report.alerts);
        }
        if (!write_report(out_dir / name, report, "quoter run")) {
            return exit_failed;
        }
        parts.push_back({.pnl = recorded.pnl,
                         .fills = recorded.fills,
                         .orders = recorded.orders,
                         .activity = recorded.activity,
                         .metrics = recorded.metrics,
                         .initial_cash = recorded.initial_cash,
                         .name = name,
                         .alerts = &recorded.alerts,
                         .gate = &recorded.gate});
        fees += recorded.metrics.net_fees;
        names += (names.empty() ? "" : ", ") + name;
        folders += (folders.empty() ? "" : ", ") + (out_dir / name / "report.html").string();
    }
    const double capital = config.backtest.initial_cash;
    std::printf("  portfolio PnL %s (%+.4f%% of %.2f), fees %.4f\n",
                signed_money(s.portfolio_pnl).c_str(),
                capital > 0 ? 100.0 * s.portfolio_pnl / capital : 0.0, capital, fees);
    const portfolio_records whole =
        combine_portfolio(parts, portfolio_metrics_settings(config.strategy.bands));
    const sim::run_report report = portfolio_report(
        fmt::format("quoter run --mode paper_exchange: portfolio of {} in one loop (paper session)",
                    names),
        whole, parts, command.config_path, config.symbols.front().spec,
        {{"config", command.config_path}}, market_data_run_parameters(config));
    if (!write_report(out_dir, report, "quoter run")) {
        return exit_failed;
    }
    std::printf("report: portfolio %s, one folder per symbol: %s\n",
                (out_dir / "report.html").string().c_str(), folders.c_str());
    std::fflush(stdout);
    return 0;
}

} // namespace

int run_paper_command(const paper_run_command& command) {
    const auto loaded =
        load_config_for_command(command.config_path, command.profile, command.symbol, "run");
    if (!loaded) {
        return exit_invalid;
    }
    const engine_config& config = *loaded;
    const bool several = config.symbols.size() > 1;

    engine::paper_session_config session;
    configure_session(config, session);
    session.keep_report = true;
    // Several symbols: one loop each on its share of the capital, with its own strategy and
    // limits ([symbol.<NAME>] tables), all on one feed (market data id i is symbols[i]).
    const double share = config.backtest.initial_cash / static_cast<double>(config.symbols.size());
    if (several) {
        session.market_data.subscription.symbols.clear();
        for (std::size_t i = 0; i < config.symbols.size(); ++i) {
            session.market_data.subscription.symbols.push_back(config.symbols[i].name);
            engine::core_loop_config loop = session.engine;
            loop.symbol = static_cast<md::symbol_id>(i);
            loop.account.initial_cash = share;
            loop.strategy = config.symbols[i].strategy;
            loop.risk.limits = config.symbols[i].limits;
            session.symbols.push_back(std::move(loop));
        }
    }
    std::string names;
    for (const auto& entry : config.symbols) {
        names += (names.empty() ? "" : ", ") + entry.name;
    }

    session_shell shell(command.duration_s);
    if (!shell.installed()) {
        std::fprintf(stderr, "quoter run: cannot install the signal handlers\n");
        return exit_failed;
    }
    const auto& urls = config.active_endpoints();
    std::fprintf(stderr, "quoter run --mode paper_exchange: %s on %s (%s)%s; %s\n", names.c_str(),
                 urls.ws_url.c_str(), urls.rest_url.c_str(), shell.duration_text().c_str(),
                 std::string(shell.hint()).c_str());
    std::fflush(stderr);

    const engine::paper_summary summary = engine::run_paper_session(
        session, shell.stop_flag(),
        [&](const engine::paper_status& s) {
            shell.status([&](double elapsed_s) {
                return several ? symbols_status_line(s, config, elapsed_s)
                               : paper_status_line(s, elapsed_s);
            });
        },
        &shell.control());
    const double wall_s = shell.finish();
    if (!summary.ok) {
        std::fprintf(stderr, "quoter run --mode paper_exchange: %s\n", summary.error.c_str());
        return exit_failed;
    }
    const engine::paper_status& s = summary.last;
    if (several) {
        std::printf("quoter run --mode paper_exchange: %zu symbols in one loop (%s) stopped by %s "
                    "after %.1f s\n",
                    config.symbols.size(), names.c_str(), shell.stopped_by().c_str(), wall_s);
        std::printf("  market data: %llu messages, %llu gaps, %llu resyncs, %llu reconnects\n",
                    static_cast<unsigned long long>(s.market_data.messages),
                    static_cast<unsigned long long>(s.market_data.gaps),
                    static_cast<unsigned long long>(s.market_data.resyncs),
                    static_cast<unsigned long long>(s.market_data.reconnects));
        print_tick_to_order(s.tick_to_order, "order taken by the paper exchange");
        return finish_symbols_session(config, command, summary, share);
    }
    std::printf("quoter run --mode paper_exchange: %s stopped by %s after %.1f s\n",
                config.engine.symbol.c_str(), shell.stopped_by().c_str(), wall_s);
    std::printf("  orders %llu, acks %llu, fills %llu, cancels %llu, risk rejects %llu, "
                "open orders %zu, final state %s\n",
                static_cast<unsigned long long>(s.orders_sent),
                static_cast<unsigned long long>(s.exchange.acks),
                static_cast<unsigned long long>(s.loop.fills),
                static_cast<unsigned long long>(s.quotes.cancels_sent),
                static_cast<unsigned long long>(s.risk_rejects), s.open_orders,
                std::string(risk::to_string(s.state)).c_str());
    std::printf("  PnL %s, equity %.4f, position %.8g\n", signed_money(s.total_pnl).c_str(),
                s.equity, config.spec.to_double(s.position));
    if (s.flatten_orders_sent != 0) {
        std::printf("  flatten on kill: %llu orders\n",
                    static_cast<unsigned long long>(s.flatten_orders_sent));
    }
    std::printf("  market data: %llu messages, %llu gaps, %llu resyncs, %llu reconnects\n",
                static_cast<unsigned long long>(s.market_data.messages),
                static_cast<unsigned long long>(s.market_data.gaps),
                static_cast<unsigned long long>(s.market_data.resyncs),
                static_cast<unsigned long long>(s.market_data.reconnects));
    print_tick_to_order(s.tick_to_order, "order taken by the paper exchange");
    // The same report as a replay's, from what the session recorded.
    const std::filesystem::path out_dir = command.out_dir;
    if (summary.reports.empty()) {
        std::fprintf(stderr, "quoter run --mode paper_exchange: the session kept no report\n");
        return exit_failed;
    }
    const sim::run_report report = make_paper_report(summary.reports.front(), config.engine.symbol,
                                                     config.spec, config, command, s.state);
    const sim::run_metrics& held = summary.reports.front().metrics;
    if (const std::string text =
            rate_holds_text(held.rate_holds, held.rate_held_s, held.rate_held_pct);
        !text.empty()) {
        std::printf("  %s\n", text.c_str());
    }
    print_alert_summary(report.alerts);
    if (!remove_earlier_report(out_dir, "quoter run --mode paper_exchange")) {
        return exit_failed;
    }
    if (!write_report(out_dir, report, "quoter run")) {
        return exit_failed;
    }
    std::printf("report: %s (with pnl.csv, fills.csv, orders.csv, report.json, report.md)\n",
                (out_dir / "report.html").string().c_str());
    std::fflush(stdout);
    return 0;
}

} // namespace quoter::app
