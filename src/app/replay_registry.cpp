// See replay_registry.hpp.
#include "replay_registry.hpp"

#include "live_settings.hpp"
#include "quoter/md/exchange_info.hpp"

#include <filesystem>
#include <span>
#include <string_view>

namespace quoter::app {

std::optional<md::symbol_registry> replay_registry(const engine_config& config,
                                                   const std::string& first_file) {
    const md::market venue = to_md_market(config.engine.market);
    const std::filesystem::path cache =
        std::filesystem::path(first_file).parent_path() /
        (venue == md::market::spot ? "spot-exchangeInfo.json" : "futures-exchangeInfo.json");
    md::symbol_registry registry;
    if (std::filesystem::exists(cache)) {
        const auto info = md::load_exchange_info_file(cache.string(), venue);
        if (info && info->find(config.engine.symbol) != nullptr) {
            const std::string_view name = config.engine.symbol;
            if (md::register_symbols(registry, *info,
                                     std::span<const std::string_view>(&name, 1))) {
                return registry;
            }
        }
    }
    // Binance book quantities carry 8 decimals.
    const auto book = md::make_book_spec(config.engine.symbol, config.symbol.tick_size, 8);
    if (!book) {
        return std::nullopt;
    }
    if (registry.add({.book_spec = *book, .trading_spec = config.spec, .venue = venue}) != 0) {
        return std::nullopt;
    }
    return registry;
}

} // namespace quoter::app
