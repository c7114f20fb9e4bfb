#include "quoter/exec/binance_holdings.hpp"

#include <catch2/catch.hpp>

#include <array>

using namespace quoter;
using namespace quoter::exec;

namespace {

core::symbol_spec make(std::string_view name, std::string_view tick, std::string_view step) {
    const auto spec = core::symbol_spec::from_text(
        {.name = name, .tick_size = tick, .step_size = step, .min_notional = "5"});
    REQUIRE(spec.has_value());
    return *spec;
}

asset_balance balance(std::string_view asset, std::int64_t free_e8, std::int64_t locked_e8 = 0) {
    asset_balance out;
    out.asset.assign(asset);
    out.free_e8 = free_e8;
    out.locked_e8 = locked_e8;
    return out;
}

} // namespace

TEST_CASE("spot holdings: base in lots and quote in notional units, free plus locked",
          "[binance_holdings]") {
    // BTCUSDT: ticks of 0.01, lots of 0.001: notional units of 1e-5 USDT.
    const core::symbol_spec spec = make("BTCUSDT", "0.01", "0.001");
    const std::array balances{balance("BNB", 5'00000000),
                              balance("USDT", 1234'56789012, 1'00000000),
                              balance("BTC", 2'50000000, 12345678)};
    const spot_holdings held = spot_holdings_of(balances, spec);
    REQUIRE(held.quote_listed);
    CHECK(held.base_listed);
    CHECK(held.base_asset.view() == "BTC");
    CHECK(held.quote_asset.view() == "USDT");
    // 2.5 + 0.12345678 BTC = 2.62345678, down to the lot grid: 2.623 = 2623 lots.
    CHECK(held.base == core::qty{2623});
    // 1235.56789012 USDT in 1e-5 units, rounded down.
    CHECK(held.quote_units == 123'556'789);
}

TEST_CASE("spot holdings: an unlisted base holds nothing, a longer quote name wins",
          "[binance_holdings]") {
    const core::symbol_spec spec = make("ETHFDUSD", "0.01", "0.0001");
    // "USD" also ends the name, but FDUSD leaves "ETH" before it.
    const std::array listed{balance("USD", 1'00000000), balance("FDUSD", 10'00000000),
                            balance("ETH", 3'00000000)};
    const spot_holdings both = spot_holdings_of(listed, spec);
    CHECK(both.quote_asset.view() == "FDUSD");
    CHECK(both.base == core::qty{30'000});
    // Zero balances omitted: no ETH listed; the longest suffix is the quote, nothing held.
    const std::array quote_only{balance("USD", 1'00000000), balance("FDUSD", 10'00000000)};
    const spot_holdings flat = spot_holdings_of(quote_only, spec);
    REQUIRE(flat.quote_listed);
    CHECK_FALSE(flat.base_listed);
    CHECK(flat.quote_asset.view() == "FDUSD");
    CHECK(flat.base_asset.view() == "ETH");
    CHECK(flat.base == core::qty{0});
    CHECK(flat.quote_units == 10'000'000); // 10 FDUSD in 1e-6 units
}

TEST_CASE("spot holdings: nothing of the symbol listed, and negative amounts",
          "[binance_holdings]") {
    const core::symbol_spec spec = make("BTCUSDT", "0.01", "0.00001");
    const std::array none{balance("BNB", 1'00000000)};
    CHECK_FALSE(spot_holdings_of(none, spec).quote_listed);
    CHECK_FALSE(spot_holdings_of(std::span<const asset_balance>{}, spec).quote_listed);
    const std::array negative{balance("BTC", -5'00000000), balance("USDT", -1)};
    const spot_holdings held = spot_holdings_of(negative, spec);
    CHECK(held.base == core::qty{0});
    CHECK(held.quote_units == 0);
}

TEST_CASE("futures wallet: the margin asset's wallet balance in notional units",
          "[binance_holdings]") {
    const core::symbol_spec spec = make("BTCUSDT", "0.10", "0.001");
    // free_e8 is the wallet balance, locked_e8 the cross wallet balance (not counted).
    const std::array balances{balance("BNB", 1'00000000),
                              balance("USDT", 100'000'12345678, 99'000'00000000)};
    const futures_wallet wallet = futures_wallet_of(balances, spec);
    REQUIRE(wallet.listed);
    CHECK(wallet.asset.view() == "USDT");
    CHECK(wallet.wallet_units == 100'000'1234); // 1e-4 USDT units, rounded down
    CHECK_FALSE(futures_wallet_of(std::span<const asset_balance>{}, spec).listed);
}

TEST_CASE("scale_e8 rounds toward zero in both directions", "[binance_holdings]") {
    CHECK(scale_e8(123'456'789, 2) == 123);
    CHECK(scale_e8(123'456'789, 8) == 123'456'789);
    CHECK(scale_e8(123'456'789, 10) == 12'345'678'900);
    CHECK(scale_e8(-123'456'789, 2) == -123);
}
