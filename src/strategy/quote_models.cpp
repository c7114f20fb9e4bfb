#include "quoter/strategy/quote_models.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace quoter::strategy {
namespace {

// ln(1 + x) / x, continuous at x = 0 where both the AS spread term and GLFT's c1 have their
// risk-neutral limits.
double log1p_over_x(double x) noexcept {
    if (std::fabs(x) < 1e-10) {
        return 1.0 - 0.5 * x;
    }
    return std::log1p(x) / x;
}

double ticks_per_sqrt_s(const model_inputs& in) noexcept {
    return in.sigma_absolute ? in.sigma_per_sqrt_s / in.tick_size
                             : in.sigma_per_sqrt_s * in.mid / in.tick_size;
}

} // namespace

double remaining_horizon_s(const avellaneda_stoikov_params& params,
                           core::timestamp_ns time) noexcept {
    if (params.horizon == horizon_kind::rolling) {
        return std::max(params.horizon_s, 0.0);
    }
    const core::duration_ns remaining = params.terminal_time_ns - time;
    return remaining > 0 ? static_cast<double>(remaining) * 1e-9 : 0.0;
}

model_quote avellaneda_stoikov_quote(const avellaneda_stoikov_params& params,
                                     const model_inputs& in) noexcept {
    const double gamma = std::max(params.gamma_per_tick, 0.0);
    const double sigma = ticks_per_sqrt_s(in);
    const double tau = remaining_horizon_s(params, in.time);
    const double inventory_risk = gamma * sigma * sigma * tau; // ticks per order size
    // (2 / gamma) * ln(1 + gamma / k) == (2 / k) * ln(1 + x) / x with x = gamma / k.
    const double k = in.k_per_tick;
    const double liquidity_term =
        k > 0.0 ? 2.0 / k * log1p_over_x(gamma / k) : std::numeric_limits<double>::infinity();
    const double spread_ticks = inventory_risk + liquidity_term;
    return {.center_offset = -in.q_orders * inventory_risk * in.tick_size,
            .half_spread = spread_ticks / 2.0 * in.tick_size};
}

glft_coefficients compute_glft_coefficients(double gamma, double xi, double delta, double a,
                                            double k) noexcept {
    if (!(k > 0.0) || !(a > 0.0) || !(delta > 0.0)) {
        const double nan = std::numeric_limits<double>::quiet_NaN();
        return {nan, nan};
    }
    const double x = std::max(xi, 0.0) * delta / k;
    const double ratio = log1p_over_x(x); // ln(1 + x) / x
    // c1 = ln(1 + x) / (xi * Delta) = (1 / k) * ln(1 + x) / x.
    const double c1 = ratio / k;
    // (1 + x)^(1/x + 1) = exp((1 + x) * ln(1 + x) / x), which tends to e as x -> 0.
    const double power = std::exp((1.0 + x) * ratio);
    const double c2 = std::sqrt(std::max(gamma, 0.0) / (2.0 * a * delta * k) * power);
    return {c1, c2};
}

model_quote glft_quote(const glft_params& params, const model_inputs& in) noexcept {
    const double xi = params.xi_equals_gamma ? params.gamma_per_tick : params.xi_per_tick;
    const auto [c1, c2] = compute_glft_coefficients(params.gamma_per_tick, xi, params.delta_orders,
                                                    in.a_per_s, in.k_per_tick);
    const double sigma = ticks_per_sqrt_s(in);
    const double half_spread_ticks = c1 + params.delta_orders / 2.0 * sigma * c2;
    const double skew_ticks = sigma * c2; // per order size of inventory
    return {.center_offset = -skew_ticks * in.q_orders * in.tick_size,
            .half_spread = half_spread_ticks * in.tick_size};
}

} // namespace quoter::strategy
