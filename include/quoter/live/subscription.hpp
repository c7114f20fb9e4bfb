// subscription: which Binance streams and REST endpoints serve a set of symbols, shared by the
// live market-data service and the recorder.
//
// Per symbol, in this order: `<s>@depth...` (the diff stream its book is synced from), then
// `<s>@bookTicker` and the trade stream when enabled. Spot streams all go to the spot endpoint;
// USD-M futures depth and bookTicker go to the "/public" endpoint and trades to "/market", so a
// futures subscription needs two stream sets.
//
// Start-up code: allocates freely.
#pragma once

#include "quoter/core/result.hpp"
#include "quoter/live/market_data_config.hpp"
#include "quoter/md/exchange_info.hpp"
#include "quoter/md/instrument.hpp"
#include "quoter/net/endpoints.hpp"
#include "quoter/net/io_loop.hpp"
#include "quoter/net/rest_client.hpp"

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace quoter::live {

struct subscription_config {
    md::market venue = md::market::spot;
    /// Exchange symbol names ("BTCUSDT"); any letter case.
    std::vector<std::string> symbols;
    /// Depth diff interval, in milliseconds: spot 100 or 1000; futures 0, 100, 250 or 500. The
    /// venue's default interval (1000 spot, 250 futures) subscribes the bare `<s>@depth`.
    std::int32_t depth_interval_ms = 100;
    bool book_ticker = true;
    trade_stream trades = trade_stream::agg_trade;
    /// `limit` of REST depth snapshots, in levels per side (Binance: up to 5,000 spot, 1,000
    /// futures).
    std::uint32_t snapshot_limit = 1000;
};

/// One WebSocket endpoint and the streams it carries.
struct stream_set {
    std::string base_url;
    std::vector<std::string> streams;
};

/// Upper-cased symbol name.
[[nodiscard]] std::string upper_symbol(std::string_view name);
/// Lower-cased symbol name, as stream names spell it.
[[nodiscard]] std::string lower_symbol(std::string_view name);

/// Depth stream name of a symbol: "btcusdt@depth@100ms" (or "btcusdt@depth").
[[nodiscard]] std::string depth_stream(const subscription_config& config, std::string_view symbol);

/// The stream sets of a subscription: one for spot; for futures the "/public" set and, when
/// trades are subscribed, the "/market" set.
[[nodiscard]] std::vector<stream_set> stream_sets(const subscription_config& config,
                                                  const net::binance_endpoints& endpoints);

/// REST origin for snapshots and exchangeInfo of the market.
[[nodiscard]] const std::string& rest_origin(md::market venue,
                                             const net::binance_endpoints& endpoints) noexcept;
/// "/api/v3/depth?symbol=BTCUSDT&limit=1000" (or /fapi/v1/depth).
[[nodiscard]] std::string snapshot_target(md::market venue, std::string_view symbol,
                                          std::uint32_t limit);
/// "/api/v3/exchangeInfo" or "/fapi/v1/exchangeInfo".
[[nodiscard]] std::string_view exchange_info_target(md::market venue) noexcept;

enum class instruments_error : std::uint8_t {
    none,
    unavailable,    ///< REST failed (or was not asked) and no usable cache file exists.
    unknown_symbol, ///< A requested symbol is not in exchangeInfo.
    bad_filters,    ///< A requested symbol's filters do not make a valid spec.
    stopped,        ///< The stop flag was raised while waiting.
};

[[nodiscard]] std::string_view describe(instruments_error error) noexcept;

struct instruments_config {
    /// Cache of the raw exchangeInfo body; "" for none. Written after every successful fetch,
    /// read when the fetch fails or when offline is set.
    std::string cache_path;
    /// Use the cache only (no REST request).
    bool offline = false;
    /// Bound on the REST request, in milliseconds.
    std::int64_t timeout_ms = 10'000;
};

/// Where the symbol filters came from.
enum class instruments_source : std::uint8_t { rest, cache };

/// Fetches exchangeInfo from the market's REST origin (running loop on the calling thread, which
/// must be the loop's thread, until the answer or the timeout), saves it to the cache, and
/// registers the symbols (in the given order, so symbol ids follow config.symbols). Falls back
/// to the cache when REST fails.
[[nodiscard]] core::result<instruments_source, instruments_error>
load_instruments(net::io_loop& loop, net::rest_client& rest, const subscription_config& config,
                 const instruments_config& source, md::symbol_registry& registry,
                 const std::atomic<bool>* stop_flag = nullptr);

} // namespace quoter::live
