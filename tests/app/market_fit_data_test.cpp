// --market-from on the real Binance captures (../shared/data/binance): each symbol without a
// start price trades the market fitted to its own messages.
#include "quoter/app/market_fit.hpp"

#include "engine_config_support.hpp"
#include "support/capture_data.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace quoter;
using test::valid_config;

TEST_CASE("a configuration without [market] trades a market fitted to its symbol's capture",
          "[market_fit][data]") {
    const std::string dir =
        test::require_captures({"spot-btcusdt-20240808.gz", "spot-ethusdt-20240808.gz"});
    if (dir.empty()) {
        return;
    }
    const std::string btc = dir + "/spot-btcusdt-20240808.gz";
    const std::string eth = dir + "/spot-ethusdt-20240808.gz";
    test::temp_dir tmp("market-fit-data");

    app::engine_config one = valid_config(tmp, "[symbol]\ntick_size = \"0.01\"\n");
    REQUIRE_FALSE(app::synthetic_market_problem(one, app::synthetic_command::backtest).empty());
    const auto fitted = app::fit_synthetic_markets(one, {btc});
    REQUIRE(fitted.has_value());
    REQUIRE(fitted->size() == 1);
    CHECK_THAT(fitted->front(), Catch::StartsWith("BTCUSDT: synthetic market fitted to"));
    CHECK_THAT(fitted->front(), Catch::Contains("spot-btcusdt-20240808.gz"));
    CHECK_THAT(fitted->front(), Catch::Contains("spread 1 tick,"));
    REQUIRE(one.symbols[0].fitted_market.has_value());
    CHECK(app::synthetic_market_problem(one, app::synthetic_command::backtest).empty());
    const engine::backtest_config run = app::make_backtest_config(one);
    // The capture's first mid, not the built-in 100.
    CHECK(run.market.initial_mid_price == Approx(61837.635));
    CHECK(run.market.order_flow_a_per_s > 0.0);
    CHECK(run.market.order_flow_k_per_price_unit > 0.0);
    CHECK(run.market.gbm_sigma_per_sqrt_year > 0.1);
    CHECK(run.market.gbm_sigma_per_sqrt_year < 5.0);
    const auto parameters = app::fitted_market_parameters(one);
    REQUIRE_FALSE(parameters.empty());
    CHECK(parameters.front().key == "market.fitted.BTCUSDT.captures");
    CHECK(parameters.front().value == "spot-btcusdt-20240808.gz");

    // Three symbols, one with its own start price: only the others are fitted, each to its own
    // messages in the captures.
    app::engine_config three =
        valid_config(tmp, "[engine]\nsymbols = [\"BTCUSDT\", \"ETHUSDT\", \"BNBUSDT\"]\n"
                          "[symbol.BNBUSDT]\nstart_price = 500\n");
    const auto two_fitted = app::fit_synthetic_markets(three, {btc, eth});
    REQUIRE(two_fitted.has_value());
    CHECK(two_fitted->size() == 2);
    const auto symbols = app::make_backtest_symbols(three);
    REQUIRE(symbols.size() == 3);
    CHECK(symbols[0].market.initial_mid_price == Approx(61837.635));
    CHECK(symbols[1].market.initial_mid_price > 2000.0);
    CHECK(symbols[1].market.initial_mid_price < 3500.0);
    CHECK(symbols[2].market.initial_mid_price == 500.0);
    CHECK_FALSE(three.symbols[2].fitted_market.has_value());

    // ETHUSDT fits, BTCUSDT has no messages: the error names it, and ETHUSDT's fit is not kept
    // either (no half-fitted configuration).
    app::engine_config absent =
        valid_config(tmp, "[engine]\nsymbols = [\"ETHUSDT\", \"BTCUSDT\"]\n");
    const auto eth_only = app::fit_synthetic_markets(absent, {eth});
    REQUIRE_FALSE(eth_only.has_value());
    CHECK_THAT(eth_only.error(), Catch::Contains("the captures hold no BTCUSDT messages"));
    CHECK_FALSE(absent.symbols[0].fitted_market.has_value());
}
