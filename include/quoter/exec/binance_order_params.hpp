// binance_order_params: the order vocabulary both Binance order APIs share (spot WebSocket API
// and USD-M futures REST): how an order_request's side, time in force and post-only flag are
// spelled, and which answer to ask for.
#pragma once

#include "quoter/core/fixed_point.hpp"
#include "quoter/exec/order_types.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace quoter::exec {

/// newOrderRespType: ACK answers as soon as the matching engine took the order (fills come on
/// the user stream); RESULT also carries the order's state after matching.
enum class order_response_type : std::uint8_t { ack, result };

/// A caller buffer of this size holds any request the Binance encoders write.
inline constexpr std::size_t max_request_bytes = 1024;

[[nodiscard]] constexpr std::string_view side_text(core::side side) noexcept {
    return side == core::side::buy ? "BUY" : "SELL";
}

[[nodiscard]] constexpr std::string_view tif_text(time_in_force tif) noexcept {
    switch (tif) {
    case time_in_force::gtc:
        return "GTC";
    case time_in_force::ioc:
        return "IOC";
    case time_in_force::fok:
        return "FOK";
    }
    return "GTC";
}

[[nodiscard]] constexpr std::string_view response_type_text(order_response_type type) noexcept {
    return type == order_response_type::ack ? "ACK" : "RESULT";
}

} // namespace quoter::exec
