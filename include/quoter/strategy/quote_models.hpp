// The quoting models as pure functions: given the mid, the inventory and the model parameters,
// each returns where to centre the quotes and how far from that centre to place them. Inventory
// bands, levels, rounding and the post-only guard are applied afterwards by compute_quotes().
//
// Units: see strategy_config.hpp. Results are in quote asset per base unit (prices), converted
// from ticks for the tick-based models.
//
// GLFT, exactly as implemented (Guéant, Lehalle & Fernandez-Tapia, "Dealing with the inventory
// risk", 2013, asymptotic quotes; with the order size Delta and the utility parameter xi of
// Guéant, "Optimal market making", 2017). Everything in ticks, q and Delta in order sizes:
//   c1 = (1 / (xi * Delta)) * ln(1 + xi * Delta / k)                      [ticks]
//   c2 = sqrt( gamma / (2 * A * Delta * k) * (1 + xi * Delta / k)^(k / (xi * Delta) + 1) )
//                                                                          [sqrt(seconds)]
//   bid depth  delta_b(q) = c1 + (2q + Delta) / 2 * sigma * c2
//   ask depth  delta_a(q) = c1 - (2q - Delta) / 2 * sigma * c2
// so that, with half_spread = c1 + Delta / 2 * sigma * c2 and skew = sigma * c2,
//   bid = mid - (half_spread + skew * q),   ask = mid + (half_spread - skew * q),
// i.e. the quotes are centred on mid - skew * q with half-width half_spread. For xi -> 0 the
// limits c1 = 1 / k and (1 + xi * Delta / k)^(k / (xi * Delta) + 1) = e are used.
//
// Invariants: no allocation, no exceptions; a parameter set the formulas cannot evaluate
// (k <= 0, A <= 0, ...) yields a non-finite result, which compute_quotes() reports as
// quote_status::invalid_model.
#pragma once

#include "quoter/core/time.hpp"
#include "quoter/strategy/strategy_config.hpp"

namespace quoter::strategy {

/// A model's answer, relative to the mid, in quote asset per base unit.
struct model_quote {
    /// Centre of the quotes minus the mid: the inventory skew (negative when long).
    double center_offset = 0.0;
    /// Distance from the centre to each quote, i.e. half the full spread.
    double half_spread = 0.0;
};

/// What the models read. Built by compute_quotes() from the quote input and the config.
struct model_inputs {
    /// Current time, ns (Avellaneda–Stoikov finite horizon).
    core::timestamp_ns time = 0;
    /// Mid price, quote asset per base unit.
    double mid = 0.0;
    /// Tick size, quote asset per base unit.
    double tick_size = 1.0;
    /// Inventory minus target, base-asset units (linear model).
    double inventory = 0.0;
    /// Inventory minus target, in level-0 order sizes (Avellaneda–Stoikov, GLFT).
    double q_orders = 0.0;
    /// Volatility of the mid's log return per sqrt(second), or with sigma_absolute the mid's
    /// own, in quote asset per base unit per sqrt(second).
    double sigma_per_sqrt_s = 0.0;
    bool sigma_absolute = false;
    /// Arrival intensity at the mid, per second.
    double a_per_s = 0.0;
    /// Decay of the arrival intensity, per tick.
    double k_per_tick = 0.0;
};

/// Remaining horizon T - t in seconds (>= 0).
[[nodiscard]] double remaining_horizon_s(const avellaneda_stoikov_params& params,
                                         core::timestamp_ns time) noexcept;

/// Inline: the quoting path evaluates it on every book update.
[[nodiscard]] inline model_quote linear_quote(const linear_params& params,
                                              const model_inputs& in) noexcept {
    const double spread_price = in.mid * params.spread_bps / 1e4;
    const double relative_vol =
        in.sigma_absolute && in.mid > 0.0 ? in.sigma_per_sqrt_s / in.mid : in.sigma_per_sqrt_s;
    const double vol_ratio =
        params.normal_vol_per_sqrt_s > 0.0 ? relative_vol / params.normal_vol_per_sqrt_s : 0.0;
    const double adjusted_spread = spread_price * (1.0 + params.vol_spread_factor * vol_ratio);
    return {.center_offset = -params.inventory_skew_strength * in.inventory * params.price_impact,
            .half_spread = adjusted_spread / 2.0};
}

[[nodiscard]] model_quote avellaneda_stoikov_quote(const avellaneda_stoikov_params& params,
                                                   const model_inputs& in) noexcept;

struct glft_coefficients {
    /// Ticks.
    double c1 = 0.0;
    /// sqrt(seconds); multiplied by sigma (ticks per sqrt(second)) it gives ticks.
    double c2 = 0.0;
};

/// The GLFT constants for gamma and xi (per tick), Delta (order sizes), A (per second) and k
/// (per tick).
[[nodiscard]] glft_coefficients compute_glft_coefficients(double gamma, double xi, double delta,
                                                          double a, double k) noexcept;

[[nodiscard]] model_quote glft_quote(const glft_params& params, const model_inputs& in) noexcept;

/// Dispatches on config.model (inline, so that the linear model needs no call).
[[nodiscard]] inline model_quote evaluate_model(const strategy_config& config,
                                                const model_inputs& in) noexcept {
    switch (config.model) {
    case model_kind::linear:
        return linear_quote(config.linear, in);
    case model_kind::avellaneda_stoikov:
        return avellaneda_stoikov_quote(config.avellaneda_stoikov, in);
    case model_kind::glft:
        return glft_quote(config.glft, in);
    }
    return linear_quote(config.linear, in);
}

} // namespace quoter::strategy
