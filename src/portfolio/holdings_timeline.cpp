#include "quoter/portfolio/holdings_timeline.hpp"

#include <algorithm>
#include <type_traits>

namespace quoter::portfolio {

static_assert(std::is_trivially_copyable_v<holdings_timeline>);

void holdings_timeline::record(std::int64_t venue_ms, const holdings_change& change) noexcept {
    if (venue_ms == 0) {
        return;
    }
    entry& slot = entries_[next_];
    if (count_ == capacity) {
        dropped_latest_ms_ = std::max(dropped_latest_ms_, slot.venue_ms);
    } else {
        ++count_;
    }
    slot = {venue_ms, change};
    next_ = (next_ + 1) % capacity;
}

holdings_timeline::sum holdings_timeline::after(std::int64_t venue_ms) const noexcept {
    sum out;
    out.complete = dropped_latest_ms_ <= venue_ms;
    for (std::size_t i = 0; i < count_; ++i) {
        const entry& e = entries_[i];
        if (e.venue_ms > venue_ms) {
            out.change.position += e.change.position;
            out.change.cash_units += e.change.cash_units;
            out.change.cost_units += e.change.cost_units;
            out.change.fee_asset_e8 += e.change.fee_asset_e8;
        }
    }
    return out;
}

void holdings_timeline::hold_through(std::int64_t venue_ms) noexcept {
    held_through_ms_ = std::max(held_through_ms_, venue_ms);
}

} // namespace quoter::portfolio
