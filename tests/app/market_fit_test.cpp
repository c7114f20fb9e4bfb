#include "quoter/app/market_fit.hpp"

#include "support/capture_data.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <string>

using namespace quoter;

namespace {

app::engine_config load(const test::temp_dir& dir, const std::string& text) {
    const auto loaded =
        app::load_engine_config(dir.write("quoter.toml", text).string(), config::load_options{});
    REQUIRE(loaded.has_value());
    return *loaded;
}

} // namespace

TEST_CASE("a fitted market takes the measured price, volatility, spread and order flow",
          "[market_fit]") {
    sim::market_config configured;
    configured.process = sim::price_process::random_walk;
    configured.fill_probability = sim::fill_probability_model::linear;
    configured.informed_share = 0.25;
    research::calibration fit;
    fit.first_mid = 61837.635;
    fit.sigma_rel_per_sqrt_s = 0.0001;
    fit.sigma_abs_per_sqrt_s = 6.2;
    fit.median_spread = 0.03;
    fit.a_per_s = 2.5;
    fit.k_per_price_unit = 0.4;

    const sim::market_config m = app::fitted_market_model(configured, fit, 0.01);
    CHECK(m.initial_mid_price == 61837.635);
    CHECK(m.gbm_sigma_per_sqrt_year == Approx(0.0001 * std::sqrt(365.0 * 24 * 3600)));
    CHECK(m.walk_sigma_per_sqrt_s == 6.2);
    CHECK(m.market_spread_ticks == Approx(3.0));
    CHECK(m.order_flow_a_per_s == 2.5);
    CHECK(m.order_flow_k_per_price_unit == 0.4);
    // What the fit does not measure stays as configured.
    CHECK(m.process == sim::price_process::random_walk);
    CHECK(m.fill_probability == sim::fill_probability_model::linear);
    CHECK(m.informed_share == 0.25);
}

TEST_CASE("a market fit needs captures and a symbol without a start price", "[market_fit]") {
    test::temp_dir dir("market-fit");
    app::engine_config priced = load(dir, "[market]\nstart_price = 60000\n");
    const auto no_files = app::market_fitter({}).fit(priced);
    REQUIRE_FALSE(no_files.has_value());
    CHECK_THAT(no_files.error(), Catch::Contains("needs at least one capture file"));

    const auto priced_fit = app::market_fitter({"any.gz"}).fit(priced);
    REQUIRE_FALSE(priced_fit.has_value());
    CHECK_THAT(priced_fit.error(), Catch::Contains("market.start_price is set"));
    CHECK_FALSE(priced.symbols[0].fitted_market.has_value());

    app::engine_config each = load(dir, "[engine]\nsymbols = [\"BTCUSDT\"]\n"
                                        "[symbol.BTCUSDT]\nstart_price = 60000\n");
    const auto each_fit = app::market_fitter({"any.gz"}).fit(each);
    REQUIRE_FALSE(each_fit.has_value());
    CHECK_THAT(each_fit.error(), Catch::Contains("every symbol has symbol.<NAME>.start_price"));

    app::engine_config unpriced = load(dir, "");
    const auto missing = app::market_fitter({(dir.path() / "absent.gz").string()}).fit(unpriced);
    REQUIRE_FALSE(missing.has_value());
    CHECK_THAT(missing.error(), Catch::Contains("cannot fit a synthetic market for BTCUSDT"));
    CHECK_THAT(missing.error(), Catch::Contains("absent.gz"));
    CHECK_FALSE(unpriced.symbols[0].fitted_market.has_value());
    CHECK_FALSE(app::synthetic_market_problem(unpriced).empty());
}

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

    app::engine_config one = load(tmp, "[symbol]\ntick_size = \"0.01\"\n");
    REQUIRE_FALSE(app::synthetic_market_problem(one).empty());
    const auto fitted = app::market_fitter({btc}).fit(one);
    REQUIRE(fitted.has_value());
    REQUIRE(fitted->size() == 1);
    CHECK_THAT(fitted->front(), Catch::StartsWith("BTCUSDT: synthetic market fitted to"));
    CHECK_THAT(fitted->front(), Catch::Contains("spot-btcusdt-20240808.gz"));
    REQUIRE(one.symbols[0].fitted_market.has_value());
    CHECK(app::synthetic_market_problem(one).empty());
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

    // Two symbols, one with its own start price: only the other is fitted, to its own
    // messages in the captures.
    app::engine_config two =
        load(tmp, "[engine]\nsymbols = [\"BTCUSDT\", \"ETHUSDT\", \"BNBUSDT\"]\n"
                  "[symbol.BNBUSDT]\nstart_price = 500\n");
    app::market_fitter fitter({btc, eth});
    const auto both = fitter.fit(two);
    REQUIRE(both.has_value());
    CHECK(both->size() == 2);
    const auto symbols = app::make_backtest_symbols(two);
    REQUIRE(symbols.size() == 3);
    CHECK(symbols[0].market.initial_mid_price == Approx(61837.635));
    CHECK(symbols[1].market.initial_mid_price > 2000.0);
    CHECK(symbols[1].market.initial_mid_price < 3500.0);
    CHECK(symbols[2].market.initial_mid_price == 500.0);
    CHECK_FALSE(two.symbols[2].fitted_market.has_value());

    // A capture without the symbol says so, and the configuration keeps no partial fit.
    app::engine_config absent = load(tmp, "[engine]\nsymbols = [\"ETHUSDT\", \"BTCUSDT\"]\n");
    const auto eth_only = app::market_fitter({eth}).fit(absent);
    REQUIRE_FALSE(eth_only.has_value());
    CHECK_THAT(eth_only.error(), Catch::Contains("the captures hold no BTCUSDT messages"));
    CHECK_FALSE(absent.symbols[0].fitted_market.has_value());
}
