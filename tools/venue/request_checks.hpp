// request_checks: what the venue's spot (order_api) and futures (futures_api) order endpoints
// check and keep alike: the signature comparison, the timestamp / recvWindow check, the
// rate-limit fault's 429 / 418 windows, and the order table entry with its update from the
// matching engine's reports. The two APIs differ only in how a request arrives (a WebSocket API
// frame, a REST query and body) and how the answer is written.
//
// Single-threaded (the venue's io_loop), as the APIs.
#pragma once

#include "quoter/core/fixed_point.hpp"
#include "quoter/exec/order_types.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace quoter::venue {

/// Two hex signatures are equal in any letter case.
[[nodiscard]] bool same_hex(std::string_view a, std::string_view b);

enum class timestamp_check : std::uint8_t {
    ok,
    bad_window, ///< recvWindow not in (0, 60000]: -1131.
    outside,    ///< timestamp more than 1 s ahead or older than recvWindow: -1021.
};

/// Binance's timestamp check: recv_window (nullptr: 5000 ms) and the request's timestamp against
/// the venue's clock (ms).
[[nodiscard]] timestamp_check check_timestamp(const std::string& timestamp,
                                              const std::string* recv_window,
                                              std::int64_t venue_ms);

/// The rate-limit fault's windows (venue time, ms): 429 until limited_until; a request during
/// that window after its 429 earns a ban of ban_ms; 418 until banned_until.
struct rate_limit_windows {
    std::int64_t limited_until_ms = 0;
    std::int64_t ban_ms = 0;
    bool answered_429 = false; ///< A 429 was answered in the current window.
    std::int64_t banned_until_ms = 0;
    /// Until then a request in the backoff is answered 429 again, not banned: the client may
    /// have sent it before the 429 reached it.
    std::int64_t in_flight_until_ms = 0;
    /// How long after its own 429 a request counts as sent before the client saw it.
    static constexpr std::int64_t in_flight_ms = 1'000;

    struct verdict {
        int status = 0;            ///< 0: pass; 429 or 418: answer that, do not execute.
        std::int64_t until_ms = 0; ///< End of the window the answer names.
    };
    /// A 429 -1003 of the venue's own request-weight count at venue_ms, its window full until
    /// until_ms: a request before then earns a ban of ban_ms, as one after the fault's 429 does,
    /// unless it came within in_flight_ms of the 429 (answered 429 again). Binance bans an IP
    /// that does not back off after 429s; the order-count 429s (-1015) are per account and earn
    /// no ban.
    void told_to_back_off(std::int64_t venue_ms, std::int64_t until_ms, std::int64_t ban_for_ms) {
        limited_until_ms = until_ms;
        answered_429 = true;
        ban_ms = ban_for_ms;
        in_flight_until_ms = venue_ms + in_flight_ms;
    }
    /// The verdict on a request at venue_ms; counts 429s, 418s and requests made in a backoff.
    verdict check(std::int64_t venue_ms, std::uint64_t& answers_429, std::uint64_t& answers_418,
                  std::uint64_t& requests_in_backoff);
};

/// The venue's own request counts, kept as Binance keeps them: fixed windows of the UTC clock
/// (the current minute, the current 10 s, the current day or minute for the long order window),
/// request weight for every request and one order for every new order. A request that would go
/// over a limit is refused and not executed: 429 -1003 (weight; counts nothing) or 429 -1015
/// (orders; its weight counts, as Binance counts it). Peaks and refusals are kept for
/// /control/stats.
class usage_counter {
public:
    /// long_window_ms: the second order window (86,400,000 for spot's day, 60,000 for USD-M
    /// futures' minute).
    /// enforce false: count and report only, refuse nothing.
    usage_counter(std::int64_t weight_per_minute, std::int64_t orders_per_10s,
                  std::int64_t orders_per_long_window, std::int64_t long_window_ms, bool enforce);

    struct verdict {
        int code = 0;              ///< 0: within the limits (counted); -1003 or -1015: refused.
        std::int64_t until_ms = 0; ///< Refused: end of the window that is full (venue time).
        std::int64_t limit = 0;    ///< Refused: that window's limit.
    };
    /// Counts a request of `weight` at venue_ms (and one order when new_order) unless a limit
    /// would be exceeded.
    verdict admit(std::int64_t venue_ms, std::int64_t weight, bool new_order);

    /// Counts of the windows current at the last admit().
    [[nodiscard]] std::int64_t weight() const { return weight_.count; }
    [[nodiscard]] std::int64_t orders_10s() const { return orders_10s_.count; }
    [[nodiscard]] std::int64_t orders_long() const { return orders_long_.count; }
    [[nodiscard]] std::int64_t weight_limit() const { return weight_.limit; }
    [[nodiscard]] std::int64_t orders_10s_limit() const { return orders_10s_.limit; }
    [[nodiscard]] std::int64_t orders_long_limit() const { return orders_long_.limit; }

    /// Highest count any window reached.
    [[nodiscard]] std::int64_t peak_weight() const { return weight_.peak; }
    [[nodiscard]] std::int64_t peak_orders_10s() const { return orders_10s_.peak; }
    [[nodiscard]] std::int64_t peak_orders_long() const { return orders_long_.peak; }
    /// Requests refused because a count would have gone over its limit.
    [[nodiscard]] std::uint64_t weight_refusals() const { return weight_refusals_; }
    [[nodiscard]] std::uint64_t order_refusals() const { return order_refusals_; }

private:
    struct window {
        std::int64_t length_ms = 0;
        std::int64_t limit = 0;
        std::int64_t start_ms = -1; ///< Start of the current window.
        std::int64_t count = 0;
        std::int64_t peak = 0;

        void roll(std::int64_t venue_ms);
        [[nodiscard]] std::int64_t end_ms() const { return start_ms + length_ms; }
        void add(std::int64_t amount);
    };
    window weight_;
    window orders_10s_;
    window orders_long_;
    bool enforce_ = true;
    std::uint64_t weight_refusals_ = 0;
    std::uint64_t order_refusals_ = 0;
};

/// One trade of an order, as the trade lists (spot myTrades, futures userTrades) show it.
struct order_trade {
    std::int64_t trade_id = 0;
    core::price price;
    core::qty qty;
    std::int64_t time_ms = 0; ///< Venue time of the trade (the events' `T`).
    bool maker = false;
    std::int64_t commission_e8 = 0; ///< In commission_asset, 10^-8 units.
    std::string commission_asset;
};

/// One order of the venue's table, as both APIs keep it.
struct tracked_order {
    std::string client_id;
    std::size_t symbol = 0;
    exec::order_request request;
    std::uint64_t exchange_id = 0;
    core::qty executed;
    std::string status = "NEW";
    bool open = true;
    std::int64_t time_ms = 0;
    std::int64_t updated_ms = 0;     ///< Venue time of its last change (updateTime).
    std::vector<order_trade> trades; ///< Oldest first.
};

/// Applies a matching-engine report to its order; true when it becomes a user-data event
/// (acks, fills, cancels; not a refused placement, which answers with an error, nor a cancel
/// reject).
bool apply_report(tracked_order& order, const exec::exec_report& report);

} // namespace quoter::venue
