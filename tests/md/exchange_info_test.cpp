#include "quoter/md/exchange_info.hpp"

#include "md/test_support.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace quoter;
using namespace quoter::md;

namespace {

const std::string fixture = QUOTER_SOURCE_DIR "/tests/md/data/exchange_info_spot.json";

constexpr std::string_view futures_info =
    R"({"timezone":"UTC","symbols":[{"symbol":"BTCUSDT","pair":"BTCUSDT","contractType":"PERPETUAL",)"
    R"("status":"TRADING","baseAsset":"BTC","quoteAsset":"USDT","pricePrecision":2,)"
    R"("quantityPrecision":3,"baseAssetPrecision":8,"quotePrecision":8,"filters":[)"
    R"({"minPrice":"556.80","maxPrice":"4529764","filterType":"PRICE_FILTER","tickSize":"0.10"},)"
    R"({"stepSize":"0.001","filterType":"LOT_SIZE","maxQty":"1000","minQty":"0.001"},)"
    R"({"notional":"100","filterType":"MIN_NOTIONAL"}]}]})";

std::string read_all(const std::string& path) {
    std::ifstream file(path);
    std::ostringstream text;
    text << file.rdbuf();
    return text.str();
}

} // namespace

TEST_CASE("spot exchangeInfo filters become trading and book specs", "[exchange_info]") {
    const auto info = load_exchange_info_file(fixture, market::spot);
    REQUIRE(info.has_value());
    CHECK(info->symbols.size() == 2);
    CHECK(info->skipped == 1);
    const exchange_symbol* btc = info->find("BTCUSDT");
    REQUIRE(btc != nullptr);
    CHECK(btc->status == "TRADING");
    CHECK(btc->info.status == symbol_status::trading);
    CHECK(btc->info.venue == market::spot);
    CHECK(btc->info.trading_spec.price_decimals() == 2);
    CHECK(btc->info.trading_spec.qty_decimals() == 5);
    CHECK(btc->info.trading_spec.min_notional_units() == 5'0000000);
    // The largest order the venue takes: LOT_SIZE maxQty 9000, NOTIONAL maxNotional 9,000,000.
    CHECK(btc->info.trading_spec.max_qty() == core::qty{900'000'000});
    CHECK(btc->info.trading_spec.max_notional_units() == 9'000'000'0000000);
    CHECK(btc->info.book_spec.price_decimals() == 2);
    CHECK(btc->info.book_spec.qty_decimals() == 8);
    // A legacy book quantity finer than the step still reads exactly.
    CHECK(*btc->info.book_spec.parse_qty("244.56630400") == core::qty{24456630400});
    CHECK_FALSE(btc->info.trading_spec.parse_qty("244.56630400").has_value());
    CHECK(info->find("DOGEUSDT") == nullptr);
}

TEST_CASE("futures exchangeInfo uses MIN_NOTIONAL notional", "[exchange_info]") {
    const auto info = parse_exchange_info(futures_info, market::usdm_futures);
    REQUIRE(info.has_value());
    REQUIRE(info->symbols.size() == 1);
    const auto& btc = info->symbols[0].info;
    CHECK(btc.venue == market::usdm_futures);
    CHECK(btc.trading_spec.price_decimals() == 1);
    CHECK(btc.trading_spec.qty_decimals() == 3);
    CHECK(btc.trading_spec.min_notional_units() == 100'0000);
    CHECK(*btc.book_spec.parse_price("61000.10") == core::price{610001});
    // A reduce-only order below MIN_NOTIONAL is accepted on futures, refused on spot.
    CHECK(btc.trading_spec.reduce_only_waives_min_notional());
    const auto spot = load_exchange_info_file(fixture, market::spot);
    REQUIRE(spot.has_value());
    CHECK_FALSE(spot->find("BTCUSDT")->info.trading_spec.reduce_only_waives_min_notional());
}

TEST_CASE("a symbol listing both NOTIONAL and MIN_NOTIONAL must meet the larger minimum",
          "[exchange_info]") {
    const auto body = [](std::string_view first, std::string_view second) {
        return std::string(R"({"symbols":[{"symbol":"BTCUSDT","status":"TRADING","filters":[)"
                           R"({"filterType":"PRICE_FILTER","tickSize":"0.01"},)"
                           R"({"filterType":"LOT_SIZE","stepSize":"0.00001"},)") +
               std::string(first) + "," + std::string(second) + "]}]}";
    };
    const std::string_view notional = R"({"filterType":"NOTIONAL","minNotional":"5.00000000"})";
    const std::string_view legacy = R"({"filterType":"MIN_NOTIONAL","minNotional":"1.0"})";
    for (const auto& text : {body(notional, legacy), body(legacy, notional)}) {
        INFO(text);
        const auto info = parse_exchange_info(text, market::spot);
        REQUIRE(info.has_value());
        REQUIRE(info->symbols.size() == 1);
        CHECK(info->symbols[0].info.trading_spec.min_notional_units() == 5'0000000);
    }
}

TEST_CASE("a symbol in a break or halt is listed, and not open for trading", "[exchange_info]") {
    const auto body = [](std::string_view status) {
        return std::string(R"({"symbols":[{"symbol":"BTCUSDT","status":")") + std::string(status) +
               R"(","filters":[{"filterType":"PRICE_FILTER","tickSize":"0.01"},)"
               R"({"filterType":"LOT_SIZE","stepSize":"0.00001"}]}]})";
    };
    for (const std::string_view text : {"BREAK", "HALT", "PENDING_TRADING", "SETTLING"}) {
        INFO(text);
        const auto info = parse_exchange_info(body(text), market::spot);
        REQUIRE(info.has_value());
        REQUIRE(info->symbols.size() == 1);
        const symbol_status status = info->symbols[0].info.status;
        CHECK(status != symbol_status::trading);
        CHECK(to_string(status) == text);
    }
    CHECK(parse_symbol_status("TRADING") == symbol_status::trading);
    CHECK(parse_symbol_status("SOMETHING_NEW") == symbol_status::other);
    CHECK(parse_symbol_status("") == symbol_status::unknown);
    // An instrument made elsewhere (a capture, a configuration) has no status.
    CHECK(instrument{}.status == symbol_status::unknown);
}

TEST_CASE("exchangeInfo bodies are cached on disk atomically and reloaded", "[exchange_info]") {
    const auto dir = testing::temp_dir("exchange-info");
    const std::string path = (dir / "exchange_info.json").string();
    const std::string body = read_all(fixture);
    REQUIRE(save_exchange_info_file(path, body).has_value());
    CHECK_FALSE(std::filesystem::exists(path + ".tmp"));
    const auto info = load_exchange_info_file(path, market::spot);
    REQUIRE(info.has_value());
    CHECK(info->symbols.size() == 2);

    // An invalid body never replaces a good cache.
    CHECK(save_exchange_info_file(path, "<html>rate limited</html>").error() ==
          exchange_info_error::json);
    CHECK(load_exchange_info_file(path, market::spot).has_value());
    CHECK(load_exchange_info_file((dir / "missing.json").string(), market::spot).error() ==
          exchange_info_error::io);
    std::filesystem::remove_all(dir);
}

TEST_CASE("register_symbols adds the requested instruments in order", "[exchange_info]") {
    const auto info = load_exchange_info_file(fixture, market::spot);
    REQUIRE(info.has_value());
    symbol_registry registry;
    const std::array<std::string_view, 2> names{"ETHUSDT", "BTCUSDT"};
    const auto ids = register_symbols(registry, *info, names);
    REQUIRE(ids.has_value());
    CHECK((*ids)[0] == 0);
    CHECK((*ids)[1] == 1);
    CHECK(registry.find("BTCUSDT") == 1);
    CHECK(registry.find_lower("ethusdt") == 0);
    CHECK(registry.find("btcusdt") == invalid_symbol);
    const std::array<std::string_view, 1> unknown{"DOGEUSDT"};
    CHECK(register_symbols(registry, *info, unknown).error() ==
          exchange_info_error::unknown_symbol);
}

TEST_CASE("the registry finds many symbols by exact and folded name", "[exchange_info]") {
    symbol_registry registry;
    for (int i = 0; i < 300; ++i) {
        const std::string name = "SYM" + std::to_string(i) + "USDT";
        const auto spec = make_book_spec(name, "0.01", 8);
        REQUIRE(spec.has_value());
        REQUIRE(registry.add({.book_spec = *spec, .trading_spec = *spec}) == i);
    }
    CHECK(registry.size() == 300);
    CHECK(registry.find("SYM123USDT") == 123);
    CHECK(registry.find_lower("sym299usdt") == 299);
    CHECK(registry.find("SYM300USDT") == invalid_symbol);
    const auto duplicate = make_book_spec("SYM5USDT", "0.01", 8);
    CHECK(registry.add({.book_spec = *duplicate, .trading_spec = *duplicate}) == invalid_symbol);
}
