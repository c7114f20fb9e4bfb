#include "live_run_command.hpp"

#include "exit_codes.hpp"
#include "live_settings.hpp"
#include "quoter/app/app_config.hpp"
#include "quoter/engine/live_session.hpp"
#include "report_output.hpp"
#include "session_shell.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <sys/stat.h>

namespace quoter::app {
namespace {

/// exchange.weight_limit_1m and order_limit_10s (when set) replace the minute's REQUEST_WEIGHT
/// rule and the 10 s ORDERS rule of the gateway's defaults.
void override_rate_limits(const exchange_section& exchange,
                          std::vector<exec::rate_limit_rule>& rules) {
    for (exec::rate_limit_rule& rule : rules) {
        if (rule.type == exec::rate_limit_type::request_weight &&
            rule.interval_ns == 60 * core::ns_per_s && exchange.weight_limit_1m != 0) {
            rule.limit = exchange.weight_limit_1m;
        }
        if (rule.type == exec::rate_limit_type::orders && rule.interval_ns == 10 * core::ns_per_s &&
            exchange.order_limit_10s != 0) {
            rule.limit = exchange.order_limit_10s;
        }
    }
}

std::string live_status_line(const engine::live_status& s, double elapsed_s) {
    const auto price = [](double p) { return p > 0.0 ? fmt::format("{:.8g}", p) : "-"; };
    return fmt::format("live {:.0f}s  {}{}  {}  mid {}  quotes {}/{}  inv {:.8g}  orders {}  "
                       "fills {}  working {}  pnl {}  {}  msgs {}  synced {}",
                       elapsed_s, risk::to_string(s.state), s.feed_paused ? " (feed paused)" : "",
                       s.gateway.connected ? "connected" : "DISCONNECTED", price(s.mid),
                       price(s.quoted_bid), price(s.quoted_ask), s.inventory_base, s.orders_sent,
                       s.loop.fills, s.working_orders, signed_money(s.total_pnl),
                       ops::latency_status_text(s.tick_to_order), s.market_data.messages,
                       s.market_data.synced_symbols);
}

/// The Ed25519 private key of an ed25519 key_type: from exchange.ed25519_key_file (a PEM file
/// group and others cannot access) or else the api_private_key secret; checked to load, so a
/// bad key stops the run before it connects. Errors never show the key.
core::result<std::string, std::string> load_ed25519_key(const engine_config& config) {
    if (config.secrets.api_key.empty()) {
        return core::unexpected<std::string>(
            "no API key: set QUOTER_API_KEY, or add api_key to the secrets file");
    }
    std::string key;
    const std::string& path = config.exchange.ed25519_key_file;
    if (!path.empty()) {
        struct stat info {};
        if (::stat(path.c_str(), &info) != 0 || !S_ISREG(info.st_mode)) {
            return core::unexpected<std::string>("cannot read the Ed25519 key file " + path);
        }
        if ((info.st_mode & 077U) != 0) {
            return core::unexpected<std::string>(
                fmt::format("refusing the Ed25519 key file {}: its mode is "
                            "{:04o} but it must not be accessible to group or "
                            "others (chmod 600 {})",
                            path, info.st_mode & 07777U, path));
        }
        std::ifstream file(path);
        std::stringstream text;
        text << file.rdbuf();
        if (!file) {
            return core::unexpected<std::string>("cannot read the Ed25519 key file " + path);
        }
        key = text.str();
    } else if (!config.secrets.api_private_key.empty()) {
        key = std::string(config.secrets.api_private_key.reveal());
    } else {
        return core::unexpected<std::string>(
            "exchange.key_type = \"ed25519\" needs the private key: set "
            "QUOTER_API_PRIVATE_KEY, or name a 0600 PEM file in "
            "exchange.ed25519_key_file");
    }
    const auto signer = exec::ed25519_signer::from_private_key(key);
    if (!signer) {
        return core::unexpected<std::string>(
            fmt::format("the Ed25519 private key{} does not load: {}",
                        path.empty() ? "" : " in " + path, exec::describe(signer.error())));
    }
    return key;
}

} // namespace

int run_live_command(const live_run_command& command) {
    const auto loaded =
        load_config_for_command(command.config_path, command.profile, command.symbol, "run");
    if (!loaded) {
        return exit_invalid;
    }
    const engine_config& config = *loaded;
    // The configuration checks these for engine.mode = "live"; --mode live on a configuration
    // of another mode must meet them too.
    if (config.symbols.size() > 1) {
        std::fprintf(stderr,
                     "quoter run --mode live: a live session trades one symbol, and "
                     "engine.symbols names %zu; run one live session per symbol\n",
                     config.symbols.size());
        return exit_invalid;
    }
    if (!config.engine.testnet && !config.engine.mainnet) {
        std::fprintf(stderr, "quoter run --mode live: live trading on mainnet uses real funds; "
                             "it needs engine.testnet = false and engine.mainnet = true\n");
        return exit_invalid;
    }
    if (!config.engine.testnet && !command.mainnet_confirmed) {
        std::fprintf(stderr, "quoter run --mode live: the configuration trades on mainnet (real "
                             "funds); confirm it on the command line with --mainnet\n");
        return exit_invalid;
    }
    const bool ed25519 = config.exchange.key_type == exec::api_key_type::ed25519;
    std::string private_key;
    if (ed25519) {
        auto loaded = load_ed25519_key(config);
        if (!loaded) {
            std::fprintf(stderr, "quoter run --mode live: %s\n", loaded.error().c_str());
            return exit_invalid;
        }
        private_key = std::move(*loaded);
    } else if (!config.secrets.complete()) {
        std::fprintf(stderr, "quoter run --mode live: no API credentials: set QUOTER_API_KEY and "
                             "QUOTER_API_SECRET, or name a 0600 file in exchange.secrets_file\n");
        return exit_invalid;
    }
    const endpoints& urls = config.active_endpoints();

    engine::live_session_config session;
    configure_session(config, session);
    session.gateway.url = urls.ws_api_url;
    session.gateway.api_key = std::string(config.secrets.api_key.reveal());
    session.gateway.secret = std::string(config.secrets.api_secret.reveal());
    session.gateway.key_type = config.exchange.key_type;
    session.gateway.private_key = std::move(private_key);
    session.gateway.recv_window_ms = config.exchange.recv_window_ms.count();
    session.gateway.reconcile_max_retries = config.exchange.reconcile_max_retries;
    session.gateway.silent_timeouts = config.exchange.silent_timeouts;
    session.gateway.idle_timeout_ms = config.exchange.idle_timeout_ms.count();
    session.gateway.not_yet_requery_ms = config.exchange.not_yet_requery_ms.count();
    session.gateway.cancel_replace = config.exchange.cancel_replace;
    override_rate_limits(config.exchange, session.gateway.rate_limits);
    if (config.engine.market == market_kind::usdm_futures) {
        // USD-M futures: REST orders at rest_url, the listenKey stream at ws_url.
        exec::binance_futures_gateway_config& futures = session.futures_gateway.emplace();
        futures.rest_url = urls.rest_url;
        futures.ws_url = urls.ws_url;
        futures.api_key = session.gateway.api_key;
        futures.secret = session.gateway.secret;
        futures.recv_window_ms = session.gateway.recv_window_ms;
        futures.not_yet_requery_ms = session.gateway.not_yet_requery_ms;
        futures.heartbeat_ms = config.exchange.futures_heartbeat_ms.count();
        futures.countdown_ms = config.exchange.futures_countdown_ms.count();
        futures.listen_key_keepalive_ms = config.exchange.listen_key_keepalive_ms.count();
        futures.idle_timeout_ms = config.exchange.idle_timeout_ms.count();
        override_rate_limits(config.exchange, futures.rate_limits);
    }

    session_shell shell(command.duration_s);
    if (!shell.installed()) {
        std::fprintf(stderr, "quoter run: cannot install the signal handlers\n");
        return exit_failed;
    }
    std::fprintf(stderr, "quoter run --mode live: %s on %s %s, orders via %s%s; %s\n",
                 config.engine.symbol.c_str(), config.engine.testnet ? "TESTNET" : "MAINNET",
                 urls.ws_url.c_str(),
                 (session.futures_gateway ? urls.rest_url : urls.ws_api_url).c_str(),
                 shell.duration_text().c_str(), std::string(shell.hint()).c_str());
    std::fflush(stderr);

    const engine::live_summary summary = engine::run_live_session(
        session, shell.stop_flag(),
        [&](const engine::live_status& s) {
            shell.status([&](double elapsed_s) { return live_status_line(s, elapsed_s); });
        },
        &shell.control());
    const double wall_s = shell.finish();
    if (!summary.ok) {
        std::fprintf(stderr, "quoter run --mode live: %s\n", summary.error.c_str());
        return exit_failed;
    }
    const engine::live_status& s = summary.last;
    std::printf("quoter run --mode live: %s stopped by %s after %.1f s\n",
                config.engine.symbol.c_str(), shell.stopped_by().c_str(), wall_s);
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
    std::printf("  PnL %s, equity %.4f, position %.8g, fees %.8f\n",
                signed_money(s.total_pnl).c_str(), s.equity, s.position_base, s.fees);
    if (s.fee_asset_paid_e8 != 0 || s.fee_asset_held_e8 != 0) {
        // No price for it: a balance of its own, not in the PnL or equity above.
        std::printf("  fees in %s %.8f (not in PnL), %s held %.8f\n",
                    std::string(engine::live_fee_asset).c_str(),
                    static_cast<double>(s.fee_asset_paid_e8) * 1e-8,
                    std::string(engine::live_fee_asset).c_str(),
                    static_cast<double>(s.fee_asset_held_e8) * 1e-8);
    }
    std::printf("  gateway: %llu requests, %llu API errors, %llu timeouts, %llu status queries, "
                "%llu trade lists, %llu connects, %llu reconciliations, %llu replaces in one "
                "request\n",
                static_cast<unsigned long long>(s.gateway.sent),
                static_cast<unsigned long long>(s.gateway.api_errors),
                static_cast<unsigned long long>(s.gateway.timeouts),
                static_cast<unsigned long long>(s.gateway.status_queries),
                static_cast<unsigned long long>(s.gateway.trade_queries),
                static_cast<unsigned long long>(s.gateway.connects),
                static_cast<unsigned long long>(s.gateway.reconciles),
                static_cast<unsigned long long>(s.gateway.replaces_sent));
    std::printf("  rate limits: %llu requests held back, %llu answered 429, %llu answered 418\n",
                static_cast<unsigned long long>(s.gateway.rate_limited),
                static_cast<unsigned long long>(s.gateway.backoffs),
                static_cast<unsigned long long>(s.gateway.bans));
    if (s.gateway.foreign_fills > 0) {
        std::printf("  fills of orders not this engine's (by hand, another program): %llu; the "
                    "venue's holdings were read again after them\n",
                    static_cast<unsigned long long>(s.gateway.foreign_fills));
    }
    if (s.gateway.unreadable_user_events > 0) {
        std::printf("  user-data events that did not decode: %llu; the orders were queried after "
                    "them\n",
                    static_cast<unsigned long long>(s.gateway.unreadable_user_events));
    }
    if (s.gateway.request_table_full > 0) {
        std::printf("  requests not sent, every request slot waiting for an answer: %llu\n",
                    static_cast<unsigned long long>(s.gateway.request_table_full));
    }
    if (s.gateway.reports_dropped > 0) {
        std::printf("  order reports lost on the way to the core (the position may be wrong): "
                    "%llu\n",
                    static_cast<unsigned long long>(s.gateway.reports_dropped));
    }
    std::printf("  open orders at stop: %s\n",
                summary.stopped_clean ? "none (every cancel confirmed)"
                : s.working_orders == 0
                    ? "none tracked, but the venue did not confirm it"
                    : fmt::format("{} not confirmed", s.working_orders).c_str());
    print_tick_to_order(s.tick_to_order, "order bytes written to the socket");
    std::fflush(stdout);
    return summary.stopped_clean ? 0 : exit_failed;
}

} // namespace quoter::app
