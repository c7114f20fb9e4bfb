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
    /// Book capacity per side, in levels; 0 (auto): twice snapshot_limit (see
    /// book_levels_for). The deep part of a book costs about 64 bytes a level of capacity a
    /// side (its block pool is sized for the worst fill), so capacity far past what the
    /// snapshots and diffs fill only costs memory: 8,192 levels is about 1 MiB a book.
    std::uint32_t book_levels = 0;
    /// Dense window at the top of each book side, in ticks (8 bytes a tick a side); 0 (auto):
    /// sized from the book's first price (md::order_book::window_ticks_for: 65,536 ticks for
    /// BTCUSDT, the 4,096-tick minimum for symbols priced under 524,288 ticks).
    std::uint32_t book_window_ticks = 0;
    /// Extra CA certificate file trusted for wss:// and https:// (a local venue's throw-away
    /// CA); resolved relative to the config file; empty: the system store only.
    std::string extra_ca_file;
};

/// Levels per side a book gets for settings: book_levels, or twice snapshot_limit when it is 0
/// (auto), so that a snapshot fits with as many levels again for the diffs to add below it.
[[nodiscard]] std::uint32_t book_levels_for(const market_data_settings& settings) noexcept;

/// Declares and reads [market_data] into `out`, whose values are the defaults. `futures`: the
/// feed is Binance USD-M futures (engine.market), whose depth intervals and snapshot limit
/// differ from spot's.
void read_market_data_settings(config::section s, market_data_settings& out, bool futures);

} // namespace quoter::live
