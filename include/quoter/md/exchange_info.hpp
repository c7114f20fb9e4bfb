// exchangeInfo: the symbol filters (PRICE_FILTER tickSize, LOT_SIZE stepSize, NOTIONAL /
// MIN_NOTIONAL) of Binance's spot /api/v3/exchangeInfo and USD-M /fapi/v1/exchangeInfo turned
// into instruments (book and trading specs), plus an on-disk cache of the raw body so that
// offline runs (backtests, tests) use the same filters as live ones.
//
// Start-up code: allocates freely, never on the hot path.
#pragma once

#include "quoter/core/result.hpp"
#include "quoter/md/instrument.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace quoter::md {

enum class exchange_info_error : std::uint8_t {
    none,
    io,            ///< Cache file missing, unreadable or not writable.
    json,          ///< Not JSON, or no "symbols" array.
    unknown_symbol, ///< A requested symbol is not in the document.
    bad_filters,   ///< A requested symbol's filters do not make a valid spec.
};

[[nodiscard]] std::string_view describe(exchange_info_error error) noexcept;

struct exchange_symbol {
    std::string name;
    std::string status;            ///< "TRADING", "BREAK", ...
    instrument info;
};

struct exchange_info {
    market venue = market::spot;
    std::vector<exchange_symbol> symbols;
    /// Symbols left out because their filters were missing or invalid.
    std::size_t skipped = 0;

    /// The symbol with this exact name, or nullptr.
    [[nodiscard]] const exchange_symbol* find(std::string_view name) const noexcept;
};

/// Parses an exchangeInfo body of the given market.
[[nodiscard]] core::result<exchange_info, exchange_info_error>
parse_exchange_info(std::string_view body, market venue);

/// Reads and parses a cached exchangeInfo body.
[[nodiscard]] core::result<exchange_info, exchange_info_error>
load_exchange_info_file(const std::string& path, market venue);

/// Writes an exchangeInfo body to path atomically (temporary file, then rename), so a reader
/// never sees half a file. The body is validated first; an invalid one is not written.
[[nodiscard]] core::result<bool, exchange_info_error>
save_exchange_info_file(const std::string& path, std::string_view body);

/// Adds the named symbols (exact names, e.g. "BTCUSDT") to registry in the given order;
/// returns their ids.
[[nodiscard]] core::result<std::vector<symbol_id>, exchange_info_error>
register_symbols(symbol_registry& registry, const exchange_info& info,
                 std::span<const std::string_view> names);

} // namespace quoter::md
