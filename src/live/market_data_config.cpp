// Reading [market_data]. Every key is declared once, with the struct's own default;
// docs/config.md lists them (the app tests compare). Declaration order is the order
// `quoter config check` lists the keys in.
#include "quoter/live/market_data_config.hpp"

#include "quoter/config/config.hpp"

#include <fmt/format.h>

#include <array>

namespace quoter::live {
namespace {

constexpr std::array<config::choice_option<trade_stream>, 3> trade_streams{{
    {"agg_trade", trade_stream::agg_trade},
    {"trade", trade_stream::trade},
    {"none", trade_stream::none},
}};

} // namespace

std::uint32_t book_levels_for(const market_data_settings& settings) noexcept {
    return settings.book_levels != 0 ? settings.book_levels : 2 * settings.snapshot_limit;
}

void read_market_data_settings(config::section s, market_data_settings& out, bool futures) {
    out.depth_interval_ms =
        s.integer("depth_interval_ms", out.depth_interval_ms, {.min = 0, .max = 1000, .unit = "ms"},
                  "Depth diff interval: spot 100 or 1000, USD-M futures 0, 100, 250 or 500");
    const bool interval_ok = futures
                                 ? (out.depth_interval_ms == 0 || out.depth_interval_ms == 100 ||
                                    out.depth_interval_ms == 250 || out.depth_interval_ms == 500)
                                 : (out.depth_interval_ms == 100 || out.depth_interval_ms == 1000);
    if (!interval_ok) {
        s.error("depth_interval_ms",
                fmt::format("Binance {} depth streams come every {}; found {}",
                            futures ? "USD-M futures" : "spot",
                            futures ? "0, 100, 250 or 500 ms" : "100 or 1000 ms",
                            out.depth_interval_ms));
    }
    out.book_ticker = s.boolean("book_ticker", out.book_ticker,
                                "Subscribe to bookTicker, which refreshes the top between diffs");
    out.trades = s.choice("trades", out.trades, trade_streams,
                          "Trade prints for the queue model and volatility: agg_trade, trade, "
                          "none");
    out.snapshot_limit =
        s.integer("snapshot_limit", out.snapshot_limit, {.min = 5, .max = 5000, .unit = "levels"},
                  "Levels per side of REST depth snapshots (futures: at most "
                  "1000)");
    if (futures && out.snapshot_limit > 1000) {
        s.error("snapshot_limit", fmt::format("/fapi/v1/depth returns at most 1000 levels; "
                                              "found {}",
                                              out.snapshot_limit));
    }
    out.streams_per_connection =
        s.integer("streams_per_connection", out.streams_per_connection, {.min = 1, .max = 1024},
                  "Streams per WebSocket connection (Binance allows 1024)");
    out.stale_after_ms =
        s.duration_ms("stale_after_ms", out.stale_after_ms, {.min = 1, .max = 3'600'000},
                      "A synced book with no update for this long turns stale (quotes pulled)");
    out.reconnect_after_stale_ms = s.duration_ms(
        "reconnect_after_stale_ms", out.reconnect_after_stale_ms, {.min = 0, .max = 3'600'000},
        "A connection silent for this long is replaced; 0: never");
    out.book_levels =
        s.integer("book_levels", out.book_levels, {.min = 0, .max = 1'000'000, .unit = "levels"},
                  "Order book capacity per side; 0: twice snapshot_limit");
    if (out.book_levels != 0 && out.book_levels < out.snapshot_limit) {
        s.error("book_levels", fmt::format("is below snapshot_limit ({}): snapshots would be "
                                           "truncated",
                                           out.snapshot_limit));
    }
    out.book_window_ticks = s.integer(
        "book_window_ticks", out.book_window_ticks, {.min = 0, .max = 1 << 20, .unit = "ticks"},
        "Dense window at the top of each book side (8 bytes a tick a side), rounded "
        "up to a power of two; 0: sized from the book's first price");
    if (out.book_window_ticks != 0 && out.book_window_ticks < 4096) {
        s.error("book_window_ticks",
                fmt::format("is 0 (sized from the price) or at least 4096; found {}",
                            out.book_window_ticks));
    }
    out.extra_ca_file =
        s.file_path("extra_ca_file", "Extra CA certificate (PEM) trusted for wss:// and https://, "
                                     "e.g. a local venue's; relative to this file");
}

} // namespace quoter::live
