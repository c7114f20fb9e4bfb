#include "quoter/sim/markouts.hpp"

#include <algorithm>
#include <cmath>

namespace quoter::sim {

void markout_tracker::on_fill(core::timestamp_ns time, core::side side, double qty, double mid) {
    fills_.push_back({time, side == core::side::buy ? qty : -qty, mid});
    update_next_due();
}

void markout_tracker::settle(core::timestamp_ns time, double mid) noexcept {
    for (std::size_t h = 0; h < markout_horizons_ns.size(); ++h) {
        std::size_t& i = next_[h];
        while (i < fills_.size() && fills_[i].time + markout_horizons_ns[h] <= time) {
            cost_[h] -= fills_[i].signed_qty * (mid - fills_[i].mid);
            ++i;
        }
    }
    update_next_due();
}

void markout_tracker::update_next_due() noexcept {
    next_due_ = std::numeric_limits<core::timestamp_ns>::max();
    for (std::size_t h = 0; h < markout_horizons_ns.size(); ++h) {
        if (next_[h] < fills_.size()) {
            next_due_ = std::min(next_due_, fills_[next_[h]].time + markout_horizons_ns[h]);
        }
    }
}

markout_totals markout_tracker::totals() const noexcept {
    markout_totals out;
    out.fills = fills_.size();
    for (std::size_t h = 0; h < markout_horizons_ns.size(); ++h) {
        out.cost[h] = cost_[h];
        for (std::size_t i = next_[h]; i < fills_.size(); ++i) {
            ++out.truncated[h];
            if (std::isfinite(last_mid_)) {
                out.cost[h] -= fills_[i].signed_qty * (last_mid_ - fills_[i].mid);
            }
        }
    }
    return out;
}

} // namespace quoter::sim
