#include "quoter/core/symbol_spec.hpp"

#include <cmath>
#include <limits>

namespace quoter::core {
namespace {

__extension__ typedef __int128 int128; // exact price * quantity products

std::int64_t saturate(int128 value) noexcept {
    constexpr auto hi = std::numeric_limits<std::int64_t>::max();
    constexpr auto lo = std::numeric_limits<std::int64_t>::min();
    if (value > hi) {
        return hi;
    }
    if (value < lo) {
        return lo;
    }
    return static_cast<std::int64_t>(value);
}

std::int64_t clamp_to_int64(double value) noexcept {
    // 2^63 is exactly representable; anything at or beyond it saturates.
    constexpr double limit = 9223372036854775808.0;
    if (!(value < limit)) {
        return value != value ? 0 : std::numeric_limits<std::int64_t>::max();
    }
    if (value < -limit) {
        return std::numeric_limits<std::int64_t>::min();
    }
    return static_cast<std::int64_t>(value);
}

// Grid values below this many units of 10^-decimals convert to double exactly, so a grid point's
// double (units / 10^decimals, one correctly rounded division) is the double nearest to its
// decimal value. Beyond it (prices of 10^13 quote units at 2 decimals) doubles are coarser than
// the grid and the plain quotient is used.
constexpr double exact_units_limit = 4503599627370496.0; // 2^52

/// The largest grid index k with k * unit_size <= value (floor) or the smallest with
/// k * unit_size >= value (ceil), where k * unit_size stands for the double nearest to the
/// decimal grid point units * k / 10^decimals. A value written as a grid point's decimal
/// ("100.00", "0.29") therefore maps to that point, and any other double to the neighbour on the
/// asked-for side: never a tolerance that could move it across the grid.
std::int64_t to_grid(double value, double size, double inverse, std::int64_t units, int decimals,
                     bool up) noexcept {
    // Fast path, the same answer as the search below without a division. With r = value / t
    // for the exact decimal grid size t, guess = value * (1 / size) is within |r| * 2^-50 of r
    // (t, 1 / size and the product each correctly rounded). When the guess lies farther than
    // |guess| * 2^-46 from every integer, r does too, so floor(r) * t and ceil(r) * t lie
    // farther than half an ulp of value from value: their correctly rounded doubles stay on
    // their side of it, and the grid point asked for is floor(guess) (ceil: floor + 1) with no
    // division back. Values at or near a grid point (every value written as one, e.g. "100.00")
    // and values beyond the exact range take the search; so does NaN (every comparison fails).
    const double guess = value * inverse;
    if (std::abs(guess) * static_cast<double>(units) < 0.5 * exact_units_limit) {
        const double below = std::floor(guess);
        const double fraction = guess - below; // exact for |guess| >= 1 (Sterbenz) and in [0, 1)
        const double margin = std::abs(guess) * 0x1p-46 + 0x1p-60;
        if (fraction > margin && 1.0 - fraction > margin) {
            return static_cast<std::int64_t>(up ? below + 1.0 : below);
        }
    }
    const double quotient = value / size;
    if (!(std::abs(quotient) * static_cast<double>(units) < exact_units_limit)) {
        return clamp_to_int64(up ? std::ceil(quotient) : std::floor(quotient)); // NaN -> 0
    }
    const auto scale = static_cast<double>(pow10(decimals));
    const auto point = [&](std::int64_t k) { return static_cast<double>(k * units) / scale; };
    // The quotient is within one index of the answer; step to it.
    auto k = static_cast<std::int64_t>(up ? std::ceil(quotient) : std::floor(quotient));
    if (up) {
        while (point(k) < value) {
            ++k;
        }
        while (point(k - 1) >= value) {
            --k;
        }
    } else {
        while (point(k) > value) {
            --k;
        }
        while (point(k + 1) <= value) {
            ++k;
        }
    }
    return k;
}

} // namespace

std::string_view describe(spec_error error) noexcept {
    switch (error) {
    case spec_error::none:
        return "no error";
    case spec_error::bad_tick_size:
        return "tick size must be a positive decimal";
    case spec_error::bad_step_size:
        return "step size must be a positive decimal";
    case spec_error::bad_min_notional:
        return "min notional must be a non-negative decimal";
    case spec_error::too_precise:
        return "tick and step sizes together exceed 18 decimals";
    }
    return "unknown error";
}

result<symbol_spec, spec_error> symbol_spec::from_text(const symbol_filters_text& text) {
    symbol_spec spec;
    spec.name_ = symbol_name(text.name);

    const auto price_decimals = significant_decimals(text.tick_size);
    if (!price_decimals) {
        return unexpected{spec_error::bad_tick_size};
    }
    const auto qty_decimals = significant_decimals(text.step_size);
    if (!qty_decimals) {
        return unexpected{spec_error::bad_step_size};
    }
    if (*price_decimals + *qty_decimals > max_decimals) {
        return unexpected{spec_error::too_precise};
    }
    spec.price_decimals_ = *price_decimals;
    spec.qty_decimals_ = *qty_decimals;

    const auto tick = parse_decimal(text.tick_size, {.decimals = spec.price_decimals_});
    if (!tick || *tick <= 0) {
        return unexpected{spec_error::bad_tick_size};
    }
    const auto step = parse_decimal(text.step_size, {.decimals = spec.qty_decimals_});
    if (!step || *step <= 0) {
        return unexpected{spec_error::bad_step_size};
    }
    spec.tick_units_ = *tick;
    spec.step_units_ = *step;
    spec.tick_grid_ = grid_divisor(spec.tick_units_);
    spec.step_grid_ = grid_divisor(spec.step_units_);

    if (!text.min_notional.empty()) {
        const auto min_notional = parse_decimal(
            text.min_notional, {.decimals = spec.price_decimals_ + spec.qty_decimals_});
        if (!min_notional || *min_notional < 0) {
            return unexpected{spec_error::bad_min_notional};
        }
        spec.min_notional_units_ = *min_notional;
    }
    spec.tick_size_ =
        static_cast<double>(spec.tick_units_) / static_cast<double>(pow10(spec.price_decimals_));
    spec.step_size_ =
        static_cast<double>(spec.step_units_) / static_cast<double>(pow10(spec.qty_decimals_));
    spec.tick_inverse_ = 1.0 / spec.tick_size_;
    spec.step_inverse_ = 1.0 / spec.step_size_;
    spec.tick_guess_limit_ = 0x1p50 / static_cast<double>(spec.tick_units_);
    spec.step_guess_limit_ = 0x1p50 / static_cast<double>(spec.step_units_);
    return spec;
}

bool symbol_spec::set_venue_maximums(std::string_view max_qty,
                                     std::string_view max_notional) noexcept {
    std::int64_t lots = 0;
    if (!max_qty.empty()) {
        const auto units = parse_decimal(max_qty, {.decimals = qty_decimals_});
        if (!units || *units < 0) {
            return false;
        }
        lots = *units / step_units_;
    }
    std::int64_t notional = 0;
    if (!max_notional.empty()) {
        const auto units =
            parse_decimal(max_notional, {.decimals = price_decimals_ + qty_decimals_});
        if (!units || *units < 0) {
            return false;
        }
        notional = *units;
    }
    max_qty_ = qty{lots};
    max_notional_units_ = notional;
    return true;
}

std::string_view symbol_spec::format_price(price p, std::span<char> out) const noexcept {
    return format_decimal(saturate(static_cast<int128>(p.ticks()) * tick_units_), price_decimals_,
                          out);
}

std::string_view symbol_spec::format_qty(qty q, std::span<char> out) const noexcept {
    return format_decimal(saturate(static_cast<int128>(q.lots()) * step_units_), qty_decimals_,
                          out);
}

price symbol_spec::round_bid_exact(double value) const noexcept {
    return price{to_grid(value, tick_size_, tick_inverse_, tick_units_, price_decimals_, false)};
}

price symbol_spec::round_ask_exact(double value) const noexcept {
    return price{to_grid(value, tick_size_, tick_inverse_, tick_units_, price_decimals_, true)};
}

price symbol_spec::round_nearest(double value) const noexcept {
    return price{clamp_to_int64(std::nearbyint(value / tick_size_))};
}

qty symbol_spec::round_qty_down_exact(double value) const noexcept {
    return qty{to_grid(value, step_size_, step_inverse_, step_units_, qty_decimals_, false)};
}

std::int64_t symbol_spec::notional_units(price p, qty q) const noexcept {
    return saturate(static_cast<int128>(p.ticks()) * tick_units_ *
                    (static_cast<int128>(q.lots()) * step_units_));
}

} // namespace quoter::core
