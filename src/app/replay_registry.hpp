// The symbol registry a capture replay runs with, shared by `quoter backtest --data` and
// `quoter sweep --data` so that both register the traded symbol the same way.
#pragma once

#include "quoter/app/app_config.hpp"
#include "quoter/md/instrument.hpp"

#include <optional>
#include <string>
#include <vector>

namespace quoter::app {

/// The traded symbol's instrument for a replay of engine.symbol: from the exchangeInfo saved
/// beside the captures by `quoter record` (spot-exchangeInfo.json or futures-exchangeInfo.json in
/// the folder of first_file) when it lists the symbol, else from the configured [symbol] filters
/// (book quantities with Binance's 8 decimals). nullopt when those filters make no valid book.
[[nodiscard]] std::optional<md::symbol_registry> replay_registry(const engine_config& config,
                                                                 const std::string& first_file);

/// The same for one symbol of engine.symbols (its name, [symbol.<NAME>] filters and spec).
[[nodiscard]] std::optional<md::symbol_registry> replay_registry(const engine_config& config,
                                                                 const symbol_entry& symbol,
                                                                 const std::string& first_file);

/// Symbols the first lines of the captures carry market data for (upper case, as Binance
/// spells them), read from each line's "s" field, in the order first seen.
[[nodiscard]] std::vector<std::string> capture_symbols(const std::vector<std::string>& files);

} // namespace quoter::app
