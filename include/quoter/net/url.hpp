// url: the small subset of URLs the Binance endpoints use (scheme://host[:port][/path][?query]),
// parsed once at configuration time. Schemes: ws, wss, http, https. IPv6 literals in brackets.
#pragma once

#include "quoter/core/result.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace quoter::net {

enum class url_error : std::uint8_t {
    none,
    missing_scheme,     ///< No "scheme://" prefix.
    unsupported_scheme, ///< Not ws, wss, http or https.
    missing_host,
    bad_port, ///< Not a number in 1..65535.
};

[[nodiscard]] std::string_view describe(url_error error) noexcept;

struct url {
    std::string scheme;     ///< Lower case: "wss", "ws", "https" or "http".
    std::string host;       ///< Without the brackets of an IPv6 literal.
    std::uint16_t port = 0; ///< The explicit port, else the scheme's default (443 or 80).
    std::string path;       ///< From the first '/' on, query included; "" when absent.
    bool tls = false;       ///< wss or https.

    /// Value for the HTTP Host header: host, plus ":port" when the port is not the default.
    [[nodiscard]] std::string host_header() const;
    /// True when host is an IPv4 or IPv6 literal (no SNI is sent for those).
    [[nodiscard]] bool host_is_ip_literal() const;
};

[[nodiscard]] core::result<url, url_error> parse_url(std::string_view text);

} // namespace quoter::net
