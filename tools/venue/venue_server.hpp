// venue_server: the network side of quoter-venue. One listening port on 127.0.0.1 (TLS when a
// certificate is given, else plain) serves, per request:
// - WebSocket upgrades at /stream?streams=a/b/c (combined) and /ws/a/b/c (raw), optionally
//   behind a prefix such as /public or /market (USD-M futures), plus SUBSCRIBE,
//   UNSUBSCRIBE and LIST_SUBSCRIPTIONS requests on open connections. In the futures flavour a
//   prefix serves what Binance's does: /public depth and bookTicker, /market trades and
//   aggTrades, no prefix as /public; other streams are refused (not subscribed, counted);
// - REST GET /api/v3/depth, /fapi/v1/depth, /api/v3/exchangeInfo, /fapi/v1/exchangeInfo,
//   /api/v3/ping, /api/v3/time (and the /fapi/v1 twins; the futures flavour answers only
//   those, as fapi.binance.com does), HTTP/1.1 keep-alive;
// - the spot WebSocket API at /ws-api/v3: order.place, order.cancel, openOrders.cancelAll with
//   HMAC signature checks, matched by the simulated exchange (order_api);
// - fault injection under /control/ (GET or POST): drop[?session=&path=&mode=close],
//   stall?ms=[&path=] (path: only the sessions opened under that prefix), gap?count=&symbol=,
//   malformed?kind=truncated|garbage|binary, snapshot_delay?ms=, shutdown?after_ms=,
//   ping?timeout_ms=, and stats (JSON counters).
// Everything runs on one io_loop thread. Each WebSocket session has a write queue with one
// write in flight; a session whose queue exceeds max_queued_messages is dropped, as Binance
// drops slow consumers.
#pragma once

#include "market.hpp"
#include "order_api.hpp"

#include "quoter/core/result.hpp"
#include "quoter/net/io_loop.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace quoter::venue {

/// Faults applied automatically; all 0 = off. The same faults can be triggered through
/// /control/ at any time.
struct fault_options {
    std::int64_t drop_after_ms = 0;         ///< Drop each WebSocket (TCP close) at this age.
    std::int64_t shutdown_after_ms = 0;     ///< Send serverShutdown at this connection age...
    std::int64_t shutdown_grace_ms = 1'000; ///< ...and close it (1001) this much later.
    std::int64_t max_connection_age_ms = 0; ///< Close (1001) at this age, like the 24 h limit.
    std::int64_t stall_every_ms = 0;        ///< Every so often, hold all stream output...
    std::int64_t stall_ms = 0;              ///< ...for this long (then send the backlog).
    std::int64_t gap_every_ms = 0;          ///< Withhold one depth diff of every symbol.
    std::int64_t malformed_every_ms = 0;    ///< Send a truncated JSON frame to every session.
    std::int64_t ping_every_ms = 0;         ///< Ping every session...
    std::int64_t pong_timeout_ms = 1'000;   ///< ...and drop it if no pong comes back in time.
    std::int64_t snapshot_delay_ms = 0;     ///< Delay of REST depth snapshots.
};

struct server_options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 0; ///< 0 picks a free port.
    std::string cert_file;  ///< PEM certificate chain; with key_file enables TLS.
    std::string key_file;
    fault_options faults;
    order_api_options orders; ///< Key and secret of the /ws-api/v3 order endpoints.
    std::size_t max_queued_messages = 200'000;
    bool verbose = false; ///< Log connections and control requests to stderr.
};

class venue_server final : public market_sink {
public:
    venue_server(net::io_loop& loop, market_state& market, server_options options);
    ~venue_server();
    venue_server(const venue_server&) = delete;
    venue_server& operator=(const venue_server&) = delete;

    /// Binds and starts accepting. Returns the bound port.
    [[nodiscard]] core::result<std::uint16_t, std::string> listen();
    /// Stops accepting and closes every session.
    void shutdown();

    void publish(std::size_t symbol, channel kind, std::string_view data) override;

    /// Called once, when the first WebSocket session subscribes to something.
    std::function<void()> on_first_subscriber;
    /// Extra members for /control/stats, as `"key":value` pairs joined by commas.
    std::function<std::string()> extra_stats;

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

} // namespace quoter::venue
