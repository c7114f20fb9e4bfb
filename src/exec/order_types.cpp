#include "quoter/exec/order_types.hpp"

#include "quoter/exec/order_gateway.hpp"

namespace quoter::exec {

client_order_id_text format_client_order_id(client_order_id id,
                                             std::string_view prefix) noexcept {
    constexpr std::string_view hex_digits = "0123456789abcdef";
    client_order_id_text text;
    const std::size_t prefix_size =
        prefix.size() < max_client_order_id_prefix ? prefix.size() : max_client_order_id_prefix;
    for (std::size_t i = 0; i < prefix_size; ++i) {
        text.chars_[i] = prefix[i];
    }
    for (std::size_t i = 0; i < 16; ++i) {
        const auto nibble = (id.value >> (4U * (15U - i))) & 0xfU;
        text.chars_[prefix_size + i] = hex_digits[nibble];
    }
    text.size_ = static_cast<std::uint8_t>(prefix_size + 16);
    return text;
}

core::result<client_order_id, client_order_id_error>
parse_client_order_id(std::string_view text, std::string_view prefix) noexcept {
    if (prefix.size() > max_client_order_id_prefix) {
        prefix = prefix.substr(0, max_client_order_id_prefix);
    }
    if (text.size() < prefix.size() || text.substr(0, prefix.size()) != prefix) {
        return core::unexpected{client_order_id_error::wrong_prefix};
    }
    const std::string_view digits = text.substr(prefix.size());
    if (digits.size() != 16) {
        return core::unexpected{client_order_id_error::bad_digits};
    }
    std::uint64_t value = 0;
    for (const char c : digits) {
        std::uint64_t nibble = 0;
        if (c >= '0' && c <= '9') {
            nibble = static_cast<std::uint64_t>(c) - std::uint64_t{'0'};
        } else if (c >= 'a' && c <= 'f') {
            nibble = static_cast<std::uint64_t>(c) - std::uint64_t{'a'} + 10;
        } else {
            return core::unexpected{client_order_id_error::bad_digits};
        }
        value = (value << 4U) | nibble;
    }
    if (value == 0) {
        return core::unexpected{client_order_id_error::zero};
    }
    return client_order_id{value};
}

std::string_view describe(exec_kind kind) noexcept {
    switch (kind) {
    case exec_kind::ack: return "ack";
    case exec_kind::reject: return "reject";
    case exec_kind::partial_fill: return "partial_fill";
    case exec_kind::fill: return "fill";
    case exec_kind::cancelled: return "cancelled";
    case exec_kind::cancel_reject: return "cancel_reject";
    case exec_kind::unknown: return "unknown";
    }
    return "unknown";
}

std::string_view describe(reject_reason reason) noexcept {
    switch (reason) {
    case reject_reason::none: return "none";
    case reject_reason::post_only_would_cross: return "post-only order would take liquidity";
    case reject_reason::invalid_client_id: return "client order id must not be 0";
    case reject_reason::duplicate_client_id: return "duplicate client order id";
    case reject_reason::too_many_open_orders: return "too many open orders";
    case reject_reason::invalid_price: return "price must be positive";
    case reject_reason::invalid_qty: return "quantity must be positive";
    case reject_reason::unknown_symbol: return "unknown symbol";
    case reject_reason::reduce_only_would_increase: return "reduce-only order would increase the position";
    case reject_reason::unknown_order: return "unknown order";
    case reject_reason::expired: return "expired";
    case reject_reason::user_cancel: return "cancelled on request";
    case reject_reason::risk_refused: return "refused by the pre-trade risk checks";
    case reject_reason::rate_limited: return "request rate limit reached";
    case reject_reason::held_back: return "held back by the request-rate limiter";
    case reject_reason::venue_refused: return "refused by the venue";
    }
    return "unknown";
}

std::string_view describe(gateway_error error) noexcept {
    switch (error) {
    case gateway_error::none: return "no error";
    case gateway_error::queue_full: return "outgoing request queue full";
    case gateway_error::rate_limited: return "request rate limit reached";
    case gateway_error::disconnected: return "not connected to the venue";
    case gateway_error::reconciling: return "reconciling with the venue";
    }
    return "unknown error";
}

} // namespace quoter::exec
