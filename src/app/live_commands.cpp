// `quoter record`, `quoter backtest --data`, `quoter run --mode paper_exchange` and
// `quoter run --mode live`: the glue
// between the loaded configuration and the live, engine and ops modules. Configuration maps to
// engine::core_loop_config the same way the synthetic backtest maps it to sim::backtest_config
// (strategy, quotes and simulated exchange as configured; risk limits at their defaults).
#include "live_commands.hpp"
#include "exit_codes.hpp"
#include "sim_commands.hpp"
#include "stop_signals.hpp"

#include "quoter/app/app_config.hpp"
#include "quoter/engine/backtest.hpp"
#include "quoter/engine/live_session.hpp"
#include "quoter/engine/paper_session.hpp"
#include "quoter/live/recorder.hpp"
#include "quoter/md/capture.hpp"
#include "quoter/md/exchange_info.hpp"
#include "quoter/net/endpoints.hpp"
#include "quoter/ops/control.hpp"
#include "quoter/ops/terminal.hpp"
#include "quoter/sim/report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <span>
#include <string_view>
#include <thread>

#include <unistd.h>

namespace quoter::app {
namespace {

constexpr int exit_run_failed = 1;
constexpr int exit_invalid_input = 2;

md::market to_md_market(market_kind market) noexcept {
    return market == market_kind::usdm_futures ? md::market::usdm_futures : md::market::spot;
}

/// The stream and REST URLs of the configured market. Binance's futures mainnet routes streams
/// under "/public" (depth, bookTicker) and "/market" (trades) below the one configured ws_url
/// (routed_streams); the testnet serves them all at ws_url.
net::binance_endpoints market_endpoints(const engine_config& config) {
    const endpoints& urls = config.active_endpoints();
    net::binance_endpoints out;
    if (config.engine.market == market_kind::usdm_futures) {
        std::string base = urls.ws_url;
        while (!base.empty() && base.back() == '/') {
            base.pop_back();
        }
        out.futures_public_ws = urls.routed_streams ? base + "/public" : base;
        out.futures_market_ws = urls.routed_streams ? base + "/market" : base;
        out.futures_rest = urls.rest_url;
    } else {
        out.spot_ws = urls.ws_url;
        out.spot_rest = urls.rest_url;
    }
    return out;
}

/// [market_data] onto a feed's subscription and session settings (symbols and endpoints are
/// the caller's).
void apply_market_data(const engine_config& config, live::subscription_config& subscription,
                       live::session_config& session) {
    const live::market_data_settings& md = config.market_data;
    subscription.venue = to_md_market(config.engine.market);
    subscription.depth_interval_ms = md.depth_interval_ms;
    subscription.book_ticker = md.book_ticker;
    subscription.trades = md.trades;
    subscription.snapshot_limit = md.snapshot_limit;
    session.streams_per_connection = md.streams_per_connection;
    session.stale_after_ms = md.stale_after_ms.count();
    session.reconnect_after_stale_ms = md.reconnect_after_stale_ms.count();
    session.feed.sync.max_levels_per_side = md.book_levels;
    session.feed.sync.window_ticks = md.book_window_ticks;
    session.tls.extra_ca_file = md.extra_ca_file;
}

/// The core loop of a replay or paper session as the configuration describes it.
engine::core_loop_config make_core_loop_config(const engine_config& config) {
    engine::core_loop_config out;
    out.symbol = 0;
    out.strategy = config.strategy;
    out.quotes = config.quotes;
    out.quotes.symbol = 0; // the simulated exchange's only symbol
    out.exchange = config.sim_exchange;
    out.risk = config.risk;
    out.journal_path = config.journal.path;
    out.journal_flush_interval_ms = config.journal.flush_interval_ms.count();
    out.account.initial_cash = config.backtest.initial_cash;
    // The account books the same fees the simulated exchange charges.
    out.account.maker_fee_bps = config.sim_exchange.maker_fee_bps;
    out.account.taker_fee_bps = config.sim_exchange.taker_fee_bps;
    out.core_cpu = config.threads.core_cpu;
    return out;
}

std::string signed_money(double value) {
    return fmt::format("{:+.4f}", value);
}

/// Splits "btcusdt, ethusdt" into names; empty optional when a name is empty or not alphanumeric.
std::optional<std::vector<std::string>> parse_symbols(const std::string& text) {
    std::vector<std::string> out;
    std::size_t begin = 0;
    while (begin <= text.size()) {
        const std::size_t comma = std::min(text.find(',', begin), text.size());
        std::string name = text.substr(begin, comma - begin);
        name.erase(0, name.find_first_not_of(" \t"));
        name.erase(name.find_last_not_of(" \t") + 1);
        const bool valid = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) != 0;
        });
        if (!valid) {
            return std::nullopt;
        }
        out.push_back(std::move(name));
        begin = comma + 1;
    }
    return out;
}

} // namespace

// ---------------------------------------------------------------------------------------------
// quoter record

int run_record_command(const record_command& command) {
    const auto symbols = parse_symbols(command.symbols);
    if (!symbols) {
        std::fprintf(stderr,
                     "quoter record: invalid --symbols '%s': expected comma-separated names "
                     "such as btcusdt,ethusdt\n",
                     command.symbols.c_str());
        return exit_invalid_input;
    }
    std::error_code ec;
    const std::filesystem::path out_dir = command.out_dir;
    if (std::filesystem::exists(out_dir, ec) && !std::filesystem::is_directory(out_dir, ec)) {
        std::fprintf(stderr, "quoter record: --out %s exists and is not a folder\n",
                     command.out_dir.c_str());
        return exit_invalid_input;
    }
    std::filesystem::create_directories(out_dir, ec);
    if (ec || !std::filesystem::is_directory(out_dir)) {
        std::fprintf(stderr, "quoter record: cannot create --out %s: %s\n", command.out_dir.c_str(),
                     ec ? ec.message().c_str() : "not a folder");
        return exit_invalid_input;
    }

    net::binance_endpoints urls = net::binance_mainnet();
    live::recorder_config config;
    config.subscription.venue = md::market::spot;
    if (!command.config_path.empty()) {
        const auto loaded = load_config_for_command(command.config_path, {}, {}, "record");
        if (!loaded) {
            return exit_invalid_input;
        }
        urls = market_endpoints(*loaded);
        apply_market_data(*loaded, config.subscription, config.session);
    }
    const stop_signals signals;
    config.stop_flag = &stop_signalled;
    config.log = [](std::string_view line) {
        std::fprintf(stderr, "record: %.*s\n", static_cast<int>(line.size()), line.data());
    };
    const auto duration = std::chrono::milliseconds(
        static_cast<std::int64_t>(std::max(command.duration_s, 0.0) * 1000.0));
    const std::string& stream_url =
        config.subscription.venue == md::market::spot ? urls.spot_ws : urls.futures_public_ws;
    std::fprintf(
        stderr, "quoter record: %zu symbol%s from %s into %s%s; Ctrl-C stops\n", symbols->size(),
        symbols->size() == 1 ? "" : "s", stream_url.c_str(), command.out_dir.c_str(),
        command.duration_s > 0 ? fmt::format(" for {:g} s", command.duration_s).c_str() : "");
    std::fflush(stderr);

    const auto recorded = live::run_recorder(*symbols, command.out_dir, duration, urls, config);
    if (!recorded) {
        const live::record_error error = recorded.error();
        std::fprintf(stderr, "quoter record: %s\n", std::string(describe(error)).c_str());
        return error == live::record_error::no_symbols ||
                       error == live::record_error::bad_directory ||
                       error == live::record_error::instruments
                   ? exit_invalid_input
                   : exit_run_failed;
    }
    const live::record_summary& summary = *recorded;
    std::size_t files = 0;
    std::uint64_t lines = 0;
    std::uint64_t snapshots = 0;
    for (const auto& symbol : summary.symbols) {
        files += symbol.files.size();
        lines += symbol.lines;
        snapshots += symbol.snapshots;
    }
    std::printf("quoter record: %zu file%s, %llu lines, %llu snapshots, %llu messages "
                "(%llu malformed, %llu reconnects)%s\n",
                files, files == 1 ? "" : "s", static_cast<unsigned long long>(lines),
                static_cast<unsigned long long>(snapshots),
                static_cast<unsigned long long>(summary.messages),
                static_cast<unsigned long long>(summary.malformed),
                static_cast<unsigned long long>(summary.reconnects),
                stop_signalled.load() ? ", stopped by signal" : "");
    for (const auto& symbol : summary.symbols) {
        std::printf("  %s: %llu lines, %llu snapshots, %llu gaps, final state %s\n",
                    symbol.name.c_str(), static_cast<unsigned long long>(symbol.lines),
                    static_cast<unsigned long long>(symbol.snapshots),
                    static_cast<unsigned long long>(symbol.gaps),
                    std::string(md::to_string(symbol.final_state)).c_str());
        for (const auto& file : symbol.files) {
            std::printf("    %s\n", file.c_str());
        }
    }
    if (!summary.exchange_info_path.empty()) {
        std::printf("  exchangeInfo: %s\n", summary.exchange_info_path.c_str());
    }
    return 0;
}

// ---------------------------------------------------------------------------------------------
// quoter backtest --data

namespace {

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
sim::run_report make_replay_report(const std::string& symbol, const core::symbol_spec& spec,
                                   const replay_command& command,
                                   const engine::backtest_summary& s) {
    sim::run_report report;
    report.title =
        fmt::format("quoter backtest: {} replay of {} capture file{}", symbol,
                    command.data_files.size(), command.data_files.size() == 1 ? "" : "s");
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

/// `quoter backtest --data` of several symbols (engine.symbols) in one loop: the files merge
/// by time, each symbol trades its own book on its share of backtest.initial_cash; one report
/// folder per symbol (out_dir/<SYMBOL>/), a summary line each and the portfolio's total.
int run_symbols_replay(const engine_config& config, const replay_command& command) {
    const auto registry = make_symbols_registry(config, command.data_files.front());
    if (!registry) {
        std::fprintf(stderr, "quoter backtest: invalid filters in a [symbol.<NAME>] table\n");
        return exit_invalid_input;
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
        return exit_invalid_input;
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
        return exit_invalid_input;
    }
    const std::filesystem::path out_dir = command.out_dir;
    if (!remove_earlier_report(out_dir)) {
        return exit_run_failed;
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
    for (std::size_t i = 0; i < summaries.size(); ++i) {
        const engine::backtest_summary& s = summaries[i];
        const std::string& name = config.symbols[i].name;
        const sim::run_report report = make_replay_report(name, config.symbols[i].spec, command, s);
        const auto written = sim::write_run_report(out_dir / name, report);
        if (!written) {
            std::fprintf(stderr, "quoter backtest: cannot write %s: %s\n",
                         written.error().path.c_str(), written.error().reason.c_str());
            return exit_run_failed;
        }
        std::printf("  %-10s PnL %s (of its %.2f), fees %.4f, orders %llu, fills %llu, risk "
                    "rejects %llu, gaps %llu, resyncs %llu, final state %s\n",
                    name.c_str(), signed_money(s.total_pnl).c_str(), share, s.fees,
                    static_cast<unsigned long long>(s.orders_sent),
                    static_cast<unsigned long long>(s.loop.fills),
                    static_cast<unsigned long long>(s.risk_rejects),
                    static_cast<unsigned long long>(s.gaps),
                    static_cast<unsigned long long>(s.resyncs),
                    std::string(risk::to_string(s.final_state)).c_str());
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
    }
    std::printf("  portfolio PnL %s (%+.4f%% of %.2f), fees %.4f\n",
                signed_money(total_pnl).c_str(),
                base.account.initial_cash > 0 ? 100.0 * total_pnl / base.account.initial_cash : 0.0,
                base.account.initial_cash, fees);
    std::printf("report: one folder per symbol: %s\n", folders.c_str());
    return 0;
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
    const sim::run_report report =
        make_replay_report(config.engine.symbol, config.spec, command, s);
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

// ---------------------------------------------------------------------------------------------
// quoter run --mode paper_exchange

namespace {

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

/// The exit report's latency table: every hop of the tick-to-order path, then end to end.
void print_tick_to_order(const core::tick_latency_summary& t,
                         std::string_view end = "order taken by the paper exchange") {
    std::printf("  tick to order (us, %llu ticks; socket read to %.*s):\n",
                static_cast<unsigned long long>(t.ticks), static_cast<int>(end.size()), end.data());
    const auto row = [](std::string_view name, const core::latency_summary& h) {
        std::printf("    %-14.*s %9llu  p50 %8.2f  p99 %8.2f  p99.9 %8.2f  max %9.2f\n",
                    static_cast<int>(name.size()), name.data(),
                    static_cast<unsigned long long>(h.count), static_cast<double>(h.p50) * 1e-3,
                    static_cast<double>(h.p99) * 1e-3, static_cast<double>(h.p999) * 1e-3,
                    static_cast<double>(h.max) * 1e-3);
    };
    for (std::size_t i = 1; i < core::tick_point_count; ++i) {
        if (t.hops[i].count != 0) {
            row(core::to_string(static_cast<core::tick_point>(i)), t.hops[i]);
        }
    }
    row("end to end", t.end_to_end);
}

/// Removes the process-wide handlers when the session ends, however it ends.
struct signal_handlers_guard {
    bool installed = false;
    signal_handlers_guard() = default;
    signal_handlers_guard(const signal_handlers_guard&) = delete;
    signal_handlers_guard& operator=(const signal_handlers_guard&) = delete;
    ~signal_handlers_guard() {
        if (installed) {
            ops::remove_signal_handlers();
        }
    }
};

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
    session.engine = make_core_loop_config(config);
    apply_market_data(config, session.market_data.subscription, session.market_data.session);
    session.market_data.subscription.symbols = {config.engine.symbol};
    session.market_data.session.endpoints = market_endpoints(config);
    session.market_data.cpu = config.threads.md_cpu;
    session.market_data.log = [](std::string_view line) {
        std::fprintf(stderr, "md: %.*s\n", static_cast<int>(line.size()), line.data());
    };
    session.status_interval_ms = 200;
    session.keep_report = true;
    session.ops = config.ops;
    session.log = [](std::string_view line) {
        std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data());
        std::fflush(stderr);
    };
    session.idle = config.threads.wait;

    ops::control_channel control;
    signal_handlers_guard handlers;
    handlers.installed = ops::install_signal_handlers(control);
    if (!handlers.installed) {
        std::fprintf(stderr, "quoter run: cannot install the signal handlers\n");
        return exit_run_failed;
    }
    // Keys only in an interactive terminal; the reader restores the terminal when it stops
    // (its destructor, on every return below) and the signal handlers on a forced exit.
    ops::terminal_key_reader keys(control);
    const bool interactive =
        ::isatty(STDIN_FILENO) != 0 && keys.start() == ops::terminal_error::none;
    const auto& urls = config.active_endpoints();
    std::fprintf(stderr, "quoter run --mode paper_exchange: %s on %s (%s)%s; %s\n",
                 config.engine.symbol.c_str(), urls.ws_url.c_str(), urls.rest_url.c_str(),
                 command.duration_s > 0 ? fmt::format(", for {:g} s", command.duration_s).c_str()
                                        : "",
                 interactive ? "keys: k kill, p pause, r resume, q quit; Ctrl-C stops"
                             : "Ctrl-C stops, SIGUSR1 kills, SIGUSR2 pauses/resumes");
    std::fflush(stderr);

    std::atomic<bool> stop{false};
    std::atomic<bool> finished{false};
    // The duration is enforced off the core thread so that it holds even without market data.
    std::thread timer;
    if (command.duration_s > 0) {
        timer = std::thread([&] {
            const auto end =
                std::chrono::steady_clock::now() +
                std::chrono::milliseconds(static_cast<std::int64_t>(command.duration_s * 1000.0));
            while (!finished.load() && std::chrono::steady_clock::now() < end) {
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
            stop.store(true);
        });
    }

    const bool terminal = ::isatty(STDERR_FILENO) != 0;
    const auto start = std::chrono::steady_clock::now();
    const auto status_every = terminal ? std::chrono::seconds(1) : std::chrono::seconds(5);
    auto next_status = start + status_every;
    std::size_t status_width = 0;
    const engine::paper_summary summary = engine::run_paper_session(
        session, stop,
        [&](const engine::paper_status& s) {
            const auto now = std::chrono::steady_clock::now();
            if (now < next_status) {
                return;
            }
            next_status = now + status_every;
            const std::string line =
                paper_status_line(s, std::chrono::duration<double>(now - start).count());
            if (terminal) {
                status_width = std::max(status_width, line.size());
                std::fprintf(stderr, "\r%-*s", static_cast<int>(status_width), line.c_str());
            } else {
                std::fprintf(stderr, "%s\n", line.c_str());
            }
            std::fflush(stderr);
        },
        &control);
    finished.store(true);
    if (timer.joinable()) {
        timer.join();
    }
    const double wall_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (terminal && status_width > 0) {
        std::fprintf(stderr, "\r%-*s\r", static_cast<int>(status_width), "");
        std::fflush(stderr);
    }
    if (!summary.ok) {
        std::fprintf(stderr, "quoter run --mode paper_exchange: %s\n", summary.error.c_str());
        return exit_run_failed;
    }
    const engine::paper_status& s = summary.last;
    const auto source = control.stop_source();
    std::printf("quoter run --mode paper_exchange: %s stopped by %s after %.1f s\n",
                config.engine.symbol.c_str(),
                source        ? std::string(ops::to_string(*source)).c_str()
                : stop.load() ? "--duration"
                              : "quit",
                wall_s);
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
    print_tick_to_order(s.tick_to_order);
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

// ---------------------------------------------------------------------------------------------
// quoter run --mode live

namespace {

std::string live_status_line(const engine::live_status& s, double elapsed_s) {
    const core::latency_summary& t2o = s.tick_to_order.end_to_end;
    return fmt::format("live {:.0f}s  {}{}  {}  orders {}  fills {}  working {}  pnl {}  "
                       "t2o p50 {:.1f} us p99 {:.1f} us  msgs {}  synced {}",
                       elapsed_s, risk::to_string(s.state), s.feed_paused ? " (feed paused)" : "",
                       s.gateway.connected ? "connected" : "DISCONNECTED", s.orders_sent,
                       s.loop.fills, s.working_orders, signed_money(s.total_pnl),
                       static_cast<double>(t2o.p50) * 1e-3, static_cast<double>(t2o.p99) * 1e-3,
                       s.market_data.messages, s.market_data.synced_symbols);
}

} // namespace

int run_live_command(const live_run_command& command) {
    const auto loaded =
        load_config_for_command(command.config_path, command.profile, command.symbol, "run");
    if (!loaded) {
        return exit_invalid_input;
    }
    const engine_config& config = *loaded;
    // The configuration checks these for engine.mode = "live"; --mode live on a configuration
    // of another mode must meet them too.
    if (!config.engine.testnet && !config.engine.mainnet) {
        std::fprintf(stderr, "quoter run --mode live: live trading on mainnet uses real funds; "
                             "it needs engine.testnet = false and engine.mainnet = true\n");
        return exit_invalid_input;
    }
    if (!config.secrets.complete()) {
        std::fprintf(stderr, "quoter run --mode live: no API credentials: set QUOTER_API_KEY and "
                             "QUOTER_API_SECRET, or name a 0600 file in exchange.secrets_file\n");
        return exit_invalid_input;
    }
    if (config.engine.market != market_kind::spot) {
        std::fprintf(stderr, "quoter run --mode live: market %s is not built yet (spot only)\n",
                     std::string(to_string(config.engine.market)).c_str());
        return exit_not_built;
    }
    const endpoints& urls = config.active_endpoints();

    engine::live_session_config session;
    session.engine = make_core_loop_config(config);
    apply_market_data(config, session.market_data.subscription, session.market_data.session);
    session.market_data.subscription.symbols = {config.engine.symbol};
    session.market_data.session.endpoints = market_endpoints(config);
    session.market_data.cpu = config.threads.md_cpu;
    session.market_data.log = [](std::string_view line) {
        std::fprintf(stderr, "md: %.*s\n", static_cast<int>(line.size()), line.data());
    };
    session.gateway.url = urls.ws_api_url;
    session.gateway.api_key = std::string(config.secrets.api_key.reveal());
    session.gateway.secret = std::string(config.secrets.api_secret.reveal());
    session.gateway.recv_window_ms = config.exchange.recv_window_ms.count();
    session.status_interval_ms = 200;
    session.log = [](std::string_view line) {
        std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data());
        std::fflush(stderr);
    };
    session.idle = config.threads.wait;

    ops::control_channel control;
    signal_handlers_guard handlers;
    handlers.installed = ops::install_signal_handlers(control);
    if (!handlers.installed) {
        std::fprintf(stderr, "quoter run: cannot install the signal handlers\n");
        return exit_run_failed;
    }
    ops::terminal_key_reader keys(control);
    const bool interactive =
        ::isatty(STDIN_FILENO) != 0 && keys.start() == ops::terminal_error::none;
    std::fprintf(stderr, "quoter run --mode live: %s on %s %s, orders via %s%s; %s\n",
                 config.engine.symbol.c_str(), config.engine.testnet ? "TESTNET" : "MAINNET",
                 urls.ws_url.c_str(), urls.ws_api_url.c_str(),
                 command.duration_s > 0 ? fmt::format(", for {:g} s", command.duration_s).c_str()
                                        : "",
                 interactive ? "keys: k kill, p pause, r resume, q quit; Ctrl-C stops"
                             : "Ctrl-C stops, SIGUSR1 kills");
    std::fflush(stderr);

    std::atomic<bool> stop{false};
    std::atomic<bool> finished{false};
    std::thread timer;
    if (command.duration_s > 0) {
        timer = std::thread([&] {
            const auto end =
                std::chrono::steady_clock::now() +
                std::chrono::milliseconds(static_cast<std::int64_t>(command.duration_s * 1000.0));
            while (!finished.load() && std::chrono::steady_clock::now() < end) {
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
            stop.store(true);
        });
    }

    const bool terminal = ::isatty(STDERR_FILENO) != 0;
    const auto start = std::chrono::steady_clock::now();
    const auto status_every = terminal ? std::chrono::seconds(1) : std::chrono::seconds(5);
    auto next_status = start + status_every;
    std::size_t status_width = 0;
    const engine::live_summary summary = engine::run_live_session(
        session, stop,
        [&](const engine::live_status& s) {
            const auto now = std::chrono::steady_clock::now();
            if (now < next_status) {
                return;
            }
            next_status = now + status_every;
            const std::string line =
                live_status_line(s, std::chrono::duration<double>(now - start).count());
            if (terminal) {
                status_width = std::max(status_width, line.size());
                std::fprintf(stderr, "\r%-*s", static_cast<int>(status_width), line.c_str());
            } else {
                std::fprintf(stderr, "%s\n", line.c_str());
            }
            std::fflush(stderr);
        },
        &control);
    finished.store(true);
    if (timer.joinable()) {
        timer.join();
    }
    const double wall_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (terminal && status_width > 0) {
        std::fprintf(stderr, "\r%-*s\r", static_cast<int>(status_width), "");
        std::fflush(stderr);
    }
    if (!summary.ok) {
        std::fprintf(stderr, "quoter run --mode live: %s\n", summary.error.c_str());
        return exit_run_failed;
    }
    const engine::live_status& s = summary.last;
    const auto source = control.stop_source();
    std::printf("quoter run --mode live: %s stopped by %s after %.1f s\n",
                config.engine.symbol.c_str(),
                source        ? std::string(ops::to_string(*source)).c_str()
                : stop.load() ? "--duration"
                              : "quit",
                wall_s);
    std::printf("  orders %llu, acks %llu, fills %llu, cancels %llu, rejects %llu, unknown %llu, "
                "risk rejects %llu, final state %s\n",
                static_cast<unsigned long long>(s.orders_sent),
                static_cast<unsigned long long>(s.loop.acks),
                static_cast<unsigned long long>(s.loop.fills),
                static_cast<unsigned long long>(s.quotes.cancels_sent),
                static_cast<unsigned long long>(s.loop.exchange_rejects),
                static_cast<unsigned long long>(s.quotes.unknowns),
                static_cast<unsigned long long>(s.risk_rejects),
                std::string(risk::to_string(s.state)).c_str());
    std::printf("  PnL %s, equity %.4f, position %.8g\n", signed_money(s.total_pnl).c_str(),
                s.equity, config.spec.to_double(s.position));
    std::printf("  gateway: %llu requests, %llu API errors, %llu timeouts, %llu status queries, "
                "%llu connects\n",
                static_cast<unsigned long long>(s.gateway.sent),
                static_cast<unsigned long long>(s.gateway.api_errors),
                static_cast<unsigned long long>(s.gateway.timeouts),
                static_cast<unsigned long long>(s.gateway.status_queries),
                static_cast<unsigned long long>(s.gateway.connects));
    std::printf("  open orders at stop: %s\n",
                summary.stopped_clean ? "none (every cancel confirmed)"
                                      : fmt::format("{} not confirmed", s.working_orders).c_str());
    print_tick_to_order(s.tick_to_order, "order bytes written to the socket");
    std::fflush(stdout);
    return summary.stopped_clean ? 0 : exit_run_failed;
}

} // namespace quoter::app
