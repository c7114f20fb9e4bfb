// Reading [strategy] and its sub-tables. Every key is declared once, with the struct's own
// default; docs/config.md lists them (the app tests compare). Declaration order is the order
// `quoter config check` lists the keys in.
#include "quoter/strategy/strategy_config_reader.hpp"

#include "quoter/config/config.hpp"

#include <fmt/format.h>

#include <array>
#include <chrono>
#include <cstdint>

namespace quoter::strategy {
namespace {

constexpr std::array<config::choice_option<model_kind>, 3> model_kinds{{
    {"linear", model_kind::linear},
    {"avellaneda_stoikov", model_kind::avellaneda_stoikov},
    {"glft", model_kind::glft},
}};
constexpr std::array<config::choice_option<horizon_kind>, 2> horizon_kinds{{
    {"finite", horizon_kind::finite},
    {"rolling", horizon_kind::rolling},
}};
constexpr std::array<config::choice_option<spacing_kind>, 2> spacing_kinds{{
    {"ticks", spacing_kind::ticks},
    {"bps", spacing_kind::bps},
}};
constexpr std::array<config::choice_option<volatility_kind>, 2> volatility_kinds{{
    {"realized", volatility_kind::realized},
    {"ewma", volatility_kind::ewma},
}};

// Durations the modules keep in ns but the file writes in whole seconds or milliseconds.
std::int64_t whole_seconds(core::duration_ns ns) noexcept {
    return ns / core::ns_per_s;
}

void read_linear(config::section s, linear_params& out) {
    out.spread_bps = s.number("spread_bps", out.spread_bps, {.min = 0, .max = 10000},
                              "Full quoted spread before volatility widening, bps of the mid");
    out.inventory_skew_strength =
        s.number("inventory_skew_strength", out.inventory_skew_strength, {.min = 0},
                 "Multiplier of the inventory skew (skewed_mid = mid - strength * inventory * "
                 "price_impact)");
    out.price_impact = s.number("price_impact", out.price_impact, {.min = 0, .unit = "quote/base"},
                                "Expected mid move per base unit of inventory, quote asset per "
                                "base unit; 0 disables the skew");
    out.vol_spread_factor =
        s.number("vol_spread_factor", out.vol_spread_factor, {.min = 0},
                 "Spread widening per unit of vol / normal_vol; 0 keeps the spread fixed");
    out.normal_vol_per_sqrt_s =
        s.number("normal_vol_per_sqrt_s", out.normal_vol_per_sqrt_s,
                 {.min = 0, .exclusive_min = true, .unit = "1/sqrt(s)"},
                 "Reference volatility of the mid's log return, per sqrt(second)");
}

void read_avellaneda_stoikov(config::section s, avellaneda_stoikov_params& out) {
    out.gamma_per_tick =
        s.number("gamma_per_tick", out.gamma_per_tick, {.min = 0, .unit = "1/tick"},
                 "Risk aversion gamma, per tick (inventory in order sizes)");
    out.horizon = s.choice("horizon", out.horizon, horizon_kinds,
                           "T - t: finite (ends at terminal_time_s) or rolling (held at "
                           "horizon_s, for continuous trading)");
    out.horizon_s =
        s.number("horizon_s", out.horizon_s, {.min = 0}, "Rolling horizon: the constant T - t");
    const double terminal_s =
        s.number("terminal_time_s", static_cast<double>(out.terminal_time_ns) * 1e-9, {.min = 0},
                 "Finite horizon: T in simulated time since the start; 0: the end of the "
                 "backtest (backtest.duration_s)");
    out.terminal_time_ns = static_cast<core::timestamp_ns>(terminal_s * 1e9);
}

void read_glft(config::section s, glft_params& out) {
    out.gamma_per_tick = s.number("gamma_per_tick", out.gamma_per_tick,
                                  {.min = 0, .unit = "1/tick"}, "Risk aversion gamma, per tick");
    out.xi_equals_gamma = s.boolean("xi_equals_gamma", out.xi_equals_gamma,
                                    "xi = gamma (exponential utility); false: xi = xi_per_tick");
    out.xi_per_tick = s.number("xi_per_tick", out.xi_per_tick, {.min = 0, .unit = "1/tick"},
                               "xi when xi_equals_gamma = false; 0: risk-neutral with a running "
                               "inventory penalty");
    out.delta_orders = s.number("delta_orders", out.delta_orders, {.min = 0, .exclusive_min = true},
                                "Order size Delta in level-0 order sizes");
}

void read_volatility(config::section s, volatility_params& model, estimator_params& estimators) {
    model.use_estimate = s.boolean("use_estimate", model.use_estimate,
                                   "Use the online estimate once it is ready; else always "
                                   "sigma_per_sqrt_s");
    model.sigma_per_sqrt_s =
        s.number("sigma_per_sqrt_s", model.sigma_per_sqrt_s, {.min = 0, .unit = "1/sqrt(s)"},
                 "Fixed volatility of the mid's log return per sqrt(second), and the fallback "
                 "until the estimate is ready");
    estimators.volatility = s.choice("estimator", estimators.volatility, volatility_kinds,
                                     "Online estimator: realized (trailing window) or ewma");
    auto& realized = estimators.realized;
    auto& ewma = estimators.ewma;
    realized.window_ns = core::ns_per_s * s.integer<std::int64_t>(
                                              "window_s", whole_seconds(realized.window_ns),
                                              {.min = 1, .max = 7 * 24 * 3600},
                                              "Realized volatility: length of the trailing window");
    const auto interval =
        s.duration_ms("sample_interval_ms",
                      std::chrono::milliseconds(realized.sample_interval_ns / core::ns_per_ms),
                      {.min = 1, .max = 3'600'000},
                      "Minimum time between two samples of the mid (both estimators)");
    realized.sample_interval_ns = interval.count() * core::ns_per_ms;
    ewma.sample_interval_ns = realized.sample_interval_ns;
    realized.min_samples =
        s.integer("min_samples", realized.min_samples, {.min = 1, .max = 1'000'000},
                  "Realized volatility: returns in the window before the estimate is used");
    ewma.half_life_ns = core::ns_per_s * s.integer<std::int64_t>(
                                             "ewma_half_life_s", whole_seconds(ewma.half_life_ns),
                                             {.min = 1, .max = 7 * 24 * 3600},
                                             "EWMA: time for a sample's weight to halve");
    ewma.min_samples = s.integer("ewma_min_samples", ewma.min_samples, {.min = 1, .max = 1'000'000},
                                 "EWMA: returns seen before the estimate is used");
    if (realized.window_ns < realized.sample_interval_ns * realized.min_samples) {
        s.warning("min_samples",
                  fmt::format("the window holds at most {} samples of {} ms, fewer than "
                              "min_samples = {}: the estimate is never used",
                              realized.window_ns / realized.sample_interval_ns, interval.count(),
                              realized.min_samples));
    }
}

void read_intensity(config::section s, intensity_params& model,
                    intensity_estimator_config& estimator) {
    model.use_estimate = s.boolean("use_estimate", model.use_estimate,
                                   "Use the online fit of A and k from fills once it is trusted");
    model.a_per_s = s.number("a_per_s", model.a_per_s, {.min = 0, .exclusive_min = true},
                             "Arrival intensity A of market orders reaching the mid, per second "
                             "(Avellaneda-Stoikov, GLFT)");
    model.k_per_tick = s.number("k_per_tick", model.k_per_tick,
                                {.min = 0, .exclusive_min = true, .unit = "1/tick"},
                                "Decay k of the intensity A * exp(-k * delta) with the distance "
                                "from the mid, per tick");
    estimator.bucket_ticks =
        s.number("bucket_ticks", estimator.bucket_ticks, {.min = 0, .exclusive_min = true},
                 "Online fit: width of a distance bucket");
    estimator.bucket_count =
        s.integer("bucket_count", estimator.bucket_count,
                  {.min = 2, .max = static_cast<std::int64_t>(intensity_estimator::max_buckets)},
                  "Online fit: number of distance buckets");
    estimator.decay_ns =
        core::ns_per_s * s.integer<std::int64_t>("decay_s", whole_seconds(estimator.decay_ns),
                                                 {.min = 0, .max = 7 * 24 * 3600},
                                                 "Online fit: time constant of forgetting old "
                                                 "fills; 0: never forget");
    estimator.min_trades = s.number("min_trades", estimator.min_trades, {.min = 0},
                                    "Online fit: effective fill count before it is trusted");
    estimator.min_buckets =
        s.integer("min_buckets", estimator.min_buckets,
                  {.min = 2, .max = static_cast<std::int64_t>(intensity_estimator::max_buckets)},
                  "Online fit: buckets with fills needed for the regression");
    estimator.refit_interval_ns =
        core::ns_per_ms *
        s.duration_ms("refit_interval_ms",
                      std::chrono::milliseconds(estimator.refit_interval_ns / core::ns_per_ms),
                      {.min = 0, .max = 3'600'000},
                      "Online fit: minimum time between two fits; 0: after every fill")
            .count();
    if (estimator.min_buckets > estimator.bucket_count) {
        s.error("min_buckets",
                fmt::format("must be at most bucket_count ({})", estimator.bucket_count));
    }
}

void read_bands(config::section s, inventory_bands& out) {
    out.target_inventory = s.number("target_inventory", out.target_inventory, {.unit = "base"},
                                    "Inventory the strategy steers toward, base asset");
    out.soft_limit_pct =
        s.number("soft_limit_pct", out.soft_limit_pct, {.min = 0, .max = 1000},
                 "Soft band: beyond this deviation (notional, % of equity) only the reducing "
                 "side is quoted, skewed harder");
    out.hard_limit_pct =
        s.number("hard_limit_pct", out.hard_limit_pct, {.min = 0, .max = 1000},
                 "Hard limit: beyond this deviation (notional, % of equity) stop opening and "
                 "flatten with one aggressive post-only order");
    out.reduce_skew_multiplier =
        s.number("reduce_skew_multiplier", out.reduce_skew_multiplier, {.min = 0},
                 "Skew multiplier beyond the soft band (>= 1 skews harder)");
    if (out.hard_limit_pct < out.soft_limit_pct) {
        s.error("hard_limit_pct",
                fmt::format("must be at least soft_limit_pct ({})", out.soft_limit_pct));
    }
}

void read_levels(config::section s, level_params& out) {
    out.count = s.integer("count", out.count,
                          {.min = 1, .max = static_cast<std::int64_t>(max_quote_levels)},
                          "Quote levels per side");
    out.spacing = s.number("spacing", out.spacing, {.min = 0},
                           "Distance between consecutive levels, in spacing_unit (levels stay at "
                           "least one tick apart)");
    out.spacing_unit = s.choice("spacing_unit", out.spacing_unit, spacing_kinds,
                                "Unit of spacing: ticks or bps of the mid");
    out.size_multiplier =
        s.number("size_multiplier", out.size_multiplier, {.min = 0, .exclusive_min = true},
                 "Size of level i = level-0 size * size_multiplier^i");
}

} // namespace

void read_strategy_config(config::section s, strategy_config& out) {
    out.model = s.choice("model", out.model, model_kinds,
                         "Quoting model: linear, avellaneda_stoikov or glft");
    out.symmetric = s.boolean("symmetric", out.symmetric,
                              "Centre every model's spread on the mid instead of its skewed "
                              "(reservation) price: the no-skew benchmark");
    out.order_size_pct = s.number("order_size_pct", out.order_size_pct,
                                  {.min = 0, .max = 100, .exclusive_min = true},
                                  "Level-0 order size, % of equity (notional at the mid)");
    read_linear(s.sub("linear"), out.linear);
    read_avellaneda_stoikov(s.sub("avellaneda_stoikov"), out.avellaneda_stoikov);
    read_glft(s.sub("glft"), out.glft);
    read_volatility(s.sub("volatility"), out.volatility, out.estimators);
    read_intensity(s.sub("intensity"), out.intensity, out.estimators.intensity);
    read_bands(s.sub("bands"), out.bands);
    read_levels(s.sub("levels"), out.levels);
}

} // namespace quoter::strategy
