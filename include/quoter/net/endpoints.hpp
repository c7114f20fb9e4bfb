// Binance endpoints: where market-data WebSockets and REST requests go. Every field is a plain
// URL so configuration can point any of them at a testnet or at the local venue.
//
// USD-M futures market streams are split by Binance into a "/public" path (high-frequency book
// data: depth, bookTicker) and a "/market" path (aggTrade and the other market streams); the
// stream path ("/stream?streams=..." or "/ws/...") is appended after that prefix.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace quoter::net {

struct binance_endpoints {
    /// Spot streams. Also serves port 443; wss://data-stream.binance.vision is market-data only.
    std::string spot_ws = "wss://stream.binance.com:9443";
    /// USD-M futures depth and bookTicker streams.
    std::string futures_public_ws = "wss://fstream.binance.com/public";
    /// USD-M futures aggTrade and other market streams.
    std::string futures_market_ws = "wss://fstream.binance.com/market";
    /// Spot REST: /api/v3/depth, /api/v3/exchangeInfo.
    std::string spot_rest = "https://api.binance.com";
    /// USD-M futures REST: /fapi/v1/depth, /fapi/v1/exchangeInfo.
    std::string futures_rest = "https://fapi.binance.com";
};

/// Production endpoints (the defaults above).
[[nodiscard]] binance_endpoints binance_mainnet();

/// Spot testnet (testnet.binance.vision) and USD-M futures testnet (binancefuture.com). The
/// futures testnet has no public/market split, so both futures stream URLs are its root.
[[nodiscard]] binance_endpoints binance_testnet();

/// Every endpoint on a local quoter-venue at host:port (ws/http, or wss/https when tls). The
/// venue accepts the futures "/public" and "/market" prefixes, so those are kept.
[[nodiscard]] binance_endpoints local_venue_endpoints(std::string_view host, std::uint16_t port,
                                                      bool tls);

/// The futures stream URL a stream belongs to: futures_public_ws for "<s>@depth..." and
/// "<s>@bookTicker", futures_market_ws for everything else (aggTrade, markPrice, kline...).
[[nodiscard]] const std::string& futures_stream_base(const binance_endpoints& endpoints,
                                                     std::string_view stream) noexcept;

} // namespace quoter::net
