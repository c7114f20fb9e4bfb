// book_level: one aggregated price level of an order book side, a price and the total quantity
// displayed at it. The market-data books (md::order_book, md_event), the decoders and the
// simulated exchange's view of the venue book (exec::sim_exchange) all speak it. The quantity's
// lots are those of the book it comes from (book lots in md, trading lots in exec; see
// md::instrument). Trivially copyable.
#pragma once

#include "quoter/core/fixed_point.hpp"

namespace quoter::core {

/// One aggregated price level: a price and the total quantity displayed at it.
struct book_level {
    core::price px;
    core::qty qty;

    friend constexpr bool operator==(const book_level&, const book_level&) = default;
};

} // namespace quoter::core
