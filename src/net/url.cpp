// URL parsing for endpoint configuration. Not on any hot path.
#include "quoter/net/url.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace quoter::net {

std::string_view describe(url_error error) noexcept {
    switch (error) {
    case url_error::none:
        return "no error";
    case url_error::missing_scheme:
        return "missing scheme:// prefix";
    case url_error::unsupported_scheme:
        return "scheme is not ws, wss, http or https";
    case url_error::missing_host:
        return "missing host";
    case url_error::bad_port:
        return "port is not a number in 1..65535";
    }
    return "unknown error";
}

std::string url::host_header() const {
    const bool default_port = port == (tls ? 443 : 80);
    const bool ipv6 = host.find(':') != std::string::npos;
    std::string value = ipv6 ? "[" + host + "]" : host;
    if (!default_port) {
        value += ':';
        value += std::to_string(port);
    }
    return value;
}

bool url::host_is_ip_literal() const {
    if (host.find(':') != std::string::npos) {
        return true; // only IPv6 literals contain ':' once the port is split off
    }
    int dots = 0;
    std::size_t digits = 0;
    for (const char c : host) {
        if (c == '.') {
            if (digits == 0) {
                return false;
            }
            ++dots;
            digits = 0;
        } else if (c >= '0' && c <= '9') {
            ++digits;
        } else {
            return false;
        }
    }
    return dots == 3 && digits > 0;
}

core::result<url, url_error> parse_url(std::string_view text) {
    const std::size_t scheme_end = text.find("://");
    if (scheme_end == std::string_view::npos || scheme_end == 0) {
        return core::unexpected{url_error::missing_scheme};
    }
    url parsed;
    parsed.scheme.assign(text.substr(0, scheme_end));
    std::transform(parsed.scheme.begin(), parsed.scheme.end(), parsed.scheme.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (parsed.scheme == "wss" || parsed.scheme == "https") {
        parsed.tls = true;
    } else if (parsed.scheme != "ws" && parsed.scheme != "http") {
        return core::unexpected{url_error::unsupported_scheme};
    }

    std::string_view rest = text.substr(scheme_end + 3);
    const std::size_t path_begin = rest.find_first_of("/?");
    std::string_view authority = rest.substr(0, path_begin);
    if (path_begin != std::string_view::npos) {
        parsed.path.assign(rest.substr(path_begin));
        if (parsed.path.front() == '?') {
            parsed.path.insert(parsed.path.begin(), '/');
        }
    }

    std::string_view port_text;
    if (!authority.empty() && authority.front() == '[') {
        const std::size_t close = authority.find(']');
        if (close == std::string_view::npos) {
            return core::unexpected{url_error::missing_host};
        }
        parsed.host.assign(authority.substr(1, close - 1));
        const std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') {
                return core::unexpected{url_error::bad_port};
            }
            port_text = after.substr(1);
            if (port_text.empty()) {
                return core::unexpected{url_error::bad_port};
            }
        }
    } else {
        const std::size_t colon = authority.rfind(':');
        if (colon != std::string_view::npos) {
            port_text = authority.substr(colon + 1);
            authority = authority.substr(0, colon);
            if (port_text.empty()) {
                return core::unexpected{url_error::bad_port};
            }
        }
        parsed.host.assign(authority);
    }
    if (parsed.host.empty()) {
        return core::unexpected{url_error::missing_host};
    }

    if (port_text.empty()) {
        parsed.port = parsed.tls ? 443 : 80;
    } else {
        unsigned value = 0;
        const auto [end, ec] =
            std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
        if (ec != std::errc{} || end != port_text.data() + port_text.size() || value == 0 ||
            value > 65535) {
            return core::unexpected{url_error::bad_port};
        }
        parsed.port = static_cast<std::uint16_t>(value);
    }
    return parsed;
}

} // namespace quoter::net
