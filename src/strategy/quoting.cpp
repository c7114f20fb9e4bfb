#include "quoter/strategy/quoting.hpp"

#include "quoter/core/notional.hpp"
#include "quoter/strategy/quote_models.hpp"

#include <algorithm>
#include <cmath>
#include <type_traits>

namespace quoter::strategy {

static_assert(std::is_trivially_copyable_v<quote_input>);
static_assert(std::is_trivially_copyable_v<quote_set>);
static_assert(std::is_trivially_copyable_v<strategy_config>);

namespace {

// Prices beyond this many ticks are treated as unusable, which also keeps the one-tick
// adjustments below far from int64 overflow.
constexpr std::int64_t max_sane_ticks = std::int64_t{1} << 60;

bool sane(core::price p) noexcept {
    return p.ticks() > 0 && p.ticks() < max_sane_ticks;
}

bool meets_min_notional(const core::symbol_spec& spec, core::price p, core::qty q) noexcept {
    return core::exact_notional_units(spec, p, q) >= spec.min_notional_units();
}

} // namespace

std::string_view to_string(quote_mode mode) noexcept {
    switch (mode) {
    case quote_mode::normal:
        return "normal";
    case quote_mode::reduce_only:
        return "reduce_only";
    case quote_mode::flatten:
        return "flatten";
    }
    return "unknown";
}

std::string_view to_string(quote_status status) noexcept {
    switch (status) {
    case quote_status::ok:
        return "ok";
    case quote_status::invalid_book:
        return "invalid_book";
    case quote_status::invalid_model:
        return "invalid_model";
    }
    return "unknown";
}

bool quote_set::any() const noexcept {
    for (std::uint32_t i = 0; i < level_count; ++i) {
        if (levels[i].has_bid() || levels[i].has_ask()) {
            return true;
        }
    }
    return false;
}

quote_mode classify_inventory(const inventory_bands& bands, double deviation, double mid,
                              double equity) noexcept {
    if (deviation == 0.0) {
        return quote_mode::normal;
    }
    const double exposure = std::fabs(deviation) * mid;
    const double capital = std::max(equity, 0.0);
    if (exposure >= capital * bands.hard_limit_pct / 100.0) {
        return quote_mode::flatten;
    }
    if (exposure >= capital * bands.soft_limit_pct / 100.0) {
        return quote_mode::reduce_only;
    }
    return quote_mode::normal;
}

quote_set compute_quotes(const quote_input& in, const strategy_config& config,
                         const core::symbol_spec& spec) noexcept {
    quote_set out;
    compute_quotes(in, config, spec, out);
    return out;
}

void compute_quotes(const quote_input& in, const strategy_config& config,
                    const core::symbol_spec& spec, quote_set& out) noexcept {
    // Back to a default quote_set: the levels past level_count are empty already.
    for (std::uint32_t i = 0; i < out.level_count && i < out.levels.size(); ++i) {
        out.levels[i] = core::quote_level{};
    }
    out.level_count = 0;
    out.mode = quote_mode::normal;
    out.status = quote_status::ok;
    // out.model is written whole below; the early returns clear it.
    if (!sane(in.best_bid) || !sane(in.best_ask) || in.best_ask <= in.best_bid || !(in.mid > 0.0) ||
        !std::isfinite(in.mid) || !std::isfinite(in.equity)) {
        out.model = quote_diagnostics{};
        out.status = quote_status::invalid_book;
        return;
    }

    const double deviation = spec.to_double(in.inventory) - config.bands.target_inventory;
    out.mode = classify_inventory(config.bands, deviation, in.mid, in.equity);
    // A size in units is rounded once here, so that q below counts whole orders.
    const double order_size =
        config.order_size_base > 0.0
            ? spec.to_double(spec.round_qty_down(config.order_size_base))
            : (in.equity > 0.0 ? in.equity * config.order_size_pct / 100.0 / in.mid : 0.0);

    const bool sigma_estimated = config.volatility.use_estimate && in.volatility_per_sqrt_s > 0.0 &&
                                 std::isfinite(in.volatility_per_sqrt_s);
    const bool intensity_estimated = config.intensity.use_estimate && in.intensity.fitted;

    model_inputs model_in;
    model_in.time = in.time;
    model_in.mid = in.mid;
    model_in.tick_size = spec.tick_size();
    model_in.inventory = deviation;
    model_in.q_orders = order_size > 0.0 ? deviation / order_size : 0.0;
    // The estimators measure relative volatility; an absolute config scales them by the mid.
    model_in.sigma_per_sqrt_s =
        sigma_estimated ? in.volatility_per_sqrt_s * (config.volatility.absolute ? in.mid : 1.0)
                        : config.volatility.sigma_per_sqrt_s;
    model_in.sigma_absolute = config.volatility.absolute;
    model_in.a_per_s = intensity_estimated ? in.intensity.a_per_s : config.intensity.a_per_s;
    model_in.k_per_tick =
        intensity_estimated ? in.intensity.k_per_tick : config.intensity.k_per_tick;

    const model_quote model = evaluate_model(config, model_in);
    if (!std::isfinite(model.center_offset) || !std::isfinite(model.half_spread) ||
        model.half_spread < 0.0) {
        out.model = quote_diagnostics{};
        out.status = quote_status::invalid_model;
        return;
    }

    double offset = config.symmetric ? 0.0 : model.center_offset;
    if (out.mode != quote_mode::normal) {
        offset *= config.bands.reduce_skew_multiplier;
    }
    const double center = in.mid + offset;
    const double half = model.half_spread;

    out.model = {.center_price = center,
                 .half_spread = half,
                 .order_size = order_size,
                 .inventory_deviation = deviation,
                 .sigma_per_sqrt_s = model_in.sigma_per_sqrt_s,
                 .a_per_s = model_in.a_per_s,
                 .k_per_tick = model_in.k_per_tick,
                 .sigma_estimated = sigma_estimated,
                 .intensity_estimated = intensity_estimated};

    if (out.mode == quote_mode::flatten) {
        // One order for the whole deviation at the most aggressive price post-only allows.
        out.level_count = 1;
        const core::qty size = spec.round_qty_down(std::fabs(deviation));
        core::quote_level& level = out.levels[0];
        if (deviation > 0.0) {
            const core::price ask = in.best_bid + 1;
            if (size.lots() > 0 && meets_min_notional(spec, ask, size)) {
                level.ask_price = ask;
                level.ask_size = size;
            }
        } else {
            const core::price bid = in.best_ask - 1;
            if (size.lots() > 0 && sane(bid) && meets_min_notional(spec, bid, size)) {
                level.bid_price = bid;
                level.bid_size = size;
            }
        }
        return;
    }

    bool quote_bid = out.mode == quote_mode::normal || deviation < 0.0;
    bool quote_ask = out.mode == quote_mode::normal || deviation > 0.0;
    const std::uint32_t count = std::clamp<std::uint32_t>(
        config.levels.count, 1, static_cast<std::uint32_t>(max_quote_levels));
    const double spacing = std::max(config.levels.spacing_unit == spacing_kind::ticks
                                        ? config.levels.spacing * spec.tick_size()
                                        : in.mid * config.levels.spacing / 1e4,
                                    0.0);
    out.level_count = count;

    core::price previous_bid;
    core::price previous_ask;
    double size = order_size;
    for (std::uint32_t i = 0; i < count; ++i, size *= config.levels.size_multiplier) {
        const core::qty lots = spec.round_qty_down(size);
        const double depth = spacing * static_cast<double>(i);
        core::quote_level& level = out.levels[i];
        core::price bid;
        if (quote_bid) {
            bid = spec.round_bid(center - half - depth);
            if (config.clamp_to_book) {
                bid = std::min(bid, in.best_ask - 1);
            }
            if (i > 0) {
                bid = std::min(bid, previous_bid - 1);
            }
            if (!sane(bid)) {
                quote_bid = false; // every deeper level would be lower still
            } else {
                previous_bid = bid;
                if (lots.lots() > 0 && meets_min_notional(spec, bid, lots)) {
                    level.bid_price = bid;
                    level.bid_size = lots;
                }
            }
        }
        if (quote_ask) {
            core::price ask = spec.round_ask(center + half + depth);
            if (config.clamp_to_book) {
                ask = std::max(ask, in.best_bid + 1);
            }
            if (i > 0) {
                ask = std::max(ask, previous_ask + 1);
            } else if (quote_bid) {
                // A zero half-spread on a grid point would otherwise put both sides on one price.
                ask = std::max(ask, bid + 1);
            }
            if (!sane(ask)) {
                quote_ask = false;
            } else {
                previous_ask = ask;
                if (lots.lots() > 0 && meets_min_notional(spec, ask, lots)) {
                    level.ask_price = ask;
                    level.ask_size = lots;
                }
            }
        }
    }
}

} // namespace quoter::strategy
