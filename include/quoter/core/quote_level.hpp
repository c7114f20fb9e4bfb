// quote_level: one level of two-sided quotes, a bid and an ask with their sizes. The strategy
// produces them (strategy::quote_set), the synthetic market samples fills against them
// (sim::synthetic_market), and the core loop turns them into the quote manager's per-side orders
// (exec::desired_quotes). Trivially copyable, no invariants beyond "size 0 means no quote".
#pragma once

#include "quoter/core/fixed_point.hpp"

namespace quoter::core {

/// One level of quotes, level 0 closest to the mid. A side with size 0 is absent.
struct quote_level {
    price bid_price;
    qty bid_size; ///< Lots; 0: no bid at this level.
    price ask_price;
    qty ask_size; ///< Lots; 0: no ask at this level.

    [[nodiscard]] constexpr bool has_bid() const noexcept { return bid_size.lots() > 0; }
    [[nodiscard]] constexpr bool has_ask() const noexcept { return ask_size.lots() > 0; }
};

} // namespace quoter::core
