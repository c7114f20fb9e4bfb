#include "quoter/sim/records.hpp"

namespace quoter::sim {

std::string_view to_string(order_event event) noexcept {
    switch (event) {
    case order_event::submitted:
        return "submitted";
    case order_event::acknowledged:
        return "acknowledged";
    case order_event::partially_filled:
        return "partially_filled";
    case order_event::filled:
        return "filled";
    case order_event::cancel_requested:
        return "cancel_requested";
    case order_event::cancelled:
        return "cancelled";
    case order_event::rejected:
        return "rejected";
    }
    return "unknown";
}

std::string_view to_string(core::side side) noexcept {
    return side == core::side::buy ? "buy" : "sell";
}

std::string_view to_string(liquidity role) noexcept {
    return role == liquidity::maker ? "maker" : "taker";
}

} // namespace quoter::sim
