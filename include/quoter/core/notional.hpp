// The exact notional of an order on the hot path: spec.notional_units(p, q) without its 128-bit
// product when every partial product fits in 64 bits, as it does for every realistic order.
#pragma once

#include "quoter/core/fixed_point.hpp"
#include "quoter/core/symbol_spec.hpp"

#include <cstdint>

namespace quoter::core {

/// price * quantity in notional units, exactly symbol_spec::notional_units (saturating at the
/// int64 limits), inline.
[[nodiscard]] inline std::int64_t exact_notional_units(const symbol_spec& spec, price p,
                                                       qty q) noexcept {
    std::int64_t price_units = 0;
    std::int64_t qty_units = 0;
    std::int64_t notional = 0;
    if (__builtin_mul_overflow(p.ticks(), spec.tick_units(), &price_units) ||
        __builtin_mul_overflow(q.lots(), spec.step_units(), &qty_units) ||
        __builtin_mul_overflow(price_units, qty_units, &notional)) [[unlikely]] {
        return spec.notional_units(p, q);
    }
    return notional;
}

} // namespace quoter::core
