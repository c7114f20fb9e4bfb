// See replay_registry.hpp.
#include "replay_registry.hpp"

#include "live_settings.hpp"
#include "quoter/md/capture.hpp"
#include "quoter/md/exchange_info.hpp"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>

namespace quoter::app {

namespace {

std::optional<md::symbol_registry> registry_of(const engine_config& config, std::string_view name,
                                               const symbol_section& filters,
                                               const core::symbol_spec& spec,
                                               const std::string& first_file) {
    const md::market venue = to_md_market(config.engine.market);
    const std::filesystem::path cache =
        std::filesystem::path(first_file).parent_path() /
        (venue == md::market::spot ? "spot-exchangeInfo.json" : "futures-exchangeInfo.json");
    md::symbol_registry registry;
    if (std::filesystem::exists(cache)) {
        const auto info = md::load_exchange_info_file(cache.string(), venue);
        if (info && info->find(name) != nullptr) {
            if (md::register_symbols(registry, *info,
                                     std::span<const std::string_view>(&name, 1))) {
                return registry;
            }
        }
    }
    // Binance book quantities carry 8 decimals.
    const auto book = md::make_book_spec(name, filters.tick_size, 8);
    if (!book) {
        return std::nullopt;
    }
    if (registry.add({.book_spec = *book, .trading_spec = spec, .venue = venue}) != 0) {
        return std::nullopt;
    }
    return registry;
}

} // namespace

std::optional<md::symbol_registry> replay_registry(const engine_config& config,
                                                   const std::string& first_file) {
    return registry_of(config, config.engine.symbol, config.symbol, config.spec, first_file);
}

std::optional<md::symbol_registry> replay_registry(const engine_config& config,
                                                   const symbol_entry& symbol,
                                                   const std::string& first_file) {
    return registry_of(config, symbol.name, symbol.filters, symbol.spec, first_file);
}

std::vector<std::string> capture_symbols(const std::vector<std::string>& files) {
    constexpr std::uint64_t lines_per_file = 2000;
    std::vector<std::string> out;
    for (const auto& file : files) {
        md::gzip_line_reader reader;
        if (!reader.open(file)) {
            continue;
        }
        std::string_view line;
        for (std::uint64_t n = 0; n < lines_per_file && reader.next_line(line); ++n) {
            constexpr std::string_view key = "\"s\":\"";
            const auto at = line.find(key);
            if (at == std::string_view::npos) {
                continue;
            }
            const auto begin = at + key.size();
            const auto stop = line.find('"', begin);
            if (stop == std::string_view::npos || stop == begin) {
                continue;
            }
            std::string name(line.substr(begin, stop - begin));
            if (std::find(out.begin(), out.end(), name) == out.end()) {
                out.push_back(std::move(name));
            }
        }
    }
    return out;
}

} // namespace quoter::app
