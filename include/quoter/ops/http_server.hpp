// http_server: the loopback HTTP control plane. GET /health, /ready, /status (JSON) and /metrics
// (Prometheus text 0.0.4); POST /kill, /pause, /resume and /flatten, each with a bearer token,
// handed to the core through the control_channel with source http.
//
// Threading: the server runs its own I/O thread. It never touches trading state: it reads the
// status_board the core publishes and the metrics registry's atomics, and writes only to the
// control channel's flags and producer side. Boost.Asio and Beast stay in the .cpp file.
//
// Robustness: each connection holds one bounded parser (header and body limits) and one
// deadline; a connection that has not delivered a complete request within request_timeout (an
// idle keep-alive or a client trickling bytes) is closed, as is one whose response cannot be
// written within write_timeout. Connections beyond max_connections are closed on accept.
#pragma once

#include "quoter/config/secret.hpp"
#include "quoter/core/result.hpp"
#include "quoter/ops/control.hpp"
#include "quoter/ops/metrics.hpp"
#include "quoter/ops/status.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace quoter::ops {

/// The [http] configuration section.
struct http_settings {
    /// Serve the control plane at all.
    bool enabled = false;
    /// IP address to listen on; anything but a loopback address needs a token.
    std::string bind_address = "127.0.0.1";
    /// TCP port; 0 picks a free one (tests).
    std::uint16_t port = 9464;
    /// Connections served at once; more are closed on accept. Never more than half the
    /// process's descriptor limit (see connection_cap).
    std::uint32_t max_connections = 4096;
    /// A connection must deliver a complete request within this long after it opened or after
    /// its previous response (idle keep-alive included), else it is closed.
    std::chrono::milliseconds request_timeout_ms{30'000};
    /// A response must be written within this long.
    std::chrono::milliseconds write_timeout_ms{5'000};
    /// Largest request head (request line and headers) accepted, bytes.
    std::uint32_t max_header_bytes = 8192;
};

/// What the server reads and writes. Every pointer must outlive the server; null ones answer
/// 503 on the endpoints that need them.
struct http_sources {
    control_channel* control = nullptr;
    const status_board* status = nullptr;
    const metrics_registry* metrics = nullptr;
};

/// Counts kept by the server's thread, readable from any thread.
struct http_server_stats {
    std::uint64_t requests = 0;
    std::uint64_t auth_failures = 0;
    std::uint64_t foreign_hosts = 0; ///< Refused: a Host that is not loopback (is_loopback_host).
    std::uint64_t commands = 0;      ///< Write requests accepted.
    std::uint64_t connections_open = 0;
    std::uint64_t connections_refused = 0; ///< Closed on accept: max_connections reached.
    std::uint64_t timeouts = 0;            ///< Connections closed by a deadline.
};

class http_server {
public:
    /// Binds, listens and starts the I/O thread. Fails with a message for an unparsable
    /// address, a non-loopback address without a token, or a bind/listen error.
    [[nodiscard]] static core::result<std::unique_ptr<http_server>, std::string>
    start(const http_settings& settings, config::secret token, http_sources sources);

    ~http_server();
    http_server(const http_server&) = delete;
    http_server& operator=(const http_server&) = delete;

    /// The port actually bound (useful with port 0).
    [[nodiscard]] std::uint16_t port() const noexcept;
    /// "127.0.0.1:9464".
    [[nodiscard]] std::string endpoint() const;
    [[nodiscard]] http_server_stats stats() const noexcept;
    /// Connections served at once (http_settings::max_connections under connection_cap).
    [[nodiscard]] std::uint32_t max_connections() const noexcept;
    /// Stops accepting, closes every connection and joins the thread. Idempotent.
    void stop();

    struct impl;

private:
    explicit http_server(std::unique_ptr<impl> state);
    std::unique_ptr<impl> impl_;
};

/// Connections the server holds at most: `configured`, but never more than half of
/// `descriptor_limit` (the process's RLIMIT_NOFILE): the HTTP port needs no token to be
/// connected to, and connections that took every descriptor would leave none for the state
/// file that records a kill, the journal or the venue's sockets. At least 1.
[[nodiscard]] std::uint32_t connection_cap(std::uint32_t configured,
                                           std::uint64_t descriptor_limit) noexcept;

/// True when `address` is an IPv4 or IPv6 literal.
[[nodiscard]] bool is_ip_address(std::string_view address);

/// True when `address` is an IPv4 127.0.0.0/8 or IPv6 ::1 literal (v4-mapped included).
[[nodiscard]] bool is_loopback_address(std::string_view address);

/// True when an HTTP Host header names this machine's loopback interface: `localhost`, a
/// loopback literal (`127.0.0.1`, `[::1]`), each with or without a port. A server bound to
/// loopback answers only these: a web page whose own name an attacker re-points at 127.0.0.1
/// (DNS rebinding) reaches the port with its own name as the Host, and would otherwise read
/// /status and /metrics from the victim's browser.
[[nodiscard]] bool is_loopback_host(std::string_view host);

/// Compares a presented token with the expected one in time that depends on neither content
/// (both are hashed with SHA-256, then the digests compared in constant time). An empty
/// expected token matches nothing.
[[nodiscard]] bool token_matches(const config::secret& expected, std::string_view presented);

} // namespace quoter::ops
