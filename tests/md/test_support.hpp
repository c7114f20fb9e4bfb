// Shared fixtures of the md tests: instruments with Binance's real filters and helpers to feed
// literal messages.
#pragma once

#include "quoter/md/instrument.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace quoter::md::testing {

/// Spot BTCUSDT/ETHUSDT (tick 0.01, book lots 1e-8) and, as a separate venue, a USD-M futures
/// BTCUSDT-like symbol named BTCPERP (tick 0.10, book lots 1e-8).
inline symbol_registry make_registry() {
    symbol_registry registry;
    const auto add = [&](std::string_view name, std::string_view tick, std::string_view step,
                         market venue) {
        const auto book = make_book_spec(name, tick, 8);
        REQUIRE(book.has_value());
        const auto trading = core::symbol_spec::from_text(
            {.name = name, .tick_size = tick, .step_size = step, .min_notional = "5"});
        REQUIRE(trading.has_value());
        REQUIRE(registry.add({.book_spec = *book, .trading_spec = *trading, .venue = venue}) !=
                invalid_symbol);
    };
    add("BTCUSDT", "0.01000000", "0.00001000", market::spot);
    add("ETHUSDT", "0.01000000", "0.00010000", market::spot);
    add("BTCPERP", "0.10", "0.001", market::usdm_futures);
    return registry;
}

inline constexpr symbol_id btc = 0;
inline constexpr symbol_id eth = 1;
inline constexpr symbol_id perp = 2;

/// Folder of the real Binance captures, or empty when it is absent.
inline std::string data_dir() {
    if (const char* env = std::getenv("QUOTER_DATA_DIR"); env != nullptr && *env != '\0') {
        return std::filesystem::is_directory(env) ? std::string(env) : std::string();
    }
    const std::string dir = QUOTER_SOURCE_DIR "/../shared/data/binance";
    return std::filesystem::is_directory(dir) ? dir : std::string();
}

/// A fresh, empty temporary folder for one test.
inline std::filesystem::path temp_dir(const std::string& name) {
    const auto dir = std::filesystem::temp_directory_path() /
                     ("quoter-md-" + name + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir;
}

} // namespace quoter::md::testing
