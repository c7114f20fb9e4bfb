// market_data_config: the settings of the live Binance market-data feed ([market_data]: streams,
// snapshots, connections, staleness, book sizing, extra CA) of `quoter record` and the paper and
// live sessions, and their reader. The live module owns these keys: each is declared once in
// market_data_config.cpp with the struct's own default, range and description; the app only
// calls the reader and maps the settings onto a subscription and a feed session.
//
// Start-up code: allocates, never on the hot path.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace quoter::config {
class section;
} // namespace quoter::config

namespace quoter::live {

/// Which trade prints to subscribe. Only one kind, because trade ids ("t") and aggregate ids
/// ("a") are different sequences and duplicates are dropped by id.
enum class trade_stream : std::uint8_t { none, trade, agg_trade };

/// [market_data]: the Binance market-data feed of `quoter record` and
/// `quoter run --mode paper_exchange`.
struct market_data_settings {
    /// Depth diff interval: spot 100 or 1000 ms, USD-M futures 0, 100, 250 or 500 ms.
    std::int32_t depth_interval_ms = 100;
    /// Subscribe to bookTicker (refreshes the top between diffs).
    bool book_ticker = true;
    trade_stream trades = trade_stream::agg_trade;
    /// Levels per side of the REST depth snapshots (spot up to 5,000, futures up to 1,000).
    std::uint32_t snapshot_limit = 1000;
    /// Streams per WebSocket connection; more symbols open more connections.
    std::uint32_t streams_per_connection = 200;
    /// A synced book with no update for this long turns stale (quotes are pulled).
    std::chrono::milliseconds stale_after_ms{5000};
    /// A connection silent for this long is replaced; 0: never.
    std::chrono::milliseconds reconnect_after_stale_ms{60000};
    /// Book capacity per side, in levels.
    std::uint32_t book_levels = 8192;
    /// Dense window at the top of each book side, in ticks (8 bytes a tick a side).
    std::uint32_t book_window_ticks = 65536;
    /// Extra CA certificate file trusted for wss:// and https:// (a local venue's throw-away
    /// CA); resolved relative to the config file; empty: the system store only.
    std::string extra_ca_file;
};

/// Declares and reads [market_data] into `out`, whose values are the defaults. `futures`: the
/// feed is Binance USD-M futures (engine.market), whose depth intervals and snapshot limit
/// differ from spot's.
void read_market_data_settings(config::section s, market_data_settings& out, bool futures);

} // namespace quoter::live
