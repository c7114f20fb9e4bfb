// compute_quotes()'s body, inline, for the two units that run it: quoting.cpp (the public
// functions) and quoting_strategy.cpp, whose per-update quote() inlines it so that the
// quote_input it builds never leaves registers.
//
// quote_levels<true> is the same body for a plan of the common shape (quote_plan::common_shape):
// the choices that shape fixes are constants there, so the compiler drops their branches and
// the loop over levels. Every value is computed by the same operations in the same order as in
// quote_levels<false>, so both give the same quotes bit for bit.
#pragma once

#include "quoter/strategy/quote_models.hpp"
#include "quoter/strategy/quoting.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace quoter::strategy::detail {

// Prices beyond this many ticks are treated as unusable, which also keeps the one-tick
// adjustments below far from int64 overflow.
inline constexpr std::int64_t max_sane_ticks = std::int64_t{1} << 60;

[[nodiscard]] inline bool sane(core::price p) noexcept {
    return p.ticks() > 0 && p.ticks() < max_sane_ticks;
}

// Writes a level one side at a time, its price and size in one 16-byte store. The quote is read
// back at once, by copies of a side's price and size together (16-byte loads), and the store
// buffer forwards a load only from a store that covers it: four 8-byte stores, the compiler's
// choice for fields computed in general registers, would hold each of those loads until the
// stores reach the cache.
inline void store_level(core::quote_level& to, const core::quote_level& level) noexcept {
#if defined(__SSE2__)
    static_assert(sizeof(core::price) == 8 && sizeof(core::qty) == 8 &&
                  offsetof(core::quote_level, bid_size) == 8 &&
                  offsetof(core::quote_level, ask_size) == 24);
    // __m128i may alias any type.
    _mm_storeu_si128(reinterpret_cast<__m128i*>(&to.bid_price),
                     _mm_set_epi64x(level.bid_size.lots(), level.bid_price.ticks()));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(&to.ask_price),
                     _mm_set_epi64x(level.ask_size.lots(), level.ask_price.ticks()));
#else
    to = level;
#endif
}

template <bool common_shape>
inline void quote_levels(const quote_input& in, const quote_plan& plan, quote_set& out) noexcept {
    const strategy_config& config = plan.config();
    const core::symbol_spec& spec = plan.spec();
    // The choices a plan of the common shape has made (quote_plan checks them).
    const bool linear = common_shape || config.model == model_kind::linear;
    const bool base_size = !common_shape && plan.has_base_order_size();
    const bool absolute_volatility = !common_shape && config.volatility.absolute;
    const bool intensity_estimate = !common_shape && config.intensity.use_estimate;
    const bool symmetric = !common_shape && config.symmetric;
    const bool clamp_to_book = common_shape || config.clamp_to_book;
    const std::uint32_t count = common_shape ? 1 : plan.level_count();
    // Its spacing is finite at every mid, and the mid is finite here: level 0 at depth zero.
    const auto top_level_depth = [&] { return common_shape ? 0.0 : plan.top_level_depth(in.mid); };

    // Levels are written whole below; those the last output used beyond this one's are cleared.
    const std::uint32_t used_before =
        std::min(out.level_count, static_cast<std::uint32_t>(max_quote_levels));
    const auto finish = [&out, used_before](std::uint32_t level_count) {
        for (std::uint32_t i = level_count; i < used_before; ++i) {
            out.levels[i] = core::quote_level{};
        }
        out.level_count = level_count;
    };
    // Both prices sane and the ask above the bid: a positive bid below an ask below the limit.
    // The mid positive and finite, the equity finite.
    constexpr double infinity = std::numeric_limits<double>::infinity();
    if (!(in.best_bid.ticks() > 0 && in.best_ask > in.best_bid &&
          in.best_ask.ticks() < max_sane_ticks && in.mid > 0.0 && in.mid < infinity &&
          std::fabs(in.equity) < infinity)) {
        finish(0);
        out.mode = quote_mode::normal;
        out.status = quote_status::invalid_book;
        out.model = quote_diagnostics{}; // written whole below on the other paths
        return;
    }

    const double deviation = spec.to_double(in.inventory) - config.bands.target_inventory;
    const quote_mode mode = classify_inventory(config.bands, deviation, in.mid, in.equity);
    out.mode = mode;
    const double order_size =
        base_size ? plan.base_order_size()
                  : (in.equity > 0.0 ? in.equity * config.order_size_pct / 100.0 / in.mid : 0.0);

    const bool sigma_estimated = config.volatility.use_estimate && in.volatility_per_sqrt_s > 0.0 &&
                                 in.volatility_per_sqrt_s < infinity;
    const bool intensity_estimated = intensity_estimate && in.intensity.fitted;

    // The estimators measure relative volatility; an absolute config scales them by the mid.
    const double sigma = sigma_estimated
                             ? in.volatility_per_sqrt_s * (absolute_volatility ? in.mid : 1.0)
                             : config.volatility.sigma_per_sqrt_s;
    const double a_per_s = intensity_estimated ? in.intensity.a_per_s : config.intensity.a_per_s;
    const double k_per_tick =
        intensity_estimated ? in.intensity.k_per_tick : config.intensity.k_per_tick;
    const auto model_in = [&](double q_orders) {
        return model_inputs{.time = in.time,
                            .mid = in.mid,
                            .tick_size = spec.tick_size(),
                            .inventory = deviation,
                            .q_orders = q_orders,
                            .sigma_per_sqrt_s = sigma,
                            .sigma_absolute = absolute_volatility,
                            .a_per_s = a_per_s,
                            .k_per_tick = k_per_tick};
    };
    // Inline, the linear model's inputs stay in registers; the others are called with theirs.
    const model_quote model =
        linear ? linear_quote(config.linear, model_in(0.0))
               : evaluate_model(config, model_in(order_size > 0.0 ? deviation / order_size : 0.0));
    if (!(std::fabs(model.center_offset) < infinity && model.half_spread >= 0.0 &&
          model.half_spread < infinity)) {
        finish(0);
        out.status = quote_status::invalid_model;
        out.model = quote_diagnostics{};
        return;
    }
    out.status = quote_status::ok;

    double offset = symmetric ? 0.0 : model.center_offset;
    if (mode != quote_mode::normal) {
        offset *= config.bands.reduce_skew_multiplier;
    }
    const double center = in.mid + offset;
    const double half = model.half_spread * in.spread_multiplier;

    out.model = {.center_price = center,
                 .half_spread = half,
                 .order_size = order_size,
                 .inventory_deviation = deviation,
                 .sigma_per_sqrt_s = sigma,
                 .a_per_s = a_per_s,
                 .k_per_tick = k_per_tick,
                 .sigma_estimated = sigma_estimated,
                 .intensity_estimated = intensity_estimated};

    if (mode == quote_mode::flatten) {
        // One order for the whole deviation at the most aggressive price post-only allows.
        const core::qty size = spec.round_qty_down(std::fabs(deviation));
        core::quote_level level;
        if (deviation > 0.0) {
            const core::price ask = in.best_bid + 1;
            if (size.lots() > 0 && plan.meets_min_notional(ask, size)) {
                level.ask_price = ask;
                level.ask_size = size;
            }
        } else {
            const core::price bid = in.best_ask - 1;
            if (size.lots() > 0 && sane(bid) && plan.meets_min_notional(bid, size)) {
                level.bid_price = bid;
                level.bid_size = size;
            }
        }
        store_level(out.levels[0], level);
        finish(1);
        return;
    }

    bool quote_bid = mode == quote_mode::normal || deviation < 0.0;
    bool quote_ask = mode == quote_mode::normal || deviation > 0.0;
    // Deeper levels sit spacing * i behind level 0.
    const double spacing = count > 1 ? plan.level_spacing(in.mid) : 0.0;
    core::price previous_bid;
    core::price previous_ask;
    double size = order_size;
    for (std::uint32_t i = 0; i < count; ++i, size *= config.levels.size_multiplier) {
        const core::qty lots = spec.round_qty_down(size);
        const double depth = i == 0 ? top_level_depth() : spacing * static_cast<double>(i);
        // Both sides rounded at once (bids down, asks up), whether or not both are quoted.
        const auto [bid_on_grid, ask_on_grid] =
            spec.round_bid_ask(center - half - depth, center + half + depth);
        core::quote_level level;
        core::price bid;
        // Set when the bid meets the minimum notional: the ask, higher at the same size, does too.
        bool notional_met = false;
        if (quote_bid) {
            bid = bid_on_grid;
            if (clamp_to_book) {
                bid = std::min(bid, in.best_ask - 1);
            }
            if (i > 0) {
                bid = std::min(bid, previous_bid - 1);
            }
            if (!sane(bid)) {
                quote_bid = false; // every deeper level would be lower still
            } else {
                previous_bid = bid;
                notional_met = lots.lots() > 0 && plan.meets_min_notional(bid, lots);
                if (notional_met) {
                    level.bid_price = bid;
                    level.bid_size = lots;
                }
            }
        }
        if (quote_ask) {
            core::price ask = ask_on_grid;
            if (clamp_to_book) {
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
                if (notional_met || (lots.lots() > 0 && plan.meets_min_notional(ask, lots))) {
                    level.ask_price = ask;
                    level.ask_size = lots;
                }
            }
        }
        store_level(out.levels[i], level);
    }
    finish(count);
}

} // namespace quoter::strategy::detail
