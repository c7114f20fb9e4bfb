// Loading the engine configuration: the app's own sections ([engine], [threads], [exchange],
// [symbol] and the [symbol.<NAME>] tables, the credentials), one call per module section, then
// the checks that span sections.
//
// Each module reads its own sections beside its code; this file only composes them:
//   [strategy.*]                    strategy/strategy_config_reader.hpp
//   [market], [backtest]            sim/sim_config.hpp
//   [sim_exchange], [quotes]        exec/exec_config_reader.hpp
//   [risk.*]                        risk/risk_config_reader.hpp
//   [journal]                       ops/journal_settings.hpp
//   [ops], [http], [alerts], [state] ops/ops_config.hpp
//   [market_data]                   live/market_data_config.hpp
//
// Adding a key: find the reader of its section above and declare it there, once, passing the
// struct's own default. Adding a module's section takes three steps:
//   1. the module keeps a plain struct with defaults (e.g. quoter::risk::risk_config) and a
//      reader beside it, include/quoter/<module>/..._config_reader.hpp and
//      src/<module>/..._config_reader.cpp (the module links quoter::config PRIVATE; the header
//      only forward-declares config::section):
//
//      void read_risk_config(config::section s, risk_config& out) {
//          out.limits.daily_loss_pct = s.number("daily_loss_pct", out.limits.daily_loss_pct,
//                                               {.min = 0, .max = 1000, .unit = "%"},
//                                               "Kill when the day's loss exceeds this");
//      }
//
//   2. engine_config gains a member of that type (app_config.hpp);
//   3. read_sections() below calls the reader, at the place `config check` should list it.
//
// Then document the keys in docs/config.md: the app tests fail, printing the missing rows,
// until every key is there. Checks that need several sections (quotes.levels against
// strategy.levels.count, the order size against min_notional) stay here.
//
// One piece (about 600 lines): the app's own sections and the checks across sections both read
// the one engine_config as it is composed, in the order `config check` reports them.
#include "quoter/app/app_config.hpp"

#include "exit_codes.hpp"

#include "quoter/exec/exec_config_reader.hpp"
#include "quoter/md/capture.hpp"
#include "quoter/research/sweep.hpp"
#include "quoter/risk/risk_config_reader.hpp"
#include "quoter/strategy/strategy_config_reader.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <map>
#include <optional>
#include <tuple>

#include <sched.h>

namespace quoter::app {
namespace {

/// The quote asset a Binance symbol's name ends with, among the common ones ("USDT" of
/// "BTCUSDT", "BTC" of "ETHBTC"); empty when it ends with none of them.
std::string_view known_quote_asset(std::string_view symbol) noexcept {
    // Longest first: FDUSD before USD-suffixed names, USDT before a shorter match.
    static constexpr std::array<std::string_view, 13> assets{
        "FDUSD", "USDT", "USDC", "BUSD", "TUSD", "EUR", "TRY",
        "BRL",   "DAI",  "BTC",  "ETH",  "BNB",  "JPY"};
    for (const std::string_view asset : assets) {
        if (symbol.size() > asset.size() && symbol.ends_with(asset)) {
            return asset;
        }
    }
    return {};
}

constexpr std::array<config::choice_option<engine_mode>, 3> engine_modes{{
    {"sim", engine_mode::sim},
    {"paper_exchange", engine_mode::paper_exchange},
    {"live", engine_mode::live},
}};
constexpr std::array<config::choice_option<market_kind>, 2> market_kinds{{
    {"spot", market_kind::spot},
    {"usdm_futures", market_kind::usdm_futures},
}};
constexpr std::array<config::choice_option<exec::api_key_type>, 2> api_key_types{{
    {"hmac", exec::api_key_type::hmac},
    {"ed25519", exec::api_key_type::ed25519},
}};

constexpr std::array<config::choice_option<core::idle_policy>, 3> wait_policies{{
    {"spin", core::idle_policy::spin},
    {"yield", core::idle_policy::yield},
    {"block", core::idle_policy::block},
}};

template <class E, std::size_t N>
std::string_view name_of(const std::array<config::choice_option<E>, N>& options, E value) noexcept {
    for (const auto& option : options) {
        if (option.value == value) {
            return option.name;
        }
    }
    return "?";
}

// ---------------------------------------------------------------------------------------------
// Checks shared by several sections

bool is_binance_symbol(std::string_view symbol) noexcept {
    return !symbol.empty() && symbol.size() <= 20 &&
           std::all_of(symbol.begin(), symbol.end(),
                       [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); });
}

bool is_loopback(std::string_view host) noexcept {
    return host == "127.0.0.1" || host == "localhost" || host == "[::1]";
}

/// Accepts "<secure>://host[:port][/path]", and "<plain>://" only towards a loopback host (a
/// local venue): elsewhere the API key would cross the network in clear text.
void check_url(config::section& s, std::string_view key, std::string_view url,
               std::string_view secure, std::string_view plain) {
    const auto scheme_end = url.find("://");
    const std::string_view scheme =
        scheme_end == std::string_view::npos ? std::string_view{} : url.substr(0, scheme_end);
    std::string_view rest = scheme_end == std::string_view::npos ? url : url.substr(scheme_end + 3);
    std::string_view host;
    if (rest.starts_with('[')) {
        host = rest.substr(0, rest.find(']') == std::string_view::npos ? rest.size()
                                                                       : rest.find(']') + 1);
    } else {
        host = rest.substr(0, std::min(rest.find(':'), rest.find('/')));
    }
    if ((scheme != secure && scheme != plain) || host.empty()) {
        s.error(key, fmt::format("expected a URL such as {}://host[:port][/path], found \"{}\"",
                                 secure, url));
    } else if (scheme == plain && !is_loopback(host)) {
        s.error(key, fmt::format("{}:// is accepted only for 127.0.0.1, localhost or [::1]; use "
                                 "{}:// for {}",
                                 plain, secure, host));
    }
}

/// Whether this process may run on `cpu` (its affinity mask, which cgroups and taskset narrow).
bool cpu_available(int cpu) noexcept {
    cpu_set_t mask;
    CPU_ZERO(&mask);
    if (sched_getaffinity(0, sizeof mask, &mask) != 0) {
        return true; // cannot tell: let pinning report it
    }
    return cpu < CPU_SETSIZE && CPU_ISSET(cpu, &mask);
}

// ---------------------------------------------------------------------------------------------
// The app's section readers: one per [section]. Each key is declared once with its type, default
// (the struct's own), range or choices and a one-line description.

void read_engine(config::section s, engine_section& out) {
    out.mode = s.choice("mode", out.mode, engine_modes,
                        "What quoter trades against: sim (synthetic market, simulated exchange), "
                        "paper_exchange (live data, simulated exchange), live (Binance)");
    out.market = s.choice("market", out.market, market_kinds,
                          "Binance market: spot or usdm_futures (USD-M perpetual futures)");
    out.symbol = s.string("symbol", out.symbol, "Symbol to trade, as Binance spells it (BTCUSDT)");
    if (!is_binance_symbol(out.symbol)) {
        s.error("symbol", fmt::format("expected 1 to 20 upper-case letters or digits such as "
                                      "\"BTCUSDT\", found \"{}\"",
                                      out.symbol));
    }
    out.symbols = s.string_list("symbols", out.symbols,
                                "Several symbols to trade in one process, each with its own "
                                "[symbol.<NAME>] table (sim, backtests, paper; a live session "
                                "trades one; at most 64); empty: engine.symbol alone");
    for (std::size_t i = 0; i < out.symbols.size(); ++i) {
        const std::string& name = out.symbols[i];
        if (!is_binance_symbol(name)) {
            s.error("symbols", fmt::format("expected 1 to 20 upper-case letters or digits such "
                                           "as \"BTCUSDT\", found \"{}\"",
                                           name));
        } else if (std::find(out.symbols.begin(), out.symbols.begin() + static_cast<long>(i),
                             name) != out.symbols.begin() + static_cast<long>(i)) {
            s.error("symbols", fmt::format("names {} twice", name));
        }
    }
    if (out.symbols.size() > engine::portfolio_exposure::max_symbols) {
        s.error("symbols",
                fmt::format("names {} symbols; one process trades at most {}", out.symbols.size(),
                            engine::portfolio_exposure::max_symbols));
    }
    // The capital is split across the symbols and their PnL, exposure and limits are summed in
    // one currency: symbols quoted in different assets would add USDT to BTC.
    for (std::size_t i = 1; i < out.symbols.size(); ++i) {
        const std::string_view first = known_quote_asset(out.symbols.front());
        const std::string_view other = known_quote_asset(out.symbols[i]);
        if (!first.empty() && !other.empty() && first != other) {
            s.error("symbols",
                    fmt::format("mixes quote assets ({} in {}, {} in {}): the session's capital, "
                                "PnL and portfolio limits are summed in one currency; trade "
                                "symbols of one quote asset together",
                                first, out.symbols.front(), other, out.symbols[i]));
            break;
        }
    }
    if (!out.symbols.empty() && s.is_set("symbol")) {
        s.error("symbols", fmt::format("engine.symbol (\"{}\") and engine.symbols are both set; "
                                       "name every symbol in engine.symbols",
                                       out.symbol));
    }
    out.symbol_named = s.is_set("symbol") || !out.symbols.empty();
    out.testnet = s.boolean("testnet", out.testnet,
                            "Connect to Binance's testnet endpoints instead of mainnet");
    out.mainnet = s.boolean("mainnet", out.mainnet,
                            "Acknowledges live trading with real funds; required for mode = live "
                            "with testnet = false");
    out.warm_order_path_us = s.integer(
        "warm_order_path_us", out.warm_order_path_us, {.min = 0, .max = 1'000'000, .unit = "us"},
        "Paper and live: after this long without market data, and as often while idle, run the "
        "order path (decide, risk, encode) dry, sending nothing, to keep it warm; 0: off");
    if (out.mode == engine_mode::live && !out.testnet && !out.mainnet) {
        s.error(s.is_set("testnet") ? "testnet" : "mode",
                "live trading on mainnet uses real funds and needs the explicit acknowledgement "
                "engine.mainnet = true");
    }
    if (out.mainnet && out.testnet) {
        s.error("mainnet", "engine.mainnet = true contradicts engine.testnet = true; set "
                           "testnet = false to trade on mainnet");
    }
    if (out.mode == engine_mode::live && out.symbols.size() > 1) {
        s.error("symbols", fmt::format("a live session trades one symbol, and engine.symbols "
                                       "names {}; run one live session per symbol",
                                       out.symbols.size()));
    }
}

void read_threads(config::section s, threads_section& out) {
    out.md_cpu = s.integer("md_cpu", out.md_cpu, {.min = -1, .max = 1023},
                           "CPU the market-data thread is pinned to; -1: not pinned");
    out.core_cpu = s.integer("core_cpu", out.core_cpu, {.min = -1, .max = 1023},
                             "CPU the core (trading) thread is pinned to; -1: not pinned");
    out.wait = s.choice("wait_policy", out.wait, wait_policies,
                        "How the core thread waits for events: spin (lowest latency, uses a whole "
                        "CPU), yield, block");
    if (out.md_cpu >= 0 && out.md_cpu == out.core_cpu) {
        s.error("core_cpu", fmt::format("the core and market-data threads would share CPU {}; "
                                        "pin them to different CPUs",
                                        out.core_cpu));
    }
    for (const auto& [key, cpu] :
         {std::pair{"md_cpu", out.md_cpu}, std::pair{"core_cpu", out.core_cpu}}) {
        if (cpu >= 0 && !cpu_available(cpu)) {
            s.warning(key, fmt::format("CPU {} is not available to this process here; pinning "
                                       "will fail on this machine",
                                       cpu));
        }
    }
    if (out.wait == core::idle_policy::spin && out.core_cpu < 0) {
        s.warning("wait_policy", "spin without threads.core_cpu: the spinning thread competes "
                                 "with every other thread for its CPU");
    }
}

void read_endpoints(config::section s, endpoints& out, std::string_view network,
                    bool futures = false) {
    out.rest_url =
        s.string("rest_url", out.rest_url, fmt::format("REST API base URL, {}", network));
    check_url(s, "rest_url", out.rest_url, "https", "http");
    out.ws_url =
        s.string("ws_url", out.ws_url, fmt::format("Market-data WebSocket base URL, {}", network));
    check_url(s, "ws_url", out.ws_url, "wss", "ws");
    out.ws_api_url = s.string("ws_api_url", out.ws_api_url,
                              fmt::format("WebSocket API URL (orders), {}", network));
    check_url(s, "ws_api_url", out.ws_api_url, "wss", "ws");
    if (futures) {
        out.routed_streams = s.boolean(
            "routed_streams", out.routed_streams,
            fmt::format("Streams under ws_url/public (depth, bookTicker) and ws_url/market "
                        "(trades); false: all straight under ws_url, {}",
                        network));
    }
}

void read_exchange(config::section s, exchange_section& out) {
    out.recv_window_ms =
        s.duration_ms("recv_window_ms", out.recv_window_ms, {.min = 1, .max = 60000},
                      "How long after its timestamp Binance accepts a signed "
                      "request");
    out.reconcile_max_retries =
        s.integer("reconcile_max_retries", out.reconcile_max_retries, {.min = 0, .max = 1000},
                  "Spot: retries of a failing reconciliation request (open orders, balances, "
                  "own orders) before the reconciliation gives up: critical alert, no quoting "
                  "until the next connect (USD-M futures asks again without end, every "
                  "reconnect delay, quoting nothing meanwhile)");
    out.silent_timeouts =
        s.integer("silent_timeouts", out.silent_timeouts, {.min = 1, .max = 100},
                  "Spot: order-API request timeouts in a row, with nothing received since, "
                  "before the WebSocket session is closed and opened again (USD-M futures "
                  "orders go over REST, each request on its own timeout)");
    out.idle_timeout_ms = s.duration_ms(
        "idle_timeout_ms", out.idle_timeout_ms, {.min = 0, .max = 600'000},
        "Nothing received on the order connection (spot) or the user-data stream (USD-M "
        "futures) for this long, not Binance's pings nor the pong to the ping sent after half "
        "of it, and it is closed and opened again (a half-open connection would hide fills "
        "while nothing is sent); 0: never");
    out.not_yet_requery_ms = s.duration_ms(
        "not_yet_requery_ms", out.not_yet_requery_ms, {.min = 10, .max = 10'000},
        "A placement of unknown outcome whose status query found no order (-2013) is asked "
        "again this often until its recvWindow has passed, since Binance may still execute it");
    out.cancel_replace =
        s.boolean("cancel_replace", out.cancel_replace,
                  "Spot: replace a quote with one order.cancelReplace request (the new order "
                  "only if the cancel succeeds); false: cancel, then place once cancelled. "
                  "USD-M futures always cancel, then place");
    out.key_type = s.choice("key_type", out.key_type, api_key_types,
                            "How the API key signs: hmac (api_secret signs every request) or "
                            "ed25519 (spot: session.logon once per connection with the private "
                            "key from api_private_key or ed25519_key_file)");
    out.ed25519_key_file = s.file_path(
        "ed25519_key_file", "Ed25519 private key as a PKCS#8 PEM file, mode 0600, for key_type = "
                            "\"ed25519\" (else api_private_key); relative to this file");
    out.secrets_file = s.secrets_file(
        "secrets_file", "TOML file holding api_key and api_secret, mode 0600; relative to this "
                        "file; empty: secrets only from the environment");
    out.futures_heartbeat_ms = s.duration_ms(
        "futures_heartbeat_ms", out.futures_heartbeat_ms, {.min = 0, .max = 600'000},
        "USD-M futures: countdownCancelAll heartbeat interval; 0: no dead-man's switch");
    out.futures_countdown_ms = s.duration_ms(
        "futures_countdown_ms", out.futures_countdown_ms, {.min = 1'000, .max = 3'600'000},
        "USD-M futures: the venue cancels every order this long after the last heartbeat");
    out.listen_key_keepalive_ms = s.duration_ms(
        "listen_key_keepalive_ms", out.listen_key_keepalive_ms, {.min = 1'000, .max = 3'600'000},
        "USD-M futures: listenKey keep-alive (PUT) interval; Binance closes a key after 60 min");
    out.weight_limit_1m = s.integer(
        "weight_limit_1m", out.weight_limit_1m, {.min = 0, .max = 1'000'000},
        "Request weight a minute the order rate limiter keeps to; 0: Binance's (spot 6000, "
        "USD-M futures 2400)");
    out.order_limit_10s =
        s.integer("order_limit_10s", out.order_limit_10s, {.min = 0, .max = 1'000'000},
                  "New orders per 10 s the order rate limiter keeps to; 0: Binance's (spot 100, "
                  "USD-M futures 300)");
    read_endpoints(s.sub("spot"), out.spot, "spot mainnet");
    read_endpoints(s.sub("spot_testnet"), out.spot_testnet, "spot testnet");
    read_endpoints(s.sub("usdm_futures"), out.usdm_futures, "USD-M futures mainnet", true);
    read_endpoints(s.sub("usdm_futures_testnet"), out.usdm_futures_testnet, "USD-M futures testnet",
                   true);
}

void read_symbol(config::section s, symbol_section& out) {
    out.tick_size = s.decimal("tick_size", out.tick_size,
                              "Price increment (exchangeInfo PRICE_FILTER tickSize), quote asset");
    out.step_size = s.decimal("step_size", out.step_size,
                              "Quantity increment (exchangeInfo LOT_SIZE stepSize), base asset");
    out.min_notional = s.decimal("min_notional", out.min_notional,
                                 "Smallest order value (exchangeInfo NOTIONAL minNotional), "
                                 "quote asset");
}

void check_simulation(config::document& doc, engine_config& config, std::uint32_t quote_levels) {
    auto quotes = doc.section("quotes");
    const std::uint32_t strategy_levels = config.strategy.levels.count;
    if (quote_levels != 0 && quote_levels < strategy_levels) {
        quotes.error("levels", fmt::format("keeps fewer levels than strategy.levels.count ({}), "
                                           "so the deeper levels would never be quoted; use 0 or "
                                           "at least {}",
                                           strategy_levels, strategy_levels));
    }
    config.quotes.levels = static_cast<std::uint8_t>(
        std::max<std::uint32_t>(quote_levels == 0 ? strategy_levels : quote_levels, 1));
    if (sim::validate(config.market.model) != sim::market_config_error::none) {
        doc.section("market").error("process",
                                    std::string(sim::describe(sim::validate(config.market.model))));
    }
    const double order_notional =
        config.backtest.initial_cash * config.strategy.order_size_pct / 100.0;
    const double min_notional =
        static_cast<double>(config.spec.min_notional_units()) /
        static_cast<double>(core::pow10(config.spec.price_decimals() + config.spec.qty_decimals()));
    if (order_notional < min_notional) {
        doc.section("strategy")
            .warning("order_size_pct",
                     fmt::format(
                         "orders of {}% of backtest.initial_cash ({:.6g}) are below the symbol's "
                         "min_notional ({:.6g}) and are never sent",
                         config.strategy.order_size_pct, order_notional, min_notional));
    }
    if (config.backtest.record_interval_ms < config.market.step_ms) {
        doc.section("backtest")
            .warning("record_interval_ms",
                     fmt::format("is shorter than market.step_ms ({} ms): one sample per step",
                                 config.market.step_ms.count()));
    }
}

void read_credentials(config::document& doc, credentials& out) {
    out.api_key = doc.read_secret("api_key", "Binance API key, sent with signed requests");
    out.api_secret =
        doc.read_secret("api_secret", "Binance API secret; signs requests, never sent");
    out.api_private_key = doc.read_secret(
        "api_private_key", "Ed25519 private key (PKCS#8 DER in base64, one line) for "
                           "exchange.key_type = \"ed25519\"; signs session.logon, never sent");
}

/// Builds one symbol's spec; a rejected filter is reported at the key that holds it.
void build_symbol_spec(config::section s, symbol_entry& entry) {
    const symbol_section& filters = entry.filters;
    const auto spec = core::symbol_spec::from_text({.name = entry.name,
                                                    .tick_size = filters.tick_size,
                                                    .step_size = filters.step_size,
                                                    .min_notional = filters.min_notional});
    if (spec) {
        entry.spec = *spec;
        return;
    }
    const auto describe = core::describe(spec.error());
    switch (spec.error()) {
    case core::spec_error::bad_tick_size:
        s.error("tick_size", fmt::format("{}, found \"{}\"", describe, filters.tick_size));
        break;
    case core::spec_error::bad_step_size:
        s.error("step_size", fmt::format("{}, found \"{}\"", describe, filters.step_size));
        break;
    case core::spec_error::bad_min_notional:
        s.error("min_notional",
                fmt::format("{} with at most as many decimals as tick_size and step_size together, "
                            "found \"{}\"",
                            describe, filters.min_notional));
        break;
    case core::spec_error::too_precise:
        s.error("step_size", fmt::format("{} (tick_size \"{}\", step_size \"{}\")", describe,
                                         filters.tick_size, filters.step_size));
        break;
    case core::spec_error::none:
        break;
    }
}

/// The traded symbols: engine.symbol with [symbol], or every name of engine.symbols with its
/// [symbol.<NAME>] table, whose keys default to [symbol]'s.
void read_symbol_tables(config::document& doc, engine_config& config) {
    config.symbols.clear();
    if (config.engine.symbols.empty()) {
        symbol_entry entry;
        entry.name = config.engine.symbol;
        entry.filters = config.symbol;
        entry.strategy = config.strategy;
        entry.limits = config.risk.limits;
        config.symbols.push_back(std::move(entry));
        build_symbol_spec(doc.section("symbol"), config.symbols.back());
    } else {
        config.engine.symbol = config.engine.symbols.front();
        for (const std::string& name : config.engine.symbols) {
            const bool seen = std::any_of(config.symbols.begin(), config.symbols.end(),
                                          [&](const symbol_entry& e) { return e.name == name; });
            if (!is_binance_symbol(name) || seen) {
                continue; // reported at engine.symbols
            }
            config::section s = doc.section("symbol").sub(name);
            symbol_entry entry;
            entry.name = name;
            entry.filters = config.symbol;
            read_symbol(s, entry.filters);
            entry.start_price = s.number("start_price", 0.0, {.min = 0, .unit = "quote/base"},
                                         "Mid price the synthetic market of this symbol starts "
                                         "at; 0: market.start_price");
            build_symbol_spec(s, entry);
            entry.strategy = config.strategy;
            strategy::read_strategy_config(s.sub("strategy"), entry.strategy);
            entry.limits = config.risk.limits;
            risk::read_symbol_limits(s.sub("risk"), entry.limits);
            config.symbols.push_back(std::move(entry));
        }
    }
    if (!config.symbols.empty()) {
        config.spec = config.symbols.front().spec;
    }
}

/// Every section, in the order `config check` lists them. Later modules add one line each.
void read_sections(config::document& doc, engine_config& config) {
    read_engine(doc.section("engine"), config.engine);
    read_threads(doc.section("threads"), config.threads);
    read_exchange(doc.section("exchange"), config.exchange);
    read_symbol(doc.section("symbol"), config.symbol);
    strategy::read_strategy_config(doc.section("strategy"), config.strategy);
    sim::read_market_settings(doc.section("market"), config.market);
    exec::read_sim_exchange_config(doc.section("sim_exchange"), config.sim_exchange);
    const std::uint32_t quote_levels =
        exec::read_quote_manager_config(doc.section("quotes"), config.quotes);
    sim::read_backtest_settings(doc.section("backtest"), config.backtest);
    risk::read_risk_config(doc.section("risk"), config.risk);
    ops::read_journal_settings(doc.section("journal"), config.journal);
    live::read_market_data_settings(doc.section("market_data"), config.market_data,
                                    config.engine.market == market_kind::usdm_futures);
    ops::read_ops_sections(doc, config.ops);
    read_credentials(doc, config.secrets);

    // Checks across sections.
    read_symbol_tables(doc, config);
    check_simulation(doc, config, quote_levels);
    if (config.engine.mode == engine_mode::live && config.ops.state.directory.empty()) {
        doc.section("engine").warning(
            "mode", "live without state.directory: nothing survives a restart (a latched kill, "
                    "the day's loss, the equity peak and the order-rate windows start afresh)");
    }
    const bool ed25519 = config.exchange.key_type == exec::api_key_type::ed25519;
    if (config.engine.mode == engine_mode::live && ed25519 &&
        config.engine.market == market_kind::usdm_futures) {
        doc.section("exchange")
            .error("key_type", "ed25519 keys sign spot WebSocket API sessions "
                               "only; USD-M futures need an hmac key");
    }
    if (config.engine.mode == engine_mode::live && ed25519 && config.secrets.api_key.empty()) {
        doc.section("engine").warning(
            "mode", "live mode cannot start without api_key: set QUOTER_API_KEY, or add it to the "
                    "secrets file");
    } else if (config.engine.mode == engine_mode::live && ed25519 &&
               config.secrets.api_private_key.empty() && config.exchange.ed25519_key_file.empty()) {
        doc.section("engine").warning(
            "mode", "live mode with an ed25519 key cannot start without its private key: set "
                    "QUOTER_API_PRIVATE_KEY, or name a 0600 PEM file in exchange.ed25519_key_file");
    } else if (config.engine.mode == engine_mode::live && !ed25519 && !config.secrets.complete()) {
        std::string names;
        std::string variables;
        int count = 0;
        for (const auto& [name, variable, value] :
             {std::tuple{"api_key", "QUOTER_API_KEY", &config.secrets.api_key},
              std::tuple{"api_secret", "QUOTER_API_SECRET", &config.secrets.api_secret}}) {
            if (value->empty()) {
                names += count == 0 ? "" : " and ";
                names += name;
                variables += count == 0 ? "" : " and ";
                variables += variable;
                ++count;
            }
        }
        const std::string file_hint =
            config.exchange.secrets_file.empty()
                ? std::string("name a secrets file in exchange.secrets_file")
                : fmt::format("add {} to {}", count == 1 ? "it" : "them",
                              config.exchange.secrets_file);
        doc.section("engine").warning(
            "mode", fmt::format("live mode cannot start without {}: set {}, or {}", names,
                                variables, file_hint));
    }
}

} // namespace

std::string_view to_string(engine_mode mode) noexcept {
    return name_of(engine_modes, mode);
}
std::string_view to_string(market_kind market) noexcept {
    return name_of(market_kinds, market);
}

const endpoints& engine_config::active_endpoints() const noexcept {
    if (engine.market == market_kind::usdm_futures) {
        return engine.testnet ? exchange.usdm_futures_testnet : exchange.usdm_futures;
    }
    return engine.testnet ? exchange.spot_testnet : exchange.spot;
}

engine::backtest_config make_backtest_config(const engine_config& config) {
    engine::backtest_config out;
    out.strategy = config.strategy;
    out.market = config.market.model;
    out.exchange = config.sim_exchange;
    out.quotes = config.quotes;
    out.risk = config.risk;
    if (!config.symbols.empty()) {
        // The first (of one: the only) symbol's own [symbol.<NAME>] tables over the shared
        // ones, as every other mode reads them: a one-name engine.symbols list keeps its
        // limits, strategy and start price.
        const symbol_entry& first = config.symbols.front();
        out.strategy = first.strategy;
        out.risk.limits = first.limits;
        // Its market as every run of several symbols has it (start price, scaled distances,
        // a fitted market).
        out.market = make_backtest_symbols(config).front().market;
    }
    out.step_ns = config.market.step_ms.count() * core::ns_per_ms;
    out.duration_ns = static_cast<core::duration_ns>(config.backtest.duration_s * 1e9);
    out.initial_cash = config.backtest.initial_cash;
    out.record_interval_ns = config.backtest.record_interval_ms.count() * core::ns_per_ms;
    out.return_period_s = config.backtest.return_period_s;
    return out;
}

std::vector<engine::backtest_symbol> make_backtest_symbols(const engine_config& config) {
    std::vector<engine::backtest_symbol> out;
    for (const symbol_entry& entry : config.symbols) {
        engine::backtest_symbol symbol{.spec = entry.spec,
                                       .market = config.market.model,
                                       .strategy = entry.strategy,
                                       .limits = entry.limits};
        if (entry.fitted_market) {
            symbol.market = *entry.fitted_market;
        } else if (entry.start_price > 0.0) {
            sim::market_config& market = symbol.market;
            // The [market] table's distances are quote-asset amounts at market.start_price. At
            // another price they scale with it, so that the order flow reaches a quote the
            // same number of bps from the mid at the same rate, and a walk moves the mid by
            // the same share: at 3000, k per USDT is 20 times that of a 60000 market.
            if (config.market.start_price_set) {
                const double scale = entry.start_price / market.initial_mid_price;
                market.order_flow_k_per_price_unit /= scale;
                market.walk_sigma_per_sqrt_s *= scale;
            }
            market.initial_mid_price = entry.start_price;
        }
        out.push_back(symbol);
    }
    return out;
}

std::string synthetic_market_problem(const engine_config& config, synthetic_command command) {
    if (config.market.start_price_set) {
        return {};
    }
    std::string missing;
    for (const symbol_entry& entry : config.symbols) {
        if (entry.start_price <= 0.0 && !entry.fitted_market) {
            missing += (missing.empty() ? "" : ", ") + entry.name;
        }
    }
    if (missing.empty()) {
        return {};
    }
    const bool several = !config.engine.symbols.empty();
    return fmt::format(
        "the configuration sets no synthetic market price for {}: market.start_price is not set{} "
        "and its built-in {:g} does not fit a real symbol (tick {}); add a [market] table with "
        "start_price (config/sim.toml has one){}, {}",
        missing, several ? " nor symbol.<NAME>.start_price" : "",
        config.market.model.initial_mid_price, config.symbols.front().filters.tick_size,
        several ? " or set start_price in each [symbol.<NAME>]" : "",
        command == synthetic_command::backtest
            ? "fit a market to a capture of the symbol with --market-from FILE, or replay a "
              "capture with --data"
        : command == synthetic_command::run
            ? "or fit a market to a capture of the symbol with --market-from FILE"
            : "fit a market to a capture of the symbol with --market-from FILE, or sweep over "
              "captures with --data");
}

core::result<engine_config, config::diagnostics> load_engine_config(const std::string& path,
                                                                    config::load_options options) {
    auto loaded = config::document::load(path, std::move(options));
    if (!loaded) {
        return core::unexpected{loaded.error()};
    }
    config::document& doc = *loaded;
    engine_config config;
    read_sections(doc, config);
    doc.finish();
    if (!doc.ok()) {
        return core::unexpected{doc.problems()};
    }
    config.resolved = doc.resolved();
    return config;
}

core::result<engine_config, config::diagnostics> load_engine_config(const std::string& path,
                                                                    const std::string& profile) {
    return load_engine_config(path, config::load_options{.profile = profile});
}

namespace {

std::string summary(const engine_config& config) {
    const auto& engine = config.engine;
    std::string out = fmt::format("# valid: mode {}", to_string(engine.mode));
    for (const symbol_entry& entry : config.symbols) {
        out += fmt::format(", {} {} (tick {}, step {}, min notional {}", entry.name,
                           to_string(engine.market), entry.filters.tick_size,
                           entry.filters.step_size, entry.filters.min_notional);
        out += entry.start_price > 0 ? fmt::format(", start price {:g})", entry.start_price) : ")";
    }
    if (config.symbols.size() > 1) {
        out += fmt::format("; {} symbols in one loop, portfolio limits across them",
                           config.symbols.size());
    }
    // A 0 turns these off; said here because it could be read as "nothing allowed".
    std::vector<std::string> off;
    for (const std::string_view key : risk::limits_turned_off(config.risk)) {
        off.push_back(fmt::format("risk.{}", key));
    }
    for (const symbol_entry& entry : config.symbols) {
        if (config.engine.symbols.empty()) {
            break; // one symbol, whose limits are [risk]'s
        }
        for (const std::string_view key : risk::symbol_limits_turned_off(entry.limits)) {
            const std::string shared = fmt::format("risk.{}", key);
            if (std::find(off.begin(), off.end(), shared) == off.end()) {
                off.push_back(fmt::format("symbol.{}.risk.{}", entry.name, key));
            }
        }
    }
    if (!off.empty()) {
        out += fmt::format("\n# limits off (0): {}", fmt::join(off, ", "));
    }
    if (engine.mode != engine_mode::sim) {
        const auto& urls = config.active_endpoints();
        out += fmt::format("\n# exchange: {} {} and {}", engine.testnet ? "testnet" : "MAINNET",
                           urls.rest_url, urls.ws_url);
    }
    if (engine.mode == engine_mode::live) {
        out += fmt::format(
            "\n# credentials: api_key {}, api_secret {}",
            config.secrets.api_key.empty() ? "not set" : config.secrets.api_key.masked(),
            config.secrets.api_secret.empty() ? "not set" : config.secrets.api_secret.masked());
    }
    return out + "\n";
}

/// What the [sweep] table of a configuration file holds, checked as `quoter sweep` would check
/// it before running: its own keys, that it can run on the base configuration, its capture
/// files, and every swept value through the configuration reader (so a misspelt or
/// out-of-range key fails here, with the reader's message).
struct sweep_check {
    bool present = false;
    std::vector<std::string> problems;
    std::string summary; ///< "# sweep: ..." when present and valid
};

sweep_check check_sweep_table(const std::string& path, const config::load_options& options,
                              const engine_config& base) {
    sweep_check out;
    auto table = research::read_sweep_table(path);
    if (!table) {
        out.present = true;
        out.problems = table.error();
        return out;
    }
    research::sweep_spec spec = std::move(*table);
    out.present = !spec.grid.empty() || !spec.random.empty() || !spec.data.empty() ||
                  spec.paths_set || spec.seed_set || spec.trials != 0 || spec.split != 0.0 ||
                  spec.folds != 0 || spec.anchored || !(spec.goal == research::objective());
    if (!out.present) {
        return out;
    }
    if (spec.folds != 0 && spec.split == 0.0) {
        spec.split = research::default_fold_split;
    }
    if (!spec.paths_set) {
        spec.paths = spec.data.empty() ? base.backtest.paths : 0;
    }
    for (auto& problem : research::validate(spec)) {
        out.problems.push_back("sweep: " + problem);
    }
    for (const auto& file : spec.data) {
        if (const auto bad = md::check_capture_file(file); bad != md::capture_error::none) {
            out.problems.push_back(
                fmt::format("sweep.data: capture file {}: {}", file, md::describe(bad)));
        }
    }
    // Returns false when the key itself is unknown: its other values would only repeat that.
    const auto try_value = [&](const std::string& key, const std::string& value) {
        config::load_options trial = options;
        trial.overrides.push_back({key, value, fmt::format("[sweep] {} = {}", key, value)});
        const auto loaded = load_engine_config(path, std::move(trial));
        if (loaded) {
            return true;
        }
        bool key_known = true;
        for (const auto& problem : loaded.error()) {
            std::string text = config::to_string(problem);
            if (problem.level == config::severity::error &&
                std::find(out.problems.begin(), out.problems.end(), text) == out.problems.end()) {
                out.problems.push_back(std::move(text));
            }
            key_known &= !(problem.key == key && problem.message.starts_with("unknown "));
        }
        return key_known;
    };
    for (const auto& axis : spec.grid) {
        for (const auto& value : axis.values) {
            if (!try_value(axis.key, value)) {
                break;
            }
        }
    }
    for (const auto& axis : spec.random) {
        if (try_value(axis.key,
                      axis.integer ? fmt::format("{:.0f}", axis.lo) : fmt::format("{}", axis.lo))) {
            (void)try_value(axis.key, axis.integer ? fmt::format("{:.0f}", axis.hi)
                                                   : fmt::format("{}", axis.hi));
        }
    }
    std::string keys;
    for (const auto& key : research::swept_keys(spec)) {
        keys += (keys.empty() ? "" : ", ") + key;
    }
    std::string time;
    if (spec.folds != 0) {
        time = fmt::format(" in {} {} walk-forward folds ({:g} % of each window training)",
                           spec.folds, spec.anchored ? "anchored" : "rolling", 100.0 * spec.split);
    } else if (spec.split > 0.0) {
        time = fmt::format(" split in time ({:g} % training)", 100.0 * spec.split);
    }
    out.summary = fmt::format(
        "# sweep: {} trial{} over {}; each on {}{}; objective {} (run by "
        "quoter sweep; other commands use the base configuration)",
        research::expand(spec).size(), research::expand(spec).size() == 1 ? "" : "s", keys,
        spec.data.empty()
            ? fmt::format("{} synthetic path{}", spec.paths, spec.paths == 1 ? "" : "s")
            : fmt::format("{} capture{}", spec.data.size(), spec.data.size() == 1 ? "" : "s"),
        time, research::to_string(spec.goal));
    return out;
}

} // namespace

int check_config(const std::string& path, const std::string& profile) {
    // A [sweep] table is quoter sweep's: checked below on its own terms, not as engine keys.
    const config::load_options options{.profile = profile, .foreign_tables = {"sweep"}};
    const auto config = load_engine_config(path, options);
    if (!config) {
        std::size_t errors = 0;
        for (const auto& problem : config.error()) {
            std::fprintf(stderr, "%s\n", config::to_string(problem).c_str());
            errors += problem.level == config::severity::error ? 1 : 0;
        }
        std::fprintf(stderr, "quoter config check: %zu error%s in %s\n", errors,
                     errors == 1 ? "" : "s", path.c_str());
        return exit_invalid;
    }
    const sweep_check sweep = check_sweep_table(path, options, *config);
    if (!sweep.problems.empty()) {
        for (const auto& problem : sweep.problems) {
            std::fprintf(stderr, "%s: %s\n", path.c_str(), problem.c_str());
        }
        std::fprintf(stderr, "quoter config check: %zu error%s in the [sweep] table of %s\n",
                     sweep.problems.size(), sweep.problems.size() == 1 ? "" : "s", path.c_str());
        return exit_invalid;
    }
    std::string listing = config::format_resolved(config->resolved) + "\n" + summary(*config);
    if (sweep.present) {
        listing += "\n" + sweep.summary + "\n";
    }
    std::fputs(listing.c_str(), stdout);
    std::fflush(stdout);
    for (const auto& warning : config->resolved.warnings) {
        std::fprintf(stderr, "%s\n", config::to_string(warning).c_str());
    }
    return 0;
}

std::optional<engine_config> load_config_for_command(const std::string& path,
                                                     const std::string& profile,
                                                     const std::string& symbol,
                                                     const char* command) {
    // A [sweep] table is quoter sweep's: every other command checks it and runs without it.
    config::load_options options{.profile = profile, .foreign_tables = {"sweep"}};
    if (!symbol.empty()) {
        std::map<std::string, std::string> vars(options.env.vars().begin(),
                                                options.env.vars().end());
        vars["QUOTER_ENGINE_SYMBOL"] = symbol;
        options.env = config::environment::from_map(std::move(vars));
    }
    auto loaded = load_engine_config(path, options);
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
    const sweep_check sweep = check_sweep_table(path, options, *loaded);
    if (!sweep.problems.empty()) {
        for (const auto& problem : sweep.problems) {
            std::fprintf(stderr, "%s: %s\n", path.c_str(), problem.c_str());
        }
        std::fprintf(stderr, "quoter %s: %zu error%s in the [sweep] table of %s\n", command,
                     sweep.problems.size(), sweep.problems.size() == 1 ? "" : "s", path.c_str());
        return std::nullopt;
    }
    if (sweep.present) {
        std::fprintf(stderr,
                     "quoter %s: %s holds a [sweep] table; running the base configuration "
                     "and ignoring the sweep (run it with quoter sweep -c %s)\n",
                     command, path.c_str(), path.c_str());
    }
    return std::move(*loaded);
}

} // namespace quoter::app
