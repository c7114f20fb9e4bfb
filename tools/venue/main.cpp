// quoter-venue: a local Binance-compatible market-data venue for tests and offline demos.
// Prints "listening HOST:PORT" as its first stdout line once it accepts connections (port 0
// picks a free port, so tests can run in parallel), then serves until SIGINT/SIGTERM or
// --exit-after-ms.
#include "account_balances.hpp"
#include "ed25519_verifier.hpp"
#include "market.hpp"
#include "replay_market.hpp"
#include "synthetic_market.hpp"
#include "venue_server.hpp"

#include "quoter/net/io_loop.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace {

std::atomic<bool> stop_requested{false};

extern "C" void request_stop(int) {
    stop_requested.store(true);
}

std::vector<std::string> split_symbols(const std::string& list) {
    std::vector<std::string> symbols;
    std::size_t start = 0;
    while (start <= list.size()) {
        const std::size_t comma = list.find(',', start);
        const std::string name =
            list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (!name.empty()) {
            symbols.push_back(name);
        }
        if (comma == std::string::npos) {
            break;
        }
        start = comma + 1;
    }
    return symbols;
}

} // namespace

int main(int argc, char** argv) {
    using namespace quoter;

    CLI::App app{"quoter-venue: local Binance-compatible market-data venue"};
    venue::server_options server_options;
    std::vector<std::string> replay_files;
    double speed = 1.0;
    std::string replay_start = "connect";
    std::string tick_size = "0.01000000";
    std::string step_size = "0.00001000";
    std::size_t synthetic_count = 0;
    std::string symbol_list;
    venue::synthetic_options synthetic;
    bool futures = false;
    std::int64_t exit_after_ms = 0;

    app.add_option("--host", server_options.host, "Address to listen on")->capture_default_str();
    app.add_option("--port", server_options.port, "Port; 0 picks a free one")
        ->capture_default_str();
    app.add_option("--tls-cert", server_options.cert_file, "PEM certificate chain (enables TLS)");
    app.add_option("--tls-key", server_options.key_file, "PEM private key");

    app.add_option("--replay", replay_files, "Capture files (<ns> <json> gzip lines) to replay");
    app.add_option("--speed", speed, "Replay speed factor; 0 = as fast as possible")
        ->capture_default_str();
    app.add_option("--replay-start", replay_start,
                   "Start the replay clock when the first client subscribes, or now")
        ->check(CLI::IsMember({"connect", "now"}))
        ->capture_default_str();
    app.add_option("--tick-size", tick_size, "tickSize of replayed symbols")->capture_default_str();
    app.add_option("--step-size", step_size, "stepSize of replayed symbols")->capture_default_str();

    app.add_option("--synthetic", synthetic_count, "Number of synthetic symbols (SYN000USDT...)");
    app.add_option("--symbols", symbol_list, "Comma-separated synthetic symbols (BTCUSDT,...)");
    app.add_option("--rate-hz", synthetic.updates_per_s, "Depth diffs per symbol per second")
        ->capture_default_str();
    app.add_option("--trade-probability", synthetic.trade_probability, "Trade chance per diff")
        ->capture_default_str();
    app.add_option("--depth-levels", synthetic.depth_levels, "Synthetic levels per side")
        ->capture_default_str();
    app.add_option("--seed", synthetic.seed, "Synthetic market seed")->capture_default_str();
    app.add_flag("--stamp", synthetic.stamp, "Add \"vts\" (generation wall time, ns) to messages");
    app.add_flag("--futures", futures, "USD-M futures message flavour (pu, e:bookTicker)");

    venue::fault_options& faults = server_options.faults;
    app.add_option("--drop-after-ms", faults.drop_after_ms, "Drop each WebSocket at this age");
    app.add_option("--shutdown-after-ms", faults.shutdown_after_ms,
                   "Send serverShutdown at this connection age");
    app.add_option("--shutdown-grace-ms", faults.shutdown_grace_ms,
                   "Close this long after serverShutdown")
        ->capture_default_str();
    app.add_option("--max-connection-age-ms", faults.max_connection_age_ms,
                   "Close connections at this age (24 h limit emulation)");
    app.add_option("--stall-every-ms", faults.stall_every_ms, "Stall stream output periodically");
    app.add_option("--stall-ms", faults.stall_ms, "Length of each stall");
    app.add_option("--gap-every-ms", faults.gap_every_ms,
                   "Withhold one diff per symbol periodically");
    app.add_option("--malformed-every-ms", faults.malformed_every_ms, "Send malformed frames");
    app.add_option("--ping-every-ms", faults.ping_every_ms, "Ping every session periodically");
    app.add_option("--pong-timeout-ms", faults.pong_timeout_ms, "Drop sessions not answering")
        ->capture_default_str();
    app.add_option("--snapshot-delay-ms", faults.snapshot_delay_ms, "Delay REST depth snapshots");
    app.add_option("--max-queued", server_options.max_queued_messages,
                   "Per-session queue limit before a slow consumer is dropped")
        ->capture_default_str();
    app.add_option("--exit-after-ms", exit_after_ms, "Exit after this long (0 = never)");
    app.add_option(
        "--api-key", server_options.orders.api_key,
        "API key the /ws-api/v3 order endpoints accept (default: Binance's doc example)");
    app.add_option("--api-secret", server_options.orders.api_secret,
                   "HMAC secret of --api-key (default: Binance's doc example)");
    std::string ed25519_key_file;
    app.add_option("--api-ed25519-key", ed25519_key_file,
                   "PEM file with the Ed25519 public key of --api-key: requests are verified "
                   "with it instead of --api-secret, and session.logon is accepted");
    std::vector<std::string> balances;
    app.add_option("--balance", balances,
                   "Starting balance of the account, ASSET=AMOUNT (repeatable; spot balances and "
                   "the futures wallet). Default: 0 of a base asset, 100000 of USDT/USD");
    std::vector<std::string> statuses;
    app.add_option("--symbol-status", statuses,
                   "exchangeInfo status of a symbol, SYMBOL=STATUS (repeatable), e.g. "
                   "BTCUSDT=BREAK. Default: TRADING");
    app.add_flag("--hedge-mode", server_options.orders.hedge_mode,
                 "The futures account is in hedge mode: GET /fapi/v1/positionSide/dual says so "
                 "and orders without a LONG or SHORT positionSide are rejected (-4061)");
    bool no_resting_fills = false;
    app.add_flag("--no-resting-fills", no_resting_fills,
                 "A resting order does not fill when the book moves through it: an order through "
                 "the book takes what the top level offers and its rest waits (partial fills)");
    venue::venue_limits limits;
    app.add_option("--weight-limit", limits.spot_weight_per_minute,
                   "Spot WebSocket API request weight per minute (advertised; enforced when given)")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    app.add_option("--order-limit-10s", limits.spot_orders_per_10s, "Spot new orders per 10 s")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    app.add_option("--order-limit-day", limits.spot_orders_per_day, "Spot new orders per day")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    app.add_option("--futures-weight-limit", limits.futures_weight_per_minute,
                   "USD-M futures request weight per minute")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    app.add_option("--futures-order-limit-10s", limits.futures_orders_per_10s,
                   "USD-M futures new orders per 10 s")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    app.add_option("--futures-order-limit-1m", limits.futures_orders_per_minute,
                   "USD-M futures new orders per minute")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    app.add_option("--ban-ms", limits.ban_ms,
                   "How long a client that sends again before the end of a request-weight 429 "
                   "is banned (418 to every request), ms")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    app.add_flag("--enforce-limits", limits.enforced,
                 "Refuse requests over the limits (429 -1003 / -1015); without it, and without "
                 "any limit flag, requests are counted and reported only");
    app.add_flag("--verbose", server_options.verbose, "Log sessions and control requests");

    CLI11_PARSE(app, argc, argv);
    server_options.orders.resting_fills = !no_resting_fills;
    for (const std::string& text : balances) {
        const auto balance = venue::parse_balance(text);
        if (!balance) {
            std::fprintf(stderr, "quoter-venue: --balance %s is not ASSET=AMOUNT\n", text.c_str());
            return 2;
        }
        server_options.orders.balances_e8.push_back(*balance);
    }
    std::map<std::string, std::string, std::less<>> symbol_status;
    for (const std::string& text : statuses) {
        const std::size_t eq = text.find('=');
        const auto status_char = [](char c) { return (c >= 'A' && c <= 'Z') || c == '_'; };
        if (eq == std::string::npos || eq == 0 || eq + 1 == text.size() ||
            !std::all_of(text.begin() + static_cast<std::ptrdiff_t>(eq) + 1, text.end(),
                         status_char)) {
            std::fprintf(stderr,
                         "quoter-venue: --symbol-status %s is not SYMBOL=STATUS (STATUS in "
                         "capitals, e.g. BREAK)\n",
                         text.c_str());
            return 2;
        }
        std::string name = text.substr(0, eq);
        for (char& c : name) {
            c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        }
        symbol_status[name] = text.substr(eq + 1);
    }
    if (!ed25519_key_file.empty()) {
        std::ifstream file(ed25519_key_file);
        std::stringstream text;
        text << file.rdbuf();
        if (!file || !venue::ed25519_verifier::from_public_pem(text.str())) {
            std::fprintf(stderr, "quoter-venue: %s is not an Ed25519 public key in PEM\n",
                         ed25519_key_file.c_str());
            return 2;
        }
        server_options.orders.api_ed25519_public_pem = text.str();
    }

    std::signal(SIGINT, request_stop);
    std::signal(SIGTERM, request_stop);
    std::signal(SIGPIPE, SIG_IGN);

    net::io_loop loop;
    venue::market_state market;
    market.futures = futures;
    market.symbol_status = std::move(symbol_status);
    for (const char* flag :
         {"--weight-limit", "--order-limit-10s", "--order-limit-day", "--futures-weight-limit",
          "--futures-order-limit-10s", "--futures-order-limit-1m"}) {
        limits.enforced = limits.enforced || app.count(flag) > 0;
    }
    market.limits = limits;
    auto server = std::make_unique<venue::venue_server>(loop, market, server_options);
    std::unique_ptr<venue::replay_market> replay;
    std::unique_ptr<venue::synthetic_market> generator;

    if (!replay_files.empty()) {
        replay = std::make_unique<venue::replay_market>(loop, market, *server,
                                                        venue::replay_options{replay_files, speed});
        const auto loaded = replay->load();
        if (!loaded) {
            std::fprintf(stderr, "quoter-venue: %s\n", loaded.error().c_str());
            return 1;
        }
        for (std::size_t i = 0; i < market.size(); ++i) {
            market.at(i).tick_size = tick_size;
            market.at(i).step_size = step_size;
        }
        std::fprintf(stderr, "quoter-venue: replaying %zu events of %zu symbols at speed %g\n",
                     *loaded, market.size(), speed);
        venue::replay_market* const player = replay.get();
        if (replay_start == "now") {
            player->start();
        } else {
            server->on_first_subscriber = [player] { player->start(); };
        }
        server->extra_stats = [player] {
            const auto& progress = player->progress();
            return "\"replay_events\":" + std::to_string(progress.events) +
                   ",\"replayed\":" + std::to_string(progress.replayed) +
                   ",\"replay_finished\":" + (progress.finished ? "true" : "false");
        };
    } else {
        synthetic.symbols = split_symbols(symbol_list);
        for (std::size_t i = 0; i < synthetic_count; ++i) {
            char name[32];
            std::snprintf(name, sizeof name, "SYN%03zuUSDT", i);
            synthetic.symbols.emplace_back(name);
        }
        if (synthetic.symbols.empty()) {
            synthetic.symbols = {"BTCUSDT", "ETHUSDT"};
        }
        generator = std::make_unique<venue::synthetic_market>(loop, market, *server, synthetic);
        generator->start();
    }

    for (const auto& [name, status] : market.symbol_status) {
        if (!market.find(name)) {
            std::fprintf(stderr,
                         "quoter-venue: --symbol-status names %s, which the venue does "
                         "not serve\n",
                         name.c_str());
            return 2;
        }
    }

    const auto port = server->listen();
    if (!port) {
        std::fprintf(stderr, "quoter-venue: %s\n", port.error().c_str());
        return 1;
    }
    std::printf("listening %s:%u\n", server_options.host.c_str(), static_cast<unsigned>(*port));
    std::fflush(stdout);

    const auto started = std::chrono::steady_clock::now();
    while (!stop_requested.load()) {
        loop.run_for(std::chrono::milliseconds(50));
        if (loop.stopped()) {
            loop.restart();
        }
        if (exit_after_ms > 0 &&
            std::chrono::steady_clock::now() - started > std::chrono::milliseconds(exit_after_ms)) {
            break;
        }
    }
    server->shutdown();
    loop.run_for(std::chrono::milliseconds(50));
    generator.reset();
    replay.reset();
    server.reset();
    return 0;
}
