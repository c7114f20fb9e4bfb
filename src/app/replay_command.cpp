#include "replay_command.hpp"

#include "live_settings.hpp"
#include "quoter/app/app_config.hpp"
#include "quoter/engine/backtest.hpp"
#include "quoter/md/capture.hpp"
#include "quoter/md/exchange_info.hpp"
#include "quoter/sim/report.hpp"
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

constexpr int exit_run_failed = 1;
constexpr int exit_invalid_input = 2;

/// The traded symbol's instrument: from the exchangeInfo saved beside the captures by
/// `quoter record` when present, else from the configured [symbol] filters.
std::optional<md::symbol_registry> make_registry(const engine_config& config,
                                                 const std::string& first_file) {
    const md::market venue = to_md_market(config.engine.market);
    const std::filesystem::path cache =
        std::filesystem::path(first_file).parent_path() /
        (venue == md::market::spot ? "spot-exchangeInfo.json" : "futures-exchangeInfo.json");
    md::symbol_registry registry;
    if (std::filesystem::exists(cache)) {
        const auto info = md::load_exchange_info_file(cache.string(), venue);
        if (info && info->find(config.engine.symbol) != nullptr) {
            const std::string_view name = config.engine.symbol;
            if (md::register_symbols(registry, *info,
                                     std::span<const std::string_view>(&name, 1))) {
                return registry;
            }
        }
    }
    // Binance book quantities carry 8 decimals.
    const auto book = md::make_book_spec(config.engine.symbol, config.symbol.tick_size, 8);
    if (!book) {
        return std::nullopt;
    }
    if (registry.add({.book_spec = *book, .trading_spec = config.spec, .venue = venue}) != 0) {
        return std::nullopt;
    }
    return registry;
}

/// Symbols the first lines of the captures carry market data for (upper case, as Binance
/// spells them), read from each line's "s" field; for a message naming what a replay lacks.
std::vector<std::string> capture_symbols(const std::vector<std::string>& files) {
    constexpr std::uint64_t lines_per_file = 2000;
    std::vector<std::string> out;
    for (const auto& file : files) {
        md::gzip_line_reader reader;
        if (!reader.open(file)) {
            continue;
        }
        std::string_view line;
        for (std::uint64_t n = 0; n < lines_per_file && reader.next_line(line); ++n) {
            constexpr std::string_view key = "\"s\":\"";
            const auto at = line.find(key);
            if (at == std::string_view::npos) {
                continue;
            }
            const auto begin = at + key.size();
            const auto stop = line.find('"', begin);
            if (stop == std::string_view::npos || stop == begin) {
                continue;
            }
            std::string name(line.substr(begin, stop - begin));
            if (std::find(out.begin(), out.end(), name) == out.end()) {
                out.push_back(std::move(name));
            }
        }
    }
    return out;
}

std::string joined(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& name : names) {
        out += (out.empty() ? "" : ", ") + name;
    }
    return out;
}

/// The report of a replay: the synthetic run's files and metrics, plus the replay's counts.
sim::run_report make_replay_report(const engine_config& config, const replay_command& command,
                                   const engine::backtest_summary& s) {
    sim::run_report report;
    report.title =
        fmt::format("quoter backtest: {} replay of {} capture file{}", config.engine.symbol,
                    command.data_files.size(), command.data_files.size() == 1 ? "" : "s");
    report.pnl = s.pnl;
    report.fills = s.fills;
    report.orders = s.orders;
    report.metrics = s.metrics;
    report.format = sim::report_format_for(config.spec);
    report.parameters.push_back({"config", command.config_path});
    report.parameters.push_back({"engine.symbol", config.engine.symbol});
    for (std::size_t i = 0; i < command.data_files.size(); ++i) {
        report.parameters.push_back({fmt::format("data[{}]", i), command.data_files[i]});
    }
    report.alerts = engine::report_alerts(s.alerts);
    report.provenance = report_provenance_for(command.config_path);
    report.parameters.push_back({"fill_digest", fmt::format("{:016x}", s.loop.fill_digest)});
    report.parameters.push_back({"final_state", std::string(risk::to_string(s.final_state))});
    const auto add = [&](std::string key, std::string label, std::uint64_t value) {
        report.counters.push_back({std::move(key), std::move(label), value});
    };
    add("lines", "Capture lines", s.lines);
    add("bad_lines", "Bad lines (not \"<ns> <json>\")", s.bad_lines);
    add("market_data", "Market-data messages", s.replay.market_data);
    add("snapshots", "Depth snapshots", s.replay.snapshots);
    add("malformed", "Malformed messages", s.replay.malformed);
    add("unrecognised", "Unrecognised messages", s.replay.unrecognised);
    add("other_symbols", "Messages of other symbols", s.replay.unknown_symbol);
    add("gaps", "Book gaps", s.gaps);
    add("resyncs", "Book resyncs", s.resyncs);
    add("orders_sent", "Orders sent", s.orders_sent);
    add("flatten_orders_sent", "Flatten orders sent", s.flatten_orders_sent);
    add("risk_refusals", "Risk refusals", s.risk_rejects);
    // Reason 0 is `none`: an order that passed.
    for (std::size_t r = 1; r < s.risk_rejects_by_reason.size(); ++r) {
        const std::string reason(risk::to_string(static_cast<risk::reject_reason>(r)));
        add("risk_refusals_" + reason, "Risk refusals: " + reason, s.risk_rejects_by_reason[r]);
    }
    return report;
}

} // namespace

int run_replay_command(const replay_command& command) {
    for (const auto& file : command.data_files) {
        if (const auto problem = md::check_capture_file(file); problem != md::capture_error::none) {
            std::fprintf(stderr, "quoter backtest: capture file %s: %s\n", file.c_str(),
                         std::string(md::describe(problem)).c_str());
            return exit_invalid_input;
        }
    }
    auto loaded = load_config_for_command(command.config_path, command.profile, {}, "backtest");
    if (!loaded) {
        return exit_invalid_input;
    }
    if (loaded->symbols.size() > 1) {
        std::fprintf(stderr,
                     "quoter backtest: a replay trades one symbol, and engine.symbols names %zu; "
                     "set engine.symbol to the captured symbol instead\n",
                     loaded->symbols.size());
        return exit_invalid_input;
    }
    if (!loaded->engine.symbol_named) {
        // No symbol named: replay the one the capture holds.
        const auto held = capture_symbols(command.data_files);
        if (held.size() > 1) {
            std::fprintf(stderr,
                         "quoter backtest: the configuration names no symbol and the capture "
                         "holds %s; set engine.symbol to the one to replay\n",
                         joined(held).c_str());
            return exit_invalid_input;
        }
        if (held.size() == 1 && held.front() != loaded->engine.symbol) {
            std::fprintf(stderr,
                         "quoter backtest: the configuration names no symbol; replaying the "
                         "captured %s\n",
                         held.front().c_str());
            loaded = load_config_for_command(command.config_path, command.profile, held.front(),
                                             "backtest");
            if (!loaded) {
                return exit_invalid_input;
            }
        }
    }
    const engine_config& config = *loaded;
    const auto registry = make_registry(config, command.data_files.front());
    if (!registry) {
        std::fprintf(stderr, "quoter backtest: invalid filters for %s in [symbol]\n",
                     config.engine.symbol.c_str());
        return exit_invalid_input;
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
        return exit_invalid_input;
    }
    const std::filesystem::path out_dir = command.out_dir;
    if (!remove_earlier_report(out_dir)) {
        return exit_run_failed;
    }
    const sim::run_report report = make_replay_report(config, command, s);
    const auto written = sim::write_run_report(out_dir, report);
    if (!written) {
        std::fprintf(stderr, "quoter backtest: cannot write %s: %s\n", written.error().path.c_str(),
                     written.error().reason.c_str());
        return exit_run_failed;
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
                static_cast<unsigned long long>(s.orders_sent),
                static_cast<unsigned long long>(s.loop.fills),
                static_cast<unsigned long long>(s.quotes.cancels_sent),
                static_cast<unsigned long long>(s.risk_rejects),
                std::string(risk::to_string(s.final_state)).c_str());
    std::printf("  PnL %s, fees %.4f, equity %.4f\n", signed_money(s.total_pnl).c_str(), s.fees,
                s.equity);
    if (s.risk_rejects != 0) {
        std::printf("  orders refused %llu:", static_cast<unsigned long long>(s.risk_rejects));
        for (std::size_t r = 0; r < s.risk_rejects_by_reason.size(); ++r) {
            if (s.risk_rejects_by_reason[r] != 0) {
                std::printf(
                    " %s %llu",
                    std::string(risk::to_string(static_cast<risk::reject_reason>(r))).c_str(),
                    static_cast<unsigned long long>(s.risk_rejects_by_reason[r]));
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
