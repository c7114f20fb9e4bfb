#include "quoter/strategy/quoting.hpp"

#include "compute_quotes.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

namespace quoter::strategy {

static_assert(std::is_trivially_copyable_v<quote_input>);
static_assert(std::is_trivially_copyable_v<quote_set>);
static_assert(std::is_trivially_copyable_v<strategy_config>);
static_assert(std::is_trivially_copyable_v<quote_plan>);

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

quote_plan::quote_plan(const strategy_config& config, const core::symbol_spec& spec) noexcept
    : config_(config), spec_(spec),
      level_count_(std::clamp<std::uint32_t>(config.levels.count, 1,
                                             static_cast<std::uint32_t>(max_quote_levels))),
      tick_spacing_(std::max(config.levels.spacing * spec.tick_size(), 0.0)),
      has_base_order_size_(config.order_size_base > 0.0) {
    constexpr double infinity = std::numeric_limits<double>::infinity();
    const double spacing = config.levels.spacing;
    if (config.levels.spacing_unit == spacing_kind::ticks) {
        finite_spacing_below_mid_ = std::isfinite(tick_spacing_) ? infinity : -infinity;
    } else if (std::isfinite(spacing)) {
        // mid * spacing / 1e4 is finite while mid * |spacing| is.
        finite_spacing_below_mid_ = std::fabs(spacing) <= 1.0 ? infinity
                                                              : std::numeric_limits<double>::max() /
                                                                    2.0 / std::fabs(spacing);
    } else {
        finite_spacing_below_mid_ = -infinity;
    }
    if (has_base_order_size_) {
        // Rounded once, so that q counts whole orders.
        base_order_size_ = spec.to_double(spec.round_qty_down(config.order_size_base));
    }
    // A minimum of M notional units needs ceil(M / (tick_units * step_units)) ticks * lots.
    const wide_product units_per_tick_lot =
        static_cast<wide_product>(spec.tick_units()) * static_cast<wide_product>(spec.step_units());
    const wide_product min_units = std::max<std::int64_t>(spec.min_notional_units(), 0);
    min_ticks_lots_ = (min_units + units_per_tick_lot - 1) / units_per_tick_lot;
    common_shape_ = config.model == model_kind::linear && level_count_ == 1 &&
                    !has_base_order_size_ && !config.volatility.absolute &&
                    !config.intensity.use_estimate && !config.symmetric && config.clamp_to_book &&
                    finite_spacing_below_mid_ == infinity;
}

quote_set compute_quotes(const quote_input& in, const strategy_config& config,
                         const core::symbol_spec& spec) noexcept {
    quote_set out;
    compute_quotes(in, quote_plan(config, spec), out);
    return out;
}

void compute_quotes(const quote_input& in, const strategy_config& config,
                    const core::symbol_spec& spec, quote_set& out) noexcept {
    compute_quotes(in, quote_plan(config, spec), out);
}

void compute_quotes(const quote_input& in, const quote_plan& plan, quote_set& out) noexcept {
    if (plan.common_shape()) {
        detail::quote_levels<true>(in, plan, out);
    } else {
        detail::quote_levels<false>(in, plan, out);
    }
}

} // namespace quoter::strategy
