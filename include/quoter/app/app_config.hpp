// The engine's complete configuration: every module's section, loaded and validated together by
// one function that every run mode and `quoter config check` share.
//
// Each [section] maps to a plain struct whose member initialisers are the defaults. A module's
// sections are its own: the struct and its reader live in the module (risk/risk_config_reader.hpp,
// sim/sim_config.hpp, ...); the app's own sections are read in app_config.cpp, which composes
// them all.
//
// Invariant of a successfully loaded engine_config: every value is within its declared range,
// `spec` was built from engine.symbol and [symbol], live trading on mainnet carries the explicit
// acknowledgement.
#pragma once

#include "quoter/config/config.hpp"
#include "quoter/config/secret.hpp"
#include "quoter/core/result.hpp"
#include "quoter/core/symbol_spec.hpp"
#include "quoter/core/wait_policy.hpp"
#include "quoter/engine/sim_backtest.hpp"
#include "quoter/exec/binance_signer.hpp"
#include "quoter/exec/quote_manager.hpp"
#include "quoter/exec/sim_exchange.hpp"
#include "quoter/live/market_data_config.hpp"
#include "quoter/ops/journal_settings.hpp"
#include "quoter/ops/ops_config.hpp"
#include "quoter/risk/limits.hpp"
#include "quoter/sim/sim_config.hpp"
#include "quoter/strategy/strategy_config.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace quoter::app {

enum class engine_mode : std::uint8_t { sim, paper_exchange, live };
enum class market_kind : std::uint8_t { spot, usdm_futures };

[[nodiscard]] std::string_view to_string(engine_mode mode) noexcept;
[[nodiscard]] std::string_view to_string(market_kind market) noexcept;

/// [engine]: what to trade and against what.
struct engine_section {
    engine_mode mode = engine_mode::sim;
    market_kind market = market_kind::spot;
    std::string symbol = "BTCUSDT"; ///< Upper case, as Binance spells it; symbols[0] when
                                    ///< engine.symbols is set.
    /// Several symbols traded by one process (each with a [symbol.<NAME>] table); empty: the
    /// one engine.symbol.
    std::vector<std::string> symbols;
    /// The file, a profile or the environment names the symbol (engine.symbol or
    /// engine.symbols); false: engine.symbol is its built-in default, and a replay may take the
    /// captured symbol instead.
    bool symbol_named = false;
    bool testnet = true;  ///< Use the testnet endpoints of [exchange].
    bool mainnet = false; ///< Acknowledges live trading with real funds.
    /// Paper and live sessions: idle time (µs) after which, and as often while idle, the core
    /// loop runs the order path dry to keep it warm (engine::order_path_warmer); 0: off.
    /// Backtests and replays never do.
    std::int64_t warm_order_path_us = 100;
};

/// [threads]: CPU pinning and the core loop's wait policy.
struct threads_section {
    int md_cpu = -1;   ///< CPU of the market-data thread; -1: not pinned.
    int core_cpu = -1; ///< CPU of the core (trading) thread; -1: not pinned.
    /// How the core thread waits for work (to_string: core::to_string).
    core::idle_policy wait = core::idle_policy::yield;
};

/// Base URLs of one Binance API family. Paths (/api/v3/..., /stream?streams=...) are appended
/// by the clients.
struct endpoints {
    std::string rest_url; ///< REST API, e.g. "https://api.binance.com".
    std::string ws_url;   ///< Market-data WebSocket streams, e.g. "wss://stream.binance.com:9443".
    std::string
        ws_api_url; ///< WebSocket API (orders), e.g. "wss://ws-api.binance.com:443/ws-api/v3".
    /// USD-M futures only: market streams are routed under ws_url + "/public" (depth,
    /// bookTicker) and ws_url + "/market" (trades), as on Binance's mainnet; false: every stream
    /// straight under ws_url (the testnet).
    bool routed_streams = false;
};

/// [exchange]: endpoints for each market and network, request timing, where secrets live.
struct exchange_section {
    endpoints spot{"https://api.binance.com", "wss://stream.binance.com:9443",
                   "wss://ws-api.binance.com:443/ws-api/v3"};
    endpoints spot_testnet{"https://testnet.binance.vision", "wss://stream.testnet.binance.vision",
                           "wss://ws-api.testnet.binance.vision/ws-api/v3"};
    endpoints usdm_futures{"https://fapi.binance.com", "wss://fstream.binance.com",
                           "wss://ws-fapi.binance.com/ws-fapi/v1", true};
    endpoints usdm_futures_testnet{"https://testnet.binancefuture.com",
                                   "wss://fstream.binancefuture.com",
                                   "wss://testnet.binancefuture.com/ws-fapi/v1", false};
    /// How long after its timestamp Binance accepts a signed request.
    std::chrono::milliseconds recv_window_ms{5000};
    /// Retries of a failing reconciliation request before the reconciliation gives up (the
    /// gateway then takes no order until it reconnects).
    std::uint32_t reconcile_max_retries = 10;
    /// Request timeouts in a row with a silent venue before the session is replaced.
    std::uint32_t silent_timeouts = 2;
    /// Nothing received on the spot order connection or the futures user-data stream for this
    /// long (0: never) and it is replaced (see the gateways' idle_timeout_ms).
    std::chrono::milliseconds idle_timeout_ms{30'000};
    /// A placement of unknown outcome whose status query found no order is asked again this
    /// often until its recvWindow has passed (Binance may still execute it until then).
    std::chrono::milliseconds not_yet_requery_ms{250};
    /// Spot: replace an order with one order.cancelReplace request (STOP_ON_FAILURE) instead of
    /// cancel, then place once the cancel is confirmed. USD-M futures always cancel, then place.
    bool cancel_replace = true;
    /// How the API key signs (hmac: api_secret; ed25519: session.logon with the private key).
    exec::api_key_type key_type = exec::api_key_type::hmac;
    /// ed25519: the private key's PEM file as resolved (mode 0600); empty: api_private_key.
    std::string ed25519_key_file;
    /// The secrets file as resolved (relative to the config file); empty when not used.
    std::string secrets_file;
    /// USD-M futures: countdownCancelAll sent this often (0: off) with this countdown.
    std::chrono::milliseconds futures_heartbeat_ms{30'000};
    std::chrono::milliseconds futures_countdown_ms{120'000};
    /// USD-M futures: the listenKey keep-alive (PUT) interval.
    std::chrono::milliseconds listen_key_keepalive_ms{1'800'000};
    /// The account's limits the order rate limiter keeps to, when they differ from Binance's
    /// published ones (0: Binance's, spot 6,000 weight a minute and 100 orders per 10 s, USD-M
    /// 2,400 and 300).
    std::uint32_t weight_limit_1m = 0;
    std::uint32_t order_limit_10s = 0;
};

/// [symbol]: the symbol's filters as exchangeInfo gives them, as exact decimal text.
struct symbol_section {
    std::string tick_size = "0.01";    ///< PRICE_FILTER tickSize, quote asset.
    std::string step_size = "0.00001"; ///< LOT_SIZE stepSize, base asset.
    std::string min_notional = "5";    ///< NOTIONAL minNotional, quote asset.
};

/// One traded symbol: its name, filters, validated spec and synthetic start price.
struct symbol_entry {
    std::string name;
    symbol_section filters;
    core::symbol_spec spec;
    /// Mid price the synthetic market starts at, quote asset per base unit; 0: not named for
    /// this symbol (market.start_price applies when the file sets it).
    double start_price = 0.0;
    /// [strategy] with this symbol's [symbol.<NAME>.strategy] keys over it.
    strategy::strategy_config strategy;
    /// [risk]'s limits with this symbol's [symbol.<NAME>.risk] keys over them.
    risk::risk_limits limits;
    /// The synthetic market fitted to captures (`--market-from`, app/market_fit.hpp) for a
    /// symbol the configuration names no start price for; synthetic runs use it as it is.
    std::optional<sim::market_config> fitted_market;
    /// File names of the captures the fitted market came from.
    std::vector<std::string> fitted_from;
};

/// API credentials: only from QUOTER_API_KEY / QUOTER_API_SECRET or the secrets file.
struct credentials {
    config::secret api_key;
    config::secret api_secret;
    /// Ed25519 private key (PKCS#8 DER in base64) when exchange.key_type = "ed25519" and no
    /// PEM file is named.
    config::secret api_private_key;
    /// HMAC keys: both the key and its secret.
    [[nodiscard]] bool complete() const noexcept { return !api_key.empty() && !api_secret.empty(); }
};

struct engine_config {
    engine_section engine;
    threads_section threads;
    exchange_section exchange;
    symbol_section symbol;
    /// [strategy] and its sub-tables: model, parameters, estimators, bands, levels.
    strategy::strategy_config strategy;
    /// [market]: the synthetic market of mode sim and of backtests.
    sim::market_settings market;
    /// [sim_exchange]: fees, latencies and matching rules of the simulated exchange.
    exec::sim_exchange_config sim_exchange;
    /// [quotes]: the quote lifecycle. levels is already resolved (never 0).
    exec::quote_manager_config quotes;
    /// [backtest]: simulated runs: length, capital, paths, seed, pacing and recording.
    sim::backtest_settings backtest;
    /// [risk], [risk.triggers], [risk.alarms]: pre-trade limits, kill triggers and alarms.
    risk::risk_config risk;
    /// [journal]: the JSONL audit trail.
    ops::journal_settings journal;
    /// [market_data]: the Binance market-data feed.
    live::market_data_settings market_data;
    /// [ops], [http], [alerts], [state]: control plane, metrics, alerts, state file.
    ops::ops_settings ops;
    credentials secrets;
    /// engine.symbol with the [symbol] filters, validated; symbols[0].spec.
    core::symbol_spec spec;
    /// Every traded symbol in order (at least one once loaded): engine.symbols with their
    /// [symbol.<NAME>] tables, or engine.symbol with [symbol].
    std::vector<symbol_entry> symbols;
    /// Every key with its final value and origin (secrets masked), and the warnings.
    config::resolved_config resolved;

    /// The endpoints for engine.market on the network engine.testnet selects.
    [[nodiscard]] const endpoints& active_endpoints() const noexcept;
};

/// Loads, overlays, overrides and validates the whole configuration. On failure, every problem
/// found (never just the first).
[[nodiscard]] core::result<engine_config, config::diagnostics>
load_engine_config(const std::string& path, const std::string& profile);

/// As above with explicit options (environment snapshot), for tests and embedding.
[[nodiscard]] core::result<engine_config, config::diagnostics>
load_engine_config(const std::string& path, config::load_options options);

/// Loads the configuration for a subcommand (`command` names it in messages), with
/// engine.symbol overridden when `symbol` is not empty. Prints every problem and warning on
/// stderr as `config check` does; empty when the configuration is invalid. A [sweep] table is
/// allowed (it is `quoter sweep`'s): checked as `config check` checks it, and when present a
/// line on stderr says the base configuration runs without the sweep.
[[nodiscard]] std::optional<engine_config> load_config_for_command(const std::string& path,
                                                                   const std::string& profile,
                                                                   const std::string& symbol,
                                                                   const char* command);

/// The simulated run the configuration describes (strategy, market, simulated exchange, quotes,
/// backtest length and recording).
[[nodiscard]] engine::backtest_config make_backtest_config(const engine_config& config);

/// One entry per traded symbol: its spec and its synthetic market (the [market] model started
/// at the symbol's start price). With market.start_price set, a symbol of another start price
/// gets the [market] table's quote-asset distances scaled by the ratio of the prices (k per
/// price unit divided, the random walk's step multiplied), so that its market is the same in
/// relative terms.
[[nodiscard]] std::vector<engine::backtest_symbol>
make_backtest_symbols(const engine_config& config);

/// Why a synthetic run (`quoter backtest` without --data, `quoter run --mode sim`) cannot start
/// on this configuration: a symbol without a synthetic start price (no market.start_price, no
/// symbol.<NAME>.start_price and no market fitted to captures: the built-in 100 would not fit
/// it). Empty when it can. The message offers the ways out `command` takes.
enum class synthetic_command : std::uint8_t {
    backtest, ///< `quoter backtest`: --market-from, or --data
    run,      ///< `quoter run --mode sim`: --market-from
    sweep,    ///< `quoter sweep`: --market-from, or --data
};
[[nodiscard]] std::string synthetic_market_problem(const engine_config& config,
                                                   synthetic_command command);

/// `quoter config check FILE [--profile P]`: prints the resolved configuration (secrets masked)
/// on stdout, or every error on stderr; returns 0 when valid and 2 otherwise. A [sweep] table
/// is checked as `quoter sweep` would check it (its keys, and every swept value through the
/// configuration reader) and summarised.
int check_config(const std::string& path, const std::string& profile);

} // namespace quoter::app
