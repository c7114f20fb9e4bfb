// --market-from's refusals: what a configuration and its arguments must give before a market
// is fitted, and that a refused fit changes nothing. The fit on real captures is in
// market_fit_data_test.cpp.
#include "quoter/app/market_fit.hpp"

#include "engine_config_support.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace quoter;
using test::valid_config;

TEST_CASE("a market fit needs captures and a symbol without a start price", "[market_fit]") {
    test::temp_dir dir("market-fit");
    app::engine_config unpriced = valid_config(dir, "");
    const auto no_files = app::fit_synthetic_markets(unpriced, {});
    REQUIRE_FALSE(no_files.has_value());
    CHECK_THAT(no_files.error(), Catch::Contains("needs at least one capture file"));

    // market.start_price prices every symbol: there is nothing to fit, whatever the files.
    app::engine_config priced = valid_config(dir, "[market]\nstart_price = 60000\n");
    const auto priced_fit = app::fit_synthetic_markets(priced, {"any.gz"});
    REQUIRE_FALSE(priced_fit.has_value());
    CHECK_THAT(priced_fit.error(), Catch::Contains("market.start_price gives every symbol one"));

    app::engine_config each = valid_config(dir, "[engine]\nsymbols = [\"BTCUSDT\"]\n"
                                                "[symbol.BTCUSDT]\nstart_price = 60000\n");
    const auto each_fit = app::fit_synthetic_markets(each, {"any.gz"});
    REQUIRE_FALSE(each_fit.has_value());
    CHECK_THAT(each_fit.error(), Catch::Contains("every symbol has symbol.<NAME>.start_price"));

    const auto missing =
        app::fit_synthetic_markets(unpriced, {(dir.path() / "absent.gz").string()});
    REQUIRE_FALSE(missing.has_value());
    CHECK_THAT(missing.error(), Catch::Contains("cannot fit a synthetic market for BTCUSDT"));
    CHECK_THAT(missing.error(), Catch::Contains("absent.gz"));
    CHECK_FALSE(unpriced.symbols[0].fitted_market.has_value());
    CHECK_FALSE(app::synthetic_market_problem(unpriced, app::synthetic_command::backtest).empty());
}
