// recorder: captures live market data to gzip files that `quoter backtest` (md::capture_replayer)
// replays through the same decode and sync code, reproducing the books built live.
//
// Output, per symbol: `<out_dir>/<spot|futures>-<symbol lower>-YYYYMMDD-HH.gz` (UTC hour of the
// line's timestamp; a new file each hour), one line per message:
//     <local receive ns> <message text exactly as received>
// and each REST depth snapshot the book sync asked for as a bare body line
// (`<ns> {"lastUpdateId":...}`), written where it was applied, i.e. between the stream messages
// received before and after its response. This is the format of ../shared/data/binance/*.gz.
// One symbol per file, because a snapshot body names no symbol and the replayer gives it to the
// symbol of the file. The exchangeInfo body is saved beside them as
// `<spot|futures>-exchangeInfo.json` (the instruments cache), so a replay has the same filters.
//
// The recorder runs the same transport session and book sync as the live service, so it
// re-snapshots after gaps exactly when a live process would, and keeps messages that arrive twice
// during a connection rollover out of the file (by update id). Replay equals live as long as no
// connection was lost during the recording: a lost connection appears in the file as an
// update-id gap, which the replay resolves with the next recorded snapshot.
//
// Threading: run_recorder() runs its own io_loop on the calling thread and returns when done.
#pragma once

#include "quoter/core/book_level.hpp"
#include "quoter/core/result.hpp"
#include "quoter/live/market_data_service.hpp"
#include "quoter/live/subscription.hpp"
#include "quoter/md/feed_state.hpp"
#include "quoter/md/order_book.hpp"
#include "quoter/net/endpoints.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace quoter::live {

struct recorder_config {
    /// Market, depth interval, book ticker and trade streams, snapshot depth (symbols are
    /// ignored: they are run_recorder's argument).
    subscription_config subscription;
    /// Transport settings; endpoints are replaced by run_recorder's argument, and an empty
    /// instruments.cache_path becomes `<out_dir>/<market>-exchangeInfo.json`.
    session_config session;
    /// zlib level, 1 (fast) to 9 (small).
    int compression_level = 6;
    /// File length, in seconds (hourly files by default).
    std::int64_t rotate_every_s = 3600;
    /// Period between flushes of the files, in ms (bounds what a crash loses).
    std::int64_t flush_interval_ms = 1'000;
    /// Raised by another thread (e.g. a SIGINT handler's flag) to end the recording early.
    const std::atomic<bool>* stop_flag = nullptr;
    /// Log lines (connection changes, malformed samples), on the calling thread.
    std::function<void(std::string_view)> log;
};

/// What was recorded for one symbol, and the book the recorder built from it.
struct recorded_symbol {
    std::string name;               ///< "BTCUSDT".
    std::vector<std::string> files; ///< Files written, in order.
    std::uint64_t lines = 0;        ///< Lines written (messages and snapshots).
    std::uint64_t snapshots = 0;    ///< Snapshot lines written.
    std::uint64_t duplicates = 0;   ///< Messages left out as already recorded.
    std::uint64_t gaps = 0;         ///< Chain breaks seen live.
    md::feed_state final_state = md::feed_state::connecting;
    std::uint64_t final_update_id = 0; ///< book_sync::update_id() at the end.
    /// The full book at the end, best first (ticks and book lots of the symbol's book spec).
    std::vector<core::book_level> final_bids;
    std::vector<core::book_level> final_asks;
};

struct record_summary {
    std::vector<recorded_symbol> symbols; ///< In the order of the symbols argument.
    std::string exchange_info_path;       ///< The saved exchangeInfo body.
    std::uint64_t messages = 0;
    std::uint64_t malformed = 0;
    std::uint64_t reconnects = 0;
    std::uint64_t rollovers = 0;
};

enum class record_error : std::uint8_t {
    none,
    no_symbols,
    bad_directory,  ///< out_dir missing and not creatable.
    instruments,    ///< exchangeInfo unavailable (the REST request failed, no cache).
    unknown_symbol, ///< A symbol is not in exchangeInfo (or its filters are invalid).
    feed,           ///< The stream connections could not be started (bad URL, TLS setup).
    write_failed,   ///< A capture file could not be opened or written.
};

[[nodiscard]] std::string_view describe(record_error error) noexcept;

/// Records symbols (exchange names, any case) from endpoints into out_dir (created if missing)
/// for duration (zero: until config.stop_flag is raised), then closes the connections, flushes
/// and closes the files and returns what was written. Blocks the calling thread.
[[nodiscard]] core::result<record_summary, record_error>
run_recorder(const std::vector<std::string>& symbols, const std::string& out_dir,
             std::chrono::milliseconds duration, const net::binance_endpoints& endpoints,
             const recorder_config& config = {});

} // namespace quoter::live
