// Binance endpoint presets.
#include "quoter/net/endpoints.hpp"

#include <string>

namespace quoter::net {

binance_endpoints binance_mainnet() {
    return {};
}

binance_endpoints binance_testnet() {
    binance_endpoints endpoints;
    endpoints.spot_ws = "wss://stream.testnet.binance.vision";
    endpoints.futures_public_ws = "wss://fstream.binancefuture.com";
    endpoints.futures_market_ws = "wss://fstream.binancefuture.com";
    endpoints.spot_rest = "https://testnet.binance.vision";
    endpoints.futures_rest = "https://testnet.binancefuture.com";
    return endpoints;
}

binance_endpoints local_venue_endpoints(std::string_view host, std::uint16_t port, bool tls) {
    const std::string authority = std::string(host) + ":" + std::to_string(port);
    const std::string ws = (tls ? "wss://" : "ws://") + authority;
    const std::string http = (tls ? "https://" : "http://") + authority;
    binance_endpoints endpoints;
    endpoints.spot_ws = ws;
    endpoints.futures_public_ws = ws + "/public";
    endpoints.futures_market_ws = ws + "/market";
    endpoints.spot_rest = http;
    endpoints.futures_rest = http;
    return endpoints;
}

const std::string& futures_stream_base(const binance_endpoints& endpoints,
                                       std::string_view stream) noexcept {
    const std::size_t at = stream.find('@');
    const std::string_view kind = at == std::string_view::npos ? "" : stream.substr(at + 1);
    if (kind.starts_with("depth") || kind == "bookTicker") {
        return endpoints.futures_public_ws;
    }
    return endpoints.futures_market_ws;
}

} // namespace quoter::net
