// binance_order_params: the order vocabulary both Binance order APIs share (spot WebSocket API
// and USD-M futures REST): how an order_request's side, time in force and post-only flag are
// spelled, which answer to ask for, and the order states and short texts the answers carry.
#pragma once

#include "quoter/core/fixed_point.hpp"
#include "quoter/exec/order_types.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace quoter::exec {

/// newOrderRespType: ACK answers as soon as the matching engine took the order (fills come on
/// the user stream); RESULT also carries the order's state after matching.
enum class order_response_type : std::uint8_t { ack, result };

/// A caller buffer of this size holds any request the Binance encoders write.
inline constexpr std::size_t max_request_bytes = 1024;

/// An order's state as the venue reports it (spot and futures share the names).
enum class venue_order_status : std::uint8_t {
    unknown, ///< A status this build does not know; treat the order as still open and query it.
    new_order,
    partially_filled,
    filled,
    canceled,
    expired,
    expired_in_match, ///< Expired by self-trade prevention.
    rejected,
    pending_cancel,
};

/// Parses "NEW", "PARTIALLY_FILLED", ... ; unknown for anything else.
[[nodiscard]] venue_order_status parse_venue_order_status(std::string_view text) noexcept;

/// True for the states after which the order can no longer trade.
[[nodiscard]] constexpr bool is_final(venue_order_status status) noexcept {
    return status == venue_order_status::filled || status == venue_order_status::canceled ||
           status == venue_order_status::expired ||
           status == venue_order_status::expired_in_match || status == venue_order_status::rejected;
}

/// A short text from an answer (asset names, error messages) copied into a fixed array;
/// longer texts are cut. Trivially copyable, so decoded results can cross rings.
template <std::size_t Capacity> class venue_text {
public:
    static constexpr std::size_t capacity = Capacity;
    static_assert(Capacity < 256);

    constexpr venue_text() noexcept = default;
    constexpr explicit venue_text(std::string_view text) noexcept { assign(text); }

    constexpr void assign(std::string_view text) noexcept {
        size_ = static_cast<std::uint8_t>(text.size() < Capacity ? text.size() : Capacity);
        for (std::size_t i = 0; i < size_; ++i) {
            chars_[i] = text[i];
        }
    }
    [[nodiscard]] constexpr std::string_view view() const noexcept {
        return {chars_.data(), size_};
    }
    [[nodiscard]] constexpr bool empty() const noexcept { return size_ == 0; }

private:
    std::array<char, Capacity> chars_{};
    std::uint8_t size_ = 0;
};

/// A client order id as the venue echoes it (at most 36 characters).
using venue_client_id = venue_text<36>;

/// One asset balance, 10^-8 units.
struct asset_balance {
    venue_text<16> asset;
    std::int64_t free_e8 = 0;   ///< Spot free; futures wallet balance.
    std::int64_t locked_e8 = 0; ///< Spot locked; futures cross wallet balance.
    /// Venue time (ms) the amounts are as of: every fill the venue stamped no later holds in
    /// them, none stamped later (0: not told). Spot account.status: the account's updateTime;
    /// futures GET /fapi/v2/account: the asset's updateTime; ACCOUNT_UPDATE: its `T`.
    std::int64_t update_time_ms = 0;
};

/// One futures position (one-way mode: position side BOTH).
struct position_amount {
    std::uint32_t symbol = 0;
    core::qty amount; ///< Signed lots: negative = short.
    /// Venue time (ms) the amount is as of, as asset_balance::update_time_ms: the position's
    /// updateTime in GET /fapi/v2/account, ACCOUNT_UPDATE's `T` (0: not told).
    std::int64_t update_time_ms = 0;
    /// The venue's average entry price, rounded to the nearest tick (it may carry more
    /// decimals); only where entry_price_known.
    core::price entry_price;
    bool entry_price_known = false;
};

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
