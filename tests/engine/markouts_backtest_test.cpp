// Markouts in synthetic backtests: informed order flow shows as adverse selection after fills,
// reported apart from spread capture and inventory PnL.
#include "quoter/engine/sim_backtest.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using namespace quoter;

namespace {

core::symbol_spec btc_spec() {
    return *core::symbol_spec::from_text(
        {.name = "BTCUSDT", .tick_size = "0.01", .step_size = "0.00001", .min_notional = "5"});
}

engine::backtest_config config_with_informed(double share) {
    engine::backtest_config c;
    c.risk = engine::permissive_risk();
    c.strategy.order_size_pct = 1.0;
    c.strategy.linear = {.spread_bps = 10.0,
                         .inventory_skew_strength = 1.0,
                         .price_impact = 200.0,
                         .vol_spread_factor = 0.0,
                         .normal_vol_per_sqrt_s = 1e-4};
    c.market.initial_mid_price = 60000.0;
    c.market.gbm_sigma_per_sqrt_year = 0.5;
    c.market.order_flow_a_per_s = 5.0;
    c.market.order_flow_k_per_price_unit = 0.1;
    c.market.informed_share = share;
    c.market.informed_impact_bps = 20.0;
    c.step_ns = 100 * core::ns_per_ms;
    c.duration_ns = 600 * core::ns_per_s;
    c.initial_cash = 100'000.0;
    return c;
}

} // namespace

TEST_CASE("informed flow shows as adverse selection in the markouts", "[backtest][markouts]") {
    const auto spec = btc_spec();
    const auto informed = engine::run_backtest(config_with_informed(0.8), spec, 11);
    const auto uninformed = engine::run_backtest(config_with_informed(0.0), spec, 11);
    const auto& mi = informed.metrics;
    const auto& mu = uninformed.metrics;
    INFO("informed: fills " << mi.fills << " as1 " << mi.adverse_selection_1s << " as10 "
                            << mi.adverse_selection_10s << " as60 " << mi.adverse_selection_60s);
    INFO("uninformed: fills " << mu.fills << " as1 " << mu.adverse_selection_1s << " as10 "
                              << mu.adverse_selection_10s);
    REQUIRE(mi.fills > 10);
    REQUIRE(mu.fills > 10);
    // An informed hit moves the mid 20 bps (12 USDT at 60000) against the fill at once: 80% of
    // the fills lose about that much by the 1 s markout.
    double notional_moved = 0;
    for (const auto& f : informed.fills) {
        notional_moved += f.quantity * f.mid * 20e-4;
    }
    CHECK(mi.adverse_selection_1s > 0.5 * notional_moved);
    // Uninformed flow: the mid after a fill is a martingale; its markouts are small beside it.
    double uninformed_scale = 0;
    for (const auto& f : uninformed.fills) {
        uninformed_scale += f.quantity * f.mid * 20e-4;
    }
    CHECK(std::fabs(mu.adverse_selection_1s) < 0.2 * uninformed_scale);
    // Reported apart from the other attribution terms, which still add up.
    CHECK(mi.spread_capture_pnl + mi.inventory_pnl - mi.net_fees ==
          Approx(mi.total_pnl).margin(1e-6));
    CHECK(std::isfinite(mi.adverse_selection_10s));
    CHECK(std::isfinite(mi.adverse_selection_60s));
}
