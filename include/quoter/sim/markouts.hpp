// markouts: adverse selection measured after each fill. The markout of a fill at horizon h is
// how far the mid moved against it h later, times its quantity:
//   cost_h = -side * qty * (mid(t + h) - mid(t)),   side = +1 for a buy, -1 for a sell,
// in quote units; positive when the mid moved against the fill (bought before a fall, sold
// before a rise). Summed over a run's fills it is the adverse selection cost of that horizon,
// reported beside spread capture (each fill's edge against the mid at the fill) and inventory
// PnL (everything else). mid(t + h) is the first mid observed at or after t + h; a fill whose
// horizon runs past the last observation is marked to that last mid (the position was held to
// the end), and counted as truncated.
//
// Threading: one instance per run, on the run's thread. on_mid() is a compare while nothing is
// due; on_fill() appends to a vector.
#pragma once

#include "quoter/core/fixed_point.hpp"
#include "quoter/core/time.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace quoter::sim {

/// The markout horizons, seconds: 1 s, 10 s, 60 s.
inline constexpr std::array<core::duration_ns, 3> markout_horizons_ns{
    core::ns_per_s, 10 * core::ns_per_s, 60 * core::ns_per_s};

/// A run's adverse selection costs, one per horizon of markout_horizons_ns.
struct markout_totals {
    /// Sum over fills of the mid move against each fill, quote units (positive: a cost).
    std::array<double, 3> cost{};
    /// Fills whose horizon ran past the last observed mid (marked to it).
    std::array<std::uint64_t, 3> truncated{};
    std::uint64_t fills = 0;
};

class markout_tracker {
public:
    /// A fill at time (ns) of qty base units (> 0) on side, with the mid at that moment.
    void on_fill(core::timestamp_ns time, core::side side, double qty, double mid);
    /// The mid at time (ns); times must not decrease. Settles every markout due by then.
    void on_mid(core::timestamp_ns time, double mid) noexcept {
        last_mid_ = mid;
        if (time >= next_due_) [[unlikely]] {
            settle(time, mid);
        }
    }
    /// The totals, with fills still pending marked to the last observed mid.
    [[nodiscard]] markout_totals totals() const noexcept;

private:
    struct pending_fill {
        core::timestamp_ns time = 0;
        double signed_qty = 0.0; ///< + bought, - sold
        double mid = 0.0;
    };

    void settle(core::timestamp_ns time, double mid) noexcept;
    void update_next_due() noexcept;

    std::vector<pending_fill> fills_;
    std::array<std::size_t, 3> next_{}; ///< first unsettled fill per horizon
    std::array<double, 3> cost_{};
    double last_mid_ = std::numeric_limits<double>::quiet_NaN();
    core::timestamp_ns next_due_ = std::numeric_limits<core::timestamp_ns>::max();
};

} // namespace quoter::sim
