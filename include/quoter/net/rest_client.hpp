// rest_client: asynchronous HTTP/1.1 requests to one REST origin (https://api.binance.com, a
// testnet or the local venue) over a small pool of keep-alive connections, on an io_loop.
// Used for depth snapshots (/api/v3/depth, /fapi/v1/depth) and exchangeInfo, and later for
// signed order requests (the caller adds the signature and the X-MBX-APIKEY header).
//
// Requests are served in order of submission by up to max_connections connections. Each has a
// deadline covering connecting, sending and receiving. A GET that fails on a reused keep-alive
// connection before any response byte arrived (the server closed it while idle) is retried once
// on a fresh connection; other methods are never retried because they need not be idempotent.
//
// Threading: construct, call and destroy on the io_loop's thread. Callbacks run on that thread.
// Callbacks of requests still pending when the client is destroyed never run, so they may
// safely capture the client's owner.
#pragma once

#include "quoter/core/time.hpp"
#include "quoter/net/io_loop.hpp"
#include "quoter/net/tls.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace quoter::net {

struct rest_config {
    /// Origin, e.g. "https://api.binance.com" or "http://127.0.0.1:8080"; a path is ignored.
    std::string base_url = "https://api.binance.com";
    tls_config tls;
    std::size_t max_connections = 4;          ///< Concurrent keep-alive connections.
    std::int64_t request_timeout_ms = 10'000; ///< Connect + send + receive, per request.
    std::size_t max_body_bytes = 64u << 20;   ///< Larger responses fail with too_large.
    std::string user_agent = "quoter";
};

enum class http_method : std::uint8_t { get, post, put, del };

struct rest_request {
    http_method method = http_method::get;
    /// Path and query: "/api/v3/depth?symbol=BTCUSDT&limit=1000".
    std::string target;
    /// Extra headers, e.g. {"X-MBX-APIKEY", key}.
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    /// Content-Type of a non-empty body.
    std::string content_type = "application/x-www-form-urlencoded";
    /// Runs on the loop's thread when the request's bytes were written to the socket, before
    /// its answer is read (not when it fails first); may be empty.
    std::function<void()> on_written;
};

enum class rest_error : std::uint8_t {
    none,
    bad_url,   ///< base_url does not parse or is not http/https.
    tls_setup, ///< CA store or extra_ca_file could not be loaded.
    resolve_failed,
    connect_failed,
    tls_failed, ///< Handshake or certificate verification failed.
    timed_out,
    io_error,  ///< Connection lost or malformed response.
    too_large, ///< Body above max_body_bytes.
};

[[nodiscard]] std::string_view describe(rest_error error) noexcept;

struct rest_response {
    rest_error error = rest_error::none;
    std::string error_detail; ///< Transport error text when error != none.
    int status = 0;           ///< HTTP status; 0 on transport errors.
    /// Response body. capacity() >= size() + receive_padding (64) with the padding zeroed, so
    /// simdjson can parse it in place.
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    core::timestamp_ns sent_ns = 0;     ///< Wall clock when the request was written.
    core::timestamp_ns received_ns = 0; ///< Wall clock when the response was complete.

    [[nodiscard]] bool ok() const noexcept {
        return error == rest_error::none && status >= 200 && status < 300;
    }
    /// First header with this name (case-insensitive), "" when absent. E.g.
    /// "X-MBX-USED-WEIGHT-1M" or "Retry-After" for rate-limit handling.
    [[nodiscard]] std::string_view header(std::string_view name) const noexcept;
};

using rest_callback = std::function<void(rest_response&&)>;

class rest_client {
public:
    /// The loop must outlive the client. A bad base_url or CA file makes every request fail
    /// with bad_url or tls_setup.
    rest_client(io_loop& loop, rest_config config);
    ~rest_client();
    rest_client(const rest_client&) = delete;
    rest_client& operator=(const rest_client&) = delete;

    /// GET target ("/api/v3/exchangeInfo"); done runs once, unless the client is destroyed
    /// first.
    void get(std::string target, rest_callback done);
    /// Any request; done runs once, unless the client is destroyed first.
    void send(rest_request request, rest_callback done);

    /// Requests submitted and not yet completed.
    [[nodiscard]] std::size_t pending() const noexcept;
    /// Connections currently held open.
    [[nodiscard]] std::size_t connections() const noexcept;

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

} // namespace quoter::net
