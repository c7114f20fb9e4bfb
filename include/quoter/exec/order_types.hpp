// Order entry and execution-report types shared by every order gateway (the simulated exchange
// and the Binance API) and by the quote lifecycle above them.
//
// Invariants: every type here is a trivially copyable POD with no owning pointers, so requests
// and reports cross SPSC rings by copy. Quantities are lots and prices ticks of the symbol the
// request names; fees are notional units of that symbol (see core::symbol_spec). A client order
// id of 0 is never a valid id.
#pragma once

#include "quoter/core/fixed_point.hpp"
#include "quoter/core/result.hpp"
#include "quoter/core/time.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>
#include <type_traits>

namespace quoter::exec {

/// Identifier the client gives an order; unique among the client's orders. 0 means "none".
struct client_order_id {
    std::uint64_t value = 0;

    [[nodiscard]] constexpr bool valid() const noexcept { return value != 0; }
    constexpr auto operator<=>(const client_order_id&) const noexcept = default;
};

/// Fixed-capacity text form of a client order id, usable as Binance's newClientOrderId and
/// origClientOrderId (at most 36 characters of [.A-Z:/a-z0-9_-]).
class client_order_id_text {
public:
    static constexpr std::size_t capacity = 36;

    [[nodiscard]] constexpr std::string_view view() const noexcept {
        return {chars_.data(), size_};
    }

private:
    friend client_order_id_text format_client_order_id(client_order_id id,
                                                       std::string_view prefix) noexcept;
    std::array<char, capacity> chars_{};
    std::uint8_t size_ = 0;
};

/// Longest prefix format_client_order_id keeps; the id itself takes 16 hex digits.
inline constexpr std::size_t max_client_order_id_prefix = client_order_id_text::capacity - 16;

/// "<prefix><16 lowercase hex digits>". The prefix (e.g. a per-process tag, so that ids of two
/// runs never collide on the exchange) is cut to max_client_order_id_prefix characters and
/// must itself use Binance's allowed characters.
[[nodiscard]] client_order_id_text format_client_order_id(client_order_id id,
                                                          std::string_view prefix) noexcept;

enum class client_order_id_error : std::uint8_t {
    none,
    wrong_prefix, ///< Not one of ours: some other client or a manual order.
    bad_digits,   ///< Not exactly 16 hex digits after the prefix.
    zero,         ///< Parses to the reserved id 0.
};

/// Inverse of format_client_order_id for the same prefix.
[[nodiscard]] core::result<client_order_id, client_order_id_error>
parse_client_order_id(std::string_view text, std::string_view prefix) noexcept;

enum class time_in_force : std::uint8_t {
    gtc, ///< Good till cancelled: rests until filled or cancelled.
    ioc, ///< Immediate or cancel: what does not fill on arrival expires.
    fok, ///< Fill or kill: fills completely on arrival or expires without a fill.
};

/// A new limit order.
struct order_request {
    client_order_id id;
    std::uint32_t symbol = 0; ///< Index of the symbol in the gateway's symbol table.
    core::side side = core::side::buy;
    /// Rejected instead of taking liquidity (Binance spot LIMIT_MAKER, futures GTX).
    bool post_only = true;
    /// Only reduces an existing position (futures); rejected otherwise.
    bool reduce_only = false;
    time_in_force tif = time_in_force::gtc;
    /// Quote level the order belongs to (0 = closest to the mid); echoed in reports.
    std::uint8_t level = 0;
    core::price price;
    core::qty qty;
};

/// True for an order that rests on the book when it does not trade at once (GTC), as quotes
/// do; IOC and FOK orders (flattening) never rest.
[[nodiscard]] constexpr bool may_rest(const order_request& order) noexcept {
    return order.tif == time_in_force::gtc;
}

enum class exec_kind : std::uint8_t {
    ack,           ///< The exchange accepted the order (NEW).
    reject,        ///< The exchange refused the order; it never rested.
    partial_fill,  ///< Part of the order traded; leaves_qty > 0 still works.
    fill,          ///< The last part traded; the order is done.
    cancelled,     ///< The order is done without trading its leaves (cancel, IOC/FOK expiry).
    cancel_reject, ///< A cancel found no open order (already filled or cancelled, or unknown).
    /// The venue's answer to a new order was lost (timeout, 5xx, -1006/-1007, a disconnect
    /// with the request in flight): the order may or may not rest. Not terminal; the gateway
    /// resolves it by querying the order, and a later ack, fill, cancelled or reject says what
    /// became of it. The order must never be sent again under a new id meanwhile.
    unknown,
};

enum class reject_reason : std::uint8_t {
    none,
    post_only_would_cross,      ///< A post-only order would have taken liquidity.
    invalid_client_id,          ///< Client order id 0.
    duplicate_client_id,        ///< An open order already uses this client order id.
    too_many_open_orders,       ///< The exchange's open-order limit is reached.
    invalid_price,              ///< Price not positive.
    invalid_qty,                ///< Quantity not positive.
    unknown_symbol,             ///< Symbol index outside the exchange's table.
    reduce_only_would_increase, ///< A reduce-only order would open or grow a position.
    unknown_order,              ///< cancel_reject: no open order with this id.
    expired,                    ///< cancelled: an IOC/FOK remainder expired on arrival.
    user_cancel,                ///< cancelled: by a cancel or cancel-all request.
    risk_refused, ///< reject: the engine's pre-trade checks refused it; it never left the process.
    /// reject / cancel_reject: the venue's request rate limit (429 / 418); nothing rests.
    rate_limited,
    /// reject / cancel_reject: the gateway's own limiter held the request back to stay within
    /// the venue's limits; it never left the process. Throttling, not an error of the venue.
    held_back,
    /// reject / cancel_reject: the venue refused the request for a reason of its own that none
    /// of the above names (a filter, the balance, a parameter, the clock): an API error.
    venue_refused,
};

/// Whether a fill added liquidity (resting order) or took it (crossing order).
enum class liquidity_role : std::uint8_t { none, maker, taker };

/// The asset a venue charged a fill's commission in, relative to the symbol.
enum class fee_asset : std::uint8_t {
    none,  ///< Not told (simulated venues): the account charges its configured rates.
    quote, ///< The quote asset (USDT of BTCUSDT).
    base,  ///< The base asset (BTC of BTCUSDT).
    other, ///< A third asset (BNB, when the account pays fees with it).
};

/// One execution report. Which fields are meaningful depends on kind:
/// - ack: price (order price), leaves_qty (= order quantity), exchange_id.
/// - reject / cancel_reject: reason.
/// - partial_fill / fill: price (fill price), fill_qty, cum_qty, leaves_qty, fee_units,
///   liquidity.
/// - cancelled: price (order price), cum_qty, leaves_qty (the quantity that will never trade),
///   reason (user_cancel or expired).
/// - unknown: price and leaves_qty of the request as sent (what may rest).
struct exec_report {
    client_order_id client_id;
    std::uint64_t exchange_id = 0;
    core::price price;
    core::qty fill_qty;
    core::qty cum_qty;
    core::qty leaves_qty;
    /// Venue trade id of a fill (-1: none given). The same trade may be reported twice (an
    /// answer and the user stream, or a replay after a reconnect); it counts once.
    std::int64_t trade_id = -1;
    /// Fee of this fill in notional units of the symbol; negative = rebate received.
    std::int64_t fee_units = 0;
    /// The commission the venue charged for this fill, 10^-8 units of commission_asset (negative:
    /// a rebate); meaningful unless commission_asset is fee_asset::none.
    std::int64_t commission_e8 = 0;
    /// When the exchange produced the report (transaction time).
    core::timestamp_ns exchange_ts = 0;
    /// A fill's time on the venue's own clock, ms (0: not told): the trade time a user-data
    /// event (`T`) or the order's trade list (`time`) gives; only for a fill an answer told whose
    /// trades the venue did not list, that answer's time (transactTime / updateTime), no earlier
    /// than the trade. Compared with the
    /// venue's times of its holdings (engine::holdings_adoption), never with local clocks.
    std::int64_t venue_time_ms = 0;
    /// When the report reached the client (local receive time).
    core::timestamp_ns local_ts = 0;
    std::uint32_t symbol = 0;
    exec_kind kind = exec_kind::ack;
    reject_reason reason = reject_reason::none;
    liquidity_role liquidity = liquidity_role::none;
    fee_asset commission_asset = fee_asset::none;
    core::side side = core::side::buy;
    std::uint8_t level = 0;

    /// True for the kinds after which the order can no longer trade.
    [[nodiscard]] constexpr bool is_terminal() const noexcept {
        return kind == exec_kind::reject || kind == exec_kind::fill || kind == exec_kind::cancelled;
    }
};

static_assert(std::is_trivially_copyable_v<client_order_id>);
static_assert(std::is_trivially_copyable_v<client_order_id_text>);
static_assert(std::is_trivially_copyable_v<order_request>);
static_assert(std::is_trivially_copyable_v<exec_report>);

/// Quantity argument meaning "the whole remaining quantity" (synthetic market fills).
inline constexpr core::qty fill_all{std::numeric_limits<std::int64_t>::max()};

/// Symbol argument of cancel-all meaning "every symbol".
inline constexpr std::uint32_t all_symbols = std::numeric_limits<std::uint32_t>::max();

[[nodiscard]] std::string_view describe(exec_kind kind) noexcept;
[[nodiscard]] std::string_view describe(reject_reason reason) noexcept;

} // namespace quoter::exec
