#include "paper_run_command.hpp"

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

namespace quoter::app {
namespace {

constexpr int exit_run_failed = 1;
constexpr int exit_invalid_input = 2;

std::string paper_status_line(const engine::paper_status& s, double elapsed_s) {
    const auto price = [](double p) { return p > 0.0 ? fmt::format("{:.8g}", p) : "-"; };
    const auto ms = [](core::duration_ns ns) {
        return ns > 0 ? fmt::format("{:.2f}", static_cast<double>(ns) / 1e6) : std::string("-");
    };
    const core::latency_summary& t2o = s.tick_to_order.end_to_end;
    return fmt::format("paper {:.0f}s  {}{}  mid {}  quotes {}/{}  inv {:.8g}  pnl {}  fills {}  "
                       "orders {}  open {}  rtt p50/p99 {}/{} ms  t2o p50 {:.1f} us p99 {:.1f} us  "
                       "msgs {}  synced {}",
                       elapsed_s, risk::to_string(s.state), s.feed_paused ? " (feed paused)" : "",
                       price(s.mid), price(s.quoted_bid), price(s.quoted_ask), s.inventory_base,
                       signed_money(s.total_pnl), s.loop.fills, s.orders_sent, s.open_orders,
                       ms(s.round_trip_p50_ns), ms(s.round_trip_p99_ns),
                       static_cast<double>(t2o.p50) * 1e-3, static_cast<double>(t2o.p99) * 1e-3,
                       s.market_data.messages, s.market_data.synced_symbols);
}

} // namespace

int run_paper_command(const paper_run_command& command) {
    const auto loaded =
        load_config_for_command(command.config_path, command.profile, command.symbol, "run");
    if (!loaded) {
        return exit_invalid_input;
    }
    const engine_config& config = *loaded;
    if (config.symbols.size() > 1) {
        std::fprintf(
            stderr,
            "quoter run --mode paper_exchange: a paper session trades one symbol, and "
            "engine.symbols names %zu; set engine.symbol to one of them, one session per symbol\n",
            config.symbols.size());
        return exit_invalid_input;
    }

    engine::paper_session_config session;
    configure_session(config, session);
    session.keep_report = true;

    session_shell shell(command.duration_s);
    if (!shell.installed()) {
        std::fprintf(stderr, "quoter run: cannot install the signal handlers\n");
        return exit_run_failed;
    }
    const auto& urls = config.active_endpoints();
    std::fprintf(stderr, "quoter run --mode paper_exchange: %s on %s (%s)%s; %s\n",
                 config.engine.symbol.c_str(), urls.ws_url.c_str(), urls.rest_url.c_str(),
                 shell.duration_text().c_str(), std::string(shell.hint()).c_str());
    std::fflush(stderr);

    const engine::paper_summary summary = engine::run_paper_session(
        session, shell.stop_flag(),
        [&](const engine::paper_status& s) {
            shell.status([&](double elapsed_s) { return paper_status_line(s, elapsed_s); });
        },
        &shell.control());
    const double wall_s = shell.finish();
    if (!summary.ok) {
        std::fprintf(stderr, "quoter run --mode paper_exchange: %s\n", summary.error.c_str());
        return exit_run_failed;
    }
    const engine::paper_status& s = summary.last;
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
    sim::run_report report;
    report.title =
        fmt::format("quoter run --mode paper_exchange: {} paper session", config.engine.symbol);
    report.pnl = summary.report.pnl;
    report.fills = summary.report.fills;
    report.orders = summary.report.orders;
    report.metrics = summary.report.metrics;
    report.alerts = engine::report_alerts(summary.report.alerts);
    report.provenance = report_provenance_for(command.config_path);
    report.format = sim::report_format_for(config.spec);
    report.parameters.push_back({"config", command.config_path});
    report.parameters.push_back({"engine.symbol", config.engine.symbol});
    report.parameters.push_back({"final_state", std::string(risk::to_string(s.state))});
    print_alert_summary(report.alerts);
    if (!remove_earlier_report(out_dir)) {
        return exit_run_failed;
    }
    if (const auto written = sim::write_run_report(out_dir, report); !written) {
        std::fprintf(stderr, "quoter run: cannot write %s: %s\n", written.error().path.c_str(),
                     written.error().reason.c_str());
        return exit_run_failed;
    }
    std::printf("report: %s (with pnl.csv, fills.csv, orders.csv, report.json, report.md)\n",
                (out_dir / "report.html").string().c_str());
    std::fflush(stdout);
    return 0;
}

} // namespace quoter::app
