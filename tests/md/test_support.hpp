// Shared fixtures of the md tests: instruments with Binance's real filters and helpers to feed
// literal messages.
#pragma once

#include "quoter/md/binance_decoder.hpp"
#include "quoter/md/instrument.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

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

/// Requires two decode results to be identical in every field (levels by value).
inline void require_same_decode(const decoded_message& a, const decoded_message& b) {
    REQUIRE(a.kind == b.kind);
    REQUIRE(a.error == b.error);
    REQUIRE(a.symbol == b.symbol);
    REQUIRE(a.local_ns == b.local_ns);
    REQUIRE(a.depth.first_update_id == b.depth.first_update_id);
    REQUIRE(a.depth.final_update_id == b.depth.final_update_id);
    REQUIRE(a.depth.prev_final_update_id == b.depth.prev_final_update_id);
    REQUIRE(a.depth.has_prev_final_update_id == b.depth.has_prev_final_update_id);
    REQUIRE(a.depth.exchange_ns == b.depth.exchange_ns);
    REQUIRE(a.depth.transaction_ns == b.depth.transaction_ns);
    REQUIRE(std::vector<core::book_level>(a.depth.bids.begin(), a.depth.bids.end()) ==
            std::vector<core::book_level>(b.depth.bids.begin(), b.depth.bids.end()));
    REQUIRE(std::vector<core::book_level>(a.depth.asks.begin(), a.depth.asks.end()) ==
            std::vector<core::book_level>(b.depth.asks.begin(), b.depth.asks.end()));
    REQUIRE(a.ticker.update_id == b.ticker.update_id);
    REQUIRE(a.ticker.bid == b.ticker.bid);
    REQUIRE(a.ticker.ask == b.ticker.ask);
    REQUIRE(a.ticker.exchange_ns == b.ticker.exchange_ns);
    REQUIRE(a.ticker.transaction_ns == b.ticker.transaction_ns);
    REQUIRE(a.trade.trade_id == b.trade.trade_id);
    REQUIRE(a.trade.px == b.trade.px);
    REQUIRE(a.trade.qty == b.trade.qty);
    REQUIRE(a.trade.aggressor == b.trade.aggressor);
    REQUIRE(a.trade.count == b.trade.count);
    REQUIRE(a.trade.trade_ns == b.trade.trade_ns);
    REQUIRE(a.trade.exchange_ns == b.trade.exchange_ns);
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
