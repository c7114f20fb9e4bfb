// Instruments the market-data side knows: a dense symbol id per instrument, its venue and the
// symbol_spec used to read its prices and quantities off the wire.
//
// Book lots versus trading lots. Binance's order books can hold quantities finer than the
// symbol's current LOT_SIZE step (orders placed before a step-size change stay on the book: the
// BTCUSDT spot book of August 2024 shows levels such as 244.566304 with a 0.00001 step). A book
// read with the trading step would reject those updates and desynchronise, so market data uses
// a "book spec": the exchange tick size and a quantity precision of baseAssetPrecision
// decimals (8 on Binance). Quantities in md events are therefore in book lots; convert with
// the instrument's book spec (to_double) or rescale to trading lots where an order needs them.
//
// The registry is filled once at start-up; lookups by name do not allocate and work on whole
// 8-byte words of the name (the md thread resolves a name for every message).
#pragma once

#include "quoter/core/symbol_spec.hpp"

#include <array>
#include <cstdint>
#include <limits>
#include <string_view>
#include <vector>

namespace quoter::md {

/// Dense index of an instrument in its registry.
using symbol_id = std::uint16_t;
inline constexpr symbol_id invalid_symbol = std::numeric_limits<symbol_id>::max();

/// Which Binance market a feed or instrument belongs to; the sync rules differ.
enum class market : std::uint8_t {
    spot,         ///< stream.binance.com, diffs chained by U == last_u + 1.
    usdm_futures, ///< fstream.binance.com, diffs chained by pu == last_u.
};

[[nodiscard]] std::string_view to_string(market m) noexcept;

/// A symbol's trading status as exchangeInfo gives it ("status"): spot's and USD-M futures'.
/// Only `trading` takes orders.
enum class symbol_status : std::uint8_t {
    unknown, ///< not from exchangeInfo (a capture, a configuration), or no status given
    trading,
    pre_trading,
    post_trading,
    end_of_day,
    halt,
    auction_match,
    in_break, ///< BREAK
    pending_trading,
    pre_delivering,
    delivering,
    delivered,
    pre_settle,
    settling,
    close,
    other, ///< a status not listed here
};

/// The status exchangeInfo writes ("TRADING", "BREAK", ...); unknown for empty text, other for
/// text not listed.
[[nodiscard]] symbol_status parse_symbol_status(std::string_view text) noexcept;
/// Binance's text of a status ("BREAK"); "unknown" and "other" for those two.
[[nodiscard]] std::string_view to_string(symbol_status status) noexcept;

struct instrument {
    core::symbol_spec book_spec;    ///< Reads wire prices (ticks) and book quantities (lots).
    core::symbol_spec trading_spec; ///< Exchange filters for orders (tick, step, notional).
    market venue = market::spot;
    /// exchangeInfo's status; unknown when the instrument did not come from exchangeInfo.
    symbol_status status = symbol_status::unknown;
};

/// Name -> id map over a fixed set of instruments. Names are matched exactly as Binance sends
/// them in the "s" field (upper case); find_lower() serves lower-case stream names.
class symbol_registry {
public:
    /// Adds an instrument named by its book spec; returns its id, or invalid_symbol when the
    /// name is already registered or the registry is full. Start-up only (allocates).
    symbol_id add(const instrument& info);

    /// Id for an exact name; invalid_symbol when unknown. Does not allocate.
    [[nodiscard]] symbol_id find(std::string_view name) const noexcept;
    /// Id for a name in any letter case ("btcusdt" from a stream name). Does not allocate.
    [[nodiscard]] symbol_id find_lower(std::string_view name) const noexcept;

    [[nodiscard]] const instrument& at(symbol_id id) const noexcept { return instruments_[id]; }
    [[nodiscard]] std::size_t size() const noexcept { return instruments_.size(); }
    [[nodiscard]] bool contains(symbol_id id) const noexcept { return id < instruments_.size(); }

private:
    /// A name as three zero-padded little-endian words, as typed and upper-cased: lookups
    /// compare and hash whole words instead of characters.
    struct name_key {
        std::array<std::uint64_t, 3> exact{};
        std::array<std::uint64_t, 3> folded{};
        std::size_t size = 0;
    };

    void rebuild_index();
    [[nodiscard]] static name_key key_of(std::string_view name) noexcept;
    [[nodiscard]] symbol_id lookup(std::string_view name, bool fold_case) const noexcept;

    std::vector<instrument> instruments_;
    std::vector<name_key> keys_;   ///< keys_[id] is instruments_[id]'s name.
    std::vector<symbol_id> slots_; ///< Open addressing over upper-cased names; power-of-2 size.
};

/// Builds the book spec of an instrument: the tick size from tick_size and a quantity step of
/// 10^-qty_decimals (qty_decimals is reduced so that both precisions fit 18 decimals).
[[nodiscard]] core::result<core::symbol_spec, core::spec_error>
make_book_spec(std::string_view name, std::string_view tick_size, int qty_decimals);

} // namespace quoter::md
