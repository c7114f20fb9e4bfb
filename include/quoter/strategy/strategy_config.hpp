// Configuration of the quoting strategy: the model and its parameters, inventory bands, quote
// levels and the online estimators. Plain trivially copyable structs with working defaults;
// strategy_config_reader.hpp reads them from TOML.
//
// Units (shared by every model):
//  - Volatility is the standard deviation of the mid's log return per sqrt(second) (see
//    volatility.hpp). Avellaneda–Stoikov and GLFT turn it into ticks per sqrt(second) as
//    sigma_ticks = volatility * mid / tick_size.
//  - Avellaneda–Stoikov and GLFT are evaluated in ticks: gamma, xi and k are per tick, A per
//    second, and the inventory q is counted in level-0 order sizes (q = (inventory - target) /
//    order size), which keeps gamma meaningful across symbols and capital sizes and matches the
//    unit-lot setting of the original papers.
//  - The linear model uses inventory in base-asset units and price_impact in quote asset per
//    base unit, exactly as its formula is written.
//  - Percentages (_pct) are in percent: 20 means 20%.
#pragma once

#include "quoter/core/time.hpp"
#include "quoter/strategy/intensity_estimator.hpp"
#include "quoter/strategy/volatility.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace quoter::strategy {

/// Most quote levels per side.
inline constexpr std::size_t max_quote_levels = 8;

enum class model_kind : std::uint8_t { linear, avellaneda_stoikov, glft };

/// How Avellaneda–Stoikov measures the remaining horizon T - t.
enum class horizon_kind : std::uint8_t {
    finite,  ///< T is terminal_time_ns; the inventory term fades to 0 as t approaches T.
    rolling, ///< T - t is held at horizon_s, for continuous (24/7) trading.
};

enum class spacing_kind : std::uint8_t { ticks, bps };

enum class volatility_kind : std::uint8_t { realized, ewma };

[[nodiscard]] std::string_view to_string(model_kind kind) noexcept;
[[nodiscard]] std::string_view to_string(horizon_kind kind) noexcept;
[[nodiscard]] std::string_view to_string(spacing_kind kind) noexcept;
[[nodiscard]] std::string_view to_string(volatility_kind kind) noexcept;
/// Parses the names to_string() produces ("linear", "avellaneda_stoikov", "glft", ...).
[[nodiscard]] std::optional<model_kind> parse_model_kind(std::string_view text) noexcept;
[[nodiscard]] std::optional<horizon_kind> parse_horizon_kind(std::string_view text) noexcept;
[[nodiscard]] std::optional<spacing_kind> parse_spacing_kind(std::string_view text) noexcept;
[[nodiscard]] std::optional<volatility_kind> parse_volatility_kind(std::string_view text) noexcept;

/// The baseline model:
///   spread_price    = mid * spread_bps / 1e4
///   skewed_mid      = mid - inventory_skew_strength * inventory * price_impact
///   adjusted_spread = spread_price * (1 + vol_spread_factor * vol / normal_vol)
///   bid, ask        = skewed_mid -/+ adjusted_spread / 2
struct linear_params {
    /// Full spread before volatility widening, in bps of the mid.
    double spread_bps = 10.0;
    /// Dimensionless multiplier of the inventory skew.
    double inventory_skew_strength = 1.0;
    /// Expected mid move per unit of inventory, in quote asset per base-asset unit. Depends on
    /// the symbol's price and liquidity; 0 (the default) disables the skew.
    double price_impact = 0.0;
    /// Spread widening per unit of vol / normal_vol (dimensionless); 0 keeps the spread fixed.
    double vol_spread_factor = 0.0;
    /// Reference volatility per sqrt(second), same unit as the estimators.
    double normal_vol_per_sqrt_s = 1e-4;
};

/// Avellaneda–Stoikov, in ticks:
///   r      = s - q * gamma * sigma^2 * (T - t)
///   spread = gamma * sigma^2 * (T - t) + (2 / gamma) * ln(1 + gamma / k), centred on r.
struct avellaneda_stoikov_params {
    /// Risk aversion, per tick (per order size of inventory).
    double gamma_per_tick = 0.1;
    horizon_kind horizon = horizon_kind::rolling;
    /// Rolling horizon: the constant T - t, in seconds.
    double horizon_s = 60.0;
    /// Finite horizon: the terminal time T, in ns on the strategy's clock.
    core::timestamp_ns terminal_time_ns = 0;
};

/// Guéant–Lehalle–Fernandez-Tapia asymptotic quotes, in ticks (see quote_models.hpp).
struct glft_params {
    /// Risk aversion gamma, per tick.
    double gamma_per_tick = 0.1;
    /// xi = gamma (the paper's exponential-utility case) when true, else xi_per_tick
    /// (xi = 0: the risk-neutral case with a running inventory penalty).
    bool xi_equals_gamma = true;
    double xi_per_tick = 0.0;
    /// Order size Delta in units of q (level-0 order sizes); 1 = one order.
    double delta_orders = 1.0;
};

/// Volatility used by the models.
struct volatility_params {
    /// Use the estimate carried in the quote input when it is available (> 0).
    bool use_estimate = true;
    /// Fixed volatility per sqrt(second), also the fallback while no estimate exists.
    double sigma_per_sqrt_s = 1e-4;
    /// false: sigma_per_sqrt_s is relative (of the mid's log return), as the estimators give it.
    /// true: it is absolute, in quote asset per base unit per sqrt(second) (the arithmetic
    /// random walk of Avellaneda-Stoikov 2008); an estimate is then scaled by the mid.
    bool absolute = false;
};

/// Arrival intensity lambda(delta) = A * exp(-k * delta) used by Avellaneda–Stoikov (k) and
/// GLFT (A and k).
struct intensity_params {
    /// Use the online estimate carried in the quote input when it is fitted.
    bool use_estimate = false;
    /// Fixed A (per second), also the fallback until the estimate is fitted.
    double a_per_s = 1.0;
    /// Fixed k (per tick), also the fallback until the estimate is fitted.
    double k_per_tick = 0.5;
};

/// Inventory bands, applied to every model. The deviation is (inventory - target) valued at the
/// mid, compared with equity:
///  - below soft_limit_pct of equity: normal quoting;
///  - from soft_limit_pct: reduce_only — only the side that moves inventory toward the target is
///    quoted, and the model's skew is multiplied by reduce_skew_multiplier;
///  - from hard_limit_pct: flatten — only the reducing side, one order for the whole deviation at
///    the most aggressive post-only price (one tick inside the opposite best); the core loop
///    sends it in the largest pieces the per-order risk limits allow.
struct inventory_bands {
    /// Inventory the strategy steers toward, in base-asset units.
    double target_inventory = 0.0;
    /// Soft band half-width, in percent of equity (as notional at the mid).
    double soft_limit_pct = 20.0;
    /// Hard limit, in percent of equity (as notional at the mid).
    double hard_limit_pct = 30.0;
    /// Skew multiplier applied beyond the soft band (dimensionless, >= 1 to skew harder).
    double reduce_skew_multiplier = 2.0;
};

/// Extra quote levels behind the model's prices.
struct level_params {
    /// Number of levels per side (1..max_quote_levels).
    std::uint32_t count = 1;
    /// Unit of `spacing`.
    spacing_kind spacing_unit = spacing_kind::ticks;
    /// Distance between consecutive levels, in ticks or bps of the mid. Consecutive levels are
    /// always at least one tick apart after rounding.
    double spacing = 1.0;
    /// Size of level i is the level-0 size times size_multiplier^i (dimensionless).
    double size_multiplier = 1.0;
};

/// Online estimators run by quoting_strategy.
struct estimator_params {
    volatility_kind volatility = volatility_kind::realized;
    realized_volatility_config realized;
    ewma_volatility_config ewma;
    intensity_estimator_config intensity;
};

struct strategy_config {
    model_kind model = model_kind::linear;
    /// Centre the model's spread on the mid instead of its skewed or reservation price.
    bool symmetric = false;
    /// Level-0 order size, in percent of equity (notional at the mid).
    double order_size_pct = 1.0;
    /// Level-0 order size in base-asset units; > 0 replaces order_size_pct. The models' q is
    /// then the inventory deviation divided by this size rounded to the step (exactly the number
    /// of orders filled), not by an unrounded size that moves with equity.
    double order_size_base = 0.0;
    /// Keep each quote at least one tick inside the visible book (a bid below the best ask, an
    /// ask above the best bid), as post-only orders need. false: the model's prices are sent as
    /// they are, through the mid or the touch (a model experiment on a simulated exchange that
    /// does not match against the displayed book, sim_exchange_config::match_book).
    bool clamp_to_book = true;
    volatility_params volatility;
    intensity_params intensity;
    linear_params linear;
    avellaneda_stoikov_params avellaneda_stoikov;
    glft_params glft;
    inventory_bands bands;
    level_params levels;
    estimator_params estimators;
};

} // namespace quoter::strategy
