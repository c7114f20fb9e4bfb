// The three models against hand-computed numbers. Each case writes its arithmetic out.
#include "quoter/strategy/quote_models.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using namespace quoter;
using namespace quoter::strategy;

namespace {

// mid 100, tick 0.01: a relative vol of 1e-4 per sqrt(s) is 100 * 1e-4 / 0.01 = 1 tick/sqrt(s).
model_inputs base_inputs() {
    model_inputs in;
    in.time = 1'000 * core::ns_per_s;
    in.mid = 100.0;
    in.tick_size = 0.01;
    in.sigma_per_sqrt_s = 1e-4;
    in.a_per_s = 1.0;
    in.k_per_tick = 0.5;
    return in;
}

} // namespace

TEST_CASE("linear model follows its formula", "[strategy][models]") {
    linear_params params;
    params.spread_bps = 20.0;
    params.inventory_skew_strength = 0.5;
    params.price_impact = 0.1234;
    params.vol_spread_factor = 0.5;
    params.normal_vol_per_sqrt_s = 1e-4;

    model_inputs in = base_inputs();
    in.inventory = 2.0;
    in.sigma_per_sqrt_s = 2e-4;

    // spread_price    = 100 * 20 / 1e4            = 0.2
    // skewed_mid      = 100 - 0.5 * 2 * 0.1234    = 99.8766   (offset -0.1234)
    // adjusted_spread = 0.2 * (1 + 0.5 * 2e-4/1e-4) = 0.4      (half 0.2)
    const auto q = linear_quote(params, in);
    CHECK(q.center_offset == Approx(-0.1234).margin(1e-12));
    CHECK(q.half_spread == Approx(0.2).margin(1e-12));

    // Short inventory raises both quotes.
    in.inventory = -2.0;
    CHECK(linear_quote(params, in).center_offset == Approx(0.1234).margin(1e-12));

    // No volatility widening when normal_vol is not set: 0.2 / 2.
    params.normal_vol_per_sqrt_s = 0.0;
    CHECK(linear_quote(params, in).half_spread == Approx(0.1).margin(1e-12));
}

TEST_CASE("Avellaneda-Stoikov with a rolling horizon", "[strategy][models]") {
    avellaneda_stoikov_params params;
    params.gamma_per_tick = 0.1;
    params.horizon = horizon_kind::rolling;
    params.horizon_s = 60.0;

    model_inputs in = base_inputs();
    in.q_orders = 0.5;

    // sigma = 1 tick/sqrt(s), tau = 60 s
    // gamma * sigma^2 * tau          = 0.1 * 1 * 60          = 6 ticks
    // r - s = -q * 6                 = -3 ticks              = -0.03
    // (2/gamma) ln(1 + gamma/k)      = 20 * ln(1.2)          = 3.6464311358790917 ticks
    // spread = 6 + 3.64643113587909  = 9.646431135879092 ticks, half 4.823215567939546 ticks
    const auto q = avellaneda_stoikov_quote(params, in);
    CHECK(q.center_offset == Approx(-0.03).margin(1e-12));
    CHECK(q.half_spread == Approx(4.823215567939546 * 0.01).margin(1e-12));

    // Twice the volatility: gamma sigma^2 tau = 0.1 * 4 * 60 = 24 ticks, offset -12 ticks.
    in.sigma_per_sqrt_s = 2e-4;
    const auto wide = avellaneda_stoikov_quote(params, in);
    CHECK(wide.center_offset == Approx(-0.12).margin(1e-12));
    CHECK(wide.half_spread == Approx((24.0 + 3.6464311358790917) / 2 * 0.01).margin(1e-12));
}

TEST_CASE("Avellaneda-Stoikov with a finite horizon", "[strategy][models]") {
    avellaneda_stoikov_params params;
    params.gamma_per_tick = 0.1;
    params.horizon = horizon_kind::finite;
    model_inputs in = base_inputs();
    params.terminal_time_ns = in.time + 30 * core::ns_per_s;
    in.q_orders = 0.5;

    // tau = 30 s: gamma sigma^2 tau = 3 ticks; offset -1.5 ticks; half (3 + 3.64643)/2.
    CHECK(remaining_horizon_s(params, in.time) == Approx(30.0));
    auto q = avellaneda_stoikov_quote(params, in);
    CHECK(q.center_offset == Approx(-0.015).margin(1e-12));
    CHECK(q.half_spread == Approx((3.0 + 3.6464311358790917) / 2 * 0.01).margin(1e-12));

    // At and after T only the liquidity term remains and the quotes centre on the mid.
    for (const core::duration_ns after : {core::duration_ns{0}, 5 * core::ns_per_s}) {
        in.time = params.terminal_time_ns + after;
        q = avellaneda_stoikov_quote(params, in);
        CHECK(q.center_offset == 0.0);
        CHECK(q.half_spread == Approx(3.6464311358790917 / 2 * 0.01).margin(1e-12));
    }
}

TEST_CASE("Avellaneda-Stoikov limits", "[strategy][models]") {
    avellaneda_stoikov_params params;
    model_inputs in = base_inputs();
    in.q_orders = 3.0;
    // gamma -> 0: (2/gamma) ln(1 + gamma/k) -> 2/k = 4 ticks, no inventory term.
    params.gamma_per_tick = 0.0;
    auto q = avellaneda_stoikov_quote(params, in);
    CHECK(q.center_offset == 0.0);
    CHECK(q.half_spread == Approx(0.02).margin(1e-12));
    params.gamma_per_tick = 1e-12;
    CHECK(avellaneda_stoikov_quote(params, in).half_spread == Approx(0.02).margin(1e-9));
    // k <= 0 has no finite spread.
    in.k_per_tick = 0.0;
    CHECK_FALSE(std::isfinite(avellaneda_stoikov_quote(params, in).half_spread));
}

TEST_CASE("GLFT coefficients match the published closed form", "[strategy][models]") {
    // gamma = xi = 0.1, Delta = 1, A = 1, k = 0.5:  xi Delta / k = 0.2
    //   c1 = ln(1.2) / 0.1                                   = 1.8232155679395459
    //   c2 = sqrt(0.1 / (2 * 1 * 1 * 0.5) * 1.2^(0.5/0.1 + 1))
    //      = sqrt(0.1 * 1.2^6) = sqrt(0.1 * 2.985984)        = 0.5464415796770958
    auto c = compute_glft_coefficients(0.1, 0.1, 1.0, 1.0, 0.5);
    CHECK(c.c1 == Approx(1.8232155679395459).epsilon(1e-12));
    CHECK(c.c2 == Approx(0.5464415796770958).epsilon(1e-12));

    // gamma = 0.2, xi = 0.05, Delta = 2, A = 2, k = 0.8:  xi Delta / k = 0.125
    //   c1 = ln(1.125) / 0.1                                 = 1.1778303565638344
    //   c2 = sqrt(0.2 / (2 * 2 * 2 * 0.8) * 1.125^(0.8/0.1 + 1))
    //      = sqrt(0.03125 * 1.125^9) = sqrt(0.03125 * 2.88651...) = 0.3003387451171875
    c = compute_glft_coefficients(0.2, 0.05, 2.0, 2.0, 0.8);
    CHECK(c.c1 == Approx(1.1778303565638344).epsilon(1e-12));
    CHECK(c.c2 == Approx(0.3003387451171875).epsilon(1e-12));

    // xi = 0: c1 = 1/k = 2, c2 = sqrt(0.1 / (2 * 0.5) * e) = 0.5213714442179439.
    c = compute_glft_coefficients(0.1, 0.0, 1.0, 1.0, 0.5);
    CHECK(c.c1 == Approx(2.0).epsilon(1e-12));
    CHECK(c.c2 == Approx(0.5213714442179439).epsilon(1e-12));
    // ... and the xi -> 0 limit is continuous.
    const auto near = compute_glft_coefficients(0.1, 1e-9, 1.0, 1.0, 0.5);
    CHECK(near.c1 == Approx(2.0).epsilon(1e-8));
    CHECK(near.c2 == Approx(0.5213714442179439).epsilon(1e-8));

    // Unusable parameters give NaN, never a silent number.
    CHECK(std::isnan(compute_glft_coefficients(0.1, 0.1, 1.0, 0.0, 0.5).c1));
    CHECK(std::isnan(compute_glft_coefficients(0.1, 0.1, 1.0, 1.0, 0.0).c2));
}

TEST_CASE("GLFT quotes: half spread and skew in ticks", "[strategy][models]") {
    glft_params params;
    params.gamma_per_tick = 0.1;
    params.xi_equals_gamma = true;
    params.delta_orders = 1.0;
    model_inputs in = base_inputs();
    in.q_orders = 0.5;

    // sigma = 1 tick/sqrt(s); c1 = 1.8232155679395459, c2 = 0.5464415796770958
    // half_spread = c1 + Delta/2 * sigma * c2 = 1.8232155679 + 0.2732207898 = 2.0964363578 ticks
    // skew        = sigma * c2                                          = 0.5464415797 ticks
    // centre      = mid - skew * q = -0.2732207898 ticks
    // bid depth   = half + skew q = 2.3696571476 ticks (delta_b = c1 + (2q+Delta)/2 sigma c2)
    // ask depth   = half - skew q = 1.8232155679 ticks (delta_a = c1 - (2q-Delta)/2 sigma c2)
    const auto q = glft_quote(params, in);
    CHECK(q.half_spread == Approx(2.096436357778094 * 0.01).epsilon(1e-12));
    CHECK(q.center_offset == Approx(-0.2732207898385479 * 0.01).epsilon(1e-12));
    const double bid_depth = q.half_spread - q.center_offset;
    const double ask_depth = q.half_spread + q.center_offset;
    CHECK(bid_depth == Approx((1.8232155679395459 + 0.5464415796770958) * 0.01).epsilon(1e-12));
    CHECK(ask_depth == Approx(1.8232155679395459 * 0.01).epsilon(1e-12));

    // Flat inventory: symmetric around the mid.
    in.q_orders = 0.0;
    CHECK(glft_quote(params, in).center_offset == 0.0);
}

TEST_CASE("evaluate_model dispatches on the configured model", "[strategy][models]") {
    strategy_config config;
    model_inputs in = base_inputs();
    in.q_orders = 0.5;
    in.inventory = 0.5;
    config.model = model_kind::linear;
    CHECK(evaluate_model(config, in).half_spread == linear_quote(config.linear, in).half_spread);
    config.model = model_kind::avellaneda_stoikov;
    CHECK(evaluate_model(config, in).half_spread ==
          avellaneda_stoikov_quote(config.avellaneda_stoikov, in).half_spread);
    config.model = model_kind::glft;
    CHECK(evaluate_model(config, in).half_spread == glft_quote(config.glft, in).half_spread);

    CHECK(parse_model_kind("avellaneda_stoikov") == model_kind::avellaneda_stoikov);
    CHECK(parse_model_kind("glft") == model_kind::glft);
    CHECK_FALSE(parse_model_kind("GLFT").has_value());
    CHECK(to_string(model_kind::linear) == "linear");
    CHECK(parse_horizon_kind("finite") == horizon_kind::finite);
    CHECK(parse_spacing_kind("bps") == spacing_kind::bps);
    CHECK(parse_volatility_kind("ewma") == volatility_kind::ewma);
}
