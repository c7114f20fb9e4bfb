// Records a simulation run produces for its metrics and reports: one pnl_sample per recorded step,
// one fill_record per fill, one order_record per order event. Plain values in doubles (quote-asset
// and base-asset units), converted from the exact fixed-point state by whoever records them; the
// metrics and report writers never see ticks or lots.
//
// Invariants the producers keep: samples, fills and orders are each in non-decreasing time order;
// equity = cash + inventory * mark and realized + unrealized - fees = equity - initial equity.
#pragma once

#include "quoter/core/fixed_point.hpp"
#include "quoter/core/time.hpp"

#include <cstdint>
#include <limits>
#include <string_view>

namespace quoter::sim {

/// Marks a quote side that is not working (no order): a quiet NaN.
inline constexpr double no_quote = std::numeric_limits<double>::quiet_NaN();

/// The state of a run at one instant.
struct pnl_sample {
    core::timestamp_ns time_ns = 0;
    double mid = 0.0;            ///< mark price, quote units per base unit
    double bid_quote = no_quote; ///< our best working bid price, or no_quote
    double ask_quote = no_quote; ///< our best working ask price, or no_quote
    double inventory = 0.0;      ///< position in base units (negative = short)
    double cash = 0.0;           ///< quote units, after fees
    double equity = 0.0;         ///< cash + inventory * mid, quote units
    double realized_pnl = 0.0;   ///< cumulative, before fees, quote units
    double unrealized_pnl = 0.0; ///< inventory marked to mid against its average price
    double fees = 0.0;           ///< cumulative fees paid, quote units (negative = net rebate)
};

enum class liquidity : std::uint8_t { maker, taker };

/// One fill of one of our orders.
struct fill_record {
    core::timestamp_ns time_ns = 0;
    std::uint64_t order_id = 0; ///< client order id
    core::side side = core::side::buy;
    std::uint8_t level = 0; ///< quoting level (0 = best)
    liquidity role = liquidity::maker;
    double price = 0.0;           ///< quote units per base unit
    double quantity = 0.0;        ///< base units, positive
    double fee = 0.0;             ///< quote units paid (negative = rebate received)
    double mid = 0.0;             ///< mid at the fill, for the spread-capture split
    double realized_pnl = 0.0;    ///< PnL this fill realized before fees (average-cost method)
    double inventory_after = 0.0; ///< position after the fill, base units
};

/// Lifecycle events of our orders, as orders.csv lists them.
enum class order_event : std::uint8_t {
    submitted,
    acknowledged,
    partially_filled,
    filled,
    cancel_requested,
    cancelled,
    rejected,
};

[[nodiscard]] std::string_view to_string(order_event event) noexcept;
[[nodiscard]] std::string_view to_string(core::side side) noexcept;
[[nodiscard]] std::string_view to_string(liquidity role) noexcept;

/// One event of one of our orders.
struct order_record {
    core::timestamp_ns time_ns = 0;
    std::uint64_t order_id = 0; ///< client order id
    order_event event = order_event::submitted;
    core::side side = core::side::buy;
    std::uint8_t level = 0;       ///< quoting level (0 = best)
    double price = 0.0;           ///< limit price, quote units per base unit
    double quantity = 0.0;        ///< order size, base units
    double filled_quantity = 0.0; ///< cumulative filled size after this event, base units
};

} // namespace quoter::sim
