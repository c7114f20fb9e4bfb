#include "quoter/sim/synthetic_market.hpp"

#include <cmath>

namespace quoter::sim {

namespace {

bool finite(double value) noexcept {
    return std::isfinite(value);
}

// Derives the two stream seeds from the market seed; the constants only need to differ.
constexpr std::uint64_t price_stream = 0x7072696365000000ULL; // "price"
constexpr std::uint64_t flow_stream = 0x666c6f7700000000ULL;  // "flow"

} // namespace

std::string_view describe(market_config_error error) noexcept {
    switch (error) {
    case market_config_error::none:
        return "no error";
    case market_config_error::bad_initial_mid:
        return "initial_mid_price must be a positive finite number";
    case market_config_error::bad_volatility:
        return "volatility must be finite and >= 0";
    case market_config_error::bad_drift:
        return "gbm_mu_per_year must be finite";
    case market_config_error::bad_spread:
        return "market_spread_ticks must be finite and >= 0";
    case market_config_error::bad_order_flow:
        return "order_flow_a_per_s and order_flow_k_per_price_unit must be finite and >= 0";
    case market_config_error::bad_fixed_fill:
        return "fixed_fill_lots must be positive";
    case market_config_error::bad_informed:
        return "informed_share must be in [0, 1] and informed_impact_bps finite and >= 0";
    }
    return "unknown error";
}

market_config_error validate(const market_config& config) noexcept {
    if (!finite(config.initial_mid_price) || config.initial_mid_price <= 0) {
        return market_config_error::bad_initial_mid;
    }
    if (!finite(config.gbm_sigma_per_sqrt_year) || config.gbm_sigma_per_sqrt_year < 0 ||
        !finite(config.walk_sigma_per_sqrt_s) || config.walk_sigma_per_sqrt_s < 0) {
        return market_config_error::bad_volatility;
    }
    if (!finite(config.gbm_mu_per_year)) {
        return market_config_error::bad_drift;
    }
    if (!finite(config.market_spread_ticks) || config.market_spread_ticks < 0) {
        return market_config_error::bad_spread;
    }
    if (!finite(config.order_flow_a_per_s) || config.order_flow_a_per_s < 0 ||
        !finite(config.order_flow_k_per_price_unit) || config.order_flow_k_per_price_unit < 0) {
        return market_config_error::bad_order_flow;
    }
    if (config.fill_size == fill_size_model::fixed && config.fixed_fill_lots <= 0) {
        return market_config_error::bad_fixed_fill;
    }
    if (!(config.informed_share >= 0.0 && config.informed_share <= 1.0) ||
        !(config.informed_impact_bps >= 0.0) || !std::isfinite(config.informed_impact_bps)) {
        return market_config_error::bad_informed;
    }
    return market_config_error::none;
}

synthetic_market::synthetic_market(const market_config& config, const core::symbol_spec& spec,
                                   std::uint64_t seed) noexcept
    : config_(config), spec_(spec), price_rng_(mix64(seed ^ price_stream)),
      flow_rng_(mix64(seed ^ flow_stream)), mid_(config.initial_mid_price),
      tick_size_(spec.tick_size()), tick_inverse_(1.0 / spec.tick_size()),
      half_spread_(0.5 * config.market_spread_ticks * spec.tick_size()),
      half_spread_ticks_(half_spread_ * tick_inverse_) {
    assert(validate(config) == market_config_error::none);
    signed_k_ = side_pair{config.order_flow_k_per_price_unit, -config.order_flow_k_per_price_unit};
}

core::result<synthetic_market, market_config_error>
synthetic_market::create(const market_config& config, const core::symbol_spec& spec,
                         std::uint64_t seed) {
    if (const auto error = validate(config); error != market_config_error::none) {
        return core::unexpected{error};
    }
    return synthetic_market(config, spec, seed);
}

void synthetic_market::set_step(core::duration_ns dt) noexcept {
    assert(dt > 0);
    dt_ns_ = dt;
    const double dt_s = static_cast<double>(dt) * 1e-9;
    const double dt_years = dt_s / seconds_per_year;
    const double sigma = config_.gbm_sigma_per_sqrt_year;
    gbm_drift_ = (config_.gbm_mu_per_year - 0.5 * sigma * sigma) * dt_years;
    // std::sqrt is correctly rounded by IEEE 754, hence as portable as the basic operations.
    gbm_vol_ = sigma * std::sqrt(dt_years);
    walk_step_ = config_.walk_sigma_per_sqrt_s * std::sqrt(dt_s);
    log_a_dt_ = portable::log(config_.order_flow_a_per_s * dt_s);
}

} // namespace quoter::sim
