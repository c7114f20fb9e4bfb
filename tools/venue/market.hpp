// Market state of the local venue: per symbol its trading rules, the order book it has
// published (built from the depth diffs it generated or replayed, withheld ones included) and
// the last update id of that book, so that REST snapshots are always consistent with the
// stream position. Books are plain std::maps of decimal strings: this is a test tool, not a
// matching engine.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace quoter::venue {

/// What a WebSocket stream carries. Stream names map onto these: "<s>@depth",
/// "<s>@depth@100ms" and "<s>@depth@0ms" are all the depth channel of <s>.
enum class channel : std::uint8_t { depth, book_ticker, trade, agg_trade };
inline constexpr std::size_t channel_count = 4;

/// Parses "btcusdt@depth@100ms" into its lower-case symbol and channel.
[[nodiscard]] std::optional<std::pair<std::string, channel>> parse_stream(std::string_view name);

using level_list = std::vector<std::pair<std::string, std::string>>; // price, quantity

/// One side of a book, keyed by the price in units of 1e-8 so that it sorts numerically.
class book_side {
public:
    /// quantity "0..." removes the level. Returns false on a malformed price.
    bool set(std::string_view price, std::string_view quantity);
    void clear() { levels_.clear(); }
    [[nodiscard]] std::size_t size() const { return levels_.size(); }
    /// Best first: highest for bids, lowest for asks.
    [[nodiscard]] level_list best(std::size_t limit, bool descending) const;

private:
    std::map<std::int64_t, std::pair<std::string, std::string>> levels_;
};

struct venue_book {
    book_side bids;
    book_side asks;

    void apply(const level_list& bid_updates, const level_list& ask_updates);
};

struct symbol_state {
    std::string name;   ///< "BTCUSDT"
    std::string stream; ///< "btcusdt"
    std::string tick_size = "0.01000000";
    std::string step_size = "0.00001000";
    std::string min_notional = "5.00000000";
    venue_book book;
    std::int64_t last_update_id = 0; ///< u of the last diff in book.
    /// False while a replayed symbol waits for its capture snapshot; REST snapshots wait too.
    bool seeded = true;
    /// Depth diffs still to withhold (gap injection): applied to the book, never sent.
    std::uint32_t withhold_depth = 0;
    std::uint64_t withheld = 0; ///< Diffs withheld so far.
};

/// The request limits the venue advertises in exchangeInfo's rateLimits, counts and (when
/// enforced) keeps to (see usage_counter). Defaults: Binance's, spot (6,000 weight a minute, 100
/// orders per 10 s, 200,000 a day) and USD-M futures (2,400 weight a minute, 300 orders per 10 s,
/// 1,200 a minute).
struct venue_limits {
    std::int64_t spot_weight_per_minute = 6'000;
    std::int64_t spot_orders_per_10s = 100;
    std::int64_t spot_orders_per_day = 200'000;
    std::int64_t futures_weight_per_minute = 2'400;
    std::int64_t futures_orders_per_10s = 300;
    std::int64_t futures_orders_per_minute = 1'200;
    /// Requests over a limit are refused (429). Off: counted and reported only, so that a test
    /// may send more than Binance's limits allow (--enforce-limits, or any limit flag, turns it
    /// on).
    bool enforced = false;
    /// A client that sends again before the end of a request-weight 429 (-1003) is banned this
    /// long: 418 to every request (Binance bans for 2 minutes to 3 days).
    std::int64_t ban_ms = 120'000;
};

class market_state {
public:
    /// Adds a symbol (upper-case name) or returns the existing one's index.
    std::size_t add_symbol(std::string_view name);
    [[nodiscard]] std::optional<std::size_t> find(std::string_view name) const; // any case
    [[nodiscard]] std::size_t size() const { return symbols_.size(); }
    [[nodiscard]] symbol_state& at(std::size_t index) { return symbols_[index]; }
    [[nodiscard]] const symbol_state& at(std::size_t index) const { return symbols_[index]; }

    /// Called by the generators for every depth diff after applying it: true when it must be
    /// sent, false when a gap injection withholds it.
    [[nodiscard]] bool take_depth_send_permission(std::size_t index);
    /// Withholds the next `count` diffs of one symbol, or of every symbol when index is empty.
    void inject_gap(std::optional<std::size_t> index, std::uint32_t count);

    /// Futures flavour: depth diffs carry "pu", bookTicker carries "e", snapshots carry E/T.
    bool futures = false;
    /// Request limits of both APIs (flags --weight-limit, --order-limit-10s, ...).
    venue_limits limits;
    /// exchangeInfo "status" by upper-case symbol name (--symbol-status); TRADING when absent.
    std::map<std::string, std::string, std::less<>> symbol_status;

    /// REST snapshot body, best `limit` levels a side.
    [[nodiscard]] std::string render_snapshot(std::size_t index, std::size_t limit,
                                              bool futures_api, std::int64_t now_ms) const;
    [[nodiscard]] std::string render_exchange_info(bool futures_api, std::int64_t now_ms) const;

private:
    std::vector<symbol_state> symbols_;
};

/// Receives what the generators publish (the server).
class market_sink {
public:
    /// A stream message; data is the bare payload (no combined-stream envelope).
    virtual void publish(std::size_t symbol, channel kind, std::string_view data) = 0;

protected:
    ~market_sink() = default;
};

// Small JSON helpers shared by the generators (inputs are Binance messages, not arbitrary
// JSON).

/// Value of an integer field such as "u": 123; nullopt when absent.
[[nodiscard]] std::optional<std::int64_t> find_int_field(std::string_view json,
                                                         std::string_view key);
/// The [["p","q"],...] array of a field such as "b" or "bids".
[[nodiscard]] level_list find_levels_field(std::string_view json, std::string_view key);
/// Appends [["p","q"],...].
void append_levels(std::string& out, const level_list& levels);

} // namespace quoter::venue
